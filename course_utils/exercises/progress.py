"""The student's scoreboard: which checks of this kernel session passed, failed or were not tried yet.

``run_checks`` records every verdict here; ``progress("01")`` (re-exported as ``course_utils.progress``) shows the
exercises and quizzes of notebook 01 with their points. The list of graded cells and their points comes from
``course_utils.exercises.outline``, which the authoring tool generates from the solution notebooks, so an installed
package knows them without the notebook files. It is the student's own record: the grader re-runs every check and
is the authority.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

PASSED, FAILED, NOT_TRIED = "passed", "failed", "not tried"

RESULTS: dict[str, str] = {}
"""Exercise id -> the status of its latest check in this kernel session: ``"passed"``, ``"failed"``, or
``"not tried"`` when the check ran on the stub (nothing answered yet)."""


def record(exercise_id: str, *, passed: bool, answered: bool = True) -> None:
    """Remember the verdict of the latest check of ``exercise_id``; ``answered=False`` when it met the stub."""
    RESULTS[exercise_id] = PASSED if passed else (FAILED if answered else NOT_TRIED)


@dataclass(frozen=True)
class Row:
    """One graded cell of the scoreboard."""

    exercise_id: str
    kind: str
    points: int
    status: str

    @property
    def earned(self) -> int:
        """The points this row has earned in this session: all of them when its check passed, else 0."""
        return self.points if self.status == PASSED else 0


@dataclass(frozen=True)
class Scoreboard:
    """The exercises and quizzes of one notebook with this session's status; shown as a table in Jupyter."""

    notebook: str
    title: str
    rows: tuple[Row, ...]

    @property
    def earned(self) -> int:
        """Points of the checks that passed in this session."""
        return sum(row.earned for row in self.rows)

    @property
    def total(self) -> int:
        """Points of the notebook."""
        return sum(row.points for row in self.rows)

    def _counts(self) -> str:
        counts = {status: sum(row.status == status for row in self.rows) for status in (PASSED, FAILED, NOT_TRIED)}
        return ", ".join(f"{count} {status}" for status, count in counts.items())

    def __repr__(self) -> str:
        width = max(len("exercise"), *(len(row.exercise_id) for row in self.rows))
        lines = [f"Notebook {self.notebook} · {self.title}: your checks in this kernel session",
                 f"  {'exercise':<{width}}  kind  points  status"]
        for row in self.rows:
            lines.append(f"  {row.exercise_id:<{width}}  {row.kind:<4}  {f'{row.earned}/{row.points}':>6}  "
                         f"{row.status}")
        lines.append(f"Points so far: {self.earned} of {self.total} ({self._counts()}). "
                     "The grader re-runs every check: this table is your own record.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        mark = {PASSED: "✔", FAILED: "✘", NOT_TRIED: "·"}
        body = "".join(f"<tr><td><code>{html.escape(row.exercise_id)}</code></td><td>{row.kind}</td>"
                       f"<td style='text-align:right'>{row.earned}/{row.points}</td>"
                       f"<td>{mark[row.status]} {row.status}</td></tr>" for row in self.rows)
        return (f"<p><b>Notebook {self.notebook} · {html.escape(self.title)}</b>: your checks in this kernel session"
                "</p><table><thead><tr><th>exercise</th><th>kind</th><th>points</th><th>status</th></tr></thead>"
                f"<tbody>{body}</tbody></table><p>Points so far: <b>{self.earned} of {self.total}</b> "
                f"({self._counts()}). The grader re-runs every check: this table is your own record.</p>")


def progress(notebook: str | int) -> Scoreboard:
    """Show the exercises and quizzes of a notebook: passed, failed or not tried in this kernel session, and points.

    Args:
        notebook: the notebook's number, ``"01"`` (or ``1``).

    Returns:
        a ``Scoreboard``; as the last expression of a cell, Jupyter shows it as a table.

    Raises:
        TypeError: when ``notebook`` is not a str or an int.
        ValueError: when the course has no such notebook.
    """
    from course_utils.exercises.outline import NOTEBOOKS

    if isinstance(notebook, bool) or not isinstance(notebook, (str, int)):
        raise TypeError(f"notebook must be a notebook number such as '01', got {type(notebook).__name__}")
    number = f"{notebook:02d}" if isinstance(notebook, int) else notebook.strip()
    if number not in NOTEBOOKS:
        raise ValueError(f"notebook must be one of {', '.join(repr(n) for n in NOTEBOOKS)}, got {notebook!r}")
    entry = NOTEBOOKS[number]
    rows = tuple(Row(exercise_id, kind, points, RESULTS.get(exercise_id, NOT_TRIED))
                 for exercise_id, kind, points in entry["exercises"])
    return Scoreboard(number, entry["title"], rows)
