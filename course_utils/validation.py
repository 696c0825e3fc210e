"""Argument checks shared by the course's public functions: errors that name the argument and what is allowed."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np


def check_int(value: object, name: str, *, minimum: int | None = None) -> int:
    """Return ``value`` as a Python int, or raise a clear error naming ``name``.

    Args:
        value: the argument to check; ``bool`` is refused even though it is an ``int`` subclass.
        name: the argument's name, used in the message.
        minimum: the smallest allowed value, if any.

    Returns:
        ``int(value)``.

    Raises:
        TypeError: if ``value`` is not an integer.
        ValueError: if ``value`` is below ``minimum``.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        allowed = "an int" if minimum is None else f"an int >= {minimum}"
        raise TypeError(f"{name} must be {allowed}, got {type(value).__name__} {value!r}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError naming ``name`` and the choices."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(choice) for choice in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value
