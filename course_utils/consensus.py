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

from course_utils.validation import validate_int, validate_tensor


def _validate_snippets(scores: torch.Tensor, name: str = "scores", layout: str = "(B, K, C)") -> torch.Tensor:
    """Validate a float ``(B, K, C)`` (or ``(B, K, D)``) snippet tensor with ``K >= 1``; return it."""
    validate_tensor(scores, name, ndim=3, layout=layout, dtype="floating")
    if scores.shape[1] < 1:
        raise ValueError(f"{name} must hold at least one snippet per video, got K={scores.shape[1]}")
    return scores


def max_consensus(scores: torch.Tensor) -> torch.Tensor:
    """Max consensus: for every class, its largest score over the snippets.

    Args:
        scores: snippet scores, float tensor ``(B, K, C)``.

    Returns:
        Video scores ``(B, C)``, same dtype and device as ``scores`` (values, not the argmax).
    """
    _validate_snippets(scores)
    return scores.amax(dim=1)  # (B, K, C) -> (B, C)


def avg_consensus(scores: torch.Tensor) -> torch.Tensor:
    """Average consensus: for every class, the mean of its scores over the snippets.

    Args:
        scores: snippet scores, float tensor ``(B, K, C)``.

    Returns:
        Video scores ``(B, C)``, same dtype and device as ``scores``.
    """
    _validate_snippets(scores)
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
        TypeError: if ``scores`` is not a floating-point tensor or ``k`` is not an int.
        ValueError: if ``scores`` is not ``(B, K, C)`` with ``K >= 1`` or ``k`` is outside ``[1, K]``.
    """
    _validate_snippets(scores)
    k = validate_int(k, "k", minimum=1, maximum=scores.shape[1], note="K, the number of snippets")
    top = scores.topk(k, dim=1).values  # (B, K, C) -> (B, k, C): the k largest per video and class
    return top.mean(dim=1)  # (B, k, C) -> (B, C)


class MaxConsensus(nn.Module):
    """``max_consensus`` as a module, so that every consensus can be handed to ``TSN`` the same way."""

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """Return ``max_consensus(scores)``: ``(B, K, C)`` -> ``(B, C)``.

        Args:
            scores: snippet scores, float tensor ``(B, K, C)``.

        Returns:
            Video scores ``(B, C)``.
        """
        return max_consensus(scores)


class AvgConsensus(nn.Module):
    """``avg_consensus`` as a module."""

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """Return ``avg_consensus(scores)``: ``(B, K, C)`` -> ``(B, C)``.

        Args:
            scores: snippet scores, float tensor ``(B, K, C)``.

        Returns:
            Video scores ``(B, C)``.
        """
        return avg_consensus(scores)


class TopKConsensus(nn.Module):
    """``topk_consensus`` with a fixed ``k`` as a module.

    Args:
        k: how many snippets to average per class, an int >= 1 (compared with ``K`` at every call).
    """

    def __init__(self, k: int):
        super().__init__()
        self.k = validate_int(k, "k", minimum=1)

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """Return ``topk_consensus(scores, self.k)``: ``(B, K, C)`` -> ``(B, C)``, with ``k <= K``.

        Args:
            scores: snippet scores, float tensor ``(B, K, C)``.

        Returns:
            Video scores ``(B, C)``.
        """
        return topk_consensus(scores, self.k)

    def extra_repr(self) -> str:
        """Show ``k`` in the module's repr."""
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
        self.num_segments = validate_int(num_segments, "num_segments", minimum=1)
        self.weight_logits = nn.Parameter(torch.zeros(self.num_segments))

    def weights(self) -> torch.Tensor:
        """Compute the normalised weights ``omega = softmax(weight_logits)``.

        Returns:
            ``(K,)`` tensor, positive and summing to one.
        """
        return torch.softmax(self.weight_logits, dim=0)

    def forward(self, scores: torch.Tensor) -> torch.Tensor:
        """Weight the snippets by position.

        Args:
            scores: snippet scores ``(B, K, C)`` with ``K == num_segments``.

        Returns:
            Video scores ``(B, C)`` in the dtype of ``scores``.
        """
        _validate_snippets(scores)
        if scores.shape[1] != self.num_segments:
            raise ValueError(f"scores has K={scores.shape[1]} snippets, but this module was built for "
                             f"num_segments={self.num_segments}")
        omega = self.weights().to(scores.dtype)
        return torch.einsum("k,bkc->bc", omega, scores)  # (K,), (B, K, C) -> (B, C)

    def extra_repr(self) -> str:
        """Show ``num_segments`` in the module's repr."""
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
        self.feature_dim = validate_int(feature_dim, "feature_dim", minimum=1)
        self.w_att = nn.Parameter(torch.zeros(self.feature_dim))

    def attention_weights(self, features: torch.Tensor) -> torch.Tensor:
        """Compute the attention weights ``A(T_k)`` of every video.

        Args:
            features: snippet features ``R(T_k)``, float tensor ``(B, K, D)``.

        Returns:
            Weights ``(B, K)`` in the dtype of ``features``, summing to one over ``K``.
        """
        _validate_snippets(features, "features", "(B, K, D)")
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
        _validate_snippets(scores)
        weights = self.attention_weights(features)  # (B, K)
        if weights.shape != scores.shape[:2]:
            raise ValueError(f"scores (B, K, C)={tuple(scores.shape)} and features (B, K, D)="
                             f"{tuple(features.shape)} must agree on B and K")
        return torch.einsum("bk,bkc->bc", weights.to(scores.dtype), scores)  # (B, K), (B, K, C) -> (B, C)

    def extra_repr(self) -> str:
        """Show ``feature_dim`` in the module's repr."""
        return f"feature_dim={self.feature_dim}"
