"""Receptive fields measured with autograd: which input positions move one output unit.

The measurement runs on a float64 CPU copy of the network in which every path from the input to the output counts:
convolution weights are set to 1 and biases to 0, max and LP pooling become a mean over the same window (same
kernel, stride, padding, dilation and ceil mode), adaptive max pooling becomes adaptive average pooling, and
activations, batch norm and dropout become the identity (no ReLU dead zones, no running statistics). The input is
all ones. Every partial derivative is then a sum of positive products, so it is non-zero exactly where a path exists.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.receptive_field.analytic import ReceptiveFieldError, validate_input_shape, validate_position
from course_utils.receptive_field.layers import POINTWISE_LAYERS, output_length
from course_utils.validation import validate_instance, validate_tensor

__all__ = ["empirical_receptive_field", "gradient_bounds", "input_gradient", "positive_copy"]

_WINDOW_POOLS = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
                 nn.LPPool1d, nn.LPPool2d, nn.LPPool3d)
_ADAPTIVE_MAX = {nn.AdaptiveMaxPool1d: nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool2d: nn.AdaptiveAvgPool2d,
                 nn.AdaptiveMaxPool3d: nn.AdaptiveAvgPool3d}
_GLOBAL_NORMS = (nn.GroupNorm, nn.LayerNorm, nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)
_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class _WindowMean(nn.Module):
    """Mean over a pooling window with the geometry of a max/avg/LP pooling layer; zero padding, positive gradient.

    Args:
        ndim: 1, 2 or 3 positional dimensions.
        kernel, stride, dilation, padding: one int per dimension, as the pooling layer's.
        ceil_mode: as the pooling layer's (a last partial window is padded with zeros).
    """

    def __init__(self, ndim: int, *, kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int],
                 padding: Sequence[int], ceil_mode: bool):
        super().__init__()
        self.ndim, self.kernel, self.stride = ndim, tuple(kernel), tuple(stride)
        self.dilation, self.padding, self.ceil_mode = tuple(dilation), tuple(padding), ceil_mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Average ``x`` of shape (B, C, *positions) over each window; returns (B, C, *output positions)."""
        pads: list[int] = []
        for dim in reversed(range(self.ndim)):  # F.pad wants the last dimension first
            n, k, s, d, p = (x.shape[2 + dim], self.kernel[dim], self.stride[dim], self.dilation[dim],
                             self.padding[dim])
            n_out = output_length(n, kernel=k, stride=s, dilation=d, pad_left=p, pad_right=p,
                                  ceil_mode=self.ceil_mode)
            extra = max(0, (n_out - 1) * s + d * (k - 1) + 1 - (n + 2 * p))  # ceil mode's last partial window
            pads += [p, p + extra]
        channels = x.shape[1]
        weight = x.new_full((channels, 1, *self.kernel), 1.0 / math.prod(self.kernel))  # (C, 1, *kernel)
        return _CONV[self.ndim](F.pad(x, pads), weight, stride=self.stride, dilation=self.dilation, groups=channels)


def positive_copy(module: nn.Module) -> nn.Module:
    """Return a float64 CPU deep copy of ``module``, in eval mode, in which every input-output path counts.

    Only layers held as modules are replaced; functional calls inside a custom ``forward`` (``F.relu``,
    ``F.max_pool3d``) are left as they are. Parameters of the copy do not require gradients.

    Args:
        module: the network; it is not modified.

    Returns:
        The positive copy.

    Raises:
        TypeError: if ``module`` is not an ``nn.Module``.
        ReceptiveFieldError: naming a layer that normalises over positions (group, layer, instance norm).
    """
    validate_instance(module, "module", nn.Module, what="a torch.nn.Module")
    holder = nn.Sequential(copy.deepcopy(module)).to(device="cpu", dtype=torch.float64).eval()
    holder.requires_grad_(False)  # only the input's gradient is wanted
    _make_positive(holder, prefix="")
    return holder[0]


def input_gradient(module: nn.Module, input_shape: Sequence[int], *, position: Sequence[int] | None = None
                   ) -> torch.Tensor:
    """Return how strongly each input position moves one output unit of the positive copy of ``module``.

    Args:
        module: a network mapping (B, C, *positions) to (B, C', *positions'); it is not modified.
        input_shape: one input without the batch dimension, ``(C, L)``, ``(C, H, W)`` or ``(C, T, H, W)``.
        position: the output unit, one index per output dimension; the centre by default.

    Returns:
        float64 CPU tensor of shape ``input_shape[1:]`` (e.g. (T, H, W)): the gradient of that unit (summed over
        output channels) with respect to the input, summed over input channels; non-negative, non-zero exactly in
        the receptive field.
    """
    shape = validate_input_shape(input_shape)
    net = positive_copy(module)
    x = torch.ones((1, *shape), dtype=torch.float64, requires_grad=True)  # (B=1, C, *positions)
    y = net(x)
    if not isinstance(y, torch.Tensor) or y.dim() != x.dim():
        got = tuple(y.shape) if isinstance(y, torch.Tensor) else type(y).__name__
        raise ValueError(f"the network must map (B, C, *positions) to (B, C', *positions) with the same number of "
                         f"positional dimensions; input {tuple(x.shape)} gave {got}")
    position = validate_position(position, tuple(y.shape[2:]))
    (gradient,) = torch.autograd.grad(y[(0, slice(None), *position)].sum(), x)  # (1, C, *positions)
    return gradient[0].sum(dim=0)  # (C, *positions) -> (*positions)


def gradient_bounds(gradient: torch.Tensor) -> tuple[tuple[int, int] | None, ...]:
    """Return, per dimension, the first and last index where ``gradient`` is non-zero (``None`` if nowhere).

    Args:
        gradient: tensor of shape (*positions), e.g. the output of :func:`input_gradient`.

    Returns:
        One ``(first, last)`` pair (inclusive) or None per dimension of ``gradient``.
    """
    nonzero = validate_tensor(gradient, "gradient", layout="(*positions)") != 0
    bounds = []
    for dim in range(nonzero.dim()):
        others = [d for d in range(nonzero.dim()) if d != dim]
        hit = torch.nonzero(nonzero.any(dim=others) if others else nonzero).flatten()
        bounds.append((int(hit[0]), int(hit[-1])) if hit.numel() else None)
    return tuple(bounds)


def empirical_receptive_field(module: nn.Module, input_shape: Sequence[int],
                              position: Sequence[int] | None = None) -> tuple[int, ...]:
    """Measure the receptive field size of one output unit with autograd.

    Args:
        module: the network (left untouched; a positive copy is measured, see the module docstring).
        input_shape: one input without the batch dimension, ``(C, L)``, ``(C, H, W)`` or ``(C, T, H, W)``.
        position: the output unit, one index per output dimension; the centre by default.

    Returns:
        One int per dimension: the extent (last - first + 1) of the input positions with a non-zero gradient,
        clipped to the input by construction; 0 for a dimension in which the unit sees only padding.
    """
    bounds = gradient_bounds(input_gradient(module, input_shape, position=position))
    return tuple(0 if b is None else b[1] - b[0] + 1 for b in bounds)


def _make_positive(parent: nn.Module, prefix: str) -> None:
    for name, child in parent.named_children():
        label = f"{prefix}.{name}" if prefix else name
        replacement = _positive_layer(child, label)
        if replacement is not None:
            setattr(parent, name, replacement)
        else:
            _make_positive(child, label)


def _positive_layer(layer: nn.Module, label: str) -> nn.Module | None:
    """Return the replacement for ``layer``, or None to keep it (its children are then visited)."""
    if isinstance(layer, POINTWISE_LAYERS):
        return nn.Identity()
    if isinstance(layer, _GLOBAL_NORMS):
        raise ReceptiveFieldError(f"layer '{label}' ({type(layer).__name__}) normalises with statistics over "
                                  f"positions, so every output depends on every input; measure without it")
    if isinstance(layer, _WINDOW_POOLS):
        ndim = int(type(layer).__name__[-2])
        expand = lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * ndim  # noqa: E731
        return _WindowMean(ndim, kernel=expand(layer.kernel_size),
                          stride=expand(layer.stride if layer.stride is not None else layer.kernel_size),
                          dilation=expand(getattr(layer, "dilation", 1)), padding=expand(getattr(layer, "padding", 0)),
                          ceil_mode=bool(layer.ceil_mode))
    if type(layer) in _ADAPTIVE_MAX:
        return _ADAPTIVE_MAX[type(layer)](layer.output_size)
    if isinstance(layer, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
        with torch.no_grad():
            layer.weight.fill_(1.0)
            if layer.bias is not None:
                layer.bias.zero_()
        return layer
    return None
