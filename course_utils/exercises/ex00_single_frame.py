"""Checker of exercise 00.single_frame_baseline: classify each video from one of its frames.

The check cell calls ``check("00.single_frame_baseline", single_frame_baseline)`` with
``single_frame_baseline(train_videos, train_labels, test_videos, frame_indices) -> (M,) int``: test video ``i`` must
be classified from its frame ``frame_indices[i]`` alone, by a frame classifier trained on the frames of the
training videos.

The checker runs it on fresh synthetic data (seeds the notebook never uses) and tests what *makes* a model a
single-frame model, exactly: its prediction must not change when every other frame of the test video is replaced,
nor when the same frame sits at another time in the video, nor when other test videos are left out. Then accuracy:
high on the appearance classes, at chance on the direction and order classes. Each test video is shown twice, at a
frame of its first half and at the matching frame of its second half, so an order video contributes one frame of
each colour and any single-frame model scores 0.5 on average there.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from course_utils.data import CLASS_GROUPS, group_accuracy, make_videos
from course_utils.device import seed_everything
from course_utils.exercises.framework import Exercise, expect_equal, expect_true, fail, forbid, plain, to_numpy

SINGLE_FRAME = Exercise(
    "00.single_frame_baseline", "A single-frame baseline",
    forbidden=[forbid("must train and apply its own classifier",
                      "course_utils.exercises.ex00_support:reference_single_frame_baseline")])

TRAIN_SEED, TEST_SEED, INDEX_SEED = 9001, 9002, 9003
NUM_FRAMES, SIZE, NUM_TRAIN, NUM_TEST = 16, 32, 240, 240
ROLL = 5  # frames by which the time test shifts every test video


@lru_cache(maxsize=1)
def checker_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fresh data: train videos, train labels, test videos (each twice), frame indices, test labels."""
    train_videos, train_labels = make_videos(NUM_TRAIN, num_frames=NUM_FRAMES, size=SIZE, seed=TRAIN_SEED)
    videos, labels = make_videos(NUM_TEST, num_frames=NUM_FRAMES, size=SIZE, seed=TEST_SEED)
    first = np.random.default_rng(INDEX_SEED).integers(0, NUM_FRAMES // 2, size=NUM_TEST)
    test_videos = np.concatenate([videos, videos])                              # (2M, T, H, W, 3)
    frame_indices = np.concatenate([first, first + NUM_FRAMES // 2])             # (2M,) first and second half
    test_labels = np.concatenate([labels, labels])                              # (2M,)
    for array in (train_videos, train_labels, test_videos, frame_indices, test_labels):
        array.setflags(write=False)
    return train_videos, train_labels, test_videos, frame_indices, test_labels


def predict(single_frame_baseline: Callable[..., Any], test_videos: np.ndarray, frame_indices: np.ndarray,
            *, what: str) -> np.ndarray:
    """Run the student's function on the checker's training data (seeded, on copies); validate its output."""
    train_videos, train_labels = checker_data()[:2]
    seed_everything(0)  # a seeded random model gives the same predictions on every call
    out = single_frame_baseline(train_videos.copy(), train_labels.copy(), test_videos.copy(), frame_indices.copy())
    expect_true(isinstance(out, (np.ndarray, torch.Tensor)), what=f"{what} must return a NumPy array of class ids",
                expected="np.ndarray of shape (M,)", got=type(out).__name__)
    out = to_numpy(plain(out, what=what), what=what)
    if out is None:
        fail(f"{what} must return class ids (numbers)", expected="an integer array of shape (M,)")
    expect_equal(out.shape, (len(test_videos),), what=f"shape of the predictions of {what}",
                 hint="one class id per test video: shape (M,), not (M, 1) or (M, num_classes)")
    expect_true(np.issubdtype(out.dtype, np.integer), what=f"dtype of the predictions of {what}",
                expected="an integer dtype (class ids)", got=str(out.dtype),
                hint="return class ids, e.g. classes[distances.argmin(axis=1)], not distances or scores")
    expect_true(out.size == 0 or (out.min() >= 0 and out.max() < 8), what="class ids must lie in [0, 8)",
                expected="0 <= id < 8", got=f"min {out.min()}, max {out.max()}")
    return out.astype(np.int64)


# Predictions on the unchanged test set, computed by the first case of a check and reused by the later cases of
# the same check (the first case always recomputes, so a re-run never sees stale predictions).
_BASE: list = [None, None]


def _base(single_frame_baseline, *, fresh: bool = False) -> np.ndarray:
    if fresh or _BASE[0] is not single_frame_baseline:
        _, _, test_videos, frame_indices, _ = checker_data()
        try:
            result = predict(single_frame_baseline, test_videos, frame_indices, what="single_frame_baseline(...)")
        except Exception as error:  # remembered, so later cases report it without running the model again
            result = error
        _BASE[:] = [single_frame_baseline, result]
    if isinstance(_BASE[1], Exception):
        raise _BASE[1]
    return _BASE[1]


@SINGLE_FRAME.case("returns one class id per test video, and not always the same")
def _(single_frame_baseline):
    out = _base(single_frame_baseline, fresh=True)
    expect_true(len(set(out.tolist())) > 1, what="every test video got the same class", expected="several classes",
                got=f"only class {out[0]}", hint="predict the class of the nearest centroid for each frame")


@SINGLE_FRAME.case("tells the appearance classes apart from one frame")
def _(single_frame_baseline):
    labels = checker_data()[4]
    accuracy = group_accuracy(_base(single_frame_baseline), labels)["appearance"]
    expect_true(accuracy >= 0.9, what="accuracy on the appearance classes (square, disc) is too low",
                expected=">= 0.9", got=round(accuracy, 3),
                hint="describe each frame with object_colour(frames) and predict the class whose centroid (mean "
                     "feature over every frame of its training videos) is nearest")


@SINGLE_FRAME.case("uses frame frame_indices[i] of test video i and no other frame")
def _(single_frame_baseline):
    _, _, test_videos, frame_indices, _ = checker_data()
    items = np.arange(len(test_videos))
    # every other frame of video i comes from another video; frame frame_indices[i] stays as it was
    changed = np.roll(test_videos, 7, axis=0).copy()                            # (2M, T, H, W, 3)
    changed[items, frame_indices] = test_videos[items, frame_indices]
    base = _base(single_frame_baseline)
    out = predict(single_frame_baseline, changed, frame_indices, what="single_frame_baseline(...)")
    moved = int((out != base).sum())
    if moved:
        fail(f"the predictions of {moved} test videos changed when only their OTHER frames were replaced",
             expected="the same predictions", got=f"{moved} of {len(base)} changed",
             hint="a single-frame model looks at test_videos[i, frame_indices[i]] only: averaging all frames or "
                  "taking frame differences makes it a video model, and frame 0 is not frame_indices[i]; "
                  "also make the function deterministic (seed any randomness)")


@SINGLE_FRAME.case("does not depend on when the frame was taken")
def _(single_frame_baseline):
    _, _, test_videos, frame_indices, _ = checker_data()
    rolled = np.roll(test_videos, ROLL, axis=1)                                 # frame t moves to t + ROLL
    out = predict(single_frame_baseline, rolled, (frame_indices + ROLL) % NUM_FRAMES,
                  what="single_frame_baseline(...)")
    moved = int((out != _base(single_frame_baseline)).sum())
    if moved:
        fail(f"the same frame at another time in the video got another class for {moved} test videos",
             expected="a prediction that depends on the frame's pixels only", got=f"{moved} changed",
             hint="train on every frame of every training video together, labelled with its video's class; a "
                  "classifier trained on frame t only (or one per time step) knows when the frame was taken")


@SINGLE_FRAME.case("classifies each test video on its own")
def _(single_frame_baseline):
    _, _, test_videos, frame_indices, _ = checker_data()
    part = np.arange(0, len(test_videos), 3)
    out = predict(single_frame_baseline, test_videos[part], frame_indices[part],
                  what="single_frame_baseline on a third of the test videos")
    moved = int((out != _base(single_frame_baseline)[part]).sum())
    if moved:
        fail(f"leaving other test videos out changed {moved} predictions",
             expected="the same prediction for a video whatever else is in the test set", got=f"{moved} changed",
             hint="fit everything on the training videos; don't normalise or cluster with test-set statistics")


@SINGLE_FRAME.case("stays near chance on the direction and order classes")
def _(single_frame_baseline):
    labels = checker_data()[4]
    accuracy = group_accuracy(_base(single_frame_baseline), labels)
    for group in ("direction", "order"):
        expect_true(0.25 <= accuracy[group] <= 0.75, what=f"accuracy on the {group} classes {CLASS_GROUPS[group]}",
                    expected="near chance, 0.5 (between 0.25 and 0.75)", got=round(accuracy[group], 3),
                    hint="no single frame can tell these classes apart: a model that does uses more than one frame")


EXERCISES = (SINGLE_FRAME,)
