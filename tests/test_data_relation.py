"""The opt-in relation group of course_utils.data: its single cue, where and when its squares appear, and that it
changes nothing for the eight classes of notebooks 00-05."""

import numpy as np
import pytest

from course_utils.data import (
    ALL_CLASS_GROUPS,
    ALL_CLASS_NAMES,
    CLASS_GROUPS,
    CLASS_NAMES,
    group_accuracy,
    make_videos,
)

CYAN, ORANGE = np.array([30, 215, 230]), np.array([250, 130, 20])


def _square_colours(videos):
    """(N, T) colour of the square in each frame: 0 cyan, 1 orange, -1 no square."""
    median = np.median(videos, axis=(2, 3), keepdims=True)                       # (N, T, 1, 1, 3)
    mask = np.abs(videos.astype(np.int16) - median).max(axis=-1) > 40           # (N, T, H, W)
    area = mask.sum(axis=(2, 3))                                                 # (N, T)
    mean = (videos * mask[..., None]).sum(axis=(2, 3)) / np.maximum(area, 1)[..., None]  # (N, T, 3)
    orange = mean[..., 0] > mean[..., 2]                                         # red above blue
    return np.where(area > 0, orange.astype(int), -1), mask


def test_default_classes_are_unchanged_and_the_group_is_opt_in():
    assert len(CLASS_NAMES) == 8 and list(CLASS_GROUPS) == ["appearance", "direction", "order", "second_half"]
    assert ALL_CLASS_NAMES[:8] == CLASS_NAMES and ALL_CLASS_NAMES[8:] == ("colours_match", "colours_differ")
    assert ALL_CLASS_GROUPS == {**CLASS_GROUPS, "relation": (8, 9)}
    _, labels = make_videos(40, num_frames=8, size=16, seed=0)
    assert labels.max() < 8
    _, labels = make_videos(40, num_frames=8, size=16, seed=0, classes=range(10))
    assert np.bincount(labels).tolist() == [4] * 10
    with pytest.raises(ValueError, match="classes"):
        make_videos(4, classes=(10,))


def test_only_the_relation_of_the_two_squares_separates_the_classes():
    videos, labels = make_videos(240, num_frames=16, size=32, seed=3, classes=(8, 9))
    colours, mask = _square_colours(videos)
    shown = 16 // 8
    assert (colours[:, :shown] >= 0).all() and (colours[:, -shown:] >= 0).all()
    assert (colours[:, shown:-shown] == -1).all(), "nothing but background between the two squares"
    first, second = colours[:, 0], colours[:, -1]
    assert np.array_equal(first == second, labels == 8), "class 8: the colours match; class 9: they differ"
    for cls in (8, 9):  # each square's colour alone is 50/50 in both classes: a single frame cannot tell them apart
        for colour in (first[labels == cls], second[labels == cls]):
            count = colour.sum()
            assert abs(count - 60) < 3.3 * 5.5, (cls, count)                    # binomial(120, 1/2): sd ~ 5.5
    rows = np.arange(32)
    centre_first = (mask[:, 0].sum(axis=2) * rows).sum(1) / mask[:, 0].sum((1, 2))   # (N,) mean row
    centre_second = (mask[:, -1].sum(axis=2) * rows).sum(1) / mask[:, -1].sum((1, 2))
    assert (centre_first < 16 - 4).all() and (centre_second > 16 + 4).all(), "far apart in the frame"


def test_colours_are_the_groups_own():
    videos, labels = make_videos(20, num_frames=8, size=32, seed=4, classes=(8,))
    colours, mask = _square_colours(videos)
    pixels = videos[mask]                                                        # (P, 3) square pixels
    assert (np.abs(pixels.astype(int) - CYAN).max(axis=1) < 90).sum() + \
        (np.abs(pixels.astype(int) - ORANGE).max(axis=1) < 90).sum() == len(pixels)


def test_group_accuracy_takes_the_groups():
    labels = np.array([0, 1, 8, 9])
    accuracy = group_accuracy(np.array([0, 0, 8, 8]), labels, groups=ALL_CLASS_GROUPS)
    assert accuracy["appearance"] == 0.5 and accuracy["relation"] == 0.5 and np.isnan(accuracy["order"])
    assert list(group_accuracy(labels, labels)) == list(CLASS_GROUPS)


@pytest.mark.parametrize("size", [16, 17, 24, 64])
def test_every_size_keeps_the_squares_inside_their_quadrants(size):
    videos, labels = make_videos(30, num_frames=4, size=size, seed=5, classes=(8, 9))
    colours, mask = _square_colours(videos)
    assert (colours[:, 0] >= 0).all() and (colours[:, -1] >= 0).all()
    half = size // 2
    assert not mask[:, 0, half:, :].any() and not mask[:, 0, :, half:].any()
    assert not mask[:, -1, :half, :].any() and not mask[:, -1, :, :half].any()
