"""Checker of exercise 02.tsn_loss: the TSN loss on the consensus logits, with a stable log-sum-exp.

The check cell calls ``check("02.tsn_loss", tsn_loss)``. Specification: ``tsn_loss(logits, labels)`` takes the
consensus logits ``G`` of shape ``(B, C)`` and integer labels ``(B,)``, and returns the mean over the batch of
``-(G_y - log sum_j exp G_j)``, a 0-dim tensor, computed with the max-shifted log-sum-exp
``log sum_j exp G_j = m + log sum_j exp(G_j - m)``, ``m = max_j G_j``, written by hand: no
``F.cross_entropy``, ``log_softmax``, ``logsumexp``, ``nll_loss`` or their module versions. The rule is a tripwire on
those functions and on their ATen operators, so it holds however they are reached and whatever the student's own
variables are called.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from course_utils.exercises.ex02_support import earlier_answers
from course_utils.exercises.framework import Exercise, course, expect_close, expect_true, finite, forbid, same
from course_utils.exercises.helpers import expect_tensor, random_tensor

LIBRARY_LOSSES = forbid(
    "must compute the loss from the formula, with its own max-shifted log-sum-exp",
    "torch.nn.functional:cross_entropy", "torch.nn.functional:log_softmax", "torch.nn.functional:nll_loss",
    "torch:logsumexp", "torch:log_softmax", "torch:Tensor.logsumexp", "torch:Tensor.log_softmax",
    "torch.special:logsumexp", "torch.special:log_softmax", "torch.nn:CrossEntropyLoss", "torch.nn:NLLLoss",
    "torch.nn:LogSoftmax",
    ops=("aten::logsumexp", "aten::special_logsumexp", "aten::log_softmax", "aten::_log_softmax",
         "aten::special_log_softmax", "aten::cross_entropy", "aten::cross_entropy_loss", "aten::nll_loss",
         "aten::nll_loss_nd", "aten::nll_loss2d", "aten::nll_loss_forward", "aten::nll_loss2d_forward"))
TSN_LOSS = Exercise("02.tsn_loss", "TSN loss with a stable log-sum-exp", forbidden=[LIBRARY_LOSSES],
                    substitutes=earlier_answers("max_consensus", "avg_consensus", "topk_consensus",
                                                "LinearWeighting", "AttentionWeighting"))


def _loss(tsn_loss: Callable, logits: torch.Tensor, labels: torch.Tensor, what: str) -> torch.Tensor:
    return expect_tensor(tsn_loss(logits, labels), shape=(), dtype=None, what=f"tsn_loss ({what})",
                         hint="average the per-video losses over the batch: a single number, shape ()")


def _labels(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.int64)


@TSN_LOSS.case("written from the formula, without a library loss")
def _(tsn_loss):
    # the rule is enforced in every case: calling F.cross_entropy, a log_softmax, a logsumexp or an NLL loss (under
    # any name, by any route) fails the case that made the call
    logits = torch.tensor([[0.5, -1.0, 2.0], [1.0, 1.0, 1.0]], dtype=torch.float64)
    out = _loss(tsn_loss, logits.clone(), _labels(2, 0), "B=2, C=3")
    expect_true(finite(out), what="the loss of G=[[0.5, -1, 2], [1, 1, 1]] is not finite",
                got=float(out))


@TSN_LOSS.case("fixed example: -(G_y - log sum_j exp G_j), averaged over the batch")
def _(tsn_loss):
    logits = torch.tensor([[2.0, 1.0, 0.0], [0.0, 0.0, 3.0]], dtype=torch.float64)
    labels = _labels(0, 2)
    video_0 = -(2.0 - math.log(math.exp(2.0) + math.exp(1.0) + 1.0))
    video_1 = -(3.0 - math.log(2.0 + math.exp(3.0)))
    out = _loss(tsn_loss, logits.clone(), labels, "B=2, C=3")
    expect_close(out, torch.tensor((video_0 + video_1) / 2, dtype=torch.float64),
                 what="loss of G=[[2, 1, 0], [0, 0, 3]] with labels [0, 2]",
                 hint="loss_b = -(G[b, y_b] - log sum_j exp G[b, j]); the sum over j runs over the classes of the "
                      "same video; then average over b")


@TSN_LOSS.case("mean over the batch, not the sum")
def _(tsn_loss):
    logits = random_tensor(1, 5, seed=70)
    labels = _labels(3)
    one = _loss(tsn_loss, logits.clone(), labels, "B=1")
    four = _loss(tsn_loss, logits.repeat(4, 1), labels.repeat(4), "B=4 copies of one video")
    expect_close(four, one, what="loss of 4 copies of a video against the loss of that video alone",
                 hint="the batch loss is the mean of the per-video losses")


@TSN_LOSS.case("every class's logit counts, not only the target's")
def _(tsn_loss):
    logits = torch.tensor([[1.0, 0.0, 0.0, 0.0]], dtype=torch.float64)
    labels = _labels(0)
    base = _loss(tsn_loss, logits.clone(), labels, "G=[[1, 0, 0, 0]]")
    raised = logits.clone()
    raised[0, 2] = 4.0
    higher = _loss(tsn_loss, raised, labels, "G=[[1, 0, 4, 0]]")
    expect_true(float(higher) > float(base) + 1.0,
                what="raising a wrong class's logit from 0 to 4 must raise the loss",
                expected=f"> {float(base) + 1.0:.4f}", got=f"{float(higher):.4f}",
                hint="the normaliser is log sum_j exp G_j over ALL classes j; the lecture's formula writes the sum "
                     "over i with summand g_j, which mixes the indices")


@TSN_LOSS.case("matches softmax cross-entropy on random logits")
def _(tsn_loss):
    logits = 3.0 * random_tensor(6, 5, seed=71)
    labels = _labels(0, 4, 2, 2, 1, 3)
    with course():
        expected = F.cross_entropy(logits, labels)
    expect_close(_loss(tsn_loss, logits.clone(), labels, "B=6, C=5"), expected,
                 what="loss on random logits against softmax cross-entropy",
                 hint="apply the formula to the logits G directly: a softmax before it applies softmax twice")


@TSN_LOSS.case("no double softmax")
def _(tsn_loss):
    logits = torch.tensor([[10.0, 0.0, 0.0]], dtype=torch.float64)
    expected = math.log(1.0 + 2.0 * math.exp(-10.0))
    expect_close(_loss(tsn_loss, logits.clone(), _labels(0), "G=[[10, 0, 0]]"),
                 torch.tensor(expected, dtype=torch.float64),
                 what="loss of a confident correct prediction G=[[10, 0, 0]], label 0 (should be about 9.1e-05)",
                 hint="G are logits: softmax-ing them first squeezes them into [0, 1] and the loss stays near 0.55")


@TSN_LOSS.case("stable for huge logits (float64 and float32)")
def _(tsn_loss):
    logits = torch.tensor([[1000.0, 0.0, -1000.0], [800.0, 810.0, 790.0], [-1000.0, 1000.0, 0.0],
                           [-1000.0, -990.0, -1010.0]], dtype=torch.float64)
    labels = _labels(0, 0, 0, 1)
    out = _loss(tsn_loss, logits.clone(), labels, "logits of size 1000")
    expect_true(finite(out), what="loss for logits of size 1000 (float64) is not finite",
                got=float(out), hint="exp(1000) overflows: subtract m = max_j G_j before exp and add it back")
    tail = math.log(1.0 + math.exp(-10.0) + math.exp(-20.0))
    expected = torch.tensor((0.0 + (10.0 + tail) + 2000.0 + tail) / 4, dtype=torch.float64)
    expect_close(out, expected, what="loss for logits [[1000, 0, -1000], [800, 810, 790], [-1000, 1000, 0], "
                                     "[-1000, -990, -1010]], labels [0, 0, 0, 1]",
                 hint="log sum_j exp G_j = m + log sum_j exp(G_j - m) with m = max_j G_j of each video (not of the "
                      "whole batch); log(softmax) underflows to log(0) for a target far below the maximum")
    small = torch.tensor([[100.0, 0.0], [0.0, 100.0]], dtype=torch.float32)
    out32 = _loss(tsn_loss, small.clone(), _labels(0, 0), "float32 logits of size 100")
    expect_true(finite(out32), what="loss for float32 logits of size 100 is not finite",
                got=float(out32), hint="exp(100) overflows float32: shift by the maximum")
    expect_close(out32, torch.tensor(50.0), atol=1e-4,
                 what="loss for float32 logits [[100, 0], [0, 100]], labels [0, 0]")


@TSN_LOSS.case("gradient is (softmax(G) - onehot(y)) / B, inputs unchanged")
def _(tsn_loss):
    original = 2.0 * random_tensor(3, 4, seed=72)
    labels = _labels(1, 3, 0)
    logits = original.clone().requires_grad_(True)
    out = _loss(tsn_loss, logits, labels, "B=3, C=4")
    expect_true(out.requires_grad, what="the loss must be differentiable", hint="no .item(), .detach() or numpy")
    out.backward()
    expected = (torch.softmax(original, dim=1) - F.one_hot(labels, 4).double()) / 3
    expect_true(logits.grad is not None, what="no gradient reached the logits")
    expect_close(logits.grad, expected, what="gradient of the loss with respect to G",
                 hint="a mean over the batch divides the gradient by B")
    expect_true(same(logits.detach(), original), what="tsn_loss changed the logits in place",
                hint="write `shifted = logits - m`, not `logits -= m`")


EXERCISES = (TSN_LOSS,)
