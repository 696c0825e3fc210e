"""Checker of 01.clip_sampling (the lecture's quiz 1): clips of ``clip_len`` frames ``frame_interval`` apart.

The check cell calls ``check("01.clip_sampling", sample_clip_indices)`` where
``sample_clip_indices(num_frames, num_clips, clip_len, frame_interval, *, mode, out_of_bound, rng)`` returns int
indices of shape ``(num_clips, clip_len)`` with MMAction2 ``SampleFrames`` semantics (see
``course_utils.sampling.clips``).
"""

from __future__ import annotations

import numpy as np

from course_utils.exercises.ex01_support import (
    EARLIER_ANSWERS,
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
from course_utils.sampling.clips import OUT_OF_BOUND_OPTIONS, offsets_to_indices, segment_bounds, train_branch

CLIP_SAMPLING = Exercise("01.clip_sampling", "Clip sampling: clip_len frames frame_interval apart (quiz 1)",
                         forbidden=[SAMPLING_TOOLS], substitutes=EARLIER_ANSWERS)

TEST_GRID = [(n, k, cl, fi) for n in (1, 2, 3, 5, 7, 8, 10, 16, 64) for k in (1, 3, 8) for cl in (1, 4)
             for fi in (1, 2)]
# (num_frames, num_clips, clip_len, frame_interval) covering MMAction2's four train branches
TRAIN_CONFIGS = ((16, 3, 4, 2), (7, 3, 2, 2), (10, 3, 4, 1), (9, 4, 2, 2), (301, 8, 1, 1), (64, 4, 8, 2),  # segments
                 (10, 8, 4, 2), (6, 4, 2, 2), (12, 8, 3, 2),                          # sorted
                 (3, 8, 1, 1), (4, 3, 2, 2), (5, 6, 2, 1), (8, 3, 4, 2), (3, 2, 4, 1),  # rounded
                 (5, 3, 4, 2), (2, 3, 2, 2), (1, 3, 4, 2))                            # zeros
TRAIN_HINT = ("train mode, L = clip_len * frame_interval, avg = (num_frames - L + 1) // num_clips: if avg > 0 "
              "start k is k*avg + rng.integers(avg); elif num_frames > max(num_clips, L) the starts are "
              "np.sort(rng.integers(num_frames - L + 1, size=num_clips)); elif avg == 0 they are "
              "np.around(k * (num_frames - L + 1) / num_clips); else 0. Then add np.arange(clip_len) * "
              "frame_interval to every start and wrap")


def _call(sample, num_frames, num_clips, clip_len, frame_interval, *, mode, out_of_bound="loop", rng=0):
    what = (f"{sample.__name__}({num_frames}, {num_clips}, {clip_len}, {frame_interval}, mode={mode!r}, "
            f"out_of_bound={out_of_bound!r}, rng=np.random.default_rng({rng}))")
    out = sample(num_frames, num_clips, clip_len, frame_interval, mode=mode, out_of_bound=out_of_bound,
                 rng=generator(rng) if isinstance(rng, int) else rng)
    return as_indices(out, shape=(num_clips, clip_len), num_frames=num_frames, what=what)


def _allowed_rows(config, out_of_bound):
    """For each clip, the set of rows train mode may give it (every start in its window, expanded and wrapped)."""
    num_frames, num_clips, clip_len, frame_interval = config
    allowed = []
    with course():
        bounds = segment_bounds(*config)  # (K, 2)
        for low, high in bounds:
            starts = np.arange(low, high)
            rows = offsets_to_indices(starts, num_frames, clip_len, frame_interval, out_of_bound=out_of_bound)
            allowed.append({tuple(row) for row in rows.tolist()})
    return allowed


@CLIP_SAMPLING.case("shape (num_clips, clip_len), integer indices in [0, num_frames)")
def _(sample):
    for config in ((16, 3, 4, 2), (1, 8, 4, 2), (3, 8, 1, 1), (64, 1, 4, 2), (5, 3, 4, 2)):
        for mode in ("train", "test"):
            _call(sample, *config, mode=mode)


@CLIP_SAMPLING.case("test mode: the lecture's vectors (offsets, centres, one centred clip, loop, repeat_last)")
def _(sample):
    named = (
        ((10, 3, 4, 2), "loop", [[0, 2, 4, 6], [2, 4, 6, 8], [3, 5, 7, 9]],
         "test mode spans L = (clip_len - 1) * frame_interval + 1 frames, not clip_len * frame_interval"),
        ((64, 1, 4, 2), "loop", [[28, 30, 32, 34]], "one clip starts at max_offset // 2, max_offset = N - L"),
        ((10, 3, 1, 1), "loop", [[1], [5], [8]], "clip_len = 1: segment centres k*N/K + N/(2K), truncated"),
        ((5, 3, 4, 2), "loop", [[0, 2, 4, 1]] * 3, "loop wraps with np.mod(index, num_frames)"),
        ((5, 3, 4, 2), "repeat_last", [[0, 2, 4, 4]] * 3,
         "repeat_last replaces an index >= num_frames by the largest valid index of the same clip"),
    )
    for config, out_of_bound, expected, hint in named:
        got = _call(sample, *config, mode="test", out_of_bound=out_of_bound)
        if not same(got, np.array(expected)):
            fail(f"test mode {config}, out_of_bound={out_of_bound!r}", expected=np.array(expected), got=got,
                 hint=hint)


@CLIP_SAMPLING.case("test mode: MMAction2's indices on a grid of sizes")
def _(sample):
    for config in TEST_GRID:
        for out_of_bound in OUT_OF_BOUND_OPTIONS:
            expected, exact = reference_test_mode(*config, out_of_bound=out_of_bound)
            got = _call(sample, *config, mode="test", out_of_bound=out_of_bound)
            if not matches_test_reference(got, expected, exact):
                fail(f"test mode {config}, out_of_bound={out_of_bound!r}", expected=expected, got=got,
                     hint="clip_len == 1: centres; clip_len > 1: starts round(k * max_offset / (num_clips - 1)) "
                          "with max_offset = max(N - L, 0), L = (clip_len - 1) * frame_interval + 1; rows are "
                          "clips (start + np.arange(clip_len) * frame_interval), then wrap")


@CLIP_SAMPLING.case("test mode draws nothing: same indices for any rng, global np.random untouched")
def _(sample):
    for config in ((16, 3, 4, 2), (301, 8, 1, 1)):
        first = _call(sample, *config, mode="test", rng=0)
        second = _call(sample, *config, mode="test", rng=1)
        if not same(first, second):
            fail(f"test mode {config} depends on rng", expected=first, got=second,
                 hint="test mode takes fixed starts and never draws from rng")
    global_state_unchanged(lambda: _call(sample, 16, 3, 4, 2, mode="test"), what=f"{sample.__name__} (test)")


@CLIP_SAMPLING.case("train mode: rows are clips from their own window, frame_interval apart (100 seeds)")
def _(sample):
    for config in TRAIN_CONFIGS:
        for out_of_bound in OUT_OF_BOUND_OPTIONS:
            allowed = _allowed_rows(config, out_of_bound)
            with course():
                branch = train_branch(*config)
            for seed in range(100 if branch in ("segments", "sorted") else 2):
                got = _call(sample, *config, mode="train", out_of_bound=out_of_bound, rng=seed)
                for k, row in enumerate(got.tolist()):
                    if tuple(row) not in allowed[k]:
                        more = " ..." if len(allowed[k]) > 3 else ""
                        fail(f"train mode {config}, out_of_bound={out_of_bound!r}, seed {seed}: clip {k} is "
                             f"not a possible clip", expected=f"one of {sorted(allowed[k])[:3]}{more}", got=got,
                             hint=TRAIN_HINT)
                starts = got[:, 0]
                if branch == "sorted" and (np.diff(starts) < 0).any():
                    fail(f"train mode {config}: clip starts must be sorted in this case", got=got,
                         hint="num_frames > max(num_clips, L) with avg == 0: np.sort the random starts")


@CLIP_SAMPLING.case("train mode: nothing runs past the end when avg > 0, so loop == repeat_last")
def _(sample):
    for config in ((16, 3, 4, 2), (7, 3, 2, 2), (64, 4, 8, 2)):
        for seed in range(20):
            loop = _call(sample, *config, mode="train", out_of_bound="loop", rng=seed)
            last = _call(sample, *config, mode="train", out_of_bound="repeat_last", rng=seed)
            if not same(loop, last):
                fail(f"train mode {config}, seed {seed}: loop and repeat_last differ", expected=loop, got=last,
                     hint="subtract the clip span: avg = (num_frames - clip_len * frame_interval + 1) // num_clips")


@CLIP_SAMPLING.case("train mode: same seed same clips, other seeds other clips")
def _(sample):
    for config in ((301, 8, 1, 1), (64, 4, 8, 2), (10, 8, 4, 2)):
        outputs = set()
        for seed in range(8):
            first = _call(sample, *config, mode="train", rng=seed)
            second = _call(sample, *config, mode="train", rng=seed)
            if not same(first, second):
                fail(f"train mode {config}: two calls with np.random.default_rng({seed}) differ", expected=first,
                     got=second, hint="draw only from the rng argument")
            outputs.add(tuple(first.ravel()))
        if len(outputs) < 4:
            fail(f"train mode {config}: seeds 0..7 gave {len(outputs)} distinct outputs",
                 expected="random starts in train mode", hint=TRAIN_HINT)
    global_state_unchanged(lambda: _call(sample, 64, 4, 8, 2, mode="train"), what=f"{sample.__name__} (train)")


@CLIP_SAMPLING.case("train mode: starts uniform in their windows (chi-square, fixed seed)")
def _(sample):
    rng, draws = generator(77), 1500
    config = (41, 4, 2, 2)  # L = 4, avg = 38 // 4 = 9
    starts = np.array([_call(sample, *config, mode="train", rng=rng)[:, 0] for _ in range(draws)])  # (draws, K)
    offsets = starts - np.arange(4) * 9
    for k in range(4):
        statistic = chi_square(np.bincount(offsets[:, k], minlength=9))
        expect_true(statistic < chi_square_limit(8), what=f"{config}: clip {k}'s 9 possible starts are not equally "
                    f"likely over {draws} draws", expected=f"chi-square < {chi_square_limit(8):.1f}",
                    got=round(statistic, 1), hint="rng.integers(avg, size=num_clips) is uniform on {0..avg-1}")
    config = (10, 8, 4, 2)  # sorted branch: 8 starts uniform on {0, 1, 2}, then sorted
    pooled = np.concatenate([_call(sample, *config, mode="train", rng=rng)[:, 0] for _ in range(300)])
    statistic = chi_square(np.bincount(pooled, minlength=3))
    expect_true(statistic < chi_square_limit(2), what=f"{config}: the starts 0, 1, 2 are not equally likely",
                expected=f"chi-square < {chi_square_limit(2):.1f}", got=round(statistic, 1),
                hint="draw every start from rng.integers(num_frames - L + 1, size=num_clips), then sort")


EXERCISES = (CLIP_SAMPLING,)
