"""The authoring tool: solutions are the single source of the student notebooks and the README syllabus."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils import authoring
from course_utils.authoring import config as _config
from course_utils.authoring import contract
from course_utils.authoring.percent_script import script_to_notebook

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = authoring.solution_paths()

SCRIPT = '''# course: title="Demo" topics="adding one"
# %% [markdown]
# # Demo
# %% setup
# %%
from course_utils import check
# %% exercise 99.add_one
def add_one(x):
    """Return x + 1."""
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION
# %% check 99.add_one points=2
check("99.add_one", add_one)
'''


def test_everything_is_in_sync():
    assert authoring.out_of_date() == []


def test_check_command_exits_zero_when_in_sync():
    result = subprocess.run([sys.executable, "-m", "course_utils.authoring", "check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solution_keeps_the_contract_and_its_pass_lines(path):
    notebook = contract.read_notebook(path)
    assert contract.validate(notebook, path.stem) == []
    assert path.stat().st_size < 2 * 1024 * 1024, "solutions must stay under 2 MB"
    assert notebook.metadata["course"].get("title") and notebook.metadata["course"].get("topics")
    for cell in notebook.cells:
        if contract.role(cell) == "check":
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert text.startswith(f"✔ {cell.metadata['course']['exercise']}: ") and text.endswith(" checks passed\n")
    first_code = next(c for c in notebook.cells if c.cell_type == "code")
    assert _config.INSTALL_URL in first_code.source and "google.colab" in first_code.source
    assert contract.CHECK_TAG not in first_code.metadata.get("tags", []), "the device line must not be compared"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_student_notebook_differs_only_in_answers_and_outputs(path):
    solution = contract.read_notebook(path)
    student = contract.read_notebook(ROOT / "notebooks" / path.name)
    assert [c.id for c in student.cells] == [c.id for c in solution.cells]
    for sol, stu in zip(solution.cells, student.cells, strict=False):
        assert sol.metadata == stu.metadata
        if sol.cell_type == "code":
            assert stu.outputs == [] and stu.execution_count is None
        if contract.role(sol) == "exercise":
            assert contract.BEGIN not in stu.source
            assert "raise NotImplementedError" in stu.source or contract.ANSWER_LINE in stu.source
            if contract.kind(sol) == "quiz":
                assert contract.ANSWER_LINE in stu.source and "raise" not in stu.source
        else:
            assert sol.source == stu.source


def test_import_build_and_check_roundtrip(tmp_path):
    (tmp_path / "solutions").mkdir()
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    notebook = script_to_notebook(SCRIPT, "99_demo")
    contract.write_notebook(notebook, tmp_path / "solutions" / "99_demo.ipynb")
    assert authoring.out_of_date(tmp_path)  # notebooks/ missing
    authoring.build(tmp_path)
    assert authoring.out_of_date(tmp_path) == []
    student = contract.read_notebook(tmp_path / "notebooks" / "99_demo.ipynb")
    source = next(c.source for c in student.cells if contract.role(c) == "exercise")
    assert source == ('def add_one(x):\n    """Return x + 1."""\n    # YOUR CODE HERE\n'
                      '    raise NotImplementedError("exercise 99.add_one: replace this line with your code")')
    assert "`99.add_one` (2)" in (tmp_path / "README.md").read_text()
    # drift is detected and named
    solution = contract.read_notebook(tmp_path / "solutions" / "99_demo.ipynb")
    solution.cells[0].source += "\nmore"
    contract.write_notebook(solution, tmp_path / "solutions" / "99_demo.ipynb")
    assert authoring.out_of_date(tmp_path) == ["notebooks/99_demo.ipynb is out of date"]
    (tmp_path / "notebooks" / "stale.ipynb").write_text("{}")
    assert "notebooks/stale.ipynb has no solution notebook" in authoring.out_of_date(tmp_path)


QUIZ_SCRIPT = SCRIPT + '''# %% [markdown]
# Which letter? And how many?
# %% quiz 99.quiz_letter
# one letter and a whole number
### BEGIN SOLUTION
letter = "b"
count: int = 3
letter = letter.upper()
### END SOLUTION
# %% check 99.quiz_letter points=1
check("99.quiz_letter", letter, count)
'''


def test_quiz_cells_get_assignment_stubs_and_count_apart_in_the_syllabus(tmp_path):
    (tmp_path / "solutions").mkdir()
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    notebook = script_to_notebook(QUIZ_SCRIPT, "99_demo")
    quiz_cell = next(c for c in notebook.cells if contract.kind(c) == "quiz")
    assert quiz_cell.metadata["course"] == {"exercise": "99.quiz_letter", "role": "exercise", "kind": "quiz"}
    assert [(e.id, e.kind, e.points) for e in contract.exercises(notebook)] == [("99.add_one", "code", 2),
                                                                               ("99.quiz_letter", "quiz", 1)]
    contract.write_notebook(notebook, tmp_path / "solutions" / "99_demo.ipynb")
    authoring.build(tmp_path)
    student = contract.read_notebook(tmp_path / "notebooks" / "99_demo.ipynb")
    source = next(c.source for c in student.cells if contract.kind(c) == "quiz")
    assert source == "# one letter and a whole number\n# YOUR ANSWER HERE\nletter = ...\ncount = ..."
    readme = (tmp_path / "README.md").read_text()
    assert "| `99.add_one` (2) | `99.quiz_letter` (1) | 3 (2 code + 1 quiz) |" in readme


@pytest.mark.parametrize("region", ["print('b')", "letter = 'b'\nprint(letter)", "self.letter = 'b'",
                                    "def answer():\n    return 'b'"])
def test_a_quiz_region_must_only_assign_names(region):
    script = QUIZ_SCRIPT.replace('letter = "b"\ncount: int = 3\nletter = letter.upper()', region)
    problems = contract.validate(script_to_notebook(script, "99_demo"), "99_demo")
    assert any("only assign values to names" in problem for problem in problems)


def test_an_unknown_kind_is_a_contract_problem():
    notebook = script_to_notebook(QUIZ_SCRIPT, "99_demo")
    next(c for c in notebook.cells if contract.kind(c) == "quiz").metadata["course"]["kind"] = "essay"
    assert any("kind 'essay'" in problem for problem in contract.validate(notebook, "99_demo"))


def test_code_exercises_that_only_assign_names_at_top_level_get_assignment_stubs():
    notebook = script_to_notebook(SCRIPT.replace('''def add_one(x):
    """Return x + 1."""
    ### BEGIN SOLUTION
    return x + 1
    ### END SOLUTION''', "### BEGIN SOLUTION\ninputs = [(1, 2), (3, 4)]\n### END SOLUTION"), "99_demo")
    student = contract.student_version(notebook)
    assert next(c.source for c in student.cells if contract.role(c) == "exercise") == "# YOUR ANSWER HERE\ninputs = ..."


@pytest.mark.parametrize("broken, message", [
    ("    ### BEGIN SOLUTION\n    return x\n", "without ### END SOLUTION"),
    ("    return x\n", "has no ### BEGIN SOLUTION"),
])
def test_contract_violations_are_named(broken, message):
    notebook = script_to_notebook(SCRIPT.replace("    ### BEGIN SOLUTION\n    return x + 1\n    ### END SOLUTION\n",
                                                 broken), "99_demo")
    assert any(message in problem for problem in contract.validate(notebook, "99_demo"))


def test_contract_requires_setup_cell_and_matching_checks():
    notebook = script_to_notebook(SCRIPT.replace("# %% setup\n", "").replace(
        "# %% check 99.add_one points=2", "# %% check 99.other points=2"), "99_demo")
    problems = contract.validate(notebook, "99_demo")
    assert any("set-up cell" in p for p in problems)
    assert any("exactly one exercise cell and one check cell" in p for p in problems)


@pytest.mark.parametrize("text, message", [
    ("x = 1\n# %%\n", "before the first"),
    ("# %% nonsense here\n", "unknown cell marker"),
    ('# course: author="me"\n# %%\n', "header item"),
])
def test_script_errors_name_the_line(text, message):
    with pytest.raises(ValueError, match=message):
        script_to_notebook(text, "99_demo")


def test_setup_cell_installs_only_on_colab(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda *args, **kwargs: calls.append(args[0]))
    exec(compile(contract.SETUP_SOURCE, "setup", "exec"), {})
    assert calls == []
    monkeypatch.setitem(sys.modules, "google.colab", object())
    exec(compile(contract.SETUP_SOURCE, "setup", "exec"), {})
    assert calls and calls[0][-1] == _config.INSTALL_URL
    assert "Computing on:" in capsys.readouterr().out


def test_notebooks_are_valid_nbformat():
    for path in SOLUTIONS + sorted((ROOT / "notebooks").glob("*.ipynb")):
        nbformat.validate(contract.read_notebook(path))


def test_authoring_without_its_dependencies_says_what_to_install(tmp_path):
    """A Python without nbformat gets one line naming it and the fix, not a traceback."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text("import sys\nsys.modules['nbformat'] = None  # as if it were not installed\n")
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([sys.executable, "-m", "course_utils.authoring", "check"], cwd=tmp_path, env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert "needs 'nbformat'" in result.stderr and "Traceback" not in result.stderr, result.stderr
