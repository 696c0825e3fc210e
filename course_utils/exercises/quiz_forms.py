"""The forms a quiz answer can take: each turns a student's value into normalised keys, or says what is expected.

A form never compares the student's object with anything: it converts the value to plain Python values (``int``,
``float``, ``str``; numpy scalars, 0-d arrays and 0-d tensors count as numbers) and writes them as a canonical text,
the *key*. The quiz hashes the keys (``course_utils.exercises.quiz``), so a lying ``__eq__`` gains nothing.

* ``Choice("abcd")``: one letter (or option name), case-insensitive: ``"b"``, ``"B"``, ``" (b) "``.
* ``Choices(("max", "average", ...))``: a set of option names, order and case ignored, ``-``/``_``/space alike.
* ``Integer()``: one whole number; ``3``, ``np.int64(3)`` and ``3.0`` are the same answer.
* ``Integers(ordered=True, length=3)``: a sequence of whole numbers, e.g. ``(0, 2, 3)``; ``ordered=False`` makes it
  a set (``{3, 4, 5}``, a list or a tuple in any order, duplicates ignored).
* ``Number(tolerance=0.01)``: a real number; an answer is accepted when it lies within ``tolerance`` of the accepted
  value rounded to a multiple of ``tolerance`` (within ``tolerance / 2`` of the exact value always passes, farther
  than ``1.5 * tolerance`` never does).

A value of the wrong type, an unknown option or a wrong length raises ``Malformed`` with the form expected.
"""

from __future__ import annotations

import math
import numbers
import re
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np


class Malformed(ValueError):
    """The answer is not in the expected form (wrong type, unknown option, wrong length)."""


def _describe(value: Any) -> str:
    text = repr(value)
    text = text if len(text) <= 80 else text[:79] + "…"
    return f"{text} ({type(value).__name__})"


def _scalar(value: Any) -> Any:
    """Return ``value`` as a built-in scalar when it is a numpy scalar, a 0-d array or a 0-d tensor; else unchanged."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        if value.dim() != 0:
            return value
        value = value.detach().cpu().numpy()
    if isinstance(value, (np.generic, np.ndarray)):
        array = np.asarray(value)
        return np.ndarray.item(array) if array.ndim == 0 else value
    return value


def plain_number(value: Any, *, what: str) -> float | int:
    """Return a real number as a built-in ``int`` or ``float``; raise ``Malformed`` for anything else.

    Args:
        value: the student's value (int, float, numpy scalar, 0-d array or tensor).
        what: how to name the expected form in the message.
    """
    value = _scalar(value)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        extra = ": write the number without quotes" if isinstance(value, str) else ""
        raise Malformed(f"{what}; got {_describe(value)}{extra}")
    if isinstance(value, numbers.Integral):
        return int.__index__(int(value))
    number = float.__float__(float(value))
    if not math.isfinite(number):
        raise Malformed(f"{what}; got {_describe(value)}, which is not a finite number")
    return number


def plain_integer(value: Any, *, what: str) -> int:
    """Return a whole number (``3``, ``np.int64(3)``, ``3.0``) as a built-in ``int``; raise ``Malformed`` otherwise."""
    number = plain_number(value, what=what)
    if isinstance(number, float):
        if not number.is_integer():
            raise Malformed(f"{what}; got {_describe(value)}, which is not a whole number")
        number = int(number)
    return number


def _option_name(text: str) -> str:
    return re.sub(r"[\s_\-]+", "_", text.strip().lower()).strip("_")


class Form:
    """Base class of answer forms: ``keys`` normalises a student's value, ``key`` an author's exact answer."""

    expected: str = ""
    """What the answer must look like, for messages (e.g. ``"one of the letters 'a', 'b', 'c', as a string"``)."""

    def keys(self, value: Any) -> tuple[str, ...]:
        """Return the keys under which ``value`` is looked up, nearest first; raise ``Malformed``."""
        return (self.key(value),)

    def key(self, value: Any) -> str:
        """Return the key of an author's exact answer."""
        raise NotImplementedError

    def show(self, value: Any) -> str:
        """Return a well-formed answer as plain text for messages (the student's object never prints itself)."""
        return self.key(value)

    @property
    def signature(self) -> str:
        """A text naming the form and its parameters; part of every hash, so changing the form voids the hashes."""
        raise NotImplementedError


class Choice(Form):
    """One option among ``options`` (a string of letters such as ``"abcd"`` or a sequence of names)."""

    def __init__(self, options: str | Sequence[str]) -> None:
        normalised = tuple(_option_name(name) for name in options)  # a string is a sequence of letters
        if len(normalised) < 2 or len(set(normalised)) != len(normalised) or not all(normalised):
            raise ValueError(f"options must be at least two distinct non-empty names, got {options!r}")
        self.options = normalised
        listed = ", ".join(repr(name) for name in self.options)
        self.expected = f"one of {listed}, as a string (e.g. {self.options[0]!r})"

    def key(self, value: Any) -> str:
        value = _scalar(value)
        if not isinstance(value, str):
            raise Malformed(f"the answer must be {self.expected}; got {_describe(value)}")
        name = _option_name(str.__str__(value).strip().strip("().").strip())
        if name not in self.options:
            raise Malformed(f"the answer must be {self.expected}; {value!r} is not one of the options")
        return name

    def show(self, value: Any) -> str:
        return repr(self.key(value))

    @property
    def signature(self) -> str:
        return "choice:" + ",".join(self.options)


class Choices(Form):
    """A set of options among ``options``, in any order: ``{"max", "top_k"}``; ``set()`` when none applies."""

    def __init__(self, options: Sequence[str]) -> None:
        if isinstance(options, str):
            raise TypeError("options must be a sequence of option names, not one string")
        normalised = tuple(_option_name(name) for name in options)
        if len(normalised) < 2 or len(set(normalised)) != len(normalised) or not all(normalised):
            raise ValueError(f"options must be at least two distinct non-empty names, got {options!r}")
        self.options = normalised
        listed = ", ".join(repr(name) for name in self.options)
        self.expected = (f"a set of options among {listed} (e.g. {{{self.options[0]!r}, {self.options[1]!r}}}; "
                         "set() for none)")

    def key(self, value: Any) -> str:
        if isinstance(value, str) or not isinstance(value, (set, frozenset, list, tuple)):
            raise Malformed(f"the answer must be {self.expected}; got {_describe(value)}")
        chosen = set()
        for item in value:
            item = _scalar(item)
            if not isinstance(item, str) or _option_name(str.__str__(item)) not in self.options:
                raise Malformed(f"the answer must be {self.expected}; {item!r} is not one of the options")
            chosen.add(_option_name(str.__str__(item)))
        return ",".join(sorted(chosen))

    def show(self, value: Any) -> str:
        key = self.key(value)
        return "{" + ", ".join(repr(name) for name in key.split(",")) + "}" if key else "set()"

    @property
    def signature(self) -> str:
        return "choices:" + ",".join(self.options)


class Integer(Form):
    """One whole number."""

    expected = "a whole number (e.g. 12)"

    def key(self, value: Any) -> str:
        return str(plain_integer(value, what=f"the answer must be {self.expected}"))

    @property
    def signature(self) -> str:
        return "integer"


class Integers(Form):
    """Whole numbers: an ordered sequence (``ordered=True``) or a set; ``length`` fixes how many (None: any)."""

    def __init__(self, *, ordered: bool, length: int | None = None) -> None:
        if length is not None and (not isinstance(length, int) or length < 1):
            raise ValueError(f"length must be None or an int >= 1, got {length!r}")
        self.ordered, self.length = bool(ordered), length
        how_many = f"{length} whole numbers" if length else "whole numbers"
        self.expected = (f"a tuple of {how_many} in order (e.g. (0, 2, 3))" if ordered else
                         f"a set of {how_many} (e.g. {{3, 4, 5}}; order does not matter)")

    def key(self, value: Any) -> str:
        torch = sys.modules.get("torch")
        if torch is not None and isinstance(value, torch.Tensor):
            value = value.detach().cpu().numpy()
        containers = (list, tuple, range, np.ndarray) + (() if self.ordered else (set, frozenset))
        if not isinstance(value, containers) or (isinstance(value, np.ndarray) and value.ndim != 1):
            unordered = " (a set has no order)" if isinstance(value, (set, frozenset)) else ""
            raise Malformed(f"the answer must be {self.expected}{unordered}; got {_describe(value)}")
        numbers_ = [plain_integer(item, what=f"the answer must be {self.expected}") for item in value]
        if not self.ordered:
            numbers_ = sorted(set(numbers_))
        if self.length is not None and len(numbers_) != self.length:
            raise Malformed(f"the answer must be {self.expected}; got {len(numbers_)} distinct number(s)"
                            if not self.ordered else
                            f"the answer must be {self.expected}; got {len(numbers_)} number(s)")
        return ",".join(str(number) for number in numbers_)

    def show(self, value: Any) -> str:
        numbers_ = self.key(value).replace(",", ", ")
        return f"({numbers_})" if self.ordered else (f"{{{numbers_}}}" if numbers_ else "set()")

    @property
    def signature(self) -> str:
        return f"integers:ordered={self.ordered},length={self.length}"


class Number(Form):
    """A real number, accepted within ``tolerance`` of the accepted value rounded to a multiple of ``tolerance``."""

    def __init__(self, *, tolerance: float) -> None:
        if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not tolerance > 0:
            raise ValueError(f"tolerance must be a number > 0, got {tolerance!r}")
        self.tolerance = float(tolerance)
        self.expected = f"a number such as 1.5 (answers within {self.tolerance:g} of the value are accepted)"

    def _value(self, value: Any) -> float:
        return float(plain_number(value, what=f"the answer must be {self.expected}"))

    def key(self, value: Any) -> str:
        return str(round(self._value(value) / self.tolerance))

    def keys(self, value: Any) -> tuple[str, ...]:
        number, step = self._value(value), self.tolerance
        grid = range(math.floor(number / step) - 1, math.ceil(number / step) + 2)
        near = sorted((abs(number - q * step), q) for q in grid if abs(number - q * step) <= step * (1 + 1e-9))
        return tuple(str(q) for _, q in near)

    def show(self, value: Any) -> str:
        return repr(self._value(value))

    @property
    def signature(self) -> str:
        return f"number:{self.tolerance!r}"
