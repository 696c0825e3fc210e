"""Tests of course_utils.sampling.clips against MMAction2 SampleFrames (vectors in tests/data, a transcription here)."""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from course_utils.sampling.clips import (
    offsets_to_indices,
    sample_clips,
    segment_bounds,
    train_branch,
    train_offsets,
)

DATA = Path(__file__).parent / "data" / "mmaction2_sampleframes.json"


def load_records() -> list[dict]:
    return json.loads(DATA.read_text())["records"]


def mmaction_sample_frames(num_frames, num_clips, clip_len, frame_interval, test_mode, out_of_bound_opt, randint):
    """SampleFrames.transform of MMAction2 (commit 4d6c934, start_index=0), transcribed with `randint` injected."""
    if test_mode:
        ori_clip_len = (clip_len - 1) * frame_interval + 1
        if clip_len == 1:
            avg_interval = num_frames / float(num_clips)
            base_offsets = np.arange(num_clips) * avg_interval
            clip_offsets = base_offsets + avg_interval / 2.0
        else:
            max_offset = max(num_frames - ori_clip_len, 0)
            if num_clips > 1:
                offset_between = max_offset / float(num_clips - 1)
                clip_offsets = np.round(np.arange(num_clips) * offset_between)
            else:
                clip_offsets = np.array([max_offset // 2])
    else:
        ori_clip_len = clip_len * frame_interval
        avg_interval = (num_frames - ori_clip_len + 1) // num_clips
        if avg_interval > 0:
            base_offsets = np.arange(num_clips) * avg_interval
            clip_offsets = base_offsets + randint(avg_interval, size=num_clips)
        elif num_frames > max(num_clips, ori_clip_len):
            clip_offsets = np.sort(randint(num_frames - ori_clip_len + 1, size=num_clips))
        elif avg_interval == 0:
            ratio = (num_frames - ori_clip_len + 1.0) / num_clips
            clip_offsets = np.around(np.arange(num_clips) * ratio)
        else:
            clip_offsets = np.zeros((num_clips,), dtype=np.int32)
    frame_inds = clip_offsets[:, None] + np.arange(clip_len)[None, :] * frame_interval
    frame_inds = np.concatenate(frame_inds).reshape((-1, clip_len))
    if out_of_bound_opt == "loop":
        frame_inds = np.mod(frame_inds, num_frames)
    else:
        safe_inds = frame_inds < num_frames
        unsafe_inds = 1 - safe_inds
        last_ind = np.max(safe_inds * frame_inds, axis=1)
        frame_inds = safe_inds * frame_inds + (unsafe_inds.T * last_ind).T
    return np.concatenate(frame_inds).astype(np.int32)


def enumerate_support(num_frames, num_clips, clip_len, frame_interval, out_of_bound):
    """Every flat output MMAction2's train mode can give, with its probability (all draws enumerated)."""
    probe = {}

    def record(high, size):
        probe["high"], probe["size"] = high, size
        return np.zeros(size, dtype=np.int64)

    mmaction_sample_frames(num_frames, num_clips, clip_len, frame_interval, False, out_of_bound, record)
    if not probe:
        out = mmaction_sample_frames(num_frames, num_clips, clip_len, frame_interval, False, out_of_bound, None)
        return {tuple(out.tolist()): 1.0}
    order_matters = not is_sorted_branch(num_frames, num_clips, clip_len, frame_interval)
    support: dict[tuple, float] = {}
    for draw, probability in draws_with_probabilities(probe["high"], probe["size"], order_matters):
        out = mmaction_sample_frames(num_frames, num_clips, clip_len, frame_interval, False, out_of_bound,
                                     lambda high_, size, d=draw: np.array(d, dtype=np.int64))
        key = tuple(out.tolist())
        support[key] = support.get(key, 0.0) + probability
    return support


def draws_with_probabilities(high, size, order_matters):
    """Every result of `size` uniform draws from range(high), with its probability.

    When the draws are sorted afterwards (MMAction2's sorted branch) only the multiset matters, which keeps the
    enumeration small: each multiset stands for multinomial-many ordered tuples.
    """
    if order_matters:
        for draw in itertools.product(range(high), repeat=size):
            yield draw, high ** -size
        return
    for draw in itertools.combinations_with_replacement(range(high), size):
        orderings = math.factorial(size)
        for count in Counter(draw).values():
            orderings //= math.factorial(count)
        yield draw, orderings * high ** -size


def is_sorted_branch(num_frames, num_clips, clip_len, frame_interval):
    ori_clip_len = clip_len * frame_interval
    return (num_frames - ori_clip_len + 1) // num_clips <= 0 and num_frames > max(num_clips, ori_clip_len)


SMALL_GRID = [(n, k, cl, fi) for n in (1, 2, 3, 4, 5, 7, 10) for k in (1, 2, 3) for cl in (1, 2, 3)
              for fi in (1, 2)]


def test_data_file_keeps_its_attribution():
    data = json.loads(DATA.read_text())
    assert "SampleFrames" in data["about"]
    assert data["source"]["repo"] == "open-mmlab/mmaction2"
    assert len(data["records"]) == 768


def test_test_mode_matches_every_mmaction2_record():
    records = [r for r in load_records() if r["test_mode"]]
    assert len(records) == 384
    for r in records:
        out = sample_clips(r["num_frames"], r["num_clips"], r["clip_len"], r["frame_interval"], mode="test",
                           out_of_bound=r["out_of_bound_opt"], rng=r["seed"])
        assert out.shape == (r["num_clips"], r["clip_len"]), r
        assert out.ravel().tolist() == r["frame_inds"], r


def test_train_logic_reproduces_mmaction2_draws_with_the_legacy_generator():
    # Injecting the legacy generator MMAction2 used shows the branch logic is identical, draw for draw.
    for r in (r for r in load_records() if not r["test_mode"]):
        legacy = np.random.RandomState(r["seed"])
        offsets = train_offsets(r["num_frames"], r["num_clips"], r["clip_len"], r["frame_interval"],
                                integers=legacy.randint)
        out = offsets_to_indices(offsets, r["num_frames"], r["clip_len"], r["frame_interval"],
                                 out_of_bound=r["out_of_bound_opt"])
        assert out.ravel().tolist() == r["frame_inds"], r


def test_worked_examples_of_the_lecture():
    legacy = np.random.RandomState(0)
    first = offsets_to_indices(train_offsets(301, 8, 1, 1, integers=legacy.randint), 301, 1, 1)
    assert first.ravel().tolist() == [0, 40, 77, 120, 167, 206, 258, 282]
    assert sample_clips(3, 8, rng=0).ravel().tolist() == [0, 0, 1, 1, 2, 2, 2, 0]
    assert sample_clips(10, 3, mode="test").ravel().tolist() == [1, 5, 8]
    assert sample_clips(301, 8, mode="test").ravel().tolist() == [18, 56, 94, 131, 169, 206, 244, 282]
    assert sample_clips(10, 3, 4, 2, mode="test").ravel().tolist() == [0, 2, 4, 6, 2, 4, 6, 8, 3, 5, 7, 9]
    assert sample_clips(64, 1, 4, 2, mode="test").ravel().tolist() == [28, 30, 32, 34]
    assert sample_clips(5, 3, 4, 2, mode="test").tolist() == [[0, 2, 4, 1]] * 3
    assert sample_clips(5, 3, 4, 2, mode="test", out_of_bound="repeat_last").tolist() == [[0, 2, 4, 4]] * 3


@pytest.mark.parametrize(("num_frames", "num_clips", "expected"),
                         [(6, 7, [0, 1, 2, 2, 3, 4, 5]), (4, 14, None), (6, 9, None), (2, 29, None)])
def test_test_mode_keeps_mmaction2_float_truncation(num_frames, num_clips, expected):
    out = sample_clips(num_frames, num_clips, mode="test").ravel()
    exact = [((2 * k + 1) * num_frames) // (2 * num_clips) for k in range(num_clips)]
    assert out.tolist() != exact  # MMAction2 truncates k*avg + avg/2 computed in float64
    assert np.all((np.array(exact) - out >= 0) & (np.array(exact) - out <= 1))
    if expected is not None:
        assert out.tolist() == expected


def our_support(num_frames, num_clips, clip_len, frame_interval, out_of_bound):
    """Every output of our train mode with its probability, enumerating every value its draw can take."""
    config = (num_frames, num_clips, clip_len, frame_interval)
    probe = {}

    def record(high, size):
        probe["high"], probe["size"] = high, size
        return np.zeros(size, dtype=np.int64)

    train_offsets(*config, integers=record)
    if probe:
        order_matters = train_branch(*config) != "sorted"
        draws = draws_with_probabilities(probe["high"], probe["size"], order_matters)
    else:
        draws = [((), 1.0)]
    support: dict[tuple, float] = {}
    for draw, weight in draws:
        offsets = train_offsets(*config, integers=lambda high, size, d=draw: np.array(d, dtype=np.int64))
        out = offsets_to_indices(offsets, num_frames, clip_len, frame_interval, out_of_bound=out_of_bound)
        key = tuple(out.ravel().tolist())
        support[key] = support.get(key, 0.0) + weight
    return support


def assert_same_distribution(config, out_of_bound):
    theirs = enumerate_support(*config, out_of_bound)
    ours = our_support(*config, out_of_bound)
    assert ours.keys() == theirs.keys(), (config, out_of_bound)
    for key, probability in theirs.items():
        assert math.isclose(ours[key], probability), (config, out_of_bound, key)
    return ours


@pytest.mark.parametrize("config", SMALL_GRID)
def test_train_support_and_probabilities_equal_mmaction2(config):
    for out_of_bound in ("loop", "repeat_last"):
        support = assert_same_distribution(config, out_of_bound)
        for seed in range(3):
            drawn = sample_clips(*config, out_of_bound=out_of_bound, rng=seed).ravel()
            assert tuple(drawn.tolist()) in support, (config, seed)


def test_json_train_records_lie_in_our_support():
    supports = {}
    for r in (r for r in load_records() if not r["test_mode"]):
        key = (r["num_frames"], r["num_clips"], r["clip_len"], r["frame_interval"], r["out_of_bound_opt"])
        if key not in supports:
            supports[key] = assert_same_distribution(key[:4], key[4])
        assert tuple(r["frame_inds"]) in supports[key], r
        if train_branch(*key[:4]) == "segments":
            bounds = segment_bounds(*key[:4])
            starts = np.array(r["frame_inds"]).reshape(r["num_clips"], r["clip_len"])[:, 0]
            assert np.all((bounds[:, 0] <= starts) & (starts < bounds[:, 1])), r


def _chi_square_limit(dof: int, z: float = 4.75) -> float:
    """Wilson-Hilferty approximation of the chi-square quantile at about p = 1e-6."""
    return dof * (1 - 2 / (9 * dof) + z * math.sqrt(2 / (9 * dof))) ** 3


def test_segments_branch_is_uniform_within_each_window_and_independent():
    num_frames, num_clips, draws = 40, 4, 4000
    rng = np.random.default_rng(1234)
    samples = np.stack([sample_clips(num_frames, num_clips, rng=rng)[:, 0] for _ in range(draws)])  # (draws, K)
    bounds = segment_bounds(num_frames, num_clips)
    assert bounds.tolist() == [[0, 10], [10, 20], [20, 30], [30, 40]]
    for k, (low, high) in enumerate(bounds):
        counts = np.bincount(samples[:, k] - low, minlength=high - low)
        assert counts.size == high - low  # never crosses into the next window
        expected = draws / (high - low)
        assert ((counts - expected) ** 2 / expected).sum() < _chi_square_limit(high - low - 1)
    # independence across segments: offsets of segment 0 and 1 behave as a uniform 10x10 table
    pairs = np.bincount((samples[:, 0] % 10) * 10 + samples[:, 1] % 10, minlength=100)
    assert ((pairs - draws / 100) ** 2 / (draws / 100)).sum() < _chi_square_limit(99)


def test_sorted_branch_has_the_distribution_of_sorted_uniform_starts():
    config, draws = (10, 8, 4, 2), 6000
    assert train_branch(*config) == "sorted"
    support = enumerate_support(*config, "loop")
    rng = np.random.default_rng(99)
    counts = Counter(tuple(sample_clips(*config, rng=rng).ravel().tolist()) for _ in range(draws))
    assert set(counts) <= set(support)
    statistic = sum((counts.get(key, 0) - draws * p) ** 2 / (draws * p) for key, p in support.items())
    assert statistic < _chi_square_limit(len(support) - 1)


def test_branches_and_bounds():
    assert train_branch(301, 8) == "segments"
    assert train_branch(10, 8, 4, 2) == "sorted"
    assert train_branch(3, 8) == "rounded"
    assert train_branch(3, 2, 4, 2) == "zeros"
    assert segment_bounds(16, 3, 4, 2).tolist() == [[0, 3], [3, 6], [6, 9]]
    assert segment_bounds(3, 8).tolist() == [[0, 1], [0, 1], [1, 2], [1, 2], [2, 3], [2, 3], [2, 3], [3, 4]]
    assert segment_bounds(3, 2, 4, 2).tolist() == [[0, 1], [0, 1]]


def test_rng_forms_dtype_shape_and_global_state():
    state = np.random.get_state()
    a = sample_clips(301, 8, 4, 2, rng=7)
    assert a.dtype == np.int64 and a.shape == (8, 4)
    assert np.array_equal(a, sample_clips(301, 8, 4, 2, rng=np.random.default_rng(7)))
    assert not np.array_equal(sample_clips(301, 8, rng=0), sample_clips(301, 8, rng=1))
    generator = np.random.default_rng(3)
    assert not np.array_equal(sample_clips(301, 8, rng=generator), sample_clips(301, 8, rng=generator))
    assert sample_clips(301, 8).shape == (8, 1)
    assert np.array_equal(sample_clips(50, 3, 2, mode="test", rng=0), sample_clips(50, 3, 2, mode="test", rng=5))
    after = np.random.get_state()
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]
    assert sample_clips(np.int64(10), np.int32(3)).shape == (3, 1)


@pytest.mark.parametrize(("kwargs", "error", "name"), [
    ({"num_frames": 0}, ValueError, "num_frames"),
    ({"num_frames": -5}, ValueError, "num_frames"),
    ({"num_clips": 0}, ValueError, "num_clips"),
    ({"clip_len": 0}, ValueError, "clip_len"),
    ({"frame_interval": 0}, ValueError, "frame_interval"),
    ({"num_frames": 10.0}, TypeError, "num_frames"),
    ({"num_clips": True}, TypeError, "num_clips"),
    ({"clip_len": "4"}, TypeError, "clip_len"),
    ({"frame_interval": 1.5}, TypeError, "frame_interval"),
    ({"mode": "val"}, ValueError, "mode"),
    ({"mode": True}, TypeError, "mode"),
    ({"out_of_bound": "clip"}, ValueError, "out_of_bound"),
    ({"rng": 1.5}, TypeError, "rng"),
    ({"rng": True}, TypeError, "rng"),
    ({"rng": np.random.RandomState(0)}, TypeError, "rng"),
    ({"rng": -1}, ValueError, "rng"),
    ({"mode": "test", "rng": "seed"}, TypeError, "rng"),
])
def test_invalid_arguments_are_named(kwargs, error, name):
    arguments = {"num_frames": 10, "num_clips": 3, "clip_len": 1, "frame_interval": 1, **kwargs}
    with pytest.raises(error, match=name):
        sample_clips(arguments.pop("num_frames"), arguments.pop("num_clips"), arguments.pop("clip_len"),
                     arguments.pop("frame_interval"), **arguments)


def test_helpers_validate_too():
    with pytest.raises(ValueError, match="num_clips"):
        segment_bounds(10, 0)
    with pytest.raises(TypeError, match="clip_len"):
        train_branch(10, 2, 2.0)
    with pytest.raises(ValueError, match="out_of_bound"):
        offsets_to_indices(np.zeros(2), 10, 1, 1, out_of_bound="wrap")


def test_explorer_widget_redraws_on_every_control():
    from course_utils.sampling.explorer import describe_sampling, sampling_explorer

    explorer = sampling_explorer(num_frames=64, num_clips=4, clip_len=4, frame_interval=2)
    (row_1, row_2, mode, summary, image) = explorer.children
    controls = [*row_1.children, *row_2.children, mode]
    assert summary.value == describe_sampling(64, 4, 4, 2, mode="train")
    for control, new_value in zip(controls, (20, 7, 2, 3, "test"), strict=False):
        before = (summary.value, bytes(image.value))
        control.value = new_value
        assert (summary.value, bytes(image.value)) != before, control.description
    assert summary.value.startswith("test: evenly spread fixed starts; 10 of 20 frames decoded")  # distinct frames
    assert describe_sampling(10, 4, 4, 1, mode="test").endswith("; 10 of 10 frames decoded (100%)")  # clips overlap
    assert describe_sampling(3, 8, 1, 1, mode="train").startswith("train: fixed rounded starts")
    with pytest.raises(ValueError, match="mode"):
        sampling_explorer(mode="eval")
