"""An interactive widget: change one layer's kernel, stride and dilation and watch the field growth curves move.

Only the part of the ipywidgets API shared by 7.7 (Colab) and 8 is used: ``Dropdown``, ``IntSlider``, ``HTML``,
``VBox``, ``HBox`` and ``observe``. The figure is drawn without pyplot and shown by a
``course_utils.widgets.FigureView``, under a one-line text summary, so the widget works (and can be tested) without
a notebook front end.
"""

from __future__ import annotations

import copy
import html
from collections.abc import Mapping, Sequence

import ipywidgets as widgets
from matplotlib.figure import Figure
from torch import nn

from course_utils.receptive_field.analytic import ReceptiveField, receptive_field, validate_input_shape
from course_utils.receptive_field.plot import plot_growth
from course_utils.validation import validate_instance, validate_int_tuple
from course_utils.widgets import FigureView

__all__ = ["EDITABLE_LAYERS", "growth_widget", "with_layer_geometry"]

#: The layer types the widget can edit.
EDITABLE_LAYERS = (nn.Conv3d, nn.MaxPool3d, nn.AvgPool3d)


def with_layer_geometry(net: nn.Sequential, name: str, *, kernel: tuple[int, int, int],
                        stride: tuple[int, int, int], dilation: tuple[int, int, int]) -> nn.Sequential:
    """Return a copy of ``net`` whose layer ``name`` gets a new kernel, stride and dilation (padding ``k // 2``-like).

    Args:
        net: an ``nn.Sequential`` whose top-level layer ``name`` is a ``Conv3d``, ``MaxPool3d`` or ``AvgPool3d``.
        name: the layer's name in ``net``.
        kernel, stride, dilation: ``(t, h, w)`` ints >= 1; ``AvgPool3d`` takes dilation 1 only.

    Returns:
        The new network (weights of a replaced convolution are freshly initialised: only geometry matters here).
    """
    validate_instance(net, "net", nn.Sequential, what="an nn.Sequential")
    layers = dict(net.named_children())
    editable = [n for n, layer in layers.items() if isinstance(layer, EDITABLE_LAYERS)]
    validate_instance(name, "name", str, what=f"the name of one of the editable layers {editable}")
    if name not in editable:
        raise ValueError(f"name must be one of the editable layers {editable}, got {name!r}")
    kernel, stride, dilation = (validate_int_tuple(values, label, length=3, minimum=1, layout="(t, h, w)")
                                for label, values in (("kernel", kernel), ("stride", stride), ("dilation", dilation)))
    old = layers[name]
    if isinstance(old, nn.Conv3d):
        padding = tuple(d * (k - 1) // 2 for k, d in zip(kernel, dilation, strict=False))
        new: nn.Module = nn.Conv3d(old.in_channels, old.out_channels, kernel, stride=stride, padding=padding,
                                   dilation=dilation)
    elif isinstance(old, nn.MaxPool3d):
        padding = tuple(k // 2 if p else 0 for k, p in zip(kernel, _triple(old.padding), strict=True))
        new = nn.MaxPool3d(kernel, stride=stride, padding=padding, dilation=dilation)
    else:
        if dilation != (1, 1, 1):
            raise ValueError(f"layer {name!r} is an AvgPool3d, which has no dilation; got dilation {dilation}")
        new = nn.AvgPool3d(kernel, stride=stride)
    result = copy.deepcopy(net)
    setattr(result, name, new)
    return result


def growth_widget(designs: Mapping[str, nn.Sequential], input_shape: Sequence[int]) -> widgets.VBox:
    """Build the widget: pick a design and one of its layers, set the layer's kernel, stride and dilation.

    Args:
        designs: design name -> ``nn.Sequential`` of 3D layers (e.g. from
            :mod:`course_utils.receptive_field.designs`); they are not modified.
        input_shape: ``(C, T, H, W)`` of one input clip.

    Returns:
        A ``VBox``: controls, a text line (``HTML``) with the edited design's final field, and the growth curves of
        all designs (an ``Image`` holding a PNG), redrawn on every change. An invalid setting turns the text line
        into an error naming the layer, the value and why, and titles the figure "NOT UPDATED" over the last valid
        setting. Its ``.children[1]`` and ``.children[2]`` are the text line and the image.
    """
    validate_instance(designs, "designs", Mapping, what="a dict mapping design names to nn.Sequential networks")
    if not designs:
        raise ValueError("designs must name at least one network, got an empty dict")
    input_shape = validate_input_shape(input_shape)
    for name, net in designs.items():
        wanted = "an nn.Sequential with a top-level Conv3d, MaxPool3d or AvgPool3d layer to edit"
        validate_instance(net, f"designs[{name!r}]", nn.Sequential, what=wanted)
        if not any(isinstance(child, EDITABLE_LAYERS) for child in net.children()):
            raise ValueError(f"designs[{name!r}] must be {wanted}, got none of these layers")
    original = {name: receptive_field(net, input_shape) for name, net in designs.items()}  # validates all
    design = widgets.Dropdown(options=list(designs), description="design", style={"description_width": "60px"})
    layer = widgets.Dropdown(description="layer", style={"description_width": "60px"})
    sliders = {key: widgets.IntSlider(min=1, max=high, description=key, continuous_update=False,
                                      style={"description_width": "initial"})  # "dilation hw" needs ~80px
               for key, high in (("kernel t", 7), ("kernel hw", 7), ("stride t", 4), ("stride hw", 4),
                                 ("dilation t", 4), ("dilation hw", 4))}
    text = widgets.HTML()
    image = FigureView(dpi=72)
    busy = {"syncing": False}
    last_valid: dict[str, object] = {"fields": None, "setting": ""}

    def layer_options(net: nn.Sequential) -> list[str]:
        return [n for n, child in net.named_children() if isinstance(child, EDITABLE_LAYERS)]

    def load_layer(*_: object) -> None:
        if busy["syncing"]:
            return
        child = getattr(designs[design.value], layer.value)
        busy["syncing"] = True
        for prefix, values in (("kernel", child.kernel_size), ("stride", child.stride),
                               ("dilation", getattr(child, "dilation", 1))):
            t, h, _w = _triple(values)
            sliders[f"{prefix} t"].value, sliders[f"{prefix} hw"].value = t, h
        avg = isinstance(child, nn.AvgPool3d)
        sliders["dilation t"].disabled = sliders["dilation hw"].disabled = avg
        busy["syncing"] = False
        redraw()

    def load_design(*_: object) -> None:
        busy["syncing"] = True
        options = layer_options(designs[design.value])
        layer.options = options
        layer.value = options[0]
        busy["syncing"] = False
        load_layer()

    def redraw(*_: object) -> None:
        if busy["syncing"]:
            return
        value = {key: slider.value for key, slider in sliders.items()}
        geometry = {p: (value[f"{p} t"], value[f"{p} hw"], value[f"{p} hw"]) for p in ("kernel", "stride", "dilation")}
        setting = f"{design.value}, {layer.value}: {_geometry_text(geometry)}"
        fields = dict(original)
        try:
            edited = with_layer_geometry(designs[design.value], layer.value, **geometry)
            fields[f"{design.value} (edited)"] = receptive_field(edited, input_shape)
        except ValueError as error:
            why = _why_invalid(designs[design.value], original[design.value], layer.value, geometry, error)
            text.value = (f"<b style='color:#b00020'>Invalid setting</b> &mdash; {html.escape(setting)}. "
                          f"{html.escape(why)} <i>The figure below is not updated: it shows the last valid "
                          f"setting.</i>")
            image.show(_growth_figure(last_valid["fields"], warning=True,
                                      title=f"NOT UPDATED (invalid setting). Last valid: {last_valid['setting']}"))
            return
        final = _before_global_pool(fields[f"{design.value} (edited)"])
        text.value = (f"{html.escape(setting)} &rarr; field before global pooling {'x'.join(map(str, final))} "
                      f"(t x h x w)")
        last_valid["fields"], last_valid["setting"] = fields, setting
        image.show(_growth_figure(fields, title=f"Field after each layer, edited {setting}"))

    design.observe(load_design, names="value")
    layer.observe(load_layer, names="value")
    for slider in sliders.values():
        slider.observe(redraw, names="value")
    load_design()
    keys = list(sliders)
    controls = widgets.HBox([widgets.VBox([design, layer]), widgets.VBox([sliders[k] for k in keys[0::2]]),
                             widgets.VBox([sliders[k] for k in keys[1::2]])])
    return widgets.VBox([controls, text, image.widget])


def _before_global_pool(field: ReceptiveField) -> tuple[int, ...]:
    rows = [row for row in field.layers if not row.kind.startswith("Adaptive")]
    return rows[-1].size if rows else (1,) * len(field.size)


def _growth_figure(fields: Mapping[str, ReceptiveField], *, title: str, warning: bool = False) -> Figure:
    figure = Figure(figsize=(10, 3.8), layout="constrained")
    plot_growth(fields, axes=figure.subplots(1, 2))
    figure.suptitle(title, color="#b00020" if warning else "black", fontweight="bold" if warning else "normal")
    return figure


def _why_invalid(net: nn.Sequential, field: ReceptiveField, name: str, geometry: Mapping[str, tuple[int, ...]],
                 error: ValueError) -> str:
    """Say which value of the edited layer ``name`` makes ``net`` fail (``field``: the unedited net's field)."""
    names = [row.name for row in field.layers]
    index = names.index(name)
    received = field.layers[index - 1].out_shape if index else field.input_shape[1:]  # (t, h, w) into the layer
    try:
        edited = with_layer_geometry(net, name, **geometry)
    except ValueError as refused:  # the layer itself refuses this geometry (e.g. a dilated AvgPool3d)
        return f"{refused}."
    padding = _triple(getattr(getattr(edited, name), "padding", 0))
    for axis, slider, unit, n, pad, k, d in zip(("t", "h and w"), ("t", "hw"), ("frames", "pixels"), received,
                                                padding, geometry["kernel"], geometry["dilation"],
                                                strict=False):  # h == w
        span = d * (k - 1) + 1
        if span > n + 2 * pad:
            padded = f" plus {pad} of padding on each side" if pad else ""
            return (f"Along {axis}, the window of {name} spans dilation x (kernel - 1) + 1 = {d} x {k - 1} + 1 = "
                    f"{span} positions, but {name} receives only {n} {unit}{padded}: lower kernel {slider} or "
                    f"dilation {slider}.")
    position = list(dict(net.named_children())).index(name)
    try:
        out = receptive_field(edited[:position + 1], field.input_shape).out_shape  # (t, h, w) out of the layer
    except ValueError:  # the edited layer fails in another way (e.g. a unit sees only padding): report the error
        return f"{error} (dimension 0 = t, 1 = h, 2 = w)."
    return (f"{name} itself fits, but its output ({'x'.join(map(str, out))}, t x h x w) is too small for a later "
            f"layer; lower stride t or stride hw. Later: {error} (dimension 0 = t, 1 = h, 2 = w).")


def _geometry_text(geometry: Mapping[str, tuple[int, ...]]) -> str:
    return ", ".join(f"{key} {'x'.join(map(str, values))}" for key, values in geometry.items())


def _triple(value: int | Sequence[int]) -> tuple[int, int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value, value)
