"""Checkers of exercises 04.late_fusion_example (build the lecture's network) and 04.rf_quiz (a 3D network's field).

Expected values come from :func:`course_utils.receptive_field.receptive_field` and, for the student's network, from
the autograd measurement :func:`course_utils.receptive_field.empirical_receptive_field` as well.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from course_utils.exercises.ex04_recurrence import FIELD_TOOLS, REFERENCE_RF_RECURRENCE
from course_utils.exercises.framework import Exercise, course, expect_equal, expect_true, fail, forbid, plain
from course_utils.exercises.helpers import int_tuple
from course_utils.receptive_field.analytic import ReceptiveField, ReceptiveFieldError, leaf_layers, receptive_field
from course_utils.receptive_field.empirical import empirical_receptive_field
from course_utils.receptive_field.layers import POINTWISE_LAYERS
from course_utils.receptive_field.plot import growth_steps

LATE_FUSION = Exercise(
    "04.late_fusion_example", "The lecture's 2D late-fusion network, built and measured",
    forbidden=[forbid("must build the network itself", "course_utils.receptive_field.designs:late_fusion_net")],
    substitutes={"rf_recurrence": REFERENCE_RF_RECURRENCE})
RF_QUIZ = Exercise(
    "04.rf_quiz", "Quiz: the receptive field of a small 3D network",
    forbidden=[forbid("must work the fields out, not measure them with the course's tools", *FIELD_TOOLS)],
    substitutes={"rf_recurrence": REFERENCE_RF_RECURRENCE})  # 04.rf_recurrence is graded on its own
EXERCISES = (LATE_FUSION, RF_QUIZ)

CLIP_SHAPE = (3, 20, 64, 64)
LATE_FUSION_SIZES = [(1, 3, 3), (1, 6, 6), (1, 14, 14), (20, 64, 64)]  # the lecture's numbers
QUIZ_INPUT_SHAPE = (3, 16, 112, 112)
QUIZ_KEYS = ("conv2", "conv3", "jump_conv3")


def quiz_network() -> nn.Sequential:
    """Return the quiz network of notebook 04 (its weights do not matter; only its geometry is asked about)."""
    return nn.Sequential(OrderedDict([
        ("conv1", nn.Conv3d(3, 16, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3))), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))),
        ("conv2", nn.Conv3d(16, 32, 3, padding=1)), ("relu2", nn.ReLU()),
        ("pool2", nn.MaxPool3d(2, stride=2)),
        ("conv3", nn.Conv3d(32, 32, 3, padding=(2, 1, 1), dilation=(2, 1, 1))), ("relu3", nn.ReLU()),
    ]))


def _field(net: nn.Module) -> ReceptiveField:
    try:
        return receptive_field(net, CLIP_SHAPE)
    except ReceptiveFieldError as error:
        fail("the network must be a plain nn.Sequential of Conv3d / pooling / ReLU layers", got=str(error),
             hint="no Flatten or Linear at the end: stop at the global average pooling")
    except ValueError as error:
        fail(f"the network does not fit a {CLIP_SHAPE} clip", got=str(error))


@LATE_FUSION.case("returns an nn.Module that maps a 3x20x64x64 clip to one feature vector per video")
def _(build_late_fusion):
    net = build_late_fusion()
    expect_true(isinstance(net, nn.Module), what="build_late_fusion() must return an nn.Module",
                got=type(net).__name__)
    with torch.no_grad():  # checks run on the CPU, on a copy (the student's network stays where it is)
        out = copy.deepcopy(net).cpu().eval()(torch.zeros(2, *CLIP_SHAPE))
    expect_true(isinstance(out, torch.Tensor) and out.dim() == 5 and out.shape[0] == 2
                and tuple(out.shape[2:]) == (1, 1, 1),
                what="output shape on a batch of two (2, 3, 20, 64, 64) clips", expected="(2, channels, 1, 1, 1)",
                got=tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__,
                hint="end with global average pooling over time and space, e.g. nn.AdaptiveAvgPool3d(1)")


@LATE_FUSION.case("the lecture's layers in order: conv, pool, conv, global average pool")
def _(build_late_fusion):
    net = build_late_fusion()
    _field(net)
    kinds = [type(layer).__name__ for _, layer in leaf_layers(net) if not isinstance(layer, POINTWISE_LAYERS)]
    shape_ok = (len(kinds) == 4 and kinds[0] == kinds[2] == "Conv3d" and kinds[1] in ("MaxPool3d", "AvgPool3d")
                and kinds[3] in ("AdaptiveAvgPool3d", "AvgPool3d"))
    expect_true(shape_ok, what="layers that change the field (activations left out)",
                expected=["Conv3d", "MaxPool3d or AvgPool3d", "Conv3d", "AdaptiveAvgPool3d or AvgPool3d"], got=kinds,
                hint="2D layers on a video are Conv3d / MaxPool3d with a temporal kernel of 1; the last layer is "
                     "the global average pooling")


@LATE_FUSION.case("the field grows 1x3x3 -> 1x6x6 -> 1x14x14 -> 20x64x64")
def _(build_late_fusion):
    _, sizes = growth_steps(_field(build_late_fusion()))
    steps = [tuple(int(v) for v in size) for size in sizes[1:]]
    got = [size for index, size in enumerate(steps) if index == 0 or size != steps[index - 1]]
    hint = None
    if got[-1:] == [(20, 62, 62)]:
        hint = "without padding the convolutions shrink the frame and the pooling drops the last columns: pad by 1"
    elif any(size[0] > 1 for size in got[:-1]):
        hint = "a layer before the global pooling mixes frames: use temporal kernel 1, e.g. kernel_size=(1, 3, 3)"
    elif (1, 8, 8) in got or (1, 5, 5) in got:
        hint = "the pooling is 4x4 with stride 4 (non-overlapping windows)"
    expect_equal(got, LATE_FUSION_SIZES, what="field sizes (t, h, w) after each layer that changes the field",
                 hint=hint)


@LATE_FUSION.case("frames are fused only at the end (late fusion)")
def _(build_late_fusion):
    rows = _field(build_late_fusion()).layers
    early = [row.name for row in rows[:-1] if row.size[0] != 1]
    expect_true(not early, what="layers before the last one must see a single frame", expected="temporal size 1",
                got=f"layers {early} see several frames",
                hint="pool and convolve within frames (temporal kernel 1); only the global pooling spans time")


@LATE_FUSION.case("the field measured with autograd covers the whole clip")
def _(build_late_fusion):
    measured = empirical_receptive_field(build_late_fusion(), CLIP_SHAPE)
    expect_equal(measured, LATE_FUSION_SIZES[-1], what="gradient-measured field of the output (t, h, w)",
                 hint="every frame and pixel must reach the output: check padding and the final pooling")


# ------------------------------------------------------------------------------------------------------- the quiz
def _quiz_expected() -> dict[str, tuple[int, int, int]]:
    with course():
        rows = {row.name: row for row in receptive_field(quiz_network(), QUIZ_INPUT_SHAPE).layers}
    return {"conv2": rows["conv2"].size, "conv3": rows["conv3"].size, "jump_conv3": rows["conv3"].jump}


def _quiz_answer(rf_quiz_answers: Callable[[], Any]) -> dict[str, tuple[int, ...]]:
    answer = plain(rf_quiz_answers(), what="rf_quiz_answers()")
    expect_true(isinstance(answer, dict) and set(answer) == set(QUIZ_KEYS),
                what="rf_quiz_answers() must return a dict with exactly the keys " + ", ".join(QUIZ_KEYS),
                got=sorted(answer) if isinstance(answer, dict) else type(answer).__name__)
    triples = {key: int_tuple(answer[key]) for key in QUIZ_KEYS}
    for key, value in triples.items():
        expect_true(value is not None and len(value) == 3, what=f"answer[{key!r}] must be three ints (t, h, w)",
                    got=answer[key])
    return triples


def _quiz_hint(key: str, got: tuple[int, ...], expected: tuple[int, ...]) -> str | None:
    if got == expected[::-1] and got != expected:
        return "give the numbers in the order (t, h, w): time first"
    if key == "conv3" and got[1:] == expected[1:]:
        return ("conv3's 3 taps in time are dilation x jump = 2 x 2 = 4 input frames apart "
                "(pool2 made neighbouring units 2 frames apart)")
    if key == "jump_conv3":
        return "the jump is the product of the strides before and at conv3 (dilation does not change it)"
    return "padding does not change the size of a field; strides change how far apart the next layer's taps are"


@RF_QUIZ.case("the answer is a dict of (t, h, w) triples")
def _(rf_quiz_answers):
    _quiz_answer(rf_quiz_answers)


@RF_QUIZ.case("field of one conv2 unit")
def _(rf_quiz_answers):
    got, expected = _quiz_answer(rf_quiz_answers)["conv2"], _quiz_expected()["conv2"]
    expect_equal(got, expected, what="answer['conv2']", hint=_quiz_hint("conv2", got, expected))


@RF_QUIZ.case("field of one conv3 unit")
def _(rf_quiz_answers):
    got, expected = _quiz_answer(rf_quiz_answers)["conv3"], _quiz_expected()["conv3"]
    expect_equal(got, expected, what="answer['conv3']", hint=_quiz_hint("conv3", got, expected))


@RF_QUIZ.case("jump after conv3")
def _(rf_quiz_answers):
    got, expected = _quiz_answer(rf_quiz_answers)["jump_conv3"], _quiz_expected()["jump_conv3"]
    expect_equal(got, expected, what="answer['jump_conv3']", hint=_quiz_hint("jump_conv3", got, expected))
