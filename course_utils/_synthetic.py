"""Drawing helpers of :mod:`course_utils.data`: compositing objects over the noisy background, and the relation group.

The ``relation`` group (classes 8 ``colours_match`` and 9 ``colours_differ``) is opt-in: ``make_videos`` draws it
only when ``classes`` lists its ids. Each of its videos shows two squares that never appear together:

* the first square sits in the top-left part of the frame during the first eighth of the video;
* the second square sits in the bottom-right part of the frame during the last eighth;
* in between there is nothing but the noisy background.

Each square is cyan or orange. The first square's colour is drawn 50/50 whatever the class; the second square has the
same colour (class 8) or the other one (class 9). So each square's colour on its own is 50/50 in both classes: every
single frame, and every clip that misses one of the two squares, has the same distribution in both classes. Only a
model that relates the two squares, far apart in the frame and in time, can tell the classes apart.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RELATION_CLASS_NAMES: tuple[str, ...] = ("colours_match", "colours_differ")
_CYAN, _ORANGE = (30, 215, 230), (250, 130, 20)
_RELATION_COLOURS = np.array([_CYAN, _ORANGE], dtype=np.int16)

Render = Callable[[np.ndarray, dict, int, int, np.ndarray], np.ndarray]


def composite(mask: np.ndarray, colour: np.ndarray, background: np.ndarray, noise: np.ndarray) -> np.ndarray:
    """Paint the object pixels in their colour and the others grey, with the same noise on both.

    Args:
        mask: bool (n, T, H, W), True on the object.
        colour: int16 (n, T, 3), the object's colour in each frame.
        background: int (n,), the grey level of each video's background.
        noise: int16 (n, T, H, W), added to every channel of every pixel.

    Returns:
        uint8 videos (n, T, H, W, 3).
    """
    grey = np.clip(background.astype(np.int16)[:, None, None, None] + noise, 0, 255).astype(np.uint8)  # (n, T, H, W)
    video = np.empty(mask.shape + (3,), dtype=np.uint8)                                                # (n, T, H, W, 3)
    for c in range(3):  # the same grey noise on every channel, object and background alike
        lit = np.clip(colour[:, :, c, None, None] + noise, 0, 255).astype(np.uint8)  # (n, T, H, W)
        video[..., c] = np.where(mask, lit, grey)
    return video


def draw_relation_nuisance(rng: np.random.Generator, num_videos: int, size: int,
                           side: np.ndarray) -> dict[str, np.ndarray]:
    """The relation group's own nuisance parameters, drawn for every video in a fixed order whatever the classes.

    ``make_videos`` draws them after the eight classes' parameters, from the same generator, so the videos of the
    other classes stay exactly what they were before this group existed.

    Args:
        rng: the nuisance generator.
        num_videos: n.
        size: H = W.
        side: int (n,), each video's square side.

    Returns:
        ``first_colour`` (n,) in {0, 1} and the top-left corners ``first_y``, ``first_x``, ``second_y``,
        ``second_x`` (n,) of the two squares, at least ``size // 8`` pixels away from the frame's centre lines.
    """
    first_colour = rng.integers(0, 2, size=num_videos)
    high = size // 2 - side - size // 8                                         # (n,) >= 1 for every size >= 16
    offsets = 1 + (rng.random((4, num_videos)) * high).astype(np.int64)         # (4, n), uniform in [1, high]
    return {
        "first_colour": first_colour,
        "first_y": offsets[0], "first_x": offsets[1],                           # top-left quadrant
        "second_y": size - side - offsets[2], "second_x": size - side - offsets[3],  # bottom-right quadrant
    }


def render_relation(match: np.ndarray, p: dict[str, np.ndarray], num_frames: int, size: int,
                    noise: np.ndarray) -> np.ndarray:
    """Draw relation videos: ``match`` (n,) bool is True for class 8 (colours match). Returns (n, T, H, W, 3) uint8."""
    shown = max(num_frames // 8, 1)                                             # frames each square is visible
    t = np.arange(num_frames)
    square = np.where(t < shown, 0, np.where(t >= num_frames - shown, 1, -1))  # (T,) first, second or none
    y = np.where(square[None, :] == 0, p["first_y"][:, None], p["second_y"][:, None])  # (n, T) top row
    x = np.where(square[None, :] == 0, p["first_x"][:, None], p["second_x"][:, None])  # (n, T) left column
    side = p["side"][:, None, None]                                             # (n, 1, 1)
    rows = np.arange(size)[None, None, :] - y[:, :, None]                       # (n, T, H): row inside the square
    cols = np.arange(size)[None, None, :] - x[:, :, None]                       # (n, T, W)
    in_rows = (rows >= 0) & (rows < side)
    in_cols = (cols >= 0) & (cols < side)
    mask = in_rows[:, :, :, None] & in_cols[:, :, None, :] & (square >= 0)[None, :, None, None]  # (n, T, H, W)

    second_colour = np.where(match, p["first_colour"], 1 - p["first_colour"])  # (n,)
    first = (_RELATION_COLOURS[p["first_colour"]] * p["gain"][:, None]).astype(np.int16)   # (n, 3)
    second = (_RELATION_COLOURS[second_colour] * p["gain"][:, None]).astype(np.int16)      # (n, 3)
    colour = np.where((square == 0)[None, :, None], first[:, None, :], second[:, None, :])  # (n, T, 3)
    return composite(mask, colour, p["background"], noise)


def render_any(labels: np.ndarray, p: dict[str, np.ndarray], num_frames: int, size: int, noise: np.ndarray, *,
               render_core: Render, relation_ids: tuple[int, int]) -> np.ndarray:
    """Draw videos of any classes: ``render_core`` draws the eight core classes, ``render_relation`` the others.

    Args:
        labels: int (n,) class ids.
        p: nuisance parameters, each (n,).
        num_frames, size: T and H = W.
        noise: int16 (n, T, H, W).
        render_core: the core classes' renderer, called with the same arguments on their videos only.
        relation_ids: the ids of ``colours_match`` and ``colours_differ``.

    Returns:
        uint8 videos (n, T, H, W, 3), in the order of ``labels``.
    """
    relation = np.isin(labels, relation_ids)
    if not relation.any():
        return render_core(labels, p, num_frames, size, noise)
    video = np.empty(noise.shape + (3,), dtype=np.uint8)                        # (n, T, H, W, 3)
    core = np.flatnonzero(~relation)
    if core.size:
        video[core] = render_core(labels[core], {k: v[core] for k, v in p.items()}, num_frames, size, noise[core])
    rel = np.flatnonzero(relation)
    video[rel] = render_relation(labels[rel] == relation_ids[0], {k: v[rel] for k, v in p.items()}, num_frames,
                                 size, noise[rel])
    return video
