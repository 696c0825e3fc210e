"""Choosing the device the course computes on, and seeding every random number generator."""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from course_utils.validation import validate_int

_DEVICE_ENV = "COURSE_DEVICE"


def get_device() -> torch.device:
    """Return the device the course should compute on.

    The environment variable ``COURSE_DEVICE`` (for example ``cpu`` or ``cuda:1``) overrides the
    automatic choice, which is CUDA when available, then Apple's MPS, then the CPU.

    Returns:
        A ``torch.device``.

    Raises:
        ValueError: if ``COURSE_DEVICE`` names a device that is unknown or not available here.
    """
    requested = os.environ.get(_DEVICE_ENV, "").strip()
    if requested:
        try:
            device = torch.device(requested)
        except RuntimeError as error:
            raise ValueError(
                f"{_DEVICE_ENV}={requested!r} is not a device name; use e.g. 'cpu', 'cuda', 'cuda:0' or 'mps'"
            ) from error
        if device.type == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"{_DEVICE_ENV}={requested!r} asks for CUDA, but no CUDA device is available")
        if device.type == "mps" and not _mps_available():
            raise ValueError(f"{_DEVICE_ENV}={requested!r} asks for MPS, but MPS is not available")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy's legacy global generator, and torch (CPU and every CUDA device).

    Args:
        seed: an int in ``[0, 2**32 - 1]`` (NumPy integers too).

    Raises:
        TypeError: if ``seed`` is not an int.
        ValueError: if ``seed`` is negative or not below 2**32.
    """
    seed = validate_int(seed, "seed", minimum=0, maximum=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
