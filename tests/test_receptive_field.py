"""Tests of course_utils.receptive_field (analytic, layers, empirical): analytic fields, measured fields, errors."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from torch import nn

from course_utils.receptive_field.analytic import ReceptiveFieldError, receptive_field
from course_utils.receptive_field.empirical import (
    empirical_receptive_field,
    gradient_bounds,
    input_gradient,
    positive_copy,
)

CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
MAX = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVG = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
BN = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
PAD = {1: nn.ConstantPad1d, 2: nn.ConstantPad2d, 3: nn.ConstantPad3d}
ADAPTIVE = {1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveMaxPool3d}


def late_fusion(padding: int = 1) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv3d(3, 4, (1, 3, 3), padding=(0, padding, padding)), nn.ReLU(),
        nn.MaxPool3d((1, 4, 4)),
        nn.Conv3d(4, 4, (1, 3, 3), padding=(0, padding, padding)), nn.ReLU(),
        nn.AdaptiveAvgPool3d(1),
    )


# ---------------------------------------------------------------------------------------------- the lecture's numbers
def test_lecture_late_fusion_numbers():
    rf = receptive_field(late_fusion(), (3, 20, 64, 64))
    sizes = [layer.size for layer in rf.layers if layer.kind != "ReLU"]
    assert sizes == [(1, 3, 3), (1, 6, 6), (1, 14, 14), (20, 64, 64)]
    assert rf.size == (20, 64, 64) and rf.out_shape == (1, 1, 1)
    assert [layer.jump for layer in rf.layers][:4] == [(1, 1, 1), (1, 1, 1), (1, 4, 4), (1, 4, 4)]
    assert rf.layers[3].start == (0, -5, -5)  # unit 0: padding 1, then 4 positions per pooled unit
    assert empirical_receptive_field(late_fusion(), (3, 20, 64, 64)) == (20, 64, 64)
    assert empirical_receptive_field(late_fusion()[:4], (3, 20, 64, 64)) == (1, 14, 14)


def test_global_pool_without_padding_sees_only_what_the_floor_keeps():
    rf = receptive_field(late_fusion(padding=0), (3, 20, 64, 64))
    assert rf.size == (20, 62, 62)  # the 4x4 pooling drops the last two columns of the 62 conv outputs
    assert empirical_receptive_field(late_fusion(padding=0), (3, 20, 64, 64)) == (20, 62, 62)


def test_jump_is_updated_after_the_size():
    net = nn.Sequential(nn.Conv3d(1, 1, 3, stride=2), nn.Conv3d(1, 1, 3))
    rf = receptive_field(net, (1, 20, 20, 20))
    assert [layer.size for layer in rf.layers] == [(3, 3, 3), (7, 7, 7)]
    assert rf.jump == (2, 2, 2)


def test_dilation_widens_the_kernel():
    assert receptive_field(nn.Conv2d(1, 1, 3, dilation=2), (1, 9, 9)).size == (5, 5)
    net = nn.Sequential(nn.Conv1d(1, 1, 3, stride=2), nn.Conv1d(1, 1, 3, dilation=3))
    assert receptive_field(net, (1, 40)).size == (3 + 2 * 3 * 2,)


def test_dimensions_stay_in_input_order():
    net = nn.Sequential(nn.Conv3d(2, 2, (3, 1, 5), stride=(1, 2, 1)), nn.MaxPool3d((2, 1, 1)),
                        nn.Conv3d(2, 2, (1, 3, 1)))
    rf = receptive_field(net, (2, 16, 20, 30))
    assert rf.size == (4, 1 + 2 * 2, 5) and rf.jump == (2, 2, 1)
    assert empirical_receptive_field(net, (2, 16, 20, 30)) == rf.size


def test_nested_sequentials_pointwise_layers_and_padding_layers():
    net = nn.Sequential(nn.ZeroPad2d((1, 2, 3, 4)), nn.Sequential(nn.Conv2d(1, 3, 3, padding="same"),
                        nn.Sequential(nn.BatchNorm2d(3), nn.GELU(), nn.Dropout2d(0.5))), nn.Identity())
    rf = receptive_field(net, (1, 10, 10))
    assert [layer.name for layer in rf.layers] == ["0", "1.0", "1.1.0", "1.1.1", "1.1.2", "2"]
    assert rf.size == (3, 3) and rf.start == (-4, -2) and rf.out_shape == (17, 13)
    assert "1.1.0" in rf.table() and "BatchNorm2d" in rf.table()


def test_adaptive_pooling_with_equal_windows_and_keep_dimension():
    net = nn.Sequential(nn.Conv3d(1, 1, 3, padding=1), nn.AdaptiveAvgPool3d((None, 2, 1)))
    rf = receptive_field(net, (1, 8, 8, 6))
    assert rf.out_shape == (8, 2, 1) and rf.size == (3, 3 + 3, 6)
    assert rf.field_of() == ((3, 5), (3, 7), (0, 5))  # along h the unit's field [3, 8] is clipped by the border
    assert empirical_receptive_field(net, (1, 8, 8, 6)) == (3, 5, 6)


def test_single_layer_and_empty_stack():
    assert receptive_field(nn.MaxPool1d(3, stride=2), (2, 11)).size == (3,)
    rf = receptive_field(nn.Sequential(), (3, 4, 5, 6))
    assert rf.size == (1, 1, 1) and rf.jump == (1, 1, 1) and rf.start == (0, 0, 0) and rf.layers == ()


# ----------------------------------------------------------------------------------------------------- clear errors
class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 2, 3, padding=1)

    def forward(self, x):
        return x + self.conv(x)


class Sneaky(nn.Sequential):
    def forward(self, x):
        return super().forward(x) + x


@pytest.mark.parametrize("net, shape, words", [
    (nn.Sequential(nn.Conv2d(2, 2, 3), Residual()), (2, 9, 9), ["'1'", "Residual", "own forward"]),
    (nn.Sequential(nn.Conv2d(2, 2, 3), nn.Flatten(), nn.Linear(98, 2)), (2, 9, 9), ["'1'", "Flatten"]),
    (nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Linear(2, 2)), (2, 9, 9), ["'1'", "Linear"]),
    (nn.Sequential(nn.Sequential(nn.Conv2d(2, 2, 1), nn.GroupNorm(1, 2))), (2, 9, 9), ["'0.1'", "GroupNorm"]),
    (nn.Sequential(Sneaky(nn.Conv2d(2, 2, 1))), (2, 9, 9), ["'0'", "Sneaky", "own forward"]),
    (nn.Sequential(nn.Upsample(scale_factor=2)), (2, 9, 9), ["'0'", "Upsample"]),
    (nn.Sequential(nn.Conv2d(2, 2, 3)), (2, 5, 9, 9), ["'0'", "Conv2d", "(1, 3, 3)"]),
    (nn.Sequential(nn.Conv2d(2, 4, 3), nn.Conv2d(3, 4, 3)), (2, 9, 9), ["'1'", "3 input channels", "gets 4"]),
    (nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(2)), (2, 9, 9), ["'1'", "BatchNorm2d"]),
    (nn.Sequential(nn.AdaptiveAvgPool2d(4)), (2, 9, 9), ["'0'", "differ in size"]),
])
def test_layers_it_cannot_analyse_are_named(net, shape, words):
    with pytest.raises(ReceptiveFieldError) as info:
        receptive_field(net, shape)
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("shape, error, words", [
    ("3x8x8", TypeError, ["input_shape", "tuple of 2 to 4 ints"]),
    (5, TypeError, ["input_shape"]),
    ((3, 8.0, 8), TypeError, ["ints"]),
    ((3, True, 8), TypeError, ["ints"]),
    ((8,), ValueError, ["without the batch dimension"]),
    ((1, 3, 8, 8, 8), ValueError, ["without the batch dimension"]),
    ((3, 0, 8), ValueError, ["ints >= 1", "(3, 0, 8)"]),
])
def test_bad_input_shape(shape, error, words):
    for function in (receptive_field, empirical_receptive_field):
        with pytest.raises(error) as info:
            function(nn.Conv2d(3, 3, 1), shape)
        assert all(word in str(info.value) for word in words)


def test_bad_module_position_and_too_small_input():
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        receptive_field(lambda x: x, (1, 8))
    with pytest.raises(ValueError, match=r"layer '1' \(MaxPool1d\).*larger input_shape"):
        receptive_field(nn.Sequential(nn.Conv1d(1, 1, 3), nn.MaxPool1d(4)), (1, 5))
    rf = receptive_field(nn.Conv1d(1, 1, 3), (1, 8))
    with pytest.raises(ValueError, match="output grid"):
        rf.field_of((6,))
    with pytest.raises(TypeError, match="position"):
        rf.field_of(3)
    with pytest.raises(ValueError, match="output grid"):
        empirical_receptive_field(nn.Conv1d(1, 1, 3), (1, 8), position=(0, 0))


# -------------------------------------------------------------------------------------------- the empirical measure
def test_positive_copy_leaves_the_original_untouched():
    net = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ReLU(), nn.MaxPool2d(2, dilation=2))
    net.train()
    before = {name: value.clone() for name, value in net.state_dict().items()}
    copy = positive_copy(net)
    empirical_receptive_field(net, (1, 12, 12))
    assert net.training and isinstance(net[3], nn.MaxPool2d) and isinstance(net[2], nn.ReLU)
    assert all(torch.equal(before[name], value) for name, value in net.state_dict().items())
    assert net[0].weight.grad is None
    assert not copy.training and isinstance(copy[2], nn.Identity) and copy[0].weight.dtype == torch.float64
    assert bool((copy[0].weight == 1).all())


def test_max_pooling_would_hide_the_field_without_the_copy():
    # on a constant input a real max pool sends the gradient to one position per window only
    net = nn.Sequential(nn.MaxPool1d(4), nn.Conv1d(1, 1, 3))
    assert empirical_receptive_field(net, (1, 32)) == receptive_field(net, (1, 32)).size == (12,)


def test_empirical_measure_works_where_the_recurrence_refuses():
    net = nn.Sequential(nn.Conv2d(2, 2, 3, padding=1), Residual())
    assert empirical_receptive_field(net, (2, 15, 15)) == (5, 5)
    gradient = input_gradient(net, (2, 15, 15))
    assert gradient.shape == (15, 15) and gradient.dtype == torch.float64 and bool((gradient >= 0).all())
    assert gradient_bounds(gradient) == ((5, 9), (5, 9))


# ------------------------------------------------------------------------ property: analytic == empirical, exactly
@st.composite
def stacks(draw):
    ndim = draw(st.integers(1, 3))
    shape = [draw(st.integers(6, {1: 40, 2: 18, 3: 10}[ndim])) for _ in range(ndim)]
    layers, channels = [], draw(st.integers(1, 2))
    in_channels = channels
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["conv", "conv", "max", "avg", "pointwise", "pad"]))
        kernel = tuple(draw(st.integers(1, 3)) for _ in range(ndim))
        stride = tuple(draw(st.integers(1, 2 if ndim == 3 else 3)) for _ in range(ndim))
        dilation = tuple(draw(st.integers(1, 2)) for _ in range(ndim))
        if kind == "conv":
            padding = tuple(draw(st.integers(0, 2)) for _ in range(ndim))
            out = draw(st.integers(1, 2))
            layers.append(CONV[ndim](channels, out, kernel, stride=stride, padding=padding, dilation=dilation))
            channels = out
        elif kind == "max":
            padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)  # PyTorch's limit
            layers.append(MAX[ndim](kernel, stride=stride, padding=padding, dilation=dilation,
                                    ceil_mode=draw(st.booleans())))
        elif kind == "avg":
            padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
            layers.append(AVG[ndim](kernel, stride=stride, padding=padding, ceil_mode=draw(st.booleans())))
        elif kind == "pad":  # (left, right) per dimension, last dimension first, as PyTorch wants them
            pads = tuple(draw(st.integers(0, 2)) for _ in range(2 * ndim))
            layers.append(PAD[ndim](pads, value=draw(st.sampled_from([0.0, 1.5]))))
        else:
            layers.append(draw(st.sampled_from([nn.ReLU(), nn.Tanh(), BN[ndim](channels), nn.Dropout(0.3)])))
    if draw(st.booleans()):
        layers.append(ADAPTIVE[ndim](draw(st.sampled_from([1, 1, 2]))))
    return nn.Sequential(*layers), (in_channels, *shape)


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(stacks(), st.data())
def test_analytic_and_empirical_fields_agree(stack, data):
    net, shape = stack
    try:
        rf = receptive_field(net, shape)
    except ReceptiveFieldError as error:
        if "differ in size" in str(error):  # adaptive pooling with unequal windows: refused, as documented
            assume(False)
        assert "nothing but padding" in str(error)  # a global unit that sees only padding: nothing moves it
        assert not bool(input_gradient(net, shape, position=(0,) * (len(shape) - 1)).any())
        assume(False)
    except ValueError as error:  # input too small for a layer: torch must refuse it too
        assert "larger input_shape" in str(error)
        with pytest.raises(RuntimeError):
            net.eval()(torch.zeros(1, *shape))
        assume(False)
    with torch.no_grad():
        real = net.eval()(torch.zeros(1, *shape))
        positive = positive_copy(net)(torch.zeros(1, *shape, dtype=torch.float64))
    assert tuple(real.shape[2:]) == tuple(positive.shape[2:]) == rf.out_shape
    positions = [tuple(n // 2 for n in rf.out_shape), (0,) * len(rf.out_shape),
                 tuple(n - 1 for n in rf.out_shape),
                 tuple(data.draw(st.integers(0, n - 1)) for n in rf.out_shape)]
    for position in positions:  # the exact (clipped) field of any unit, borders included
        assert gradient_bounds(input_gradient(net, shape, position=position)) == rf.field_of(position)
    centre = positions[0]
    measured = empirical_receptive_field(net, shape)
    for dim, (i, n) in enumerate(zip(centre, shape[1:], strict=False)):
        first = rf.start[dim] + i * rf.jump[dim]
        seen = rf.field_of(centre)[dim] is not None  # a unit made by a padding layer sees nothing at all
        if seen and 0 <= first and first + rf.size[dim] <= n:  # the centre's field is not clipped: sizes agree
            assert measured[dim] == rf.size[dim]


# ------------------------------------------------------------------------------------- designs, plots and the widget
def test_designs_run_and_pace_time_differently():
    from course_utils.receptive_field.designs import i3d_style_net, late_fusion_net, uniform_3d_net
    from course_utils.receptive_field.plot import growth_steps

    for build in (late_fusion_net, uniform_3d_net, i3d_style_net):
        with torch.no_grad():
            assert build(channels=3).eval()(torch.zeros(1, 3, 16, 32, 32)).shape == (1, 3, 1, 1, 1)
        with pytest.raises(ValueError, match="channels must be an int >= 1, got 0"):
            build(channels=0)
    shape = (3, 16, 112, 112)
    names, sizes = growth_steps(receptive_field(late_fusion_net(), (3, 20, 64, 64)))
    assert names == ["input", "conv1", "pool1", "conv2", "gap"]
    assert sizes.tolist() == [[1, 1, 1], [1, 3, 3], [1, 6, 6], [1, 14, 14], [20, 64, 64]]
    uniform = {row.name: row.size for row in receptive_field(uniform_3d_net(), shape).layers}
    i3d = {row.name: row.size for row in receptive_field(i3d_style_net(), shape).layers}
    assert all(t == h == w for t, h, w in list(uniform.values())[:-1])          # time as fast as space
    assert i3d["pool1"][0] == i3d["conv1"][0] and i3d["pool2"][0] == i3d["conv2"][0]  # no early temporal pooling
    assert i3d["pool3"][0] > i3d["conv3"][0] and i3d["conv3"][1] > uniform["conv3"][1]
    with pytest.raises(ValueError, match="num_blocks"):
        uniform_3d_net(num_blocks=-1)


def test_plots_return_figures_and_check_their_input():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from course_utils.receptive_field.designs import late_fusion_net, uniform_3d_net
    from course_utils.receptive_field.plot import plot_field_over_frames, plot_growth

    shape = (3, 8, 32, 32)
    fields = {"late": receptive_field(late_fusion_net(), shape), "3d": receptive_field(uniform_3d_net(), shape)}
    figure = plot_growth(fields, title="growth")
    assert len(figure.axes) == 2 and len(figure.axes[0].lines) == 3  # two designs and the clip length
    assert max(figure.axes[0].lines[1].get_ydata()) == 8               # clipped at the clip length
    plt.close(figure)
    net = uniform_3d_net(channels=1)[:4]
    gradient = input_gradient(net, shape)
    box = receptive_field(net, shape).field_of()
    figure = plot_field_over_frames(gradient, box, frame_indices=range(8))
    boxed = [any(isinstance(p, Rectangle) and p.get_linestyle() == "--" for p in ax.patches) for ax in figure.axes]
    assert boxed == [box[0][0] <= t <= box[0][1] for t in range(8)]
    plt.close(figure)
    with pytest.raises(ValueError, match="fields"):
        plot_growth({})
    with pytest.raises(ValueError, match=r"\(T, H, W\)"):
        plot_field_over_frames(gradient[0], box)
    with pytest.raises(ValueError, match="frame_indices"):
        plot_field_over_frames(gradient, box, frame_indices=[8])


def test_widget_redraws_and_reports_the_edited_field():
    from course_utils.receptive_field.designs import i3d_style_net, late_fusion_net, uniform_3d_net
    from course_utils.receptive_field.widget import growth_widget, with_layer_geometry

    designs = {"late": late_fusion_net(), "i3d": i3d_style_net()}
    shape = (3, 16, 112, 112)
    widget = growth_widget(designs, shape)
    controls, text, image = widget.children
    design, layer = controls.children[0].children
    sliders = {s.description: s for box in controls.children[1:] for s in box.children}
    assert "late, conv1" in text.value and "1x14x14" in text.value and bytes(image.value).startswith(b"\x89PNG")
    design.value = "i3d"
    layer.value = "pool1"
    assert (sliders["kernel t"].value, sliders["kernel hw"].value, sliders["stride hw"].value) == (1, 3, 2)
    before = bytes(image.value)
    sliders["kernel t"].value = 3
    sliders["stride t"].value = 2
    edited = with_layer_geometry(designs["i3d"], "pool1", kernel=(3, 3, 3), stride=(2, 2, 2), dilation=(1, 1, 1))
    expected = [row.size for row in receptive_field(edited, shape).layers][-2]
    assert f"{'x'.join(map(str, expected))} (t x h x w)" in text.value and bytes(image.value) != before
    small = growth_widget({"late": late_fusion_net()}, (3, 4, 16, 16))
    small_sliders = {s.description: s for box in small.children[0].children[1:] for s in box.children}
    small.children[0].children[0].children[1].value = "pool1"
    small_sliders["kernel hw"].value = 7
    valid_image = bytes(small.children[2].value)
    small_sliders["dilation hw"].value = 4                   # a 25-pixel window on a 16-pixel frame
    error = small.children[1].value
    assert "Invalid setting" in error and "pool1" in error and "dilation 1x4x4" in error
    assert "= 25 positions" in error and "only 16 pixels" in error and "not updated" in error
    assert bytes(small.children[2].value) not in (b"", valid_image)   # redrawn, titled as the last valid setting
    assert all(s.style.description_width == "initial" for s in small_sliders.values())  # "dilation hw" not cut
    uniform = growth_widget({"uniform": uniform_3d_net()}, shape)
    uniform.children[0].children[0].children[1].value = "conv1"
    {s.description: s for box in uniform.children[0].children[1:] for s in box.children}["stride t"].value = 4
    assert "conv1 itself fits" in uniform.children[1].value and "pool3" in uniform.children[1].value
    assert isinstance(designs["i3d"].pool1, nn.MaxPool3d) and designs["i3d"].pool1.kernel_size == (1, 3, 3)
    with pytest.raises(ValueError, match="editable layers"):
        with_layer_geometry(designs["late"], "relu1", kernel=(1, 1, 1), stride=(1, 1, 1), dilation=(1, 1, 1))
    with pytest.raises(ValueError, match=r"kernel must be a tuple of 3 ints >= 1 \(t, h, w\), got \(0, 3, 3\)"):
        with_layer_geometry(designs["late"], "conv1", kernel=(0, 3, 3), stride=(1, 1, 1), dilation=(1, 1, 1))
    with pytest.raises(ValueError, match="designs"):
        growth_widget({}, shape)
