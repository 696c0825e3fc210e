"""The checkers of notebook 02 accept the reference solutions and reject deliberately wrong versions.

Wrong versions are the typical consensus and loss mistakes of students, and more.
"""

from __future__ import annotations

import importlib
import math
import warnings

import pytest
import torch
import torch.nn.functional as F
from attack_kit import delegation_rejected, gains_nothing, lying_tensor, noisy, notebook, passed_count
from attack_kit import passes as passes_alone
from torch import nn

import course_utils
from course_utils import consensus as ref  # the notebook's own alias
from course_utils.exercises import ex02_support
from course_utils.exercises.framework import CheckFailed, check


def max_consensus(scores):  # student-style answers: the correct parts of the mixed wrong answers below
    return scores.max(dim=1).values


def avg_consensus(scores):
    return scores.mean(dim=1)


def topk_consensus(scores, k):
    if not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be between 1 and K={scores.shape[1]}")
    return scores.topk(k, dim=1).values.mean(dim=1)


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


def test_pooling_accepts_the_solution(capsys):
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


def test_linear_accepts_the_solution(capsys):
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


def test_attention_accepts_the_solution(capsys):
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


def test_loss_library_answer_fails_every_case():
    message = rejected("02.tsn_loss", loss_library)
    assert "0/8 checks passed" in message and "it called torch.nn.functional.cross_entropy" in message
    assert math.isfinite(float(loss_library(torch.tensor([[1000.0, 0.0]]), torch.tensor([0]))))


# ---------------------------------------------------------------- delegation, lying objects, honest variants
POOLING_DELEGATIONS = {
    "the notebook's `consensus as ref` alias": (ref.max_consensus, ref.avg_consensus, ref.topk_consensus),
    "lambdas around the reference": (lambda s: ref.max_consensus(s), lambda s: ref.avg_consensus(s),
                                     lambda s, k: ref.topk_consensus(s, k)),
    "the package root's lazy export": (lambda s: course_utils.max_consensus(s), lambda s: course_utils.avg_consensus(s),
                                       lambda s, k: course_utils.topk_consensus(s, k)),
    "the consensus modules": (lambda s: ref.MaxConsensus()(s), lambda s: ref.AvgConsensus()(s),
                              lambda s, k: ref.TopKConsensus(k)(s)),
    "getattr with computed names": tuple(
        lambda *a, _name=name: getattr(ref, _name + "_consensus")(*a) for name in ("max", "avg", "topk")),
    "importlib with a computed name": tuple(
        lambda *a, _name=name: getattr(importlib.import_module("course_utils." + "consensus"), _name)(*a)
        for name in ("max_consensus", "avg_consensus", "topk_consensus")),
    "the checker's table of references": tuple(
        lambda *a, _name=name: ex02_support.EARLIER_ANSWERS[_name](*a)
        for name in ("max_consensus", "avg_consensus", "topk_consensus")),
}


@pytest.mark.parametrize("name", sorted(POOLING_DELEGATIONS))
def test_pooling_delegation_scores_zero(name):
    delegation_rejected("02.pooling_consensus", *POOLING_DELEGATIONS[name], called="course_utils.consensus.")


class LinearSubclass(ref.LinearWeighting):  # the course's class under the student's name
    pass


class LinearDelegatingForward(LinearOk):
    def forward(self, scores):
        return ref.LinearWeighting.forward(self, scores)


class LinearInnerReference(nn.Module):
    def __init__(self, num_segments):
        super().__init__()
        self.inner = ref.LinearWeighting(num_segments)
        self.weight_logits = self.inner.weight_logits

    def weights(self):
        return self.inner.weights()

    def forward(self, scores):
        return self.inner(scores)


class AttentionSubclass(ref.AttentionWeighting):
    pass


class AttentionDelegatingWeights(AttentionOk):
    def attention_weights(self, features):
        return ref.AttentionWeighting.attention_weights(self, features)


@pytest.mark.parametrize("answer", [ref.LinearWeighting, LinearSubclass, LinearInnerReference],
                         ids=lambda c: c.__name__)
def test_linear_delegation_scores_zero(answer):
    delegation_rejected("02.linear_weighting", answer, called="course_utils.consensus.LinearWeighting")


def test_linear_forward_delegation_fails_every_case_that_runs_it():
    message = rejected("02.linear_weighting", LinearDelegatingForward)
    assert "2/7 checks passed" in message  # only the two cases about weight_logits never call forward
    assert message.count("it called course_utils.consensus.LinearWeighting.forward") == 5


@pytest.mark.parametrize("answer", [ref.AttentionWeighting, AttentionSubclass, AttentionDelegatingWeights],
                         ids=lambda c: c.__name__)
def test_attention_delegation_scores_zero(answer):
    message = rejected("02.attention_weighting", answer,
                       match="02.attention_weighting must compute the attention weights itself; it called "
                             "course_utils.consensus.AttentionWeighting.")
    if answer is not AttentionDelegatingWeights:  # its forward is its own until it asks for the weights
        assert " 0/" in message.splitlines()[0]


from torch import logsumexp as imported_logsumexp  # noqa: E402  (a name bound in the student's globals)

LOSS_DELEGATIONS = {
    "F.cross_entropy": (loss_library, "torch.nn.functional.cross_entropy"),
    "nn.CrossEntropyLoss": (lambda g, y: nn.CrossEntropyLoss()(g, y), "CrossEntropyLoss"),
    "F.nll_loss of F.log_softmax": (lambda g, y: F.nll_loss(F.log_softmax(g, dim=1), y), "log_softmax"),
    "torch.logsumexp": (loss_logsumexp, "torch.logsumexp"),
    "Tensor.logsumexp": (lambda g, y: (g.logsumexp(1) - g.gather(1, y[:, None]).squeeze(1)).mean(), "logsumexp"),
    "torch.special.logsumexp": (lambda g, y: (torch.special.logsumexp(g, 1) - g.gather(1, y[:, None])[:, 0]).mean(),
                                "logsumexp"),
    "a name imported from torch": (lambda g, y: (imported_logsumexp(g, 1) - g.gather(1, y[:, None])[:, 0]).mean(),
                                   "logsumexp"),
    "a default argument": (lambda g, y, _lse=torch.logsumexp: (_lse(g, 1) - g.gather(1, y[:, None])[:, 0]).mean(),
                           "logsumexp"),
    "getattr with a computed name": (lambda g, y: (getattr(torch, "logsum" + "exp")(g, 1)
                                                   - g.gather(1, y[:, None])[:, 0]).mean(), "logsumexp"),
    "the C function table": (lambda g, y: (torch._C._VariableFunctions.logsumexp(g, 1)
                                           - g.gather(1, y[:, None])[:, 0]).mean(), "logsumexp"),
    "torch.ops.aten": (lambda g, y: (torch.ops.aten.logsumexp.default(g, [1])
                                     - g.gather(1, y[:, None])[:, 0]).mean(), "torch.ops.aten.logsumexp"),
    "Tensor.log_softmax": (loss_log_softmax, "log_softmax"),
    "a distribution's log_prob": (lambda g, y: -torch.distributions.Categorical(logits=g).log_prob(y).mean(),
                                  "logsumexp"),
}


@pytest.mark.parametrize("name", sorted(LOSS_DELEGATIONS))
def test_loss_delegation_scores_zero(name):
    answer, called = LOSS_DELEGATIONS[name]
    message = delegation_rejected("02.tsn_loss", answer, called=called)
    assert "must compute the loss from the formula" in message


def test_lying_objects_gain_nothing():
    zeros = (lambda s: torch.zeros_like(s[:, 0]), lambda s: torch.zeros_like(s[:, 0]),
             lambda s, k: torch.zeros_like(s[:, 0]) if 1 <= k <= s.shape[1] else topk_consensus(s, k))
    liars = tuple(lambda *a, _f=f: lying_tensor(_f(*a)) for f in zeros)
    liar_count = passed_count(rejected("02.pooling_consensus", *liars))
    assert liar_count == passed_count(rejected("02.pooling_consensus", *zeros))

    class LinearLiar(LinearOk):
        def forward(self, scores):
            return lying_tensor(scores[:, 0])

    gains_nothing("02.linear_weighting", LinearLiar,
                  type("LinearZeros", (LinearOk,), {"forward": lambda self, s: torch.zeros_like(s[:, 0])}))
    gains_nothing("02.tsn_loss", lambda g, y: lying_tensor(g.sum()), lambda g, y: torch.zeros_like(g.sum()))


class LinearNoisy(LinearOk):
    def forward(self, scores):
        print("forward got", tuple(scores.shape))
        warnings.warn("a harmless warning", UserWarning, stacklevel=1)
        weights = self.weights()
        total = scores[:, 0] * weights[0]
        for k in range(1, scores.shape[1]):  # a loop over the snippets instead of a broadcast
            total = total + scores[:, k] * weights[k]
        return total


def test_honest_variants_pass():
    passes_alone("02.pooling_consensus", noisy(max_consensus), noisy(avg_consensus), noisy(topk_consensus))
    passes_alone("02.pooling_consensus", lambda s: torch.stack([s[:, k] for k in range(s.shape[1])]).amax(0),
           lambda s: sum(s[:, k] for k in range(s.shape[1])) / s.shape[1], topk_consensus)
    passes_alone("02.linear_weighting", LinearNoisy)
    passes_alone("02.tsn_loss", noisy(loss_ok))

    def loss_named_like_the_library(logits, labels):
        logsumexp = logits.amax(dim=1) + torch.log(torch.exp(logits - logits.amax(dim=1, keepdim=True)).sum(1))
        cross_entropy = logsumexp - logits[torch.arange(len(labels)), labels]
        log_softmax = None  # names are not rules
        return cross_entropy.mean() if log_softmax is None else None

    passes_alone("02.tsn_loss", loss_named_like_the_library)


def test_later_exercises_use_the_course_consensus_for_earlier_answers():
    cells = notebook("""
        import torch

        def avg_consensus(scores):
            return scores.sum(dim=1)  # wrong: no division by K

        class LinearWeighting(torch.nn.Module):
            def __init__(self, num_segments):
                super().__init__()
                self.weight_logits = torch.nn.Parameter(torch.zeros(num_segments))

            def weights(self):
                return torch.softmax(self.weight_logits, dim=0)

            def forward(self, scores):
                if bool((self.weight_logits == 0).all()):
                    return avg_consensus(scores)  # the student's own earlier answer
                return (scores * self.weights()[None, :, None]).sum(dim=1)
    """)
    rejected("02.pooling_consensus", max_consensus, cells["avg_consensus"], topk_consensus)
    passes_alone("02.linear_weighting", cells["LinearWeighting"])
