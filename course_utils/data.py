"""Synthetic action videos whose classes are designed for the lessons of the course.

Eight classes in four groups of two. Every video shows one object moving horizontally with wrap-around over a
grey, noisy background; what tells the two classes of a group apart is chosen so that each lesson has a clean
answer:

* ``appearance`` (0 ``square``, 1 ``disc``): a yellow square against a magenta disc. Any single frame tells them
  apart.
* ``direction`` (2 ``moves_left``, 3 ``moves_right``): a white square moving left or right, starting at a uniformly
  random column. Because of the wrap-around the object's column is uniform in *every* frame, so each single frame
  has exactly the same distribution in both classes, and so has the unordered set of all frames (a left-moving
  video is a right-moving one played backwards). Differences of consecutive frames reveal the direction.
* ``order`` (4 ``red_then_green``, 5 ``green_then_red``): a disc that changes colour exactly at the middle frame
  boundary, so each video has as many red frames as green ones. Class 5 is class 4 played backwards and the motion
  is time-symmetric (random start, random direction), so a frame taken at a random time, or the unordered set of
  frames, has the same distribution in both classes; only the order of the colours differs. (At a *fixed* frame
  index the colour does depend on the class, frame 0 is red in class 4 and green in class 5: unavoidable with a
  change half-way. Only a model that knows when its frame was taken can use that.)
* ``second_half`` (6 ``jumps``, 7 ``keeps_running``): a blue square runs right along the middle row; in the second
  half it rises (6) or keeps running (7). The first halves are identical: the beginning is not enough.

Each group has its own object colours, so any single frame tells which group a video belongs to. All nuisance
factors (start column, speed, size, vertical position, object brightness, background level, noise) are drawn
independently of the class from their own random stream, so the class changes nothing but the designed cue.

A fifth group is opt-in: ``relation`` (8 ``colours_match``, 9 ``colours_differ``), two squares far apart in the frame
and in time whose colours match or not (see ``course_utils._synthetic``). ``CLASS_NAMES`` and ``CLASS_GROUPS`` keep
the eight classes; ``ALL_CLASS_NAMES`` and ``ALL_CLASS_GROUPS`` add the relation group, which ``make_videos`` draws
only when ``classes`` lists its ids (for example ``classes=range(10)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from course_utils import _synthetic
from course_utils.validation import (
    validate_instance,
    validate_int,
    validate_int_array,
    validate_int_tuple,
    validate_tensor,
)

__all__ = [
    "CLASS_NAMES",
    "CLASS_GROUPS",
    "ALL_CLASS_NAMES",
    "ALL_CLASS_GROUPS",
    "make_videos",
    "video_to_tensor",
    "group_accuracy",
    "sampled_indices",
    "SyntheticVideos",
]

# A dataset's frame sampler: num_frames -> int array of frame indices, any shape (e.g. (num_clips, clip_len)).
Sampler = Callable[[int], np.ndarray]

CLASS_NAMES: tuple[str, ...] = (
    "square",
    "disc",
    "moves_left",
    "moves_right",
    "red_then_green",
    "green_then_red",
    "jumps",
    "keeps_running",
)
CLASS_GROUPS: dict[str, tuple[int, int]] = {
    "appearance": (0, 1),
    "direction": (2, 3),
    "order": (4, 5),
    "second_half": (6, 7),
}
# The opt-in relation group extends the eight classes; make_videos draws it only when asked (classes=range(10)).
ALL_CLASS_NAMES: tuple[str, ...] = CLASS_NAMES + _synthetic.RELATION_CLASS_NAMES
ALL_CLASS_GROUPS: dict[str, tuple[int, int]] = {**CLASS_GROUPS, "relation": (8, 9)}

_YELLOW, _MAGENTA, _WHITE = (240, 200, 30), (210, 60, 230), (235, 235, 235)
_RED, _GREEN, _BLUE = (230, 40, 40), (40, 210, 60), (60, 110, 250)
# Rendering recipe of each class: shape (0 square, 1 disc), colour of the first and second half, motion.
# "random": random direction, random height; "right": to the right, random height; "middle": to the right along
# the middle row; "jump": like "middle", rising in the second half. Classes 2 and 5 are rendered as classes 3 and 4
# and then reversed in time (see _REVERSED), which makes their single-frame and unordered-set distributions
# equal to those of their partner class exactly, not approximately.
_SHAPE = np.array([0, 1, 0, 0, 1, 1, 0, 0])
_COLOUR_FIRST = np.array([_YELLOW, _MAGENTA, _WHITE, _WHITE, _RED, _RED, _BLUE, _BLUE], dtype=np.int16)
_COLOUR_SECOND = np.array([_YELLOW, _MAGENTA, _WHITE, _WHITE, _GREEN, _GREEN, _BLUE, _BLUE], dtype=np.int16)
_MOTION_RANDOM_DIR = np.array([True, True, False, False, True, True, False, False])
_PATH_MIDDLE = np.array([False, False, False, False, False, False, True, True])
_JUMPS = np.array([False, False, False, False, False, False, True, False])
_REVERSED = np.array([False, False, True, False, False, True, False, False])

_CHUNK = 128  # videos rendered at once; bounds the temporary memory to a few tens of MB


def _validate_classes(classes: Sequence[int] | None) -> np.ndarray:
    if classes is None:
        return np.arange(len(CLASS_NAMES))
    ids = validate_int_tuple(classes, "classes", minimum=0, layout="of class ids")
    if not ids:
        raise ValueError("classes must not be empty")
    if max(ids) >= len(ALL_CLASS_NAMES):
        raise ValueError(f"classes must hold ids in [0, {len(ALL_CLASS_NAMES)}), got {ids}")
    if len(set(ids)) != len(ids):
        raise ValueError(f"classes must not repeat an id, got {ids}")
    return np.array(ids)


def _draw_nuisance(rng: np.random.Generator, num_videos: int, num_frames: int, size: int) -> dict[str, np.ndarray]:
    """Per-video nuisance parameters, drawn in a fixed order whatever the classes are."""
    scale = size / 64
    side = rng.integers(round(10 * scale), round(18 * scale) + 1, size=num_videos)
    return {
        "side": side,
        "x0": rng.integers(0, size, size=num_videos),
        "direction": rng.choice(np.array([-1, 1]), size=num_videos),
        "speed": rng.uniform(2.0, 4.0, size=num_videos) * scale,  # pixels per frame
        # top row for the "random height" paths: the object stays fully inside the frame
        "y_free": (rng.random(num_videos) * (size - side - 3)).astype(np.int64) + 2,
        "y_jitter": rng.integers(-2, 3, size=num_videos),
        "rise": rng.uniform(0.25, 0.35, size=num_videos) * size / (num_frames // 2),  # pixels per frame
        "gain": rng.uniform(0.75, 1.0, size=num_videos),
        "background": rng.integers(15, 91, size=num_videos),
        "noise": rng.integers(3, 13, size=num_videos),  # noise amplitude in grey levels
    }


def _render(labels: np.ndarray, p: dict[str, np.ndarray], num_frames: int, size: int,
            noise: np.ndarray) -> np.ndarray:
    """Draw videos from labels and nuisance parameters. Returns (n, T, H, W, 3) uint8."""
    t = np.arange(num_frames)
    side = p["side"][:, None]                                                   # (n, 1)
    direction = np.where(_MOTION_RANDOM_DIR[labels], p["direction"], 1)[:, None]
    x = (p["x0"][:, None] + np.round(direction * p["speed"][:, None] * t)).astype(np.int64) % size  # (n, T)
    y_mid = size // 2 - p["side"] // 2 + p["y_jitter"]
    y = np.where(_PATH_MIDDLE[labels], y_mid, p["y_free"])[:, None].repeat(num_frames, axis=1)    # (n, T)
    climb = np.round(p["rise"][:, None] * np.maximum(t - num_frames // 2 + 1, 0)).astype(np.int64)  # (n, T)
    y = y - np.where(_JUMPS[labels][:, None], climb, 0)

    cols = (np.arange(size)[None, None, :] - x[:, :, None]) % size              # (n, T, W): column inside object
    rows = np.arange(size)[None, None, :] - y[:, :, None]                       # (n, T, H): row inside object
    in_cols = cols < side[:, :, None]
    in_rows = (rows >= 0) & (rows < side[:, :, None])
    mask = in_rows[:, :, :, None] & in_cols[:, :, None, :]                       # (n, T, H, W) square
    disc = np.flatnonzero(_SHAPE[labels] == 1)
    if disc.size:
        s = side[disc, :, None]                                                 # (d, 1, 1)
        du = (2 * cols[disc] - (s - 1)) ** 2                                    # (d, T, W)
        dv = (2 * rows[disc] - (s - 1)) ** 2                                    # (d, T, H)
        mask[disc] = dv[:, :, :, None] + du[:, :, None, :] <= s[..., None] ** 2  # (d, T, H, W)

    first = (_COLOUR_FIRST[labels] * p["gain"][:, None]).astype(np.int16)      # (n, 3)
    second = (_COLOUR_SECOND[labels] * p["gain"][:, None]).astype(np.int16)    # (n, 3)
    colour = np.where((t < num_frames // 2)[None, :, None], first[:, None, :], second[:, None, :])  # (n, T, 3)
    video = _synthetic.composite(mask, colour, p["background"], noise)          # (n, T, H, W, 3)
    flip = np.flatnonzero(_REVERSED[labels])
    video[flip] = video[flip, ::-1]
    return video


def make_videos(num_videos: int, *, num_frames: int = 16, size: int = 64, seed: int = 0,
                classes: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Generate a balanced, shuffled set of synthetic action videos, deterministic from ``seed``.

    Args:
        num_videos: number of videos N (>= 1). The classes are balanced: their counts differ by at most one.
        num_frames: frames per video T, even and >= 4 (the colour change and the jump start at T // 2).
        size: height and width H = W in pixels, >= 16; object sizes and speeds scale with it.
        seed: non-negative int; the same arguments always give the same videos.
        classes: class ids to draw from (default: the eight of ``CLASS_NAMES``; ids 8 and 9, the relation group
            of ``ALL_CLASS_NAMES``, only when listed). Labels keep their ids in ``ALL_CLASS_NAMES``.

    Returns:
        videos: np.uint8 array (N, T, H, W, 3).
        labels: np.int64 array (N,), in random order.
    """
    num_videos = validate_int(num_videos, "num_videos", minimum=1)
    num_frames = validate_int(num_frames, "num_frames", minimum=4)
    if num_frames % 2:
        raise ValueError(f"num_frames must be an even int >= 4 (the classes change at the middle frame), "
                         f"got {num_frames}")
    size = validate_int(size, "size", minimum=16)
    seed = validate_int(seed, "seed", minimum=0)
    ids = _validate_classes(classes)

    label_seq, param_seq, noise_seq = np.random.SeedSequence(seed).spawn(3)
    labels = np.random.default_rng(label_seq).permutation(np.resize(ids, num_videos)).astype(np.int64)
    param_rng = np.random.default_rng(param_seq)
    params = _draw_nuisance(param_rng, num_videos, num_frames, size)
    # drawn after the eight classes' parameters, so that those stay as they were before the relation group existed
    params.update(_synthetic.draw_relation_nuisance(param_rng, num_videos, size, params["side"]))
    noise_rng = np.random.default_rng(noise_seq)

    videos = np.empty((num_videos, num_frames, size, size, 3), dtype=np.uint8)
    for start in range(0, num_videos, _CHUNK):
        part = slice(start, min(start + _CHUNK, num_videos))
        n = part.stop - part.start
        amplitude = params["noise"][part][:, None, None, None]                 # (n, 1, 1, 1) int
        raw = noise_rng.integers(0, 256, size=(n, num_frames, size, size), dtype=np.uint8)
        noise = ((raw.astype(np.int16) - 128) * amplitude.astype(np.int16)) >> 7   # in [-amplitude, amplitude)
        videos[part] = _synthetic.render_any(labels[part], {k: v[part] for k, v in params.items()}, num_frames, size,
                                             noise, render_core=_render, relation_ids=ALL_CLASS_GROUPS["relation"])
    return videos, labels


def video_to_tensor(video: np.ndarray | torch.Tensor) -> torch.Tensor:
    """Convert uint8 frames-last video(s) to a float32 channels-first tensor in [0, 1].

    Args:
        video: uint8 array or tensor, one video (T, H, W, 3) or a batch (N, T, H, W, 3).

    Returns:
        float32 tensor (C, T, H, W) or (N, C, T, H, W) with C = 3, values in [0, 1].
    """
    if isinstance(video, np.ndarray):
        video = torch.from_numpy(np.ascontiguousarray(video))
    validate_instance(video, "video", torch.Tensor, what="a uint8 numpy array or torch tensor (T, H, W, 3)")
    validate_tensor(video, "video", ndim=(4, 5), layout="(T, H, W, 3) or (N, T, H, W, 3)", dtype=torch.uint8)
    if video.shape[-1] != 3:
        raise ValueError(f"video must have shape (T, H, W, 3) or (N, T, H, W, 3), got {tuple(video.shape)}")
    x = video.float() / 255.0
    return x.movedim(-1, -4).contiguous()  # (..., T, H, W, 3) -> (..., 3, T, H, W)


def group_accuracy(predictions: np.ndarray | torch.Tensor, labels: np.ndarray | torch.Tensor, *,
                   groups: dict[str, tuple[int, ...]] = CLASS_GROUPS) -> dict[str, float]:
    """Accuracy on the videos of each class group (predictions over every class, scored within each group's videos).

    Args:
        predictions: predicted class ids, int (N,).
        labels: true class ids, int (N,).
        groups: group name -> its class ids (``ALL_CLASS_GROUPS`` for the ten classes).

    Returns:
        dict mapping each group name of ``groups`` to its accuracy in [0, 1] (nan if no video of the group).
    """
    pred = validate_int_array(predictions, "predictions", ndim=1, layout="(N,) of class ids")
    true = validate_int_array(labels, "labels", ndim=1, layout="(N,) of class ids")
    if pred.shape != true.shape:
        raise ValueError(f"predictions and labels must both have shape (N,), got {pred.shape} and {true.shape}")
    result = {}
    for group, members in groups.items():
        in_group = np.isin(true, members)
        result[group] = float(np.mean(pred[in_group] == true[in_group])) if in_group.any() else float("nan")
    return result


def sampled_indices(sampler: Sampler, num_frames: int) -> np.ndarray:
    """Call a dataset's ``sampler`` on a video of ``num_frames`` frames and validate the indices it returns.

    Args:
        sampler: a callable ``num_frames -> frame indices`` (an int array of any shape, e.g. ``(num_clips, clip_len)``).
        num_frames: frames in the video.

    Returns:
        The indices flattened clip by clip, int64 ``(num_clips * clip_len,)``, all in ``[0, num_frames)``.

    Raises:
        TypeError: if ``sampler`` is not callable, or returns something other than integers.
        ValueError: if it returns no index or one outside ``[0, num_frames)``.
    """
    validate_instance(sampler, "sampler", Callable, what="a callable num_frames -> frame indices")
    num_frames = validate_int(num_frames, "num_frames", minimum=1)
    indices = validate_int_array(sampler(num_frames), f"sampler({num_frames})", ndim=None, minimum=0,
                                 below=num_frames, allow_empty=False, layout="of frame indices")
    return indices.reshape(-1)  # (num_clips, clip_len) -> (num_clips * clip_len,), clip by clip


class SyntheticVideos(Dataset):
    """A torch Dataset over ``make_videos``: item i is (video (C, T, H, W) float32 in [0, 1], label int).

    The videos are generated once, at construction, and kept as uint8. ``videos`` (N, T, H, W, 3) uint8 and
    ``labels`` (N,) int64 are public attributes. An optional ``sampler`` maps num_frames to frame indices (an int
    array of any shape, e.g. (num_clips, clip_len)); the item then holds those frames, flattened clip by clip, so
    its T is the number of sampled indices.

    Args:
        num_videos, num_frames, size, seed, classes: as in ``make_videos``.
        sampler: None for every frame, or a callable ``num_frames -> frame indices`` (see ``sampled_indices``).
    """

    def __init__(self, num_videos: int, *, num_frames: int = 16, size: int = 64, seed: int = 0,
                 classes: Sequence[int] | None = None, sampler: Sampler | None = None) -> None:
        if sampler is not None:
            validate_instance(sampler, "sampler", Callable, what="None or a callable num_frames -> frame indices")
        self.videos, self.labels = make_videos(num_videos, num_frames=num_frames, size=size, seed=seed,
                                               classes=classes)
        self.sampler = sampler

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        video = self.videos[index]                                              # (T, H, W, 3)
        if self.sampler is not None:
            indices = sampled_indices(self.sampler, video.shape[0])            # (num_clips * clip_len,)
            video = video[indices]
        return video_to_tensor(video), int(self.labels[index])
