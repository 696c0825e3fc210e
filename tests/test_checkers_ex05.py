"""The checkers of notebook 05 accept a student-style solution and reject deliberately wrong versions.

The wrong versions are typical student mistakes (a number in the name labels each), plus others.
"""

from __future__ import annotations

import copy
import functools
import importlib
import types

import pytest
import torch
from attack_kit import delegation_rejected, gains_nothing, lying_tensor, noisy, notebook, passes, rejected
from torch.nn import functional as F

import course_utils.exercises.ex05_block as ex05_block
from course_utils import non_local as nl  # the notebook's own alias
from course_utils.exercises.framework import CheckFailed, check
from course_utils.non_local import block as block_module
from course_utils.non_local import pairwise_weights as imported_weights


# ---------------------------------------------------------------- student-style solutions (as in the notebook)
def pairwise_ok(theta_x, phi_x, mode, W_f=None, *, dim=-1, scale=1.0, relu=True, count="keys", swap=False):
    if mode in ("gaussian", "embedded"):
        return torch.softmax(torch.matmul(theta_x, phi_x) * scale, dim=dim)
    num_queries, num_keys = theta_x.size(1), phi_x.size(2)
    divisor = {"keys": num_keys, "queries": num_queries, "none": 1}[count]
    if mode == "dot":
        return torch.matmul(theta_x, phi_x) / divisor
    if mode == "concatenate":
        theta_rep = theta_x.permute(0, 2, 1).unsqueeze(3).expand(-1, -1, -1, num_keys)  # (B, Cq, N, M)
        phi_rep = phi_x.unsqueeze(2).expand(-1, -1, num_queries, -1)  # (B, Cq, N, M)
        pairs = torch.cat([phi_rep, theta_rep] if swap else [theta_rep, phi_rep], dim=1)  # (B, 2Cq, N, M)
        f = W_f(pairs).squeeze(1)  # (B, N, M)
        return (F.relu(f) if relu else f) / divisor
    raise ValueError(f"unknown mode {mode!r}")


def embed_ok(block, x, *, pool_theta=False, pool_first=False, avg=False, kernel=(1, 2, 2), always=False,
             gaussian_phi_unpooled=False, pool_values=True):
    batch = x.size(0)
    pool = (lambda t: F.avg_pool3d(t, kernel)) if avg else (lambda t: F.max_pool3d(t, kernel))
    use_pool = block.sub_sample or always
    source = pool(x) if (use_pool and pool_first) else x
    if block.mode == "gaussian":
        theta_x, phi_x = x, source
        g_x = block.g(source)
    else:
        theta_x, phi_x, g_x = block.theta(x), block.phi(source), block.g(source)
    if use_pool and not pool_first:
        if not (block.mode == "gaussian" and gaussian_phi_unpooled):
            phi_x = pool(phi_x)
        if pool_values:
            g_x = pool(g_x)
    if use_pool and pool_theta:
        theta_x = pool(theta_x)
    theta_x = theta_x.reshape(batch, theta_x.size(1), -1).permute(0, 2, 1)  # (B, N, Cq)
    phi_x = phi_x.reshape(batch, phi_x.size(1), -1)  # (B, Cq, M)
    g_x = g_x.reshape(batch, g_x.size(1), -1).permute(0, 2, 1)  # (B, M, C')
    return theta_x, phi_x, g_x


def forward_ok(block, x, *, pairwise=pairwise_ok, residual=True, bad_view=False, mix_batch=False, use_wz=True):
    batch, _, num_frames, height, width = x.shape
    inter = block.inter_channels
    theta_x, phi_x, g_x = embed_ok(block, x)
    if mix_batch:  # (B, N, C') -> (1, B*N, C'): every video attends to every other one
        theta_x, g_x = theta_x.reshape(1, -1, theta_x.size(2)), g_x.reshape(1, -1, inter)
        phi_x = phi_x.permute(1, 0, 2).reshape(1, phi_x.size(1), -1)
    y = torch.matmul(pairwise(theta_x, phi_x, block.mode, getattr(block, "W_f", None)), g_x)  # (B, N, C')
    if bad_view:
        y = y.reshape(batch, inter, num_frames, height, width)  # no permute: channels and positions mixed
    else:
        y = y.reshape(batch, -1, inter).permute(0, 2, 1).reshape(batch, inter, num_frames, height, width)
    z = block.W_z(y) if use_wz else y.repeat(1, x.size(1) // inter + 1, 1, 1, 1)[:, :x.size(1)]
    return z + x if residual else z


def test_solutions_pass(capsys):
    check("05.pairwise_functions", pairwise_ok)
    check("05.non_local_forward", forward_ok)
    check("05.subsampling", embed_ok)
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["✔ 05.pairwise_functions: 8/8 checks passed", "✔ 05.non_local_forward: 7/7 checks passed",
                     "✔ 05.subsampling: 5/5 checks passed"]


def _fallback_to_embedded(theta_x, phi_x, mode, W_f=None):
    if mode not in ("gaussian", "embedded", "dot", "concatenate"):
        mode = "embedded"
    return pairwise_ok(theta_x, phi_x, mode, W_f)


WRONG_PAIRWISE = {
    "46_softmax_over_queries": lambda t, p, m, w=None: pairwise_ok(t, p, m, w, dim=1),
    "52_scaled_by_sqrt_d": lambda t, p, m, w=None: pairwise_ok(t, p, m, w, scale=t.size(-1) ** -0.5),
    "51_dot_without_division": lambda t, p, m, w=None: pairwise_ok(t, p, m, w, count="none"),
    "51_divided_by_queries": lambda t, p, m, w=None: pairwise_ok(t, p, m, w, count="queries"),
    "53_concat_without_relu": lambda t, p, m, w=None: pairwise_ok(t, p, m, w, relu=False),
    "concat_swapped_order": lambda t, p, m, w=None: pairwise_ok(t, p, m, w, swap=True),
    "dot_with_softmax": lambda t, p, m, w=None: pairwise_ok(t, p, "embedded" if m == "dot" else m, w),
    "gaussian_unnormalised": lambda t, p, m, w=None: (torch.exp(t @ p) if m == "gaussian" else pairwise_ok(t, p, m, w)),
    "detached": lambda t, p, m, w=None: pairwise_ok(t, p, m, w).detach(),
    "float32": lambda t, p, m, w=None: pairwise_ok(t.float(), p.float(), m, None if w is None else w.float()),
    "numpy_out": lambda t, p, m, w=None: pairwise_ok(t, p, m, w).detach().numpy(),
    "silent_fallback": _fallback_to_embedded,
    "transposed_output": lambda t, p, m, w=None: pairwise_ok(t, p, m, w).transpose(1, 2),
}


@pytest.mark.parametrize("name", sorted(WRONG_PAIRWISE))
def test_pairwise_checker_rejects(name):
    with pytest.raises(CheckFailed) as info:
        check("05.pairwise_functions", WRONG_PAIRWISE[name])
    assert "not implemented yet" not in str(info.value)


def _x_view_without_permute(block, x):
    """Gaussian theta as x.view(B, -1, C): positions and channels scrambled."""
    batch, channels = x.shape[:2]
    g_x = block.g(x).reshape(batch, block.inter_channels, -1).permute(0, 2, 1)
    theta_x = x.reshape(batch, -1, channels)  # wrong: no permute
    phi_x = x.reshape(batch, channels, -1) if block.mode == "gaussian" else block.phi(x).reshape(batch, -1, g_x.size(1))
    if block.mode != "gaussian":
        theta_x = block.theta(x).reshape(batch, -1, block.inter_channels)
        phi_x = block.phi(x).reshape(batch, block.inter_channels, -1)
    y = torch.matmul(pairwise_ok(theta_x, phi_x, block.mode, getattr(block, "W_f", None)), g_x)
    return block.W_z(y.permute(0, 2, 1).reshape(batch, block.inter_channels, *x.shape[2:])) + x


def _lecture_x_view(block, x):
    """The lecture's gaussian branch, x.view(B, C, -1): fails on a non-contiguous x."""
    batch, channels = x.shape[:2]
    theta_x, phi_x, g_x = embed_ok(block, x)
    if block.mode == "gaussian":
        phi_x = x.view(batch, channels, -1)
        theta_x = phi_x.permute(0, 2, 1)
    y = torch.matmul(pairwise_ok(theta_x, phi_x, block.mode, getattr(block, "W_f", None)), g_x)
    return block.W_z(y.permute(0, 2, 1).reshape(batch, block.inter_channels, *x.shape[2:])) + x


def _hard_coded_half(block, x):
    batch, channels = x.shape[:2]
    half = channels // 2  # 0 for in_channels=1
    theta_x, phi_x, g_x = embed_ok(block, x)
    y = torch.matmul(pairwise_ok(theta_x, phi_x, block.mode, getattr(block, "W_f", None)), g_x)
    return block.W_z(y.permute(0, 2, 1).reshape(batch, half, *x.shape[2:])) + x


def _no_grad(block, x):
    with torch.no_grad():
        return forward_ok(block, x)


def _theta_phi_swapped(block, x):
    batch = x.size(0)
    theta_x, phi_x, g_x = embed_ok(block, x)
    queries, keys = phi_x.permute(0, 2, 1), theta_x.permute(0, 2, 1)  # phi as queries, theta as keys
    y = torch.matmul(pairwise_ok(queries, keys, block.mode, getattr(block, "W_f", None)), g_x)
    return block.W_z(y.permute(0, 2, 1).reshape(batch, block.inter_channels, *x.shape[2:])) + x


def _conv_only_wz(block, x):
    batch = x.size(0)
    theta_x, phi_x, g_x = embed_ok(block, x)
    y = torch.matmul(pairwise_ok(theta_x, phi_x, block.mode, getattr(block, "W_f", None)), g_x)
    return block.W_z[0](y.permute(0, 2, 1).reshape(batch, block.inter_channels, *x.shape[2:])) + x


WRONG_FORWARD = {
    "47_no_residual": lambda b, x: forward_ok(b, x, residual=False),
    "residual_without_W_z": lambda b, x: forward_ok(b, x, use_wz=False),
    "46_softmax_over_queries": lambda b, x: forward_ok(
        b, x, pairwise=lambda t, p, m, w=None: pairwise_ok(t, p, m, w, dim=1)),
    "52_scaled_by_sqrt_d": lambda b, x: forward_ok(
        b, x, pairwise=lambda t, p, m, w=None: pairwise_ok(t, p, m, w, scale=t.size(-1) ** -0.5)),
    "51_no_normalisation": lambda b, x: forward_ok(
        b, x, pairwise=lambda t, p, m, w=None: pairwise_ok(t, p, m, w, count="none")),
    "53_no_relu": lambda b, x: forward_ok(b, x, pairwise=lambda t, p, m, w=None: pairwise_ok(t, p, m, w, relu=False)),
    "56_view_without_permute": lambda b, x: forward_ok(b, x, bad_view=True),
    "56_x_view_b_minus1_c": _x_view_without_permute,
    "56_x_view_on_non_contiguous_input": _lecture_x_view,
    "57_hard_coded_half_channels": _hard_coded_half,
    "batch_mixing": lambda b, x: forward_ok(b, x, mix_batch=True),
    "no_grad": _no_grad,
    "theta_phi_swapped": _theta_phi_swapped,
    "W_z_conv_without_bn": _conv_only_wz,
}


@pytest.mark.parametrize("name", sorted(WRONG_FORWARD))
def test_forward_checker_rejects(name):
    with pytest.raises(CheckFailed) as info:
        check("05.non_local_forward", WRONG_FORWARD[name])
    assert "not implemented yet" not in str(info.value)


def _gaussian_with_embeddings(block, x):
    """Mistake 50: gaussian computed with theta/phi; the gaussian block has none, so this raises."""
    batch = x.size(0)
    theta_x = block.theta(x).reshape(batch, block.inter_channels, -1).permute(0, 2, 1)
    return theta_x, *embed_ok(block, x)[1:]


def _wrong_flatten_order(block, x):
    theta_x, phi_x, g_x = embed_ok(block, x)
    batch, channels, num_keys = phi_x.shape
    if block.sub_sample:  # (B, Cq, T, H', W') flattened as (B, Cq, T, W', H')
        height, width = x.size(3) // 2, x.size(4) // 2
        phi_x = phi_x.reshape(batch, channels, -1, height, width).transpose(3, 4).reshape(batch, channels, -1)
    return theta_x, phi_x, g_x


WRONG_EMBED = {
    "54_queries_pooled_too": lambda b, x: embed_ok(b, x, pool_theta=True),
    "pool_before_conv_caffe2_order": lambda b, x: embed_ok(b, x, pool_first=True),
    "average_pooling": lambda b, x: embed_ok(b, x, avg=True),
    "pooling_time_too": lambda b, x: embed_ok(b, x, kernel=(2, 2, 2)),
    "always_pooling": lambda b, x: embed_ok(b, x, always=True),
    "50_gaussian_with_embeddings": _gaussian_with_embeddings,
    "50_gaussian_phi_not_pooled": lambda b, x: embed_ok(b, x, gaussian_phi_unpooled=True),
    "values_not_pooled": lambda b, x: embed_ok(b, x, pool_values=False),
    "wrong_flatten_order": _wrong_flatten_order,
    "never_pooling": lambda b, x: embed_ok(b, x) if not b.sub_sample else embed_ok(
        type("Unpooled", (), {"sub_sample": False, "mode": b.mode, "g": b.g, "theta": getattr(b, "theta", None),
                              "phi": getattr(b, "phi", None)})(), x),
}


@pytest.mark.parametrize("name", sorted(WRONG_EMBED))
def test_subsampling_checker_rejects(name):
    with pytest.raises(CheckFailed) as info:
        check("05.subsampling", WRONG_EMBED[name])
    assert "not implemented yet" not in str(info.value)


def test_caffe2_order_gets_a_specific_hint():
    with pytest.raises(CheckFailed, match="Caffe2"):
        check("05.subsampling", WRONG_EMBED["pool_before_conv_caffe2_order"])


def test_stubs_report_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError("write your code")

    for exercise in ("05.pairwise_functions", "05.non_local_forward", "05.subsampling"):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(exercise, stub)


# ---------------------------------------------------------------- delegation, lying objects, honest variants
PAIRWISE_DELEGATIONS = {
    "the reference itself": nl.pairwise_weights,
    "imported function": lambda t, p, m, w=None: imported_weights(t, p, m, w),
    "submodule attribute": lambda t, p, m, w=None: block_module.pairwise_weights(t, p, m, w),
    "lazy package attribute": lambda t, p, m, w=None: nl.pairwise_weights(t, p, m, w),
    "getattr with a computed name": lambda t, p, m, w=None: getattr(nl, "pair" + "wise_weights")(t, p, m, w),
    "importlib with a computed name": lambda t, p, m, w=None: importlib.import_module(
        "course_utils.non_local." + "block").pairwise_weights(t, p, m, w),
    "functools.partial": functools.partial(nl.pairwise_weights),
    "default argument": lambda t, p, m, w=None, _f=nl.pairwise_weights: _f(t, p, m, w),
    "copied code object": types.FunctionType(block_module.pairwise_weights.__code__, vars(block_module),
                                             "pairwise_weights", block_module.pairwise_weights.__defaults__),
    "the gaussian widget helper": lambda t, p, m, w=None: pairwise_ok(t, p, m, w) if m != "embedded" else
    nl.query_affinities(t[0].T.reshape(t.size(2), -1, 1, 1), (0, 0, 0)),
}


@pytest.mark.parametrize("name", sorted(PAIRWISE_DELEGATIONS))
def test_pairwise_delegation_scores_zero(name):
    message = rejected("05.pairwise_functions", PAIRWISE_DELEGATIONS[name],
                       match="05.pairwise_functions must compute the weights f / C itself; it called "
                             "course_utils.non_local.block.pairwise_weights")
    if name != "the gaussian widget helper":  # that one delegates in one mode only
        assert " 0/" in message.splitlines()[0]


FORWARD_DELEGATIONS = {
    "block(x)": lambda block, x: block(x),
    "block.forward(x)": lambda block, x: block.forward(x),
    "nn.Module.__call__": lambda block, x: torch.nn.Module.__call__(block, x),
    "the class's forward": lambda block, x: nl.NonLocalBlock.forward(block, x),
    "a bound method kept from before": lambda block, x: type(block).forward.__get__(block)(x),
    "the fast implementation": lambda block, x: block._forward_fast(x),
    "a fresh block with the same weights": lambda block, x: _clone_block(block)(x),
    "the checker's own helper": lambda block, x: ex05_block._reference(block, x),
}


def _clone_block(block):
    return copy.deepcopy(block)  # another instance of the course's class


@pytest.mark.parametrize("name", sorted(FORWARD_DELEGATIONS))
def test_forward_delegation_scores_zero(name):
    delegation_rejected("05.non_local_forward", FORWARD_DELEGATIONS[name], called="NonLocalBlock")


def test_forward_built_on_the_course_embed_scores_zero():
    def with_course_embed(block, x):
        theta_x, phi_x, g_x = nl.embed(block, x)
        y = torch.matmul(pairwise_ok(theta_x, phi_x, block.mode, getattr(block, "W_f", None)), g_x)
        return block.W_z(y.permute(0, 2, 1).reshape(x.size(0), block.inter_channels, *x.shape[2:])) + x

    delegation_rejected("05.non_local_forward", with_course_embed, called="course_utils.non_local.block.embed")


@pytest.mark.parametrize("answer", [nl.embed, lambda block, x: nl.embed(block, x),
                                    lambda block, x: getattr(block_module, "em" + "bed")(block, x)],
                         ids=["reference", "lambda", "getattr"])
def test_embed_delegation_scores_zero(answer):
    delegation_rejected("05.subsampling", answer, called="course_utils.non_local.block.embed")


def test_lying_tensors_gain_nothing():
    gains_nothing("05.pairwise_functions", lambda t, p, m, w=None: lying_tensor(pairwise_ok(t, p, m, w)),
                  lambda t, p, m, w=None: torch.zeros_like(pairwise_ok(t, p, m, w)))
    gains_nothing("05.non_local_forward", lambda block, x: lying_tensor(x), lambda block, x: torch.zeros_like(x))
    gains_nothing("05.subsampling", lambda block, x: tuple(lying_tensor(t) for t in embed_ok(block, x)),
                  lambda block, x: tuple(torch.zeros_like(t) for t in embed_ok(block, x)))


def test_forward_is_graded_on_its_own_when_it_calls_a_wrong_pairwise_weights():
    cells = notebook("""
        import torch

        def pairwise_weights(theta_x, phi_x, mode, W_f=None):
            return torch.softmax(theta_x @ phi_x, dim=1)  # wrong axis, for every mode

        def non_local_forward(block, x):
            batch, _, frames, height, width = x.shape
            inter = block.inter_channels
            g_x = block.g(x).reshape(batch, inter, -1).permute(0, 2, 1)
            if block.mode == "gaussian":
                phi_x = x.reshape(batch, x.size(1), -1)
                theta_x = phi_x.permute(0, 2, 1)
            else:
                theta_x = block.theta(x).reshape(batch, inter, -1).permute(0, 2, 1)
                phi_x = block.phi(x).reshape(batch, inter, -1)
            y = pairwise_weights(theta_x, phi_x, block.mode, getattr(block, "W_f", None)) @ g_x
            return block.W_z(y.permute(0, 2, 1).reshape(batch, inter, frames, height, width)) + x
    """)
    rejected("05.pairwise_functions", cells["pairwise_weights"])
    passes("05.non_local_forward", cells["non_local_forward"])  # one mistake costs points once
    assert cells["pairwise_weights"].__code__.co_name == "pairwise_weights"  # the notebook's own answer is back


def test_honest_variants_pass():
    passes("05.pairwise_functions", noisy(pairwise_ok))
    passes("05.non_local_forward", noisy(forward_ok))
    passes("05.subsampling", noisy(embed_ok))

    def pairwise_in_a_loop(theta_x, phi_x, mode, W_f=None):
        rows = [pairwise_ok(theta_x[:, i:i + 1], phi_x, mode, W_f) for i in range(theta_x.size(1))]
        return torch.cat(rows, dim=1)  # one query at a time

    passes("05.pairwise_functions", pairwise_in_a_loop)
    passes("05.non_local_forward", lambda block, x: forward_ok(block, x, pairwise=pairwise_in_a_loop))
