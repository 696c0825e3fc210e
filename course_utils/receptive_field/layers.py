"""Per-layer geometry (kernel, stride, dilation, padding) of the layers a receptive field walk understands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from torch import nn

from course_utils.validation import validate_bool, validate_instance, validate_int, validate_int_tuple

__all__ = ["POINTWISE_LAYERS", "LayerGeometry", "layer_geometry", "output_length"]

#: Layers that act on each position separately (batch norm with its running statistics, as in eval mode).
POINTWISE_LAYERS: tuple[type[nn.Module], ...] = (
    nn.Identity, nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU,
    nn.Mish, nn.Sigmoid, nn.Tanh, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus, nn.Softsign,
    nn.Tanhshrink, nn.LogSigmoid, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout,
    nn.FeatureAlphaDropout, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d,
)
_CONVS = {nn.Conv1d: 1, nn.Conv2d: 2, nn.Conv3d: 3}
_POOLS = {nn.MaxPool1d: 1, nn.MaxPool2d: 2, nn.MaxPool3d: 3, nn.AvgPool1d: 1, nn.AvgPool2d: 2, nn.AvgPool3d: 3,
          nn.LPPool1d: 1, nn.LPPool2d: 2, nn.LPPool3d: 3}
_ADAPTIVE = {nn.AdaptiveAvgPool1d: 1, nn.AdaptiveAvgPool2d: 2, nn.AdaptiveAvgPool3d: 3,
             nn.AdaptiveMaxPool1d: 1, nn.AdaptiveMaxPool2d: 2, nn.AdaptiveMaxPool3d: 3}
_PADS = {nn.ConstantPad1d: 1, nn.ConstantPad2d: 2, nn.ConstantPad3d: 3, nn.ZeroPad1d: 1, nn.ZeroPad2d: 2,
         nn.ZeroPad3d: 3}
_WHY_NOT = {
    nn.Linear: "it connects every position to every output, so the stack ends before it",
    nn.Flatten: "it turns positions into channels, so the stack ends before it",
    nn.MultiheadAttention: "attention lets every position see every other one, depending on the input",
    nn.GroupNorm: "it normalises with statistics over all positions",
    nn.LayerNorm: "it normalises with statistics over the positions it is given",
    nn.InstanceNorm1d: "it normalises with statistics over all positions",
    nn.InstanceNorm2d: "it normalises with statistics over all positions",
    nn.InstanceNorm3d: "it normalises with statistics over all positions",
}


@dataclass(frozen=True)
class LayerGeometry:
    """How one layer maps input positions to output positions, one entry per dimension.

    Output unit ``i`` along a dimension reads input positions ``i * stride - pad_left + tap * dilation`` for
    ``tap`` in ``range(kernel)`` (positions outside ``[0, in_shape)`` are padding).
    """

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pad_left: tuple[int, ...]
    pad_right: tuple[int, ...]
    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]
    out_channels: int | None


def layer_geometry(layer: nn.Module, *, name: str, in_shape: Sequence[int], channels: int,
                   error: type[Exception] = ValueError) -> LayerGeometry:
    """Return the geometry of ``layer`` applied to an input of spatial shape ``in_shape`` with ``channels`` channels.

    Args:
        layer: one layer (not a container).
        name: the layer's dotted name, quoted in errors.
        in_shape: the input's positional shape, e.g. ``(T, H, W)``, ints >= 1.
        channels: the input's channels.
        error: the exception class raised for a layer the recurrence cannot describe.

    Returns:
        The layer's ``LayerGeometry``.

    Raises:
        error: naming the layer, if it cannot be described by kernel, stride, dilation and padding, or if its
            channels or dimensionality do not match the input.
        ValueError: if the input is smaller than the layer's window.
    """
    validate_instance(layer, "layer", nn.Module, what="a torch.nn.Module")
    in_shape = validate_int_tuple(in_shape, "in_shape", minimum=1, layout="(one size per dimension)")
    channels = validate_int(channels, "channels", minimum=1)
    ndim = len(in_shape)
    label = f"layer '{name}' ({type(layer).__name__})"
    kind = type(layer)
    if isinstance(layer, POINTWISE_LAYERS):
        features = getattr(layer, "num_features", None)
        if features is not None and features != channels:
            raise error(f"{label} expects {features} channels but gets {channels}")
        return _geometry([1] * ndim, [1] * ndim, [1] * ndim, [0] * ndim, [0] * ndim, in_shape, False, None, label)
    layer_ndim = _CONVS.get(kind) or _POOLS.get(kind) or _ADAPTIVE.get(kind) or _PADS.get(kind)
    if layer_ndim is None:
        why = next((text for cls, text in _WHY_NOT.items() if isinstance(layer, cls)), None)
        why = why or ("it is a module with its own forward (a residual block, attention, ...) or a layer the "
                      "recurrence does not know")
        raise error(f"cannot compute the receptive field through {label}: {why}. receptive_field walks "
                    f"nn.Sequential stacks of convolution, pooling and pointwise layers")
    if layer_ndim != ndim:
        raise error(f"{label} works on {layer_ndim} spatial/temporal dimension(s) but input_shape has {ndim}; "
                    f"to apply a 2D layer to every frame of a (C, T, H, W) input, use the 3D layer with a "
                    f"temporal kernel of 1, e.g. Conv3d(..., kernel_size=(1, 3, 3))")
    if kind in _CONVS:
        if layer.in_channels != channels:
            raise error(f"{label} expects {layer.in_channels} input channels but gets {channels}")
        kernel, stride, dilation = layer.kernel_size, layer.stride, layer.dilation
        if layer.padding == "valid":
            left = right = (0,) * ndim
        elif layer.padding == "same":
            total = [d * (k - 1) for k, d in zip(kernel, dilation, strict=False)]
            left, right = [t // 2 for t in total], [t - t // 2 for t in total]
        else:
            left = right = layer.padding
        return _geometry(kernel, stride, dilation, left, right, in_shape, False, layer.out_channels, label)
    if kind in _POOLS:
        kernel = _tuple(layer.kernel_size, ndim)
        stride = _tuple(layer.stride if layer.stride is not None else layer.kernel_size, ndim)
        dilation = _tuple(getattr(layer, "dilation", 1), ndim)
        padding = _tuple(getattr(layer, "padding", 0), ndim)
        return _geometry(kernel, stride, dilation, padding, padding, in_shape, layer.ceil_mode, None, label)
    if kind in _ADAPTIVE:
        wanted = _tuple(layer.output_size, ndim)
        kernel = []
        for dim, (n, o) in enumerate(zip(in_shape, wanted, strict=False)):
            o = n if o is None else o
            if n % o:
                raise error(f"{label} pools {n} positions into {o} along dimension {dim}: its windows then differ "
                            f"in size and position, which no single receptive field describes; use an input size "
                            f"divisible by the output size, or an output size of 1 (global pooling)")
            kernel.append(n // o)
        return _geometry(kernel, kernel, [1] * ndim, [0] * ndim, [0] * ndim, in_shape, False, None, label)
    pads = layer.padding  # (left_last, right_last, left_before_last, ...): last dimension first
    left = [pads[2 * (ndim - 1 - dim)] for dim in range(ndim)]
    right = [pads[2 * (ndim - 1 - dim) + 1] for dim in range(ndim)]
    if min(left + right) < 0:
        raise error(f"{label} crops the input (negative padding), which the recurrence does not describe")
    return _geometry([1] * ndim, [1] * ndim, [1] * ndim, left, right, in_shape, False, None, label)


def output_length(n: int, *, kernel: int, stride: int, dilation: int, pad_left: int, pad_right: int,
                  ceil_mode: bool = False) -> int:
    """Return how many output positions a window layer gives along a dimension of ``n`` input positions.

    Args:
        n: input positions, an int >= 0.
        kernel, stride, dilation: the window, ints >= 1.
        pad_left, pad_right: padding on each side, ints >= 0.
        ceil_mode: round the number of windows up, as PyTorch's pooling layers do with ``ceil_mode=True``.

    Returns:
        The number of output positions, 0 when the window does not fit.
    """
    n = validate_int(n, "n", minimum=0)
    kernel, stride, dilation = (validate_int(value, name, minimum=1) for value, name in (
        (kernel, "kernel"), (stride, "stride"), (dilation, "dilation")))
    pad_left, pad_right = validate_int(pad_left, "pad_left", minimum=0), validate_int(pad_right, "pad_right", minimum=0)
    ceil_mode = validate_bool(ceil_mode, "ceil_mode")
    span = n + pad_left + pad_right - dilation * (kernel - 1) - 1  # as in PyTorch, with rounding towards -inf
    n_out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (n_out - 1) * stride >= n + pad_left:  # PyTorch: the last window starts inside the input
        n_out -= 1
    return max(n_out, 0)


def _geometry(kernel: Sequence[int], stride: Sequence[int], dilation: Sequence[int], left: Sequence[int],
              right: Sequence[int], in_shape: Sequence[int], ceil_mode: bool, out_channels: int | None,
              label: str) -> LayerGeometry:
    out_shape = []
    for dim, (n, k, s, d, pl, pr) in enumerate(zip(in_shape, kernel, stride, dilation, left, right, strict=False)):
        n_out = output_length(n, kernel=k, stride=s, dilation=d, pad_left=pl, pad_right=pr, ceil_mode=ceil_mode)
        if n_out < 1:
            raise ValueError(f"{label} gets {n} positions along dimension {dim}, fewer than its window of "
                             f"{d * (k - 1) + 1} (padding included): use a larger input_shape")
        out_shape.append(n_out)
    as_tuple = lambda values: tuple(int(v) for v in values)  # noqa: E731
    return LayerGeometry(as_tuple(kernel), as_tuple(stride), as_tuple(dilation), as_tuple(left), as_tuple(right),
                         as_tuple(in_shape), tuple(out_shape), out_channels)


def _tuple(value: int | Sequence[int], ndim: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * ndim
