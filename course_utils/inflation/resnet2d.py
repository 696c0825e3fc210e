"""A small 2D ResNet (stem conv + max pool, BasicBlocks with BatchNorm, global pooling, linear head) to inflate.

Its ``forward`` uses only dimension-agnostic operations (module calls, ``+``, ``F.relu`` and ``torch.flatten(x, 1)``
after the global pool), so the same code runs on (B, C, T, H, W) once :func:`course_utils.inflation.inflate_model`
has replaced its layers by 3D ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validation import validate_instance, validate_int

__all__ = ["BasicBlock", "SmallResNet", "build_small_resnet", "make_basic_block"]


class BasicBlock(nn.Module):
    """ResNet's basic block: conv-BN-ReLU, conv-BN, plus the (optionally downsampled) input, then ReLU.

    Args:
        conv1, bn1, conv2, bn2: the residual branch's layers.
        downsample: maps the input to the branch's output shape (a strided 1x1 conv + BN) when the block changes
            the stride or the number of channels; None for the identity shortcut.
    """

    def __init__(self, conv1: nn.Module, bn1: nn.Module, conv2: nn.Module, bn2: nn.Module, *,
                 downsample: nn.Module | None = None):
        super().__init__()
        for name, layer in (("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2)):
            validate_instance(layer, name, nn.Module, what="an nn.Module")
        if downsample is not None:
            validate_instance(downsample, "downsample", nn.Module, what="None or an nn.Module")
        self.conv1, self.bn1, self.conv2, self.bn2 = conv1, bn1, conv2, bn2
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Run the residual branch and add the shortcut.

        Args:
            x: images ``(B, C, H, W)``, or videos ``(B, C, T, H, W)`` once inflated.

        Returns:
            ``(B, C', H', W')``, or ``(B, C', T', H', W')`` once inflated.
        """
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = x if self.downsample is None else self.downsample(x)
        return F.relu(out + shortcut)


def make_basic_block(in_channels: int, out_channels: int, *, stride: int = 1) -> BasicBlock:
    """Build a BasicBlock with 3x3 convolutions (no bias, BatchNorm follows) and a 1x1 shortcut when needed.

    Args:
        in_channels, out_channels: channels in and out.
        stride: spatial stride of the first conv (and of the shortcut).

    Returns:
        A ``BasicBlock`` of 2D layers.
    """
    in_channels = validate_int(in_channels, "in_channels", minimum=1)
    out_channels = validate_int(out_channels, "out_channels", minimum=1)
    stride = validate_int(stride, "stride", minimum=1)
    downsample = None
    if stride != 1 or in_channels != out_channels:
        downsample = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                   nn.BatchNorm2d(out_channels))
    return BasicBlock(nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1, bias=False),
                      nn.BatchNorm2d(out_channels),
                      nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False),
                      nn.BatchNorm2d(out_channels), downsample=downsample)


class SmallResNet(nn.Module):
    """stem -> stages -> global pool -> flatten -> head.

    Args:
        stem: e.g. ``Sequential(conv, BN, ReLU, max pool)``.
        stages: the residual stages, e.g. a ``Sequential`` of ``Sequential`` s of ``BasicBlock`` s.
        pool: a global pooling layer (``nn.AdaptiveAvgPool2d(1)``; ``AdaptiveAvgPool3d(1)`` once inflated).
        head: the linear classifier from ``features`` to ``logits``.
    """

    def __init__(self, stem: nn.Module, stages: nn.Module, pool: nn.Module, head: nn.Linear):
        super().__init__()
        for name, part in (("stem", stem), ("stages", stages), ("pool", pool)):
            validate_instance(part, name, nn.Module, what="an nn.Module")
        validate_instance(head, "head", nn.Linear, what="an nn.Linear")
        self.stem, self.stages, self.pool, self.head = stem, stages, pool, head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the pooled features.

        Args:
            x: images ``(B, C, H, W)``, or videos ``(B, C, T, H, W)`` once inflated.

        Returns:
            Features ``(B, D)``.
        """
        x = self.pool(self.stages(self.stem(x)))  # (B, D, 1, 1), or (B, D, 1, 1, 1) once inflated
        return torch.flatten(x, 1)  # -> (B, D), whatever the number of pooled dimensions

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Compute the class scores.

        Args:
            x: images ``(B, C, H, W)``, or videos ``(B, C, T, H, W)`` once inflated.

        Returns:
            Logits ``(B, num_classes)``.
        """
        return self.head(self.features(x))


def build_small_resnet(*, in_channels: int = 3, num_classes: int = 8, widths: Sequence[int] = (16, 32),
                       blocks_per_stage: int = 1, stem_stride: int = 1) -> SmallResNet:
    """Build a small 2D ResNet: a 3x3 stem conv + BN + ReLU + 3x3/2 max pool, then one stage per width.

    Every stage after the first halves the resolution with a stride-2 first block.

    Args:
        in_channels: input channels (3 for RGB).
        num_classes: size of the linear head.
        widths: channels of each stage, e.g. (16, 32); the stem outputs ``widths[0]``.
        blocks_per_stage: BasicBlocks per stage.
        stem_stride: stride of the stem conv (2 to quarter the compute on large frames).

    Returns:
        A ``SmallResNet`` of 2D layers, in training mode, float32, on the CPU.
    """
    validate_instance(widths, "widths", (tuple, list), what="a non-empty tuple of ints >= 1, e.g. (16, 32)")
    if not widths:
        raise ValueError("widths must be a non-empty tuple of ints >= 1, e.g. (16, 32), got ()")
    widths = tuple(validate_int(width, f"widths[{index}]", minimum=1) for index, width in enumerate(widths))
    in_channels = validate_int(in_channels, "in_channels", minimum=1)
    num_classes = validate_int(num_classes, "num_classes", minimum=1)
    blocks_per_stage = validate_int(blocks_per_stage, "blocks_per_stage", minimum=1)
    stem_stride = validate_int(stem_stride, "stem_stride", minimum=1)
    stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 3, stride=stem_stride, padding=1, bias=False),
                         nn.BatchNorm2d(widths[0]), nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))
    stages = []
    channels = widths[0]
    for index, width in enumerate(widths):
        blocks = [make_basic_block(channels, width, stride=1 if index == 0 else 2)]
        blocks += [make_basic_block(width, width) for _ in range(blocks_per_stage - 1)]
        stages.append(nn.Sequential(*blocks))
        channels = width
    return SmallResNet(stem, nn.Sequential(*stages), nn.AdaptiveAvgPool2d(1), nn.Linear(channels, num_classes))
