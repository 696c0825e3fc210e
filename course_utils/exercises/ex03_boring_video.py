"""Checker of exercise 03.boring_video_check: measuring how far an inflated network is from the fixed point.

The student's ``boring_video_check(model2d, model3d, images, num_frames)`` returns, as a Python float, the largest
absolute difference between ``model2d(images)`` and ``model3d`` on the boring video of ``images`` (``num_frames``
frames), both models in eval mode; when the 3D output keeps a time axis (dim 2), every frame is compared.
"""

from __future__ import annotations

import torch
from torch import nn

from course_utils.exercises.ex03_support import EARLIER_ANSWERS, changed, conv_net, images, resnet, snapshot
from course_utils.exercises.framework import Exercise, course, expect_close, expect_equal, expect_true, forbid
from course_utils.exercises.helpers import expect_number
from course_utils.inflation.fixed_point import boring_video_difference
from course_utils.inflation.inflate import inflate_model

BORING_VIDEO_CHECK = Exercise(
    "03.boring_video_check", "Measuring the boring-video fixed point",
    forbidden=[forbid("must run both models and measure the difference itself",
                      "course_utils.inflation.fixed_point:boring_video_difference",
                      "course_utils.inflation.fixed_point:per_frame_difference",
                      "course_utils.inflation.fixed_point:_outputs")],
    substitutes=EARLIER_ANSWERS)  # 03.inflate_conv and 03.inflate_model are graded on their own


class _Offset(nn.Module):
    """A 3D model whose output is ``inner``'s plus a fixed offset per batch element and frame (B, 1, T, 1, 1)."""

    def __init__(self, inner: nn.Module, offsets: torch.Tensor):
        super().__init__()
        self.inner = inner
        self.register_buffer("offsets", offsets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x) + self.offsets  # (B, C', T, H', W') + (B, 1, T, 1, 1)


def _offset_pair(seed: int, pattern: list[list[float]]):
    """A feature-map model, its exact (replicate) inflation plus per-frame offsets, and images."""
    model2d = conv_net(seed, head=False)
    offsets = torch.tensor(pattern, dtype=torch.float64).view(len(pattern), 1, len(pattern[0]), 1, 1)
    model3d = _Offset(inflate_model(model2d, time_padding_mode="replicate"), offsets)
    return model2d, model3d, images(seed, batch=len(pattern))


def _result(boring_video_check, model2d, model3d, x, num_frames) -> float:
    return expect_number(boring_video_check(model2d, model3d, x, num_frames), kind=float, what="boring_video_check",
                         hint="turn a 0-d tensor into a float with .item() or float(...)")


def _expected(model2d, model3d, x, num_frames) -> float:
    with course():
        return boring_video_difference(model2d, model3d, x, num_frames)


@BORING_VIDEO_CHECK.case("exact inflation (replicate padding): about zero, even with dropout in the model")
def _(boring_video_check):
    model2d = conv_net(30, dropout=0.5)
    model3d = inflate_model(model2d, time_padding_mode="replicate")
    model2d.train()
    model3d.train()
    value = _result(boring_video_check, model2d, model3d, images(31, batch=4), 6)
    expect_true(0.0 <= value < 1e-10, what="difference for an exact inflation", expected="between 0 and 1e-10",
                got=value, hint="compare in eval mode (model.eval()): in training mode dropout is random and "
                                "BatchNorm uses the batch's statistics")


@BORING_VIDEO_CHECK.case("zero padding: the largest absolute difference of the class scores")
def _(boring_video_check):
    for model2d, num_frames in ((conv_net(32), 4), (resnet(33), 6)):
        model3d = inflate_model(model2d)
        x = images(34, batch=3, size=16)
        expected = _expected(model2d, model3d, x, num_frames)
        value = _result(boring_video_check, model2d, model3d, x, num_frames)
        expect_close(value, expected, atol=1e-12, rtol=1e-9, what=f"difference for {type(model2d).__name__}, "
                     f"{num_frames} frames", hint="the maximum of |3D output - 2D output| over every element, "
                                                  "not the mean and not a signed maximum")


@BORING_VIDEO_CHECK.case("feature maps: every frame of every video is compared")
def _(boring_video_check):
    patterns = ([[0.0, 0.1, -0.2, 0.1, 0.0], [0.0, 0.05, 0.3, -0.7, 0.0]],   # largest inside, negative, video 1
                [[-0.9, 0.1, 0.2, 0.1, 0.0], [0.0, 0.0, 0.3, 0.0, 0.4]],     # largest on the first frame
                [[0.0, 0.1, 0.2, 0.1, 0.3], [0.0, 0.0, -0.1, 0.0, 0.6]])     # largest on the last frame
    for number, pattern in enumerate(patterns):
        model2d, model3d, x = _offset_pair(35 + number, pattern)
        value = _result(boring_video_check, model2d, model3d, x, 5)
        expect_close(value, max(abs(v) for row in pattern for v in row), atol=1e-9, rtol=0,
                     what=f"difference for per-frame offsets {pattern}",
                     hint="when the 3D output is (B, C, T, H, W) compare each frame with the 2D output (B, C, H, W): "
                          "out3 - out2.unsqueeze(2); all frames (not only the first, the last or the middle ones), "
                          "all videos, absolute values")


@BORING_VIDEO_CHECK.case("uses num_frames and leaves the models' weights and statistics unchanged")
def _(boring_video_check):
    model2d = resnet(38)
    model3d = inflate_model(model2d)
    before2, before3 = snapshot(model2d), snapshot(model3d)
    x = images(39, batch=2, size=16)
    for num_frames in (3, 8):
        expected = _expected(model2d, model3d, x, num_frames)
        value = _result(boring_video_check, model2d, model3d, x, num_frames)
        expect_close(value, expected, atol=1e-12, rtol=1e-9, what=f"difference with num_frames={num_frames}",
                     hint="build the boring video with num_frames frames")
    expect_equal(changed(model2d, before2) + changed(model3d, before3), [],
                 what="parameters or buffers changed by boring_video_check",
                 hint="a forward pass in training mode updates BatchNorm's running statistics: call .eval() first")


EXERCISES = (BORING_VIDEO_CHECK,)
