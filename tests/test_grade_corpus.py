"""End-to-end grading of a corpus of honest, wrong, edited and hostile submissions of the demo course.

One batch grades the whole corpus (two workers); every submission must end with the grade it deserves, and no
file in the submissions folder may change. Kernel runs dominate the time, so the demo course has no torch.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import grade_corpus as gc
import pytest

from course_utils.grade import grade_submissions

CELL_TIMEOUT = 10
TIMEOUT = 90


def digests(folder: Path) -> dict[str, str]:
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    course = gc.make_course(root / "course")
    submissions = root / "submissions"
    submissions.mkdir()
    expected = {}
    for name, (content, expectation) in gc.corpus().items():
        gc.write_submission(submissions / name, content)
        expected[name] = expectation
    (submissions / "data.csv").write_text("a file the hostile submission must not reach\n")
    before = digests(submissions)
    results = grade_submissions([submissions], out_dir=root / "out", course_dir=course, workers=2,
                                cell_timeout=CELL_TIMEOUT, timeout=TIMEOUT)
    return {"root": root, "course": course, "submissions": submissions, "expected": expected, "before": before,
            "results": {result["file"]: result for result in results}}


def test_every_submission_gets_the_grade_it_deserves(graded):
    assert set(graded["results"]) == set(graded["expected"])
    wrong = []
    for name, expectation in sorted(graded["expected"].items()):
        result = graded["results"][name]
        points = {exercise["id"]: exercise["points"] for exercise in result["exercises"]}
        rules = {flag["rule"] for flag in result["flags"]}
        flags_ok = expectation["flags"] <= rules if expectation["flags"] else not rules
        ok = result["status"] == expectation["status"] and points == expectation["points"] and flags_ok
        if not ok:
            wrong.append(f"{name}: got {result['status']} {points} flags {sorted(rules)}; expected "
                         f"{expectation['status']} {expectation['points']} {sorted(expectation['flags'])}; "
                         f"detail {result['detail'][:300]!r}")
    assert not wrong, "\n".join(wrong)


def test_no_submission_file_changes(graded):
    assert digests(graded["submissions"]) == graded["before"]


def test_failures_explain_themselves(graded):
    results = graded["results"]
    by_id = {name: {e["id"]: e for e in result["exercises"]} for name, result in results.items()}
    assert "expected 3, got -1" in by_id["wrong.ipynb"]["99.add"]["message"]
    assert "not implemented yet" in by_id["stub.ipynb"]["99.scale"]["message"]
    assert "ModuleNotFoundError" in by_id["raises_at_import.ipynb"]["99.add"]["message"]
    assert "time limit of 10 s" in by_id["infinite_loop.ipynb"]["99.scale"]["message"]
    assert "kernel died" in by_id["kills_kernel.ipynb"]["99.add"]["message"]
    assert "truncated by the grader" in by_id["prints_100mb.ipynb"]["99.scale"]["message"]
    assert len(by_id["prints_100mb.ipynb"]["99.scale"]["message"]) < 5000
    assert "no exercise cell" in by_id["exercise_metadata_lost.ipynb"]["99.scale"]["message"]
    assert "upgraded" in results["old_format_v3.ipynb"]["notes"][0]
    flag = results["checker_redefined.ipynb"]["flags"][0]
    assert (flag["exercise"], flag["rule"], flag["code"]) == ("99.add", "checker", "def check(*answers):")


def test_reports_cover_every_submission(graded):
    out = graded["root"] / "out"
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "file,notebook,99.add,99.scale,total,max_total,status,flags"
    assert len(rows) == 1 + len(graded["expected"])
    assert "alice correct (renamed).ipynb,99_demo,2,3,5,5,graded," in rows
    payload = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    assert payload["exercises"] == {"99.add": 2, "99.scale": 3}
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
        first = dict(graded["results"][name])
        assert again[name] == first
        assert (out / first["feedback"]).read_bytes() == (graded["root"] / "out" / first["feedback"]).read_bytes()


def test_whole_submission_timeout_kills_a_sleeper(tmp_path):
    course = gc.make_course(tmp_path / "course")
    path = tmp_path / "sleeper.ipynb"
    gc.write_submission(path, gc.SLEEPER)
    before = path.read_bytes()
    (result,) = grade_submissions([path], out_dir=tmp_path / "out", course_dir=course, cell_timeout=600, timeout=12)
    assert result["status"] == "timeout" and "whole-submission time limit of 12 s" in result["detail"]
    assert [exercise["points"] for exercise in result["exercises"]] == [0, 0]
    assert path.read_bytes() == before
