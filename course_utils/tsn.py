"""A small Temporal Segment Network (TSN) and its two cheap input modalities, RGB frames and RGB differences.

TSN applies one 2D ConvNet, with the same weights, to each of the ``K`` snippets of a video, turns every snippet's
features into class scores, and combines the ``K`` score vectors with a segmental consensus
(``course_utils.consensus``). Snippet batches have shape ``(B, K, C, H, W)``: ``B`` videos, ``K`` snippets, ``C``
input channels (3 for an RGB frame, ``3 * (clip_len - 1)`` for stacked RGB differences).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from course_utils.sampling.clips import RngLike, as_generator, sample_clips
from course_utils.validation import validate_instance, validate_int, validate_int_array, validate_tensor

Consensus = nn.Module | Callable[..., torch.Tensor]


class SnippetCNN(nn.Module):
    """A tiny 2D ConvNet for small frames that keeps a coarse map of *where* things are.

    Two 3x3 conv blocks with stride 2 (``H -> H/4``), an average pool to a 4x4 grid, then a linear layer on the
    flattened grid. Flattening (instead of a global average pool) lets the features say where the object is,
    which the ``second_half`` classes need (the object rises or not).

    Args:
        in_channels: channels of one snippet (3 for RGB, ``3 * (clip_len - 1)`` for RGB differences).
        width: channels of the first conv block (the second has ``2 * width``).
        feature_dim: ``D``, the length of the output feature vector.
    """

    def __init__(self, in_channels: int, *, width: int = 8, feature_dim: int = 32):
        super().__init__()
        in_channels = validate_int(in_channels, "in_channels", minimum=1)
        width = validate_int(width, "width", minimum=1)
        self.feature_dim = validate_int(feature_dim, "feature_dim", minimum=1)
        self.layers = nn.Sequential(
            _conv_block(in_channels, width), _conv_block(width, 2 * width),  # (N, C, H, W) -> (N, 2w, H/4, W/4)
            nn.AdaptiveAvgPool2d(4), nn.Flatten(),  # (N, 2w, H/4, W/4) -> (N, 2w, 4, 4) -> (N, 32w)
            nn.Linear(2 * width * 16, self.feature_dim), nn.ReLU(inplace=True),  # (N, 32w) -> (N, D)
        )

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """Map images to feature vectors.

        Args:
            frames: ``(N, C, H, W)`` float tensor.

        Returns:
            Features ``(N, D)``.
        """
        return self.layers(frames)


def _conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(in_channels, out_channels, 3, stride=2, padding=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True))


class TSN(nn.Module):
    """Temporal Segment Network: shared 2D backbone per snippet, a linear classifier, and a consensus.

    The consensus is called as ``consensus(scores)`` with snippet scores ``(B, K, num_classes)``, or as
    ``consensus(scores, features)`` with the snippet features ``(B, K, D)`` too when it has an attribute
    ``needs_features`` set to ``True`` (as ``AttentionWeighting`` does). It must return ``(B, num_classes)``.

    Args:
        backbone: module mapping images ``(N, C, H, W)`` to features ``(N, D)``.
        num_classes: number of classes.
        num_segments: ``K``, the number of snippets per video the model expects.
        consensus: the segmental consensus, a module or a function (e.g. ``avg_consensus``).
        feature_dim: ``D``. If omitted, it is read from ``backbone.feature_dim``; a backbone without that attribute
            needs it passed explicitly.
    """

    def __init__(self, backbone: nn.Module, num_classes: int, num_segments: int, consensus: Consensus, *,
                 feature_dim: int | None = None):
        super().__init__()
        validate_instance(backbone, "backbone", nn.Module, what="an nn.Module mapping (N, C, H, W) to (N, D)")
        num_classes = validate_int(num_classes, "num_classes", minimum=1)
        num_segments = validate_int(num_segments, "num_segments", minimum=1)
        validate_instance(consensus, "consensus", Callable, what="a module or a function (B, K, C) -> (B, C)")
        if feature_dim is None:
            if not hasattr(backbone, "feature_dim"):
                raise ValueError("cannot infer feature_dim: the backbone has no attribute feature_dim; "
                                 "pass feature_dim=D, the length of the backbone's output features")
            feature_dim = backbone.feature_dim
        feature_dim = validate_int(feature_dim, "feature_dim", minimum=1)
        self.backbone = backbone
        self.num_classes = num_classes
        self.num_segments = num_segments
        self.feature_dim = feature_dim
        self.classifier = nn.Linear(feature_dim, num_classes)
        self.consensus = consensus

    def snippet_outputs(self, snippets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Run the shared backbone and classifier on every snippet.

        Args:
            snippets: ``(B, K, C, H, W)`` float tensor with ``K == num_segments``.

        Returns:
            ``(features, scores)``: snippet features ``(B, K, D)`` and snippet scores ``(B, K, num_classes)``.
        """
        validate_tensor(snippets, "snippets", ndim=5, layout="(B, K, C, H, W)", dtype="floating")
        batch, num_segments = snippets.shape[:2]
        if num_segments != self.num_segments:
            raise ValueError(f"snippets has K={num_segments}, but the model was built for "
                             f"num_segments={self.num_segments}")
        frames = snippets.flatten(0, 1)  # (B, K, C, H, W) -> (B*K, C, H, W), video-major: row b*K + k
        features = self.backbone(frames)  # (B*K, C, H, W) -> (B*K, D)
        if features.shape != (batch * num_segments, self.feature_dim):
            raise ValueError(f"the backbone returned features of shape {tuple(features.shape)}, expected "
                             f"(B*K, D)=({batch * num_segments}, {self.feature_dim})")
        scores = self.classifier(features)  # (B*K, D) -> (B*K, num_classes)
        features = features.view(batch, num_segments, self.feature_dim)  # (B*K, D) -> (B, K, D)
        scores = scores.view(batch, num_segments, self.num_classes)  # (B*K, num_classes) -> (B, K, num_classes)
        return features, scores

    def forward(self, snippets: torch.Tensor) -> torch.Tensor:
        """Classify every video of a snippet batch.

        Args:
            snippets: ``(B, K, C, H, W)`` float tensor with ``K == num_segments``.

        Returns:
            The consensus logits ``G``, ``(B, num_classes)``.
        """
        features, scores = self.snippet_outputs(snippets)
        if getattr(self.consensus, "needs_features", False):
            return self.consensus(scores, features)
        return self.consensus(scores)


def build_tsn(consensus: Consensus, *, in_channels: int = 3, num_classes: int = 8, num_segments: int = 4,
              width: int = 8, feature_dim: int = 32) -> TSN:
    """Build a ``TSN`` on a fresh ``SnippetCNN`` backbone.

    Args:
        consensus: the segmental consensus (module or function); a ``LinearWeighting`` must be built for
            ``num_segments`` and an ``AttentionWeighting`` for ``feature_dim``.
        in_channels: channels of one snippet.
        num_classes: number of classes.
        num_segments: ``K``.
        width: width of the backbone's first conv block.
        feature_dim: ``D``, the backbone's feature length.

    Returns:
        The model, on the CPU.
    """
    backbone = SnippetCNN(in_channels, width=width, feature_dim=feature_dim)
    return TSN(backbone, num_classes, num_segments, consensus)


def sample_snippet_indices(num_videos: int, num_frames: int, num_segments: int, clip_len: int = 1, *,
                           mode: str = "train", rng: RngLike = None) -> np.ndarray:
    """Sample, for each of ``num_videos`` videos, ``num_segments`` clips of ``clip_len`` consecutive frames.

    Each video gets its own draw of ``course_utils.sampling.sample_clips`` (TSN segment sampling; test mode takes
    the segment centres and draws nothing).

    Args:
        num_videos: number of videos.
        num_frames: frames per video.
        num_segments: ``K``.
        clip_len: frames per snippet (1 for RGB, 2 or more for RGB differences).
        mode: ``"train"`` or ``"test"``.
        rng: ``None``, an int seed or a ``numpy.random.Generator`` (used in train mode).

    Returns:
        int64 array ``(num_videos, num_segments, clip_len)`` of frame indices.
    """
    num_videos = validate_int(num_videos, "num_videos", minimum=1)
    generator = as_generator(rng)
    return np.stack([sample_clips(num_frames, num_segments, clip_len, mode=mode, rng=generator)
                     for _ in range(num_videos)])


def gather_snippets(videos: torch.Tensor, frame_indices: np.ndarray) -> torch.Tensor:
    """Pick the sampled frames of every video.

    Args:
        videos: float tensor ``(N, C, T, H, W)``.
        frame_indices: int array ``(N, K, clip_len)`` with values in ``[0, T)``.

    Returns:
        Snippet clips ``(N, K, C, clip_len, H, W)``, a new tensor on the device of ``videos``.
    """
    validate_tensor(videos, "videos", ndim=5, layout="(N, C, T, H, W)")
    num_videos, _, num_frames = videos.shape[:3]
    indices = validate_int_array(frame_indices, "frame_indices", ndim=3, minimum=0, below=num_frames,
                                 layout="(N, K, clip_len)")
    if indices.shape[0] != num_videos:
        raise ValueError(f"frame_indices must have shape (N={num_videos}, K, clip_len), got {indices.shape}")
    index = torch.as_tensor(indices, device=videos.device)  # (N, K, clip_len) int64
    rows = torch.arange(num_videos, device=videos.device)[:, None, None]  # (N, 1, 1), broadcast over (K, clip_len)
    frames = videos.permute(0, 2, 1, 3, 4)  # (N, C, T, H, W) -> (N, T, C, H, W)
    clips = frames[rows, index]  # (N, K, clip_len, C, H, W)
    return clips.permute(0, 1, 3, 2, 4, 5)  # (N, K, clip_len, C, H, W) -> (N, K, C, clip_len, H, W)


def rgb_frames(clips: torch.Tensor) -> torch.Tensor:
    """The RGB modality: the first frame of every snippet clip.

    Args:
        clips: ``(N, K, C, clip_len, H, W)``.

    Returns:
        ``(N, K, C, H, W)``.
    """
    _validate_clips(clips, min_len=1)
    return clips[:, :, :, 0]  # (N, K, C, clip_len, H, W) -> (N, K, C, H, W)


def rgb_differences(clips: torch.Tensor) -> torch.Tensor:
    """The RGB-difference modality: differences of consecutive frames of every clip, stacked as channels.

    Args:
        clips: ``(N, K, C, clip_len, H, W)`` with ``clip_len >= 2``.

    Returns:
        ``(N, K, C * (clip_len - 1), H, W)``: channel ``c * (clip_len - 1) + t`` holds frame ``t + 1`` minus
        frame ``t`` of colour channel ``c``.
    """
    _validate_clips(clips, min_len=2)
    diffs = clips[:, :, :, 1:] - clips[:, :, :, :-1]  # (N, K, C, clip_len - 1, H, W)
    return diffs.flatten(2, 3)  # (N, K, C, clip_len - 1, H, W) -> (N, K, C * (clip_len - 1), H, W)


def _validate_clips(clips: torch.Tensor, *, min_len: int) -> None:
    validate_tensor(clips, "clips", ndim=6, layout="(N, K, C, clip_len, H, W)")
    if clips.shape[3] < min_len:
        raise ValueError(f"clips must have clip_len >= {min_len}, got clip_len={clips.shape[3]}")

