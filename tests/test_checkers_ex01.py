"""The checkers of notebook 01 accept student-style solutions and reject deliberately wrong versions.

Wrong versions: typical student mistakes (``m<number>`` in the names), plus others (``x_`` names).
01.find_the_bug has its own tests (tests/test_checkers_ex01_find_the_bug.py).
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch
from attack_kit import delegation_rejected, gains_nothing, lying_array, lying_tensor, noisy, notebook, passes, rejected

from course_utils import sampling, tsn
from course_utils.exercises import ex01_support
from course_utils.exercises.framework import CheckFailed, check, get_exercise
from course_utils.sampling import segment_bounds
from course_utils.sampling.clips import sample_clips


# ---------------------------------------------------------------- 01.segment_sampling (train mode)
def sample_segments(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + rng.integers(avg, size=num_segments)
    offsets = np.around(np.arange(num_segments) * (num_frames / num_segments))
    return np.mod(offsets, num_frames).astype(np.int64)


def _fewer(num_frames, num_segments):
    return np.mod(np.around(np.arange(num_segments) * num_frames / num_segments), num_frames).astype(np.int64)


def m1_off_by_one(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + rng.integers(avg + 1, size=num_segments)
    return _fewer(num_frames, num_segments)


def m2_centres_in_train(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + avg // 2
    return _fewer(num_frames, num_segments)


def m9_float_offsets(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + np.floor(rng.random(num_segments) * avg)
    return _fewer(num_frames, num_segments)


def m9_floats_when_fewer(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + rng.integers(avg, size=num_segments)
    return np.mod(np.around(np.arange(num_segments) * num_frames / num_segments), num_frames)


def m11_no_wrap(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + rng.integers(avg, size=num_segments)
    return np.around(np.arange(num_segments) * num_frames / num_segments).astype(np.int64)


def m12_one_frame_wrong_length(num_frames, num_segments, *, rng):
    if num_frames == 1:
        return np.zeros(1, dtype=np.int64)
    return sample_segments(num_frames, num_segments, rng=rng)


def x_global_random(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + np.random.randint(avg, size=num_segments)
    return _fewer(num_frames, num_segments)


def x_seeds_global(num_frames, num_segments, *, rng):
    np.random.seed(0)
    return x_global_random(num_frames, num_segments, rng=rng)


def x_ignores_rng(num_frames, num_segments, *, rng):
    return sample_segments(num_frames, num_segments, rng=np.random.default_rng())


def x_float_boundaries(num_frames, num_segments, *, rng):
    if num_frames < num_segments:
        return _fewer(num_frames, num_segments)
    edges = (np.arange(num_segments + 1) * num_frames) // num_segments
    return edges[:-1] + rng.integers(np.diff(edges))


def x_ceil_segments(num_frames, num_segments, *, rng):
    avg = -(-num_frames // num_segments)
    if num_frames >= num_segments:
        return np.minimum(np.arange(num_segments) * avg + rng.integers(avg, size=num_segments), num_frames - 1)
    return _fewer(num_frames, num_segments)


def x_sorted_uniform(num_frames, num_segments, *, rng):
    if num_frames >= num_segments:
        return np.sort(rng.integers(num_frames, size=num_segments))
    return _fewer(num_frames, num_segments)


def x_one_shared_offset(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + rng.integers(avg)
    return _fewer(num_frames, num_segments)


def x_floor_when_fewer(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + rng.integers(avg, size=num_segments)
    return (np.arange(num_segments) * num_frames) // num_segments


def x_cycle_when_fewer(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + rng.integers(avg, size=num_segments)
    return np.arange(num_segments) % num_frames


def x_column_shape(num_frames, num_segments, *, rng):
    return sample_segments(num_frames, num_segments, rng=rng)[:, None]


def x_skewed_offsets(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:  # min of two draws: every offset possible, but small ones favoured
        draws = np.minimum(rng.integers(avg, size=num_segments), rng.integers(avg, size=num_segments))
        return np.arange(num_segments) * avg + draws
    return _fewer(num_frames, num_segments)


TRAIN_WRONG = [m1_off_by_one, m2_centres_in_train, m9_float_offsets, m9_floats_when_fewer, m11_no_wrap,
               m12_one_frame_wrong_length, x_global_random, x_seeds_global, x_ignores_rng, x_float_boundaries,
               x_ceil_segments, x_sorted_uniform, x_one_shared_offset, x_floor_when_fewer, x_cycle_when_fewer,
               x_column_shape, x_skewed_offsets]


def test_segment_sampling_accepts_the_solution(capsys):
    check("01.segment_sampling", sample_segments)
    assert capsys.readouterr().out.strip().startswith("✔ 01.segment_sampling: ")


def test_segment_sampling_agrees_with_the_toolkit_but_rejects_it_as_an_answer():
    toolkit = lambda n, k, *, rng: sample_clips(n, k, rng=rng).ravel()  # noqa: E731
    for case in get_exercise("01.segment_sampling").cases:  # the cases alone: no tripwire installed
        case.run(toolkit)
    delegation_rejected("01.segment_sampling", toolkit, called="course_utils.sampling.clips.sample_clips")


@pytest.mark.parametrize("wrong", TRAIN_WRONG, ids=lambda f: f.__name__)
def test_segment_sampling_rejects(wrong):
    with pytest.raises(CheckFailed, match="01.segment_sampling"):
        check("01.segment_sampling", wrong)


def test_off_by_one_offset_gets_the_segment_hint_not_the_rounding_one():
    with pytest.raises(CheckFailed) as info:
        check("01.segment_sampling", m1_off_by_one)
    assert "rng.integers(avg) already excludes avg" in str(info.value)
    assert "np.around" not in str(info.value)


def test_not_implemented_is_reported():
    def stub(num_frames, num_segments, *, rng):
        raise NotImplementedError("write your code")

    with pytest.raises(CheckFailed, match="not implemented yet"):
        check("01.segment_sampling", stub)


# ---------------------------------------------------------------- 01.segment_sampling_test
def sample_segments_test(num_frames, num_segments):
    avg = num_frames / num_segments
    return (np.arange(num_segments) * avg + avg / 2).astype(np.int64)


def exact_centres(num_frames, num_segments):
    return ((2 * np.arange(num_segments) + 1) * num_frames) // (2 * num_segments)


def m14_starts(num_frames, num_segments):
    return (np.arange(num_segments) * (num_frames / num_segments)).astype(np.int64)


def x_rounded_centres(num_frames, num_segments):
    avg = num_frames / num_segments
    return np.minimum(np.round(np.arange(num_segments) * avg + avg / 2), num_frames - 1).astype(np.int64)


def x_integer_segment_centres(num_frames, num_segments):
    avg = max(num_frames // num_segments, 1)
    return np.minimum(np.arange(num_segments) * avg + avg // 2, num_frames - 1)


def m13_random_test(num_frames, num_segments):
    return sample_segments(num_frames, num_segments, rng=np.random.default_rng())


def m13_global_random_test(num_frames, num_segments):
    jitter = np.random.randint(2)
    return np.minimum(exact_centres(num_frames, num_segments) + jitter, num_frames - 1)


def m9_float_centres(num_frames, num_segments):
    avg = num_frames / num_segments
    return np.floor(np.arange(num_segments) * avg + avg / 2)


def x_zeros_when_fewer(num_frames, num_segments):
    if num_frames < num_segments:
        return np.zeros(num_segments, dtype=np.int64)
    return sample_segments_test(num_frames, num_segments)


@pytest.mark.parametrize("solution", [sample_segments_test, exact_centres], ids=lambda f: f.__name__)
def test_segment_sampling_test_accepts(solution, capsys):
    check("01.segment_sampling_test", solution)
    assert "✔ 01.segment_sampling_test" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [m14_starts, x_rounded_centres, x_integer_segment_centres, m13_random_test,
                                   m13_global_random_test, m9_float_centres, x_zeros_when_fewer],
                         ids=lambda f: f.__name__)
def test_segment_sampling_test_rejects(wrong):
    with pytest.raises(CheckFailed, match="01.segment_sampling_test"):
        check("01.segment_sampling_test", wrong)


def test_segment_centre_quirk_is_accepted_both_ways():
    # MMAction2 and exact arithmetic differ at N=6, K=7; the checker takes either (see ex01_support)
    assert sample_segments_test(6, 7).tolist() == [0, 1, 2, 2, 3, 4, 5]
    assert exact_centres(6, 7).tolist() == [0, 1, 2, 3, 3, 4, 5]


def test_fewer_frames_cases_agree_for_both_float_orders():
    # k * (N / K) (MMAction2) and k * N / K can round differently at .5 ties (first at N=15, K=22); the checker's
    # cases avoid such sizes, so both ways of writing the ratio are accepted.
    for num_frames, num_segments in ((3, 8), (2, 3), (5, 7), (7, 8), (4, 6)):
        assert np.array_equal(sample_clips(num_frames, num_segments).ravel(), _fewer(num_frames, num_segments))
    assert not np.array_equal(sample_clips(15, 22).ravel(), _fewer(15, 22))


# ---------------------------------------------------------------- 01.clip_sampling (quiz 1)
def make_clip_sampler(*, train_span="cl*fi", test_span="(cl-1)*fi+1", no_random=False, sort=True,
                      offsets_times_fi=False, forget_fi=False, frame_major=False, wrap="loop-mod",
                      cast=True, random_test=False, single_clip_start="half", global_rng=False,
                      repeat_last_with="last_valid"):
    """A student-style quiz 1 solution; each keyword switches on one mistake."""

    def sample_clip_indices(num_frames, num_clips, clip_len, frame_interval, *, mode, out_of_bound, rng):
        draw = (lambda high, size: np.random.randint(high, size=size)) if global_rng else \
            (lambda high, size: rng.integers(high, size=size))
        if mode == "train":
            span = {"cl*fi": clip_len * frame_interval, "cl": clip_len, "0": 0}[train_span]
            avg = (num_frames - span + 1) // num_clips
            if avg > 0:
                extra = avg // 2 if no_random else draw(avg, num_clips)
                offsets = np.arange(num_clips) * avg + extra
            elif num_frames > max(num_clips, span):
                offsets = draw(num_frames - span + 1, num_clips)
                offsets = np.sort(offsets) if sort else offsets
            elif avg == 0:
                offsets = np.around(np.arange(num_clips) * ((num_frames - span + 1.0) / num_clips))
            else:
                offsets = np.zeros(num_clips, dtype=np.int64)
        elif clip_len == 1:
            avg = num_frames / num_clips
            offsets = np.arange(num_clips) * avg + avg / 2
            if random_test:
                offsets = offsets + np.random.randint(2)
        else:
            span = {"(cl-1)*fi+1": (clip_len - 1) * frame_interval + 1, "cl*fi": clip_len * frame_interval}[test_span]
            max_offset = max(num_frames - span, 0)
            if num_clips > 1:
                offsets = np.round(np.arange(num_clips) * (max_offset / (num_clips - 1)))
            else:
                offsets = np.array([{"half": max_offset // 2, "zero": 0, "float": max_offset / 2}[single_clip_start]])
        steps = np.arange(clip_len) * (1 if forget_fi else frame_interval)
        if offsets_times_fi:
            offsets, steps = offsets * frame_interval, np.arange(clip_len)
        inds = offsets[:, None] + steps[None, :]  # (K, cl)
        if frame_major:
            inds = inds.T.reshape(num_clips, clip_len)
        if out_of_bound == "loop":
            inds = {"loop-mod": lambda: np.mod(inds, num_frames), "clip": lambda: np.minimum(inds, num_frames - 1),
                    "none": lambda: inds}[wrap]()
        else:
            safe = inds < num_frames
            last = np.max(np.where(safe, inds, 0), axis=1) if repeat_last_with == "last_valid" else \
                np.full(num_clips, num_frames - 1)
            inds = np.where(safe, inds, last[:, None])
        return inds.astype(np.int64) if cast else inds

    return sample_clip_indices


CLIP_WRONG = {
    "m2_no_randomness": dict(no_random=True),
    "m4_forget_span": dict(train_span="0"),
    "m5_span_is_clip_len": dict(train_span="cl"),
    "m6_train_span_in_test": dict(test_span="cl*fi"),
    "m7_offsets_times_fi": dict(offsets_times_fi=True),
    "m7_forget_fi_in_clip": dict(forget_fi=True),
    "m8_frame_major": dict(frame_major=True),
    "m9_float_indices": dict(cast=False),
    "m11_no_wrap": dict(wrap="none"),
    "m13_random_test": dict(random_test=True),
    "m17_single_clip_at_zero": dict(single_clip_start="zero"),
    "m19_loop_with_clip": dict(wrap="clip"),
    "m20_no_sort": dict(sort=False),
    "x_repeat_last_uses_last_frame": dict(repeat_last_with="last_frame"),
    "x_global_random": dict(global_rng=True),
}


def test_clip_sampling_accepts_the_solution(capsys):
    check("01.clip_sampling", make_clip_sampler())
    assert capsys.readouterr().out.strip().startswith("✔ 01.clip_sampling: ")


def test_clip_sampling_agrees_with_the_toolkit_but_rejects_it_as_an_answer():
    def toolkit(num_frames, num_clips, clip_len, frame_interval, *, mode, out_of_bound, rng):
        return sample_clips(num_frames, num_clips, clip_len, frame_interval, mode=mode, out_of_bound=out_of_bound,
                            rng=rng)

    for case in get_exercise("01.clip_sampling").cases:
        case.run(toolkit)
    delegation_rejected("01.clip_sampling", toolkit, called="course_utils.sampling.clips.sample_clips")


@pytest.mark.parametrize("name", sorted(CLIP_WRONG))
def test_clip_sampling_rejects(name):
    with pytest.raises(CheckFailed, match="01.clip_sampling"):
        check("01.clip_sampling", make_clip_sampler(**CLIP_WRONG[name]))


def test_single_clip_float_start_is_rejected():
    # (N - L) / 2 as a float start gives e.g. 28.5 -> 28 after the cast for N=64, L=7: caught where it matters
    with pytest.raises(CheckFailed, match="01.clip_sampling"):
        check("01.clip_sampling", make_clip_sampler(single_clip_start="float", cast=False))


# ---------------------------------------------------------------- delegation, lying objects, honest variants
SEGMENT_DELEGATIONS = {
    "the notebook's import": lambda n, k, *, rng: sample_clips(n, k, rng=rng).ravel(),
    "the package attribute": lambda n, k, *, rng: sampling.sample_clips(n, k, rng=rng).ravel(),
    "getattr with a computed name": lambda n, k, *, rng: getattr(sampling, "sample_" + "clips")(n, k, rng=rng)
    .ravel(),
    "importlib with a computed name": lambda n, k, *, rng: importlib.import_module("course_utils.sampling." + "clips")
    .sample_clips(n, k, rng=rng).ravel(),
    "the TSN sampler": lambda n, k, *, rng: tsn.sample_snippet_indices(1, n, k, rng=rng).ravel(),
    "segment bounds from the toolkit": lambda n, k, *, rng: _from_bounds(n, k, rng),
    "the course's offsets": lambda n, k, *, rng: sampling.train_offsets(n, k, 1, 1, integers=rng.integers),
    "the checker's substitute outside its check": lambda n, k, *, rng: ex01_support.EARLIER_ANSWERS[
        "sample_segments"](n, k, rng=rng),
}


def _from_bounds(num_frames, num_segments, rng):
    bounds = segment_bounds(num_frames, num_segments)  # (K, 2)
    return rng.integers(bounds[:, 0], np.maximum(bounds[:, 1], bounds[:, 0] + 1))


@pytest.mark.parametrize("name", sorted(SEGMENT_DELEGATIONS))
def test_segment_sampling_delegation_scores_zero(name):
    delegation_rejected("01.segment_sampling", SEGMENT_DELEGATIONS[name], called="course_utils.")


@pytest.mark.parametrize("answer", [lambda n, k: sample_clips(n, k, mode="test").ravel(),
                                    lambda n, k: ex01_support.reference_test_mode(n, k)[0].ravel()],
                         ids=["sample_clips", "the checker's helper"])
def test_segment_sampling_test_delegation_scores_zero(answer):
    delegation_rejected("01.segment_sampling_test", answer, called="course_utils.sampling.clips.sample_clips")


def test_lying_arrays_gain_nothing():
    gains_nothing("01.segment_sampling", lambda n, k, *, rng: lying_array(np.zeros(k, dtype=np.int64)),
                  lambda n, k, *, rng: np.zeros(k, dtype=np.int64))
    gains_nothing("01.segment_sampling_test", lambda n, k: lying_array(np.zeros(k, dtype=np.int64)),
                  lambda n, k: np.zeros(k, dtype=np.int64))
    gains_nothing("01.segment_sampling_test", lambda n, k: lying_tensor(torch.zeros(k, dtype=torch.int64)),
                  lambda n, k: torch.zeros(k, dtype=torch.int64))


def test_honest_variants_pass():
    passes("01.segment_sampling", noisy(sample_segments))
    passes("01.segment_sampling", lambda n, k, *, rng: sample_segments(n, k, rng=rng).astype(np.int32))
    passes("01.segment_sampling", lambda n, k, *, rng: torch.from_numpy(sample_segments(n, k, rng=rng)))
    passes("01.segment_sampling_test", noisy(sample_segments_test))
    passes("01.segment_sampling_test", lambda n, k: [int(k_ * n / k + n / k / 2) for k_ in range(k)])  # a loop
    passes("01.clip_sampling", noisy(make_clip_sampler()))


def test_clip_sampling_is_graded_on_its_own_when_it_reuses_earlier_answers():
    cells = notebook("""
        import numpy as np

        def sample_segments_test(num_frames, num_segments):
            return (np.arange(num_segments) * num_frames) // num_segments  # wrong: starts, not centres

        def sample_clip_indices(num_frames, num_clips, clip_len, frame_interval, *, mode, out_of_bound, rng):
            if mode == "test" and clip_len == 1:
                return np.asarray(sample_segments_test(num_frames, num_clips)).reshape(num_clips, 1)
            return solution(num_frames, num_clips, clip_len, frame_interval, mode=mode, out_of_bound=out_of_bound,
                            rng=rng)
    """, solution=make_clip_sampler())
    rejected("01.segment_sampling_test", cells["sample_segments_test"])
    passes("01.clip_sampling", cells["sample_clip_indices"])
