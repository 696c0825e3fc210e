"""get_device honours COURSE_DEVICE and falls back to the CPU; seed_everything seeds every generator."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from course_utils.device import get_device, seed_everything


def test_environment_override(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


def test_automatic_choice_is_an_available_device(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    device = get_device()
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert device.type == expected
    else:
        assert device.type in ("mps", "cpu")
    torch.zeros(1, device=device)


def test_bad_override_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "toaster")
    with pytest.raises(ValueError, match="COURSE_DEVICE"):
        get_device()
    if not torch.cuda.is_available():
        monkeypatch.setenv("COURSE_DEVICE", "cuda")
        with pytest.raises(ValueError, match="no CUDA device"):
            get_device()


def test_seed_everything_makes_draws_repeatable():
    seed_everything(7)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(7)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first


@pytest.mark.parametrize("seed, error", [(1.5, TypeError), (True, TypeError), (-1, ValueError), (2**32, ValueError)])
def test_seed_everything_validates(seed, error):
    with pytest.raises(error, match="seed"):
        seed_everything(seed)
