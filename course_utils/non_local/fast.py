"""Non-local attention without the ``N x M`` affinity matrix: the kernels behind ``NonLocalBlock(impl="fast")``.

- gaussian / embedded: ``softmax(theta phi) g`` is attention with scale 1, so it goes to the fused
  ``torch.nn.functional.scaled_dot_product_attention`` (flash attention on CPU and CUDA keeps memory linear in N);
  on a CPU the backward recomputes the softmax block by block with plain matrix products (faster than the CPU
  flash backward, still linear memory).
- dot: by associativity, ``(theta phi / M) g = theta (phi g) / M``: a ``(Cq, C')`` matrix instead of ``(N, M)``.
- concatenate: ``f_ij = ReLU(a_i + b_j)`` with ``a_i = w_theta . theta_i + bias`` and ``b_j = w_phi . phi_j``. For a
  fixed i it is non-zero exactly where ``b_j > -a_i``; after sorting the ``b_j`` once (largest first), that set is a
  prefix of the sorted order, and ``sum_j f_ij g_j = a_i S_g + S_bg`` with running sums ``S_g`` of ``g`` and
  ``S_bg`` of ``b g``.
  Exact, ``O(M log M + N log M)`` and differentiable (the prefix boundary is piecewise constant, like ReLU's mask).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.autograd.function import once_differentiable
from torch.nn import functional as F

from course_utils.validation import validate_choice, validate_instance, validate_tensor

MODES = ("gaussian", "embedded", "dot", "concatenate")  # the paper's four pairwise functions
BACKWARD_BLOCK_ELEMENTS = 1 << 22  # size of one (queries x keys) block in the chunked CPU attention backward


def attend_fast(theta_x: torch.Tensor, phi_x: torch.Tensor, g_x: torch.Tensor, mode: str,
                W_f: nn.Conv2d | None = None) -> torch.Tensor:
    """Return ``y = (f / C) g`` without materialising the ``(N, M)`` affinities.

    Args:
        theta_x: queries ``(B, N, Cq)``.
        phi_x: keys ``(B, Cq, M)``.
        g_x: values ``(B, M, C')``.
        mode: ``"gaussian"``, ``"embedded"``, ``"dot"`` or ``"concatenate"``.
        W_f: for ``"concatenate"`` only, the ``nn.Conv2d(2 Cq, 1, kernel_size=1)`` projection.

    Returns:
        y: ``(B, N, C')``, same dtype as ``g_x``.
    """
    _validate_qkv(theta_x, phi_x, g_x)
    if validate_choice(mode, "mode", MODES) in ("gaussian", "embedded"):
        return _softmax_attention(theta_x, phi_x, g_x)
    if mode == "dot":
        context = torch.matmul(phi_x, g_x)  # (B, Cq, M) @ (B, M, C') -> (B, Cq, C')
        return torch.matmul(theta_x, context) / phi_x.size(2)  # (B, N, Cq) @ (B, Cq, C') -> (B, N, C')
    if W_f is None:
        raise ValueError("mode='concatenate' needs W_f, the Conv2d(2*C', 1, kernel_size=1) projection")
    validate_instance(W_f, "W_f", nn.Conv2d, what="an nn.Conv2d(2*C', 1, kernel_size=1)")
    return concat_attention_sorted(theta_x, phi_x, g_x, W_f.weight, W_f.bias)


def _validate_qkv(theta_x: torch.Tensor, phi_x: torch.Tensor, g_x: torch.Tensor) -> None:
    """Validate queries ``(B, N, Cq)``, keys ``(B, Cq, M)`` and values ``(B, M, C')``, all floating point."""
    for tensor, name, layout in ((theta_x, "theta_x", "(B, N, Cq)"), (phi_x, "phi_x", "(B, Cq, M)"),
                                 (g_x, "g_x", "(B, M, C')")):
        validate_tensor(tensor, name, ndim=3, layout=layout, dtype="floating")


def _softmax_attention(theta_x: torch.Tensor, phi_x: torch.Tensor, g_x: torch.Tensor) -> torch.Tensor:
    """Scale-1 attention ``softmax(theta phi) g``: fused kernels forward; on a CPU, a chunked backward (see below)."""
    keys = phi_x.transpose(1, 2)  # (B, Cq, M) -> (B, M, Cq)
    if theta_x.device.type == "cpu" and torch.is_grad_enabled() and any(
            t.requires_grad for t in (theta_x, keys, g_x)):
        return _ChunkedBackwardAttention.apply(theta_x, keys, g_x)
    return _fused_attention(theta_x, keys, g_x)


def _fused_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``scaled_dot_product_attention(q, k, v, scale=1)`` for ``(B, N, E)``, ``(B, M, E)``, ``(B, M, Ev)``.

    The fused (flash) kernels need 4-D inputs and equal widths, so the narrower of (q, k) and v is zero-padded;
    zero channels change no dot product and are cut off again.
    """
    query_dim, value_dim = q.size(2), v.size(2)
    width = max(query_dim, value_dim)
    q4 = F.pad(q, (0, width - query_dim)).unsqueeze(1).contiguous()  # (B, N, E) -> (B, 1, N, W)
    k4 = F.pad(k, (0, width - query_dim)).unsqueeze(1).contiguous()  # (B, M, E) -> (B, 1, M, W)
    v4 = F.pad(v, (0, width - value_dim)).unsqueeze(1).contiguous()  # (B, M, Ev) -> (B, 1, M, W)
    y = F.scaled_dot_product_attention(q4, k4, v4, scale=1.0)  # (B, 1, N, W)
    return y.squeeze(1)[..., :value_dim]  # (B, N, Ev)


class _ChunkedBackwardAttention(torch.autograd.Function):
    """Fused attention forward, and a backward that recomputes the softmax one block of queries at a time.

    PyTorch's CPU flash-attention backward is several times slower than the naive matrix products; this backward
    uses plain matrix products on ``(rows, M)`` blocks instead (``rows * M`` about 4M elements), so memory stays
    linear in N and time is close to the naive block's.
    """

    @staticmethod
    def forward(ctx, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        y = _fused_attention(q, k, v)  # (B, N, Ev)
        ctx.save_for_backward(q, k, v, y)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        q, k, v, y = ctx.saved_tensors
        num_queries, num_keys = q.size(1), k.size(1)
        rows = max(1, min(num_queries, BACKWARD_BLOCK_ELEMENTS // max(num_keys, 1)))
        grad_q, grad_k, grad_v = torch.empty_like(q), torch.zeros_like(k), torch.zeros_like(v)
        probs_buffer = q.new_empty(rows, num_keys)  # reused by every block: no allocation inside the loop
        grad_buffer = q.new_empty(rows, num_keys)
        for batch in range(q.size(0)):
            keys_t, values_t = k[batch].t(), v[batch].t()  # (E, M), (Ev, M)
            for start in range(0, num_queries, rows):
                block = slice(start, start + rows)
                queries, grad_out = q[batch, block], grad_y[batch, block]  # (r, E), (r, Ev)
                count = queries.size(0)
                probs = torch.mm(queries, keys_t, out=probs_buffer[:count])  # (r, E) @ (E, M) -> (r, M)
                probs.sub_(probs.amax(dim=1, keepdim=True)).exp_()  # softmax over the keys, in place
                probs.div_(probs.sum(dim=1, keepdim=True))
                grad_v[batch].addmm_(probs.t(), grad_out)  # (M, r) @ (r, Ev) -> (M, Ev)
                grad_scores = torch.mm(grad_out, values_t, out=grad_buffer[:count])  # (r, Ev) @ (Ev, M) -> (r, M)
                row_dot = (grad_out * y[batch, block]).sum(dim=1, keepdim=True)  # (r, 1)
                grad_scores.sub_(row_dot).mul_(probs)  # softmax backward
                torch.mm(grad_scores, k[batch], out=grad_q[batch, block])  # (r, M) @ (M, E) -> (r, E)
                grad_k[batch].addmm_(grad_scores.t(), queries)  # (M, r) @ (r, E) -> (M, E)
        return grad_q, grad_k, grad_v


def concat_attention_sorted(theta_x: torch.Tensor, phi_x: torch.Tensor, g_x: torch.Tensor,
                            weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """Exact concatenation-mode attention ``y_i = 1/M sum_j ReLU(a_i + b_j) g_j`` by sorting and running sums.

    The keys are sorted by ``b`` in *descending* order, so each query's non-zero set ``{j: b_j > -a_i}`` is a prefix,
    and plain cumulative sums (a zero column first, for the empty prefix) give ``sum g`` and ``sum b g`` over it. The
    sums are never formed as ``total - partial``, which would cancel catastrophically, and are accumulated in
    float64 for float32/float16/bfloat16 inputs (float32 on MPS, which has no float64). Channels stay in front
    (``(B, C', M)``) so every cumulative sum and gather runs along contiguous memory.

    Args:
        theta_x: queries ``(B, N, Cq)``.
        phi_x: keys ``(B, Cq, M)``.
        g_x: values ``(B, M, C')``.
        weight: ``W_f``'s weight ``(1, 2 Cq, 1, 1)``: the first Cq entries act on theta, the rest on phi.
        bias: ``W_f``'s bias ``(1,)`` or None.

    Returns:
        y: ``(B, N, C')``, dtype of ``g_x`` (a transposed view of a ``(B, C', N)`` tensor).
    """
    _validate_qkv(theta_x, phi_x, g_x)
    validate_tensor(weight, "weight", ndim=4, layout="(1, 2 Cq, 1, 1)", dtype="floating")
    if bias is not None:
        validate_tensor(bias, "bias", ndim=1, layout="(1,)", dtype="floating")
    query_dim = theta_x.size(2)
    num_keys, value_dim = g_x.size(1), g_x.size(2)
    w = weight.reshape(-1)  # (1, 2Cq, 1, 1) -> (2Cq,)
    a = torch.matmul(theta_x, w[:query_dim])  # (B, N, Cq) @ (Cq,) -> (B, N)
    if bias is not None:
        a = a + bias
    b = torch.matmul(phi_x.transpose(1, 2), w[query_dim:])  # (B, M, Cq) @ (Cq,) -> (B, M)
    b_sorted, order = torch.sort(b, dim=1, descending=True)  # (B, M)
    values = g_x.transpose(1, 2)  # (B, M, C') -> (B, C', M)
    g_sorted = torch.gather(values, 2, order.unsqueeze(1).expand(-1, value_dim, -1))  # (B, C', M)

    low_precision = g_x.dtype in (torch.float32, torch.float16, torch.bfloat16)
    # MPS has no float64: there the sums stay in float32 (at least)
    accumulate = g_x.dtype if not low_precision else (torch.float32 if g_x.device.type == "mps" else torch.float64)
    g_acc = g_sorted.to(accumulate)
    terms = torch.cat([g_acc, b_sorted.to(accumulate).unsqueeze(1) * g_acc], dim=1)  # (B, 2C', M): g and b g
    prefix = F.pad(torch.cumsum(terms, dim=2), (1, 0))  # (B, 2C', M + 1), column k = sum of the first k keys

    # count_i = #{j: b_j > -a_i} = #{j: -b_j < a_i}; -b_sorted is ascending. Ties (b_j == -a_i) are left out, which
    # is exact: they contribute ReLU(0) = 0.
    count = torch.searchsorted((-b_sorted).detach().contiguous(), a.detach().contiguous(), right=False)  # (B, N)
    picked = torch.gather(prefix, 2, count.unsqueeze(1).expand(-1, 2 * value_dim, -1))  # (B, 2C', N)
    sum_g, sum_bg = picked[:, :value_dim], picked[:, value_dim:]  # (B, C', N) each
    y = (a.to(accumulate).unsqueeze(1) * sum_g + sum_bg) / num_keys  # (B, 1, N) * (B, C', N) -> (B, C', N)
    return y.to(g_x.dtype).transpose(1, 2)  # (B, C', N) -> (B, N, C')
