"""Argument validation for the toolkit's public functions: each ``validate_*`` returns the value or raises.

One rule everywhere: a wrong type raises ``TypeError``, a wrong value raises ``ValueError``, and the message names
the argument, says what is allowed and shows what it got, e.g. ``num_segments must be an int >= 1, got float 2.5``.
NumPy integers are accepted wherever an int is; ``bool`` is refused as an int or a number (``True`` segments is a
bug, not a count). ("check" is the exercise check of ``course_utils.exercises``; validation is this module.)
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import numpy as np

if TYPE_CHECKING:
    import torch

T = TypeVar("T")

__all__ = ["describe", "validate_bool", "validate_choice", "validate_instance", "validate_int", "validate_int_array",
           "validate_int_tuple", "validate_number", "validate_tensor"]

_TENSOR_DTYPES = ("floating", "integer")


def describe(value: object) -> str:
    """Say what a value is, briefly, for an error message: ``float 2.5``, ``Tensor of shape (2, 3) and dtype ...``.

    Args:
        value: anything.

    Returns:
        The type's name and the value's repr (at most 60 characters), or for arrays and tensors their shape and dtype.
    """
    kind = type(value).__name__
    if hasattr(value, "shape") and hasattr(value, "dtype") and not np.isscalar(value):
        return f"{kind} of shape {tuple(value.shape)} and dtype {value.dtype}"
    text = repr(value)
    return f"{kind} {text if len(text) <= 60 else text[:57] + '...'}"


def _is_int(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _range_text(minimum: float | None, maximum: float | None, greater_than: float | None = None) -> str:
    """The allowed range in words: ``" >= 1"``, ``" in [1, 4]"``, ``" > 0 and <= 1"``, or ``""`` for any."""
    if minimum is not None and maximum is not None and greater_than is None:
        return f" in [{minimum}, {maximum}]"
    bounds = [f"> {greater_than}" if greater_than is not None else None,
              f">= {minimum}" if minimum is not None else None,
              f"<= {maximum}" if maximum is not None else None]
    return "".join(f" {'and ' if index else ''}{bound}" for index, bound in enumerate(b for b in bounds if b))


def _note(note: str | None) -> str:
    return f" ({note})" if note else ""


def _layout(layout: str | None) -> str:
    return f" {layout}" if layout else ""


def validate_int(value: object, name: str, *, minimum: int | None = None, maximum: int | None = None,
                 note: str | None = None) -> int:
    """Return ``value`` as a Python int, or raise an error that names ``name`` and the allowed range.

    Args:
        value: the argument; a Python or NumPy integer (``bool`` is refused).
        name: the argument's name, used in the message.
        minimum: the smallest allowed value, if any.
        maximum: the largest allowed value, if any.
        note: a few words appended to the allowed range, e.g. ``"K, the number of snippets"``.

    Returns:
        ``int(value)``.

    Raises:
        TypeError: if ``value`` is not an integer.
        ValueError: if ``value`` lies outside ``[minimum, maximum]``.
    """
    allowed = f"an int{_range_text(minimum, maximum)}{_note(note)}"
    if not _is_int(value):
        raise TypeError(f"{name} must be {allowed}, got {describe(value)}")
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return int(value)


def validate_number(value: object, name: str, *, minimum: float | None = None, maximum: float | None = None,
                    greater_than: float | None = None) -> float:
    """Return ``value`` as a Python float, or raise an error that names ``name`` and the allowed range.

    Args:
        value: the argument; a Python or NumPy real number, ints included (``bool`` is refused).
        name: the argument's name, used in the message.
        minimum: the smallest allowed value (inclusive), if any.
        maximum: the largest allowed value (inclusive), if any.
        greater_than: an exclusive lower bound, if any (``greater_than=0`` asks for a positive number).

    Returns:
        ``float(value)``.

    Raises:
        TypeError: if ``value`` is not a real number.
        ValueError: if ``value`` is NaN or out of range.
    """
    allowed = f"a number{_range_text(minimum, maximum, greater_than)}"
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be {allowed}, got {describe(value)}")
    number = float(value)
    if (number != number or (minimum is not None and number < minimum) or (maximum is not None and number > maximum)
            or (greater_than is not None and number <= greater_than)):
        raise ValueError(f"{name} must be {allowed}, got {number}")
    return number


def validate_bool(value: object, name: str) -> bool:
    """Return ``value`` as a Python bool, or raise a TypeError naming ``name``.

    Args:
        value: the argument; ``True``/``False`` or a NumPy bool (``0`` and ``1`` are refused: a flag is not a count).
        name: the argument's name, used in the message.

    Returns:
        ``bool(value)``.

    Raises:
        TypeError: if ``value`` is not a bool.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a bool (True or False), got {describe(value)}")
    return bool(value)


def validate_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``, or raise an error naming ``name`` and listing the choices.

    Args:
        value: the argument, a string.
        name: the argument's name, used in the message.
        choices: the allowed strings.

    Returns:
        ``value``.

    Raises:
        TypeError: if ``value`` is not a string.
        ValueError: if it is not one of ``choices``.
    """
    allowed = "one of " + ", ".join(repr(choice) for choice in choices)
    if not isinstance(value, str):
        raise TypeError(f"{name} must be {allowed}, got {describe(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def validate_instance(value: T, name: str, types: type | tuple[type, ...], *, what: str) -> T:
    """Return ``value`` if it is an instance of ``types``, or raise a TypeError saying ``name`` must be ``what``.

    Args:
        value: the argument.
        name: the argument's name, used in the message.
        types: a class or a tuple of classes (``collections.abc.Callable`` asks for anything callable).
        what: the allowed kinds in words, e.g. ``"an nn.Conv2d"``.

    Returns:
        ``value``, unchanged.

    Raises:
        TypeError: if ``value`` is not an instance of ``types``.
    """
    if not isinstance(value, types):
        raise TypeError(f"{name} must be {what}, got {describe(value)}")
    return value


def _count_text(length: int | tuple[int, int] | None) -> str:
    if length is None:
        return ""
    return f"{length} " if isinstance(length, int) else f"{length[0]} to {length[1]} "


def validate_int_tuple(value: object, name: str, *, length: int | tuple[int, int] | None = None,
                       minimum: int | None = None, layout: str | None = None) -> tuple[int, ...]:
    """Return ``value`` as a tuple of Python ints, or raise an error naming ``name``.

    Args:
        value: a sequence (tuple, list, ``torch.Size``) or a 1-D NumPy array of integers (``bool`` is refused).
        name: the argument's name, used in the message.
        length: the required number of entries, or an inclusive ``(fewest, most)`` range; any if None.
        minimum: the smallest allowed entry, if any.
        layout: what the entries mean, e.g. ``"(t, h, w)"``, quoted in the message.

    Returns:
        ``tuple(int(v) for v in value)``.

    Raises:
        TypeError: if ``value`` is not a sequence of integers (a string is not).
        ValueError: if it has the wrong length or an entry below ``minimum``.
    """
    allowed = f"a tuple of {_count_text(length)}ints{_range_text(minimum, None)}{_layout(layout)}"
    is_array = isinstance(value, np.ndarray) and value.ndim == 1
    if not is_array and (isinstance(value, (str, bytes)) or not isinstance(value, Sequence)):
        raise TypeError(f"{name} must be {allowed}, got {describe(value)}")
    if not all(_is_int(entry) for entry in value):
        raise TypeError(f"{name} must be {allowed}, got {describe(value)}")
    entries = tuple(int(entry) for entry in value)
    wrong_length = length is not None and (
        len(entries) != length if isinstance(length, int) else not length[0] <= len(entries) <= length[1])
    if wrong_length or (minimum is not None and any(entry < minimum for entry in entries)):
        raise ValueError(f"{name} must be {allowed}, got {entries}")
    return entries


def validate_int_array(value: object, name: str, *, ndim: int | tuple[int, ...] | None, minimum: int | None = None,
                       below: int | None = None, allow_empty: bool = True, layout: str | None = None) -> np.ndarray:
    """Return ``value`` as an int64 NumPy array, or raise an error naming ``name``.

    Args:
        value: integers as a list, tuple, NumPy array or CPU tensor (``bool`` arrays are refused; an empty list is
            accepted when ``allow_empty``).
        name: the argument's name, used in the message.
        ndim: the required number of dimensions, or a tuple of the allowed ones; any if None.
        minimum: the smallest allowed entry, if any.
        below: every entry must be smaller than this, if given (e.g. the number of frames).
        allow_empty: whether an array without entries is allowed.
        layout: what the dimensions mean, e.g. ``"(num_clips, clip_len)"``, quoted in the message.

    Returns:
        An int64 array with the same shape.

    Raises:
        TypeError: if ``value`` does not hold integers.
        ValueError: if it has the wrong number of dimensions, no entries (when not allowed), or an entry out of range.
    """
    ndims = () if ndim is None else (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if minimum is not None and below is not None:
        values = f" in [{minimum}, {below})"
    elif minimum is not None or below is not None:
        values = f" >= {minimum}" if minimum is not None else f" < {below}"
    else:
        values = ""
    dims = "".join(f"{n}-D or " for n in ndims)[:-3]  # "1-D or 2-D " (or "" for any)
    kind = f"{dims}array of ints{values}{_layout(layout)}"
    allowed = f"an {kind}" if not ndims else f"a {kind}"
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        array = np.asarray(value)
    except ValueError:  # a ragged nested list
        raise TypeError(f"{name} must be {allowed}, got {describe(value)}") from None
    if array.dtype == np.bool_ or (array.size and not np.issubdtype(array.dtype, np.integer)):
        raise TypeError(f"{name} must be {allowed}, got {describe(value)}")
    if ndims and array.ndim not in ndims:
        raise ValueError(f"{name} must be {allowed}, got shape {array.shape}")
    if not array.size:
        if not allow_empty:
            raise ValueError(f"{name} must be a non-empty {kind}, got shape {array.shape}")
        return array.astype(np.int64)
    low, high = int(array.min()), int(array.max())
    if (minimum is not None and low < minimum) or (below is not None and high >= below):
        raise ValueError(f"{name} must be {allowed}, got values from {low} to {high}")
    return array.astype(np.int64)


def validate_tensor(value: object, name: str, *, ndim: int | tuple[int, ...] | None = None, layout: str | None = None,
                    dtype: str | torch.dtype | None = None) -> torch.Tensor:
    """Return ``value`` if it is a tensor of the right rank and dtype, or raise an error naming ``name``.

    Args:
        value: the argument.
        name: the argument's name, used in the message.
        ndim: the required number of dimensions, or a tuple of the allowed ones; any if None.
        layout: what the dimensions mean, e.g. ``"(B, K, C)"``, quoted in the messages.
        dtype: ``"floating"`` (any floating-point dtype), ``"integer"`` (any integer dtype, not bool), one
            ``torch.dtype``, or None for any.

    Returns:
        ``value``, unchanged.

    Raises:
        TypeError: if ``value`` is not a ``torch.Tensor`` or has the wrong dtype.
        ValueError: if it has the wrong number of dimensions.
    """
    import torch

    shape = _layout(layout)
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor{shape}, got {describe(value)}")
    if ndim is not None and value.dim() not in ((ndim,) if isinstance(ndim, int) else ndim):
        dims = ndim if isinstance(ndim, int) else " or ".join(map(str, ndim))
        raise ValueError(f"{name} must have {dims} dimensions{shape}, got shape {tuple(value.shape)}")
    if dtype is None:
        return value
    if isinstance(dtype, str) and dtype not in _TENSOR_DTYPES:
        raise ValueError(f"dtype must be one of {_TENSOR_DTYPES} or a torch.dtype, got {dtype!r}")
    floating = value.is_floating_point()
    integer = not floating and not value.is_complex() and value.dtype != torch.bool
    if (dtype == "floating" and not floating) or (dtype == "integer" and not integer) or (
            not isinstance(dtype, str) and value.dtype != dtype):
        wanted = {"floating": "a floating-point", "integer": "an integer"}.get(dtype, f"a {dtype}")
        raise TypeError(f"{name} must be {wanted} tensor, got dtype {value.dtype}")
    return value
