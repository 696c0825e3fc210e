"""01.find_the_bug: three inputs, each exposing a different bug of the lecture's _get_train_frames.

Accepted: one input per bug, in any order and style (tuples, lists, dicts, numpy ints, a set). Rejected: inputs on
which the lecture's method works, two inputs that fail for the same reason, malformed answers, and the answers of
other exercises pasted in.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.exercises import ex01_find_the_bug as bug
from course_utils.exercises.framework import CheckFailed, check
from course_utils.sampling.clips import sample_clips

CORRECT = {
    "solution": [(1, 4), (10, 3, 8), (3, 8)],
    "other order": [(3, 8), (1, 4), (10, 3, 8)],
    "lists": [[2, 3], [1, 1], [40, 4, 1]],
    "dicts": [{"num_frames": 1, "num_clips": 2}, {"num_frames": 12, "num_clips": 4, "sampler_clips": 3},
              {"num_clips": 9, "num_frames": 5}],
    "numpy ints": [(np.int64(1), np.int32(8)), (np.int64(20), np.int64(1), np.int64(2)), (np.int16(7), 8)],
    "a set of tuples": {(1, 3), (100, 2, 1), (2, 5)},
    "a tuple of inputs": ((1, 1, 5), (9, 9, 3), (4, 6, 6)),
    "whole floats": [(1.0, 3.0), (10, 3, 8.0), (3, 8)],
}

WRONG = {
    "an input that exposes nothing": [(1, 4), (10, 3), (3, 8)],
    "two inputs with one frame": [(1, 4), (1, 3, 8), (3, 8)],
    "two inputs with too few frames": [(2, 3), (3, 8), (10, 3, 8)],
    "two sampler mismatches": [(10, 3, 8), (10, 3, 1), (1, 2)],
    "all fine": [(10, 3), (30, 5), (8, 8)],
    "same input three times": [(1, 4)] * 3,
}

MALFORMED = {
    "two inputs": [(1, 4), (3, 8)],
    "four inputs": [(1, 4), (10, 3, 8), (3, 8), (2, 3)],
    "one tuple": (1, 4),
    "a string": "(1, 4), (10, 3, 8), (3, 8)",
    "a dict": {"num_frames": 1, "num_clips": 4},
    "zero frames": [(0, 4), (10, 3, 8), (3, 8)],
    "zero clips": [(1, 0), (10, 3, 8), (3, 8)],
    "negative": [(1, 4), (10, -3, 8), (3, 8)],
    "half a frame": [(1, 4), (10, 3, 8), (3.5, 8)],
    "a bool": [(True, 4), (10, 3, 8), (3, 8)],
    "a string number": [("1", 4), (10, 3, 8), (3, 8)],
    "one number": [1, (10, 3, 8), (3, 8)],
    "four numbers": [(1, 4, 4, 4), (10, 3, 8), (3, 8)],
    "dict missing a key": [{"num_frames": 1}, (10, 3, 8), (3, 8)],
    "dict with an unknown key": [{"num_frames": 1, "num_clips": 4, "seed": 0}, (10, 3, 8), (3, 8)],
    "too large": [(1, 4), (10, 3, 8), (3, 10**9)],
    "None": None,
}


def sample_segments(num_frames, num_segments, *, rng):
    avg = num_frames // num_segments
    if avg > 0:
        return np.arange(num_segments) * avg + rng.integers(avg, size=num_segments)
    return np.mod(np.around(np.arange(num_segments) * (num_frames / num_segments)), num_frames).astype(np.int64)


def get_train_frames(num_frames, num_clips, *, rng):  # the old exercise's answer
    return sample_segments(num_frames, num_clips, rng=rng)


def sample_segments_test(num_frames, num_segments):
    avg = num_frames / num_segments
    return (np.arange(num_segments) * avg + avg / 2).astype(np.int64)


OTHER_ANSWERS = {"sample_segments": sample_segments, "get_train_frames": get_train_frames,
                 "sample_segments_test": sample_segments_test, "sample_clips": sample_clips,
                 "a list of functions": [sample_segments, sample_segments_test, get_train_frames],
                 "indices": sample_clips(10, 3).ravel().tolist()}


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_accepts_one_input_per_bug_in_any_style(name, capsys):
    check("01.find_the_bug", CORRECT[name])
    assert capsys.readouterr().out == "✔ 01.find_the_bug: 3/3 checks passed\n"


@pytest.mark.parametrize("name", sorted(WRONG))
def test_rejects_inputs_that_expose_nothing_or_the_same_bug(name):
    with pytest.raises(CheckFailed, match="01.find_the_bug") as info:
        check("01.find_the_bug", WRONG[name])
    message = str(info.value)
    assert "exposes no bug" in message or "fail for the same reason" in message or "returns what a correct" in message


def test_an_input_that_exposes_nothing_is_named():
    with pytest.raises(CheckFailed) as info:
        check("01.find_the_bug", WRONG["an input that exposes nothing"])
    assert "input #2 (num_frames=10, num_clips=3, sampler_clips=3)" in str(info.value)


def test_a_repeated_bug_names_both_inputs_without_naming_the_bug():
    with pytest.raises(CheckFailed) as info:
        check("01.find_the_bug", WRONG["two inputs with one frame"])
    message = str(info.value)
    assert "inputs #1 and #2 fail for the same reason" in message
    assert "self.num_clips" not in message and "np.around" not in message


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_malformed_answers_are_told_the_form(name):
    with pytest.raises(CheckFailed) as info:
        check("01.find_the_bug", MALFORMED[name])
    message = str(info.value)
    assert "0/3 checks passed" in message and "input" in message
    assert "your code raised" not in message


@pytest.mark.parametrize("name", sorted(OTHER_ANSWERS))
def test_pasting_another_exercise_answer_earns_nothing(name):
    with pytest.raises(CheckFailed, match="0/3 checks passed"):
        check("01.find_the_bug", OTHER_ANSWERS[name])


def test_the_stub_is_not_answered():
    with pytest.raises(CheckFailed, match="not answered yet"):
        check("01.find_the_bug", ...)


def test_the_check_leaves_numpy_global_generator_alone():
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    check("01.find_the_bug", CORRECT["solution"])
    assert np.array_equal(np.random.get_state()[1], before)


def test_every_input_the_lecture_fails_on_exposes_exactly_one_bug():
    counts = dict.fromkeys(bug.VARIANTS, 0)
    for num_frames in range(1, 14):
        for num_clips in range(1, 10):
            for sampler_clips in (1, 2, num_clips, 9):
                fails = bug.misbehaviour(bug.lecture, num_frames, num_clips, sampler_clips) is not None
                exposed = bug.exposed_bugs(num_frames, num_clips, sampler_clips)
                assert len(exposed) == (1 if fails else 0), (num_frames, num_clips, sampler_clips, exposed)
                for name in exposed:
                    counts[name] += 1
    assert all(counts.values()), counts


def test_each_single_bug_variant_misbehaves_only_where_its_bug_is():
    # np.int: one frame; self.num_clips: enough frames and another sampler num_clips; floats: 2 <= N < K
    for num_frames, num_clips, sampler_clips in [(1, 3, 3), (10, 3, 8), (3, 8, 8), (10, 3, 3), (3, 8, 2)]:
        regions = {"np_int": num_frames == 1,
                   "self_num_clips": num_frames >= num_clips and num_frames > 1 and sampler_clips != num_clips,
                   "float_indices": 1 < num_frames < num_clips}
        for name, variant in bug.VARIANTS.items():
            wrong = bug.misbehaviour(variant, num_frames, num_clips, sampler_clips) is not None
            assert wrong == regions[name], (name, num_frames, num_clips, sampler_clips)


def test_the_correct_sampler_is_mmaction2_train_mode_for_single_frames():
    for num_frames, num_clips in [(1, 1), (1, 5), (3, 8), (10, 3), (301, 8), (8, 8)]:
        out = bug.correct(num_frames, num_clips, num_clips)
        assert out.dtype == np.int64 and out.shape == (num_clips,)
        assert out.min() >= 0 and out.max() < num_frames
        if num_frames < num_clips:
            assert np.array_equal(out, sample_clips(num_frames, num_clips).ravel())


def test_the_lecture_method_is_as_written():
    sampler = bug.LectureSampler(3)
    np.random.seed(0)
    first = sampler._get_train_frames(10, 3)
    np.random.seed(0)
    assert np.array_equal(first, bug.correct(10, 3, 3))
    with pytest.raises(AttributeError, match="int"):
        sampler._get_train_frames(1, 3)
    assert sampler._get_train_frames(3, 8).dtype == np.float64
