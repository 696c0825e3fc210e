"""Segmental consensus functions of TSN: snippet scores ``(B, K, C)`` in, video scores ``(B, C)`` out.

``B`` videos, ``K`` snippets (one per segment, ``num_segments``), ``C`` classes. The five functions of the TSN paper:

* ``max_consensus``: ``g_i = max_k f_i^k``;
* ``avg_consensus``: ``g_i = (1/K) sum_k f_i^k``;
* ``topk_consensus``: per class, the mean of its ``k`` largest snippet scores (``k`` is not ``K``);
* ``LinearWeighting``: ``g_i = sum_k omega_k f_i^k``, one learned weight per snippet *position*, shared by every class;
* ``AttentionWeighting``: ``g_i = sum_k A(T_k) f_i^k`` with ``A(T_k) = softmax_k(w_att . R(T_k))`` computed from each
  snippet's feature ``R(T_k)``, again shared by every class.

Normalisation (a course decision, stated here once): ``LinearWeighting`` keeps one unconstrained number per position,
``weight_logits`` of shape ``(K,)``, and uses ``omega = softmax(weight_logits)``, so the weights are positive and sum to
one. The paper writes raw weights ``omega_k``; normalising keeps ``G`` on the scale of the snippet scores, makes the
module start as average consensus (``weight_logits`` start at zero), and mirrors attention weighting, which is the same
convex combination with weights that depend on the video. The checker of exercise ``02.linear_weighting`` expects
exactly this.

The four functions other than linear weighting are invariant to the order of the snippets; linear weighting is not.
"""

from __future__ import annotations

import torch
from torch import nn


def _check_scores(scores: torch.Tensor, name: str = "scores") -> None:
    if not isinstance(scores, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor of shape (B, K, C), got {type(scores).__name__}")
    if scores.dim() != 3:
        raise ValueError(f"{name} must have shape (B, K, C) (videos, snippets, classes), got {tuple(scores.shape)}")
    if not scores.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {scores.dtype}")
    if scores.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one snippet per video, got K={scores.shape[1]}")


def max_consensus(scores: torch.Tensor) -> torch.Tensor:
    """Max consensus: for every class, its largest score over the snippets.

    Args:
        scores: snippet scores, float tensor ``(B, K, C)``.

    Returns:
        Video scores ``(B, C)``, same dtype and device as ``scores`` (values, not the argmax).
    """
    _check_scores(scores)
    return scores.amax(dim=1)  # (B, K, C) -> (B, C)


def avg_consensus(scores: torch.Tensor) -> torch.Tensor:
    """Average consensus: for every class, the mean of its scores over the snippets.

    Args:
        scores: snippet scores, float tensor ``(B, K, C)``.

    Returns:
        Video scores ``(B, C)``, same dtype and device as ``scores``.
    """
    _check_scores(scores)
    return scores.mean(dim=1)  # (B, K, C) -> (B, C)


def topk_consensus(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Top-k consensus: for every class separately, the mean of its ``k`` largest snippet scores.

    ``k=1`` is max consensus and ``k=K`` is average consensus.

    Args:
        scores: snippet scores, float tensor ``(B, K, C)``.
        k: how many snippets to average per class, an int with ``1 <= k <= K``.

    Returns:
        Video scores ``(B, C)``, same dtype and device as ``scores``.

    Raises:
        TypeError: if ``k`` is not an int.
        ValueError: if ``k`` is outside ``[1, K]``.
    """
    _check_scores(scores)
    if isinstance(k, bool) or not isinstance(k, int):
        raise TypeError(f"k must be an int, got {type(k).__name__}")
    num_segments = scores.shape[1]
    if not 1 <= k <= num_segments:
        raise ValueError(f"k must be between 1 and K={num_segments} (the number of snippets), got k={k}")
    top = scores.topk(k, dim=1).values  # (B, K, C) -> (B, k, C): the k largest per video and class
    return top.mean(dim=1)  # (B, k, C) -> (B, C)


class MaxConsensus(nn.Module):
    """``max_consensus`` as a module, so that every consensus can be handed to ``TSN`` the same way."""

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """Return ``max_consensus(scores)``: ``(B, K, C)`` -> ``(B, C)``."""
        return max_consensus(scores)


class AvgConsensus(nn.Module):
    """``avg_consensus`` as a module."""

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """Return ``avg_consensus(scores)``: ``(B, K, C)`` -> ``(B, C)``."""
        return avg_consensus(scores)


class TopKConsensus(nn.Module):
    """``topk_consensus`` with a fixed ``k`` as a module.

    Args:
        k: how many snippets to average per class (checked against ``K`` at every call).
    """

    def __init__(self, k: int):
        super().__init__()
        if isinstance(k, bool) or not isinstance(k, int):
            raise TypeError(f"k must be an int, got {type(k).__name__}")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        self.k = k

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """Return ``topk_consensus(scores, self.k)``: ``(B, K, C)`` -> ``(B, C)``."""
        return topk_consensus(scores, self.k)

    def extra_repr(self) -> str:
        return f"k={self.k}"


class LinearWeighting(nn.Module):
    """Linear weighting: ``g_i = sum_k omega_k f_i^k`` with ``omega = softmax(weight_logits)`` over positions.

    One learned number per snippet position, shared by all classes. ``weight_logits`` starts at zero, so the module
    starts as average consensus; training can then favour some positions over others, which makes the consensus
    depend on the order of the snippets.

    Args:
        num_segments: ``K``, the number of snippets the module will see.
    """

    def __init__(self, num_segments: int):
        super().__init__()
        if isinstance(num_segments, bool) or not isinstance(num_segments, int):
            raise TypeError(f"num_segments must be an int, got {type(num_segments).__name__}")
        if num_segments < 1:
            raise ValueError(f"num_segments must be at least 1, got {num_segments}")
        self.num_segments = num_segments
        self.weight_logits = nn.Parameter(torch.zeros(num_segments))

    def weights(self) -> torch.Tensor:
        """Return the normalised weights ``omega``, shape ``(K,)``, positive and summing to one."""
        return torch.softmax(self.weight_logits, dim=0)

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """Weight the snippets by position.

        Args:
            scores: snippet scores ``(B, K, C)`` with ``K == num_segments``.

        Returns:
            Video scores ``(B, C)`` in the dtype of ``scores``.
        """
        _check_scores(scores)
        if scores.shape[1] != self.num_segments:
            raise ValueError(f"scores has K={scores.shape[1]} snippets, but this module was built for "
                             f"num_segments={self.num_segments}")
        omega = self.weights().to(scores.dtype)
        return torch.einsum("k,bkc->bc", omega, scores)  # (K,), (B, K, C) -> (B, C)

    def extra_repr(self) -> str:
        return f"num_segments={self.num_segments}"


class AttentionWeighting(nn.Module):
    """Attention weighting: ``e_k = w_att . R(T_k)``, ``A = softmax_k(e)``, ``g_i = sum_k A_k f_i^k``.

    The weights depend on each video's snippet features but not on the class: every class of a video uses the same
    ``K`` weights. ``w_att`` starts at zero, so the module starts as average consensus. Since the weights move with
    the snippets when they are shuffled, the consensus does not depend on the order of the snippets.

    Args:
        feature_dim: ``D``, the length of a snippet's feature vector ``R(T_k)``.
    """

    needs_features = True  # TSN passes the snippet features to modules that set this

    def __init__(self, feature_dim: int):
        super().__init__()
        if isinstance(feature_dim, bool) or not isinstance(feature_dim, int):
            raise TypeError(f"feature_dim must be an int, got {type(feature_dim).__name__}")
        if feature_dim < 1:
            raise ValueError(f"feature_dim must be at least 1, got {feature_dim}")
        self.feature_dim = feature_dim
        self.w_att = nn.Parameter(torch.zeros(feature_dim))

    def attention_weights(self, features: torch.Tensor) -> torch.Tensor:
        """Return the attention weights ``A(T_k)`` of every video, shape ``(B, K)``, summing to one over ``K``.

        Args:
            features: snippet features ``R(T_k)``, float tensor ``(B, K, D)``.
        """
        _check_scores(features, "features")
        if features.shape[2] != self.feature_dim:
            raise ValueError(f"features has D={features.shape[2]}, but this module was built for "
                             f"feature_dim={self.feature_dim}")
        e = torch.einsum("bkd,d->bk", features, self.w_att.to(features.dtype))  # (B, K, D), (D,) -> (B, K)
        return torch.softmax(e, dim=1)  # over the snippets of each video

    def forward(self, scores: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Weight the snippets of every video by its attention weights.

        Args:
            scores: snippet scores ``(B, K, C)``.
            features: snippet features ``(B, K, D)`` of the same snippets.

        Returns:
            Video scores ``(B, C)``.
        """
        _check_scores(scores)
        weights = self.attention_weights(features)  # (B, K)
        if weights.shape != scores.shape[:2]:
            raise ValueError(f"scores (B, K, C)={tuple(scores.shape)} and features (B, K, D)="
                             f"{tuple(features.shape)} must agree on B and K")
        return torch.einsum("bk,bkc->bc", weights.to(scores.dtype), scores)  # (B, K), (B, K, C) -> (B, C)

    def extra_repr(self) -> str:
        return f"feature_dim={self.feature_dim}"
