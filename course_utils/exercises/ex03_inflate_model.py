"""Checker of exercise 03.inflate_model: inflating a whole network, BatchNorm and its running statistics included.

The student's ``inflate_model(model2d, *, time_kernel=3, time_padding_mode="zeros")`` returns a deep copy of
``model2d`` in which every Conv2d (time kernel: an int, or a function of the layer's qualified name and the layer),
BatchNorm2d (parameters, running statistics, num_batches_tracked, eps, momentum, flags) and 2D pooling layer is
inflated; linear layers are kept and ``model2d`` is left untouched.
"""

from __future__ import annotations

import torch
from torch import nn

from course_utils.exercises.ex03_support import (
    EARLIER_ANSWERS,
    changed,
    conv3d_of,
    conv_net,
    images,
    randomize,
    resnet,
    shares_memory,
    snapshot,
)
from course_utils.exercises.framework import Exercise, expect_close, expect_equal, expect_true, fail, forbid, plain
from course_utils.inflation.fixed_point import _outputs as eval_outputs

INFLATE_MODEL = Exercise(
    "03.inflate_model", "Inflating a whole 2D network, BatchNorm included",
    forbidden=[forbid("must walk the network and inflate its layers itself",
                      "course_utils.inflation.inflate:inflate_model",
                      "course_utils.inflation.inflate:inflate_batchnorm")],
    substitutes={"inflate_conv": EARLIER_ANSWERS["inflate_conv"]})  # 03.inflate_conv is graded on its own

_TWO_D = (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d)


def _names(model: nn.Module, kind: type) -> list[str]:
    return [name for name, module in model.named_modules() if type(module) is kind]


def _module(model: nn.Module, name: str, what: str) -> nn.Module:
    try:
        return model.get_submodule(name)
    except AttributeError:
        fail(f"the inflated model has no layer {name!r} ({what})", hint="replace each layer under its own name "
             "(setattr(parent, child_name, new_layer)) so the model keeps its structure")


def _fixed_point_gap(model2d: nn.Module, model3d: nn.Module, x: torch.Tensor, num_frames: int) -> torch.Tensor:
    """(3D output on the boring video) - (2D output), both in eval mode; frame by frame when the 3D output keeps
    time. Computed with the course's ``fixed_point._outputs``, a tripwire while ``03.boring_video_check`` runs."""
    out2, out3 = eval_outputs(model2d, model3d, x, num_frames)
    if not isinstance(out3, torch.Tensor):
        fail(f"the inflated model returned a {type(out3).__name__}, not a tensor")
    out3 = plain(out3)
    return out3 - (out2.unsqueeze(2) if out3.dim() == out2.dim() + 1 else out2)


@INFLATE_MODEL.case("returns a new model and leaves the 2D model untouched")
def _(inflate_model):
    model2d = resnet(10)
    before, layers = snapshot(model2d), [(name, type(m)) for name, m in model2d.named_modules()]
    model3d = inflate_model(model2d)
    expect_true(isinstance(model3d, nn.Module) and model3d is not model2d,
                what="inflate_model should return a new model", hint="start from copy.deepcopy(model2d)")
    expect_true([(name, type(m)) for name, m in model2d.named_modules()] == layers,
                what="the 2D model's layers were replaced", hint="inflate a copy: copy.deepcopy(model2d)")
    expect_equal(changed(model2d, before), [], what="parameters or buffers of the 2D model that changed")
    shared = [name for name, p in model3d.named_parameters() if any(shares_memory(p, q) for q in model2d.parameters())]
    expect_equal(shared, [], what="parameters of the 3D model that share memory with the 2D model",
                 hint="copy.deepcopy(model2d) copies every tensor")


@INFLATE_MODEL.case("every Conv2d, BatchNorm2d and 2D pooling layer inflated; linear head kept")
def _(inflate_model):
    model2d = conv_net(11)
    model3d = inflate_model(model2d)
    left = [f"{name} ({type(m).__name__})" for name, m in model3d.named_modules() if isinstance(m, _TWO_D)]
    expect_equal(left, [], what="2D layers left in the inflated model",
                 hint="walk the whole module tree (named_children, recursively), not only the top level")
    expected = {nn.Conv3d: 2, nn.BatchNorm3d: 2, nn.MaxPool3d: 1, nn.AvgPool3d: 1, nn.AdaptiveAvgPool3d: 1}
    for kind, count in expected.items():
        expect_equal(len([m for m in model3d.modules() if isinstance(m, kind)]), count,
                     what=f"number of {kind.__name__} layers")
    head2d, head3d = model2d[-1], _module(model3d, str(len(model2d) - 1), "the linear head")
    expect_true(type(head3d) is nn.Linear, what="the linear head should stay an nn.Linear", got=type(head3d).__name__)
    expect_close(head3d.weight, head2d.weight.detach(), atol=0, rtol=0, what="the head's weight",
                 hint="keep linear layers as they are")
    pool = _module(model3d, "8", "the adaptive pool")
    expect_equal(tuple(nn.modules.utils._triple(pool.output_size)), (1, 1, 1),
                 what="output_size of the inflated global pool", hint="inflation.inflate_pool(layer) handles it")


@INFLATE_MODEL.case("conv weights mean-inflated with the requested time kernel")
def _(inflate_model):
    model2d = resnet(12)
    for kt in (3, 5):
        model3d = inflate_model(model2d, time_kernel=kt)
        for name in _names(model2d, nn.Conv2d):
            w2 = model2d.get_submodule(name).weight.detach()
            w3 = plain(conv3d_of(_module(model3d, name, "a conv"), f"layer {name!r}").weight).detach()
            expect_equal(tuple(w3.shape), (*w2.shape[:2], kt, *w2.shape[2:]), what=f"weight shape of {name!r}")
            expect_close(w3, (w2 / kt).unsqueeze(2).expand_as(w3), atol=1e-12, rtol=1e-10,
                         what=f"weight of {name!r}, time_kernel={kt}", hint="inflation.inflate_conv(layer, kt, ...)")


@INFLATE_MODEL.case("time_kernel as a function of the layer's qualified name and the layer")
def _(inflate_model):
    model2d = resnet(13)
    calls = []

    def only_first_convs(name, layer):
        calls.append((name, type(layer).__name__))
        return 3 if name.endswith("conv1") else 1

    model3d = inflate_model(model2d, time_kernel=only_first_convs)
    conv_names = _names(model2d, nn.Conv2d)
    expect_equal(sorted(calls), sorted((name, "Conv2d") for name in conv_names),
                 what="the (name, type of layer) pairs time_kernel was called with",
                 hint="call time_kernel(qualified_name, conv2d) once per Conv2d, with names as in "
                      "model2d.named_modules(), e.g. 'stages.0.0.conv1'")
    for name in conv_names:
        kt = plain(conv3d_of(_module(model3d, name, "a conv"), f"layer {name!r}").weight).shape[2]
        expect_equal(kt, 3 if name.endswith("conv1") else 1, what=f"time kernel of {name!r}")


@INFLATE_MODEL.case("BatchNorm: parameters, running statistics, eps and momentum copied")
def _(inflate_model):
    model2d = conv_net(14)
    model3d = inflate_model(model2d)
    for name in _names(model2d, nn.BatchNorm2d):
        bn2, bn3 = model2d.get_submodule(name), _module(model3d, name, "a BatchNorm")
        expect_true(type(bn3) is nn.BatchNorm3d, what=f"layer {name!r} should be an nn.BatchNorm3d",
                    got=type(bn3).__name__)
        for attribute in ("eps", "momentum", "affine", "track_running_stats"):
            expect_equal(getattr(bn3, attribute), getattr(bn2, attribute), what=f"{name}.{attribute}",
                         hint="nn.BatchNorm3d(C, eps=bn.eps, momentum=bn.momentum, affine=bn.affine, "
                              "track_running_stats=bn.track_running_stats)")
        for tensor in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            expect_close(getattr(bn3, tensor), getattr(bn2, tensor).detach(), atol=0, rtol=0,
                         what=f"{name}.{tensor}", hint="copy the running statistics too, not only weight and bias: "
                                                       "bn3d.load_state_dict(bn2d.state_dict()) copies everything")


@INFLATE_MODEL.case("BatchNorm without affine parameters or running statistics")
def _(inflate_model):
    model2d = randomize(nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4, affine=False),
                                      nn.Conv2d(4, 4, 1), nn.BatchNorm2d(4, track_running_stats=False)), 15).double()
    model3d = inflate_model(model2d, time_padding_mode="replicate")
    for name in ("1", "3"):
        bn2, bn3 = model2d.get_submodule(name), _module(model3d, name, "a BatchNorm")
        expect_true(type(bn3) is nn.BatchNorm3d, what=f"layer {name!r} should be an nn.BatchNorm3d",
                    got=type(bn3).__name__)
        for attribute in ("affine", "track_running_stats"):
            expect_equal(getattr(bn3, attribute), getattr(bn2, attribute), what=f"{name}.{attribute}",
                         hint="a BatchNorm2d(affine=False) has weight None; keep the 2D layer's flags")
    gap = _fixed_point_gap(model2d, model3d, images(16), 6)
    expect_close(gap, torch.zeros_like(gap), atol=1e-10, rtol=0,
                 what="boring video minus the 2D output, eval mode, replicate time padding")


@INFLATE_MODEL.case("boring-video fixed point in eval mode, replicate time padding")
def _(inflate_model):
    for model2d in (conv_net(17), resnet(18)):
        model3d = inflate_model(model2d, time_padding_mode="replicate")
        gap = _fixed_point_gap(model2d, model3d, images(19, size=16), 5)
        expect_close(gap, torch.zeros_like(gap), atol=1e-10, rtol=0,
                     what=f"eval-mode output on a boring video minus the 2D output ({type(model2d).__name__})",
                     hint="pass time_padding_mode on to inflation.inflate_conv; BatchNorm3d needs the 2D running "
                          "statistics (eval mode uses them)")


@INFLATE_MODEL.case("zero time padding by default: interior frames exact, edge frames not")
def _(inflate_model):
    model2d = conv_net(20, head=False)
    gap = _fixed_point_gap(model2d, inflate_model(model2d), images(21), 8)
    if gap.dim() != 5 or gap.shape[2] != 8:
        fail("the inflated feature maps should keep the 8 frames", got=tuple(gap.shape))
    expect_close(gap[:, :, 2:6], torch.zeros_like(gap[:, :, 2:6]), atol=1e-10, rtol=0,
                 what="frames 2..5 of 8 (two Kt=3 convs: two frames from each edge)")
    expect_true(float(gap[:, :, 0].abs().max()) > 1e-3, what="frame 0 matches the 2D output although the "
                "default time padding is zeros", hint="time_padding_mode='zeros' must be the default")


EXERCISES = (INFLATE_MODEL,)
