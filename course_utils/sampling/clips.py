"""Frame sampling for action recognition: TSN segments and clips, with MMAction2 ``SampleFrames`` semantics.

``sample_clips`` reproduces ``SampleFrames`` of MMAction2 (``mmaction/datasets/transforms/loading.py``, commit
4d6c934) with ``start_index=0``, ``keep_tail_frames=False``, ``twice_sample=False`` and no temporal jitter:

* train mode draws a clip start from each of ``num_clips`` equal windows (TSN's segments) with a numpy ``Generator``;
* test mode takes fixed starts: segment centres for ``clip_len == 1``, evenly spread starts for ``clip_len > 1``;
* indices past the end are wrapped (``out_of_bound="loop"``) or replaced by the clip's last valid index
  (``out_of_bound="repeat_last"``).

The four train-mode cases MMAction2 distinguishes are named by ``train_branch`` and their start windows are given by
``segment_bounds``, which plots and checkers use to reason about what sampling may return.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_utils.validation import describe, validate_choice, validate_instance, validate_int

MODES = ("train", "test")
OUT_OF_BOUND_OPTIONS = ("loop", "repeat_last")
TRAIN_BRANCHES = ("segments", "sorted", "rounded", "zeros")

RngLike = int | np.integer | np.random.Generator | None
# integers(high, size=size) -> int array of `size` values drawn uniformly from {0, ..., high - 1}
IntegerDraw = Callable[[int, int], np.ndarray]


def sample_clips(num_frames: int, num_clips: int, clip_len: int = 1, frame_interval: int = 1, *,
                 mode: str = "train", out_of_bound: str = "loop", rng: RngLike = None) -> np.ndarray:
    """Sample ``num_clips`` clips of ``clip_len`` frames, ``frame_interval`` apart, as MMAction2 ``SampleFrames``.

    ``clip_len=1`` is TSN's segment sampling: one frame per segment.

    Args:
        num_frames: number of frames N of the video, >= 1.
        num_clips: number of clips (segments) K, >= 1.
        clip_len: frames per clip, >= 1.
        frame_interval: distance between consecutive frames of a clip, >= 1.
        mode: ``"train"`` (random starts, one per segment window) or ``"test"`` (fixed starts; draws nothing).
        out_of_bound: ``"loop"`` wraps indices past the end modulo N; ``"repeat_last"`` replaces them with the
            largest valid index of their clip (0 if the clip has none).
        rng: randomness for train mode: ``None`` (fresh entropy), an int seed, or a ``numpy.random.Generator``.
            The global ``np.random`` state is never used.

    Returns:
        int64 array of shape ``(num_clips, clip_len)``: frame indices in ``[0, num_frames)``, one row per clip.

    Raises:
        TypeError: a count that is not an integer (bools and floats included), a ``mode`` or ``out_of_bound`` that
            is not a string, or an ``rng`` of another type.
        ValueError: a count below 1, an unknown ``mode`` or ``out_of_bound``, a negative seed.
    """
    num_frames, num_clips, clip_len, frame_interval = _validate_counts(num_frames, num_clips, clip_len, frame_interval)
    validate_choice(mode, "mode", MODES)
    validate_choice(out_of_bound, "out_of_bound", OUT_OF_BOUND_OPTIONS)
    if mode == "train":
        generator = as_generator(rng)
        offsets = train_offsets(num_frames, num_clips, clip_len, frame_interval, integers=generator.integers)
    else:
        if rng is not None:
            as_generator(rng)  # validate only: test mode draws nothing
        offsets = test_offsets(num_frames, num_clips, clip_len, frame_interval)
    return offsets_to_indices(offsets, num_frames, clip_len, frame_interval, out_of_bound=out_of_bound)


def as_generator(rng: RngLike) -> np.random.Generator:
    """Turn ``None``, an int seed or a ``numpy.random.Generator`` into a Generator.

    Args:
        rng: ``None`` (fresh OS entropy), a non-negative int seed, or a Generator (returned as is).

    Returns:
        a ``numpy.random.Generator``.

    Raises:
        TypeError: for anything else (a float, a bool, a legacy ``RandomState``).
        ValueError: for a negative seed.
    """
    if rng is None:
        return np.random.default_rng()
    if isinstance(rng, np.random.Generator):
        return rng
    seed = validate_int(rng, "rng", minimum=0, note="a seed; or None, or a numpy.random.Generator")
    return np.random.default_rng(seed)


def train_branch(num_frames: int, num_clips: int, clip_len: int = 1, frame_interval: int = 1) -> str:
    """Name the case MMAction2's train mode falls in for these sizes.

    With ``L = clip_len * frame_interval`` and ``avg = (num_frames - L + 1) // num_clips``:
    ``"segments"`` if ``avg > 0`` (one uniform start in each window of ``avg`` frames); ``"sorted"`` if
    ``num_frames > max(num_clips, L)`` (K uniform starts in ``[0, N - L]``, sorted); ``"rounded"`` if ``avg == 0``
    (fixed starts ``round(k * (N - L + 1) / K)``, half to even); ``"zeros"`` otherwise (every start 0).

    Args:
        num_frames, num_clips, clip_len, frame_interval: as in ``sample_clips``.

    Returns:
        one of ``"segments"``, ``"sorted"``, ``"rounded"``, ``"zeros"``.
    """
    num_frames, num_clips, clip_len, frame_interval = _validate_counts(num_frames, num_clips, clip_len, frame_interval)
    span = clip_len * frame_interval  # MMAction2's train-mode ori_clip_len
    avg_interval = (num_frames - span + 1) // num_clips
    if avg_interval > 0:
        return "segments"
    if num_frames > max(num_clips, span):
        return "sorted"
    if avg_interval == 0:
        return "rounded"
    return "zeros"


def segment_bounds(num_frames: int, num_clips: int, clip_len: int = 1, frame_interval: int = 1) -> np.ndarray:
    """Window ``[low, high)`` each train-mode clip start is drawn from, before any wrapping.

    In the ``"segments"`` branch clip k starts uniformly in ``[k * avg, (k + 1) * avg)``; in ``"sorted"`` every
    start lies in ``[0, N - L + 1)`` (the K starts are then sorted); in ``"rounded"`` and ``"zeros"`` the start is
    fixed, so the window holds one value.

    Args:
        num_frames, num_clips, clip_len, frame_interval: as in ``sample_clips``.

    Returns:
        int64 array of shape ``(num_clips, 2)``: column 0 the lowest start, column 1 one past the highest.
    """
    branch = train_branch(num_frames, num_clips, clip_len, frame_interval)
    span = clip_len * frame_interval
    clip_ids = np.arange(num_clips, dtype=np.int64)
    if branch == "segments":
        avg_interval = (num_frames - span + 1) // num_clips
        low = clip_ids * avg_interval
        high = low + avg_interval
    elif branch == "sorted":
        low = np.zeros(num_clips, dtype=np.int64)
        high = np.full(num_clips, num_frames - span + 1, dtype=np.int64)
    else:
        low = train_offsets(num_frames, num_clips, clip_len, frame_interval, integers=_no_draws).astype(np.int64)
        high = low + 1
    return np.stack([low, high], axis=1)  # (num_clips, 2)


def train_offsets(num_frames: int, num_clips: int, clip_len: int, frame_interval: int, *,
                  integers: IntegerDraw) -> np.ndarray:
    """Train-mode clip starts, exactly MMAction2's ``_get_train_clips`` with the draws delegated to ``integers``.

    Args:
        num_frames, num_clips, clip_len, frame_interval: as in ``sample_clips``.
        integers: ``integers(high, size=size)`` draws ``size`` ints uniformly from ``{0, ..., high - 1}``, e.g.
            ``Generator.integers`` (or ``RandomState.randint``, which reproduces MMAction2's draws bit for bit).

    Returns:
        array of shape ``(num_clips,)``: int64 starts, or float64 whole numbers in the ``"rounded"`` branch (as in
        MMAction2, where they may equal ``num_frames`` and only become valid after wrapping).
    """
    num_frames, num_clips, clip_len, frame_interval = _validate_counts(num_frames, num_clips, clip_len, frame_interval)
    validate_instance(integers, "integers", Callable, what="a callable integers(high, size=size) -> int array")
    span = clip_len * frame_interval
    avg_interval = (num_frames - span + 1) // num_clips
    if avg_interval > 0:
        base_offsets = np.arange(num_clips, dtype=np.int64) * avg_interval
        return base_offsets + np.asarray(integers(avg_interval, size=num_clips), dtype=np.int64)
    if num_frames > max(num_clips, span):
        return np.sort(np.asarray(integers(num_frames - span + 1, size=num_clips), dtype=np.int64))
    if avg_interval == 0:
        ratio = (num_frames - span + 1.0) / num_clips
        return np.around(np.arange(num_clips) * ratio)  # float64, half to even, may equal num_frames
    return np.zeros(num_clips, dtype=np.int64)


def test_offsets(num_frames: int, num_clips: int, clip_len: int, frame_interval: int) -> np.ndarray:
    """Test-mode clip starts, exactly MMAction2's ``_get_test_clips`` (no randomness).

    For ``clip_len == 1`` the start of segment k is its centre ``k * N / K + N / (2K)`` computed in float64; it is
    truncated to an int only at the very end (``offsets_to_indices``), so a centre that is a whole number in exact
    arithmetic can land one frame lower (e.g. N=6, K=7 gives 2.999... for k=3). For ``clip_len > 1`` the starts are
    ``round(k * max_offset / (K - 1))`` with ``max_offset = max(N - (clip_len - 1) * frame_interval - 1, 0)``, or
    ``max_offset // 2`` when K is 1.

    Args:
        num_frames, num_clips, clip_len, frame_interval: as in ``sample_clips``.

    Returns:
        float64 array of shape ``(num_clips,)`` (int64 when ``clip_len > 1`` and ``num_clips == 1``).
    """
    num_frames, num_clips, clip_len, frame_interval = _validate_counts(num_frames, num_clips, clip_len, frame_interval)
    if clip_len == 1:  # 2D recognizer: segment centres
        avg_interval = num_frames / float(num_clips)
        base_offsets = np.arange(num_clips) * avg_interval
        return base_offsets + avg_interval / 2.0
    span = (clip_len - 1) * frame_interval + 1  # MMAction2's test-mode ori_clip_len
    max_offset = max(num_frames - span, 0)
    if num_clips > 1:
        offset_between = max_offset / float(num_clips - 1)
        return np.round(np.arange(num_clips) * offset_between)
    return np.array([max_offset // 2], dtype=np.int64)


def offsets_to_indices(offsets: np.ndarray, num_frames: int, clip_len: int, frame_interval: int, *,
                       out_of_bound: str = "loop") -> np.ndarray:
    """Expand clip starts into frame indices and bring them into range, as MMAction2's ``transform``.

    Args:
        offsets: clip starts, shape ``(num_clips,)``, int or float (floats are truncated at the end).
        num_frames, clip_len, frame_interval: as in ``sample_clips``.
        out_of_bound: ``"loop"`` (modulo ``num_frames``) or ``"repeat_last"`` (largest valid index of the clip).

    Returns:
        int64 array of shape ``(num_clips, clip_len)`` with values in ``[0, num_frames)``.
    """
    num_frames, clip_len, frame_interval = (validate_int(value, name, minimum=1) for value, name in (
        (num_frames, "num_frames"), (clip_len, "clip_len"), (frame_interval, "frame_interval")))
    validate_choice(out_of_bound, "out_of_bound", OUT_OF_BOUND_OPTIONS)
    offsets = np.asarray(offsets)
    if not (np.issubdtype(offsets.dtype, np.integer) or np.issubdtype(offsets.dtype, np.floating)):
        raise TypeError(f"offsets must be an int or float array (num_clips,), got {describe(offsets)}")
    if offsets.ndim != 1:
        raise ValueError(f"offsets must be a 1-D array (num_clips,), got shape {offsets.shape}")
    frame_inds = offsets[:, None] + np.arange(clip_len)[None, :] * frame_interval  # (num_clips, clip_len)
    if out_of_bound == "loop":
        frame_inds = np.mod(frame_inds, num_frames)
    else:
        safe = frame_inds < num_frames  # (num_clips, clip_len)
        last_valid = np.max(np.where(safe, frame_inds, 0), axis=1)  # (num_clips,); 0 when no index is valid
        frame_inds = np.where(safe, frame_inds, last_valid[:, None])
    return frame_inds.astype(np.int64)


def _no_draws(high: int, *, size: int) -> np.ndarray:
    raise AssertionError("segment_bounds asked for random draws in a deterministic branch")


def _validate_counts(num_frames: int, num_clips: int, clip_len: int, frame_interval: int) -> tuple[int, int, int, int]:
    """The four sizes of ``sample_clips`` as Python ints, each validated as an int >= 1."""
    return (validate_int(num_frames, "num_frames", minimum=1), validate_int(num_clips, "num_clips", minimum=1),
            validate_int(clip_len, "clip_len", minimum=1), validate_int(frame_interval, "frame_interval", minimum=1))

