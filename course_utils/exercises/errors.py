"""How a check fails: ``CheckFailed`` for the notebook, ``CaseFailure`` (raised by ``fail``) inside one case.

Re-exported by ``course_utils.exercises.framework``, which is where checkers and notebooks import them from.
"""

from __future__ import annotations

from typing import Any, NoReturn

MISSING = object()
"""Marks an ``expected`` or ``got`` that was not given (None is a value a check may expect)."""


class CheckFailed(AssertionError):
    """Raised by a check when the student's answer is wrong or not implemented yet."""


class CaseFailure(Exception):
    """Raised inside a case to report what was expected and what came back."""

    def __init__(self, message: str, *, expected: Any = MISSING, got: Any = MISSING, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.got = got
        self.hint = hint

    def describe(self) -> str:
        """Return the failure as indented lines: message, expected, got, hint."""
        lines = [self.message]
        if self.expected is not MISSING:
            lines.append(f"expected: {short(self.expected)}")
        if self.got is not MISSING:
            lines.append(f"got:      {short(self.got)}")
        if self.hint:
            lines.append(f"hint:     {self.hint}")
        return "\n      ".join(lines)


def fail(message: str, *, expected: Any = MISSING, got: Any = MISSING, hint: str | None = None) -> NoReturn:
    """Fail the current case with a message, and optionally what was expected, what came back and a hint."""
    raise CaseFailure(message, expected=expected, got=got, hint=hint)


def short(value: Any, limit: int = 300) -> str:
    """A one-line description of ``value`` of at most ``limit`` characters; arrays and tensors show shape and dtype.

    The value is shown as plain values (see ``values.plain``), so a student's object cannot choose its own text.
    """
    from course_utils.exercises.values import is_array, plain, to_numpy  # values imports this module

    try:
        value = plain(value)
    except CaseFailure:
        return f"<a {type(value).__name__}>"
    array = to_numpy(value) if is_array(value) else None
    if array is not None:
        import numpy as np

        with np.printoptions(precision=6, threshold=40, edgeitems=4, linewidth=100):
            text = f"array(shape={array.shape}, dtype={array.dtype}) {np.array2string(array, separator=', ')}"
    else:
        text = repr(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
