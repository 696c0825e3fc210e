"""The boring-video fixed point of I3D: a video made of one repeated image, and how far an inflated network is
from giving the 2D network's output on it.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from course_utils.validation import validate_bool, validate_instance, validate_int, validate_tensor

__all__ = ["boring_video", "boring_video_difference", "per_frame_difference", "zero_padding_edge_factors"]


def boring_video(images: torch.Tensor, num_frames: int) -> torch.Tensor:
    """Repeat each image in time: the 'boring video' of I3D's fixed point.

    Args:
        images: tensor (B, C, H, W), any dtype.
        num_frames: T >= 1.

    Returns:
        A new contiguous tensor (B, C, T, H, W) with ``out[:, :, t] == images`` for every t.
    """
    validate_tensor(images, "images", ndim=4, layout="(B, C, H, W)")
    num_frames = validate_int(num_frames, "num_frames", minimum=1)
    return images.unsqueeze(2).repeat(1, 1, num_frames, 1, 1)  # (B, C, H, W) -> (B, C, T, H, W)


def zero_padding_edge_factors(num_frames: int, time_kernel: int) -> np.ndarray:
    """Per-frame factor of a mean-inflated convolution's response (bias aside) on a boring video, zero padding.

    Output frame t sums the taps that land on real frames, each weighted 1/Kt: with padding Kt // 2 the factor is
    ``(number of taps inside the clip) / Kt``, e.g. ``[2/3, 1, ..., 1, 2/3]`` for Kt = 3.

    Args:
        num_frames: T >= 1.
        time_kernel: odd Kt >= 1.

    Returns:
        float64 array (T,).
    """
    num_frames = validate_int(num_frames, "num_frames", minimum=1)
    time_kernel = validate_int(time_kernel, "time_kernel", minimum=1)
    if time_kernel % 2 == 0:
        raise ValueError(f"time_kernel must be odd (centred taps), got {time_kernel}")
    half = time_kernel // 2
    taps = np.arange(num_frames)[:, None] + np.arange(-half, half + 1)[None, :]  # (T, Kt) input frame of each tap
    return ((taps >= 0) & (taps < num_frames)).sum(axis=1) / time_kernel


def _outputs(model2d: nn.Module, model3d: nn.Module, images: torch.Tensor,
             num_frames: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode outputs on images and on their boring video; the models' modes are restored afterwards."""
    for name, model in (("model2d", model2d), ("model3d", model3d)):
        validate_instance(model, name, nn.Module, what="an nn.Module")
    video = boring_video(images, num_frames)
    modes = [(m, m.training) for m in (*model2d.modules(), *model3d.modules())]
    try:
        model2d.eval()
        model3d.eval()
        with torch.no_grad():
            return model2d(images), model3d(video)
    finally:
        for module, training in modes:
            module.training = training


def boring_video_difference(model2d: nn.Module, model3d: nn.Module, images: torch.Tensor, num_frames: int) -> float:
    """Largest absolute difference between ``model2d(images)`` and ``model3d(boring_video(images, num_frames))``.

    Both run in eval mode (BatchNorm with its running statistics, no dropout); their modes are restored after.

    Args:
        model2d: maps images (B, C, H, W) to an output (B, ...).
        model3d: its inflated version, mapping (B, C, T, H, W) to the same output shape, or to one with a time axis
            at dim 2 (e.g. feature maps (B, C', T, H', W') against (B, C', H', W')), which is compared frame by frame.
        images: (B, C, H, W), on the models' device and dtype.
        num_frames: T of the boring video.

    Returns:
        The largest absolute difference over every element (and frame), as a Python float.
    """
    out2, out3 = _outputs(model2d, model3d, images, num_frames)
    if out3.dim() == out2.dim() + 1:
        out2 = out2.unsqueeze(2)  # (B, C', H', W') -> (B, C', 1, H', W'), broadcast over the frames
    elif out3.shape != out2.shape:
        raise ValueError(f"model3d's output {tuple(out3.shape)} does not match model2d's {tuple(out2.shape)}")
    return float((out3 - out2).abs().max())


def per_frame_difference(model2d: nn.Module, model3d: nn.Module, images: torch.Tensor, num_frames: int, *,
                         relative: bool = True) -> np.ndarray:
    """Largest absolute difference per output frame, for models whose 3D output keeps a time axis at dim 2.

    Args:
        model2d, model3d, images, num_frames: as in :func:`boring_video_difference`; model3d's output is
            (B, C', T', H', W') and model2d's (B, C', H', W').
        relative: divide by the largest absolute 2D output, so that 1.0 means "as large as the signal".

    Returns:
        float64 array (T',).
    """
    relative = validate_bool(relative, "relative")
    out2, out3 = _outputs(model2d, model3d, images, num_frames)
    if out3.dim() != out2.dim() + 1:
        raise ValueError(f"model3d's output {tuple(out3.shape)} has no time axis to compare with {tuple(out2.shape)}")
    diff = (out3 - out2.unsqueeze(2)).abs().movedim(2, 0).flatten(1)  # (B, C', T', H', W') -> (T', B * C' * H' * W')
    scale = float(out2.abs().max()) if relative else 1.0
    if scale == 0.0:
        raise ValueError("model2d's output is all zeros: use relative=False")
    return (diff.max(dim=1).values / scale).double().cpu().numpy()
