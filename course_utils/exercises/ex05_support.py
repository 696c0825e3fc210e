"""Fixed inputs and reference blocks shared by the checkers of notebook 05 (non-local blocks).

Everything here is deterministic (seeded ``torch.Generator``), float64 and on the CPU, so every machine gives the same
verdict. Reference blocks get non-zero weights everywhere, ``W_z`` included: a new block is the identity, and a checker
that only looked at new blocks could not tell a correct attention from a wrong one.
"""

from __future__ import annotations

import torch

from course_utils.non_local.block import NonLocalBlock


def fixed_block(mode: str, *, in_channels: int = 6, inter_channels: int | None = None, sub_sample: bool = False,
                bn: bool = True, seed: int = 0) -> NonLocalBlock:
    """A float64 ``NonLocalBlock`` in eval mode whose every weight, bias and BN statistic is a fixed non-zero value."""
    block = NonLocalBlock(in_channels, inter_channels, mode=mode, sub_sample=sub_sample, bn=bn).double()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in block.named_parameters():
            fan_in = max(param[0].numel(), 1) if param.dim() > 1 else 1
            values = torch.randn(param.shape, generator=generator, dtype=torch.float64) / fan_in ** 0.5
            if name.startswith("W_f") and name.endswith("bias"):
                values = values - 0.3  # about half of the pairs end up below zero: the ReLU matters
            param.copy_(values)
        if bn:
            batch_norm = block.W_z[1]
            batch_norm.running_mean.copy_(0.1 * torch.randn(in_channels, generator=generator, dtype=torch.float64))
            batch_norm.running_var.copy_(0.5 + torch.rand(in_channels, generator=generator, dtype=torch.float64))
    return block.eval()


def new_block(mode: str, *, in_channels: int = 6, sub_sample: bool = False, seed: int = 0) -> NonLocalBlock:
    """A freshly initialised float64 block (so the identity), seeded for reproducible conv weights."""
    state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        block = NonLocalBlock(in_channels, mode=mode, sub_sample=sub_sample).double()
    finally:
        torch.random.set_rng_state(state)
    return block


def non_contiguous(x: torch.Tensor) -> torch.Tensor:
    """The same values as ``x`` ``(B, C, T, H, W)``, stored with H and W swapped in memory (not contiguous)."""
    # (B, C, T, W, H) storage, transposed back to (B, C, T, H, W) as a view
    return x.transpose(3, 4).contiguous().transpose(3, 4)
