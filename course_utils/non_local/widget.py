"""What a non-local block looks at: the gaussian affinities of one query position over a whole video.

``query_affinities`` computes ``f(x_q, x_j) / C(x)`` of the gaussian pairwise function for one query ``q`` and every
position ``j`` of the ``T x H x W`` video, ``plot_query_affinities`` draws them under the frames, and
``affinity_widget`` wraps both in sliders that move the query (ipywidgets API shared by 7.7 and 8; the picture is a
``course_utils.widgets.FigureView``).
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils.non_local.block import pairwise_weights
from course_utils.validation import validate_instance, validate_int_tuple, validate_number, validate_tensor
from course_utils.widgets import FigureView


def centred_features(video: torch.Tensor, *, scale: float = 4.0) -> torch.Tensor:
    """Pixels as features: ``scale * (video - its mean colour)``, so the object and background point apart.

    Args:
        video: ``(C, T, H, W)`` float tensor (e.g. from ``course_utils.data.video_to_tensor``).
        scale: multiplies the features; the gaussian ``exp(x_i . x_j)`` gets sharper as it grows.

    Returns:
        ``(C, T, H, W)`` float64 features.
    """
    validate_tensor(video, "video", ndim=4, layout="(C, T, H, W)", dtype="floating")
    scale = validate_number(scale, "scale", greater_than=0)
    video = video.double()
    return scale * (video - video.mean(dim=(1, 2, 3), keepdim=True))  # (C, T, H, W)


def _validate_query(query: tuple[int, int, int], shape: tuple[int, ...]) -> tuple[int, int, int]:
    """Return ``query`` as three ints ``(t, y, x)`` inside a ``(T, H, W)`` grid of ``shape``, or raise."""
    t, y, x = validate_int_tuple(query, "query", length=3, minimum=0, layout="(t, y, x)")
    for value, size, name in zip((t, y, x), shape, ("t", "y", "x"), strict=True):
        if value >= size:
            raise ValueError(f"query must lie inside the (T, H, W) = {tuple(shape)} video, got {name}={value} "
                             f"(allowed 0..{size - 1})")
    return t, y, x


def query_affinities(features: torch.Tensor, query: tuple[int, int, int]) -> torch.Tensor:
    """Gaussian non-local weights ``softmax_j(x_q . x_j)`` of one query over every position.

    Args:
        features: ``(C, T, H, W)``.
        query: ``(t, y, x)`` position of the query.

    Returns:
        ``(T, H, W)`` weights, same dtype as ``features``, summing to 1.
    """
    validate_tensor(features, "features", ndim=4, layout="(C, T, H, W)", dtype="floating")
    channels, num_frames, height, width = features.shape
    t, y, x = _validate_query(query, (num_frames, height, width))
    theta_x = features[:, t, y, x].reshape(1, 1, channels)  # (C,) -> (B=1, N=1, C)
    phi_x = features.reshape(1, channels, -1)  # (C, T, H, W) -> (1, C, M)
    weights = pairwise_weights(theta_x, phi_x, "gaussian")  # (1, 1, M)
    return weights.reshape(num_frames, height, width)  # (1, 1, M) -> (T, H, W)


def plot_query_affinities(video: torch.Tensor, query: tuple[int, int, int], *, scale: float = 4.0,
                          axes: np.ndarray | None = None) -> Figure:
    """Frames (top row, query marked) and the query's gaussian weights on every frame (bottom row).

    Args:
        video: ``(C, T, H, W)`` float tensor in [0, 1].
        query: ``(t, y, x)``.
        scale: feature scale, see ``centred_features``.
        axes: optional ``(2, T)`` array of matplotlib axes; a new figure is made if None.

    Returns:
        the figure.
    """
    weights = query_affinities(centred_features(video, scale=scale), query).cpu().numpy()  # (T, H, W)
    num_frames = video.shape[1]
    t, y, x = _validate_query(query, video.shape[1:])
    if axes is None:
        fig = Figure(figsize=(1.25 * num_frames + 0.6, 3.3), layout="constrained")
        axes = fig.subplots(2, num_frames, squeeze=False)
    else:
        validate_instance(axes, "axes", np.ndarray, what=f"None or a (2, T={num_frames}) array of matplotlib axes")
        if axes.shape != (2, num_frames):
            raise ValueError(f"axes must be None or a (2, T={num_frames}) array of matplotlib axes, "
                             f"got shape {axes.shape}")
        fig = axes[0, 0].figure
    frames = video.detach().cpu().permute(1, 2, 3, 0).clamp(0, 1).numpy()  # (C, T, H, W) -> (T, H, W, C)
    for index in range(num_frames):
        axes[0, index].imshow(frames[index])
        axes[1, index].imshow(weights[index], cmap="magma", vmin=0, vmax=weights.max())
        axes[0, index].set_title(f"t={index}", fontsize=11)
        axes[1, index].set_xlabel(f"sum {weights[index].sum():.2f}", fontsize=11)
        for ax in axes[:, index]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, t].plot([x], [y], marker="+", color="cyan", markersize=14, markeredgewidth=2.5)
    axes[0, 0].set_ylabel("video", fontsize=11)
    axes[1, 0].set_ylabel("f / C", fontsize=11)
    fig.suptitle(f"Gaussian weights of the query (t={t}, y={y}, x={x}) over all T x H x W positions",
                 fontsize=12)
    return fig


def affinity_widget(video: torch.Tensor, *, scale: float = 4.0,
                    query: tuple[int, int, int] | None = None) -> widgets.VBox:
    """Sliders for the query's (t, y, x) above the picture of its gaussian weights and a text summary.

    Args:
        video: ``(C, T, H, W)`` float tensor in [0, 1].
        scale: feature scale, see ``centred_features``.
        query: the starting query; default the video's centre.

    Returns:
        ``VBox([HBox(sliders), Label(summary), Image(picture)])``; moving a slider redraws the picture and the
        summary.
    """
    features = centred_features(video, scale=scale)  # validates video and scale
    _, num_frames, height, width = video.shape
    start = _validate_query(query, (num_frames, height, width)) if query is not None else (
        num_frames // 2, height // 2, width // 2)
    sliders = [widgets.IntSlider(value=value, min=0, max=size - 1, description=name, continuous_update=False)
               for value, size, name in zip(start, (num_frames, height, width), ("t", "y", "x"), strict=False)]
    summary = widgets.Label()
    picture = FigureView(dpi=90)

    def redraw(_change: object = None) -> None:
        current = tuple(slider.value for slider in sliders)
        per_frame = query_affinities(features, current).sum(dim=(1, 2))  # (T,)
        summary.value = (f"query (t={current[0]}, y={current[1]}, x={current[2]}); weight per frame: "
                         + " ".join(f"{value:.2f}" for value in per_frame.tolist()))
        picture.show(plot_query_affinities(video, current, scale=scale))

    for slider in sliders:
        slider.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(sliders), summary, picture.widget])
