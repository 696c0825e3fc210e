"""I3D inflation: turning 2D convolutions, BatchNorm and pooling (and whole networks) into their 3D versions.

A 2D kernel ``(O, C, kh, kw)`` becomes a 3D kernel ``(O, C, Kt, kh, kw)``. With ``init="mean"`` (I3D) every temporal
slice is ``w2 / Kt``, so on a *boring video* (one image repeated in time) the sum over the ``Kt`` equal frames gives
back the 2D response: the boring-video fixed point. With zero temporal padding the fixed point fails at the clip's
edges, where some taps see padding (see :mod:`course_utils.inflation.fixed_point`).
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.validation import validate_choice, validate_instance, validate_int, validate_tensor

__all__ = ["INITS", "TIME_PADDING_MODES", "TimePaddedConv3d", "inflate_batchnorm", "inflate_conv", "inflate_model",
           "inflate_pool", "inflate_weight"]

TIME_PADDING_MODES = ("zeros", "replicate")
INITS = ("mean", "center")
TimeKernel = int | Callable[[str, nn.Module], int]


class TimePaddedConv3d(nn.Module):
    """A ``Conv3d`` without time padding of its own, after an explicit padding of the time axis only.

    PyTorch's ``padding_mode`` pads every dimension the same way; this module pads time (``"zeros"`` or
    ``"replicate"``) by itself, while the wrapped ``conv`` pads space as the original 2D layer did.

    Args:
        conv: the ``nn.Conv3d``; its time padding must be 0.
        time_padding: frames added at each end of the time axis.
        time_padding_mode: ``"zeros"`` or ``"replicate"`` (repeat the first and the last frame).
    """

    def __init__(self, conv: nn.Conv3d, *, time_padding: int, time_padding_mode: str = "replicate"):
        super().__init__()
        validate_instance(conv, "conv", nn.Conv3d, what="an nn.Conv3d")
        if conv.padding[0] != 0:
            raise ValueError(f"conv must not pad time itself (padding[0] == 0), got padding={conv.padding}")
        self.conv = conv
        self.time_padding = validate_int(time_padding, "time_padding", minimum=0)
        self.time_padding_mode = validate_choice(time_padding_mode, "time_padding_mode", TIME_PADDING_MODES)

    @property
    def weight(self) -> nn.Parameter:
        """The wrapped convolution's weight.

        Returns:
            The parameter ``(O, C / groups, Kt, kh, kw)``.
        """
        return self.conv.weight

    @property
    def bias(self) -> nn.Parameter | None:
        """The wrapped convolution's bias.

        Returns:
            The parameter ``(O,)``, or None for a convolution without bias.
        """
        return self.conv.bias

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pad ``x`` along time only, then convolve.

        Args:
            x: ``(B, C, T, H, W)``; padded to ``(B, C, T + 2p, H, W)`` with ``p = time_padding``.

        Returns:
            The convolution's output ``(B, O, T', H', W')``.
        """
        validate_tensor(x, "x", ndim=5, layout="(B, C, T, H, W)")
        p = self.time_padding
        if p:
            pad = (0, 0, 0, 0, p, p)  # (W left, W right, H top, H bottom, T front, T back)
            x = F.pad(x, pad, mode="replicate") if self.time_padding_mode == "replicate" else F.pad(x, pad)
        return self.conv(x)

    def extra_repr(self) -> str:
        """Show the time padding and its mode in the module's repr."""
        return f"time_padding={self.time_padding}, time_padding_mode={self.time_padding_mode!r}"


def inflate_weight(weight2d: torch.Tensor, time_kernel: int, *, init: str = "mean") -> torch.Tensor:
    """Inflate a 2D kernel along a new time axis.

    Args:
        weight2d: float tensor (O, C, kh, kw).
        time_kernel: Kt >= 1.
        init: ``"mean"``: every slice is ``weight2d / Kt`` (I3D); ``"center"``: the central slice is ``weight2d``,
            the others zero (needs an odd Kt).

    Returns:
        A new contiguous tensor (O, C, Kt, kh, kw) of the same dtype and device, sharing no memory with weight2d.
    """
    validate_tensor(weight2d, "weight2d", ndim=4, layout="(O, C, kh, kw)", dtype="floating")
    time_kernel = validate_int(time_kernel, "time_kernel", minimum=1)
    init = validate_choice(init, "init", INITS)
    w2 = weight2d.detach()
    if init == "mean":
        return w2.unsqueeze(2).repeat(1, 1, time_kernel, 1, 1) / time_kernel  # (O, C, kh, kw) -> (O, C, Kt, kh, kw)
    if time_kernel % 2 == 0:
        raise ValueError(f"init='center' needs an odd time_kernel (a central slice), got {time_kernel}")
    w3 = w2.new_zeros(w2.shape[0], w2.shape[1], time_kernel, *w2.shape[2:])  # (O, C, Kt, kh, kw)
    w3[:, :, time_kernel // 2] = w2
    return w3


def _spatial_padding(conv2d: nn.Conv2d) -> tuple[int, int]:
    if isinstance(conv2d.padding, str):
        if conv2d.padding == "valid":
            return 0, 0
        total = [d * (k - 1) for d, k in zip(conv2d.dilation, conv2d.kernel_size, strict=False)]
        if any(t % 2 for t in total):
            raise ValueError("conv2d uses padding='same' with an even kernel extent (asymmetric padding); "
                             "give it explicit integer padding before inflating")
        return total[0] // 2, total[1] // 2
    return int(conv2d.padding[0]), int(conv2d.padding[1])


def inflate_conv(conv2d: nn.Conv2d, time_kernel: int, *, time_stride: int = 1, time_padding: int | None = None,
                 time_dilation: int = 1, time_padding_mode: str = "zeros", init: str = "mean") -> nn.Module:
    """Inflate a ``Conv2d`` into a 3D convolution (I3D).

    Args:
        conv2d: the 2D layer; stride, padding, padding_mode, dilation, groups and bias carry over to space.
        time_kernel: Kt >= 1.
        time_stride: stride along time.
        time_padding: frames padded at each end of time; ``time_dilation * (time_kernel // 2)`` by default, which
            keeps the number of frames for an odd Kt and time stride 1.
        time_dilation: dilation along time.
        time_padding_mode: ``"zeros"`` (as MMAction2) or ``"replicate"``; it pads time only.
        init: ``"mean"`` or ``"center"`` (see :func:`inflate_weight`). The bias is copied unchanged.

    Returns:
        An ``nn.Conv3d`` mapping (B, C, T, H, W) to (B, O, T', H', W'), or a :class:`TimePaddedConv3d` around one when
        time and space are padded differently (replicate time padding, or a non-zero 2D ``padding_mode``).
        Its weight (O, C / groups, Kt, kh, kw) is a new contiguous tensor, on conv2d's device and dtype.
    """
    validate_instance(conv2d, "conv2d", nn.Conv2d, what="an nn.Conv2d")
    time_kernel = validate_int(time_kernel, "time_kernel", minimum=1)
    time_stride = validate_int(time_stride, "time_stride", minimum=1)
    time_dilation = validate_int(time_dilation, "time_dilation", minimum=1)
    if time_padding is None:
        time_padding = time_dilation * (time_kernel // 2)
    time_padding = validate_int(time_padding, "time_padding", minimum=0)
    time_padding_mode = validate_choice(time_padding_mode, "time_padding_mode", TIME_PADDING_MODES)
    weight = inflate_weight(conv2d.weight, time_kernel, init=init)
    explicit = time_padding_mode != "zeros" or conv2d.padding_mode != "zeros"
    conv3d = nn.Conv3d(conv2d.in_channels, conv2d.out_channels, (time_kernel, *conv2d.kernel_size),
                       stride=(time_stride, *conv2d.stride),
                       padding=(0 if explicit else time_padding, *_spatial_padding(conv2d)),
                       dilation=(time_dilation, *conv2d.dilation), groups=conv2d.groups,
                       bias=conv2d.bias is not None, padding_mode=conv2d.padding_mode,
                       device=weight.device, dtype=weight.dtype)
    with torch.no_grad():
        conv3d.weight.copy_(weight)
        conv3d.weight.requires_grad_(conv2d.weight.requires_grad)
        if conv2d.bias is not None:
            conv3d.bias.copy_(conv2d.bias)
            conv3d.bias.requires_grad_(conv2d.bias.requires_grad)
    conv3d.train(conv2d.training)
    if explicit:
        return TimePaddedConv3d(conv3d, time_padding=time_padding,
                                time_padding_mode=time_padding_mode).train(conv2d.training)
    return conv3d


def inflate_batchnorm(bn2d: nn.BatchNorm2d) -> nn.BatchNorm3d:
    """Turn a ``BatchNorm2d`` into a ``BatchNorm3d`` with the same options, parameters and running statistics.

    Args:
        bn2d: the 2D layer (C channels).

    Returns:
        A ``BatchNorm3d`` with equal eps, momentum, affine and track_running_stats flags, and copies of weight,
        bias, running_mean, running_var and num_batches_tracked (whichever exist); same device, dtype and mode.
    """
    validate_instance(bn2d, "bn2d", nn.BatchNorm2d, what="an nn.BatchNorm2d")
    tensors = list(bn2d.parameters()) + [b for b in bn2d.buffers() if b.is_floating_point()]
    factory = {"device": tensors[0].device, "dtype": tensors[0].dtype} if tensors else {}
    bn3d = nn.BatchNorm3d(bn2d.num_features, eps=bn2d.eps, momentum=bn2d.momentum, affine=bn2d.affine,
                          track_running_stats=bn2d.track_running_stats, **factory)
    bn3d.load_state_dict(bn2d.state_dict())  # copies parameters and every buffer, num_batches_tracked included
    for p3, p2 in zip(bn3d.parameters(), bn2d.parameters(), strict=False):
        p3.requires_grad_(p2.requires_grad)
    return bn3d.train(bn2d.training)


def inflate_pool(pool2d: nn.Module, time_kernel: int = 1, *, time_stride: int = 1, time_padding: int = 0,
                 time_output_size: int | None = 1) -> nn.Module:
    """Inflate a 2D pooling layer: max and average pooling, and their adaptive versions.

    Args:
        pool2d: ``MaxPool2d``, ``AvgPool2d``, ``AdaptiveAvgPool2d`` or ``AdaptiveMaxPool2d``.
        time_kernel, time_stride, time_padding: the time part of a (non-adaptive) pooling window. An
            ``AvgPool2d`` with ``divisor_override=d`` gets ``d * time_kernel``.
        time_output_size: for adaptive pooling, the number of output frames (1: pool time globally, as needed
            before a linear head; None: keep every frame).

    Returns:
        The 3D layer, with spatial options (padding, dilation, ceil_mode, count_include_pad, ...) kept.
    """
    time_kernel = validate_int(time_kernel, "time_kernel", minimum=1)
    time_stride = validate_int(time_stride, "time_stride", minimum=1)
    time_padding = validate_int(time_padding, "time_padding", minimum=0)
    if time_output_size is not None:
        time_output_size = validate_int(time_output_size, "time_output_size", minimum=1)
    pair = nn.modules.utils._pair
    if isinstance(pool2d, (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)):
        size = (time_output_size, *pair(pool2d.output_size))
        if isinstance(pool2d, nn.AdaptiveAvgPool2d):
            return nn.AdaptiveAvgPool3d(size)
        return nn.AdaptiveMaxPool3d(size, return_indices=pool2d.return_indices)
    validate_instance(pool2d, "pool2d", (nn.MaxPool2d, nn.AvgPool2d),
                      what="nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d or nn.AdaptiveMaxPool2d")
    kernel = (time_kernel, *pair(pool2d.kernel_size))
    stride = (time_stride, *pair(pool2d.stride if pool2d.stride is not None else pool2d.kernel_size))
    padding = (time_padding, *pair(pool2d.padding))
    if isinstance(pool2d, nn.MaxPool2d):
        return nn.MaxPool3d(kernel, stride, padding, dilation=(1, *pair(pool2d.dilation)),
                            return_indices=pool2d.return_indices, ceil_mode=pool2d.ceil_mode)
    divisor = None if pool2d.divisor_override is None else pool2d.divisor_override * time_kernel
    return nn.AvgPool3d(kernel, stride, padding, ceil_mode=pool2d.ceil_mode,
                        count_include_pad=pool2d.count_include_pad, divisor_override=divisor)


_INFLATABLE = (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)


def _kernel_for(time_kernel: TimeKernel, name: str, layer: nn.Module, what: str) -> int:
    value = time_kernel(name, layer) if callable(time_kernel) else time_kernel
    return validate_int(value, f"{what} for layer {name!r}", minimum=1)


def inflate_model(model2d: nn.Module, *, time_kernel: TimeKernel = 3, time_padding_mode: str = "zeros",
                  init: str = "mean", pool_time_kernel: TimeKernel = 1) -> nn.Module:
    """Return a deep copy of ``model2d`` with every Conv2d, BatchNorm2d and 2D pooling layer inflated to 3D.

    Linear layers, activations and other dimension-agnostic modules are kept as they are; ``model2d`` is not
    modified. The copy's ``forward`` is the 2D model's own code, so it works on (B, C, T, H, W) only when that
    code is free of 4-D assumptions (e.g. ``torch.flatten(x, 1)`` after a global pool, not ``x.view(B, C)`` or
    ``F.avg_pool2d``): models that hard-code 4-D operations in ``forward`` need their forward adapted by hand.

    Args:
        model2d: any module tree (an ``nn.Conv2d`` alone works too).
        time_kernel: Kt of every convolution, or a function ``(qualified_name, layer) -> int`` choosing Kt per
            convolution (e.g. 3 for the first conv of each block and 1 elsewhere, as in I3D's ResNets).
        time_padding_mode: ``"zeros"`` or ``"replicate"``, for every inflated convolution's time axis.
        init: ``"mean"`` or ``"center"`` (see :func:`inflate_weight`).
        pool_time_kernel: time kernel (and time stride) of every non-adaptive pooling layer, or a function
            ``(qualified_name, layer) -> int``; 1 keeps pooling spatial only. Adaptive pools pool time globally.

    Returns:
        The inflated copy, in the same train/eval mode, device and dtype as ``model2d``.

    Raises:
        TypeError: for a 2D layer this function cannot inflate (e.g. ConvTranspose2d, a subclass of Conv2d).
    """
    validate_instance(model2d, "model2d", nn.Module, what="an nn.Module")
    validate_choice(time_padding_mode, "time_padding_mode", TIME_PADDING_MODES)
    validate_choice(init, "init", INITS)
    for option, value in (("time_kernel", time_kernel), ("pool_time_kernel", pool_time_kernel)):
        if not callable(value):
            validate_int(value, option, minimum=1)
    done: dict[int, nn.Module] = {}  # id of an original layer -> its inflated version (keeps shared layers shared)

    def convert(name: str, layer: nn.Module) -> nn.Module | None:
        if id(layer) in done:
            return done[id(layer)]
        kind = type(layer)
        if kind is nn.Conv2d:
            new = inflate_conv(layer, _kernel_for(time_kernel, name, layer, "time_kernel"),
                               time_padding_mode=time_padding_mode, init=init)
        elif kind is nn.BatchNorm2d:
            new = inflate_batchnorm(layer)
        elif kind in (nn.MaxPool2d, nn.AvgPool2d):
            k = _kernel_for(pool_time_kernel, name, layer, "pool_time_kernel")
            new = inflate_pool(layer, k, time_stride=k).train(layer.training)
        elif kind in (nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d):
            new = inflate_pool(layer).train(layer.training)
        elif kind is nn.Dropout2d:
            new = nn.Dropout3d(layer.p, inplace=layer.inplace).train(layer.training)
        elif isinstance(layer, _INFLATABLE) or kind.__name__.endswith("2d"):
            raise TypeError(f"inflate_model cannot inflate layer {name!r} of type {kind.__name__}; "
                            "inflate it by hand or replace it before calling inflate_model")
        else:
            return None
        done[id(layer)] = new
        return new

    def walk(module: nn.Module, prefix: str) -> None:
        for child_name, child in list(module._modules.items()):  # named_children() would skip repeated layers
            if child is None:
                continue
            name = f"{prefix}.{child_name}" if prefix else child_name
            new = convert(name, child)
            if new is None:
                walk(child, name)
            else:
                setattr(module, child_name, new)

    model3d = copy.deepcopy(model2d)
    root = convert("", model3d)
    if root is not None:
        return root
    walk(model3d, "")
    return model3d

