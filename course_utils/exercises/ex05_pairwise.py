"""Checker of exercise 05.pairwise_functions: the four pairwise functions f and their normalisation C(x).

The check cell calls ``check("05.pairwise_functions", pairwise_weights)`` where
``pairwise_weights(theta_x, phi_x, mode, W_f=None)`` takes queries ``(B, N, Cq)`` and keys ``(B, Cq, M)`` and returns
``f(x_i, x_j) / C(x)`` of shape ``(B, N, M)``. Inputs have N != M, so dividing by the wrong count shows.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.exercises.framework import Exercise, close, course, expect_true, fail, forbid, plain, to_numpy
from course_utils.exercises.helpers import expect_tensor, max_difference, random_tensor
from course_utils.non_local.block import pairwise_weights as reference_weights

PAIRWISE_FUNCTIONS = Exercise(
    "05.pairwise_functions", "The four pairwise functions and their normalisation",
    forbidden=[forbid("must compute the weights f / C itself", "course_utils.non_local.block:pairwise_weights")])

B, N, M, CQ = 2, 7, 5, 4  # batch, queries, keys, embedding channels
SHAPE_HINT = "theta_x (B, N, Cq) @ phi_x (B, Cq, M) gives (B, N, M): one row per query i, one column per key j"


def _inputs(seed: int, *, scale: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    return random_tensor(B, N, CQ, seed=seed, scale=scale), random_tensor(B, CQ, M, seed=seed + 1, scale=scale)


def _projection(seed: int) -> nn.Conv2d:
    """A fixed float64 W_f = Conv2d(2Cq, 1, 1) whose bias pushes about half of the pairs below zero."""
    projection = nn.Conv2d(2 * CQ, 1, kernel_size=1).double()
    with torch.no_grad():
        projection.weight.copy_(random_tensor(1, 2 * CQ, 1, 1, seed=seed))
        projection.bias.fill_(-0.4)
    return projection


def _compare(pairwise_weights, mode: str, *, seed: int, hint: str, scale: float = 1.0) -> None:
    theta_x, phi_x = _inputs(seed, scale=scale)
    projection = _projection(seed + 7) if mode == "concatenate" else None
    with course():
        expected = reference_weights(theta_x, phi_x, mode, projection)
    got = expect_tensor(pairwise_weights(theta_x.clone(), phi_x.clone(), mode, projection), shape=(B, N, M),
                        what=f"pairwise_weights(theta_x, phi_x, {mode!r})", hint=SHAPE_HINT)
    if not close(got, expected, atol=1e-10, rtol=1e-8):
        fail(f"{mode}: f/C differs from the reference on fixed inputs (largest difference "
             f"{max_difference(got, expected):.3g})", expected=expected[0, 0], got=got[0, 0], hint=hint)


@PAIRWISE_FUNCTIONS.case("embedded: each row is a softmax over the keys j")
def _(pairwise_weights):
    theta_x, phi_x = _inputs(10)
    got = expect_tensor(pairwise_weights(theta_x, phi_x, "embedded"), shape=(B, N, M),
                        what="pairwise_weights(theta_x, phi_x, 'embedded')", hint=SHAPE_HINT)
    weights = to_numpy(got)
    row_sums = weights.sum(-1)
    expect_true(close(row_sums, row_sums * 0 + 1, atol=1e-12),
                what="the weights of each query i must sum to 1 over the keys j",
                expected="row sums 1.0", got=row_sums[0], hint="softmax over the last dimension (dim=-1), the keys j")
    expect_true((weights > 0).all(), what="softmax weights are strictly positive", hint="exp(...) is never 0")


@PAIRWISE_FUNCTIONS.case("embedded: exp(theta_i . phi_j) normalised, no 1/sqrt(d) scale")
def _(pairwise_weights):
    theta_x, phi_x = _inputs(20, scale=1.5)
    scaled = F.softmax(torch.matmul(theta_x, phi_x) / CQ ** 0.5, dim=-1)  # (B, N, M)
    got = pairwise_weights(theta_x.clone(), phi_x.clone(), "embedded")
    if isinstance(got, torch.Tensor) and close(got, scaled, atol=1e-10):
        fail("embedded: the similarities were divided by sqrt(Cq)", expected="softmax(theta_i . phi_j) over j",
             got="softmax(theta_i . phi_j / sqrt(Cq))",
             hint="the paper's embedded Gaussian has no scale (mmcv's use_scale and Caffe2's USE_SCALE add one); "
                  "this course follows the paper")
    _compare(pairwise_weights, "embedded", seed=20, scale=1.5,
             hint="f = exp(theta_i . phi_j), C = sum_j f: torch.softmax(theta_x @ phi_x, dim=-1)")


@PAIRWISE_FUNCTIONS.case("gaussian: the same formula on the raw features")
def _(pairwise_weights):
    _compare(pairwise_weights, "gaussian", seed=30,
             hint="for gaussian, theta_x and phi_x are x itself: softmax(theta_x @ phi_x, dim=-1), no extra step")


@PAIRWISE_FUNCTIONS.case("dot: theta_i . phi_j divided by M, the number of keys")
def _(pairwise_weights):
    theta_x, phi_x = _inputs(40)
    raw = torch.matmul(theta_x, phi_x)  # (B, N, M)
    wrong = {"nothing (no normalisation)": raw, "N, the number of queries": raw / N,
             "N * M": raw / (N * M), "a softmax": F.softmax(raw, dim=-1)}
    got = pairwise_weights(theta_x.clone(), phi_x.clone(), "dot")
    for label, value in wrong.items():
        if isinstance(got, torch.Tensor) and close(got, value, atol=1e-12):
            fail(f"dot: the similarities were normalised by {label}", expected="theta_x @ phi_x / M",
                 hint="C(x) = N in the paper's notation is the number of positions j summed over: the keys, "
                      "phi_x.size(-1) (fewer than the queries once keys are sub-sampled); no softmax for dot")
    _compare(pairwise_weights, "dot", seed=40, hint="f = theta_i . phi_j, C = M: (theta_x @ phi_x) / phi_x.size(-1)")


@PAIRWISE_FUNCTIONS.case("concatenate: ReLU(W_f [theta_i, phi_j]) / M, non-negative")
def _(pairwise_weights):
    theta_x, phi_x = _inputs(50)
    projection = _projection(57)
    got = expect_tensor(pairwise_weights(theta_x, phi_x, "concatenate", projection), shape=(B, N, M),
                        what="pairwise_weights(theta_x, phi_x, 'concatenate', W_f)", hint=SHAPE_HINT)
    weights = to_numpy(got)
    expect_true((weights >= 0).all(), what="concatenate: f must be >= 0 everywhere (it is a ReLU)",
                expected="min >= 0", got=float(weights.min()),
                hint="apply F.relu to W_f's output, then divide by M")
    _compare(pairwise_weights, "concatenate", seed=50,
             hint="pair query i with key j: cat([theta_i, phi_j]) along channels (theta first), W_f, ReLU, / M")


@PAIRWISE_FUNCTIONS.case("dot and concatenate: duplicating every key halves each weight")
def _(pairwise_weights):
    theta_x, phi_x = _inputs(60)
    phi_twice = torch.cat([phi_x, phi_x], dim=2)  # (B, Cq, 2M): every key twice
    for mode in ("dot", "concatenate"):
        projection = _projection(67) if mode == "concatenate" else None
        once = expect_tensor(pairwise_weights(theta_x.clone(), phi_x.clone(), mode, projection), shape=(B, N, M),
                             what=f"pairwise_weights with M keys ({mode})", hint=SHAPE_HINT)
        twice = expect_tensor(pairwise_weights(theta_x.clone(), phi_twice.clone(), mode, projection),
                              shape=(B, N, 2 * M), what=f"pairwise_weights with 2M keys ({mode})", hint=SHAPE_HINT)
        if not close(twice[..., :M], once / 2, atol=1e-12):
            fail(f"{mode}: with every key present twice, each weight must halve (the sum over j doubles and so "
                 f"does M)", expected=(once / 2)[0, 0], got=twice[0, 0, :M],
                 hint="divide by the number of keys, phi_x.size(-1), not by a fixed number")


@PAIRWISE_FUNCTIONS.case("gradients flow back to theta and phi (no detach, no numpy)")
def _(pairwise_weights):
    for mode in ("embedded", "dot", "concatenate"):
        theta_x, phi_x = _inputs(70)
        projection = _projection(77) if mode == "concatenate" else None
        theta_x.requires_grad_(True)
        phi_x.requires_grad_(True)
        probe = random_tensor(B, N, M, seed=71)
        with course():
            ref_grads = torch.autograd.grad((reference_weights(theta_x, phi_x, mode, projection) * probe).sum(),
                                            (theta_x, phi_x))
        got = pairwise_weights(theta_x, phi_x, mode, projection)
        got = plain(got) if isinstance(got, torch.Tensor) else got
        expect_true(isinstance(got, torch.Tensor) and got.requires_grad,
                    what=f"{mode}: the weights must be differentiable", expected="a tensor with requires_grad",
                    hint="stay in torch: no .detach(), .numpy() or torch.no_grad()")
        got = expect_tensor(got, shape=(B, N, M), what=f"pairwise_weights(theta_x, phi_x, {mode!r})",
                            hint=SHAPE_HINT)
        got_grads = torch.autograd.grad((got * probe).sum(), (theta_x, phi_x))
        for name, mine, ref in zip(("theta_x", "phi_x"), got_grads, ref_grads, strict=True):
            if not close(mine, ref, atol=1e-10):
                fail(f"{mode}: the gradient with respect to {name} differs from the reference",
                     expected=ref[0, 0], got=mine[0, 0], hint="compute the weights with differentiable torch ops")


@PAIRWISE_FUNCTIONS.case("an unknown mode raises ValueError")
def _(pairwise_weights):
    theta_x, phi_x = _inputs(80)
    try:
        pairwise_weights(theta_x, phi_x, "cosine")
    except ValueError:
        return
    except Exception as error:
        fail("mode='cosine' raised the wrong exception type", expected="ValueError",
             got=f"{type(error).__name__}: {error}", hint="raise ValueError naming the allowed modes")
    fail("mode='cosine' did not raise", expected="ValueError", got="a return value",
         hint="a silent fallback to another mode is a wrong answer; raise ValueError naming the allowed modes")


EXERCISES = (PAIRWISE_FUNCTIONS,)
