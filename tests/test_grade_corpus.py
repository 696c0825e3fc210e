"""End-to-end grading of the demo course: honest, wrong, edited, hostile and attacking submissions in one batch.

One batch grades everything (two workers): the corpus of ``grade_corpus`` (unusable files, edited check cells,
endless loops, dying kernels) and the attack and honest corpora of ``attacks``. Every submission must end with the
grade it deserves, every attack with 0 points or a flag naming what it attacked, every honest answer with full
marks and no flag; no submission file and no course file may change. Kernel runs dominate the time, so the demo
course has no torch. The batch runs in the sandbox where bubblewrap works (CI installs it); set
``COURSE_REQUIRE_SANDBOX=1`` to make its absence a failure instead of a skip.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import attacks
import grade_corpus as gc
import pytest

from course_utils.grade import grade_submissions
from course_utils.grade.sandbox import resolve

CELL_TIMEOUT = 10
TIMEOUT = 90
SANDBOX, WHY_NOT = resolve("auto")


def digests(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    course = gc.make_course(root / "course")
    submissions = root / "submissions"
    submissions.mkdir()
    expected, attack_items = {}, {}
    for name, (content, expectation) in gc.corpus().items():
        gc.write_submission(submissions / name, content)
        expected[name] = expectation
    for name, (content, expectation) in attacks.build(course).items():
        if expectation.sandbox_only and SANDBOX != "bwrap":
            continue
        gc.write_submission(submissions / name, content)
        attack_items[name] = expectation.under(SANDBOX)
    (submissions / "data.csv").write_text("a file the hostile submission must not reach\n")
    before, course_before = digests(submissions), digests(course)
    results = grade_submissions([submissions], out_dir=root / "out", course_dir=course, workers=2,
                                cell_timeout=CELL_TIMEOUT, timeout=TIMEOUT)
    return {"root": root, "course": course, "submissions": submissions, "expected": expected, "before": before,
            "course_before": course_before, "attacks": attack_items,
            "results": {result.file: result for result in results}}


def test_every_submission_gets_the_grade_it_deserves(graded):
    assert set(graded["results"]) == set(graded["expected"]) | set(graded["attacks"])
    wrong = []
    for name, expectation in sorted(graded["expected"].items()):
        result = graded["results"][name]
        rules = {flag.rule for flag in result.flags}
        flags_ok = expectation["flags"] <= rules if expectation["flags"] else not rules
        ok = result.status == expectation["status"] and result.points == expectation["points"] and flags_ok
        if not ok:
            wrong.append(f"{name}: got {result.status} {result.points} flags {sorted(rules)}; expected "
                         f"{expectation['status']} {expectation['points']} {sorted(expectation['flags'])}; "
                         f"detail {result.detail[:300]!r}")
    assert not wrong, "\n".join(wrong)


def test_attacks_score_zero_or_are_flagged(graded):
    wrong = []
    for name, expect in sorted(graded["attacks"].items()):
        result = graded["results"][name]
        flags = sorted((flag.exercise or "", flag.rule, flag.what) for flag in result.flags)
        if result.status != expect.status or result.points != expect.points:
            wrong.append(f"{name}: got {result.status} {result.points}, expected {expect.status} {expect.points}; "
                         f"flags {flags}; detail {result.detail[:200]!r}")
        for exercise, rules in expect.rules.items():
            named = {flag.rule for flag in result.flags if exercise is None or flag.exercise == exercise}
            if not rules <= named:
                wrong.append(f"{name}: expected rules {sorted(rules)} on {exercise}; got {flags}")
            if exercise is not None and result.points[exercise] and not named:
                wrong.append(f"{name}: kept the points of {exercise} and no flag names it")
    assert not wrong, "\n".join(wrong)


def test_honest_answers_keep_their_points_with_no_flag(graded):
    honest = [name for name, expect in graded["attacks"].items() if expect.honest] + ["alice correct (renamed).ipynb"]
    for name in honest:
        result = graded["results"][name]
        assert (result.status, result.total, result.flags) == ("graded", 5, []), (name, result.flags, result.detail)


def test_every_category_of_the_issue_is_covered(graded):
    categories = {expect.category for expect in graded["attacks"].values()}
    assert {"checker", "frames", "ipython", "lying", "outside", "channel", "hidden", "honest"} <= categories


def test_no_submission_or_course_file_changes(graded):
    assert digests(graded["submissions"]) == graded["before"]
    assert digests(graded["course"]) == graded["course_before"]


def test_each_row_records_its_sandbox(graded):
    ran = [result for result in graded["results"].values() if result.exercises]
    assert ran and {result.sandbox for result in ran} == {SANDBOX}
    if WHY_NOT:
        assert all(WHY_NOT in result.notes for result in ran)


def test_the_sandbox_is_available():
    if SANDBOX != "bwrap":
        if os.environ.get("COURSE_REQUIRE_SANDBOX") == "1":
            pytest.fail(f"COURSE_REQUIRE_SANDBOX=1 but {WHY_NOT}")
        pytest.skip(f"graded without the sandbox: {WHY_NOT}")


def test_failures_explain_themselves(graded):
    results = graded["results"]
    by_id = {name: {e.id: e for e in result.exercises} for name, result in results.items()}
    assert "expected 3, got -1" in by_id["wrong.ipynb"]["99.add"].message
    assert "not implemented yet" in by_id["stub.ipynb"]["99.scale"].message
    assert "ModuleNotFoundError" in by_id["raises_at_import.ipynb"]["99.add"].message
    assert "time limit of 10 s" in by_id["infinite_loop.ipynb"]["99.scale"].message
    assert "kernel died" in by_id["kills_kernel.ipynb"]["99.add"].message
    assert "no exercise cell" in by_id["exercise_metadata_lost.ipynb"]["99.scale"].message
    assert "upgraded" in results["old_format_v3.ipynb"].notes[0]
    flag = results["checker_redefined.ipynb"].flags[0]
    assert (flag.exercise, flag.rule, flag.code, flag.source) == ("99.add", "checker", "def check(*answers):",
                                                                  "static")
    assert "trace" in by_id["attack_settrace.ipynb"]["99.add"].message
    audit = [flag for flag in results["attack_frames_sys_and_inspect.ipynb"].flags if flag.source == "audit"]
    assert any(f.exercise == "99.add" and f.line == 4 and "sys._getframe" in f.what and "_getframe(1)" in f.code
               for f in audit), audit


def test_reports_cover_every_submission(graded):
    out = graded["root"] / "out"
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "file,notebook,99.add,99.scale,total,max_total,status,flags,sandbox"
    assert len(rows) == 1 + len(graded["results"])
    assert f"alice correct (renamed).ipynb,99_demo,2,3,5,5,graded,,{SANDBOX}" in rows
    payload = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    assert payload["exercises"] == {"99.add": 2, "99.scale": 3}
    assert payload["kinds"] == {"99.add": "code", "99.scale": "code"}
    for result in payload["submissions"]:
        text = (out / result["feedback"]).read_text(encoding="utf-8")
        assert result["file"] in text and result["status"] in text
    report_text = (out / "grades.json").read_text(encoding="utf-8") + "".join(
        path.read_text(encoding="utf-8") for path in (out / "feedback").glob("*.md"))
    assert "course-grade-" not in report_text and "ipykernel_" not in report_text


def test_command_line_gives_identical_reports(graded):
    """Grade three submissions again through the CLI: the same records and feedback, byte for byte."""
    names = ["alice correct (renamed).ipynb", "checker_redefined.ipynb", "wrong.ipynb"]
    out = graded["root"] / "again"
    command = [sys.executable, "-m", "course_utils.grade", *[str(graded["submissions"] / n) for n in names],
               "--course-dir", str(graded["course"]), "--out", str(out), "--workers", "2",
               "--cell-timeout", str(CELL_TIMEOUT), "--timeout", str(TIMEOUT)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "checker_redefined.ipynb" in done.stdout and "flagged" in done.stdout
    again = {r["file"]: r for r in json.loads((out / "grades.json").read_text(encoding="utf-8"))["submissions"]}
    assert set(again) == set(names)
    for name in names:
        first = graded["results"][name].as_dict()
        assert again[name] == first
        assert (out / first["feedback"]).read_bytes() == (graded["root"] / "out" / first["feedback"]).read_bytes()


def test_without_the_sandbox_the_audit_still_flags(tmp_path):
    """The unsandboxed path: a submission that reads the course's solutions gets its points, and a flag."""
    course = gc.make_course(tmp_path / "course")
    items = attacks.build(course)
    path = tmp_path / "read_solutions.ipynb"
    gc.write_submission(path, items["attack_read_solutions_and_system_call.ipynb"][0])
    (result,) = grade_submissions([path], out_dir=tmp_path / "out", course_dir=course, cell_timeout=CELL_TIMEOUT,
                                  timeout=TIMEOUT, sandbox="none")
    assert (result.sandbox, result.status, result.points) == ("none", "graded", {"99.add": 2, "99.scale": 3})
    assert any(flag.rule == "solutions" and flag.source == "audit" and flag.exercise == "99.add"
               for flag in result.flags), result.flags


def test_whole_submission_timeout_kills_a_sleeper(tmp_path):
    course = gc.make_course(tmp_path / "course")
    path = tmp_path / "sleeper.ipynb"
    gc.write_submission(path, gc.SLEEPER)
    before = path.read_bytes()
    (result,) = grade_submissions([path], out_dir=tmp_path / "out", course_dir=course, cell_timeout=600, timeout=12)
    assert result.status == "timeout" and "whole-submission time limit of 12 s" in result.detail
    assert [exercise.points for exercise in result.exercises] == [0, 0]
    assert path.read_bytes() == before
