"""The checkers of notebook 00 accept the solutions and reject each deliberately wrong version."""

import importlib
import math

import numpy as np
import pytest
import torch
from attack_kit import (
    LyingFloat,
    LyingInt,
    delegation_rejected,
    gains_nothing,
    lying_array,
    noisy,
    passes,
)

from course_utils.data import make_videos
from course_utils.exercises import ex00_support
from course_utils.exercises.ex00_support import object_colour, reference_single_frame_baseline
from course_utils.exercises.framework import CheckFailed, check, get_exercise

# ---------------------------------------------------------------- 00.raw_video_bytes


def raw_video_bytes(duration_s, fps, height, width, channels=3):
    return round(duration_s * fps) * height * width * channels


def bytes_to_gib(num_bytes):
    return num_bytes / 2**30


def test_raw_video_bytes_solution_passes(capsys):
    check("00.raw_video_bytes", raw_video_bytes, bytes_to_gib)
    assert capsys.readouterr().out == "✔ 00.raw_video_bytes: 5/5 checks passed\n"


WRONG_RAW = {
    "forgets channels": lambda d, f, h, w, channels=3: round(d * f) * h * w,
    "forgets the duration": lambda d, f, h, w, channels=3: f * h * w * channels,
    "hard-codes 3 channels": lambda d, f, h, w, channels=3: round(d * f) * h * w * 3,
    "truncates the frame count": lambda d, f, h, w, channels=3: int(d * f) * h * w * channels,
    "rounds the frame count up": lambda d, f, h, w, channels=3: math.ceil(d * f) * h * w * channels,
    "returns a float": lambda d, f, h, w, channels=3: float(d * f * h * w * channels),
    "multiplies before rounding": lambda d, f, h, w, channels=3: d * f * h * w * channels,
    "returns numpy float": lambda d, f, h, w, channels=3: np.float64(round(d * f) * h * w * channels),
    "counts bits": lambda d, f, h, w, channels=3: round(d * f) * h * w * channels * 8,
    "uses a 2-byte pixel": lambda d, f, h, w, channels=3: round(d * f) * h * w * 2,
}


@pytest.mark.parametrize("name", WRONG_RAW)
def test_raw_video_bytes_rejects(name):
    wrong = WRONG_RAW[name]

    def renamed(duration_s, fps, height, width, channels=3):
        return wrong(duration_s, fps, height, width, channels)

    with pytest.raises(CheckFailed, match="00.raw_video_bytes"):
        check("00.raw_video_bytes", renamed, bytes_to_gib)


WRONG_GIB = {
    "GB (10**9)": lambda b: b / 1e9,
    "MB (10**6)": lambda b: b / 1e6,
    "MiB (2**20)": lambda b: b / 2**20,
    "1000 * 1024**2": lambda b: b / (1000 * 1024**2),
    "integer division": lambda b: b // 2**30,
    "times instead of divided": lambda b: b * 2**-20,
}


@pytest.mark.parametrize("name", WRONG_GIB)
def test_bytes_to_gib_rejects(name):
    with pytest.raises(CheckFailed, match="GiB|gib"):
        check("00.raw_video_bytes", raw_video_bytes, WRONG_GIB[name])


def test_raw_video_bytes_not_implemented():
    def stub(duration_s, fps, height, width, channels=3):
        raise NotImplementedError("write raw_video_bytes")

    with pytest.raises(CheckFailed, match="not implemented yet"):
        check("00.raw_video_bytes", stub, bytes_to_gib)


# ---------------------------------------------------------------- 00.single_frame_baseline


def single_frame_baseline(train_videos, train_labels, test_videos, frame_indices):
    """The notebook's solution: nearest class centroid of the object colour of one frame."""
    centroids = _centroids(train_videos, train_labels)
    return _nearest(object_colour(test_videos[np.arange(len(test_videos)), frame_indices]), centroids)


def test_single_frame_solution_passes(capsys):
    check("00.single_frame_baseline", single_frame_baseline)
    assert capsys.readouterr().out == "✔ 00.single_frame_baseline: 6/6 checks passed\n"


def test_the_reference_baseline_meets_every_case_but_is_not_an_answer():
    for case in get_exercise("00.single_frame_baseline").cases:  # the cases alone: no tripwire installed
        case.run(reference_single_frame_baseline)
    for answer in (reference_single_frame_baseline, lambda *a: ex00_support.reference_single_frame_baseline(*a),
                   lambda *a: getattr(ex00_support, "reference_" + "single_frame_baseline")(*a),
                   lambda *a: importlib.import_module("course_utils.exercises." + "ex00_support")
                   .reference_single_frame_baseline(*a)):
        delegation_rejected("00.single_frame_baseline", answer, called="reference_single_frame_baseline")


def _centroids(train_videos, train_labels):
    n, t = train_videos.shape[:2]
    features = object_colour(train_videos.reshape(n * t, *train_videos.shape[2:]))
    labels = np.repeat(train_labels, t)
    return np.stack([features[labels == c].mean(0) for c in range(8)])


def _nearest(features, centroids):
    return ((features[:, None] - centroids[None]) ** 2).sum(-1).argmin(1).astype(np.int64)


def one_nearest_neighbour(train_videos, train_labels, test_videos, frame_indices):
    """Another valid single-frame model: 1-NN on object colours of all training frames."""
    n, t = train_videos.shape[:2]
    features = object_colour(train_videos.reshape(n * t, *train_videos.shape[2:]))
    test = object_colour(test_videos[np.arange(len(test_videos)), frame_indices])
    return np.repeat(train_labels, t)[((test[:, None] - features[None]) ** 2).sum(-1).argmin(1)]


def trained_on_first_frames_torch(train_videos, train_labels, test_videos, frame_indices):
    """Valid too: trained on the first frame of each training video only, returns a torch tensor."""
    centroids = np.stack([object_colour(train_videos[train_labels == c, 0]).mean(0) for c in range(8)])
    test = object_colour(test_videos[np.arange(len(test_videos)), frame_indices])
    return torch.from_numpy(_nearest(test, centroids))


@pytest.mark.parametrize("solution", [one_nearest_neighbour, trained_on_first_frames_torch])
def test_single_frame_other_valid_models_pass(solution):
    check("00.single_frame_baseline", solution)


def average_of_all_frames(train_videos, train_labels, test_videos, frame_indices):
    mean_frames = test_videos.mean(axis=1).round().astype(np.uint8)             # (M, H, W, 3)
    return _nearest(object_colour(mean_frames), _centroids(train_videos, train_labels))


def votes_over_all_frames(train_videos, train_labels, test_videos, frame_indices):
    m, t = test_videos.shape[:2]
    centroids = _centroids(train_videos, train_labels)
    votes = _nearest(object_colour(test_videos.reshape(m * t, *test_videos.shape[2:])), centroids).reshape(m, t)
    return np.array([np.bincount(v, minlength=8).argmax() for v in votes])


def frame_differences(train_videos, train_labels, test_videos, frame_indices):
    """Adds the motion direction from the difference of two frames: beats chance on direction."""
    pred = reference_single_frame_baseline(train_videos, train_labels, test_videos, frame_indices)
    items = np.arange(len(test_videos))
    nxt = (frame_indices + 1) % test_videos.shape[1]
    a = test_videos[items, frame_indices].astype(int).sum(-1)
    b = test_videos[items, nxt].astype(int).sum(-1)
    cols = np.arange(a.shape[-1])
    shift = ((b - a) * cols).sum((1, 2))
    return np.where(np.isin(pred, (2, 3)), np.where(shift > 0, 3, 2), pred)


def always_frame_zero(train_videos, train_labels, test_videos, frame_indices):
    return reference_single_frame_baseline(train_videos, train_labels, test_videos, np.zeros_like(frame_indices))


def knows_the_time(train_videos, train_labels, test_videos, frame_indices):
    """One set of centroids per time step: separates the order classes from a single frame."""
    out = np.empty(len(test_videos), dtype=np.int64)
    for t in np.unique(frame_indices):
        centroids = np.stack([object_colour(train_videos[train_labels == c, t]).mean(0) for c in range(8)])
        pick = frame_indices == t
        out[pick] = _nearest(object_colour(test_videos[pick, t]), centroids)
    return out


NOTEBOOK_TEST_LABELS = make_videos(320, seed=1, num_frames=4, size=16)[1]


def leaks_notebook_labels(train_videos, train_labels, test_videos, frame_indices):
    """Returns labels leaked from the notebook's own test set instead of predicting."""
    return np.resize(NOTEBOOK_TEST_LABELS, len(test_videos))


def constant(train_videos, train_labels, test_videos, frame_indices):
    return np.zeros(len(test_videos), dtype=np.int64)


def column_vector(train_videos, train_labels, test_videos, frame_indices):
    return reference_single_frame_baseline(train_videos, train_labels, test_videos, frame_indices)[:, None]


def float_ids(train_videos, train_labels, test_videos, frame_indices):
    return reference_single_frame_baseline(train_videos, train_labels, test_videos, frame_indices).astype(float)


def returns_a_list(train_videos, train_labels, test_videos, frame_indices):
    return reference_single_frame_baseline(train_videos, train_labels, test_videos, frame_indices).tolist()


def returns_distances(train_videos, train_labels, test_videos, frame_indices):
    test = object_colour(test_videos[np.arange(len(test_videos)), frame_indices])
    return ((test[:, None] - _centroids(train_videos, train_labels)[None]) ** 2).sum(-1)


def normalised_by_test_set(train_videos, train_labels, test_videos, frame_indices):
    """Standardises features with statistics of the test batch: predictions depend on the other videos."""
    test = object_colour(test_videos[np.arange(len(test_videos)), frame_indices])
    centroids = _centroids(train_videos, train_labels)
    mean, std = test.mean(0), test.std(0) + 1e-9
    return _nearest((test - mean) / std, (centroids - centroids.mean(0)) / centroids.std(0))


def unseeded_noise(train_videos, train_labels, test_videos, frame_indices):
    """Random tie-breaking from a fresh unseeded generator: not reproducible."""
    test = object_colour(test_videos[np.arange(len(test_videos)), frame_indices])
    test = test + np.random.default_rng().normal(0, 40, size=test.shape)
    return _nearest(test, _centroids(train_videos, train_labels))


def raw_pixels(train_videos, train_labels, test_videos, frame_indices):
    """Nearest centroid on raw pixels: the object's position swamps its colour."""
    n, t = train_videos.shape[:2]
    features = train_videos.reshape(n * t, -1).astype(float)
    labels = np.repeat(train_labels, t)
    centroids = np.stack([features[labels == c].mean(0) for c in range(8)])
    test = test_videos[np.arange(len(test_videos)), frame_indices].reshape(len(test_videos), -1).astype(float)
    return _nearest(test, centroids)


WRONG_SINGLE_FRAME = [
    average_of_all_frames, votes_over_all_frames, frame_differences, always_frame_zero, knows_the_time,
    leaks_notebook_labels, constant, column_vector, float_ids, returns_a_list, returns_distances,
    normalised_by_test_set, unseeded_noise, raw_pixels,
]


@pytest.mark.parametrize("wrong", WRONG_SINGLE_FRAME, ids=lambda f: f.__name__)
def test_single_frame_rejects(wrong):
    with pytest.raises(CheckFailed, match="00.single_frame_baseline"):
        check("00.single_frame_baseline", wrong)


def test_single_frame_not_implemented():
    def stub(train_videos, train_labels, test_videos, frame_indices):
        raise NotImplementedError

    with pytest.raises(CheckFailed, match="not implemented yet"):
        check("00.single_frame_baseline", stub)


def test_object_colour():
    videos, labels = make_videos(16, num_frames=4, size=32, seed=3, classes=(0, 2))
    colour = object_colour(videos[:, 0])
    assert colour.shape == (16, 3) and colour.dtype == np.float64
    assert (colour[labels == 0, 2] < 100).all() and (colour[labels == 2, 2] > 150).all()
    assert np.array_equal(object_colour(np.full((2, 8, 8, 3), 50, dtype=np.uint8)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="frames"):
        object_colour(videos[0, 0])


# ---------------------------------------------------------------- lying objects, honest variants
def test_lying_numbers_gain_nothing():
    gains_nothing("00.raw_video_bytes", lambda *a, **k: LyingInt(0), lambda *a, **k: 0)
    liar = (raw_video_bytes, lambda num_bytes: LyingFloat(0.0))
    honest_twin = (raw_video_bytes, lambda num_bytes: 0.0)
    message = check_message(*liar)
    assert message.splitlines()[0].split("): ")[1] == check_message(*honest_twin).splitlines()[0].split("): ")[1]
    gains_nothing("00.single_frame_baseline", lambda tv, tl, test, idx: lying_array(np.zeros(len(test), np.int64)),
                  lambda tv, tl, test, idx: np.zeros(len(test), np.int64))


def check_message(*answers):
    with pytest.raises(CheckFailed) as info:
        check("00.raw_video_bytes", *answers)
    return str(info.value)


def test_honest_variants_pass():
    passes("00.raw_video_bytes", noisy(raw_video_bytes), noisy(bytes_to_gib))
    passes("00.raw_video_bytes", lambda *a, **k: np.int64(raw_video_bytes(*a, **k)),
           lambda b: np.float64(bytes_to_gib(b)))
    passes("00.raw_video_bytes", lambda *a, **k: np.int32(raw_video_bytes(*a, **k)),
           lambda b: np.float32(bytes_to_gib(b)))  # the checked values are exact in float32
    passes("00.single_frame_baseline", noisy(lambda *a: single_frame_baseline(*a).astype(np.int32)))
