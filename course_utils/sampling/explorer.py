"""An interactive explorer of ``sample_clips``: sliders and a mode selector redrawing the sampling timeline.

Only the ipywidgets API shared by 7.7 (Colab) and 8 is used: ``IntSlider``, ``ToggleButtons``, ``HTML``,
``VBox``/``HBox`` and ``observe``; the timeline is shown by a ``course_utils.widgets.FigureView``.
"""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np

from course_utils.plot import plot_sampling_timeline
from course_utils.sampling.clips import MODES, sample_clips, train_branch
from course_utils.validation import validate_choice, validate_int
from course_utils.widgets import FigureView

# The sliders run from 1 to these maxima.
_SLIDER_MAX = {"num_frames": 128, "num_clips": 16, "clip_len": 16, "frame_interval": 8}


def describe_sampling(num_frames: int, num_clips: int, clip_len: int, frame_interval: int, *, mode: str,
                      seed: int = 0) -> str:
    """One line saying which MMAction2 case applies and how many distinct frames are decoded.

    Args:
        num_frames, num_clips, clip_len, frame_interval, mode: as in ``course_utils.sampling.sample_clips``.
        seed: seed of the train-mode draw (which frames repeat can depend on it).

    Returns:
        a short HTML-safe text, e.g. ``"train: one random start per window of 16 frames; 4 of 64 frames decoded
        (6%)"``.
    """
    branch = train_branch(num_frames, num_clips, clip_len, frame_interval)  # validates the four sizes
    if validate_choice(mode, "mode", MODES) == "train":
        avg = (num_frames - clip_len * frame_interval + 1) // num_clips
        case = {"segments": f"one random start per window of {avg} frames",
                "sorted": "random starts over the whole video, sorted",
                "rounded": "fixed rounded starts (video too short for a window per clip)",
                "zeros": "every clip starts at 0 (video shorter than one clip)"}[branch]
    else:
        case = "segment centres" if clip_len == 1 else "evenly spread fixed starts"
    # a frame used by several clips (or repeated inside one) is decoded once
    seed = validate_int(seed, "seed", minimum=0)
    decoded = np.unique(sample_clips(num_frames, num_clips, clip_len, frame_interval, mode=mode, rng=seed)).size
    return f"{mode}: {case}; {decoded} of {num_frames} frames decoded ({decoded / num_frames:.0%})"


def sampling_explorer(*, num_frames: int = 64, num_clips: int = 4, clip_len: int = 1, frame_interval: int = 1,
                      mode: str = "train", seed: int = 0) -> widgets.VBox:
    """Build the explorer: sliders for the four sizes, a train/test selector, a text line and the timeline plot.

    Every redraw samples train mode with ``numpy.random.default_rng(seed)``, so a setting always shows the same
    draw.

    Args:
        num_frames, num_clips, clip_len, frame_interval: initial slider values, ints from 1 to the sliders'
            maxima (``_SLIDER_MAX``: 128, 16, 16 and 8).
        mode: initial mode, ``"train"`` or ``"test"``.
        seed: seed of the train-mode draw, an int >= 0.

    Returns:
        a ``VBox`` holding the controls, an ``HTML`` line describing the case and an ``Image`` of the timeline.
    """
    seed = validate_int(seed, "seed", minimum=0)
    sample_clips(num_frames, num_clips, clip_len, frame_interval, mode=mode, rng=seed)  # validates the arguments
    start = {"num_frames": num_frames, "num_clips": num_clips, "clip_len": clip_len, "frame_interval": frame_interval}
    style = {"description_width": "110px"}
    sliders = {name: widgets.IntSlider(value=validate_int(start[name], name, minimum=1, maximum=high,
                                                          note="the slider's range"),
                                       min=1, max=high, description=name, style=style)
               for name, high in _SLIDER_MAX.items()}
    mode_buttons = widgets.ToggleButtons(options=["train", "test"], value=mode, description="mode", style=style)
    summary = widgets.HTML()
    plot = FigureView(dpi=72)

    def redraw(change: object = None) -> None:
        sizes = {name: slider.value for name, slider in sliders.items()}
        indices = sample_clips(sizes["num_frames"], sizes["num_clips"], sizes["clip_len"], sizes["frame_interval"],
                               mode=mode_buttons.value, rng=seed)
        summary.value = describe_sampling(sizes["num_frames"], sizes["num_clips"], sizes["clip_len"],
                                          sizes["frame_interval"], mode=mode_buttons.value, seed=seed)
        title = (f"{mode_buttons.value}: N={sizes['num_frames']}, K={sizes['num_clips']}, "
                 f"clip_len={sizes['clip_len']}, frame_interval={sizes['frame_interval']}")
        plot.show(plot_sampling_timeline(indices, sizes["num_frames"], num_segments=sizes["num_clips"], title=title))

    for control in (*sliders.values(), mode_buttons):
        control.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox([sliders["num_frames"], sliders["num_clips"]]),
                         widgets.HBox([sliders["clip_len"], sliders["frame_interval"]]),
                         mode_buttons, summary, plot.widget])
