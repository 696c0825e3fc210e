"""Properties of course_utils.inflation (inflate and fixed_point): shapes, weights, buffers, the fixed point."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.exercises.ex03_support import conv_net, randomize
from course_utils.inflation.fixed_point import (
    boring_video,
    boring_video_difference,
    per_frame_difference,
    zero_padding_edge_factors,
)
from course_utils.inflation.inflate import (
    TimePaddedConv3d,
    inflate_batchnorm,
    inflate_conv,
    inflate_model,
    inflate_pool,
    inflate_weight,
)
from course_utils.inflation.resnet2d import build_small_resnet


def _conv(seed=0, **options):
    settings = {"in_channels": 4, "out_channels": 6, "kernel_size": (3, 5), "padding": (1, 2), **options}
    return randomize(nn.Conv2d(**settings), seed).double()


def _images(seed, batch=2, channels=4, size=10):
    return torch.randn(batch, channels, size, size, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def _run(layer, x):
    with torch.no_grad():
        return layer(x)


# ------------------------------------------------------------------------------------------------ weights
@pytest.mark.parametrize("kt", [1, 2, 3, 5])
def test_mean_inflation_shape_slices_bias_and_memory(kt):
    conv2d = _conv(groups=2)
    conv3d = inflate_conv(conv2d, kt)
    assert isinstance(conv3d, nn.Conv3d)
    w2, w3 = conv2d.weight.detach(), conv3d.weight.detach()
    assert w3.shape == (6, 2, kt, 3, 5) and w3.dtype == torch.float64 and w3.is_contiguous()
    for t in range(kt):
        assert torch.allclose(w3[:, :, t], w2 / kt, rtol=0, atol=1e-15)
    assert torch.equal(conv3d.bias.detach(), conv2d.bias.detach())
    assert w3.untyped_storage().data_ptr() != w2.untyped_storage().data_ptr()
    assert conv3d.stride == (1, 1, 1) and conv3d.groups == 2 and conv3d.padding == (kt // 2, 1, 2)


def test_center_inflation_puts_the_kernel_in_the_middle_slice():
    w2 = _conv().weight.detach()
    w3 = inflate_weight(w2, 5, init="center")
    assert torch.equal(w3[:, :, 2], w2) and not w3[:, :, [0, 1, 3, 4]].any()
    with pytest.raises(ValueError, match="odd"):
        inflate_weight(w2, 4, init="center")


def test_inflated_weight_is_independent_of_the_2d_weight():
    conv2d = _conv()
    before = conv2d.weight.detach().clone()
    conv3d = inflate_conv(conv2d, 3)
    with torch.no_grad():
        conv3d.weight[:, :, 0] += 1.0
    assert torch.equal(conv2d.weight.detach(), before)
    assert not torch.equal(conv3d.weight[:, :, 0], conv3d.weight[:, :, 1])


# --------------------------------------------------------------------------------------- the fixed point
@pytest.mark.parametrize("kt", [3, 5])
def test_zero_padding_scales_the_edges_by_the_fraction_of_taps_inside(kt):
    conv2d = _conv(1)
    x = _images(1)
    out2 = _run(conv2d, x)
    out3 = _run(inflate_conv(conv2d, kt), boring_video(x, 8))
    bias = conv2d.bias.detach().view(1, -1, 1, 1, 1)
    ratio = (out3 - bias) / (out2.unsqueeze(2) - bias)  # (B, O, T, H, W)
    expected = zero_padding_edge_factors(8, kt)
    assert np.allclose(ratio.movedim(2, 0).flatten(1).numpy(), expected[:, None], rtol=0, atol=1e-9)
    assert np.allclose(zero_padding_edge_factors(8, 3), [2 / 3, 1, 1, 1, 1, 1, 1, 2 / 3])
    assert np.allclose(zero_padding_edge_factors(7, 5), [3 / 5, 4 / 5, 1, 1, 1, 4 / 5, 3 / 5])


@pytest.mark.parametrize("options", [dict(), dict(stride=2, dilation=2, padding=2), dict(padding_mode="reflect"),
                                     dict(padding_mode="circular", groups=2), dict(padding="same")])
def test_replicate_time_padding_gives_the_fixed_point_on_every_frame(options):
    conv2d = _conv(2, **options)
    layer = inflate_conv(conv2d, 3, time_padding_mode="replicate")
    assert isinstance(layer, TimePaddedConv3d) and layer.conv.padding[0] == 0
    x = _images(2)
    out2, out3 = _run(conv2d, x), _run(layer, boring_video(x, 6))
    assert out3.shape == (2, 6, 6, *out2.shape[2:])
    assert torch.allclose(out3, out2.unsqueeze(2).expand_as(out3), rtol=0, atol=1e-12)


def test_non_zero_spatial_padding_mode_stays_spatial_with_zero_time_padding():
    conv2d = _conv(3, padding_mode="reflect")
    layer = inflate_conv(conv2d, 3)
    assert isinstance(layer, TimePaddedConv3d) and layer.time_padding_mode == "zeros"
    assert layer.conv.padding_mode == "reflect"
    x = _images(3)
    out2, out3 = _run(conv2d, x), _run(layer, boring_video(x, 5))
    assert torch.allclose(out3[:, :, 1:4], out2.unsqueeze(2).expand(-1, -1, 3, -1, -1), rtol=0, atol=1e-12)
    assert not torch.allclose(out3[:, :, 0], out2, rtol=0, atol=1e-6)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("init", ["mean", "center"])
def test_random_networks_keep_the_fixed_point_in_eval_mode(seed, init):
    model2d = randomize(build_small_resnet(num_classes=4, widths=(4, 6), blocks_per_stage=2), seed).double()
    model3d = inflate_model(model2d, time_padding_mode="replicate", init=init)
    x = torch.randn(3, 3, 16, 16, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    assert boring_video_difference(model2d, model3d, x, 5) < 1e-10
    assert model2d.training and model3d.training  # modes restored


def test_zero_padding_errors_start_at_the_edges_and_spread_inward():
    model2d = randomize(build_small_resnet(widths=(4, 6)), 5).double()
    model3d = inflate_model(model2d)
    x = torch.randn(2, 3, 16, 16, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    first = per_frame_difference(model2d.stem, model3d.stem, x, 8)
    assert first[0] > 1e-3 and first[-1] > 1e-3 and first[1:-1].max() < 1e-12
    deep = per_frame_difference(nn.Sequential(model2d.stem, model2d.stages),
                                nn.Sequential(model3d.stem, model3d.stages), x, 8)
    assert deep[3] > 1e-6 and deep[0] > deep[1] > deep[2] > deep[3]
    assert boring_video_difference(model2d, model3d, x, 8) > 1e-4


def test_without_dividing_by_kt_activations_grow_kt_fold():
    conv2d = _conv(6, bias=False)
    conv3d = inflate_conv(conv2d, 3)
    with torch.no_grad():
        conv3d.weight.mul_(3)
    x = _images(6)
    ratio = _run(conv3d, boring_video(x, 5))[:, :, 2] / _run(conv2d, x)
    assert torch.allclose(ratio, torch.full_like(ratio, 3.0), atol=1e-9)


# ------------------------------------------------------------------------------------ BatchNorm and pooling
def test_batchnorm_copies_parameters_buffers_and_options():
    bn2d = randomize(nn.BatchNorm2d(5, eps=1e-3, momentum=0.3), 7).double()
    bn2d.eval()
    bn3d = inflate_batchnorm(bn2d)
    assert isinstance(bn3d, nn.BatchNorm3d) and not bn3d.training
    assert (bn3d.eps, bn3d.momentum, bn3d.affine, bn3d.track_running_stats) == (1e-3, 0.3, True, True)
    for name in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
        a, b = getattr(bn3d, name), getattr(bn2d, name)
        assert torch.equal(a, b) and a.dtype == b.dtype
        assert a.untyped_storage().data_ptr() != b.untyped_storage().data_ptr()
    for flags in (dict(affine=False), dict(track_running_stats=False), dict(momentum=None)):
        copy3d = inflate_batchnorm(nn.BatchNorm2d(3, **flags))
        assert all(getattr(copy3d, k) == v for k, v in flags.items())


def test_pooling_keeps_spatial_options_and_pools_time_only_when_asked():
    mp = inflate_pool(nn.MaxPool2d(3, stride=2, padding=1, dilation=1, ceil_mode=True))
    assert (mp.kernel_size, mp.stride, mp.padding, mp.ceil_mode) == ((1, 3, 3), (1, 2, 2), (0, 1, 1), True)
    ap = inflate_pool(nn.AvgPool2d(2, count_include_pad=False, divisor_override=3), 2, time_stride=2)
    assert (ap.kernel_size, ap.stride, ap.count_include_pad, ap.divisor_override) == ((2, 2, 2), (2, 2, 2), False, 6)
    assert inflate_pool(nn.AdaptiveAvgPool2d((2, 3))).output_size == (1, 2, 3)
    assert inflate_pool(nn.AdaptiveAvgPool2d(1), time_output_size=None).output_size == (None, 1, 1)
    x = _images(8, channels=3, size=9)
    for pool2d in (nn.MaxPool2d(3, 2, 1), nn.AvgPool2d(3, 2, 1, ceil_mode=True), nn.AdaptiveMaxPool2d(2)):
        out2, out3 = _run(pool2d, x), _run(inflate_pool(pool2d), boring_video(x, 4))
        assert torch.allclose(out3.mean(2), out2, atol=1e-12) if out3.dim() == 5 else torch.allclose(out3, out2)


# -------------------------------------------------------------------------------------------- inflate_model
def test_inflate_model_deep_copies_and_replaces_every_2d_layer():
    model2d = conv_net(9)
    before = {k: v.clone() for k, v in model2d.state_dict().items()}
    model3d = inflate_model(model2d)
    assert all(torch.equal(before[k], v) for k, v in model2d.state_dict().items())
    kinds = [type(m).__name__ for m in model3d.modules()]
    assert not any(k.endswith("2d") for k in kinds) and kinds.count("Conv3d") == 2
    assert torch.equal(model3d[-1].weight, model2d[-1].weight) and model3d[-1] is not model2d[-1]


def test_time_kernel_function_gets_qualified_names_and_pool_time_kernel_applies():
    model2d = build_small_resnet(widths=(4, 6))
    seen = []

    def kernel(name, layer):
        seen.append(name)
        return 3 if name.endswith("conv1") else 1

    model3d = inflate_model(model2d, time_kernel=kernel, pool_time_kernel=2)
    assert sorted(seen) == sorted(n for n, m in model2d.named_modules() if isinstance(m, nn.Conv2d))
    assert model3d.stages[0][0].conv1.kernel_size == (3, 3, 3) and model3d.stem[0].kernel_size == (1, 3, 3)
    assert model3d.stem[3].kernel_size == (2, 3, 3) and model3d.stem[3].stride == (2, 2, 2)
    assert model3d(torch.randn(2, 3, 4, 16, 16)).shape == (2, 8)


def test_inflate_model_keeps_train_and_eval_modes():
    model2d = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.MaxPool2d(2), nn.Dropout2d()).eval()
    for mode in ("zeros", "replicate"):
        assert not any(m.training for m in inflate_model(model2d, time_padding_mode=mode).modules())
    assert all(m.training for m in inflate_model(model2d.train(), time_padding_mode="replicate").modules())


def test_shared_layers_stay_shared_and_a_bare_conv_works():
    conv = nn.Conv2d(3, 3, 3, padding=1)
    model3d = inflate_model(nn.Sequential(conv, nn.ReLU(), conv))
    assert model3d[0] is model3d[2] and isinstance(model3d[0], nn.Conv3d)
    assert isinstance(inflate_model(conv), nn.Conv3d)


def test_boring_video_repeats_images():
    x = _images(10)
    video = boring_video(x, 4)
    assert video.shape == (2, 4, 4, 10, 10) and video.is_contiguous()
    assert all(torch.equal(video[:, :, t], x) for t in range(4))


# ---------------------------------------------------------------------------------------------- bad inputs
@pytest.mark.parametrize("call, error, match", [
    (lambda: inflate_conv(nn.Conv3d(1, 1, 1), 3), TypeError, "conv2d"),
    (lambda: inflate_conv(nn.Conv2d(1, 1, 1), 0), ValueError, "time_kernel"),
    (lambda: inflate_conv(nn.Conv2d(1, 1, 1), 3.0), TypeError, "time_kernel"),
    (lambda: inflate_conv(nn.Conv2d(1, 1, 1), True), TypeError, "time_kernel"),
    (lambda: inflate_conv(nn.Conv2d(1, 1, 1), 3, time_padding_mode="reflect"), ValueError, "time_padding_mode"),
    (lambda: inflate_conv(nn.Conv2d(1, 1, 1), 3, init="random"), ValueError, "init"),
    (lambda: inflate_conv(nn.Conv2d(1, 1, 1), 3, time_stride=0), ValueError, "time_stride"),
    (lambda: inflate_conv(nn.Conv2d(1, 1, 1), 3, time_padding=-1), ValueError, "time_padding"),
    (lambda: inflate_conv(nn.Conv2d(1, 1, 2, padding="same"), 3), ValueError, "same"),
    (lambda: inflate_batchnorm(nn.BatchNorm1d(2)), TypeError, "bn2d"),
    (lambda: inflate_pool(nn.LPPool2d(2, 2)), TypeError, "pool2d"),
    (lambda: inflate_model("model"), TypeError, "model2d"),
    (lambda: inflate_model(nn.Conv2d(1, 1, 1), time_kernel=0), ValueError, "time_kernel"),
    (lambda: inflate_model(nn.Sequential(nn.Conv2d(1, 1, 1)), time_kernel=lambda n, m: 2.5), TypeError, "'0'"),
    (lambda: inflate_model(nn.Sequential(nn.ConvTranspose2d(1, 1, 1))), TypeError, "ConvTranspose2d"),
    (lambda: inflate_model(nn.Sequential(nn.InstanceNorm2d(1))), TypeError, "InstanceNorm2d"),
    (lambda: boring_video(torch.zeros(2, 3, 4), 3), ValueError, "images"),
    (lambda: boring_video(torch.zeros(1, 3, 4, 4), 0), ValueError, "num_frames"),
    (lambda: zero_padding_edge_factors(5, 2), ValueError, "odd"),
    (lambda: TimePaddedConv3d(nn.Conv3d(1, 1, 3, padding=1), time_padding=1), ValueError, "padding"),
    (lambda: TimePaddedConv3d(nn.Conv3d(1, 1, 3), time_padding=1)(torch.zeros(1, 1, 4, 4)), ValueError, "(B, C"),
])
def test_bad_inputs_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=re.escape(match)):
        call()


def test_boring_video_difference_rejects_mismatched_outputs():
    with pytest.raises(ValueError, match="does not match"):
        boring_video_difference(nn.Flatten(), nn.Flatten(), torch.zeros(1, 2, 3, 3), 2)
