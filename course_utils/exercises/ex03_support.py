"""Fixtures shared by the checkers of notebook 03: small float64 networks with non-trivial weights and statistics.

Every builder takes a seed and gives the same network every time, so the checks are deterministic. No exercise is
defined here (no ``EXERCISES``).
"""

from __future__ import annotations

import torch
from torch import nn

from course_utils.exercises.framework import fail, plain, same
from course_utils.inflation.inflate import inflate_conv, inflate_model
from course_utils.inflation.resnet2d import build_small_resnet

EARLIER_ANSWERS = {"inflate_conv": inflate_conv, "inflate_model": inflate_model}
"""The course's references for notebook 03's answers, bound under their names while a later exercise is checked."""


def randomize(model: nn.Module, seed: int) -> nn.Module:
    """Give every parameter and BatchNorm buffer seeded non-trivial values (biases, gammas, running stats)."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                if module.affine:
                    module.weight.copy_(torch.rand(module.weight.shape, generator=generator) + 0.5)
                    module.bias.copy_(torch.rand(module.bias.shape, generator=generator) - 0.5)
                if module.track_running_stats:
                    module.running_mean.copy_(torch.rand(module.running_mean.shape, generator=generator) - 0.5)
                    module.running_var.copy_(torch.rand(module.running_var.shape, generator=generator) + 0.5)
                    module.num_batches_tracked.fill_(7)
            elif isinstance(module, (nn.Conv2d, nn.Linear)):
                fan_in = module.weight[0].numel()
                module.weight.copy_(torch.randn(module.weight.shape, generator=generator) / fan_in ** 0.5)
                if module.bias is not None:
                    module.bias.copy_(torch.rand(module.bias.shape, generator=generator) - 0.5)
    return model


def conv_net(seed: int, *, head: bool = True, dropout: float = 0.0) -> nn.Sequential:
    """A plain CNN with biased convs, BatchNorm (eps 1e-3, momentum 0.3), max/avg pooling, then pool + linear head.

    Without ``head`` it stops after the second conv and keeps its feature maps (B, 5, H', W').
    """
    layers = [nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4, eps=1e-3, momentum=0.3), nn.ReLU(),
              nn.MaxPool2d(2), nn.Conv2d(4, 5, (3, 5), stride=(2, 1), padding=(1, 2))]
    if head:
        layers += [nn.BatchNorm2d(5), nn.ReLU(), nn.AvgPool2d(2, ceil_mode=True), nn.AdaptiveAvgPool2d(1),
                   nn.Flatten(), nn.Dropout(dropout), nn.Linear(5, 3)]
    return randomize(nn.Sequential(*layers), seed).double()


def resnet(seed: int) -> nn.Module:
    """The course's small ResNet, 2D, float64, with randomized weights and statistics."""
    return randomize(build_small_resnet(in_channels=3, num_classes=3, widths=(4, 6)), seed).double()


def images(seed: int, *, batch: int = 2, size: int = 12, channels: int = 3) -> torch.Tensor:
    """Random float64 images (B, channels, size, size)."""
    return torch.randn(batch, channels, size, size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


def conv3d_of(module: object, what: str) -> nn.Conv3d:
    """The ``nn.Conv3d`` that ``module`` is, or the only one it contains; fails the case otherwise."""
    if isinstance(module, nn.Conv3d):
        return module
    if not isinstance(module, nn.Module):
        fail(f"{what} should be an nn.Module (an nn.Conv3d)", got=type(module).__name__)
    convs = [m for m in module.modules() if isinstance(m, nn.Conv3d)]
    if len(convs) != 1:
        fail(f"{what} should be (or contain exactly one) nn.Conv3d", expected="1 Conv3d",
             got=f"{len(convs)} Conv3d in a {type(module).__name__}",
             hint="build the layer with nn.Conv3d(...) and copy the inflated weights into it")
    return convs[0]


def shares_memory(a: torch.Tensor, b: torch.Tensor) -> bool:
    """Whether two tensors live in the same storage (read with the base class's methods: a subclass cannot lie)."""
    storage = torch._C.TensorBase.untyped_storage
    return storage(a).data_ptr() == storage(b).data_ptr()


def snapshot(model: nn.Module) -> dict[str, torch.Tensor]:
    """A plain copy of every parameter and buffer."""
    return {name: plain(value).detach() for name, value in model.state_dict().items()}


def changed(model: nn.Module, before: dict[str, torch.Tensor]) -> list[str]:
    """Names of the parameters and buffers of ``model`` that differ from ``before`` (or appeared or vanished)."""
    now = model.state_dict()
    names = sorted(set(now) | set(before))
    return [n for n in names if n not in now or n not in before or not same(now[n], before[n])]
