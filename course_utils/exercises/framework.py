"""The exercise check framework: named cases, one pass line, and failures that explain themselves.

An exercise is declared once, in a ``course_utils.exercises.exNN_*`` module::

    SEGMENTS = Exercise("01.segment_sampling", "TSN segment sampling (train mode)")

    @SEGMENTS.case("one index per segment")
    def _(sample_segments):
        expect_equal(sample_segments(10, 3, rng=0).shape, (3,), what="shape of sample_segments(10, 3)")

and a notebook's check cell calls ``check("01.segment_sampling", sample_segments)``. On success exactly one
deterministic line is printed; on failure ``CheckFailed`` lists every failed case with what was expected, what came
back and a hint.
"""

from __future__ import annotations

import importlib
import pkgutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import numpy as np
import torch

from course_utils.exercises import progress

PASS_MARK = "✔"
FAIL_MARK = "✘"
_MISSING = object()


class CheckFailed(AssertionError):
    """Raised by a check when the student's answer is wrong or not implemented yet."""


class CaseFailure(Exception):
    """Raised inside a case to report what was expected and what came back."""

    def __init__(self, message: str, *, expected: Any = _MISSING, got: Any = _MISSING, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.got = got
        self.hint = hint

    def describe(self) -> str:
        """Return the failure as indented lines: message, expected, got, hint."""
        lines = [self.message]
        if self.expected is not _MISSING:
            lines.append(f"expected: {_short(self.expected)}")
        if self.got is not _MISSING:
            lines.append(f"got:      {_short(self.got)}")
        if self.hint:
            lines.append(f"hint:     {self.hint}")
        return "\n      ".join(lines)


@dataclass(frozen=True)
class Case:
    """One named test of an exercise; ``run`` receives the student's answers."""

    name: str
    run: Callable[..., None]


@dataclass
class Exercise:
    """An exercise: an id such as ``"01.segment_sampling"``, a title, and its cases in order.

    Points are not stored here: they belong to the notebook's check cell (``metadata.course.points``).
    """

    id: str
    title: str
    cases: list[Case] = field(default_factory=list)

    def __post_init__(self) -> None:
        prefix, dot, name = self.id.partition(".")
        if not (dot and prefix.isdigit() and len(prefix) == 2 and name.isidentifier()):
            raise ValueError(f"exercise id must look like '01.segment_sampling', got {self.id!r}")

    def case(self, name: str) -> Callable[[Callable[..., None]], Callable[..., None]]:
        """Decorator that appends a case named ``name`` to this exercise."""
        if any(existing.name == name for existing in self.cases):
            raise ValueError(f"exercise {self.id} already has a case named {name!r}")

        def register(function: Callable[..., None]) -> Callable[..., None]:
            self.cases.append(Case(name, function))
            return function

        return register


def fail(message: str, *, expected: Any = _MISSING, got: Any = _MISSING, hint: str | None = None) -> NoReturn:
    """Fail the current case with a message, and optionally what was expected, what came back and a hint."""
    raise CaseFailure(message, expected=expected, got=got, hint=hint)


def expect_true(condition: Any, *, what: str, expected: Any = _MISSING, got: Any = _MISSING,
                hint: str | None = None) -> None:
    """Fail the current case with ``what`` unless ``condition`` is true."""
    if not bool(condition):
        fail(what, expected=expected, got=got, hint=hint)


def expect_equal(got: Any, expected: Any, *, what: str, hint: str | None = None) -> None:
    """Fail unless ``got`` equals ``expected`` exactly.

    Arrays and tensors are compared by shape and values (not dtype: check dtypes separately), tuples and lists
    element by element, everything else with ``==``.
    """
    if not _equal(got, expected):
        fail(what, expected=expected, got=got, hint=hint)


def expect_close(got: Any, expected: Any, *, what: str, atol: float = 1e-8, rtol: float = 1e-6,
                 hint: str | None = None) -> None:
    """Fail unless ``got`` has the shape of ``expected`` and is elementwise close to it."""
    got_array = _as_array(got)
    expected_array = _as_array(expected)
    if got_array is None:
        fail(what, expected=expected, got=got, hint=hint or "return numbers (an array, a tensor or a float)")
    if got_array.shape != expected_array.shape:
        fail(f"{what}: wrong shape", expected=expected_array.shape, got=got_array.shape, hint=hint)
    if not np.allclose(got_array.astype(np.float64), expected_array.astype(np.float64), atol=atol, rtol=rtol,
                       equal_nan=False):
        worst = float(np.max(np.abs(got_array.astype(np.float64) - expected_array.astype(np.float64))))
        fail(f"{what} (largest difference {worst:.3g})", expected=expected, got=got, hint=hint)


def run_checks(exercise: Exercise, *answers: Any) -> None:
    """Run every case of ``exercise`` on the student's ``answers``.

    Prints exactly one line, ``✔ <id>: n/n checks passed``, when every case passes.

    Raises:
        CheckFailed: listing every failed case, or saying that the exercise is not implemented yet.
    """
    if not exercise.cases:
        raise ValueError(f"exercise {exercise.id} has no cases: a check that cannot fail is a defect")
    failures: list[str] = []
    for case in exercise.cases:
        try:
            case.run(*answers)
        except NotImplementedError:
            progress.record(exercise.id, passed=False)
            raise CheckFailed(
                f"{FAIL_MARK} {exercise.id}: not implemented yet. Replace the `raise NotImplementedError` line in "
                f"the exercise cell with your code, run that cell, then run this check again."
            ) from None
        except CaseFailure as failure:
            failures.append(f"  • {case.name}: {failure.describe()}")
        except Exception as error:  # the student's code raised while running the case
            where = _last_frame(error)
            failures.append(f"  • {case.name}: your code raised {type(error).__name__}: {error}{where}")
    total = len(exercise.cases)
    progress.record(exercise.id, passed=not failures)
    if failures:
        passed = total - len(failures)
        raise CheckFailed(
            f"{FAIL_MARK} {exercise.id} ({exercise.title}): {passed}/{total} checks passed; failed:\n"
            + "\n".join(failures)
        )
    print(f"{PASS_MARK} {exercise.id}: {total}/{total} checks passed")


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


def _last_frame(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    student = [frame for frame in frames if "course_utils" not in frame.filename.replace("\\", "/")]
    if not student:
        return ""
    frame = student[-1]
    line = f": `{frame.line.strip()}`" if frame.line else ""
    return f" (in {frame.name}{line})"


def _as_array(value: Any) -> np.ndarray | None:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        return None
    return array


def _equal(got: Any, expected: Any) -> bool:
    if isinstance(expected, (np.ndarray, torch.Tensor)) or isinstance(got, (np.ndarray, torch.Tensor)):
        got_array, expected_array = _as_array(got), _as_array(expected)
        return (got_array is not None and expected_array is not None
                and got_array.shape == expected_array.shape and bool(np.array_equal(got_array, expected_array)))
    if isinstance(expected, (tuple, list)):
        return (isinstance(got, (tuple, list)) and len(got) == len(expected)
                and all(_equal(g, e) for g, e in zip(got, expected, strict=False)))
    try:
        return bool(got == expected)
    except Exception:
        return False


def _short(value: Any, limit: int = 300) -> str:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=6, threshold=40, edgeitems=4, linewidth=100):
            text = f"array(shape={value.shape}, dtype={value.dtype}) {np.array2string(value, separator=', ')}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
