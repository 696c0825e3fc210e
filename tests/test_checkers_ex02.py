"""The checkers of notebook 02 accept the reference solutions and reject deliberately wrong versions.

Wrong versions come from ../shared/student_mistakes.md (section B, exercise 2: mistakes 23-31) and more.
"""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from course_utils.consensus import AttentionWeighting, LinearWeighting, avg_consensus, max_consensus, topk_consensus
from course_utils.exercises.framework import CheckFailed, check


def passes(exercise_id, *answers, capsys=None):
    check(exercise_id, *answers)
    if capsys is not None:
        out = capsys.readouterr().out
        assert out.startswith(f"✔ {exercise_id}: ") and out.count("\n") == 1


def rejected(exercise_id, *answers, match=None):
    with pytest.raises(CheckFailed) as info:
        check(exercise_id, *answers)
    message = str(info.value)
    assert "not implemented yet" not in message
    if match is not None:
        assert match in message, message
    return message


# ---------------------------------------------------------------- 02.pooling_consensus

def topk_ok(scores, k):
    if not 1 <= k <= scores.shape[1]:
        raise ValueError("k must be between 1 and K")
    return scores.topk(k, dim=1).values.mean(dim=1)


def test_pooling_accepts_the_reference(capsys):
    passes("02.pooling_consensus", max_consensus, avg_consensus, topk_consensus, capsys=capsys)
    passes("02.pooling_consensus", lambda s: s.max(dim=1).values, lambda s: s.sum(1) / s.shape[1], topk_ok,
           capsys=capsys)


def test_pooling_stub_is_not_implemented():
    def stub(*args):
        raise NotImplementedError

    with pytest.raises(CheckFailed, match="not implemented yet"):
        check("02.pooling_consensus", stub, stub, stub)


POOLING_MISTAKES = {
    # 23: reducing the class axis
    "mean over classes": (max_consensus, lambda s: s.mean(-1), topk_consensus),
    "max over classes": (lambda s: s.amax(-1), avg_consensus, topk_consensus),
    # 23: keepdim shape (B, 1, C)
    "keepdim": (max_consensus, lambda s: s.mean(1, keepdim=True), topk_consensus),
    # 24: reshaping (B*K, C) as (K, B, C) mixes videos
    "(K, N, C) reshape": (max_consensus,
                          lambda s: s.reshape(-1, s.shape[-1]).reshape(s.shape[1], s.shape[0], -1).mean(0),
                          topk_consensus),
    # 25: the torch.max tuple, or the indices
    "torch.max tuple": (lambda s: torch.max(s, dim=1), avg_consensus, topk_consensus),
    "argmax": (lambda s: s.argmax(dim=1), avg_consensus, topk_consensus),
    "argmax as float": (lambda s: s.argmax(dim=1).to(s.dtype), avg_consensus, topk_consensus),
    "max over the whole video": (lambda s: s.amax(dim=(1, 2))[:, None].expand(-1, s.shape[2]), avg_consensus,
                                 topk_consensus),
    # 26: top-k over the wrong axis, or of averaged scores
    "topk over classes": (max_consensus, avg_consensus, lambda s, k: s.topk(k, dim=-1).values.mean(-1)),
    "topk of averaged scores": (max_consensus, avg_consensus,
                                lambda s, k: s[torch.arange(s.shape[0])[:, None],
                                               s.mean(-1).topk(k, dim=1).indices].mean(1)),
    "topk returns tuple": (max_consensus, avg_consensus, lambda s, k: s.topk(k, dim=1)),
    "topk sum not mean": (max_consensus, avg_consensus, lambda s, k: s.topk(k, dim=1).values.sum(1)),
    "topk smallest": (max_consensus, avg_consensus,
                      lambda s, k: s.topk(k, dim=1, largest=False).values.mean(1)),
    "topk first k snippets": (max_consensus, avg_consensus, lambda s, k: s[:, :k].mean(1)),
    "topk divides by K": (max_consensus, avg_consensus, lambda s, k: s.topk(k, dim=1).values.sum(1) / s.shape[1]),
    # k validation: missing (k=0 gives nan, k>K raises RuntimeError), or IndexError
    "no k validation": (max_consensus, avg_consensus, lambda s, k: s.topk(k, dim=1).values.mean(1)),
    "k upper bound only": (max_consensus, avg_consensus,
                           lambda s, k: s.topk(k, dim=1).values.mean(1) if k <= s.shape[1]
                           else (_ for _ in ()).throw(ValueError("k too large"))),
    "k validated with IndexError": (max_consensus, avg_consensus,
                                    lambda s, k: s.topk(k, dim=1).values.mean(1) if 1 <= k <= s.shape[1]
                                    else (_ for _ in ()).throw(IndexError("bad k"))),
    # others
    "max over batch": (lambda s: s.amax(0), avg_consensus, topk_consensus),
    "median instead of mean": (max_consensus, lambda s: s.median(dim=1).values, topk_consensus),
    "detached": (lambda s: s.detach().amax(1), avg_consensus, topk_consensus),
    "float32 output": (max_consensus, lambda s: s.float().mean(1), topk_consensus),
    "softmax before averaging": (max_consensus, lambda s: s.softmax(-1).mean(1), topk_consensus),
    "first snippet only": (max_consensus, lambda s: s[:, 0], topk_consensus),
}


@pytest.mark.parametrize("name", sorted(POOLING_MISTAKES))
def test_pooling_rejects(name):
    rejected("02.pooling_consensus", *POOLING_MISTAKES[name])


def test_pooling_sorting_in_place_is_rejected():
    def topk_in_place(s, k):
        if not 1 <= k <= s.shape[1]:
            raise ValueError("k")
        s.data = s.data.sort(dim=1, descending=True).values
        return s[:, :k].mean(1)

    rejected("02.pooling_consensus", max_consensus, avg_consensus, topk_in_place, match="in place")


def test_pooling_messages_are_helpful():
    message = rejected("02.pooling_consensus", lambda s: torch.max(s, dim=1), avg_consensus, topk_consensus)
    assert ".values" in message
    message = rejected("02.pooling_consensus", max_consensus, lambda s: s.mean(-1), topk_consensus)
    assert "dim=1" in message
    message = rejected("02.pooling_consensus", *POOLING_MISTAKES["no k validation"])
    assert "ValueError" in message


# ---------------------------------------------------------------- 02.linear_weighting

class LinearOk(nn.Module):
    def __init__(self, num_segments):
        super().__init__()
        self.weight_logits = nn.Parameter(torch.zeros(num_segments))

    def weights(self):
        return torch.softmax(self.weight_logits, dim=0)

    def forward(self, scores):
        return (scores * self.weights()[None, :, None]).sum(dim=1)


class LinearRaw(LinearOk):  # 28: not normalised
    def weights(self):
        return self.weight_logits

    def forward(self, scores):
        return (scores * self.weight_logits[None, :, None]).sum(dim=1)


class LinearRawOnlyForward(LinearOk):  # weights() right, forward uses the raw logits
    def forward(self, scores):
        return (scores * self.weight_logits[None, :, None]).sum(dim=1) + scores.mean(1)


class LinearPerClass(nn.Module):  # 28: one weight per class
    def __init__(self, num_segments, num_classes=4):
        super().__init__()
        self.weight_logits = nn.Parameter(torch.zeros(num_classes))

    def weights(self):
        return torch.softmax(self.weight_logits, dim=0)

    def forward(self, scores):
        return scores.mean(1) * self.weights()[None, :] * scores.shape[2]


class LinearPerPositionAndClass(LinearOk):  # K x C weights
    def __init__(self, num_segments):
        super().__init__(num_segments)
        self.extra = nn.Parameter(torch.zeros(num_segments, 4))


class LinearWithBias(LinearOk):
    def __init__(self, num_segments):
        super().__init__(num_segments)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, scores):
        return super().forward(scores) + self.bias


class LinearBuffer(nn.Module):  # weights not learnable
    def __init__(self, num_segments):
        super().__init__()
        self.register_buffer("weight_logits", torch.zeros(num_segments))

    def weights(self):
        return torch.softmax(self.weight_logits, dim=0)

    def forward(self, scores):
        return (scores * self.weights()[None, :, None]).sum(dim=1)


class LinearSoftmaxOverClasses(LinearOk):  # softmax over the wrong axis: the scores' classes
    def forward(self, scores):
        return (torch.softmax(scores, dim=-1) * self.weights()[None, :, None]).sum(dim=1)


class LinearReversed(LinearOk):  # omega_k applied to snippet K-1-k
    def forward(self, scores):
        return (scores * self.weights().flip(0)[None, :, None]).sum(dim=1)


class LinearMixesVideos(LinearOk):  # (K, B, C) reshape
    def forward(self, scores):
        b, k, c = scores.shape
        mixed = scores.reshape(b * k, c).reshape(k, b, c).transpose(0, 1)
        return (mixed * self.weights()[None, :, None]).sum(dim=1)


class LinearRandomInit(LinearOk):
    def __init__(self, num_segments):
        super().__init__(num_segments)
        with torch.no_grad():
            self.weight_logits.normal_()


class LinearDetached(LinearOk):
    def forward(self, scores):
        return (scores * self.weights().detach()[None, :, None]).sum(dim=1)


class LinearSigmoid(LinearOk):  # another normalisation: not the specification
    def weights(self):
        return torch.sigmoid(self.weight_logits)


class LinearMean(LinearOk):  # weighted mean divided by K again
    def forward(self, scores):
        return (scores * self.weights()[None, :, None]).mean(dim=1)


def test_linear_accepts_the_reference(capsys):
    passes("02.linear_weighting", LinearWeighting, capsys=capsys)
    passes("02.linear_weighting", LinearOk, capsys=capsys)


@pytest.mark.parametrize("wrong", [LinearRaw, LinearRawOnlyForward, LinearPerClass, LinearPerPositionAndClass,
                                   LinearWithBias, LinearBuffer, LinearSoftmaxOverClasses, LinearReversed,
                                   LinearMixesVideos, LinearRandomInit, LinearDetached, LinearSigmoid, LinearMean],
                         ids=lambda c: c.__name__)
def test_linear_rejects(wrong):
    rejected("02.linear_weighting", wrong)


def test_linear_messages():
    assert "shape of `weight_logits`" in rejected("02.linear_weighting", LinearPerClass)
    assert "fixed point" in rejected("02.linear_weighting", LinearRaw)
    assert "nn.Parameter" in rejected("02.linear_weighting", LinearBuffer)


# ---------------------------------------------------------------- 02.attention_weighting

class AttentionOk(nn.Module):
    def __init__(self, feature_dim):
        super().__init__()
        self.w_att = nn.Parameter(torch.zeros(feature_dim))

    def attention_weights(self, features):
        return torch.softmax(features @ self.w_att, dim=1)

    def forward(self, scores, features):
        return (self.attention_weights(features)[:, :, None] * scores).sum(dim=1)


class AttentionOverBatch(AttentionOk):  # 29: softmax over the batch
    def attention_weights(self, features):
        return torch.softmax(features @ self.w_att, dim=0)


class AttentionOverAll(AttentionOk):  # softmax over batch and snippets together
    def attention_weights(self, features):
        e = features @ self.w_att
        return torch.softmax(e.flatten(), dim=0).view_as(e)


class AttentionOverClasses(AttentionOk):  # 29: per-class weights, softmax over classes
    def forward(self, scores, features):
        e = (features @ self.w_att)[:, :, None] + scores
        return (torch.softmax(e, dim=-1) * scores).sum(dim=1)


class AttentionFromScores(AttentionOk):  # weights depend on the class scores
    def forward(self, scores, features):
        weights = torch.softmax((features @ self.w_att)[:, :, None] + scores, dim=1)  # (B, K, C)
        return (weights * scores).sum(dim=1)


class AttentionNoSoftmax(AttentionOk):
    def attention_weights(self, features):
        return features @ self.w_att


class AttentionSoftmaxFeaturesFirst(AttentionOk):  # softmax over D before the dot product
    def attention_weights(self, features):
        return torch.softmax(features, dim=-1) @ self.w_att


class AttentionSigmoid(AttentionOk):
    def attention_weights(self, features):
        return torch.sigmoid(features @ self.w_att)


class AttentionLinearLayer(nn.Module):  # nn.Linear with bias instead of the w_att vector
    def __init__(self, feature_dim):
        super().__init__()
        self.w_att = nn.Linear(feature_dim, 1)

    def attention_weights(self, features):
        return torch.softmax(self.w_att(features).squeeze(-1), dim=1)

    def forward(self, scores, features):
        return (self.attention_weights(features)[:, :, None] * scores).sum(dim=1)


class AttentionWithBias(AttentionOk):
    def __init__(self, feature_dim):
        super().__init__(feature_dim)
        self.bias = nn.Parameter(torch.zeros(1))


class AttentionDetachedFeatures(AttentionOk):
    def attention_weights(self, features):
        return torch.softmax(features.detach() @ self.w_att, dim=1)


class AttentionRandomInit(AttentionOk):
    def __init__(self, feature_dim):
        super().__init__(feature_dim)
        with torch.no_grad():
            self.w_att.normal_()


class AttentionForwardIgnoresWeights(AttentionOk):  # forward averages, weights only for plotting
    def forward(self, scores, features):
        return scores.mean(dim=1)


class AttentionPositional(AttentionOk):  # weights by position, like linear weighting
    def __init__(self, feature_dim):
        super().__init__(feature_dim)

    def attention_weights(self, features):
        e = features @ self.w_att + torch.arange(features.shape[1], dtype=features.dtype)
        return torch.softmax(e, dim=1)


def test_attention_accepts_the_reference(capsys):
    passes("02.attention_weighting", AttentionWeighting, capsys=capsys)
    passes("02.attention_weighting", AttentionOk, capsys=capsys)


@pytest.mark.parametrize("wrong", [AttentionOverBatch, AttentionOverAll, AttentionOverClasses, AttentionFromScores,
                                   AttentionNoSoftmax, AttentionSoftmaxFeaturesFirst, AttentionSigmoid,
                                   AttentionLinearLayer, AttentionWithBias, AttentionDetachedFeatures,
                                   AttentionRandomInit, AttentionForwardIgnoresWeights, AttentionPositional],
                         ids=lambda c: c.__name__)
def test_attention_rejects(wrong):
    rejected("02.attention_weighting", wrong)


def test_attention_messages():
    assert "sum of each video's attention weights" in rejected("02.attention_weighting", AttentionOverBatch)
    assert "never from the class scores" in rejected("02.attention_weighting", AttentionFromScores)


# ---------------------------------------------------------------- 02.tsn_loss

def loss_ok(logits, labels):
    m = logits.max(dim=1, keepdim=True).values
    log_normaliser = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(dim=1))
    target = logits.gather(1, labels[:, None]).squeeze(1)
    return -(target - log_normaliser).mean()


def loss_ok_onehot(logits, labels):
    y = torch.zeros_like(logits)
    y[torch.arange(len(labels)), labels] = 1.0
    m = logits.amax(dim=1, keepdim=True)
    lse = m + torch.log(torch.sum(torch.exp(logits - m), dim=1, keepdim=True))
    return -(y * (logits - lse)).sum(dim=1).mean()


def loss_library(logits, labels):
    return F.cross_entropy(logits, labels)


def loss_logsumexp(logits, labels):
    return (torch.logsumexp(logits, dim=1) - logits[torch.arange(len(labels)), labels]).mean()


def loss_log_softmax(logits, labels):
    return -logits.log_softmax(dim=1)[torch.arange(len(labels)), labels].mean()


def loss_double_softmax(logits, labels):  # 31
    p = torch.softmax(logits, dim=1)
    m = p.max(dim=1, keepdim=True).values
    lse = m.squeeze(1) + torch.log(torch.exp(p - m).sum(dim=1))
    return -(p[torch.arange(len(labels)), labels] - lse).mean()


def loss_index_mix(logits, labels):  # 31: the lecture's formula read literally: sum_i exp(g_j), j the target
    target = logits[torch.arange(len(labels)), labels]
    return -(target - torch.log(logits.shape[1] * torch.exp(target))).mean()


def loss_unstable(logits, labels):
    target = logits[torch.arange(len(labels)), labels]
    return -(target - torch.log(torch.exp(logits).sum(dim=1))).mean()


def loss_log_of_softmax(logits, labels):  # stable softmax, but log(0) for a far-away target
    m = logits.max(dim=1, keepdim=True).values
    p = torch.exp(logits - m) / torch.exp(logits - m).sum(dim=1, keepdim=True)
    return -torch.log(p[torch.arange(len(labels)), labels]).mean()


def loss_forgets_to_add_max(logits, labels):
    m = logits.max(dim=1, keepdim=True).values
    target = logits[torch.arange(len(labels)), labels]
    return -(target - torch.log(torch.exp(logits - m).sum(dim=1))).mean()


def loss_sum(logits, labels):
    return loss_ok(logits, labels) * len(labels)


def loss_no_reduction(logits, labels):
    m = logits.max(dim=1, keepdim=True).values
    lse = m.squeeze(1) + torch.log(torch.exp(logits - m).sum(dim=1))
    return -(logits[torch.arange(len(labels)), labels] - lse)


def loss_lse_over_batch(logits, labels):  # normaliser summed over the batch axis
    m = logits.max(dim=0, keepdim=True).values
    lse = m + torch.log(torch.exp(logits - m).sum(dim=0, keepdim=True))
    return -(logits - lse)[torch.arange(len(labels)), labels].mean()


def loss_global_max(logits, labels):  # one max for the whole batch: overflow-safe, underflows
    m = logits.max()
    lse = m + torch.log(torch.exp(logits - m).sum(dim=1))
    return -(logits[torch.arange(len(labels)), labels] - lse).mean()


def loss_in_place(logits, labels):
    m = logits.max(dim=1, keepdim=True).values
    logits -= m
    lse = torch.log(torch.exp(logits).sum(dim=1))
    return -(logits[torch.arange(len(labels)), labels] - lse).mean()


def loss_item(logits, labels):
    return torch.tensor(float(loss_ok(logits, labels).detach()), dtype=logits.dtype)


def loss_wrong_sign(logits, labels):
    return -loss_ok(logits, labels)


def loss_first_class(logits, labels):  # ignores the labels
    return loss_ok(logits, torch.zeros_like(labels))


def test_loss_accepts_the_reference(capsys):
    passes("02.tsn_loss", loss_ok, capsys=capsys)
    passes("02.tsn_loss", loss_ok_onehot, capsys=capsys)


@pytest.mark.parametrize("wrong", [loss_library, loss_logsumexp, loss_log_softmax, loss_double_softmax,
                                   loss_index_mix, loss_unstable, loss_log_of_softmax, loss_forgets_to_add_max,
                                   loss_sum, loss_no_reduction, loss_lse_over_batch, loss_global_max, loss_in_place,
                                   loss_item, loss_wrong_sign, loss_first_class], ids=lambda f: f.__name__)
def test_loss_rejects(wrong):
    rejected("02.tsn_loss", wrong)


def test_loss_messages():
    assert "cross_entropy" in rejected("02.tsn_loss", loss_library)
    assert "not finite" in rejected("02.tsn_loss", loss_unstable)
    assert "mixes the indices" in rejected("02.tsn_loss", loss_index_mix)
    assert "softmax" in rejected("02.tsn_loss", loss_double_softmax)


def test_loss_library_answer_is_rejected_only_by_the_source_rule():
    message = rejected("02.tsn_loss", loss_library)
    assert "7/8 checks passed" in message  # every numeric case passed: only the source rule rejects it
    assert math.isfinite(float(loss_library(torch.tensor([[1000.0, 0.0]]), torch.tensor([0]))))
