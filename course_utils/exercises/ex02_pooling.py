"""Checker of exercise 02.pooling_consensus: max, average and top-k consensus over snippet scores ``(B, K, C)``.

The check cell calls ``check("02.pooling_consensus", max_consensus, avg_consensus, topk_consensus)``.
"""

from __future__ import annotations

import torch

from course_utils import consensus
from course_utils.exercises.ex02_support import video_scores
from course_utils.exercises.framework import Exercise, course, expect_close, expect_true, fail, forbid, plain, same
from course_utils.exercises.helpers import permutation, random_tensor

POOLING_CONSENSUS = Exercise(
    "02.pooling_consensus", "Max, average and top-k consensus",
    forbidden=[forbid("must combine the snippet scores itself", "course_utils.consensus:max_consensus",
                      "course_utils.consensus:avg_consensus", "course_utils.consensus:topk_consensus",
                      "course_utils.consensus:MaxConsensus", "course_utils.consensus:AvgConsensus",
                      "course_utils.consensus:TopKConsensus")])

# B=1 video, K=3 snippets, C=2 classes. Class 0 peaks in snippet 1, class 1 in snippet 0 then snippet 2.
HAND_MADE = torch.tensor([[[1.0, 5.0],
                           [3.0, 0.0],
                           [2.0, 4.0]]], dtype=torch.float64)
HAND_MAX = torch.tensor([[3.0, 5.0]], dtype=torch.float64)
HAND_AVG = torch.tensor([[2.0, 3.0]], dtype=torch.float64)
HAND_TOP2 = torch.tensor([[2.5, 4.5]], dtype=torch.float64)

# Class 0 peaks in snippet 0 and class 1 in snippet 2: per-class top-k picks different snippets for each class.
PEAKS = torch.tensor([[[5.0, 0.0],
                       [1.0, 2.0],
                       [0.0, 7.0]]], dtype=torch.float64)
PEAKS_TOP1 = torch.tensor([[5.0, 7.0]], dtype=torch.float64)
PEAKS_TOP2 = torch.tensor([[3.0, 4.5]], dtype=torch.float64)


@POOLING_CONSENSUS.case("each function returns video scores of shape (B, C)")
def _(max_consensus, avg_consensus, topk_consensus):
    scores = random_tensor(2, 5, 3, seed=20)
    for name, function in (("max_consensus", max_consensus), ("avg_consensus", avg_consensus),
                           ("topk_consensus(scores, 2)", lambda s: topk_consensus(s, 2))):
        video_scores(function(scores.clone()), shape=(2, 3), what=name)


@POOLING_CONSENSUS.case("max consensus on a hand-made tensor")
def _(max_consensus, avg_consensus, topk_consensus):
    out = video_scores(max_consensus(HAND_MADE.clone()), shape=(1, 2),
                       what="max_consensus")
    expect_close(out, HAND_MAX, what="max_consensus of [[1, 5], [3, 0], [2, 4]] (K=3 snippets, C=2 classes)",
                 hint="g_i = max over the snippets k of f_i^k, for each class i: the values, not their position")


@POOLING_CONSENSUS.case("average consensus on a hand-made tensor")
def _(max_consensus, avg_consensus, topk_consensus):
    out = video_scores(avg_consensus(HAND_MADE.clone()), shape=(1, 2),
                       what="avg_consensus")
    expect_close(out, HAND_AVG, what="avg_consensus of [[1, 5], [3, 0], [2, 4]]",
                 hint="g_i = (1/K) sum_k f_i^k: average over the snippet axis (dim=1), not the class axis")


@POOLING_CONSENSUS.case("top-k selects the k best snippets of each class separately")
def _(max_consensus, avg_consensus, topk_consensus):
    for k, expected in ((1, PEAKS_TOP1), (2, PEAKS_TOP2)):
        out = video_scores(topk_consensus(PEAKS.clone(), k), shape=(1, 2),
                           what=f"topk_consensus(scores, {k})")
        expect_close(out, expected, what=f"topk_consensus of [[5, 0], [1, 2], [0, 7]] with k={k}",
                     hint="for each class, take its own k largest snippet scores (topk over dim=1 of (B, K, C)) "
                          "and average them; don't rank snippets by their averaged scores")
    out = video_scores(topk_consensus(HAND_MADE.clone(), 2), shape=(1, 2),
                       what="topk_consensus(scores, 2)")
    expect_close(out, HAND_TOP2, what="topk_consensus of [[1, 5], [3, 0], [2, 4]] with k=2")


@POOLING_CONSENSUS.case("top-k with k=1 equals max and with k=K equals average")
def _(max_consensus, avg_consensus, topk_consensus):
    scores = random_tensor(3, 6, 4, seed=21)
    expect_close(topk_consensus(scores.clone(), 1), scores.amax(dim=1), what="topk_consensus(scores, k=1)",
                 hint="with k=1, top-k consensus is max consensus")
    expect_close(topk_consensus(scores.clone(), 6), scores.mean(dim=1), what="topk_consensus(scores, k=K=6)",
                 hint="with k=K, top-k consensus is average consensus")


@POOLING_CONSENSUS.case("all three match the definitions on random scores, every k")
def _(max_consensus, avg_consensus, topk_consensus):
    scores = random_tensor(4, 5, 3, seed=22)
    expect_close(max_consensus(scores.clone()), scores.amax(dim=1), what="max_consensus on random (4, 5, 3) scores")
    expect_close(avg_consensus(scores.clone()), scores.mean(dim=1), what="avg_consensus on random (4, 5, 3) scores")
    for k in range(1, 6):
        with course():
            expected = consensus.topk_consensus(scores, k)
        expect_close(topk_consensus(scores.clone(), k), expected,
                     what=f"topk_consensus on random (4, 5, 3) scores, k={k}")


@POOLING_CONSENSUS.case("videos of a batch are not mixed")
def _(max_consensus, avg_consensus, topk_consensus):
    scores = torch.ones(2, 4, 3, dtype=torch.float64)
    scores[1] = 2.0  # video 0: every snippet score is 1; video 1: every snippet score is 2
    expected = torch.tensor([[1.0] * 3, [2.0] * 3], dtype=torch.float64)
    for name, function in (("max_consensus", max_consensus), ("avg_consensus", avg_consensus),
                           ("topk_consensus(scores, 2)", lambda s: topk_consensus(s, 2))):
        expect_close(function(scores.clone()), expected,
                     what=f"{name} on two videos whose snippet scores are all 1 and all 2",
                     hint="each video's K snippets must be combined with each other only: reduce over dim=1")


@POOLING_CONSENSUS.case("shuffling the snippets does not change the output")
def _(max_consensus, avg_consensus, topk_consensus):
    scores = random_tensor(2, 6, 3, seed=23)
    shuffled = scores[:, permutation(6, seed=23)]  # (B, K, C) with the K snippets in another order
    for name, function in (("max_consensus", max_consensus), ("avg_consensus", avg_consensus),
                           ("topk_consensus(scores, 3)", lambda s: topk_consensus(s, 3))):
        expect_close(function(shuffled.clone()), function(scores.clone()),
                     what=f"{name} of shuffled snippets against the original order",
                     hint="these three consensus functions treat the snippets as a set")


@POOLING_CONSENSUS.case("k outside [1, K] raises ValueError")
def _(max_consensus, avg_consensus, topk_consensus):
    scores = random_tensor(2, 4, 3, seed=24)
    for k in (0, -1, 5):
        try:
            topk_consensus(scores.clone(), k)
        except ValueError:
            continue
        except IndexError as error:
            fail(f"topk_consensus(scores, k={k}) with K=4 raised IndexError, not ValueError", expected="ValueError",
                 got=f"IndexError: {error}", hint="check 1 <= k <= K yourself and raise ValueError with a message")
        except RuntimeError as error:
            fail(f"topk_consensus(scores, k={k}) with K=4 raised RuntimeError, not ValueError",
                 expected="ValueError", got=f"RuntimeError: {error}",
                 hint="check 1 <= k <= K yourself and raise ValueError with a message")
        fail(f"topk_consensus(scores, k={k}) with K=4 returned a result", expected="ValueError",
             got="no exception", hint="k must be between 1 and K, the number of snippets (scores.shape[1])")


@POOLING_CONSENSUS.case("gradients flow back to the snippet scores, inputs are left unchanged")
def _(max_consensus, avg_consensus, topk_consensus):
    base = random_tensor(2, 4, 3, seed=25)
    for name, function in (("max_consensus", max_consensus), ("avg_consensus", avg_consensus),
                           ("topk_consensus(scores, 2)", lambda s: topk_consensus(s, 2))):
        scores = base.clone().requires_grad_(True)
        out = function(scores)
        out = plain(out) if isinstance(out, torch.Tensor) else out
        expect_true(isinstance(out, torch.Tensor) and out.requires_grad,
                    what=f"{name} must stay differentiable (TSN trains through it)",
                    hint="use torch operations only: no .detach(), .numpy() or .item()")
        out.sum().backward()
        expect_true(scores.grad is not None and not same(scores.grad, scores.grad * 0),
                    what=f"{name}: no gradient reached the snippet scores")
        expect_true(same(scores.detach(), base), what=f"{name} changed its input in place",
                    hint="don't sort or modify `scores` in place (sort_, -=, ...)")


EXERCISES = (POOLING_CONSENSUS,)
