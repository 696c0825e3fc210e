"""Pieces shared by the checkers of notebook 02 (segmental consensus and the TSN loss).

``EARLIER_ANSWERS`` maps the names of the notebook's answers to the course's references: a later exercise's check
binds them in the student's globals, so that a class or loss that reuses an earlier answer is graded on its own.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from course_utils import consensus
from course_utils.exercises.helpers import expect_tensor

SCORES_HINT = "reduce over the snippet axis (dim=1) of (B, K, C) and keep the class axis: (B, C)"
DTYPE_HINT = "consensus scores are scores, not indices; don't convert the dtype"

EARLIER_ANSWERS = {"max_consensus": consensus.max_consensus, "avg_consensus": consensus.avg_consensus,
                   "topk_consensus": consensus.topk_consensus, "LinearWeighting": consensus.LinearWeighting,
                   "AttentionWeighting": consensus.AttentionWeighting}


def video_scores(out: Any, *, shape: tuple[int, ...], what: str) -> torch.Tensor:
    """Fail unless ``out`` is a float64 tensor of video scores of ``shape``; return it as a plain tensor."""
    return expect_tensor(out, shape=shape, what=what, hint=SCORES_HINT, dtype_hint=DTYPE_HINT)


def course_linear(logits: Any) -> nn.Module:
    """The course's ``LinearWeighting`` (float64) with ``weight_logits = logits``.

    Its methods are tripwires while ``02.linear_weighting`` is checked: call it inside ``course()``.
    """
    module = consensus.LinearWeighting(len(logits)).double()
    with torch.no_grad():
        module.weight_logits.copy_(torch.as_tensor(logits, dtype=torch.float64))
    return module


def course_attention(w_att: torch.Tensor) -> nn.Module:
    """The course's ``AttentionWeighting`` (float64) with ``w_att``; a tripwire in ``02.attention_weighting``."""
    module = consensus.AttentionWeighting(len(w_att)).double()
    with torch.no_grad():
        module.w_att.copy_(w_att)
    return module


def earlier_answers(*names: str) -> dict[str, Any]:
    """The course's references for the notebook's earlier answers ``names`` (see ``EARLIER_ANSWERS``)."""
    return {name: EARLIER_ANSWERS[name] for name in names}
