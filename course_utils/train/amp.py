"""Automatic mixed precision, on CUDA only: bfloat16 where the GPU has it, float16 with a gradient scaler otherwise.

On a CPU (or Apple's MPS) the course computes in float32: the speed-up of reduced precision there is small and its
numerical surprises are not worth it in a course. The dtype is decided from ``device.type``, never from a device name.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["autocast", "autocast_dtype", "grad_scaler"]


def autocast_dtype(device: torch.device, *, enabled: bool = True) -> torch.dtype | None:
    """The dtype autocast should use on ``device``, or None for full precision.

    Args:
        device: where the model computes.
        enabled: False turns mixed precision off everywhere.

    Returns:
        ``torch.bfloat16`` on a CUDA device that supports it, ``torch.float16`` on an older CUDA device, None on
        every other device or when not ``enabled``.
    """
    if not enabled or not device.type == "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


@contextlib.contextmanager
def autocast(device: torch.device, dtype: torch.dtype | None) -> Iterator[None]:
    """``torch.autocast`` on ``device.type`` with ``dtype``; no change at all when ``dtype`` is None."""
    if dtype is None:
        yield
        return
    with torch.autocast(device_type=device.type, dtype=dtype):
        yield


def grad_scaler(device: torch.device, dtype: torch.dtype | None) -> torch.amp.GradScaler | None:
    """A gradient scaler for float16 training (its small range underflows gradients), None otherwise.

    bfloat16 has float32's range, so it needs no scaler.
    """
    if dtype != torch.float16:
        return None
    return torch.amp.GradScaler(device.type)
