"""Properties and fixed vectors of course_utils.consensus (float64 throughout)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.consensus import (
    AttentionWeighting,
    AvgConsensus,
    LinearWeighting,
    MaxConsensus,
    TopKConsensus,
    avg_consensus,
    max_consensus,
    topk_consensus,
)


def scores_of(batch: int, num_segments: int, num_classes: int, seed: int) -> torch.Tensor:
    return torch.randn(batch, num_segments, num_classes, generator=torch.Generator().manual_seed(seed),
                       dtype=torch.float64)


def linear_with(logits: list[float]) -> LinearWeighting:
    module = LinearWeighting(len(logits)).double()
    with torch.no_grad():
        module.weight_logits.copy_(torch.tensor(logits, dtype=torch.float64))
    return module


def attention_with(w_att: torch.Tensor) -> AttentionWeighting:
    module = AttentionWeighting(w_att.numel()).double()
    with torch.no_grad():
        module.w_att.copy_(w_att)
    return module


HAND = torch.tensor([[[1.0, 5.0], [3.0, 0.0], [2.0, 4.0]]], dtype=torch.float64)  # (B=1, K=3, C=2)


def test_fixed_vectors():
    assert torch.equal(max_consensus(HAND), torch.tensor([[3.0, 5.0]], dtype=torch.float64))
    assert torch.equal(avg_consensus(HAND), torch.tensor([[2.0, 3.0]], dtype=torch.float64))
    assert torch.equal(topk_consensus(HAND, 2), torch.tensor([[2.5, 4.5]], dtype=torch.float64))
    assert torch.equal(topk_consensus(HAND, 1), max_consensus(HAND))


shapes = st.tuples(st.integers(1, 4), st.integers(1, 6), st.integers(1, 5), st.integers(0, 10_000))


@settings(max_examples=30, deadline=None)
@given(shapes)
def test_shapes_dtype_and_topk_limits(shape):
    batch, num_segments, num_classes, seed = shape
    scores = scores_of(batch, num_segments, num_classes, seed)
    for function in (max_consensus, avg_consensus, lambda s: topk_consensus(s, 1)):
        out = function(scores)
        assert out.shape == (batch, num_classes) and out.dtype == torch.float64
    torch.testing.assert_close(topk_consensus(scores, 1), scores.amax(dim=1), rtol=0, atol=0)
    torch.testing.assert_close(topk_consensus(scores, num_segments), scores.mean(dim=1))
    for k in range(1, num_segments + 1):
        reference = scores.sort(dim=1, descending=True).values[:, :k].mean(dim=1)
        torch.testing.assert_close(topk_consensus(scores, k), reference)


@settings(max_examples=20, deadline=None)
@given(shapes)
def test_four_functions_are_invariant_to_the_order_of_the_snippets(shape):
    batch, num_segments, num_classes, seed = shape
    scores = scores_of(batch, num_segments, num_classes, seed)
    features = scores_of(batch, num_segments, 3, seed + 1)
    order = torch.randperm(num_segments, generator=torch.Generator().manual_seed(seed))
    attention = attention_with(torch.tensor([0.7, -1.2, 0.4], dtype=torch.float64))
    for function in (max_consensus, avg_consensus, lambda s: topk_consensus(s, max(1, num_segments // 2))):
        torch.testing.assert_close(function(scores[:, order]), function(scores))
    torch.testing.assert_close(attention(scores[:, order], features[:, order]), attention(scores, features))
    weights = attention.attention_weights(features)
    torch.testing.assert_close(attention.attention_weights(features[:, order]), weights[:, order])


def test_linear_weighting_depends_on_the_order():
    module = linear_with([0.5, -1.0, 2.0, 0.0])
    scores = scores_of(3, 4, 5, 1)
    reversed_scores = scores.flip(1)
    assert not torch.allclose(module(reversed_scores), module(scores))
    # moving the weights with the snippets gives the same output back
    torch.testing.assert_close(linear_with([0.0, 2.0, -1.0, 0.5])(reversed_scores), module(scores))


def test_linear_weighting_values_normalisation_and_start():
    scores = scores_of(2, 4, 3, 2)
    fresh = LinearWeighting(4).double()
    assert fresh.weight_logits.shape == (4,) and sum(p.numel() for p in fresh.parameters()) == 4
    torch.testing.assert_close(fresh(scores), scores.mean(dim=1))
    module = linear_with([0.5, -1.0, 2.0, 0.0])
    omega = torch.softmax(torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=torch.float64), dim=0)
    torch.testing.assert_close(module.weights(), omega)
    torch.testing.assert_close(module.weights().sum(), torch.tensor(1.0, dtype=torch.float64))
    torch.testing.assert_close(module(scores), (omega[None, :, None] * scores).sum(dim=1))
    # identical snippets are a fixed point of a normalised weighting
    snippet = torch.tensor([[1.0, -2.0, 3.0]], dtype=torch.float64)
    torch.testing.assert_close(module(snippet[:, None].repeat(1, 4, 1)), snippet)
    # a hand-computed value: two snippets, logits [0, log 3] -> omega = [1/4, 3/4]
    two = linear_with([0.0, float(torch.log(torch.tensor(3.0, dtype=torch.float64)))])
    out = two(torch.tensor([[[4.0], [8.0]]], dtype=torch.float64))
    torch.testing.assert_close(out, torch.tensor([[7.0]], dtype=torch.float64))


def test_attention_weights_sum_to_one_and_are_shared_by_every_class():
    features = scores_of(3, 5, 4, 3)
    scores = scores_of(3, 5, 6, 4)
    w_att = torch.tensor([0.3, -0.8, 1.1, 0.2], dtype=torch.float64)
    module = attention_with(w_att)
    weights = module.attention_weights(features)
    assert weights.shape == (3, 5)
    torch.testing.assert_close(weights.sum(dim=1), torch.ones(3, dtype=torch.float64))
    torch.testing.assert_close(weights, torch.softmax(features @ w_att, dim=1))
    out = module(scores, features)
    for c in range(6):  # each class is weighted by the same (B, K) weights
        torch.testing.assert_close(out[:, c], (weights * scores[:, :, c]).sum(dim=1))
    fresh = AttentionWeighting(4).double()
    torch.testing.assert_close(fresh(scores, features), scores.mean(dim=1))
    assert sum(p.numel() for p in fresh.parameters()) == 4


def test_attention_hand_computed():
    module = attention_with(torch.tensor([1.0], dtype=torch.float64))
    log3 = float(torch.log(torch.tensor(3.0, dtype=torch.float64)))
    features = torch.tensor([[[0.0], [log3]]], dtype=torch.float64)  # e = [0, log 3] -> A = [1/4, 3/4]
    scores = torch.tensor([[[4.0, 0.0], [8.0, 4.0]]], dtype=torch.float64)
    torch.testing.assert_close(module(scores, features), torch.tensor([[7.0, 3.0]], dtype=torch.float64))


def test_modules_match_the_functions():
    scores = scores_of(2, 4, 3, 5)
    torch.testing.assert_close(MaxConsensus()(scores), max_consensus(scores))
    torch.testing.assert_close(AvgConsensus()(scores), avg_consensus(scores))
    torch.testing.assert_close(TopKConsensus(3)(scores), topk_consensus(scores, 3))
    assert "k=3" in repr(TopKConsensus(3))


def test_gradients_flow():
    scores = scores_of(2, 4, 3, 6).requires_grad_(True)
    features = scores_of(2, 4, 5, 7).requires_grad_(True)
    linear = linear_with([0.1, 0.2, 0.3, 0.4])
    attention = attention_with(torch.tensor([0.5, -0.5, 0.1, 0.2, 0.3], dtype=torch.float64))
    (linear(scores).pow(2).sum() + attention(scores, features).pow(2).sum()).backward()
    for grad in (scores.grad, features.grad, linear.weight_logits.grad, attention.w_att.grad):
        assert grad is not None and bool((grad != 0).any())


@pytest.mark.parametrize("k", [0, -1, 5])
def test_topk_rejects_k_outside_range(k):
    with pytest.raises(ValueError, match=r"k must be an int in \[1, 4\] \(K, the number of snippets\), got"):
        topk_consensus(scores_of(1, 4, 2, 0), k)


@pytest.mark.parametrize("k", [1.0, True, "2"])
def test_topk_rejects_non_int_k(k):
    with pytest.raises(TypeError, match="k must be an int"):
        topk_consensus(scores_of(1, 4, 2, 0), k)


@pytest.mark.parametrize("bad, error, match", [
    ([[1.0]], TypeError, "torch.Tensor"),
    (torch.zeros(2, 3), ValueError, r"\(B, K, C\)"),
    (torch.zeros(2, 3, 4, 5), ValueError, r"\(B, K, C\)"),
    (torch.zeros(2, 3, 4, dtype=torch.int64), TypeError, "floating-point"),
    (torch.zeros(2, 0, 4), ValueError, "at least one snippet"),
])
def test_bad_scores_are_rejected(bad, error, match):
    for function in (max_consensus, avg_consensus, lambda s: topk_consensus(s, 1)):
        with pytest.raises(error, match=match):
            function(bad)


def test_bad_module_arguments():
    with pytest.raises(ValueError, match="num_segments"):
        LinearWeighting(0)
    with pytest.raises(TypeError, match="num_segments"):
        LinearWeighting(2.0)
    with pytest.raises(ValueError, match="feature_dim"):
        AttentionWeighting(0)
    with pytest.raises(ValueError, match="num_segments=4"):
        LinearWeighting(4)(torch.zeros(1, 3, 2))
    with pytest.raises(ValueError, match="feature_dim=4"):
        AttentionWeighting(4)(torch.zeros(1, 3, 2), torch.zeros(1, 3, 5))
    with pytest.raises(ValueError, match="must agree"):
        AttentionWeighting(4)(torch.zeros(1, 3, 2), torch.zeros(1, 2, 4))
    with pytest.raises(ValueError, match="k must be an int >= 1, got 0"):
        TopKConsensus(0)
