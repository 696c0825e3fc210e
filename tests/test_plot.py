"""Tests for course_utils.plot with the Agg backend."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from course_utils.data import make_videos, video_to_tensor  # noqa: E402
from course_utils.plot import animate_video, plot_frames, plot_sampling_timeline  # noqa: E402


@pytest.fixture(scope="module")
def videos():
    return make_videos(3, num_frames=8, size=16, seed=0)[0]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_plot_frames_new_figure(videos):
    fig = plot_frames(videos[0], title="a clip")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert ax.get_title() == "a clip"
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(i) for i in range(8)]
    image = ax.get_images()[0].get_array()
    assert image.shape == (16, 8 * 16 + 7 * 1, 3)
    assert np.array_equal(image[:, 17:33], videos[0, 1])


def test_plot_frames_into_given_axes_and_tensor_input(videos):
    fig, (left, right) = plt.subplots(1, 2)
    out = plot_frames(video_to_tensor(videos[1]), indices=[0, 7], ax=right)
    assert out is fig and not left.get_images() and len(right.get_images()) == 1
    assert np.array_equal(right.get_images()[0].get_array()[:, :16], videos[1, 0])


@pytest.mark.parametrize("indices, error", [([8], ValueError), ([-1], ValueError), ([], ValueError),
                                            ([[0, 1]], ValueError), ([0.5], TypeError)])
def test_plot_frames_bad_indices(videos, indices, error):
    with pytest.raises(error, match="indices"):
        plot_frames(videos[0], indices=indices)


def test_plot_frames_bad_video():
    with pytest.raises(ValueError, match="video"):
        plot_frames(np.zeros((4, 8, 8), dtype=np.uint8))
    with pytest.raises(TypeError, match="video"):
        plot_frames([[0]])


def test_animate_video_returns_html_and_closes_its_figure(videos):
    before = plt.get_fignums()
    html = animate_video(videos[0], fps=4)
    assert plt.get_fignums() == before, "no figure left open (it would print a still image in a notebook)"
    assert "<script" in html.data and html.data.count("data:image/jpeg;base64") == 8
    several = animate_video(videos, titles=["a", "b", "c"])
    assert several.data.count("data:image/jpeg;base64") == 8
    assert plt.get_fignums() == before


def test_animate_video_bad_input(videos):
    with pytest.raises(ValueError, match="fps"):
        animate_video(videos[0], fps=0)
    with pytest.raises(ValueError, match="titles"):
        animate_video(videos, titles=["only one"])
    with pytest.raises(ValueError, match="same number of frames"):
        animate_video([videos[0], videos[1, :4]])


def test_sampling_timeline(videos):
    indices = np.array([[0, 2, 4], [5, 7, 9], [10, 12, 14]])
    fig = plot_sampling_timeline(indices, 16, num_segments=3, title="clips")
    ax = fig.axes[0]
    assert ax.get_title() == "clips" and ax.get_xlabel() == "frame index" and ax.get_ylabel() == "clip"
    lines = [line for line in ax.get_lines() if line.get_marker() == "o"]
    assert len(lines) == 3
    assert np.array_equal(lines[1].get_xdata(), [5, 7, 9]) and np.array_equal(lines[1].get_ydata(), [1, 1, 1])
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(dashed) == 2
    assert ax.get_xlim() == (-0.5, 15.5)


def test_sampling_timeline_one_dimensional_and_given_axes():
    fig, ax = plt.subplots()
    assert plot_sampling_timeline(np.array([1, 6, 11]), 16, ax=ax) is fig
    assert len([line for line in ax.get_lines() if line.get_marker() == "o"]) == 3


@pytest.mark.parametrize(
    "indices, num_frames, kwargs, error, word",
    [
        (np.array([[0, 16]]), 16, {}, ValueError, "frame_indices"),
        (np.array([[0.0, 1.0]]), 16, {}, TypeError, "frame_indices"),
        (np.zeros((1, 1, 1), dtype=int), 16, {}, ValueError, "frame_indices"),
        (np.array([[0]]), 0, {}, ValueError, "num_frames"),
        (np.array([[0]]), 16, {"num_segments": 0}, ValueError, "num_segments"),
    ],
)
def test_sampling_timeline_bad_input(indices, num_frames, kwargs, error, word):
    with pytest.raises(error, match=word):
        plot_sampling_timeline(indices, num_frames, **kwargs)


@pytest.mark.parametrize("num_clips", [1, 8, 16])
def test_sampling_timeline_own_figure_grows_with_num_clips(num_clips):
    indices = np.arange(num_clips)[:, None]                                     # (num_clips, 1)
    fig = plot_sampling_timeline(indices, 32)
    height = fig.get_figheight()
    assert height >= 1.2 + 0.3 * num_clips - 1e-9, "each clip row gets at least 0.3 inch"
    assert [int(t) for t in fig.axes[0].get_yticks()] == list(range(num_clips)), "every row labelled"
    if num_clips > 1:
        smaller = plot_sampling_timeline(indices[:-1], 32)
        assert smaller.get_figheight() < height


def test_sampling_timeline_many_clips_caps_height_and_thins_labels():
    fig = plot_sampling_timeline(np.arange(100)[:, None], 100)                  # (100, 1)
    assert fig.get_figheight() <= 1.2 + 0.3 * 24 + 1e-9
    ticks = fig.axes[0].get_yticks()
    assert 1 < len(ticks) < 100 and ticks[0] == 0


def test_sampling_timeline_given_axes_keeps_figure_size():
    fig, ax = plt.subplots(figsize=(5, 2))
    plot_sampling_timeline(np.arange(40)[:, None], 40, ax=ax)                  # (40, 1) in a 2-inch figure
    assert tuple(fig.get_size_inches()) == (5, 2)
    assert len(ax.get_yticks()) < 40, "labels thinned so they do not overlap"
