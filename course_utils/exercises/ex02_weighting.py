"""Checkers of exercises 02.linear_weighting and 02.attention_weighting (learned segmental consensus).

The check cells call ``check("02.linear_weighting", LinearWeighting)`` and
``check("02.attention_weighting", AttentionWeighting)`` with the student's classes. The specification, shared with
``course_utils.consensus``:

* ``LinearWeighting(num_segments)`` has ``weight_logits``, an ``nn.Parameter`` of shape ``(K,)`` starting at zero;
  ``weights()`` returns ``omega = softmax(weight_logits)``; ``forward(scores)`` returns ``sum_k omega_k f^k``.
* ``AttentionWeighting(feature_dim)`` has ``w_att``, an ``nn.Parameter`` of shape ``(D,)`` starting at zero;
  ``attention_weights(features)`` returns ``softmax_k(w_att . R(T_k))`` of shape ``(B, K)``;
  ``forward(scores, features)`` returns ``sum_k A_k f^k``.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from course_utils.exercises.ex02_support import course_attention, course_linear, earlier_answers, video_scores
from course_utils.exercises.framework import (
    Exercise,
    close,
    course,
    expect_close,
    expect_equal,
    expect_true,
    fail,
    forbid,
    plain,
    same,
)
from course_utils.exercises.helpers import expect_tensor, permutation, random_tensor

LINEAR_WEIGHTING = Exercise(
    "02.linear_weighting", "Linear weighting consensus",
    forbidden=[forbid("must weight the snippets itself", "course_utils.consensus:LinearWeighting")],
    substitutes=earlier_answers("max_consensus", "avg_consensus", "topk_consensus"))
ATTENTION_WEIGHTING = Exercise(
    "02.attention_weighting", "Attention weighting consensus",
    forbidden=[forbid("must compute the attention weights itself", "course_utils.consensus:AttentionWeighting")],
    substitutes=earlier_answers("max_consensus", "avg_consensus", "topk_consensus", "LinearWeighting"))

LOGITS = [0.5, -1.0, 2.0, 0.0, 1.0]  # weight_logits used for K=5


def _parameter(module: nn.Module, name: str, shape: tuple[int, ...], role: str) -> nn.Parameter:
    value = getattr(module, name, None)
    if value is None:
        fail(f"the module has no attribute `{name}`", expected=f"self.{name} = nn.Parameter(...) of shape {shape}",
             got="missing", hint=f"store {role} as self.{name} in __init__")
    expect_true(isinstance(value, nn.Parameter), what=f"`{name}` must be an nn.Parameter, so that it is learned",
                expected="nn.Parameter", got=type(value).__name__,
                hint="wrap the tensor in nn.Parameter(...) so the optimizer sees it")
    expect_equal(tuple(plain(value).shape), shape, what=f"shape of `{name}`", hint=role)
    return value


def _set(parameter: nn.Parameter, values: Any) -> None:
    with torch.no_grad():
        parameter.copy_(torch.as_tensor(values, dtype=parameter.dtype))


def _linear_module(LinearWeighting: type, logits: Any = None) -> nn.Module:
    module = LinearWeighting(len(LOGITS))
    expect_true(isinstance(module, nn.Module), what="LinearWeighting must be an nn.Module",
                got=type(module).__name__)
    module = module.double()  # the checks compute in float64
    parameter = _parameter(module, "weight_logits", (len(LOGITS),),
                           "one weight per snippet position, shared by all classes: shape (K,)")
    if logits is not None:
        _set(parameter, logits)
    return module


@LINEAR_WEIGHTING.case("weight_logits: one learnable number per snippet position")
def _(LinearWeighting):
    module = _linear_module(LinearWeighting)
    total = sum(p.numel() for p in module.parameters())
    expect_equal(total, len(LOGITS), what="number of learnable numbers in LinearWeighting(5)",
                 hint="K weights only: no per-class weights, no bias")
    logits = plain(module.weight_logits)
    expect_true(same(logits, torch.zeros(len(LOGITS))), what="weight_logits must start at zero",
                got=logits, hint="torch.zeros(num_segments): the module starts as average")


@LINEAR_WEIGHTING.case("weights() is the softmax of weight_logits")
def _(LinearWeighting):
    module = _linear_module(LinearWeighting, LOGITS)
    weights = expect_tensor(module.weights(), shape=(len(LOGITS),), dtype=None, what="weights()")
    expected = torch.softmax(torch.tensor(LOGITS, dtype=torch.float64), dim=0)
    expect_close(weights, expected, what="weights() with weight_logits = " + str(LOGITS),
                 hint="omega = softmax(weight_logits) over the K positions: positive, summing to one")


@LINEAR_WEIGHTING.case("starts as average consensus")
def _(LinearWeighting):
    module = _linear_module(LinearWeighting)
    scores = random_tensor(3, 5, 4, seed=30)
    out = video_scores(module(scores.clone()), shape=(3, 4), what="LinearWeighting(5)")
    expect_close(out, scores.mean(dim=1), what="output of a fresh LinearWeighting(5)",
                 hint="with weight_logits all zero, softmax gives 1/K to every snippet")


@LINEAR_WEIGHTING.case("weighted sum of the snippets with normalised weights")
def _(LinearWeighting):
    module = _linear_module(LinearWeighting, LOGITS)
    scores = random_tensor(3, 5, 4, seed=31)
    out = video_scores(module(scores.clone()), shape=(3, 4),
                       what="LinearWeighting forward")
    with course():
        expected = course_linear(LOGITS)(scores).detach()
    expect_close(out, expected,
                 what=f"g_i = sum_k omega_k f_i^k with weight_logits = {LOGITS}",
                 hint="omega = softmax(weight_logits) (shape (K,)) multiplies snippet k of every class: "
                      "scores * omega[None, :, None], then sum over dim=1")


@LINEAR_WEIGHTING.case("identical snippets give that snippet back, for any weights")
def _(LinearWeighting):
    module = _linear_module(LinearWeighting, LOGITS)
    snippet = torch.tensor([[1.0, -2.0, 3.0, 0.5], [2.0, 2.0, 2.0, 2.0]], dtype=torch.float64)  # (B=2, C=4)
    scores = snippet[:, None, :].repeat(1, 5, 1)  # (B, C) -> (B, K=5, C): every snippet the same
    expect_close(module(scores.clone()), snippet,
                 what="LinearWeighting on videos whose 5 snippets are identical",
                 hint="the normalised weights sum to one, so a constant input is a fixed point; "
                      "raw weight_logits don't, and mixing videos breaks it too")


@LINEAR_WEIGHTING.case("depends on the order of the snippets, through the position of each weight")
def _(LinearWeighting):
    module = _linear_module(LinearWeighting, LOGITS)
    scores = random_tensor(2, 5, 3, seed=32)
    order = permutation(5, seed=32)
    shuffled = module(scores[:, order].clone())  # snippets shuffled, weights kept in place
    expect_true(not close(shuffled, module(scores.clone())),
                what="shuffling the snippets must change the output when the weights differ",
                hint="weight omega_k belongs to position k")
    moved = _linear_module(LinearWeighting, [LOGITS[i] for i in order.tolist()])
    expect_close(moved(scores[:, order].clone()), module(scores.clone()),
                 what="snippets and weight_logits shuffled together",
                 hint="omega_k must multiply snippet k (scores[:, k]), whatever the values")


@LINEAR_WEIGHTING.case("gradients reach weight_logits and the snippet scores")
def _(LinearWeighting):
    module = _linear_module(LinearWeighting, LOGITS)
    scores = random_tensor(2, 5, 3, seed=33).requires_grad_(True)
    out = module(scores)
    out = plain(out) if isinstance(out, torch.Tensor) else out
    expect_true(isinstance(out, torch.Tensor) and out.requires_grad, what="the output must stay differentiable",
                hint="no .detach(), .numpy() or .data in forward")
    target = random_tensor(2, 3, seed=34)
    (out * target).sum().backward()
    reference = scores.detach().clone().requires_grad_(True)
    with course():
        reference_module = course_linear(LOGITS)
        (reference_module(reference) * target).sum().backward()
    grad = module.weight_logits.grad
    expect_true(grad is not None, what="no gradient reached weight_logits",
                hint="compute the weights from self.weight_logits inside forward")
    expect_close(grad, reference_module.weight_logits.grad, what="gradient of weight_logits")
    expect_close(scores.grad, reference.grad, what="gradient of the snippet scores")


def _attention_module(AttentionWeighting: type, w_att: Any = None, feature_dim: int = 6) -> nn.Module:
    module = AttentionWeighting(feature_dim)
    expect_true(isinstance(module, nn.Module), what="AttentionWeighting must be an nn.Module",
                got=type(module).__name__)
    module = module.double()  # the checks compute in float64
    parameter = _parameter(module, "w_att", (feature_dim,), "w_att maps a feature R(T_k) of length D to e_k: (D,)")
    if w_att is not None:
        _set(parameter, w_att)
    return module


def _w_att(seed: int, feature_dim: int = 6) -> torch.Tensor:
    return random_tensor(feature_dim, seed=seed)


def _expect_weights(weights: Any, shape: tuple[int, int]) -> torch.Tensor:
    return expect_tensor(weights, shape=shape, dtype=None, what="attention_weights(features) for features (B, K, D)",
                         hint="one weight per video and snippet, (B, K): the same weight for every class")


@ATTENTION_WEIGHTING.case("w_att: one learnable vector of length D, starting at zero")
def _(AttentionWeighting):
    module = _attention_module(AttentionWeighting)
    total = sum(p.numel() for p in module.parameters())
    expect_equal(total, 6, what="number of learnable numbers in AttentionWeighting(feature_dim=6)",
                 hint="only w_att: e_k = w_att . R(T_k) has no bias (it would cancel in the softmax)")
    w_att = plain(module.w_att)
    expect_true(same(w_att, torch.zeros(6)), what="w_att must start at zero", got=w_att,
                hint="torch.zeros(feature_dim): the module starts as average consensus")


@ATTENTION_WEIGHTING.case("attention weights: shape (B, K), positive, sum to 1 over the snippets")
def _(AttentionWeighting):
    w_att = _w_att(40)
    module = _attention_module(AttentionWeighting, w_att)
    features = random_tensor(3, 5, 6, seed=41)
    weights = _expect_weights(module.attention_weights(features.clone()), (3, 5)).detach()
    expect_true((weights.numpy() > 0).all(), what="attention weights must be positive", got=weights)
    expect_close(weights.sum(dim=1), torch.ones(3, dtype=torch.float64),
                 what="sum of each video's attention weights over its K snippets",
                 hint="softmax over the snippet axis (dim=1 of (B, K)), not over the batch or the features")


@ATTENTION_WEIGHTING.case("attention weights are softmax_k(w_att . R(T_k))")
def _(AttentionWeighting):
    w_att = _w_att(42)
    module = _attention_module(AttentionWeighting, w_att)
    features = random_tensor(3, 5, 6, seed=43)
    with course():
        expected = course_attention(w_att).attention_weights(features).detach()
    weights = _expect_weights(module.attention_weights(features.clone()), (3, 5))
    expect_close(weights.detach(), expected, what="attention_weights on random features",
                 hint="e = features @ w_att gives (B, K); A = softmax(e, dim=1)")


@ATTENTION_WEIGHTING.case("output is the attention-weighted sum of the snippet scores")
def _(AttentionWeighting):
    w_att = _w_att(45)
    module = _attention_module(AttentionWeighting, w_att)
    features = random_tensor(3, 5, 6, seed=46)
    scores = random_tensor(3, 5, 4, seed=47)
    out = video_scores(module(scores.clone(), features.clone()), shape=(3, 4),
                       what="AttentionWeighting forward(scores, features)")
    with course():
        expected = course_attention(w_att)(scores, features).detach()
    expect_close(out, expected, what="g_i = sum_k A(T_k) f_i^k on random inputs",
                 hint="weights (B, K) times scores (B, K, C), summed over K: weights[:, :, None] * scores")


@ATTENTION_WEIGHTING.case("every class uses the same weights, computed from the features only")
def _(AttentionWeighting):
    module = _attention_module(AttentionWeighting, _w_att(48))
    features = random_tensor(2, 5, 6, seed=49)
    scores = random_tensor(2, 5, 3, seed=50)
    changed = scores.clone()
    changed[:, :, 2] = 10.0 * random_tensor(2, 5, seed=51)  # only the scores of class 2 change
    before = module(scores.clone(), features.clone())
    after = module(changed, features.clone())
    expect_close(after[:, :2], before[:, :2],
                 what="scores of classes 0 and 1 after changing only the snippet scores of class 2",
                 hint="A(T_k) comes from the features R(T_k), never from the class scores")
    other = random_tensor(2, 5, 3, seed=63)
    expect_close(module(scores + other, features.clone()),
                 module(scores.clone(), features.clone()) + module(other, features.clone()),
                 what="output for scores s1 + s2 against output(s1) + output(s2), same features",
                 hint="A(T_k) comes from the features R(T_k), never from the class scores, so the consensus is "
                      "linear in the scores")
    constant = torch.full((2, 5, 3), 3.0, dtype=torch.float64)
    expect_close(module(constant, features.clone()), torch.full((2, 3), 3.0, dtype=torch.float64),
                 what="output for snippet scores that are all 3",
                 hint="the weights of each video must sum to one over its snippets")


@ATTENTION_WEIGHTING.case("videos of a batch are not mixed")
def _(AttentionWeighting):
    module = _attention_module(AttentionWeighting, _w_att(52))
    features = random_tensor(3, 5, 6, seed=53)
    scores = random_tensor(3, 5, 4, seed=54)
    before = module(scores.clone(), features.clone())
    changed = features.clone()
    changed[2] = 5.0 * random_tensor(5, 6, seed=55)  # only the features of video 2 change
    after = module(scores.clone(), changed)
    expect_close(after[:2], before[:2],
                 what="outputs of videos 0 and 1 after changing only the features of video 2",
                 hint="the softmax runs over each video's own K snippets (dim=1), not over the batch")


@ATTENTION_WEIGHTING.case("shuffling the snippets permutes the weights and keeps the output")
def _(AttentionWeighting):
    module = _attention_module(AttentionWeighting, _w_att(56))
    features = random_tensor(2, 5, 6, seed=57)
    scores = random_tensor(2, 5, 3, seed=58)
    order = permutation(5, seed=58)
    weights = _expect_weights(module.attention_weights(features.clone()), (2, 5))
    shuffled_weights = module.attention_weights(features[:, order].clone())
    expect_close(shuffled_weights, weights.detach()[:, order],
                 what="attention weights of shuffled snippets",
                 hint="a snippet's weight depends on its own feature, not on its position")
    expect_close(module(scores[:, order].clone(), features[:, order].clone()),
                 module(scores.clone(), features.clone()),
                 what="output for shuffled snippets (scores and features shuffled together)")


@ATTENTION_WEIGHTING.case("gradients reach w_att, the features and the scores")
def _(AttentionWeighting):
    w_att = _w_att(59)
    module = _attention_module(AttentionWeighting, w_att)
    features = random_tensor(2, 5, 6, seed=60).requires_grad_(True)
    scores = random_tensor(2, 5, 3, seed=61).requires_grad_(True)
    out = module(scores, features)
    out = plain(out) if isinstance(out, torch.Tensor) else out
    expect_true(isinstance(out, torch.Tensor) and out.requires_grad, what="the output must stay differentiable",
                hint="no .detach(), .numpy() or .data in forward")
    target = random_tensor(2, 3, seed=62)
    (out * target).sum().backward()
    reference_features = features.detach().clone().requires_grad_(True)
    reference_scores = scores.detach().clone().requires_grad_(True)
    with course():
        reference_module = course_attention(w_att)
        (reference_module(reference_scores, reference_features) * target).sum().backward()
    grad = module.w_att.grad
    expect_true(grad is not None, what="no gradient reached w_att", hint="compute e_k from self.w_att in forward")
    expect_close(grad, reference_module.w_att.grad, what="gradient of w_att")
    expect_true(features.grad is not None, what="no gradient reached the features",
                hint="the backbone learns through the attention too: don't detach the features")
    expect_close(features.grad, reference_features.grad, what="gradient of the features")
    expect_close(scores.grad, reference_scores.grad, what="gradient of the snippet scores")


EXERCISES = (LINEAR_WEIGHTING, ATTENTION_WEIGHTING)
