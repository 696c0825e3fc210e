"""Unit tests of the grader's parts that need no kernel: flags, reading, matching, pristine copies, verdicts and
reports."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import grade_corpus as gc
import nbformat
import pytest

from course_utils.authoring import contract as notebook_contract
from course_utils.grade import flags
from course_utils.grade.__main__ import main as cli_main
from course_utils.grade.course import CourseError, load_course
from course_utils.grade.pristine import REBIND_COMMENT, build_pristine
from course_utils.grade.report import feedback_name, write_reports
from course_utils.grade.runner import RunResult
from course_utils.grade.submission import discover, file_digest, read_submission
from course_utils.grade.verdict import clean, verdict


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    return load_course(gc.make_course(tmp_path_factory.mktemp("course")))


def rules(source: str, **kwargs) -> set[str]:
    return {flag.rule for flag in flags.scan(source, **kwargs)}


# flags -------------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("source, rule", [
    ("def check(*a):\n    print('ok')", "checker"),
    ("check = lambda *a: None", "checker"),
    ("from course_utils.exercises.framework import run_checks", "checker-import"),
    ("import course_utils.exercises.framework as c", "checker-import"),
    ("from course_utils import check as c", "checker-import"),
    ("import nbval", "checker-import"),
    ("from course_utils.sampling.clips import sample_segments", "course-import"),
    ("import sys\nsys.modules['course_utils.exercises.framework'] = None", "sys-modules"),
    ("from sys import modules", "sys-modules"),
    ("import builtins\nbuiltins.len = None", "builtins"),
    ("__builtins__['print'] = None", "builtins"),
    ("print = lambda *a, **k: None", "print"),
    ("import sys\nsys.stdout = open('/dev/null', 'w')", "print"),
    ("import contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n    pass", "print"),
    ("import sys\nsys.excepthook = None", "print"),
    ("import sys\nsys.settrace(None)", "introspection"),
    ("import inspect\nframe = inspect.currentframe().f_back", "introspection"),
    ("text = open('../solutions/01_frame_sampling.ipynb').read()", "solutions"),
    ("import course_utils\npath = course_utils.__file__", "solutions"),
    ("get_ipython().events.register('post_run_cell', print)", "ipython"),
    ("%time x = 1", "ipython"),
    ("!cat ../solutions/*", "ipython"),
    ("exec('x = 1')", "dynamic"),
    ("import importlib\nimportlib.reload(np)", "dynamic"),
    ("import numpy as np\nnp.allclose = lambda *a, **k: True", "monkeypatch"),
    ("torch.allclose = lambda *a, **k: True", "monkeypatch"),
    ("setattr(np, 'allclose', None)", "monkeypatch"),
    ("import os\nos.kill(os.getppid(), 9)", "process"),
    ("# NBVAL_SKIP\nx = 1", "nbval-marker"),
    ("def f(:\n    check = 1\n  import nbval", "checker"),   # does not parse: scanned as text
])
def test_flags_catch_reaching_into_the_grader(source, rule):
    assert rule in rules(source)


@pytest.mark.parametrize("source", [
    gc.ADD, gc.SCALE,
    "from course_utils import get_device\nfrom course_utils.data import make_videos\n\n"
    "def f():\n    return get_device()",
    "import numpy as np\n\ndef f(x):\n    rng = np.random.default_rng(0)\n    return rng.integers(0, x, size=3)",
    "import torch\nfrom torch import nn\n\nclass Head(nn.Module):\n    def __init__(self, c):\n"
    "        super().__init__()"
    "\n        self.fc = nn.Linear(c, 2)\n\n    def forward(self, x):\n        return self.fc(x.mean(dim=(2, 3, 4)))",
    "def sample(num_frames, num_segments):\n    '''The solutions of the equation are indices.'''\n    "
    "out = [0] * num_segments\n    for i in range(num_segments):\n        out[i] = i\n    return out",
])
def test_flags_leave_ordinary_answers_alone(source):
    assert flags.scan(source) == []


def test_flags_allow_what_the_solution_itself_does():
    solution = "from course_utils.sampling.clips import reference\n\ndef f(x):\n    return reference(x)"
    assert "course-import" in rules(solution)
    assert rules(solution, allowed=flags.signature(solution)) == set()
    other = "from course_utils.tsn import secret\n\ndef f(x):\n    return secret(x)"
    assert "course-import" in rules(other, allowed=flags.signature(solution))


def test_flag_reports_line_and_code():
    (flag,) = flags.scan("x = 1\ndef check(*a):\n    pass")
    assert (flag.line, flag.rule, flag.code) == (2, "checker", "def check(*a):")
    with pytest.raises(TypeError, match="source must be a str"):
        flags.scan(["def check(): pass"])


# reading and matching ----------------------------------------------------------------------------------------------
def write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / name
    gc.write_submission(path, content)
    return path


@pytest.mark.parametrize("content, status", [
    (b"", "empty"), (b"  \n", "empty"), (b"{not json", "unreadable"), (b"\xff\xfe\x00", "unreadable"),
    (b"[1, 2]", "unreadable"), (b'{"nbformat": 5, "cells": []}', "unreadable"), (b'{"cells": []}', "unreadable"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}).encode(), "unknown_notebook"),
    (json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {"course": {"notebook": "07_x"}},
                 "cells": []}).encode(), "unknown_notebook"),
])
def test_unusable_files_get_a_status(tmp_path, course, content, status):
    path = write(tmp_path, "sub.ipynb", content)
    before = file_digest(path)
    submission = read_submission(path, "sub.ipynb", course)
    assert submission.status == status and submission.detail
    assert file_digest(path) == before


def test_matching_uses_metadata_not_the_file_name(tmp_path, course):
    submission = read_submission(write(tmp_path, "my homework.ipynb", gc.solution_notebook()), "x", course)
    assert (submission.status, submission.notebook) == (None, "99_demo")
    assert submission.answers == {"99.add": gc.ADD, "99.scale": gc.SCALE}


def test_missing_notebook_metadata_is_matched_by_exercise_ids(tmp_path, course):
    notebook = gc.solution_notebook()
    del notebook.metadata["course"]
    submission = read_submission(write(tmp_path, "a.ipynb", notebook), "a.ipynb", course)
    assert submission.notebook == "99_demo" and "exercise ids" in submission.notes[0]


def test_duplicate_exercise_cells_grade_the_last_and_unknown_ids_are_ignored(tmp_path, course):
    notebook = gc.solution_notebook()
    copy_cell = copy.deepcopy(gc.exercise_cell(notebook, "99.add"))
    copy_cell.source = gc.WRONG_ADD
    stranger = copy.deepcopy(copy_cell)
    stranger.metadata["course"]["exercise"] = "99.nothing"
    copy_cell.id, stranger.id = "copy", "stranger"
    notebook.cells += [copy_cell, stranger]
    submission = read_submission(write(tmp_path, "a.ipynb", notebook), "a.ipynb", course)
    assert submission.answers["99.add"] == gc.WRONG_ADD and "99.nothing" not in submission.answers
    assert any("2 cells" in note for note in submission.notes)
    assert any("99.nothing" in note for note in submission.notes)


def test_discover_labels_sorted_and_skips_checkpoints(tmp_path):
    (tmp_path / "in" / "group" / ".ipynb_checkpoints").mkdir(parents=True)
    for name in ("in/b.ipynb", "in/group/a.ipynb", "in/group/.ipynb_checkpoints/a-checkpoint.ipynb", "in/notes.txt",
                 "single.json"):
        (tmp_path / name).write_text("{}")
    found = discover([tmp_path / "in", tmp_path / "single.json"])
    assert [label for _, label in found] == ["b.ipynb", "group/a.ipynb", "single.json"]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        discover([tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .ipynb submission"):
        discover([tmp_path / "empty"])


def test_course_errors_are_clear(tmp_path):
    with pytest.raises(CourseError, match="no solutions/ folder"):
        load_course(tmp_path)
    (tmp_path / "solutions").mkdir()
    with pytest.raises(CourseError, match="nbval sanitizer"):
        load_course(tmp_path)


def test_a_broken_course_notebook_is_reported_not_run(tmp_path):
    root = gc.make_course(tmp_path / "course")
    notebook = gc.solution_notebook()
    gc.exercise_cell(notebook, "99.add", "check").metadata["tags"] = []
    nbformat.write(notebook, str(root / "solutions" / "99_demo.ipynb"))
    broken = load_course(root).notebooks["99_demo"]
    assert broken.problems and not broken.exercises
    with pytest.raises(ValueError, match="breaks the course contract"):
        build_pristine(broken, {})


# the pristine copy -------------------------------------------------------------------------------------------------
def test_pristine_takes_only_exercise_code_from_the_submission(course):
    course_notebook = course.notebooks["99_demo"]
    pristine, origin = build_pristine(course_notebook, {"99.add": gc.WRONG_ADD})
    assert origin == {"99.add": "submission", "99.scale": "stub"}
    add, scale = (pristine.cells[spec.exercise_cell] for spec in course_notebook.exercises)
    assert add.source == gc.WRONG_ADD and add.outputs == [] and add.execution_count is None
    assert "NotImplementedError" in scale.source and "BEGIN SOLUTION" not in scale.source
    for spec in course_notebook.exercises:
        original, built = course_notebook.notebook.cells[spec.check_cell], pristine.cells[spec.check_cell]
        assert built.source == f"from democheck import check{REBIND_COMMENT}\n{original.source}"
        assert built.outputs == original.outputs and built.metadata == original.metadata
        assert built.execution_count == original.execution_count
    assert course_notebook.notebook.cells[2].source == gc.ADD   # the course's copy is untouched


# verdicts and reports ----------------------------------------------------------------------------------------------
def passed(cell: int) -> dict:
    return {"kind": "cell", "cell": cell, "outcome": "passed"}


def test_verdict_maps_check_cells_to_points(course):
    course_notebook = course.notebooks["99_demo"]
    origin = {"99.add": "submission", "99.scale": "submission"}
    cells = {n: passed(n) for n in range(6)}
    cells[2] = {"cell": 2, "outcome": "failed", "reason": "error", "ename": "CheckFailed", "evalue": "\x1b[31mno"}
    judged = verdict(course_notebook, origin, RunResult(cells=cells), cell_timeout=5, timeout=9)
    assert judged["status"] == "graded"
    assert [(e["id"], e["points"], e["message"]) for e in judged["exercises"]] == [("99.add", 0, "no"),
                                                                                   ("99.scale", 3, None)]
    killed = verdict(course_notebook, origin, RunResult(cells={0: passed(0)}, killed=True), cell_timeout=5, timeout=9)
    assert killed["status"] == "timeout" and "9 s" in killed["detail"]
    assert [e["points"] for e in killed["exercises"]] == [0, 0]
    crashed = verdict(course_notebook, origin, RunResult(cells={0: passed(0)}, returncode=3), cell_timeout=5,
                      timeout=9)
    assert crashed["status"] == "error" and "exit code 3" in crashed["detail"]


def test_clean_removes_what_changes_between_runs():
    text = "\x1b[0;31mError\x1b[0m at 0x7f3a2b1c4d50 in /tmp/ipykernel_123/4567.py and /tmp/course-grade-x/work"
    assert clean(text, "/tmp/course-grade-x") == "Error at 0x… in <cell> and <scratch>/work"
    assert len(clean("x" * 10_000)) < 4100


def test_reports_are_deterministic(tmp_path, course):
    result = {"file": "a/b c.ipynb", "sha256": "0" * 64, "notebook": "99_demo", "status": "graded", "detail": "",
              "total": 2, "max_total": 5, "flags": [], "notes": ["n"], "other_errors": [],
              "exercises": [{"id": "99.add", "points": 2, "max_points": 2, "passed": True, "code": "submission",
                             "message": None, "flagged": False},
                            {"id": "99.scale", "points": 0, "max_points": 3, "passed": False, "code": "stub",
                             "message": "why", "flagged": False}]}
    unreadable = {"file": "z.ipynb", "sha256": "1" * 64, "notebook": None, "status": "empty", "detail": "empty",
                  "total": 0, "max_total": None, "flags": [], "notes": [], "other_errors": [], "exercises": []}
    for out in ("one", "two"):
        write_reports([copy.deepcopy(result), copy.deepcopy(unreadable)], course, tmp_path / out)
    for name in ("grades.csv", "grades.json", "feedback/a__b_c.md", "feedback/z.md"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    rows = (tmp_path / "one" / "grades.csv").read_text().splitlines()
    assert rows == ["file,notebook,99.add,99.scale,total,max_total,status,flags",
                    "a/b c.ipynb,99_demo,2,0,2,5,graded,", "z.ipynb,,,,0,,empty,"]
    assert feedback_name("sub/x y.ipynb") == "sub__x_y.md"


def test_grade_submissions_rejects_bad_arguments(tmp_path):
    from course_utils.grade import grade_submissions
    with pytest.raises(TypeError, match="paths must be a list"):
        grade_submissions(str(tmp_path))
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        grade_submissions([tmp_path], workers=0)
    with pytest.raises(ValueError, match="cell_timeout must be"):
        grade_submissions([tmp_path], cell_timeout=-1)


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main([str(tmp_path), "--workers", "0"])
    assert exit_info.value.code == 2
    assert cli_main([str(tmp_path / "missing.ipynb"), "--course-dir", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err


def test_student_version_of_demo_course_has_stubs():
    student = notebook_contract.student_version(gc.solution_notebook())
    assert "NotImplementedError" in gc.exercise_cell(student, "99.add").source


def test_a_kernel_that_dies_while_starting_is_retried_not_blamed_on_the_student():
    from course_utils.grade.runner import RunResult, _kernel_failed_to_start

    startup = {"kind": "cell", "cell": 0, "phase": "setup", "outcome": "failed", "reason": "grader",
               "message": "RuntimeError: Kernel died before replying to kernel_info"}
    assert _kernel_failed_to_start(RunResult(cells={0: startup}))
    assert not _kernel_failed_to_start(RunResult(cells={0: startup}, kernel_pid=123))  # it had started
    assert not _kernel_failed_to_start(RunResult(cells={0: startup}, killed=True))     # whole-run timeout
    assert not _kernel_failed_to_start(RunResult(cells={0: dict(startup, phase="call", reason="kernel_died")}))
