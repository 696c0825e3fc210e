"""Shared pieces of the notebook 01 checkers: output validation, seeded generators and statistics.

Every expected value comes from the reference ``course_utils.sampling.clips`` (tested against MMAction2's vectors),
so the checkers and the toolkit cannot drift apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from course_utils.exercises.framework import course, course_reference, fail, forbid, plain, to_numpy
from course_utils.sampling.clips import sample_clips

SAMPLING_TOOLS = forbid(
    "must compute the frame indices itself, not with the course's sampler",
    "course_utils.sampling.clips:sample_clips", "course_utils.sampling.clips:train_offsets",
    "course_utils.sampling.clips:test_offsets", "course_utils.sampling.clips:offsets_to_indices",
    "course_utils.sampling.clips:segment_bounds", "course_utils.sampling.clips:train_branch",
    "course_utils.tsn:sample_snippet_indices")
"""The course's frame sampling: every exercise of notebook 01 asks the student to write part of it."""

FLOAT_HINT = ("return integer indices: np.around and '/' give floats; wrap first, then .astype(np.int64) "
              "(np.int was removed in NumPy 1.24)")
RANGE_HINT = ("every index must lie in [0, num_frames): starts computed with np.around can equal num_frames, "
              "MMAction2 wraps them with np.mod(indices, num_frames)")


def generator(seed: int) -> np.random.Generator:
    """A fresh ``numpy.random.Generator`` seeded with ``seed`` (what the checks pass as ``rng``)."""
    return np.random.default_rng(seed)


def as_indices(out: Any, *, shape: tuple[int, ...], num_frames: int, what: str, float_hint: str = FLOAT_HINT,
               range_hint: str = RANGE_HINT) -> np.ndarray:
    """Return the student's output as an int64 array after checking its type, dtype, shape and range.

    Args:
        out: what the student's function returned.
        shape: the shape it must have.
        num_frames: indices must lie in ``[0, num_frames)``.
        what: the call, for the failure message.
        float_hint, range_hint: hints for a non-integer dtype and for indices out of range.

    Returns:
        int64 array of shape ``shape``.
    """
    if out is None:
        fail(f"{what} returned None", hint="end the function with `return indices`")
    array = to_numpy(plain(out, what=what), what=what)
    if array is None:
        fail(f"{what} must return an array of frame indices", expected="an integer NumPy array",
             got=type(out).__name__)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        fail(f"{what} must return integer indices", expected="an integer dtype (e.g. int64)", got=array.dtype,
             hint=float_hint)
    if array.shape != shape:
        fail(f"{what} has the wrong shape", expected=shape, got=array.shape,
             hint="one row per clip/segment, clip by clip (row k holds clip k)")
    if array.size and (array.min() < 0 or array.max() >= num_frames):
        fail(f"{what} holds indices outside [0, {num_frames})", expected=f"0 <= index < {num_frames}", got=array,
             hint=range_hint)
    return array.astype(np.int64)


def global_state_unchanged(call: Callable[[], Any], *, what: str) -> None:
    """Fail if ``call()`` changes the legacy global ``np.random`` state."""
    before = np.random.get_state()
    call()
    after = np.random.get_state()
    same = (before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:])
    if not same:
        fail(f"{what} changed the global np.random state",
             hint="draw only from the Generator you are given: rng.integers(high, size=...), never np.random.* "
                  "or np.random.seed")


def reference_test_mode(num_frames: int, num_clips: int, clip_len: int = 1, frame_interval: int = 1, *,
                        out_of_bound: str = "loop") -> tuple[np.ndarray, np.ndarray]:
    """MMAction2's test-mode indices and the ones exact integer arithmetic gives, both ``(num_clips, clip_len)``.

    They differ only for ``clip_len == 1`` where a segment centre ``(2k + 1) N / (2K)`` is a whole number: MMAction2
    computes it in float64 as ``k * (N / K) + (N / K) / 2`` and truncates, which can give one less. The checkers
    accept either value at those positions (see notebook 01): the exercise is about centres, not float rounding.
    """
    with course():
        expected = sample_clips(num_frames, num_clips, clip_len, frame_interval, mode="test",
                                out_of_bound=out_of_bound)
    exact = expected.copy()
    if clip_len == 1:
        centres = [((2 * k + 1) * num_frames) // (2 * num_clips) for k in range(num_clips)]
        exact = np.array(centres, dtype=np.int64).reshape(num_clips, 1) % num_frames  # (K, 1)
    return expected, exact


def _sanitize_sampling(num_frames: Any, num_segments: Any, *, rng: Any = None) -> tuple[tuple, dict]:
    """Arguments of the notebook's segment samplers as plain ints and a genuine Generator, or TypeError."""
    counts = tuple(plain(value, what="a count") for value in (num_frames, num_segments))
    if not all(type(value) is int for value in counts):
        raise TypeError(f"num_frames and num_segments must be ints, got {counts!r}")
    if rng is not None and type(rng) is not np.random.Generator:
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
    return counts, {"rng": rng}


def _segments(num_frames: int, num_segments: int, *, rng: np.random.Generator) -> np.ndarray:
    return sample_clips(num_frames, num_segments, rng=rng).ravel()  # (K, 1) -> (K,)


def _segments_test(num_frames: int, num_segments: int, *, rng: None = None) -> np.ndarray:
    return sample_clips(num_frames, num_segments, mode="test").ravel()  # (K, 1) -> (K,)


EARLIER_ANSWERS = {"sample_segments": course_reference(_segments, sanitize=_sanitize_sampling),
                   "get_train_frames": course_reference(_segments, sanitize=_sanitize_sampling),
                   "sample_segments_test": course_reference(_segments_test, sanitize=_sanitize_sampling)}
"""The course's references for notebook 01's segment samplers, bound under their names while a later exercise is
checked (so ``01.clip_sampling`` is graded on its own when it reuses them)."""


def matches_test_reference(got: np.ndarray, expected: np.ndarray, exact: np.ndarray) -> bool:
    """True when every index equals MMAction2's value or, at a whole-number centre, the exact one."""
    return bool(((got == expected) | (got == exact)).all())


def chi_square_limit(dof: int, *, z: float = 4.75) -> float:
    """Upper quantile of chi-square with ``dof`` degrees of freedom at about p = 1e-6 (Wilson-Hilferty)."""
    return dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


def chi_square(counts: np.ndarray) -> float:
    """Pearson statistic of ``counts`` against equal expected counts."""
    expected = counts.sum() / counts.size
    return float(((counts - expected) ** 2 / expected).sum())
