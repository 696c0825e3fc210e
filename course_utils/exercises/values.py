"""Answers as plain values: what a checker compares, and the comparisons themselves.

A student's answer may be an object that lies: an ``int`` subclass whose ``__eq__`` always says yes, a
``torch.Tensor`` subclass that overrides ``__eq__``, ``allclose`` or ``__torch_function__``, a NumPy subclass.
``plain`` turns every answer into built-in values, a fresh base ``torch.Tensor`` or a fresh base ``np.ndarray``
before anything is compared, using only the base types' own methods (``int.__int__``, ``TensorBase.clone``, ...), so a
subclass's overrides never run. ``same``, ``close`` and ``max_difference`` then compare plain values with NumPy
ufuncs and ``ndarray`` methods captured when this module was imported: ``ndarray`` and ``TensorBase`` are immutable
C types and ufuncs are C objects, so a later ``np.allclose = ...`` or ``torch.Tensor.__eq__ = ...`` in the notebook
changes nothing here. ``primitive_problems`` tells the grader whether the captured primitives are the genuine ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from course_utils.exercises.errors import fail

__all__ = ["close", "finite", "is_array", "max_difference", "plain", "primitive_problems", "same", "to_numpy"]

_TensorBase = torch._C.TensorBase
_AS_SUBCLASS, _CLONE, _DETACH = _TensorBase.as_subclass, _TensorBase.clone, _TensorBase.detach
_CPU, _NUMPY, _RESOLVE_CONJ, _RESOLVE_NEG = _TensorBase.cpu, _TensorBase.numpy, _TensorBase.resolve_conj, \
    _TensorBase.resolve_neg
_TO, _IS_FLOATING = _TensorBase.to, _TensorBase.is_floating_point
_NO_SUBCLASS_DISPATCH = torch._C.DisableTorchFunctionSubclass
_BASE_TENSOR, _ARRAY, _NDARRAY, _GENERIC = torch.Tensor, np.array, np.ndarray, np.generic
_VIEW, _COPY, _ERRSTATE = np.ndarray.view, np.ndarray.copy, np.errstate
_UFUNCS = {name: getattr(np, name) for name in ("equal", "subtract", "absolute", "less_equal", "multiply", "add",
                                                 "logical_or", "isnan", "isfinite")}
_EQUAL, _SUBTRACT, _ABSOLUTE, _LESS_EQUAL, _MULTIPLY, _ADD, _OR, _ISNAN, _ISFINITE = _UFUNCS.values()
_FLOAT64 = np.dtype(np.float64)
_SCALARS = (bool, int, float, complex, str, bytes, type(None))
_OPAQUE = (torch.dtype, torch.device, np.dtype)  # immutable C types, compared by identity or name


def plain(value: Any, *, what: str = "the answer") -> Any:
    """Return ``value`` as built-in values, a fresh base ``torch.Tensor`` or a fresh base ``np.ndarray``.

    Tensors keep their autograd history (``clone`` is differentiable), so a checker can still call ``backward``.
    NumPy scalars become Python ``int``, ``float`` or ``bool``; subclasses of ``int``, ``float``, ``str``, ``tuple``,
    ``list``, ``dict``, tensors and arrays become their base type with the same underlying value.

    Args:
        value: what the student's code returned (or any value a checker compares).
        what: how failure messages name the value.

    Returns:
        The plain value.

    Raises:
        CaseFailure: when the value is not made of numbers, strings, sequences, dicts, arrays or tensors.
    """
    kind = type(value)
    if _one_of(kind, _SCALARS) or _one_of(kind, _OPAQUE):
        return value
    if issubclass(kind, _BASE_TENSOR):
        with _NO_SUBCLASS_DISPATCH():
            return _CLONE(_AS_SUBCLASS(value, _BASE_TENSOR))
    if issubclass(kind, _NDARRAY):
        array = _COPY(_VIEW(value, _NDARRAY))
        if array.dtype.hasobject:
            fail(f"{what} is an array of Python objects", expected="numbers", got=_type_name(value),
                 hint="return an array of numbers (an int or float dtype)")
        return array
    if issubclass(kind, _GENERIC):
        return _GENERIC.item(value)
    if issubclass(kind, int):
        return int.__int__(value)
    if issubclass(kind, float):
        return float.__float__(value)
    if issubclass(kind, str):
        return str.__str__(value)
    if issubclass(kind, tuple):
        return tuple(plain(item, what=what) for item in tuple.__iter__(value))
    if issubclass(kind, list):
        return [plain(item, what=what) for item in list.__iter__(value)]
    if issubclass(kind, dict):
        return {plain(key, what=what): plain(item, what=what) for key, item in dict.items(value)}
    fail(f"{what} is a {_type_name(value)}, not a value that can be checked", got=_type_name(value),
         hint="return numbers, tuples, lists, dicts, NumPy arrays or torch tensors")


def is_array(value: Any) -> bool:
    """Whether a plain value is a tensor or an array."""
    return type(value) is _BASE_TENSOR or type(value) is _NDARRAY


def to_numpy(value: Any, *, what: str = "the answer") -> np.ndarray | None:
    """Return the numbers in ``value`` as a fresh base ``np.ndarray``, or None when ``value`` holds no numbers.

    Tensors are detached and moved to the CPU (bfloat16 and float16 become float32); lists and tuples of numbers
    become arrays.
    """
    value = plain(value, what=what)
    if type(value) is _BASE_TENSOR:
        with _NO_SUBCLASS_DISPATCH():
            tensor = _RESOLVE_NEG(_RESOLVE_CONJ(_CPU(_DETACH(value))))
            if _IS_FLOATING(tensor) and tensor.dtype in (torch.bfloat16, torch.float16):
                tensor = _TO(tensor, torch.float32)
            return _COPY(_NUMPY(tensor))
    if type(value) is not _NDARRAY:
        if _one_of(type(value), (*_OPAQUE, str, bytes, type(None), dict)):
            return None
        try:
            value = _ARRAY(value)
        except (ValueError, TypeError):  # ragged sequences
            return None
    if value.dtype.hasobject or value.dtype.kind not in "biufc":
        return None
    return value


def same(got: Any, expected: Any) -> bool:
    """Whether two values are equal: arrays and tensors by shape and values (any dtype), sequences item by item
    (a tuple equals a list), dicts key by key, everything else with ``==`` on plain values."""
    got, expected = plain(got), plain(expected)
    if is_array(got) or is_array(expected):
        got_array, expected_array = to_numpy(got), to_numpy(expected)
        return (got_array is not None and expected_array is not None and got_array.shape == expected_array.shape
                and bool(_EQUAL(got_array, expected_array).all()))
    if _one_of(type(expected), (tuple, list)):
        return (_one_of(type(got), (tuple, list)) and len(got) == len(expected)
                and all(same(g, e) for g, e in zip(got, expected, strict=True)))
    if type(expected) is dict:
        return (type(got) is dict and set(got) == set(expected)
                and all(same(got[key], expected[key]) for key in expected))
    if _one_of(type(got), (tuple, list, dict)):
        return False
    return bool(got == expected)


def close(got: Any, expected: Any, *, atol: float = 1e-8, rtol: float = 1e-6) -> bool:
    """Whether ``got`` has the shape of ``expected`` and ``|got - expected| <= atol + rtol * |expected|`` everywhere
    (NaN is never close; equal infinities are)."""
    got_array, expected_array = to_numpy(got), to_numpy(expected)
    if got_array is None or expected_array is None or got_array.shape != expected_array.shape:
        return False
    if got_array.dtype.kind == "c" or expected_array.dtype.kind == "c":
        return False
    a, b = got_array.astype(_FLOAT64), expected_array.astype(_FLOAT64)
    with _ERRSTATE(invalid="ignore", over="ignore"):  # inf - inf is NaN, and NaN is never close
        within = _LESS_EQUAL(_ABSOLUTE(_SUBTRACT(a, b)), _ADD(atol, _MULTIPLY(rtol, _ABSOLUTE(b))))
    return bool(_OR(_EQUAL(a, b), within).all())


def finite(value: Any) -> bool:
    """Whether ``value`` holds numbers and every one of them is finite (no NaN, no infinity)."""
    array = to_numpy(value)
    return array is not None and bool(_ISFINITE(array).all())


def max_difference(got: Any, expected: Any) -> float:
    """The largest absolute elementwise difference, as a Python float (NaN when a value is NaN or shapes differ)."""
    got_array, expected_array = to_numpy(got), to_numpy(expected)
    if got_array is None or expected_array is None or got_array.shape != expected_array.shape:
        return float("nan")
    if got_array.size == 0:
        return 0.0
    with _ERRSTATE(invalid="ignore", over="ignore"):
        difference = _ABSOLUTE(_SUBTRACT(got_array.astype(_FLOAT64), expected_array.astype(_FLOAT64)))
    return float("nan") if bool(_ISNAN(difference).any()) else float(difference.max())


def primitive_problems() -> list[str]:
    """Describe every comparison primitive captured at import that is not the genuine NumPy or torch one.

    A ufunc, ``ndarray`` or ``TensorBase`` method cannot be forged in Python (their types are immutable C types), so
    checking the type, the immutability flag and the name is enough. An empty list means all are genuine.
    """
    immutable = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: a class defined in Python never has it
    problems = []
    for name, function in _UFUNCS.items():
        if not (type(function).__flags__ & immutable and type(function).__name__ == "ufunc"
                and function.__name__ == name):
            problems.append(f"numpy.{name} was replaced by {function!r}")
    for method in (_AS_SUBCLASS, _CLONE, _DETACH, _CPU, _NUMPY, _RESOLVE_CONJ, _RESOLVE_NEG, _TO):
        owner = getattr(method, "__objclass__", None)
        if type(method).__name__ != "method_descriptor" or owner is None or not owner.__flags__ & immutable:
            problems.append(f"torch._C.TensorBase method {method!r} is not the genuine one")
    for kind in (_NDARRAY, _TensorBase):
        if not kind.__flags__ & immutable:
            problems.append(f"{kind!r} is not the genuine immutable type")
    return problems


def _one_of(kind: type, kinds: tuple[type, ...]) -> bool:
    """``kind in kinds`` by identity: a metaclass's ``__eq__`` cannot make a class pass for ``int``."""
    return any(kind is candidate for candidate in kinds)


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
