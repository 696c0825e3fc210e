"""Three small video networks that pace receptive field growth differently (notebook 04).

- 2D late fusion (the lecture's example): 2D convolutions and pooling applied to every frame, then a global average
  pool that fuses time all at once at the end.
- Uniform 3D: every convolution and pooling layer treats time like the two spatial dimensions (C3D style).
- I3D style: 3D convolutions, but the early pooling layers are ``1x3x3`` (no temporal pooling) and time is pooled
  only later, so the temporal field grows slowly at first.

Every builder returns an ``nn.Sequential`` with named layers (``conv1``, ``pool1``, ...) mapping
(B, C, T, H, W) to (B, channels, 1, 1, 1).
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

from course_utils.validation import validate_int

__all__ = ["i3d_style_net", "late_fusion_net", "uniform_3d_net"]


def _conv(in_channels: int, out_channels: int, kernel: tuple[int, int, int],
          stride: tuple[int, int, int] = (1, 1, 1)) -> nn.Conv3d:
    return nn.Conv3d(in_channels, out_channels, kernel, stride=stride, padding=tuple(k // 2 for k in kernel))


def late_fusion_net(*, in_channels: int = 3, channels: int = 8) -> nn.Sequential:
    """Build the lecture's 2D late-fusion network.

    Layers: 3x3 conv (per frame, padding 1) -> 4x4 max pool (stride 4) -> 3x3 conv (padding 1) -> global average
    pool. On a 3x20x64x64 input the field grows 1x3x3 -> 1x6x6 -> 1x14x14 -> 20x64x64.

    Args:
        in_channels: input channels C.
        channels: channels of both convolutions.

    Returns:
        ``nn.Sequential`` mapping (B, C, T, H, W) to (B, channels, 1, 1, 1).
    """
    in_channels = validate_int(in_channels, "in_channels", minimum=1)
    channels = validate_int(channels, "channels", minimum=1)
    return nn.Sequential(OrderedDict([
        ("conv1", _conv(in_channels, channels, (1, 3, 3))), ("relu1", nn.ReLU()),
        ("pool1", nn.MaxPool3d((1, 4, 4), stride=(1, 4, 4))),
        ("conv2", _conv(channels, channels, (1, 3, 3))), ("relu2", nn.ReLU()),
        ("gap", nn.AdaptiveAvgPool3d(1)),
    ]))


def uniform_3d_net(*, in_channels: int = 3, channels: int = 8, num_blocks: int = 3) -> nn.Sequential:
    """Build a C3D-style network: ``num_blocks`` times (3x3x3 conv, 2x2x2 max pool), a last 3x3x3 conv, global pool.

    Args:
        in_channels: input channels C.
        channels: channels of every convolution.
        num_blocks: how many conv + pool blocks precede the last convolution.

    Returns:
        ``nn.Sequential`` mapping (B, C, T, H, W) to (B, channels, 1, 1, 1).
    """
    in_channels = validate_int(in_channels, "in_channels", minimum=1)
    channels = validate_int(channels, "channels", minimum=1)
    num_blocks = validate_int(num_blocks, "num_blocks", minimum=0)
    layers: list[tuple[str, nn.Module]] = []
    width = in_channels
    for block in range(1, num_blocks + 1):
        layers += [(f"conv{block}", _conv(width, channels, (3, 3, 3))), (f"relu{block}", nn.ReLU()),
                   (f"pool{block}", nn.MaxPool3d(2, stride=2))]
        width = channels
    last = num_blocks + 1
    layers += [(f"conv{last}", _conv(width, channels, (3, 3, 3))), (f"relu{last}", nn.ReLU()),
               ("gap", nn.AdaptiveAvgPool3d(1))]
    return nn.Sequential(OrderedDict(layers))


def i3d_style_net(*, in_channels: int = 3, channels: int = 8) -> nn.Sequential:
    """Build a small network paced like I3D: spatial-only pooling first, temporal pooling later.

    Layers: 3x7x7 conv stride (1, 2, 2) -> 1x3x3 max pool stride (1, 2, 2) -> 3x3x3 conv -> 1x3x3 max pool stride
    (1, 2, 2) -> 3x3x3 conv -> 3x3x3 max pool stride 2 -> 3x3x3 conv -> 2x2x2 max pool stride 2 -> 3x3x3 conv ->
    global average pool (batch norm after every convolution).

    Args:
        in_channels: input channels C.
        channels: channels of every convolution.

    Returns:
        ``nn.Sequential`` mapping (B, C, T, H, W) to (B, channels, 1, 1, 1).
    """
    in_channels = validate_int(in_channels, "in_channels", minimum=1)
    channels = validate_int(channels, "channels", minimum=1)

    def conv_block(index: int, width: int, kernel: tuple[int, int, int],
                   stride: tuple[int, int, int] = (1, 1, 1)) -> list[tuple[str, nn.Module]]:
        return [(f"conv{index}", _conv(width, channels, kernel, stride)), (f"bn{index}", nn.BatchNorm3d(channels)),
                (f"relu{index}", nn.ReLU())]

    return nn.Sequential(OrderedDict([
        *conv_block(1, in_channels, (3, 7, 7), (1, 2, 2)),
        ("pool1", nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))),
        *conv_block(2, channels, (3, 3, 3)),
        ("pool2", nn.MaxPool3d((1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))),
        *conv_block(3, channels, (3, 3, 3)),
        ("pool3", nn.MaxPool3d(3, stride=2, padding=1)),
        *conv_block(4, channels, (3, 3, 3)),
        ("pool4", nn.MaxPool3d(2, stride=2)),
        *conv_block(5, channels, (3, 3, 3)),
        ("gap", nn.AdaptiveAvgPool3d(1)),
    ]))
