"""A tiny course and a corpus of submissions for the grader's tests.

The course has one notebook, ``solutions/99_demo.ipynb``, with two exercises (``99.add``, 2 points, and
``99.scale``, 3 points) checked by a self-contained checker module ``democheck.py`` at the course root (so the
kernel starts fast: no torch). Its metadata follows the course contract exactly, like the real notebooks, and like
them it ends with an experiment after the last check, which grading must not run (it would fail).
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import nbformat

from course_utils.grade.course import SANITIZE_FILE

REPO = Path(__file__).resolve().parent.parent
NAME = "99_demo"

DEMOCHECK = '''\
"""A minimal checker with the course's behaviour: one pass line, or CheckFailed listing the failed cases.

Like the course's framework it captures what the answer prints or warns, and turns answers into plain values
before comparing them (so a subclass whose ``__eq__`` always says yes gains nothing).
"""

import contextlib
import io
import warnings


class CheckFailed(AssertionError):
    """The answer is wrong or not implemented yet."""


CASES = {
    "99.add": [((1, 2), 3), ((-1, 1), 0), ((2.5, 0.5), 3.0)],
    "99.scale": [(([1, 2], 3), [3, 6]), (([], 2), []), (([0.5], -2), [-1.0])],
}


def plain(value):
    """Return ``value`` as built-in numbers and lists (numpy scalars accepted), or raise TypeError."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return bool.__bool__(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    if isinstance(value, list):
        return [plain(item) for item in list.__iter__(value)]
    if isinstance(value, tuple):
        return [plain(item) for item in tuple.__iter__(value)]
    raise TypeError(f"returned a {type(value).__name__}, expected numbers or a list of numbers")


def check(exercise_id, answer):
    """Run every case of ``exercise_id`` on ``answer``."""
    failures = []
    for args, expected in CASES[exercise_id]:
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed), warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                got = plain(answer(*args))
        except NotImplementedError:
            raise CheckFailed(f"\\u2718 {exercise_id}: not implemented yet") from None
        except Exception as error:
            failures.append(f"  - {args}: your code raised {type(error).__name__}: {error}")
            continue
        if got != expected:
            failures.append(f"  - {args}: expected {expected!r}, got {got!r}")
    total = len(CASES[exercise_id])
    if failures:
        raise CheckFailed(f"\\u2718 {exercise_id}: {total - len(failures)}/{total} checks passed; failed:\\n"
                          + "\\n".join(failures))
    print(f"\\u2714 {exercise_id}: {total}/{total} checks passed")
'''

ADD = '''def add(a, b):
    """Return a + b."""
    ### BEGIN SOLUTION
    return a + b
    ### END SOLUTION'''

SCALE = '''def scale(values, factor):
    """Return every value multiplied by factor."""
    ### BEGIN SOLUTION
    return [value * factor for value in values]
    ### END SOLUTION'''

EXPERIMENT = "# An experiment after the last check: grading stops before it.\nraise RuntimeError('not graded')"

PASS = {"99.add": "\u2714 99.add: 3/3 checks passed\n", "99.scale": "\u2714 99.scale: 3/3 checks passed\n"}


def _code(source: str, course: dict | None = None, *, output: str | None = None, count: int | None = None,
          tags: list[str] | None = None) -> nbformat.NotebookNode:
    metadata = {}
    if course is not None:
        metadata["course"] = course
    if tags:
        metadata["tags"] = tags
    outputs = [nbformat.v4.new_output("stream", name="stdout", text=output)] if output else []
    return nbformat.v4.new_code_cell(source, metadata=metadata, outputs=outputs, execution_count=count)


def solution_notebook() -> nbformat.NotebookNode:
    """Return the demo course's executed solution notebook."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["course"] = {"notebook": NAME, "title": "Demo", "topics": "testing the grader"}
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# 99 · Demo"),
        _code("from democheck import check\nprint('ready')", {"role": "setup"}, output="ready\n", count=1),
        _code(ADD, {"exercise": "99.add", "role": "exercise"}, count=2),
        _code('check("99.add", add)', {"exercise": "99.add", "role": "check", "points": 2},
              output=PASS["99.add"], count=3, tags=["nbval-check-output"]),
        _code("numbers = [1, 2, 3]\nprint(sum(numbers))", output="6\n", count=4),
        _code(SCALE, {"exercise": "99.scale", "role": "exercise"}, count=5),
        _code('check("99.scale", scale)', {"exercise": "99.scale", "role": "check", "points": 3},
              output=PASS["99.scale"], count=6, tags=["nbval-check-output"]),
        _code(EXPERIMENT, count=7),
        nbformat.v4.new_markdown_cell("## Summary"),
    ]
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index:03d}"
    return notebook


def make_course(root: Path) -> Path:
    """Write the demo course (solutions/, democheck.py, the repo's nbval sanitizer) under ``root``; return it."""
    (root / "solutions").mkdir(parents=True)
    (root / "course_utils" / "grade").mkdir(parents=True)
    shutil.copy(REPO / SANITIZE_FILE, root / SANITIZE_FILE)
    (root / "democheck.py").write_text(DEMOCHECK, encoding="utf-8")
    nbformat.write(solution_notebook(), str(root / "solutions" / f"{NAME}.ipynb"))
    return root


def exercise_cell(notebook: nbformat.NotebookNode, exercise_id: str, role: str = "exercise") -> nbformat.NotebookNode:
    """Return the cell of ``notebook`` with this exercise id and role."""
    return next(cell for cell in notebook.cells
                if cell.metadata.get("course", {}).get("exercise") == exercise_id
                and cell.metadata["course"].get("role") == role)


def with_answer(exercise_id: str, source: str, notebook: nbformat.NotebookNode | None = None) -> nbformat.NotebookNode:
    """Return a copy of ``notebook`` (default: the solution) whose exercise cell holds ``source``."""
    notebook = copy.deepcopy(notebook or solution_notebook())
    exercise_cell(notebook, exercise_id).source = source
    return notebook


WRONG_ADD = "def add(a, b):\n    return a - b"
FAIL_OUTPUT = "CheckFailed: \u2718 99.add: 1/3 checks passed"


def corpus() -> dict[str, tuple[bytes | nbformat.NotebookNode, dict]]:
    """Return ``{file name: (content, expected)}``; expected has ``status``, ``points`` per exercise, ``flags``."""
    from course_utils.authoring import contract as notebook_contract

    def expect(add: int, scale: int, status: str = "graded", flags: tuple[str, ...] = ()) -> dict:
        return {"status": status, "points": {"99.add": add, "99.scale": scale}, "flags": set(flags)}

    unreadable = {"status": "unreadable", "points": {}, "flags": set()}
    items: dict[str, tuple] = {}
    items["alice correct (renamed).ipynb"] = (solution_notebook(), expect(2, 3))
    # never run (no outputs at all), 99.scale answered correctly
    fresh = with_answer("99.scale", SCALE, notebook_contract.student_version(solution_notebook()))
    items["wrong.ipynb"] = (with_answer("99.add", WRONG_ADD, fresh), expect(0, 3))
    items["stub.ipynb"] = (notebook_contract.student_version(solution_notebook()), expect(0, 0))

    saved = with_answer("99.add", WRONG_ADD)   # run and saved: the check cell shows its failure
    exercise_cell(saved, "99.add", "check").outputs = [nbformat.v4.new_output(
        "error", ename="CheckFailed", evalue=FAIL_OUTPUT, traceback=[FAIL_OUTPUT])]
    items["wrong_saved.ipynb"] = (saved, expect(0, 3))
    cleared = with_answer("99.add", WRONG_ADD)
    exercise_cell(cleared, "99.add", "check").outputs = []
    items["check_output_cleared.ipynb"] = (cleared, expect(0, 3))
    edited = with_answer("99.add", WRONG_ADD, fresh)   # a never-run notebook with the pass line typed in by hand
    edited_cell = exercise_cell(edited, "99.add", "check")
    edited_cell.execution_count = 3
    edited_cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=PASS["99.add"])]
    items["check_output_edited.ipynb"] = (edited, expect(0, 3))
    nulled = with_answer("99.add", WRONG_ADD)
    nulled_cell = exercise_cell(nulled, "99.add", "check")
    nulled_cell.execution_count, nulled_cell.outputs = None, []
    items["check_count_nulled.ipynb"] = (nulled, expect(0, 3))
    faked = with_answer("99.add", WRONG_ADD)
    exercise_cell(faked, "99.add", "check").source = f"print({PASS['99.add'].strip()!r})"
    items["check_source_faked.ipynb"] = (faked, expect(0, 3))
    skipped = with_answer("99.add", WRONG_ADD)
    exercise_cell(skipped, "99.add", "check").metadata["tags"] = ["nbval-check-output", "nbval-skip"]
    items["nbval_skip_added.ipynb"] = (skipped, expect(0, 3))
    redefined = WRONG_ADD + f"\n\ndef check(*answers):\n    print({PASS['99.add'].strip()!r})"
    items["checker_redefined.ipynb"] = (with_answer("99.add", redefined), expect(0, 3, flags=("checker",)))
    patched = ("import builtins, sys\n" + WRONG_ADD + "\nsys.modules['democheck'].check = lambda *a: None")
    items["checker_patched.ipynb"] = (with_answer("99.add", patched),
                                      expect(0, 3, flags=("builtins", "sys-modules", "monkeypatch")))

    items["not_json.ipynb"] = (b"this is not a notebook {", unreadable)
    items["empty.ipynb"] = (b"", {"status": "empty", "points": {}, "flags": set()})
    items["old_format_v3.ipynb"] = (nbformat.convert(solution_notebook(), 3), expect(2, 3))
    other = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('another course')")])
    items["other_course.ipynb"] = (other, {"status": "unknown_notebook", "points": {}, "flags": set()})
    no_kernel = solution_notebook()
    del no_kernel.metadata["kernelspec"]
    items["no_kernelspec.ipynb"] = (no_kernel, expect(2, 3))
    loop = "def scale(values, factor):\n    while True:\n        pass"
    items["infinite_loop.ipynb"] = (with_answer("99.scale", loop), expect(2, 0, "timeout"))
    exits = "import os\n\ndef add(a, b):\n    os._exit(1)"
    items["kills_kernel.ipynb"] = (with_answer("99.add", exits), expect(0, 0, "kernel_died", flags=("process",)))
    loud = "print('x' * 100_000_000)\n\ndef scale(values, factor):\n    return [v * factor for v in values]"
    items["prints_100mb.ipynb"] = (with_answer("99.scale", loud), expect(2, 3))
    raises = "import no_such_module_for_the_grader\n\n" + ADD
    items["raises_at_import.ipynb"] = (with_answer("99.add", raises), expect(0, 3))
    deletes = "import os\nfor name in os.listdir('.'):\n    os.remove(name)\n\n" + SCALE
    items["deletes_files.ipynb"] = (with_answer("99.scale", deletes), expect(2, 3))
    lost = solution_notebook()
    del exercise_cell(lost, "99.scale").metadata["course"]
    items["exercise_metadata_lost.ipynb"] = (lost, expect(2, 0))
    return items


SLEEPER = with_answer("99.add", "import time\n\ndef add(a, b):\n    time.sleep(1000)")
"""Sleeps past the whole-submission timeout (graded with a cell timeout longer than the whole one)."""


def write_submission(path: Path, content) -> None:
    """Write one corpus item (bytes or a notebook) to ``path``."""
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        nbformat.write(content, str(path), version=content.get("nbformat", 4))
