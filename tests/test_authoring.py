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
            assert contract.BEGIN not in stu.source and "raise NotImplementedError" in stu.source
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
