"""Checker of exercise 03.inflate_conv: I3D inflation of one Conv2d (mean init, zero time padding Kt // 2).

The student's ``inflate_conv(conv2d, time_kernel)`` returns an ``nn.Conv3d`` whose weight (O, C / groups, Kt, kh, kw)
repeats the 2D weight Kt times along time divided by Kt, with the bias copied unchanged, the 2D layer's spatial
stride, padding, dilation and groups, time stride 1 and zero time padding Kt // 2.
"""

from __future__ import annotations

import torch
from torch import nn

from course_utils.exercises.ex03_support import conv3d_of, images, randomize, shares_memory
from course_utils.exercises.framework import (
    Exercise,
    expect_close,
    expect_equal,
    expect_true,
    fail,
    forbid,
    plain,
    same,
)
from course_utils.inflation.fixed_point import boring_video, zero_padding_edge_factors

INFLATE_CONV = Exercise(
    "03.inflate_conv", "Inflating a Conv2d into a Conv3d (I3D)",
    forbidden=[forbid("must build the Conv3d and its inflated weight itself",
                      "course_utils.inflation.inflate:inflate_conv",
                      "course_utils.inflation.inflate:inflate_weight",
                      "course_utils.inflation.inflate:inflate_model",
                      "course_utils.inflation.inflate:TimePaddedConv3d")])


def _conv2d(seed: int, **options) -> nn.Conv2d:
    settings = {"in_channels": 4, "out_channels": 6, "kernel_size": (3, 5), "padding": (1, 2), **options}
    return randomize(nn.Conv2d(**settings), seed).double()


def _inflate(inflate_conv, conv2d: nn.Conv2d, time_kernel: int) -> nn.Conv3d:
    return conv3d_of(inflate_conv(conv2d, time_kernel), f"inflate_conv(conv2d, {time_kernel})")


def _boring_outputs(inflate_conv, conv2d: nn.Conv2d, time_kernel: int, num_frames: int = 7):
    """2D output (B, O, H', W') and the inflated layer's output (B, O, T', H', W') on the boring video."""
    x = images(3, size=11, channels=4)
    layer = inflate_conv(conv2d, time_kernel)
    with torch.no_grad():
        out2, out3 = conv2d(x), layer(boring_video(x, num_frames))
    if not isinstance(out3, torch.Tensor):
        fail(f"the layer returned by inflate_conv(conv2d, {time_kernel}) returned a {type(out3).__name__}",
             expected="a tensor (B, O, T, H', W')")
    return out2, plain(out3)


@INFLATE_CONV.case("weight shape is (O, C, Kt, kh, kw)")
def _(inflate_conv):
    conv2d = _conv2d(0)
    for kt in (3, 5):
        w3 = plain(_inflate(inflate_conv, conv2d, kt).weight)
        expect_equal(tuple(w3.shape), (6, 4, kt, 3, 5), what=f"weight shape for time_kernel={kt}",
                     hint="the new time axis goes at dim 2, before the spatial kernel: w2.unsqueeze(2)")
        expect_true(w3.dtype == conv2d.weight.dtype, what="weight dtype", expected=conv2d.weight.dtype, got=w3.dtype,
                    hint="create the Conv3d with dtype=conv2d.weight.dtype and device=conv2d.weight.device")


@INFLATE_CONV.case("every temporal slice equals w2 / Kt")
def _(inflate_conv):
    conv2d = _conv2d(1)
    for kt in (1, 3, 5):
        w3 = plain(_inflate(inflate_conv, conv2d, kt).weight).detach()
        for t in range(kt):
            expect_close(w3[:, :, t], conv2d.weight.detach() / kt, atol=1e-12, rtol=1e-10,
                         what=f"weight[:, :, {t}] for time_kernel={kt}",
                         hint="repeat the 2D kernel Kt times along time and divide by Kt (not by kh*kw*Kt, "
                              "not by sqrt(Kt), not by the channels)")


@INFLATE_CONV.case("bias copied unchanged (or None when the 2D layer has none)")
def _(inflate_conv):
    conv2d = _conv2d(2)
    bias = _inflate(inflate_conv, conv2d, 3).bias
    expect_true(bias is not None, what="the 3D layer has no bias although the 2D layer has one",
                hint="nn.Conv3d(..., bias=conv2d.bias is not None)")
    expect_close(bias, conv2d.bias.detach(), atol=1e-12, rtol=1e-10, what="bias",
                 hint="the bias is added once per output, whatever Kt: copy it, do not divide it by Kt")
    no_bias = _inflate(inflate_conv, _conv2d(2, bias=False), 3).bias
    expect_true(no_bias is None, what="bias of an inflated bias-free conv", expected=None, got="a bias tensor")


@INFLATE_CONV.case("a new weight of its own: trainable, contiguous, the 2D layer untouched")
def _(inflate_conv):
    conv2d = _conv2d(3)
    before_w, before_b = conv2d.weight.detach().clone(), conv2d.bias.detach().clone()
    layer = inflate_conv(conv2d, 3)
    w3 = conv3d_of(layer, "inflate_conv(conv2d, 3)").weight
    expect_true(same(conv2d.weight.detach(), before_w) and same(conv2d.bias.detach(), before_b),
                what="the 2D layer's weight or bias changed", hint="do not modify conv2d in place (no .div_)")
    expect_true(isinstance(w3, nn.Parameter) and any(p is w3 for p in layer.parameters()),
                what="the inflated weight is not a parameter of the returned layer",
                hint="copy the weight into the Conv3d's own parameter: conv3d.weight.copy_(...) under no_grad")
    expect_true(not shares_memory(w3, conv2d.weight), what="the 3D weight shares memory with the 2D weight",
                hint="build a new tensor (repeat, or clone the expanded one) instead of a view of conv2d.weight")
    base = torch._C.TensorBase  # the base class's methods: a subclass cannot answer for the weight
    expect_true(base.is_contiguous(w3), what="the 3D weight is not contiguous (a stride-0 expand() view?)",
                expected="a contiguous tensor", got=f"strides {tuple(base.stride(w3))}",
                hint="expand() repeats nothing in memory: all Kt slices would be one tensor; use repeat() or "
                     "copy the expanded tensor into the Conv3d's weight")


@INFLATE_CONV.case("boring video: interior frames reproduce the 2D output")
def _(inflate_conv):
    conv2d = _conv2d(4)
    for kt in (3, 5):
        out2, out3 = _boring_outputs(inflate_conv, conv2d, kt)
        expect_equal(tuple(out3.shape), (out2.shape[0], out2.shape[1], 7, *out2.shape[2:]),
                     what=f"output shape on a 7-frame video, time_kernel={kt}",
                     hint="time stride 1 and time padding Kt // 2 keep the number of frames; the spatial size must "
                          "be the 2D layer's")
        half = kt // 2
        expect_close(out3[:, :, half:7 - half], out2.unsqueeze(2).expand(-1, -1, 7 - 2 * half, -1, -1),
                     atol=1e-10, rtol=0, what=f"interior frames, time_kernel={kt}",
                     hint="on a boring video each interior frame sums Kt copies of w2/Kt: the 2D response")


@INFLATE_CONV.case("zero time padding: the edge frames get (Kt-1)/Kt of the response")
def _(inflate_conv):
    conv2d = _conv2d(5)
    bias = conv2d.bias.detach().view(1, -1, 1, 1, 1)
    for kt in (3, 5):
        out2, out3 = _boring_outputs(inflate_conv, conv2d, kt)
        if out3.shape[2] != 7:
            fail(f"the output has {out3.shape[2]} frames for 7 input frames (time_kernel={kt})", expected=7,
                 got=int(out3.shape[2]), hint="time_padding = Kt // 2 with zeros, time stride 1")
        factors = torch.as_tensor(zero_padding_edge_factors(7, kt)).view(1, 1, 7, 1, 1)
        expected = (out2.unsqueeze(2) - bias) * factors + bias  # (B, O, 1, H', W') -> (B, O, 7, H', W')
        expect_close(out3, expected, atol=1e-10, rtol=0, what=f"every frame with zero time padding, time_kernel={kt}",
                     hint="pad time with Kt // 2 zeros on each side, like nn.Conv3d(padding=(Kt // 2, ph, pw)) "
                          "with the default padding_mode='zeros' (replicate padding is not what is asked here)")


@INFLATE_CONV.case("stride, dilation, groups and padding of the 2D layer carry over")
def _(inflate_conv):
    conv2d = _conv2d(6, stride=(2, 1), dilation=(1, 2), groups=2, padding=(2, 3))
    out2, out3 = _boring_outputs(inflate_conv, conv2d, 3)
    expect_equal(tuple(out3.shape), (out2.shape[0], out2.shape[1], 7, *out2.shape[2:]),
                 what="output shape of an inflated conv with stride (2, 1), dilation (1, 2), groups 2",
                 hint="spatial stride, padding and dilation come from conv2d; time stride and dilation are 1; "
                      "pass groups=conv2d.groups")
    expect_close(out3[:, :, 1:6], out2.unsqueeze(2).expand(-1, -1, 5, -1, -1), atol=1e-10, rtol=0,
                 what="interior frames with stride (2, 1), dilation (1, 2), groups 2")


EXERCISES = (INFLATE_CONV,)
