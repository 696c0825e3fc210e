"""The grade of one submission as a typed record, from the batch through the verdict to the reports.

``GradeResult`` holds what the reports need: the file and its digest, the course notebook it belongs to, a status,
the points of every exercise (``ExerciseResult``) and the flags raised for an instructor's review (``Flag``).
``as_dict`` gives the JSON form written to ``grades.json`` (keys sorted by the writer, so reports are stable).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SOURCES = ("static", "audit")
"""Where a flag comes from: the static scan of the exercise's code, or the runtime audit of the grading kernel."""


@dataclass(frozen=True)
class Flag:
    """Something in a submission that an instructor should review; a flag never changes points by itself.

    ``exercise`` is the exercise whose code did it (None when it cannot be tied to one), ``source`` is ``"static"``
    or ``"audit"``, ``rule`` a key of ``flags.RULES``, ``what`` says what the code did, ``line`` is the 1-based line
    in the exercise cell (None when unknown), ``code`` that line, and ``cell`` nbval's code-cell number where the
    audit saw it (None for static flags).
    """

    exercise: str | None
    source: str
    rule: str
    what: str
    line: int | None = None
    code: str = ""
    cell: int | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"source must be one of {SOURCES}, got {self.source!r}")

    def where(self) -> str:
        """Return where the flag points, for one-line summaries: ``"99.add line 3"``, ``"cell 4"``."""
        place = self.exercise or (f"cell {self.cell}" if self.cell is not None else "the notebook")
        return f"{place} line {self.line}" if self.line is not None else place


@dataclass
class ExerciseResult:
    """The verdict on one exercise: its ``kind`` (``"code"`` or ``"quiz"``), points earned and possible, whether its
    check passed, where its graded ``code`` came from (``"submission"`` or ``"stub"``), the message for the student
    (None when it passed) and whether a flag names it."""

    id: str
    kind: str
    points: int
    max_points: int
    passed: bool
    code: str
    message: str | None
    flagged: bool = False


@dataclass
class GradeResult:
    """Everything known about one graded submission (see the module docstring).

    ``status`` is ``graded`` or a word saying why not (the README lists them), ``detail`` explains it; ``sandbox`` is
    ``"bwrap"`` or ``"none"`` (what the kernel ran under; empty when no kernel ran); ``feedback`` is the feedback
    file's path relative to the output folder, set when the reports are written.
    """

    file: str
    sha256: str
    notebook: str | None
    status: str
    detail: str = ""
    total: int = 0
    max_total: int | None = None
    exercises: list[ExerciseResult] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    other_errors: list[dict] = field(default_factory=list)
    sandbox: str = ""
    feedback: str = ""

    def exercise(self, exercise_id: str) -> ExerciseResult | None:
        """Return the result of one exercise, or None."""
        return next((exercise for exercise in self.exercises if exercise.id == exercise_id), None)

    @property
    def points(self) -> dict[str, int]:
        """Exercise id -> points earned."""
        return {exercise.id: exercise.points for exercise in self.exercises}

    def mark_flagged(self) -> None:
        """Set each exercise's ``flagged`` from the flags that name it."""
        named = {flag.exercise for flag in self.flags}
        for exercise in self.exercises:
            exercise.flagged = exercise.id in named

    def as_dict(self) -> dict:
        """Return the JSON-ready form written to ``grades.json``."""
        return asdict(self)
