"""Figures for notebook 04: a measured field drawn over a stack of frames, and field growth per layer."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.colors import PowerNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import StrMethodFormatter

from course_utils.receptive_field.analytic import ReceptiveField
from course_utils.validation import validate_instance, validate_int_array, validate_tensor

__all__ = ["growth_steps", "plot_field_over_frames", "plot_growth"]


def growth_steps(field: ReceptiveField) -> tuple[list[str], np.ndarray]:
    """Return the names and field sizes of the input and of every layer with a window, a stride or padding.

    Args:
        field: a result of :func:`course_utils.receptive_field.receptive_field`.

    Returns:
        ``(names, sizes)``: names starting with ``"input"``; sizes an int64 array (steps, ndim), one row per name.
    """
    validate_instance(field, "field", ReceptiveField, what="a ReceptiveField (from receptive_field(net, shape))")
    rows = [layer for layer, geometry in zip(field.layers, field.geometries, strict=False)
            if max(geometry.kernel + geometry.stride + geometry.pad_left + geometry.pad_right) > 1
            or max(geometry.pad_left + geometry.pad_right) > 0]
    names = ["input"] + [layer.name for layer in rows]
    sizes = np.array([(1,) * len(field.size)] + [layer.size for layer in rows], dtype=np.int64)  # (steps, ndim)
    return names, sizes


def plot_growth(fields: Mapping[str, ReceptiveField], *, axes: Sequence[plt.Axes] | None = None,
                title: str | None = None) -> Figure:
    """Plot the temporal and the spatial field size after each layer, one line per design.

    Sizes are clipped at the input's extent (the dotted lines): past it, a unit sees the whole clip or frame.

    Args:
        fields: design name -> receptive field of a network on a (C, T, H, W) input.
        axes: two axes (time, space); a new figure when None.
        title: figure title.

    Returns:
        The figure.
    """
    wanted = "a dict mapping design names to receptive fields of 3D (C, T, H, W) inputs"
    validate_instance(fields, "fields", Mapping, what=wanted)
    for field in fields.values():
        validate_instance(field, "fields[...]", ReceptiveField, what="a ReceptiveField")
    if not fields or any(len(field.size) != 3 for field in fields.values()):
        raise ValueError(f"fields must be {wanted}, got {len(fields)} fields")
    _validate_axes(axes, 2, "two axes (time, space)")
    if axes is None:
        figure, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    figure = axes[0].figure
    for (name, field), marker in zip(fields.items(), "osd^v<>", strict=False):
        _, sizes = growth_steps(field)
        sizes = np.minimum(sizes, np.array(field.input_shape[1:]))  # (steps, 3): what a unit can see of this clip
        depth = np.arange(len(sizes))
        axes[0].plot(depth, sizes[:, 0], marker=marker, label=name)
        axes[1].plot(depth, sizes[:, 1], marker=marker, label=name)
    num_frames, height = next(iter(fields.values())).input_shape[1:3]
    limits = []
    for ax, limit, what in ((axes[0], num_frames, "frames in the clip"), (axes[1], height, "frame height")):
        limits.append(ax.axhline(limit, color="grey", linestyle=":", label=f"{what} ({limit})"))
        ax.set_yscale("log", base=2)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:g}"))  # 16 rather than 2^4
        ax.set_xlabel("depth (convolution and pooling layers)")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("temporal field (frames, clipped)")
    axes[1].set_ylabel("spatial field (pixels of height, clipped)")
    axes[0].set_title("time")
    axes[1].set_title("space")
    axes[0].legend(handles=limits[:1], fontsize="small", loc="lower right")  # the designs are named on the right
    axes[1].legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return figure


def plot_field_over_frames(gradient: torch.Tensor, box: Sequence[tuple[int, int] | None] | None = None, *,
                           frame_indices: Sequence[int] | None = None, axes: Sequence[plt.Axes] | None = None,
                           title: str | None = None) -> Figure:
    """Draw a measured field (input gradient) over a row of frames, with the analytic box outlined.

    Args:
        gradient: tensor (T, H, W), non-negative, e.g. from
            :func:`course_utils.receptive_field.empirical.input_gradient`.
        box: analytic ``((t0, t1), (h0, h1), (w0, w1))`` inclusive bounds, e.g. ``ReceptiveField.field_of()``.
        frame_indices: which frames to draw; all by default.
        axes: one axes per drawn frame (e.g. one row of a grid); a new figure when None.
        title: label written to the left of the first frame (the row's name).

    Returns:
        The figure. Colour is the gradient on a power scale (zero is white); the box is dashed red.
    """
    validate_tensor(gradient, "gradient", ndim=3, layout="(T, H, W)")
    if box is not None:
        wanted = "None or ((t0, t1), (h0, h1), (w0, w1)), e.g. ReceptiveField.field_of()"
        validate_instance(box, "box", (tuple, list), what=wanted)
        if len(box) != 3:
            raise ValueError(f"box must be {wanted}, got {len(box)} entries")
    values = gradient.detach().cpu().double().numpy()
    frames = (list(range(values.shape[0])) if frame_indices is None else validate_int_array(
        frame_indices, "frame_indices", ndim=1, minimum=0, below=values.shape[0], allow_empty=False).tolist())
    _validate_axes(axes, len(frames), f"one axes per drawn frame ({len(frames)})")
    if axes is None:
        figure, axes = plt.subplots(1, len(frames), figsize=(1.1 * len(frames), 1.6), layout="constrained",
                                    squeeze=False)
        axes = axes[0]
    figure = axes[0].figure
    peak = values.max() if values.max() > 0 else 1.0
    shown = np.ma.masked_equal(values / peak, 0.0)  # zero gradient stays white
    colours = plt.get_cmap("viridis").with_extremes(bad="white")
    for ax, t in zip(axes, frames, strict=False):
        ax.imshow(shown[t], cmap=colours, norm=PowerNorm(0.3, vmin=0.0, vmax=1.0), interpolation="nearest")
        if box is not None and box[0] is not None and box[0][0] <= t <= box[0][1]:
            (h0, h1), (w0, w1) = box[1], box[2]
            ax.add_patch(Rectangle((w0 - 0.5, h0 - 0.5), w1 - w0 + 1, h1 - h0 + 1, fill=False, edgecolor="red",
                                   linestyle="--", linewidth=1.0))
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"t={t}", fontsize="small")
    if title:
        axes[0].set_ylabel(title, fontsize="small")
    return figure


def _validate_axes(axes: Sequence[plt.Axes] | None, count: int, what: str) -> None:
    """Accept None or a sequence (list, tuple, 1-D array) of ``count`` matplotlib axes."""
    if axes is None:
        return
    validate_instance(axes, "axes", (list, tuple, np.ndarray), what=f"None or {what}")
    for index, ax in enumerate(axes):
        validate_instance(ax, f"axes[{index}]", plt.Axes, what="a matplotlib Axes")
    if len(axes) != count:
        raise ValueError(f"axes must be None or {what}, got {len(axes)}")
