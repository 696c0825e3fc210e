"""The exercise check framework: named cases, one pass line, and failures that explain themselves.

An exercise is declared once, in a ``course_utils.exercises.exNN_*`` module::

    SEGMENTS = Exercise("01.segment_sampling", "TSN segment sampling (train mode)",
                        forbidden=[forbid("must sample the frames itself", "course_utils.sampling.clips:sample_clips")])

    @SEGMENTS.case("one index per segment")
    def _(sample_segments):
        expect_equal(plain(sample_segments(10, 3, rng=0)).shape, (3,), what="shape of sample_segments(10, 3)")

and a notebook's check cell calls ``check("01.segment_sampling", sample_segments)``. While the cases run:

* the exercise's ``forbidden`` targets are tripwires (``course_utils.exercises.tripwires``): a call from the student's
  code fails the case with a message naming what was called. The checker computes its own expected values inside
  ``with course():``, in a case's body and before it hands anything to the student's code. The student's
  functions run marked as such (``course_utils.exercises.guard``), so ``course()`` unlocks nothing for them, even
  through a checker helper;
* ``substitutes`` bind the course's reference under the name of an earlier exercise's answer in the student's
  globals, so a later exercise is graded on its own (``course_reference`` for a reference that calls what the later
  exercise forbids);
* whatever the student's code prints or warns is captured, and shown only in a failing case's message.

Answers are compared as plain values (``plain``, ``same``, ``close``, ``to_numpy`` from
``course_utils.exercises.values``, re-exported here); every ``expect_*`` converts first. On success exactly one
deterministic line is printed; on failure ``CheckFailed`` lists every failed case.

For the grader (its fresh copy of the checker calls these too):

* ``tripwire_targets(exercise_id)``: what an exercise tripwires, as ``Target`` objects (``module``, ``qualname``,
  ``kind`` = ``"attribute"`` or ``"operator"``, and ``name``);
* ``verify_targets(exercise_id)``: raises ``CheckFailed`` unless every target still holds the course's (or the
  library's) genuine object: code from the file its module name points to, under its own name, the very object
  ``snapshot_targets(ids)`` saw if that was called before any student code ran; and unless the comparison
  primitives are genuine. ``run_checks`` calls it before running the cases;
* ``guard.STATE.installing`` is True while the framework itself assigns ``__code__`` and cell contents (audit events
  ``object.__setattr__`` and ``code.__new__``), so an audit hook can tell them from the student's.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import pkgutil
import traceback
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from course_utils.exercises import integrity, progress
from course_utils.exercises.errors import MISSING, CaseFailure, CheckFailed, fail
from course_utils.exercises.guard import as_student, course, course_reference
from course_utils.exercises.student_code import is_student_file
from course_utils.exercises.tripwires import Rule, Target, Tripwires, forbid
from course_utils.exercises.values import (
    close,
    finite,
    is_array,
    max_difference,
    plain,
    same,
    to_numpy,
)

__all__ = ["CaseFailure", "CheckFailed", "Exercise", "Target", "check", "close", "course", "course_reference",
           "expect_close", "expect_equal", "expect_true", "fail", "finite", "forbid", "get_exercise", "max_difference",
           "plain", "run_checks", "same", "snapshot_targets", "to_numpy", "tripwire_targets", "verify_targets"]

PASS_MARK = "✔"
FAIL_MARK = "✘"
OUTPUT_LIMIT = 300  # characters of printed output shown in a failure message


@dataclass(frozen=True)
class Case:
    """One named test of an exercise; ``run`` receives the student's answers."""

    name: str
    run: Callable[..., None]


@dataclass
class Exercise:
    """An exercise: an id such as ``"01.segment_sampling"``, a title, its cases in order, and its integrity rules.

    Points are not stored here: they belong to the notebook's check cell (``metadata.course.points``).

    Attributes:
        forbidden: ``forbid(...)`` rules: what the student's code must not call while the cases run.
        substitutes: ``{name: reference}``: an earlier exercise's answer name and the course's reference for it,
            bound in the student's globals while the cases run.
    """

    id: str
    title: str
    cases: list[Case] = field(default_factory=list)
    forbidden: Sequence[Rule] = ()
    substitutes: Mapping[str, Callable] = field(default_factory=dict)

    def __post_init__(self) -> None:
        prefix, dot, name = self.id.partition(".")
        if not (dot and prefix.isdigit() and len(prefix) == 2 and name.isidentifier()):
            raise ValueError(f"exercise id must look like '01.segment_sampling', got {self.id!r}")
        self.forbidden = tuple(self.forbidden)

    def case(self, name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
        """Decorator that appends a case named ``name`` to this exercise."""
        if any(existing.name == name for existing in self.cases):
            raise ValueError(f"exercise {self.id} already has a case named {name!r}")

        def register(function: Callable[..., None]) -> Callable[..., None]:
            self.cases.append(Case(name, function))
            return function

        return register


def expect_true(condition: Any, *, what: str, expected: Any = MISSING, got: Any = MISSING,
                hint: str | None = None) -> None:
    """Fail the current case with ``what`` unless ``condition`` (a bool, or a one-element array) is true."""
    value = plain(condition, what=what)
    if is_array(value):
        array = to_numpy(value)
        truth = array is not None and array.size == 1 and bool(array.item())
    else:
        truth = bool(value)  # a built-in value: its truth cannot lie
    if not truth:
        fail(what, expected=expected, got=got, hint=hint)


def expect_equal(got: Any, expected: Any, *, what: str, hint: str | None = None) -> None:
    """Fail unless ``got`` equals ``expected`` exactly, compared as plain values (see ``values.same``).

    Arrays and tensors are compared by shape and values (not dtype: check dtypes separately), tuples and lists
    element by element, dicts key by key, everything else with ``==``.
    """
    if not same(got, expected):
        fail(what, expected=expected, got=got, hint=hint)


def expect_close(got: Any, expected: Any, *, what: str, atol: float = 1e-8, rtol: float = 1e-6,
                 hint: str | None = None) -> None:
    """Fail unless ``got`` has the shape of ``expected`` and is elementwise close to it (plain values)."""
    got_array, expected_array = to_numpy(got, what=what), to_numpy(expected)
    if got_array is None:
        fail(what, expected=expected, got=got, hint=hint or "return numbers (an array, a tensor or a float)")
    if got_array.shape != expected_array.shape:
        fail(f"{what}: wrong shape", expected=expected_array.shape, got=got_array.shape, hint=hint)
    if not close(got_array, expected_array, atol=atol, rtol=rtol):
        fail(f"{what} (largest difference {max_difference(got_array, expected_array):.3g})", expected=expected,
             got=got, hint=hint)


def run_checks(exercise: Exercise, *answers: Any) -> None:
    """Run every case of ``exercise`` on the student's ``answers``, tripwires installed and output captured.

    Prints exactly one line, ``✔ <id>: n/n checks passed``, when every case passes.

    Raises:
        CheckFailed: listing every failed case, saying that the exercise is not implemented yet, or that the
            course's references were replaced in this kernel (so no result could be trusted).
    """
    if not exercise.cases:
        raise ValueError(f"exercise {exercise.id} has no cases: a check that cannot fail is a defect")
    verify_targets(exercise)
    failures: list[str] = []
    with Tripwires(exercise.id, exercise.forbidden, answers, exercise.substitutes) as tripwires:
        marked = tuple(as_student(answer) for answer in answers)
        for case in exercise.cases:
            problem = _run_case(exercise, case, marked, tripwires)
            if problem:
                failures.append(f"  • {case.name}: {problem}")
    total = len(exercise.cases)
    progress.record(exercise.id, passed=not failures)
    if failures:
        passed = total - len(failures)
        raise CheckFailed(
            f"{FAIL_MARK} {exercise.id} ({exercise.title}): {passed}/{total} checks passed; failed:\n"
            + "\n".join(failures)
        )
    print(f"{PASS_MARK} {exercise.id}: {total}/{total} checks passed")


def _run_case(exercise: Exercise, case: Case, answers: tuple, tripwires: Tripwires) -> str | None:
    """Run one case with the student's output captured; return what went wrong, or None."""
    printed = io.StringIO()
    tripwires.violations.clear()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(printed), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            case.run(*answers)
            problem = None
        except NotImplementedError as error:  # a stub; a quiz's NotAnswered carries its own `status`
            progress.record(exercise.id, passed=False, answered=False)
            status = getattr(error, "status", None) or (
                "not implemented yet. Replace the `raise NotImplementedError` line in the exercise cell with your "
                "code, run that cell, then run this check again.")
            raise CheckFailed(f"{FAIL_MARK} {exercise.id}: {status}") from None
        except CaseFailure as failure:
            problem = failure.describe()
        except Exception as error:  # the student's code raised while running the case
            problem = f"your code raised {type(error).__name__}: {error}{_last_frame(error)}"
    if tripwires.violations:
        problem = tripwires.violations[0].describe()
    if problem is None:
        return None
    output = " ".join(printed.getvalue().split())
    if output:
        output = output if len(output) <= OUTPUT_LIMIT else output[:OUTPUT_LIMIT - 1] + "…"
        problem += f"\n      your function printed: {output}"
    if caught:
        shown = "; ".join(f"{w.category.__name__}: {w.message}" for w in caught[:3])
        problem += f"\n      your function warned: {shown[:OUTPUT_LIMIT]}"
    return problem


def get_exercise(exercise_id: str) -> Exercise:
    """Return the exercise with id ``exercise_id`` from the ``course_utils.exercises.exNN_*`` modules.

    Raises:
        ValueError: if no exercise has that id.
    """
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a string like '01.segment_sampling', got {type(exercise_id).__name__}")
    prefix = exercise_id.partition(".")[0]
    package = importlib.import_module("course_utils.exercises")
    known: list[str] = []
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if not module_info.name.startswith(f"ex{prefix}_"):
            continue
        module = importlib.import_module(f"course_utils.exercises.{module_info.name}")
        for exercise in getattr(module, "EXERCISES", ()):
            if exercise.id == exercise_id:
                return exercise
            known.append(exercise.id)
    listed = ", ".join(known) if known else "none"
    raise ValueError(f"unknown exercise id {exercise_id!r}; exercises of notebook {prefix}: {listed}")


def check(exercise_id: str, *answers: Any) -> None:
    """Check the student's answer(s) to exercise ``exercise_id``; the call a notebook's check cell makes.

    Args:
        exercise_id: the exercise's id, e.g. ``"01.segment_sampling"``.
        *answers: the function(s) or class(es) the exercise asks for, in the order the exercise states.
    """
    run_checks(get_exercise(exercise_id), *answers)


# ------------------------------------------------------------------------------------------ the grader's interface
def tripwire_targets(exercise_id: str | Exercise) -> list[Target]:
    """What exercise ``exercise_id`` tripwires: functions, methods, classes (``kind="attribute"``) and ATen operators
    (``kind="operator"``), each with its ``module`` and ``qualname``."""
    exercise = exercise_id if isinstance(exercise_id, Exercise) else get_exercise(exercise_id)
    return [target for rule in exercise.forbidden for target in rule.targets]


def snapshot_targets(exercise_ids: Sequence[str]) -> None:
    """Remember the objects (and their code) that the exercises' targets hold now; ``verify_targets`` then also
    requires the very same objects. Call it before any student code runs."""
    for exercise_id in exercise_ids:
        integrity.snapshot(get_exercise(exercise_id).forbidden)


def verify_targets(exercise_id: str | Exercise) -> None:
    """Raise ``CheckFailed`` unless every target of the exercise holds the genuine course or library object and
    the comparison primitives are genuine (see ``course_utils.exercises.integrity``)."""
    exercise = exercise_id if isinstance(exercise_id, Exercise) else get_exercise(exercise_id)
    problems = integrity.target_problems(exercise.forbidden)
    if problems:
        raise CheckFailed(f"{FAIL_MARK} {exercise.id}: this kernel's course code was changed, so no check can be "
                          f"trusted: {'; '.join(problems)}. Restart the kernel and run the notebook from the top.")


def _last_frame(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    student = [frame for frame in frames if is_student_file(frame.filename)]
    if not student:
        return ""
    frame = student[-1]
    line = f": `{frame.line.strip()}`" if frame.line else ""
    return f" (in {frame.name}{line})"
