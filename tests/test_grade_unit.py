"""Unit tests of the grader's parts that need no kernel: flags, reading, matching, pristine copies, verdicts and
reports."""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import grade_corpus as gc
import nbformat
import pytest

from course_utils.authoring import contract as notebook_contract
from course_utils.grade import flags, sandbox
from course_utils.grade.__main__ import main as cli_main
from course_utils.grade.audit import AuditReport, kernel_settings, read_channel
from course_utils.grade.audit import flags as audit_flags
from course_utils.grade.course import CourseError, course_digest, load_course
from course_utils.grade.pristine import (
    FRESH_SOURCE,
    REBIND_COMMENT,
    FreshChecker,
    build_pristine,
    end_cell_source,
    fresh_settings,
)
from course_utils.grade.report import feedback, feedback_name, write_reports
from course_utils.grade.result import ExerciseResult, Flag, GradeResult
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


def test_pristine_stops_after_the_last_check_and_ends_with_the_audit_marker(course):
    course_notebook = course.notebooks["99_demo"]
    fresh = FreshChecker("/x/fresh.py", fresh_settings(course_notebook, course.root))
    pristine, _ = build_pristine(course_notebook, {}, fresh=fresh, end_nonce="n0nce")
    code = [cell for cell in pristine.cells if cell.cell_type == "code"]
    assert course_notebook.graded_code_cells == 6 and len(code) == 7
    assert all(gc.EXPERIMENT not in cell.source for cell in code)
    assert code[-1].source == end_cell_source("n0nce") and "course.grader.end" in code[-1].source
    check = pristine.cells[course_notebook.exercises[0].check_cell].source
    assert check.startswith("with open('/x/fresh.py', 'rb') as _grader_file:") and "fresh_check" in check
    assert check.endswith('del _grader_file\ncheck("99.add", add)')
    assert fresh.settings["exact"] == ["democheck"] and fresh.settings["shared"] == []


def test_fresh_settings_keep_the_notebooks_own_imports_shared(course):
    notebook = gc.solution_notebook()
    notebook.cells[1].source = "from course_utils import check\nfrom course_utils.exercises.ex00_support import x"
    course_notebook = load_course_notebook_from(notebook, course)
    settings = fresh_settings(course_notebook, course.root)
    assert settings["exact"] == ["course_utils"] and settings["trees"] == ["course_utils.exercises"]
    assert settings["shared"] == ["course_utils.exercises.ex00_support"]


def load_course_notebook_from(notebook, course):
    from course_utils.grade.course import load_course_notebook
    path = course.root / "solutions" / "tmp_other.ipynb"
    nbformat.write(notebook, str(path))
    try:
        return load_course_notebook(path)
    finally:
        path.unlink()


def test_the_course_digest_sees_a_changed_course_file(tmp_path):
    course = load_course(gc.make_course(tmp_path / "course"))
    before = course_digest(course)
    assert course_digest(course) == before
    with open(course.root / "democheck.py", "a") as handle:
        handle.write("CASES.clear()\n")
    assert course_digest(course) != before


def test_exercise_kind_comes_from_the_exercise_cell(tmp_path):
    root = gc.make_course(tmp_path / "course")
    notebook = gc.solution_notebook()
    quiz = nbformat.v4.new_code_cell("### BEGIN SOLUTION\nanswer = 'b'\n### END SOLUTION",
                                     metadata={"course": {"exercise": "99.quiz", "role": "exercise", "kind": "quiz"}})
    check = nbformat.v4.new_code_cell('check("99.quiz", answer)', execution_count=8, outputs=[nbformat.v4.new_output(
        "stream", name="stdout", text="\u2714 99.quiz: 1/1 checks passed\n")], metadata={
        "course": {"exercise": "99.quiz", "role": "check", "points": 1}, "tags": ["nbval-check-output"]})
    quiz.id, check.id = "quiz", "quiz-check"
    notebook.cells[7:7] = [quiz, check]
    nbformat.write(notebook, str(root / "solutions" / "99_demo.ipynb"))
    course_notebook = load_course(root).notebooks["99_demo"]
    assert not course_notebook.problems
    assert [(spec.id, spec.kind) for spec in course_notebook.exercises] == [
        ("99.add", "code"), ("99.scale", "code"), ("99.quiz", "quiz")]
    quiz.metadata["course"]["kind"] = "essay"
    nbformat.write(notebook, str(root / "solutions" / "99_demo.ipynb"))
    assert any("kind 'essay'" in problem for problem in load_course(root).notebooks["99_demo"].problems)


# verdicts and reports ----------------------------------------------------------------------------------------------
def passed(cell: int) -> dict:
    return {"kind": "cell", "cell": cell, "outcome": "passed"}


def test_verdict_maps_check_cells_to_points(course):
    course_notebook = course.notebooks["99_demo"]
    origin = {"99.add": "submission", "99.scale": "submission"}
    cells = {n: passed(n) for n in range(6)}
    cells[2] = {"cell": 2, "outcome": "failed", "reason": "error", "ename": "CheckFailed", "evalue": "\x1b[31mno"}
    judged = verdict(course_notebook, origin, RunResult(cells=cells), cell_timeout=5, timeout=9)
    assert judged.status == "graded"
    assert [(e.id, e.kind, e.points, e.message) for e in judged.exercises] == [("99.add", "code", 0, "no"),
                                                                               ("99.scale", "code", 3, None)]
    killed = verdict(course_notebook, origin, RunResult(cells={0: passed(0)}, killed=True), cell_timeout=5,
                     timeout=9)
    assert killed.status == "timeout" and "9 s" in killed.detail and "exercise cell of 99.add" in killed.detail
    assert [e.points for e in killed.exercises] == [0, 0]
    crashed = verdict(course_notebook, origin, RunResult(cells={0: passed(0)}, returncode=3), cell_timeout=5,
                      timeout=9)
    assert crashed.status == "error" and "exit code 3" in crashed.detail
    missing_end = verdict(course_notebook, origin, RunResult(cells={n: passed(n) for n in range(6)}), cell_timeout=5,
                          timeout=9, end_cell=6)
    assert missing_end.status == "error" and "end marker" in missing_end.detail


def test_a_course_cell_that_runs_too_long_is_the_courses_timeout(course):
    course_notebook = course.notebooks["99_demo"]
    origin = {"99.add": "submission", "99.scale": "submission"}
    cells = {n: passed(n) for n in range(6)}
    cells[3] = {"cell": 3, "outcome": "failed", "reason": "timeout"}   # numbers = [1, 2, 3]: the course's cell
    judged = verdict(course_notebook, origin, RunResult(cells=cells), cell_timeout=5, timeout=9)
    assert judged.status == "course_timeout" and "course's own code, not the student's" in judged.detail
    assert [e.points for e in judged.exercises] == [2, 3]
    cells[3], cells[4] = passed(3), {"cell": 4, "outcome": "failed", "reason": "timeout"}   # the exercise cell
    assert verdict(course_notebook, origin, RunResult(cells=cells), cell_timeout=5, timeout=9).status == "timeout"
    killed = verdict(course_notebook, origin, RunResult(cells={n: passed(n) for n in range(3)}, killed=True),
                     cell_timeout=5, timeout=9)
    assert killed.status == "course_timeout"


def test_clean_removes_what_changes_between_runs():
    text = "\x1b[0;31mError\x1b[0m at 0x7f3a2b1c4d50 in /tmp/ipykernel_123/4567.py and /tmp/course-grade-x/work"
    assert clean(text, "/tmp/course-grade-x") == "Error at 0x… in <cell> and <scratch>/work"
    assert len(clean("x" * 10_000)) < 4100


def sample_results() -> list[GradeResult]:
    result = GradeResult(file="a/b c.ipynb", sha256="0" * 64, notebook="99_demo", status="graded", total=2,
                         max_total=5, notes=["n"], sandbox="bwrap",
                         exercises=[ExerciseResult("99.add", "code", 2, 2, True, "submission", None),
                                    ExerciseResult("99.scale", "quiz", 0, 3, False, "stub", "why")],
                         flags=[Flag("99.add", "static", "checker", "binds the name check", 3, "check = 1"),
                                Flag(None, "audit", "audit-channel", "the audit went silent from cell 4 on")])
    unreadable = GradeResult(file="z.ipynb", sha256="1" * 64, notebook=None, status="empty", detail="empty")
    return [result, unreadable]


def test_reports_are_deterministic(tmp_path, course):
    for out in ("one", "two"):
        write_reports(sample_results(), course, tmp_path / out)
    for name in ("grades.csv", "grades.json", "feedback/a__b_c.md", "feedback/z.md"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    rows = (tmp_path / "one" / "grades.csv").read_text().splitlines()
    assert rows == ["file,notebook,99.add,99.scale,total,max_total,status,flags,sandbox",
                    "a/b c.ipynb,99_demo,2,0,2,5,graded,99.add line 3: checker; the notebook: audit audit-channel,"
                    "bwrap",
                    "z.ipynb,,,,0,,empty,,"]
    payload = json.loads((tmp_path / "one" / "grades.json").read_text())
    assert payload["submissions"][0]["flags"][1]["source"] == "audit"
    assert payload["submissions"][0]["exercises"][1]["kind"] == "quiz"
    assert feedback_name("sub/x y.ipynb") == "sub__x_y.md"


def test_feedback_shows_quizzes_and_flags():
    result = sample_results()[0]
    result.mark_flagged()
    text = feedback(result)
    assert "## ✘ 99.scale (quiz): 0 / 3 points" in text
    assert "line 3 binds the name check (`check = 1`)" in text
    assert "## Marked for review" in text and "the grader saw it the audit went silent" in text
    assert result.exercises[0].flagged and not result.exercises[1].flagged


# the audit channel -------------------------------------------------------------------------------------------------
def channel(*records: dict) -> list[str]:
    return [json.dumps({"seq": number, **record}) for number, record in enumerate(records)]


def test_a_whole_channel_has_no_problem():
    lines = channel({"kind": "start"}, {"kind": "event", "cell": 2, "rule": "process", "what": "calls os.fork",
                                        "line": 3}, {"kind": "cell", "cell": 0}, {"kind": "cell", "cell": 2},
                    {"kind": "end", "cell": 3, "nonce": "abc", "lost": 0, "errors": 0})
    report = read_channel(lines, nonce="abc", heartbeats=[0, 2], end_ran=True)
    assert report.problems == [] and report.findings == [(2, "process", "calls os.fork", 3)]


@pytest.mark.parametrize("change, problem", [
    (lambda lines: lines[:3], "end marker never arrived"),
    (lambda lines: lines[:2] + lines[3:], "carries records the audit did not write"),
    (lambda lines: lines + ['{"seq": 1, "kind": "cell", "cell": 9}'], "carries records"),
    (lambda lines: [lines[0], lines[1], lines[3]], "went silent from cell 2"),
    (lambda lines: lines[:3] + channel(*[{}] * 3, {"kind": "end", "nonce": "forged"})[3:], "forged"),
    (lambda lines: lines[1:], "never started"),
])
def test_a_broken_channel_is_a_problem(change, problem):
    lines = channel({"kind": "start"}, {"kind": "cell", "cell": 0}, {"kind": "cell", "cell": 2},
                    {"kind": "end", "cell": 3, "nonce": "abc"})
    report = read_channel(change(lines), nonce="abc", heartbeats=[0, 2], end_ran=True)
    assert any(problem in text for text in report.problems), report.problems


def test_audit_flags_are_what_the_solution_does_not_do(course):
    course_notebook = course.notebooks["99_demo"]
    report = AuditReport(findings=[(1, "introspection", "calls sys._getframe", 2), (1, "process", "calls os.fork", 1),
                                   (3, "monkeypatch", "replaces numpy.mean", None)],
                         problems=["the audit went silent from cell 4 on"])
    baseline = {(1, "process", "calls os.fork")}
    found = audit_flags(report, baseline, course_notebook, {"99.add": "import sys\nf = sys._getframe()"})
    assert [(f.exercise, f.rule, f.line, f.code, f.cell) for f in found] == [
        ("99.add", "introspection", 2, "f = sys._getframe()", 1), (None, "monkeypatch", None, "", 3),
        (None, "audit-channel", None, "", None)]


def test_kernel_settings_follow_the_pristine_copy(course, tmp_path):
    course_notebook = course.notebooks["99_demo"]
    pristine, _ = build_pristine(course_notebook, {"99.add": "# NBVAL_SKIP\n" + gc.ADD}, end_nonce="x")
    settings = kernel_settings(course, course_notebook, pristine, hidden=[(tmp_path, "files")])
    assert settings["order"] == [0, 2, 3, 4, 5, 6] and settings["end_cell"] == 6
    assert settings["exercise_cells"] == [1, 4] and settings["reset_cells"] == [2, 5, 6]
    assert (str(tmp_path), "files") in settings["protected"] and "democheck" in settings["core"]


def test_sandbox_modes():
    with pytest.raises(ValueError, match="sandbox must be one of auto, bwrap, none"):
        sandbox.resolve("docker")
    assert sandbox.resolve("none") == ("none", "")
    used, note = sandbox.resolve("auto")
    assert used in ("bwrap", "none") and (used == "bwrap") == (note == "")


def test_the_sandbox_shows_only_what_the_kernel_needs(tmp_path):
    words = sandbox.prefix(read_only=[tmp_path / "a", tmp_path / "a" / "b", tmp_path / "c"], writable=[tmp_path / "w"],
                           cwd=tmp_path / "w")
    assert {"--unshare-all", "--die-with-parent", "--cap-drop"} <= set(words)
    binds = [words[i + 1] for i, word in enumerate(words) if word == "--ro-bind"]
    assert str(tmp_path / "a") in binds and str(tmp_path / "a" / "b") not in binds
    assert "/etc" not in binds and "/tmp" not in binds and "/" not in binds
    assert words[-2:] == ["--remount-ro", "/"]
    secret = Path(sys.prefix) / "lib"   # a folder to hide: nothing that contains it may be shown
    shown = sandbox.python_paths(hidden=[secret])
    assert shown and all(not (path == secret or path in secret.parents) for path in shown)
    assert Path(sys.prefix) not in shown


def test_fresh_check_runs_a_fresh_checker_and_refuses_a_changed_course(tmp_path, monkeypatch):
    package = tmp_path / "freshdemo"
    (package / "checks").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "tools.py").write_text("def reference(x):\n    return x + 1\n\n\nclass Block:\n"
                                      "    def forward(self, x):\n        return x\n")
    (package / "checks" / "__init__.py").write_text("")
    (package / "checks" / "core.py").write_text(
        "from freshdemo.tools import Block, reference\n\nCALLS = []\n\n\ndef check(answer):\n"
        "    CALLS.append(answer)\n    assert answer(1) == reference(1)\n    print('passed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import importlib
    old = importlib.import_module("freshdemo.checks.core")
    namespace: dict = {}
    exec(compile(FRESH_SOURCE.read_text(), str(FRESH_SOURCE), "exec"), namespace)
    settings = {"root": str(tmp_path), "module": "freshdemo.checks.core", "name": "check", "exact": [],
                "trees": ["freshdemo.checks"], "shared": [], "package": "freshdemo"}
    try:
        namespace["fresh_check"](settings)(lambda x: x + 1)
        assert old.CALLS == [] and sys.modules["freshdemo.checks.core"] is old   # the fresh copy ran, not `old`
        old.check = lambda answer: print("passed")   # tampering with the module the student can reach: no effect
        with pytest.raises(AssertionError):
            namespace["fresh_check"](settings)(lambda x: x)
        tools = sys.modules["freshdemo.tools"]
        tools.reference = lambda x: x   # a changed reference: the check refuses to trust its result
        with pytest.raises(AssertionError, match="freshdemo.tools.reference is not the course's function"):
            namespace["fresh_check"](settings)(lambda x: x)
        importlib.reload(tools)
        tools.Block.forward = lambda self, x: 0
        with pytest.raises(AssertionError, match="freshdemo.tools.Block.forward is not the course's method"):
            namespace["fresh_check"](settings)(lambda x: x + 1)
    finally:
        for name in [name for name in sys.modules if name.startswith("freshdemo")]:
            del sys.modules[name]


def test_grade_submissions_rejects_bad_arguments(tmp_path):
    from course_utils.grade import grade_submissions
    with pytest.raises(TypeError, match="paths must be a list"):
        grade_submissions(str(tmp_path))
    with pytest.raises(ValueError, match="workers must be an int >= 1"):
        grade_submissions([tmp_path], workers=0)
    with pytest.raises(ValueError, match="cell_timeout must be"):
        grade_submissions([tmp_path], cell_timeout=-1)
    (tmp_path / "a.ipynb").write_text("{}")
    with pytest.raises(ValueError, match="sandbox must be one of"):
        grade_submissions([tmp_path], sandbox="docker", course_dir=gc.make_course(tmp_path / "course"))


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main([str(tmp_path), "--workers", "0"])
    assert exit_info.value.code == 2
    assert cli_main([str(tmp_path / "missing.ipynb"), "--course-dir", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli_main([str(tmp_path), "--sandbox", "docker"])


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
