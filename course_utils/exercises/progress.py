"""The student's scoreboard: which checks of this kernel session passed, failed or were not tried yet.

``run_checks`` records every verdict here; ``progress()`` (re-exported as ``course_utils.progress``) shows them.
It is the student's own record: the grader re-runs every check and is the authority.
"""

from __future__ import annotations

RESULTS: dict[str, bool] = {}
"""Exercise id -> whether its last check in this kernel session passed."""


def record(exercise_id: str, *, passed: bool) -> None:
    """Remember the verdict of the latest check of ``exercise_id``."""
    RESULTS[exercise_id] = bool(passed)
