"""Checker of 01.find_the_bug: inputs on which the lecture's ``_get_train_frames`` fails, one for each of its bugs.

The student gets the lecture's method as the lecture wrote it, as a method of ``LectureSampler``
(``course_utils.exercises.ex01_lecture``: ``self`` exists, as in MMAction2's ``SampleFrames``), run on the real NumPy;
only the typo ``num_frmes`` is corrected, since that NameError stops every call before any other line runs. The
answer, ``counterexamples``, holds three inputs ``(num_frames, num_clips)`` or ``(num_frames, num_clips,
sampler_clips)`` (the sampler is built with ``LectureSampler(sampler_clips)``, by default ``num_clips``), as tuples,
lists or dicts, in any order.

Three bugs remain that an input can expose; ``VARIANTS`` holds, for each, the correct sampler with only that bug put
back. (The one-frame branch also lacks a ``return``; with the other bugs fixed that is harmless, so no input can
expose it, and it is not asked for.) An input *exposes* a bug when the lecture's function misbehaves on it and so
does that bug's variant: it raises, or returns something other than what the correct sampler returns after the same
``np.random.seed`` (the lecture draws from NumPy's global generator, as MMAction2 0.x did; the checker restores that
generator's state afterwards). The three bugs misbehave on disjoint sets of inputs, so every input on which the
lecture fails exposes exactly one of them, and three inputs pass only when they expose all three.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from course_utils.exercises.ex01_lecture import LectureSampler, lecture
from course_utils.exercises.framework import Exercise, fail
from course_utils.exercises.quiz import NotAnswered
from course_utils.exercises.quiz_forms import Malformed, plain_integer

FIND_THE_BUG = Exercise("01.find_the_bug", "Inputs that expose the bugs of the lecture's _get_train_frames")
SEEDS = (0, 1, 2, 3)
LIMITS = {"num_frames": 100_000, "num_clips": 1_000, "sampler_clips": 1_000}
FORM = ("three inputs in a list, e.g. [(10, 3), (20, 4), (10, 3, 8)]; each input is (num_frames, num_clips) or "
        "(num_frames, num_clips, sampler_clips) (or a dict with those keys), whole numbers >= 1")
SEARCH_HINT = ("run LectureSampler(sampler_clips)._get_train_frames(num_frames, num_clips) on the situations the "
               "lecture's text lists (one frame, more frames than clips, fewer frames than clips) and read which "
               "values each line uses")


def correct(num_frames: int, num_clips: int, sampler_clips: int) -> np.ndarray:
    """What the method should return (MMAction2's train mode for clip_len = 1, global generator); int64 (K,)."""
    return _with_one_bug(None, num_frames, num_clips, sampler_clips)


def _with_one_bug(bug: str | None, num_frames: int, num_clips: int, sampler_clips: int) -> Any:
    """The correct sampler written in the lecture's shape, with the lecture's line for ``bug`` (None: no bug)."""
    if num_frames == 1:
        dtype = np.int if bug == "np_int" else np.int64  # the lecture's alias, gone in NumPy 2
        return np.zeros((num_clips,), dtype=dtype)
    avg_interval = num_frames // num_clips
    if avg_interval > 0:
        base_clips = sampler_clips if bug == "self_num_clips" else num_clips
        return np.arange(base_clips) * avg_interval + np.random.randint(avg_interval, size=num_clips)
    frame_indices = np.around(np.arange(num_clips) * (num_frames / num_clips))
    return frame_indices if bug == "float_indices" else np.mod(frame_indices, num_frames).astype(np.int64)


VARIANTS: dict[str, Callable[[int, int, int], Any]] = {
    bug: (lambda n, k, s, bug=bug: _with_one_bug(bug, n, k, s)) for bug in ("np_int", "self_num_clips",
                                                                            "float_indices")}
"""Bug name -> the correct sampler with only that bug (arguments ``num_frames, num_clips, sampler_clips``)."""


def misbehaviour(function: Callable[[int, int, int], Any], num_frames: int, num_clips: int,
                 sampler_clips: int) -> str | None:
    """Say how ``function`` misbehaves on one input (raises, or differs from ``correct`` for a seed), or None.

    NumPy's global generator is seeded before each call and restored to its previous state afterwards.
    """
    state = np.random.get_state()
    try:
        for seed in SEEDS:
            np.random.seed(seed)
            try:
                got = function(num_frames, num_clips, sampler_clips)
            except Exception as error:  # the lecture's code crashing is what we look for
                return f"raises {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            np.random.seed(seed)
            expected = correct(num_frames, num_clips, sampler_clips)
            got_array = np.asarray(got)
            if got_array.dtype == object or not np.issubdtype(got_array.dtype, np.integer):
                return f"returns {got_array.dtype} values {_show(got_array)}, not integer frame indices"
            if got_array.shape != expected.shape or not np.array_equal(got_array, expected):
                return f"returns {_show(got_array)} where a correct sampler returns {_show(expected)} (seed {seed})"
        return None
    finally:
        np.random.set_state(state)


def exposed_bugs(num_frames: int, num_clips: int, sampler_clips: int) -> list[str]:
    """Return the bugs an input exposes: those whose variant misbehaves on it, if the lecture's function does too."""
    if misbehaviour(lecture, num_frames, num_clips, sampler_clips) is None:
        return []
    return [bug for bug, variant in VARIANTS.items()
            if misbehaviour(variant, num_frames, num_clips, sampler_clips) is not None]


def parse_inputs(answer: Any) -> list[tuple[int, int, int]]:
    """Return the student's inputs as ``(num_frames, num_clips, sampler_clips)`` built-in ints.

    Raises:
        NotAnswered: for the stub's ``...``.
        Malformed: naming the input and the form expected.
    """
    if answer is Ellipsis:
        raise NotAnswered("counterexamples")
    if isinstance(answer, (str, bytes, dict)) or not isinstance(answer, (list, tuple, set, frozenset)):
        raise Malformed(f"counterexamples must be {FORM}; got {type(answer).__name__}")
    inputs = list(answer)
    if len(inputs) != 3:
        raise Malformed(f"counterexamples must be {FORM}; got {len(inputs)} input(s)")
    return [_parse_input(index, item) for index, item in enumerate(inputs, 1)]


def _parse_input(index: int, item: Any) -> tuple[int, int, int]:
    names = ("num_frames", "num_clips", "sampler_clips")
    if isinstance(item, dict):
        unknown = sorted(str(key) for key in item if key not in names)
        if unknown or "num_frames" not in item or "num_clips" not in item:
            raise Malformed(f"input #{index} is a dict with keys {sorted(map(str, item))}: it needs 'num_frames' "
                            "and 'num_clips', and may have 'sampler_clips'")
        values = [item[name] for name in names if name in item]
    elif isinstance(item, (list, tuple)) and len(item) in (2, 3):
        values = list(item)
    else:
        raise Malformed(f"input #{index} must be (num_frames, num_clips) or (num_frames, num_clips, sampler_clips); "
                        f"got {item!r}")
    numbers = [plain_integer(value, what=f"input #{index}: {name} must be a whole number")
               for name, value in zip(names, values, strict=False)]
    for name, number in zip(names, numbers, strict=False):
        if not 1 <= number <= LIMITS[name]:
            raise Malformed(f"input #{index}: {name} must be between 1 and {LIMITS[name]:,} (the correct sampler "
                            f"needs at least one frame and one clip); got {number}")
    return (numbers[0], numbers[1], numbers[2] if len(numbers) == 3 else numbers[1])


def _inputs(answer: Any, *, first: bool) -> list[tuple[int, int, int]]:
    try:
        return parse_inputs(answer)
    except Malformed as error:
        fail(str(error) if first else "cannot be checked until counterexamples has the form above")


def _show(values: np.ndarray) -> str:
    with np.printoptions(threshold=12, edgeitems=4):
        return np.array2string(np.asarray(values), separator=", ")


@FIND_THE_BUG.case("three inputs of the lecture's method")
def _(counterexamples):
    _inputs(counterexamples, first=True)


@FIND_THE_BUG.case("the lecture's function fails on each input")
def _(counterexamples):
    for index, (num_frames, num_clips, sampler_clips) in enumerate(_inputs(counterexamples, first=False), 1):
        if misbehaviour(lecture, num_frames, num_clips, sampler_clips) is None:
            fail(f"input #{index} (num_frames={num_frames}, num_clips={num_clips}, sampler_clips={sampler_clips}): "
                 f"the lecture's function returns what a correct sampler returns (seeds {SEEDS[0]}-{SEEDS[-1]})",
                 hint=SEARCH_HINT)


@FIND_THE_BUG.case("each input exposes a different bug")
def _(counterexamples):
    inputs = _inputs(counterexamples, first=False)
    seen: dict[str, int] = {}
    for index, (num_frames, num_clips, sampler_clips) in enumerate(inputs, 1):
        bugs = exposed_bugs(num_frames, num_clips, sampler_clips)
        if not bugs:
            fail(f"input #{index} exposes no bug (see the case above)", hint=SEARCH_HINT)
        if bugs[0] in seen:
            first = seen[bugs[0]]
            how = misbehaviour(lecture, *inputs[first - 1])
            fail(f"inputs #{first} and #{index} fail for the same reason (input #{first} {how})",
                 hint="each input must make a different line of the method go wrong; keep one of these two and "
                      f"look for another situation ({SEARCH_HINT})")
        seen[bugs[0]] = index


__all__ = ["FIND_THE_BUG", "LectureSampler", "VARIANTS", "correct", "exposed_bugs", "lecture", "misbehaviour",
           "parse_inputs"]
EXERCISES = (FIND_THE_BUG,)
