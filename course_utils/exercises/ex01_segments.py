"""Checkers of TSN segment sampling: 01.segment_sampling and 01.segment_sampling_test.

* ``01.segment_sampling``: ``sample_segments(num_frames, num_segments, *, rng)`` returns one random frame per
  segment, shape ``(num_segments,)``, drawn from the ``numpy.random.Generator`` ``rng`` (MMAction2 train mode,
  ``clip_len=1``).
* ``01.segment_sampling_test``: ``sample_segments_test(num_frames, num_segments)`` returns the segment centres.
"""

from __future__ import annotations

import numpy as np

from course_utils.exercises.ex01_support import (
    RANGE_HINT,
    SAMPLING_TOOLS,
    as_indices,
    chi_square,
    chi_square_limit,
    generator,
    global_state_unchanged,
    matches_test_reference,
    reference_test_mode,
)
from course_utils.exercises.framework import Exercise, course, expect_true, fail, same
from course_utils.sampling.clips import sample_clips, segment_bounds

SEGMENT_SAMPLING = Exercise("01.segment_sampling", "TSN segment sampling (train mode)", forbidden=[SAMPLING_TOOLS])
SEGMENT_SAMPLING_TEST = Exercise("01.segment_sampling_test", "TSN segment sampling (test mode: centres)",
                                 forbidden=[SAMPLING_TOOLS])

SHAPE_CASES = ((10, 3), (301, 8), (1, 1), (1, 5), (3, 8), (8, 8), (17, 4), (2, 3))
SEGMENT_HINT = ("segment k is [k*avg, (k+1)*avg) with avg = num_frames // num_segments; rng.integers(avg) already "
                "excludes avg; the last num_frames % num_segments frames are never sampled")


def _range_hint(num_frames: int, num_segments: int) -> str:
    """Why an index can leave [0, num_frames): rounding when N < K, a segment offset past its segment otherwise."""
    return RANGE_HINT if num_frames < num_segments else SEGMENT_HINT


def _call(sample, num_frames: int, num_segments: int, seed: int) -> np.ndarray:
    what = f"{sample.__name__}({num_frames}, {num_segments}, rng=np.random.default_rng({seed}))"
    return as_indices(sample(num_frames, num_segments, rng=generator(seed)), shape=(num_segments,),
                      num_frames=num_frames, what=what, range_hint=_range_hint(num_frames, num_segments))


def _add_train_cases(exercise: Exercise) -> None:
    """Register the train-mode cases on ``exercise``."""

    @exercise.case("integer indices in [0, num_frames), one per segment")
    def _(sample):
        for num_frames, num_segments in SHAPE_CASES:
            _call(sample, num_frames, num_segments, seed=0)

    @exercise.case("a one-frame video gives num_segments zeros")
    def _(sample):
        for num_segments in (1, 2, 3, 8):
            got = _call(sample, 1, num_segments, seed=1)
            if (got != 0).any():
                fail(f"num_frames=1, num_segments={num_segments} must give zeros", expected=[0] * num_segments,
                     got=got, hint="with one frame every segment can only take frame 0")

    @exercise.case("fewer frames than segments: rounded, wrapped, deterministic (MMAction2)")
    def _(sample):
        for num_frames, num_segments in ((3, 8), (2, 3), (5, 7), (7, 8), (4, 6)):
            with course():
                expected = sample_clips(num_frames, num_segments).ravel()  # deterministic in this branch
            for seed in (0, 1):
                got = _call(sample, num_frames, num_segments, seed)
                if not same(got, expected):
                    fail(f"num_frames={num_frames} < num_segments={num_segments}", expected=expected, got=got,
                         hint="offsets np.around(k * num_frames / num_segments) (half to even), then "
                              "np.mod(..., num_frames) and .astype(np.int64); no randomness here")

    @exercise.case("as many frames as segments: every frame once")
    def _(sample):
        for num_frames in (1, 4, 8):
            got = _call(sample, num_frames, num_frames, seed=2)
            expected = np.arange(num_frames)
            if not same(got, expected):
                fail(f"num_frames = num_segments = {num_frames}", expected=expected, got=got,
                     hint="avg = 1, so segment k holds only frame k")

    @exercise.case("each index stays inside its own segment (200 seeds)")
    def _(sample):
        for num_frames, num_segments in ((10, 3), (301, 8), (17, 4), (9, 9), (23, 5)):
            with course():
                bounds = segment_bounds(num_frames, num_segments)  # (K, 2): [low, high)
            hits = np.zeros(num_frames, dtype=np.int64)
            for seed in range(200):
                got = _call(sample, num_frames, num_segments, seed)
                inside = (bounds[:, 0] <= got) & (got < bounds[:, 1])
                if not inside.all():
                    k = int(np.argmin(inside))
                    fail(f"num_frames={num_frames}, num_segments={num_segments}, seed {seed}: index {k} left "
                         f"segment {k}", expected=f"{bounds[k, 0]} <= index < {bounds[k, 1]}", got=got,
                         hint=SEGMENT_HINT)
                hits[got] += 1
            never = [int(i) for i in np.flatnonzero(hits == 0) if i < bounds[-1, 1]]
            if never and bounds[0, 1] <= 5:  # short segments: 200 draws reach every frame (P(miss) < 1e-25)
                fail(f"num_frames={num_frames}, num_segments={num_segments}: over 200 seeds frames {never[:6]} "
                     f"were never picked", hint="every frame of a segment must be possible: draw "
                                                "rng.integers(avg, size=num_segments), one offset per segment")

    @exercise.case("the same seed gives the same indices, other seeds other indices")
    def _(sample):
        outputs = []
        for seed in range(8):
            first, second = _call(sample, 301, 8, seed), _call(sample, 301, 8, seed)
            if not same(first, second):
                fail(f"two calls with np.random.default_rng({seed}) differ", expected=first, got=second,
                     hint="draw from the rng argument only (rng.integers), not from np.random or a new "
                          "default_rng()")
            outputs.append(tuple(first))
        if len(set(outputs)) < 6:
            fail("seeds 0..7 gave (almost) the same indices: train mode must be random",
                 expected="different indices for different seeds", got=f"{len(set(outputs))} distinct outputs",
                 hint="add a random offset rng.integers(avg, size=num_segments) to the segment starts; the "
                      "centre is the test-mode choice")

    @exercise.case("uniform within each segment, independent across segments (chi-square, fixed seed)")
    def _(sample):
        num_frames, num_segments, draws = 40, 4, 2000
        rng = generator(2024)
        offsets = np.empty((draws, num_segments), dtype=np.int64)
        for i in range(draws):
            got = as_indices(sample(num_frames, num_segments, rng=rng), shape=(num_segments,),
                             num_frames=num_frames, what=f"{sample.__name__}(40, 4, rng=...)",
                             range_hint=_range_hint(num_frames, num_segments))
            offsets[i] = got - np.arange(num_segments) * 10
        if offsets.min() < 0 or offsets.max() >= 10:
            fail("num_frames=40, num_segments=4: an index left its segment of 10 frames", hint=SEGMENT_HINT)
        for k in range(num_segments):
            statistic = chi_square(np.bincount(offsets[:, k], minlength=10))
            expect_true(statistic < chi_square_limit(9),
                        what=f"segment {k}: the 10 positions are not equally likely over {draws} draws",
                        expected=f"chi-square < {chi_square_limit(9):.1f}", got=round(statistic, 1),
                        hint="draw with rng.integers(avg, size=num_segments): uniform on {0, ..., avg - 1}")
        same = np.mean(np.all(offsets == offsets[:, :1], axis=1))
        expect_true(same < 0.05, what="the offset is the same in every segment in most draws",
                    expected="one independent offset per segment", got=f"{same:.0%} of draws",
                    hint="rng.integers(avg, size=num_segments), not one scalar offset added to every start")

    @exercise.case("the global np.random state is left alone")
    def _(sample):
        global_state_unchanged(lambda: [_call(sample, n, k, seed=5) for n, k in SHAPE_CASES],
                               what=sample.__name__)


_add_train_cases(SEGMENT_SAMPLING)


@SEGMENT_SAMPLING_TEST.case("integer indices in [0, num_frames), one per segment")
def _(sample_test):
    for num_frames, num_segments in SHAPE_CASES:
        as_indices(sample_test(num_frames, num_segments), shape=(num_segments,), num_frames=num_frames,
                   what=f"{sample_test.__name__}({num_frames}, {num_segments})")


@SEGMENT_SAMPLING_TEST.case("segment centres, not segment starts")
def _(sample_test):
    for num_frames, num_segments in ((10, 3), (301, 8), (64, 8), (7, 2)):
        expected, exact = reference_test_mode(num_frames, num_segments)
        got = as_indices(sample_test(num_frames, num_segments), shape=(num_segments,), num_frames=num_frames,
                         what=f"{sample_test.__name__}({num_frames}, {num_segments})")
        if not matches_test_reference(got, expected.ravel(), exact.ravel()):
            starts = (np.arange(num_segments) * num_frames) // num_segments
            hint = ("these are the segment starts: add half a segment" if same(got, starts) else
                    "centre of segment k: k * num_frames / num_segments + num_frames / (2 * num_segments), "
                    "truncated to an int")
            fail(f"num_frames={num_frames}, num_segments={num_segments}", expected=expected.ravel(), got=got,
                 hint=hint)


@SEGMENT_SAMPLING_TEST.case("every size, including fewer frames than segments")
def _(sample_test):
    sizes = [(n, k) for n in (1, 2, 3, 5, 7, 8, 10, 16, 33, 100) for k in (1, 2, 3, 5, 8, 13)]
    sizes += [(6, 7), (4, 14), (6, 9), (2, 29)]  # whole-number centres: float truncation may give one less
    for num_frames, num_segments in sizes:
        expected, exact = reference_test_mode(num_frames, num_segments)
        got = as_indices(sample_test(num_frames, num_segments), shape=(num_segments,), num_frames=num_frames,
                         what=f"{sample_test.__name__}({num_frames}, {num_segments})")
        if not matches_test_reference(got, expected.ravel(), exact.ravel()):
            fail(f"num_frames={num_frames}, num_segments={num_segments}", expected=expected.ravel(), got=got,
                 hint="same formula for every size: centres k * N / K + N / (2K), truncated; no special cases")


@SEGMENT_SAMPLING_TEST.case("deterministic: no randomness, global np.random state untouched")
def _(sample_test):
    first = as_indices(sample_test(301, 8), shape=(8,), num_frames=301, what=f"{sample_test.__name__}(301, 8)")
    global_state_unchanged(lambda: sample_test(301, 8), what=sample_test.__name__)
    again = sample_test(301, 8)
    if not same(first, again):
        fail("two calls gave different indices", expected=first, got=again,
             hint="test mode takes the centres: nothing random")


EXERCISES = (SEGMENT_SAMPLING, SEGMENT_SAMPLING_TEST)
