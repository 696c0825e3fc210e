"""The non-local block (Wang et al., arXiv 1711.07971) for video features ``(B, C, T, H, W)``.

``NonLocalBlock`` computes ``z_i = W_z y_i + x_i`` with ``y_i = 1/C(x) sum_j f(x_i, x_j) g(x_j)`` for the paper's four
pairwise functions ``f``. ``impl="naive"`` is the lecture's computation (it builds the ``N x M`` affinity matrix, and
for concatenation the ``(B, 2C', N, M)`` pair tensor); ``impl="fast"`` computes the same function without the
``N x M`` matrix where the math allows (see ``course_utils.non_local.fast``), and applies its 1x1x1 convolutions as
one matrix product. Both share every parameter: a ``state_dict`` loads into either.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from course_utils.non_local.fast import MODES, attend_fast
from course_utils.validation import validate_bool, validate_choice, validate_instance, validate_int, validate_tensor

__all__ = ["IMPLS", "MODES", "NonLocalBlock", "embed", "pairwise_weights", "pointwise"]

IMPLS = ("naive", "fast")


class NonLocalBlock(nn.Module):
    """A 3-D non-local block with a residual connection; a new block is the identity.

    Args:
        in_channels: C, the channels of the input features.
        inter_channels: C', the channels inside the block; default ``max(in_channels // 2, 1)``.
        mode: the pairwise function ``f``: ``"gaussian"``, ``"embedded"``, ``"dot"`` or ``"concatenate"``.
        sub_sample: if True, max-pool keys and values by ``(1, 2, 2)`` (space only) after ``phi`` and ``g``
            (gaussian: ``phi = pool(x)``); queries are never pooled.
        bn: if True, ``W_z`` is a 1x1x1 conv followed by BatchNorm3d whose weight and bias start at zero;
            if False, ``W_z`` is the conv alone and starts at zero.
        impl: ``"naive"`` (builds the ``N x M`` affinities) or ``"fast"`` (same function, no ``N x M`` matrix where
            possible). May be changed after construction.

    Submodules (the paper's names): ``g``, ``theta`` and ``phi`` (1x1x1 Conv3d; gaussian has no ``theta``/``phi``),
    ``W_f`` (1x1 Conv2d from 2C' to 1, concatenation only; the ReLU is applied in the forward), ``W_z``.
    """

    def __init__(self, in_channels: int, inter_channels: int | None = None, *, mode: str = "embedded",
                 sub_sample: bool = False, bn: bool = True, impl: str = "naive") -> None:
        super().__init__()
        in_channels = validate_int(in_channels, "in_channels", minimum=1)
        if inter_channels is None:
            inter_channels = max(in_channels // 2, 1)
        inter_channels = validate_int(inter_channels, "inter_channels", minimum=1)
        self.in_channels = in_channels
        self.inter_channels = inter_channels
        self.mode = validate_choice(mode, "mode", MODES)
        self.sub_sample = validate_bool(sub_sample, "sub_sample")
        bn = validate_bool(bn, "bn")
        self.impl = validate_choice(impl, "impl", IMPLS)

        self.g = nn.Conv3d(in_channels, inter_channels, kernel_size=1)
        if mode != "gaussian":
            self.theta = nn.Conv3d(in_channels, inter_channels, kernel_size=1)
            self.phi = nn.Conv3d(in_channels, inter_channels, kernel_size=1)
        if mode == "concatenate":
            self.W_f = nn.Conv2d(2 * inter_channels, 1, kernel_size=1)
        self.pool = nn.MaxPool3d(kernel_size=(1, 2, 2)) if sub_sample else None
        if bn:
            self.W_z = nn.Sequential(nn.Conv3d(inter_channels, in_channels, kernel_size=1),
                                     nn.BatchNorm3d(in_channels))
            zero_target = self.W_z[1]
        else:
            self.W_z = nn.Conv3d(inter_channels, in_channels, kernel_size=1)
            zero_target = self.W_z
        nn.init.zeros_(zero_target.weight)
        nn.init.zeros_(zero_target.bias)

    def extra_repr(self) -> str:
        """Show the mode, sub-sampling and implementation in the module's repr."""
        return f"mode={self.mode!r}, sub_sample={self.sub_sample}, impl={self.impl!r}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``z = W_z(y) + x``.

        Args:
            x: features ``(B, C, T, H, W)``, floating point, ``C == in_channels``.

        Returns:
            z: ``(B, C, T, H, W)``, same dtype as ``x``.
        """
        _validate_input(self, x)
        if validate_choice(self.impl, "impl", IMPLS) == "fast":
            return self._forward_fast(x)
        batch, _, num_frames, height, width = x.shape
        theta_x, phi_x, g_x = embed(self, x)
        y = torch.matmul(pairwise_weights(theta_x, phi_x, self.mode, getattr(self, "W_f", None)), g_x)  # (B, N, C')
        # (B, N, C') -> (B, C', N) -> (B, C', T, H, W)
        y = y.permute(0, 2, 1).reshape(batch, self.inter_channels, num_frames, height, width)
        return self.W_z(y) + x

    def _forward_fast(self, x: torch.Tensor) -> torch.Tensor:
        """The same function as the naive forward: 1x1x1 convs as one matrix product, no N x M matrix."""
        batch, channels, num_frames, height, width = x.shape
        if self.mode == "gaussian":
            (g_x,) = pointwise(x, [self.g])  # (B, C', N)
            phi_x = theta_x = x.reshape(batch, channels, -1)  # (B, C, T, H, W) -> (B, C, N)
        else:
            theta_x, phi_x, g_x = pointwise(x, [self.theta, self.phi, self.g])  # (B, C', N) each
        if self.pool is not None:
            pooled = []
            for tensor in (phi_x, g_x):
                # (B, Cq, N) -> (B, Cq, T, H, W) -> pool -> (B, Cq, M)
                tensor = self.pool(tensor.reshape(batch, -1, num_frames, height, width))
                pooled.append(tensor.reshape(batch, tensor.size(1), -1))
            phi_x, g_x = pooled
        # queries (B, Cq, N) -> (B, N, Cq); values (B, C', M) -> (B, M, C')
        y = attend_fast(theta_x.transpose(1, 2), phi_x, g_x.transpose(1, 2), self.mode, getattr(self, "W_f", None))
        projection = self.W_z[0] if isinstance(self.W_z, nn.Sequential) else self.W_z
        (w_y,) = pointwise(y.transpose(1, 2), [projection])  # (B, N, C') -> (B, C', N) -> (B, C, N)
        w_y = w_y.reshape(batch, channels, num_frames, height, width)  # (B, C, N) -> (B, C, T, H, W)
        if isinstance(self.W_z, nn.Sequential):
            w_y = self.W_z[1](w_y)  # BatchNorm3d
        return w_y + x


def pointwise(x: torch.Tensor, convs: list[nn.Conv3d]) -> list[torch.Tensor]:
    """Apply 1x1x1 convolutions to ``x`` as one matrix product (x is read once).

    Args:
        x: ``(B, C, ...)``; flattened to ``(B, C, N)``.
        convs: ``nn.Conv3d(C, C_k, kernel_size=1)`` modules.

    Returns:
        one ``(B, C_k, N)`` tensor per conv.
    """
    validate_tensor(x, "x", layout="(B, C, ...)", dtype="floating")
    validate_instance(convs, "convs", (list, tuple), what="a non-empty list of nn.Conv3d")
    if not convs:
        raise ValueError("convs must be a non-empty list of nn.Conv3d, got an empty one")
    for index, conv in enumerate(convs):
        validate_instance(conv, f"convs[{index}]", nn.Conv3d, what="an nn.Conv3d with kernel_size=1")
    weight = torch.cat([conv.weight.reshape(conv.out_channels, -1) for conv in convs])  # (sum C_k, C)
    bias = torch.cat([conv.bias for conv in convs])  # (sum C_k,)
    flat = x.reshape(x.size(0), x.size(1), -1)  # (B, C, ...) -> (B, C, N)
    out = torch.matmul(weight, flat) + bias.unsqueeze(-1)  # (sum C_k, C) @ (B, C, N) -> (B, sum C_k, N)
    return list(out.split([conv.out_channels for conv in convs], dim=1))


def _validate_input(block: NonLocalBlock, x: object) -> torch.Tensor:
    """Return ``x`` if it is a floating ``(B, C, T, H, W)`` tensor that ``block`` accepts, else raise.

    Args:
        block: the ``NonLocalBlock`` that will read ``x``.
        x: the candidate input.

    Returns:
        ``x``, unchanged.

    Raises:
        TypeError: if ``x`` is not a floating-point tensor.
        ValueError: if it is not 5-D, has another number of channels than the block, or is too small to pool.
    """
    validate_tensor(x, "x", ndim=5, layout="(B, C, T, H, W)", dtype="floating")
    if x.size(1) != block.in_channels:
        raise ValueError(f"x must have in_channels={block.in_channels} channels (dim 1, the block's), "
                         f"got {x.size(1)}")
    if block.sub_sample and (x.size(3) < 2 or x.size(4) < 2):
        raise ValueError(f"sub_sample=True pools H and W by 2, so H and W must be at least 2, got "
                         f"H={x.size(3)}, W={x.size(4)}")
    return x


def embed(block: NonLocalBlock, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Return the block's queries, keys and values in the lecture's layouts.

    Args:
        block: a ``NonLocalBlock``.
        x: features ``(B, C, T, H, W)``.

    Returns:
        theta_x: queries ``(B, N, Cq)`` with ``N = T*H*W`` (never pooled); ``Cq = C`` for gaussian, else ``C'``.
        phi_x: keys ``(B, Cq, M)``; ``M = T*(H//2)*(W//2)`` with sub-sampling, else ``M = N``.
        g_x: values ``(B, M, C')``.
    """
    validate_instance(block, "block", NonLocalBlock, what="a NonLocalBlock")
    _validate_input(block, x)
    batch = x.size(0)
    if block.mode == "gaussian":
        theta_x, phi_x = x, x
    else:
        theta_x, phi_x = block.theta(x), block.phi(x)
    g_x = block.g(x)
    if block.pool is not None:
        phi_x, g_x = block.pool(phi_x), block.pool(g_x)
    # (B, Cq, T, H, W) -> (B, Cq, N) -> (B, N, Cq)
    theta_x = theta_x.reshape(batch, theta_x.size(1), -1).permute(0, 2, 1)
    # (B, Cq, T, H', W') -> (B, Cq, M)
    phi_x = phi_x.reshape(batch, phi_x.size(1), -1)
    # (B, C', T, H', W') -> (B, C', M) -> (B, M, C')
    g_x = g_x.reshape(batch, g_x.size(1), -1).permute(0, 2, 1)
    return theta_x, phi_x, g_x


def pairwise_weights(theta_x: torch.Tensor, phi_x: torch.Tensor, mode: str,
                     W_f: nn.Conv2d | None = None) -> torch.Tensor:
    """Return the normalised affinities ``f(x_i, x_j) / C(x)`` as the lecture computes them.

    Args:
        theta_x: queries ``(B, N, Cq)``.
        phi_x: keys ``(B, Cq, M)``.
        mode: ``"gaussian"``/``"embedded"`` (softmax over j of ``theta_i . phi_j``, no 1/sqrt(d)), ``"dot"``
            (``theta_i . phi_j / M``) or ``"concatenate"`` (``ReLU(W_f [theta_i, phi_j]) / M``).
        W_f: for ``"concatenate"`` only, the 1x1 ``nn.Conv2d(2 Cq, 1)`` projection (the ReLU is applied here).

    Returns:
        ``(B, N, M)`` weights, same dtype as the inputs; M is the number of key positions.
    """
    validate_tensor(theta_x, "theta_x", ndim=3, layout="(B, N, Cq)", dtype="floating")
    validate_tensor(phi_x, "phi_x", ndim=3, layout="(B, Cq, M)", dtype="floating")
    validate_choice(mode, "mode", MODES)
    if mode == "concatenate":
        if W_f is None:
            raise ValueError("mode='concatenate' needs W_f, the Conv2d(2*C', 1, kernel_size=1) projection")
        validate_instance(W_f, "W_f", nn.Conv2d, what="an nn.Conv2d(2*C', 1, kernel_size=1)")
        num_queries, num_keys = theta_x.size(1), phi_x.size(2)
        # (B, N, Cq) -> (B, Cq, N, 1) -> (B, Cq, N, M)
        theta_rep = theta_x.permute(0, 2, 1).unsqueeze(3).repeat(1, 1, 1, num_keys)
        # (B, Cq, M) -> (B, Cq, 1, M) -> (B, Cq, N, M)
        phi_rep = phi_x.unsqueeze(2).repeat(1, 1, num_queries, 1)
        pairs = torch.cat([theta_rep, phi_rep], dim=1)  # (B, 2Cq, N, M)
        f = F.relu(W_f(pairs)).squeeze(1)  # (B, 1, N, M) -> (B, N, M)
        return f / num_keys
    f = torch.matmul(theta_x, phi_x)  # (B, N, Cq) @ (B, Cq, M) -> (B, N, M)
    if mode == "dot":
        return f / f.size(-1)
    return F.softmax(f, dim=-1)
