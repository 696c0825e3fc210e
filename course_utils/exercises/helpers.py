"""Helpers shared by the checkers of several notebooks: seeded inputs and tensor answers checked as plain values."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from course_utils.exercises.framework import expect_equal, expect_true, fail, plain
from course_utils.exercises.values import is_array, max_difference, to_numpy

__all__ = ["expect_number", "expect_tensor", "int_tuple", "max_difference", "permutation", "random_tensor"]

TUPLE_HINT = "return one tensor: torch.max(x, dim=...) and torch.topk(...) return (values, indices), keep .values"


def random_tensor(*shape: int, seed: int, scale: float = 1.0) -> torch.Tensor:
    """A float64 standard-normal tensor times ``scale``, identical on every machine for a given seed."""
    generator = torch.Generator().manual_seed(seed)
    return scale * torch.randn(*shape, generator=generator, dtype=torch.float64)


def permutation(num: int, *, seed: int) -> torch.Tensor:
    """A fixed permutation of ``range(num)`` that moves every element (for order tests)."""
    generator = torch.Generator().manual_seed(seed)
    while True:
        order = torch.randperm(num, generator=generator)
        if bool((order != torch.arange(num)).all()):
            return order


def expect_tensor(out: Any, *, shape: tuple[int, ...] | None, what: str, dtype: torch.dtype | None = torch.float64,
                  hint: str | None = None, dtype_hint: str = "don't convert the dtype (no .float(), no .long())",
                  tuple_hint: str = TUPLE_HINT) -> torch.Tensor:
    """Fail unless ``out`` is a tensor of ``shape`` and ``dtype`` (either unchecked when None); return it as a plain
    base tensor.

    The returned tensor keeps its autograd history, so gradients can still be checked through it.
    """
    if isinstance(out, tuple):
        fail(f"{what} returned a tuple of {len(out)} items, not a tensor", expected="one tensor",
             got="tuple", hint=tuple_hint)
    if not issubclass(type(out), torch.Tensor):
        fail(f"{what} must return a torch.Tensor", expected="torch.Tensor", got=type(out).__name__, hint=hint)
    tensor = plain(out, what=what)
    if shape is not None:
        expect_equal(tuple(tensor.shape), shape, what=f"shape of {what}", hint=hint)
    if dtype is not None:
        expect_true(tensor.dtype == dtype, what=f"dtype of {what}", expected=str(dtype), got=str(tensor.dtype),
                    hint=dtype_hint)
    return tensor


def expect_number(value: Any, *, kind: type, what: str, hint: str | None = None) -> int | float:
    """Fail unless ``value`` is a number of ``kind`` (``int`` or ``float``); return it as a plain Python number.

    NumPy scalars of the same kind are accepted (``np.int64`` for ``int``, ``np.float32`` for ``float``); ``bool``,
    tensors and arrays are not.
    """
    numpy_kind = np.integer if kind is int else np.floating
    ok = isinstance(value, (kind, numpy_kind)) and not isinstance(value, (bool, np.bool_))
    if not ok:
        fail(f"{what} must return a{'n' if kind is int else ''} {kind.__name__}", expected=kind.__name__,
             got=type(value).__name__, hint=hint)
    return kind(plain(value, what=what))


def int_tuple(value: Any) -> tuple[int, ...] | None:
    """``value`` (plain) as a tuple of ints if it is a tuple or list of ints or a 1-D integer array, else None."""
    if is_array(value):
        array = to_numpy(value)
        if array is None or array.ndim != 1 or array.dtype.kind not in "iu":
            return None
        return tuple(int(v) for v in array.tolist())
    if isinstance(value, (tuple, list)) and all(type(v) is int for v in value):
        return tuple(value)
    return None
