"""Fixtures shared by the checkers of notebook 06: small float64 models with fixed weights, and seeded inputs.

Everything is deterministic, float64 and on the CPU, so every machine gives the same verdict. No exercise is defined
here (no ``EXERCISES``).
"""

from __future__ import annotations

import torch
from torch import nn

from course_utils.exercises.ex03_support import randomize
from course_utils.inflation.inflate import inflate_model
from course_utils.inflation.resnet2d import build_small_resnet
from course_utils.models import i3d_time_kernels

WIDTHS = (4, 6)  # channels of the small I3D's two stages: different, so a block built for the wrong stage shows


def linear_scorer(in_features: int, num_classes: int, *, seed: int) -> nn.Module:
    """Scores ``(N, num_classes)`` of inputs ``(N, ...)`` with ``in_features`` values each: flatten, then a fixed
    linear layer (float64, weights of order 1 so the scores of different inputs differ clearly)."""
    with torch.random.fork_rng():  # building draws default weights: leave the student's random state alone
        model = nn.Sequential(nn.Flatten(), nn.Linear(in_features, num_classes)).double()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=torch.float64))
    return model.eval()


def clip_scorer(num_classes: int, *, seed: int) -> nn.Module:
    """A small 3D network for clips ``(N, 3, T, H, W)``: conv, BatchNorm (eval statistics), ReLU, pool, linear."""
    with torch.random.fork_rng():  # the student's random state is left as it was; every value is overwritten below
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Conv3d(3, 4, 3, padding=1), nn.BatchNorm3d(4), nn.ReLU(), nn.AdaptiveAvgPool3d(1),
                              nn.Flatten(), nn.Linear(4, num_classes)).double()
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.randn(param.shape, generator=generator, dtype=torch.float64))
        model[1].running_mean.copy_(torch.rand(4, generator=generator, dtype=torch.float64) - 0.5)
        model[1].running_var.copy_(torch.rand(4, generator=generator, dtype=torch.float64) + 0.5)
    return model.eval()


def small_i3d(seed: int) -> nn.Module:
    """An inflated two-stage ``SmallResNet`` (widths 4 and 6, 5 classes), float64, eval mode, with randomized
    weights and BatchNorm statistics; takes clips ``(N, 3, T, H, W)``."""
    with torch.random.fork_rng():  # building draws default weights: leave the student's random state alone
        torch.manual_seed(seed)
        net2d = build_small_resnet(num_classes=5, widths=WIDTHS, stem_stride=1)
        return inflate_model(randomize(net2d, seed).double(), time_kernel=i3d_time_kernels).eval()


def clips(seed: int, *, batch: int = 2, frames: int = 4, size: int = 8) -> torch.Tensor:
    """Random float64 clips ``(batch, 3, frames, size, size)``."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(batch, 3, frames, size, size, generator=generator, dtype=torch.float64)
