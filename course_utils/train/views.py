"""Views of a video: which frames a model sees in training and in the multi-view test protocol, and the input they make.

A *view* is one model input taken from a video: one frame (a 2D network), ``K`` snippets of ``clip_len`` frames
(TSN), or one clip of ``clip_len`` frames ``frame_interval`` apart (I3D). Training takes one random view per video
and epoch; testing takes ``num_views`` fixed views spread over the whole video and averages the model's scores over
them, as the papers do (TSN: 25 frames per video; I3D and non-local networks: 10 clips). Frame indices come from
:func:`course_utils.sampling.sample_clips` (MMAction2's ``SampleFrames``).

Frames travel in the ``clips`` layout of :func:`course_utils.tsn.gather_snippets`, ``(N, K, C, clip_len, H, W)``,
and an *input function* turns them into what a model takes: :func:`frame_input` ``(N, C, H, W)``,
:func:`clip_input` ``(N, C, clip_len, H, W)``, or ``course_utils.tsn.rgb_frames`` / ``rgb_differences``
``(N, K, C', H, W)``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from course_utils.sampling.clips import sample_clips
from course_utils.validation import validate_choice, validate_instance, validate_int, validate_tensor

__all__ = ["MODES", "ClipSampling", "VideoClips", "clip_input", "frame_input", "resize_frames"]

MODES = ("train", "test")
InputFunction = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True, kw_only=True)
class ClipSampling:
    """How a view is taken from a video: ``num_segments`` clips of ``clip_len`` frames, ``frame_interval`` apart.

    Args:
        num_segments: ``K``, clips per view (TSN's segments; 1 for a frame or an I3D clip).
        clip_len: frames per clip (1 for an RGB frame, 2 or more for RGB differences or a 3D network).
        frame_interval: distance between consecutive frames of a clip.
        num_views: ``V``, the views per video at test time.
    """

    num_segments: int = 1
    clip_len: int = 1
    frame_interval: int = 1
    num_views: int = 1

    def __post_init__(self) -> None:
        for name in ("num_segments", "clip_len", "frame_interval", "num_views"):
            validate_int(getattr(self, name), name, minimum=1)

    def train_indices(self, num_frames: int, rng: np.random.Generator) -> np.ndarray:
        """One random view: TSN segment sampling in train mode, int64 ``(K, clip_len)``."""
        return sample_clips(num_frames, self.num_segments, self.clip_len, self.frame_interval, mode="train", rng=rng)

    def test_indices(self, num_frames: int) -> np.ndarray:
        """``V`` fixed views spread over the video, int64 ``(V, K, clip_len)``.

        The video is cut into ``K * V`` equal parts and ``sample_clips`` takes one test clip from each; view ``v``
        holds the ``v``-th clip of every segment. With ``clip_len == 1`` the ``V`` views of a ``K``-segment TSN cover
        ``K * V`` evenly spread frames, so averaging a TSN with average consensus over the views averages the scores
        of all those frames, the TSN paper's test protocol.
        """
        indices = sample_clips(num_frames, self.num_segments * self.num_views, self.clip_len, self.frame_interval,
                               mode="test")                                   # (K * V, clip_len)
        # (K * V, L) -> (K, V, L) -> (V, K, L): view v takes the v-th clip of each segment
        return indices.reshape(self.num_segments, self.num_views, self.clip_len).swapaxes(0, 1)

    @property
    def frames_per_view(self) -> int:
        """``K * clip_len``, the frames one view decodes."""
        return self.num_segments * self.clip_len


def frame_input(clips: torch.Tensor) -> torch.Tensor:
    """The input of a 2D network: the one frame of each view, ``(N, 1, C, 1, H, W)`` -> ``(N, C, H, W)``."""
    validate_tensor(clips, "clips", ndim=6, layout="(N, K, C, clip_len, H, W)")
    if clips.shape[1] != 1 or clips.shape[3] != 1:
        raise ValueError(f"frame_input needs K = clip_len = 1 (one frame per view), got clips of shape "
                         f"{tuple(clips.shape)}")
    return clips[:, 0, :, 0]  # (N, 1, C, 1, H, W) -> (N, C, H, W)


def clip_input(clips: torch.Tensor) -> torch.Tensor:
    """The input of a 3D network: the one clip of each view, ``(N, 1, C, L, H, W)`` -> ``(N, C, L, H, W)``."""
    validate_tensor(clips, "clips", ndim=6, layout="(N, K, C, clip_len, H, W)")
    if clips.shape[1] != 1:
        raise ValueError(f"clip_input needs K = 1 (one clip per view), got clips of shape {tuple(clips.shape)}")
    return clips[:, 0]  # (N, 1, C, L, H, W) -> (N, C, L, H, W)


def resize_frames(frames: torch.Tensor, size: int) -> torch.Tensor:
    """Centre-crop frames to a square and resize them to ``size x size`` (bilinear, antialiased).

    Args:
        frames: float tensor ``(..., H, W)``, e.g. ``(C, T, H, W)``.
        size: the output height and width.

    Returns:
        ``(..., size, size)``, same dtype.
    """
    validate_tensor(frames, "frames", layout="(..., H, W)", dtype="floating")
    size = validate_int(size, "size", minimum=1)
    height, width = frames.shape[-2:]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    square = frames[..., top:top + side, left:left + side]                    # (..., side, side)
    if side == size:
        return square.contiguous()
    flat = square.reshape(-1, 1, side, side)                                   # (..., s, s) -> (M, 1, s, s)
    resized = F.interpolate(flat, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return resized.reshape(*frames.shape[:-2], size, size)                     # (M, 1, S, S) -> (..., S, S)


class VideoClips(Dataset):
    """Model inputs from a dataset of videos: one random view per item in training, ``V`` views in testing.

    Works on any dataset whose item ``i`` is ``(frames (C, T', H, W), label)`` with the frames its ``sampler``
    attribute picks, flattened clip by clip: ``course_utils.data.SyntheticVideos`` and
    ``course_utils.video_io.VideoFolder`` (which decodes only those frames). ``VideoClips`` works on a shallow copy of
    ``source`` with its own sampler; ``source`` itself is not changed.

    Args:
        source: the videos, e.g. ``SyntheticVideos(...)`` or ``VideoFolder(root)``.
        sampling: which frames make a view.
        mode: ``"train"`` (item: ``(input, label)``, a new random view each time) or ``"test"`` (item:
            ``(views (V, *input_shape), label)``, the same views every time).
        to_input: turns clips ``(N, K, C, clip_len, H, W)`` into model inputs (``frame_input``, ``clip_input``,
            ``course_utils.tsn.rgb_frames``, ``rgb_differences``, ...).
        size: resize frames to ``size x size`` after a centre crop (real videos); None keeps them.
        indices: the videos of ``source`` to use (e.g. a train or test split); None for all.
        seed: seed of the train-mode sampling. The view of item ``i`` in epoch ``e`` is drawn from
            ``numpy.random.default_rng([seed, e, i])``: the same whatever the batch order and the DataLoader workers.
            ``course_utils.train.fit`` calls :meth:`set_epoch` before each epoch; a hand-written loop should too,
            or every epoch sees the same views.
    """

    def __init__(self, source: Dataset, sampling: ClipSampling, *, mode: str = "train", to_input: InputFunction,
                 size: int | None = None, indices: np.ndarray | list[int] | None = None, seed: int = 0) -> None:
        validate_instance(source, "source", Dataset, what="a Dataset with a sampler attribute (SyntheticVideos, "
                          "VideoFolder)")
        if not hasattr(source, "sampler"):
            raise TypeError(f"source must have a sampler attribute (SyntheticVideos, VideoFolder), got "
                            f"{type(source).__name__}")
        self.sampling = validate_instance(sampling, "sampling", ClipSampling, what="a ClipSampling")
        self.mode = validate_choice(mode, "mode", MODES)
        self.to_input = validate_instance(to_input, "to_input", Callable, what="a function clips -> model input")
        self.size = None if size is None else validate_int(size, "size", minimum=1)
        self.seed = validate_int(seed, "seed", minimum=0)
        self.source = copy.copy(source)
        self.source.sampler = self._frame_indices
        count = len(source)
        self.indices = np.arange(count) if indices is None else np.asarray(indices, dtype=np.int64)
        if self.indices.ndim != 1 or (self.indices.size and (self.indices.min() < 0 or self.indices.max() >= count)):
            raise ValueError(f"indices must be a 1-D array of video indices in [0, {count}), got {indices!r}")
        self.epoch = 0
        self._item = 0  # the source index being fetched, read by the sampler

    @property
    def views(self) -> bool:
        """True in test mode: items hold ``V`` views, which ``course_utils.train.evaluate`` averages."""
        return self.mode == "test"

    @property
    def num_views(self) -> int:
        """Views per item: ``sampling.num_views`` in test mode, 1 in train mode."""
        return self.sampling.num_views if self.views else 1

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose random views train mode draws (a new draw for every epoch)."""
        self.epoch = validate_int(epoch, "epoch", minimum=0)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        self._item = int(self.indices[index])
        frames, label = self.source[self._item]                                # (C, V * K * L, H, W)
        if self.size is not None:
            frames = resize_frames(frames, self.size)
        sampling, channels = self.sampling, frames.shape[0]
        # (C, V*K*L, H, W) -> (C, V, K, L, H, W) -> (V, K, C, L, H, W)
        clips = frames.reshape(channels, self.num_views, sampling.num_segments, sampling.clip_len,
                               *frames.shape[-2:]).permute(1, 2, 0, 3, 4, 5)
        inputs = self.to_input(clips)                                          # (V, *input_shape)
        return (inputs if self.views else inputs[0]), int(label)

    def _frame_indices(self, num_frames: int) -> np.ndarray:
        if self.views:
            return self.sampling.test_indices(num_frames)                      # (V, K, L)
        rng = np.random.default_rng([self.seed, self.epoch, self._item])
        return self.sampling.train_indices(num_frames, rng)[None]              # (1, K, L)
