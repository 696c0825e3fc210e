"""The student's scoreboard: course_utils.progress("NN") lists a notebook's exercises and quizzes with this session's
status (passed, failed, not tried) and the points so far; the outline it reads is generated from the solutions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import course_utils
from course_utils.authoring import commands, contract
from course_utils.exercises import progress as scoreboard
from course_utils.exercises.framework import CheckFailed, check
from course_utils.exercises.outline import NOTEBOOKS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _fresh_session(monkeypatch):
    monkeypatch.setattr(scoreboard, "RESULTS", {})


def _status(notebook, exercise_id):
    return {row.exercise_id: row.status for row in course_utils.progress(notebook).rows}[exercise_id]


def test_progress_is_reexported_by_the_package():
    assert course_utils.progress is scoreboard.progress


def test_the_outline_lists_every_graded_cell_of_every_solution_notebook():
    for path in commands.solution_paths():
        notebook = contract.read_notebook(path)
        expected = tuple((e.id, e.kind, e.points) for e in contract.exercises(notebook))
        assert NOTEBOOKS[path.stem[:2]]["exercises"] == expected
        assert NOTEBOOKS[path.stem[:2]]["title"] == notebook.metadata["course"]["title"]


def test_nothing_tried_yet():
    board = course_utils.progress("01")
    assert {row.status for row in board.rows} == {"not tried"}
    assert board.earned == 0 and board.total == sum(points for _, _, points in NOTEBOOKS["01"]["exercises"])
    assert [row.exercise_id for row in board.rows] == [i for i, _, _ in NOTEBOOKS["01"]["exercises"]]


def test_passed_failed_and_stub_checks_are_shown_with_points():
    check("01.quiz_clip_starts", {3, 4, 5})
    with pytest.raises(CheckFailed):
        check("01.quiz_tail_frame", 400)
    with pytest.raises(CheckFailed):
        check("01.quiz_local_window", ...)
    with pytest.raises(CheckFailed):
        check("01.find_the_bug", [(1, 4), (10, 3), (3, 8)])
    board = course_utils.progress("01")
    status = {row.exercise_id: row.status for row in board.rows}
    assert status["01.quiz_clip_starts"] == "passed"
    assert status["01.quiz_tail_frame"] == "failed" and status["01.find_the_bug"] == "failed"
    assert status["01.quiz_local_window"] == "not tried" and status["01.segment_sampling"] == "not tried"
    points = dict((i, p) for i, _, p in NOTEBOOKS["01"]["exercises"])
    assert board.earned == points["01.quiz_clip_starts"]
    text = repr(board)
    assert f"Points so far: {board.earned} of {board.total} (1 passed, 2 failed, " in text
    assert "01.quiz_clip_starts" in text and "the grader re-runs every check" in text.lower()


def test_a_later_check_replaces_the_earlier_verdict():
    check("01.quiz_tail_frame", 0)
    with pytest.raises(CheckFailed):
        check("01.quiz_tail_frame", 1)
    assert _status("01", "01.quiz_tail_frame") == "failed"
    assert _status(1, "01.quiz_tail_frame") == "failed"


def test_output_is_deterministic_and_renders_as_html():
    check("00.quiz_batch_mib", 12)
    first, second = course_utils.progress("00"), course_utils.progress("00")
    assert repr(first) == repr(second)
    html = first._repr_html_()
    assert "<table>" in html and "00.quiz_batch_mib" in html and "✔ passed" in html
    assert "0x" not in repr(first)


def test_only_the_notebook_asked_for_is_shown():
    check("00.quiz_batch_mib", 12)
    assert all(row.exercise_id.startswith("02.") for row in course_utils.progress("02").rows)
    assert course_utils.progress("02").earned == 0


@pytest.mark.parametrize("bad, error", [("7", ValueError), ("1", ValueError), (99, ValueError), (None, TypeError),
                                        (1.0, TypeError), (True, TypeError)])
def test_bad_notebook_arguments(bad, error):
    with pytest.raises(error, match="notebook"):
        course_utils.progress(bad)


def test_record_statuses():
    scoreboard.record("99.x", passed=True)
    scoreboard.record("99.y", passed=False)
    scoreboard.record("99.z", passed=False, answered=False)
    assert scoreboard.RESULTS == {"99.x": "passed", "99.y": "failed", "99.z": "not tried"}


def test_importing_the_scoreboard_loads_no_heavy_library():
    code = ("import sys, course_utils; course_utils.progress('00')\n"
            "print(sorted(m for m in ('torch', 'av', 'matplotlib') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[]"
