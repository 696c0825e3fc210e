"""An interactive explorer of ``sample_clips``: sliders and a mode selector redrawing the sampling timeline.

Only the ipywidgets API shared by 7.7 (Colab) and 8 is used: ``IntSlider``, ``ToggleButtons``, ``HTML``, ``Image``,
``VBox``/``HBox`` and ``observe``. The plot is rendered to PNG bytes shown by an ``Image`` widget, so the widget
needs no output capture (which notebook executors handle unevenly) and its picture changes visibly on every redraw.
"""

from __future__ import annotations

import io

import ipywidgets as widgets
import matplotlib.pyplot as plt

from course_utils.plot import plot_sampling_timeline
from course_utils.sampling.clips import sample_clips, train_branch


def describe_sampling(num_frames: int, num_clips: int, clip_len: int, frame_interval: int, *, mode: str) -> str:
    """One line saying which MMAction2 case applies and how many frames are decoded.

    Args:
        num_frames, num_clips, clip_len, frame_interval, mode: as in ``course_utils.sampling.sample_clips``.

    Returns:
        a short HTML-safe text, e.g. ``"train: segments of 16 frames; 4 of 64 frames decoded (6%)"``.
    """
    decoded = num_clips * clip_len
    if mode == "train":
        branch = train_branch(num_frames, num_clips, clip_len, frame_interval)
        avg = (num_frames - clip_len * frame_interval + 1) // num_clips
        case = {"segments": f"one random start per window of {avg} frames",
                "sorted": "random starts over the whole video, sorted",
                "rounded": "fixed rounded starts (video too short for a window per clip)",
                "zeros": "every clip starts at 0 (video shorter than one clip)"}[branch]
    else:
        case = "segment centres" if clip_len == 1 else "evenly spread fixed starts"
    return f"{mode}: {case}; {decoded} of {num_frames} frames decoded ({decoded / num_frames:.0%})"


def sampling_explorer(*, num_frames: int = 64, num_clips: int = 4, clip_len: int = 1, frame_interval: int = 1,
                      mode: str = "train", seed: int = 0) -> widgets.VBox:
    """Build the explorer: sliders for the four sizes, a train/test selector, a text line and the timeline plot.

    Every redraw samples train mode with ``numpy.random.default_rng(seed)``, so a setting always shows the same
    draw.

    Args:
        num_frames, num_clips, clip_len, frame_interval: initial slider values (ints >= 1).
        mode: initial mode, ``"train"`` or ``"test"``.
        seed: seed of the train-mode draw.

    Returns:
        a ``VBox`` holding the controls, an ``HTML`` line describing the case and an ``Image`` of the timeline.
    """
    sample_clips(num_frames, num_clips, clip_len, frame_interval, mode=mode, rng=seed)  # validates the arguments
    style = {"description_width": "110px"}
    sliders = {
        "num_frames": widgets.IntSlider(value=num_frames, min=1, max=128, description="num_frames", style=style),
        "num_clips": widgets.IntSlider(value=num_clips, min=1, max=16, description="num_clips", style=style),
        "clip_len": widgets.IntSlider(value=clip_len, min=1, max=16, description="clip_len", style=style),
        "frame_interval": widgets.IntSlider(value=frame_interval, min=1, max=8, description="frame_interval",
                                            style=style),
    }
    mode_buttons = widgets.ToggleButtons(options=["train", "test"], value=mode, description="mode", style=style)
    summary = widgets.HTML()
    plot = widgets.Image(format="png")

    def redraw(change=None) -> None:
        sizes = {name: slider.value for name, slider in sliders.items()}
        indices = sample_clips(sizes["num_frames"], sizes["num_clips"], sizes["clip_len"], sizes["frame_interval"],
                               mode=mode_buttons.value, rng=seed)
        summary.value = describe_sampling(sizes["num_frames"], sizes["num_clips"], sizes["clip_len"],
                                          sizes["frame_interval"], mode=mode_buttons.value)
        title = (f"{mode_buttons.value}: N={sizes['num_frames']}, K={sizes['num_clips']}, "
                 f"clip_len={sizes['clip_len']}, frame_interval={sizes['frame_interval']}")
        figure = plot_sampling_timeline(indices, sizes["num_frames"], num_segments=sizes["num_clips"], title=title)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=72)
        plt.close(figure)
        plot.value = buffer.getvalue()

    for control in (*sliders.values(), mode_buttons):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([sliders["num_frames"], sliders["num_clips"]]),
                         widgets.HBox([sliders["clip_len"], sliders["frame_interval"]]),
                         mode_buttons, summary, plot])
