"""Checker of exercise 04.rf_recurrence: the per-layer receptive field recurrence.

The student writes ``rf_recurrence(layers)``: ``layers`` is a list of ``(kernel, stride, dilation)``, each a tuple
with one int per dimension; it returns one ``(size, jump)`` pair of tuples per layer. Expected values come from
:func:`course_utils.receptive_field.receptive_field` run on the equivalent convolution stack.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from torch import nn

from course_utils.exercises.framework import (
    Exercise,
    course,
    course_reference,
    expect_equal,
    expect_true,
    fail,
    forbid,
    plain,
)
from course_utils.exercises.helpers import int_tuple
from course_utils.exercises.values import is_array
from course_utils.receptive_field.analytic import receptive_field

FIELD_TOOLS = ("course_utils.receptive_field.analytic:receptive_field",
               "course_utils.receptive_field.empirical:empirical_receptive_field",
               "course_utils.receptive_field.empirical:input_gradient",
               "course_utils.receptive_field.empirical:gradient_bounds")
"""The course's tools that compute or measure a receptive field: the recurrence exercises forbid them."""

RF_RECURRENCE = Exercise(
    "04.rf_recurrence", "The receptive field recurrence, layer by layer",
    forbidden=[forbid("must run the recurrence itself", *FIELD_TOOLS)])
EXERCISES = (RF_RECURRENCE,)

Layer = tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}

LATE_FUSION_LAYERS: list[Layer] = [((1, 3, 3), (1, 1, 1), (1, 1, 1)),   # 3x3 conv on every frame
                                   ((1, 4, 4), (1, 4, 4), (1, 1, 1)),   # 4x4 pooling, stride 4
                                   ((1, 3, 3), (1, 1, 1), (1, 1, 1))]   # 3x3 conv


def reference_fields(layers: Sequence[Layer]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Return ``(size, jump)`` per layer, computed by walking an equivalent stack of 1-channel convolutions."""
    if not layers:
        return []
    ndim = len(layers[0][0])
    prod_strides = [math.prod(layer[1][dim] for layer in layers) for dim in range(ndim)]
    reach = [sum(layer[2][dim] * (layer[0][dim] - 1) for layer in layers) for dim in range(ndim)]
    # large enough that every output has 4 or more units
    shape = (1, *((r + 4) * s for r, s in zip(reach, prod_strides, strict=True)))
    net = nn.Sequential(*(_CONV[ndim](1, 1, k, stride=s, dilation=d, bias=False) for k, s, d in layers))
    return [(row.size, row.jump) for row in receptive_field(net, shape).layers]


def _sanitize_layers(layers: Any) -> tuple[tuple, dict]:
    """The argument of ``rf_recurrence`` as plain nested tuples of ints, or TypeError."""
    layers = plain(layers, what="layers")
    if not isinstance(layers, (list, tuple)) or not all(
            isinstance(layer, (list, tuple)) and len(layer) == 3
            and all(isinstance(part, (list, tuple)) and all(type(v) is int for v in part) for part in layer)
            for layer in layers):
        raise TypeError("layers must be a list of (kernel, stride, dilation) tuples of ints")
    return (tuple(tuple(tuple(part) for part in layer) for layer in layers),), {}


REFERENCE_RF_RECURRENCE = course_reference(reference_fields, sanitize=_sanitize_layers)
"""The course's ``rf_recurrence``, bound under that name while a later exercise of notebook 04 is checked."""


def _expected(layers: Sequence[Layer]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    with course():
        return reference_fields(layers)


def _answer(rf_recurrence: Callable[..., Any], layers: list[Layer], what: str) -> list[tuple[tuple, tuple]]:
    """Call the student's function on a copy of ``layers`` and check the answer's structure."""
    given = copy.deepcopy(layers)
    result = plain(rf_recurrence(given), what=f"{what}: the answer")
    expect_true(isinstance(result, (list, tuple)), what=f"{what}: rf_recurrence must return a list",
                expected="a list with one (size, jump) pair per layer", got=type(result).__name__)
    expect_equal(len(result), len(layers), what=f"{what}: one (size, jump) pair per layer")
    ndim = len(layers[0][0]) if layers else 0
    rows = []
    for index, pair in enumerate(result):
        ok = isinstance(pair, (tuple, list)) and len(pair) == 2 and all(
            (isinstance(part, (tuple, list)) or is_array(part)) and len(part) == ndim for part in pair)
        expect_true(ok, what=f"{what}: entry {index} must be a (size, jump) pair of tuples with {ndim} ints",
                    got=pair)
        size, jump = (int_tuple(part) for part in pair)
        expect_true(size is not None and jump is not None, what=f"{what}: sizes and jumps must be ints",
                    got=pair, hint="use integer arithmetic (* and +), not /")
        rows.append((size, jump))
    expect_equal(given, layers, what=f"{what}: rf_recurrence must not modify its argument")
    return rows


@RF_RECURRENCE.case("the lecture's late-fusion stack: 1x3x3, then 1x6x6, then 1x14x14")
def _(rf_recurrence):
    got = [size for size, _ in _answer(rf_recurrence, LATE_FUSION_LAYERS, "late-fusion stack")]
    expected = [size for size, _ in _expected(LATE_FUSION_LAYERS)]
    hint = None
    if got and got[-1] == (1, 8, 8):
        hint = "the last 3x3 conv adds (k - 1) * jump = 2 * 4 positions: the pooling made neighbours 4 pixels apart"
    elif got and got[-1] == (1, 6, 6):
        hint = "is the jump updated only after the layer's own size? the 4x4 pool has stride 4"
    expect_equal(got, expected, what="field sizes (t, h, w) after each layer", hint=hint)


@RF_RECURRENCE.case("a layer's own stride does not widen its own field")
def _(rf_recurrence):
    layers = [((3, 3, 3), (2, 2, 2), (1, 1, 1)), ((3, 3, 3), (1, 1, 1), (1, 1, 1))]
    got = [size for size, _ in _answer(rf_recurrence, layers, "3x3x3 stride 2, then 3x3x3")]
    expected = [size for size, _ in _expected(layers)]
    expect_equal(got, expected, what="field sizes after 3x3x3 stride 2, then 3x3x3",
                 hint="grow the size with the jump of the layer's input first, then multiply the jump by the stride"
                 if got == [(5, 5, 5), (9, 9, 9)] else None)


@RF_RECURRENCE.case("dilation spreads the kernel: a 3x3 kernel with dilation 2 spans 5")
def _(rf_recurrence):
    layers = [((3, 3), (1, 1), (2, 2)), ((3, 1), (2, 1), (1, 1)), ((3, 3), (1, 1), (3, 1))]
    got = [size for size, _ in _answer(rf_recurrence, layers, "dilated stack")]
    expected = [size for size, _ in _expected(layers)]
    expect_equal(got, expected, what="field sizes (h, w) of a dilated stack",
                 hint="a kernel k with dilation d covers d * (k - 1) + 1 positions, so it adds (k - 1) * d * jump")


@RF_RECURRENCE.case("the jump is the product of the strides so far")
def _(rf_recurrence):
    layers = [((1, 3, 3), (1, 2, 2), (1, 1, 1)), ((3, 1, 1), (2, 1, 1), (1, 1, 1)),
              ((2, 2, 2), (2, 3, 2), (1, 2, 1)), ((1, 1, 1), (1, 1, 1), (1, 1, 1))]
    got = [jump for _, jump in _answer(rf_recurrence, layers, "strided stack")]
    expected = [jump for _, jump in _expected(layers)]
    expect_equal(got, expected, what="jumps (t, h, w) after each layer",
                 hint="the jump multiplies by the stride; dilation spreads the kernel but does not change the jump")


@RF_RECURRENCE.case("each dimension follows its own layers, in input order")
def _(rf_recurrence):
    layers = [((5, 1, 3), (1, 2, 1), (1, 1, 1)), ((1, 3, 3), (1, 1, 2), (1, 1, 1)),
              ((3, 3, 1), (2, 1, 1), (2, 1, 1)), ((3, 3, 3), (1, 1, 1), (1, 1, 1))]
    expected = _expected(layers)
    expect_equal(_answer(rf_recurrence, layers, "asymmetric stack"), expected,
                 what="(size, jump) per layer for kernels, strides and dilations that differ per dimension",
                 hint="keep one running size and jump per dimension, in the order (t, h, w) they are given")


@RF_RECURRENCE.case("one-dimensional layers and an empty stack")
def _(rf_recurrence):
    layers = [((4,), (2,), (1,)), ((3,), (3,), (2,)), ((1,), (1,), (1,)), ((2,), (1,), (1,))]
    expect_equal(_answer(rf_recurrence, layers, "1D stack"), _expected(layers),
                 what="(size, jump) per layer of a 1D stack", hint="do not assume three dimensions")
    expect_equal(_answer(rf_recurrence, [], "empty stack"), [], what="rf_recurrence([])",
                 hint="no layers, no rows")


@RF_RECURRENCE.case("random stacks of 1 to 7 layers in 1, 2 and 3 dimensions")
def _(rf_recurrence):
    rng = np.random.default_rng(4)
    for trial in range(30):
        ndim = int(rng.integers(1, 4))
        layers = [tuple(tuple(int(v) for v in rng.integers(1, high, size=ndim)) for high in (6, 4, 3))
                  for _ in range(int(rng.integers(1, 8)))]
        got = _answer(rf_recurrence, layers, f"random stack {trial}")
        expected = _expected(layers)
        if got != expected:
            fail(f"random stack {trial} {layers}: (size, jump) per layer differ", expected=expected, got=got)


@RF_RECURRENCE.case("calls are independent: the same stack gives the same answer twice")
def _(rf_recurrence):
    first = _answer(rf_recurrence, LATE_FUSION_LAYERS, "first call")
    second = _answer(rf_recurrence, LATE_FUSION_LAYERS, "second call")
    expect_equal(second, first, what="the second call's answer", hint="start from size 1 and jump 1 on every call")
