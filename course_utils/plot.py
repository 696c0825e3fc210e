"""Plot helpers for videos: a frame strip, an inline animation, and a timeline of sampled frame indices.

Every helper draws into its own figure (or the given ``ax``), returns it, never calls ``plt.show()`` and never
changes matplotlib's global settings.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.animation import FuncAnimation, HTMLWriter
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_utils.validation import validate_instance, validate_int, validate_int_array

if TYPE_CHECKING:
    from IPython.display import HTML

__all__ = ["plot_frames", "animate_video", "plot_sampling_timeline"]

_ROW_INCHES = 0.3            # height of one clip row in a timeline figure the helper creates itself
_MAX_FIGURE_ROWS = 24        # beyond this many clips the figure stops growing and rows get thinner
_LABEL_INCHES = 0.2          # at most one y tick label per this much height (10-point text)


Video = np.ndarray | torch.Tensor
_VIDEO = "uint8 (T, H, W, 3) or float (3, T, H, W)"


def _to_frames(video: Video, name: str = "video") -> np.ndarray:
    """(T, H, W, 3) uint8 from uint8 (T, H, W, 3) or float (C, T, H, W) in [0, 1], array or tensor."""
    if isinstance(video, torch.Tensor):
        video = video.detach().cpu().numpy()
    validate_instance(video, name, np.ndarray, what=f"a numpy array or torch tensor, {_VIDEO}")
    uint8, floating = video.dtype == np.uint8, np.issubdtype(video.dtype, np.floating)
    if not (uint8 or floating):
        raise TypeError(f"{name} must be {_VIDEO}, got dtype {video.dtype}")
    if video.ndim == 4 and uint8 and video.shape[-1] == 3:
        return video
    if video.ndim == 4 and floating and video.shape[0] == 3:
        frames = np.clip(video, 0.0, 1.0).transpose(1, 2, 3, 0)                # (C, T, H, W) -> (T, H, W, C)
        return np.round(frames * 255).astype(np.uint8)
    raise ValueError(f"{name} must be {_VIDEO}, got {video.dtype} of shape {video.shape}")


def _validate_axes_and_title(ax: Axes | None, title: str | None) -> None:
    if ax is not None:
        validate_instance(ax, "ax", Axes, what="None or a matplotlib Axes")
    if title is not None:
        validate_instance(title, "title", str, what="None or a str")


def plot_frames(video: Video, *, indices: Sequence[int] | np.ndarray | None = None, ax: Axes | None = None,
                title: str | None = None) -> Figure:
    """Draw frames of a video side by side in one axes, each labelled with its frame index.

    Args:
        video: uint8 (T, H, W, 3) or float (3, T, H, W) in [0, 1], numpy or torch.
        indices: frame indices to show, 1-D ints in [0, T) (default: every frame, at most 16 evenly spaced).
        ax: axes to draw into (default: a new figure sized to the strip).
        title: axes title.

    Returns:
        The matplotlib Figure.
    """
    frames = _to_frames(video)
    _validate_axes_and_title(ax, title)
    num_frames, height, width, _ = frames.shape
    if indices is None:
        indices = np.unique(np.linspace(0, num_frames - 1, min(num_frames, 16)).round().astype(int))
    indices = validate_int_array(indices, "indices", ndim=1, minimum=0, below=num_frames, allow_empty=False)
    gap = max(1, width // 16)
    strip = np.full((height, len(indices) * (width + gap) - gap, 3), 255, dtype=np.uint8)
    for k, i in enumerate(indices):
        strip[:, k * (width + gap): k * (width + gap) + width] = frames[i]
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(1.1 * len(indices), 14), 1.8), layout="constrained")
    fig = ax.figure
    ax.imshow(strip, interpolation="nearest")
    ax.set_xticks([k * (width + gap) + width / 2 - 0.5 for k in range(len(indices))],
                  [str(int(i)) for i in indices])
    ax.set_yticks([])
    ax.set_xlabel("frame index t")
    if title is not None:
        ax.set_title(title)
    return fig


def animate_video(video: Video | Sequence[Video], *, fps: int = 8, titles: Sequence[str] | None = None) -> HTML:
    """An inline, looping animation of one video or of several side by side, for a notebook.

    Frames are embedded as JPEG images (much smaller than PNG for noisy frames); the figure is closed, so the
    notebook shows only the animation, not an extra still image.

    Args:
        video: one video, uint8 (T, H, W, 3) or float (3, T, H, W), or several of the same length, uint8
            (N, T, H, W, 3) or a list of videos.
        fps: playback frames per second, a positive int.
        titles: None or one title per video.

    Returns:
        IPython.display.HTML holding the animation's player.
    """
    from IPython.display import HTML

    fps = validate_int(fps, "fps", minimum=1)
    if isinstance(video, (list, tuple)):
        clips = [_to_frames(v, "video[i]") for v in video]
    elif getattr(video, "ndim", None) == 5:
        clips = [_to_frames(v, "video[i]") for v in video]
    else:
        clips = [_to_frames(video)]
    if len({c.shape[0] for c in clips}) != 1:
        raise ValueError(f"videos must all have the same number of frames, got {[c.shape[0] for c in clips]}")
    if titles is not None:
        validate_instance(titles, "titles", (list, tuple), what="None or a list of str, one per video")
        if len(titles) != len(clips):
            raise ValueError(f"titles must hold one title per video ({len(clips)}), got {len(titles)}")
    num_frames = clips[0].shape[0]
    fig, axes = plt.subplots(1, len(clips), figsize=(1.2 * len(clips), 1.45), dpi=80, squeeze=False)
    images = []
    for k, (ax, clip) in enumerate(zip(axes[0], clips, strict=False)):
        images.append(ax.imshow(clip[0], interpolation="nearest"))
        ax.set_xticks([])
        ax.set_yticks([])
        if titles is not None:
            ax.set_title(titles[k], fontsize=8)
    counter = fig.text(0.01, 0.02, "", fontsize=8)
    fig.tight_layout()

    def draw(t: int) -> list:
        for image, clip in zip(images, clips, strict=False):
            image.set_data(clip[t])
        counter.set_text(f"t = {t}")
        return [*images, counter]

    animation = FuncAnimation(fig, draw, frames=num_frames, interval=1000 / fps, blit=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "animation.html"
            writer = HTMLWriter(fps=fps, embed_frames=True, default_mode="loop")
            writer.frame_format = "jpeg"
            animation.save(str(path), writer=writer, dpi=80)
            html = path.read_text()
    finally:
        plt.close(fig)
    return HTML(html)


def plot_sampling_timeline(frame_indices: Sequence[int] | np.ndarray, num_frames: int, *,
                           num_segments: int | None = None, ax: Axes | None = None, title: str | None = None) -> Figure:
    """Show which frames each clip takes: one row per clip over the video's frame axis.

    Args:
        frame_indices: int array (num_clips, clip_len), or (num_clips,) for one frame per clip (TSN snippets).
        num_frames: frames in the video; the x axis spans [0, num_frames).
        num_segments: if given, the boundaries of that many equal segments are drawn as dashed lines.
        ax: axes to draw into (default: a new figure whose height grows by 0.3 inch per clip, up to 24 clips;
            with more clips, or in a given axes too small for one label per row, only every k-th row is labelled).
        title: axes title.

    Returns:
        The matplotlib Figure.
    """
    num_frames = validate_int(num_frames, "num_frames", minimum=1)
    indices = validate_int_array(frame_indices, "frame_indices", ndim=(1, 2), minimum=0, below=num_frames,
                                 allow_empty=False, layout="(num_clips, clip_len) or (num_clips,)")
    if indices.ndim == 1:
        indices = indices[:, None]                                              # (num_clips,) -> (num_clips, 1)
    if num_segments is not None:
        num_segments = validate_int(num_segments, "num_segments", minimum=1)
    _validate_axes_and_title(ax, title)
    num_clips = indices.shape[0]
    if ax is None:
        height = 1.2 + _ROW_INCHES * min(num_clips, _MAX_FIGURE_ROWS)          # title + x axis + the rows
        fig, ax = plt.subplots(figsize=(7, height), layout="constrained")
    fig = ax.figure
    axes_inches = ax.get_position().height * fig.get_figheight()
    label_step = max(1, math.ceil(num_clips * _LABEL_INCHES / axes_inches))
    rows = np.arange(num_clips)
    ax.barh(rows, num_frames, left=-0.5, height=0.5, color="0.9", zorder=0)
    colours = plt.get_cmap("tab10")(rows % 10)
    for row, clip in enumerate(indices):
        ax.plot(clip, np.full(clip.shape, row), "-o", color=colours[row], markersize=5, linewidth=1)
    if num_segments is not None:
        for k in range(1, num_segments):
            ax.axvline(k * num_frames / num_segments - 0.5, color="0.4", linestyle="--", linewidth=0.8)
    ax.set_xlim(-0.5, num_frames - 0.5)
    ax.set_ylim(num_clips - 0.5, -0.5)
    ax.set_yticks(rows[::label_step], [str(r) for r in rows[::label_step]])
    ax.set_xlabel("frame index")
    ax.set_ylabel("clip")
    if title is not None:
        ax.set_title(title)
    return fig
