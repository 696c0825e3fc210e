"""Tests for course_utils.data: shapes, determinism, balance, bad input, and the designed class properties."""

import numpy as np
import pytest
import torch

from course_utils.data import (
    CLASS_GROUPS,
    CLASS_NAMES,
    SyntheticVideos,
    group_accuracy,
    make_videos,
    video_to_tensor,
)


def _object_mask(videos):
    """(N, T, H, W) bool: pixels far from the frame's median colour (the object)."""
    median = np.median(videos, axis=(2, 3), keepdims=True)                       # (N, T, 1, 1, 3)
    return (np.abs(videos.astype(np.int16) - median).max(axis=-1)) > 40


def _object_column(videos):
    """(N, T) circular mean column of the object in each frame, rounded to an int in [0, W)."""
    width = videos.shape[3]
    cols = _object_mask(videos).sum(axis=2)                                     # (N, T, W)
    angle = 2 * np.pi * np.arange(width) / width
    z = (cols * np.exp(1j * angle)).sum(axis=-1)                                # (N, T)
    return np.round(np.angle(z) / (2 * np.pi) * width).astype(int) % width


def test_shapes_dtypes_and_labels():
    videos, labels = make_videos(20, num_frames=8, size=32, seed=1)
    assert videos.shape == (20, 8, 32, 32, 3) and videos.dtype == np.uint8
    assert labels.shape == (20,) and labels.dtype == np.int64
    assert len(CLASS_NAMES) == 8
    assert sorted(c for g in CLASS_GROUPS.values() for c in g) == list(range(8))


@pytest.mark.parametrize("num_videos", [8, 19, 100])
def test_balanced_and_shuffled(num_videos):
    _, labels = make_videos(num_videos, num_frames=4, size=16, seed=2)
    counts = np.bincount(labels, minlength=8)
    assert counts.max() - counts.min() <= 1
    if num_videos >= 19:
        assert not np.array_equal(labels, np.resize(np.arange(8), num_videos)), "labels must be shuffled"


def test_classes_subset_keeps_ids():
    _, labels = make_videos(30, num_frames=4, size=16, classes=(6, 2))
    assert set(labels.tolist()) == {2, 6}
    assert abs(np.sum(labels == 2) - np.sum(labels == 6)) == 0


def test_deterministic_and_seed_dependent():
    a, la = make_videos(16, num_frames=8, size=32, seed=5)
    b, lb = make_videos(16, num_frames=8, size=32, seed=5)
    c, _ = make_videos(16, num_frames=8, size=32, seed=6)
    assert np.array_equal(a, b) and np.array_equal(la, lb)
    assert not np.array_equal(a, c)


@pytest.mark.parametrize(
    "kwargs, error, word",
    [
        ({"num_videos": 0}, ValueError, "num_videos"),
        ({"num_videos": 2.0}, TypeError, "num_videos"),
        ({"num_videos": 4, "num_frames": 7}, ValueError, "num_frames"),
        ({"num_videos": 4, "num_frames": 2}, ValueError, "num_frames"),
        ({"num_videos": 4, "size": 8}, ValueError, "size"),
        ({"num_videos": 4, "seed": -1}, ValueError, "seed"),
        ({"num_videos": 4, "seed": True}, TypeError, "seed"),
        ({"num_videos": 4, "classes": (10,)}, ValueError, "classes"),  # 8 and 9: the opt-in relation group
        ({"num_videos": 4, "classes": ()}, ValueError, "classes"),
        ({"num_videos": 4, "classes": (1, 1)}, ValueError, "classes"),
        ({"num_videos": 4, "classes": "01"}, TypeError, "classes"),
    ],
)
def test_bad_arguments(kwargs, error, word):
    num_videos = kwargs.pop("num_videos")
    with pytest.raises(error, match=word):
        make_videos(num_videos, **kwargs)


def test_direction_classes_are_time_reverses():
    right, _ = make_videos(24, seed=3, classes=(3,))
    left, _ = make_videos(24, seed=3, classes=(2,))
    assert np.array_equal(left, right[:, ::-1])
    columns = _object_column(right)
    step = (np.diff(columns, axis=1) + 32) % 64 - 32                            # (N, T-1) wrapped shift
    assert (step > 0).all(), "a right-moving object moves right between every pair of consecutive frames"


def test_direction_single_frames_identically_distributed():
    # every frame's object column is uniform on [0, W) in both classes: compare histograms at several times
    videos, labels = make_videos(800, num_frames=8, size=32, seed=4, classes=(2, 3))
    columns = _object_column(videos)                                            # (N, T)
    for t in (0, 3, 7):
        for cls in (2, 3):
            hist = np.bincount(columns[labels == cls, t] // 8, minlength=4)     # 4 bins of 8 columns, 400 videos
            chi2 = ((hist - 100) ** 2 / 100).sum()
            assert chi2 < 16.3, (t, cls, hist)                                  # df=3, p ~ 0.001


def test_motion_visible_in_frame_differences():
    videos, labels = make_videos(64, seed=7, classes=(2, 3))
    diff = np.abs(np.diff(videos.astype(np.int16), axis=1)).max(axis=-1)       # (N, T-1, H, W)
    assert ((diff > 60).sum(axis=(2, 3)) > 0).all(), "the object must change pixels between consecutive frames"
    step = (np.diff(_object_column(videos), axis=1) + 32) % 64 - 32            # (N, T-1)
    guess = np.where(np.median(step, axis=1) > 0, 3, 2)
    assert np.array_equal(guess, labels)


def test_order_classes_are_time_reverses_with_equal_colour_counts():
    red_green, _ = make_videos(24, seed=8, classes=(4,))
    green_red, _ = make_videos(24, seed=8, classes=(5,))
    assert np.array_equal(green_red, red_green[:, ::-1])
    videos = np.concatenate([red_green, green_red])
    mask = _object_mask(videos)                                                 # (N, T, H, W)
    red_minus_green = (videos[..., 0].astype(int) - videos[..., 1]) * mask      # (N, T, H, W)
    is_red = red_minus_green.sum(axis=(2, 3)) > 0                               # (N, T)
    assert (is_red.sum(axis=1) == 8).all(), "every order video has exactly 8 red and 8 green frames"
    assert is_red[:24, :8].all() and not is_red[:24, 8:].any()
    assert not is_red[24:, :8].any() and is_red[24:, 8:].all()
    area = mask.sum(axis=(2, 3))                                                # (N, T)
    assert (area == area[:, :1]).all(), "the object keeps its size while it wraps around"


def test_second_half_classes_share_their_first_half():
    jumps, _ = make_videos(32, seed=9, classes=(6,))
    runs, _ = make_videos(32, seed=9, classes=(7,))
    assert np.array_equal(jumps[:, :8], runs[:, :8])
    assert (jumps[:, 9:] != runs[:, 9:]).any(axis=(1, 2, 3, 4)).all()
    rows = np.arange(64)
    height = (_object_mask(jumps).sum(axis=3) * rows).sum(-1) / _object_mask(jumps).sum(axis=(2, 3))  # (N, T)
    assert (height[:, -1] < height[:, 7] - 10).all(), "class 6 rises in the second half"


def test_appearance_classes_differ_in_every_frame():
    videos, labels = make_videos(40, seed=10, classes=(0, 1))
    mask = _object_mask(videos)
    blue = (videos[..., 2].astype(int) * mask).sum(axis=(2, 3)) / mask.sum(axis=(2, 3))  # (N, T)
    assert ((blue > 120) == (labels[:, None] == 1)).all()


def test_video_to_tensor():
    videos, _ = make_videos(3, num_frames=4, size=16)
    x = video_to_tensor(videos)
    assert x.shape == (3, 3, 4, 16, 16) and x.dtype == torch.float32
    assert torch.equal(x[1, :, 2], torch.from_numpy(videos[1, 2]).permute(2, 0, 1).float() / 255)
    one = video_to_tensor(torch.from_numpy(videos[0]))
    assert one.shape == (3, 4, 16, 16) and float(one.max()) <= 1.0 and float(one.min()) >= 0.0
    with pytest.raises(TypeError, match="uint8"):
        video_to_tensor(videos.astype(np.float32))
    with pytest.raises(ValueError, match="shape"):
        video_to_tensor(videos[0, 0])
    with pytest.raises(TypeError, match="video"):
        video_to_tensor([1, 2, 3])


def test_group_accuracy():
    labels = np.array([0, 1, 2, 3, 4, 5, 6, 7])
    pred = np.array([0, 1, 3, 3, 4, 4, 0, 0])
    assert group_accuracy(pred, labels) == {"appearance": 1.0, "direction": 0.5, "order": 0.5, "second_half": 0.0}
    assert np.isnan(group_accuracy(pred[:2], labels[:2])["order"])
    with pytest.raises(ValueError, match="shape"):
        group_accuracy(pred[:3], labels)
    with pytest.raises(TypeError, match="predictions must be a 1-D array of ints"):
        group_accuracy(pred.astype(float), labels)


def test_synthetic_videos_dataset():
    ds = SyntheticVideos(10, num_frames=8, size=16, seed=3)
    assert len(ds) == 10
    x, y = ds[4]
    assert x.shape == (3, 8, 16, 16) and x.dtype == torch.float32 and isinstance(y, int)
    assert y == int(ds.labels[4])
    sampled = SyntheticVideos(10, num_frames=8, size=16, seed=3, sampler=lambda n: np.array([[0, 2], [4, 6]]))
    xs, _ = sampled[4]
    assert xs.shape == (3, 4, 16, 16)
    assert torch.equal(xs[:, 1], x[:, 2]) and torch.equal(xs[:, 3], x[:, 6])
    with pytest.raises(TypeError, match="sampler"):
        SyntheticVideos(2, sampler=3)
    bad = SyntheticVideos(2, num_frames=4, size=16, sampler=lambda n: np.array([n]))
    with pytest.raises(ValueError, match="sampler"):
        bad[0]
