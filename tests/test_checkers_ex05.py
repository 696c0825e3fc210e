"""The checkers of notebook 05 accept a student-style solution and reject deliberately wrong versions.

The wrong versions are student_mistakes.md section B, exercise 5 (numbers in the names), plus others.
"""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from course_utils.exercises.framework import CheckFailed, check


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
    """Gaussian theta as x.view(B, -1, C): positions and channels scrambled (mistake 56)."""
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
    """The lecture's gaussian branch, x.view(B, C, -1): fails on a non-contiguous x (mistake 56)."""
    batch, channels = x.shape[:2]
    theta_x, phi_x, g_x = embed_ok(block, x)
    if block.mode == "gaussian":
        phi_x = x.view(batch, channels, -1)
        theta_x = phi_x.permute(0, 2, 1)
    y = torch.matmul(pairwise_ok(theta_x, phi_x, block.mode, getattr(block, "W_f", None)), g_x)
    return block.W_z(y.permute(0, 2, 1).reshape(batch, block.inter_channels, *x.shape[2:])) + x


def _hard_coded_half(block, x):
    batch, channels = x.shape[:2]
    half = channels // 2  # mistake 57: 0 for in_channels=1
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
