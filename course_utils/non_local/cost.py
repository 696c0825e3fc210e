"""Measuring what a non-local block costs: time (median of interleaved runs) and peak memory, naive against fast.

Peak memory is measured, not guessed from Python's allocator (``tracemalloc`` does not see torch's CPU tensors):
- on CUDA, ``torch.cuda.max_memory_allocated`` minus what was allocated before the call;
- on a Linux CPU, the process's resident-set high-water mark (``VmHWM`` in ``/proc/self/status``), reset through
  ``/proc/self/clear_refs`` before the call, minus the resident set before it. glibc is asked (``mallopt``) to serve
  every allocation of 64 KiB or more with ``mmap``, so freed tensors go back to the OS and later calls cannot hide
  inside memory freed by earlier ones. This counts every page the call touched (torch's buffers included), to within
  a few hundred KiB of allocator noise.
Elsewhere (macOS CPU, MPS) the measured peak is ``None``; ``naive_intermediate_bytes`` gives the analytic size.
"""

from __future__ import annotations

import ctypes
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from course_utils.non_local.block import MODES
from course_utils.validation import (
    validate_bool,
    validate_choice,
    validate_instance,
    validate_int,
    validate_int_tuple,
    validate_number,
    validate_tensor,
)

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")
_MMAP_SET = False


def naive_intermediate_bytes(mode: str, shape: tuple[int, int, int, int, int], *, inter_channels: int | None = None,
                             sub_sample: bool = False, backward: bool = False, element_size: int = 4) -> int:
    """Analytic size of the ``N x M``-sized tensors the naive block holds at its peak.

    Forward (no autograd): the affinities and their normalised copy (``2 N M``); for concatenation the two repeated
    embeddings and their concatenation (``4 C' N M``) plus ``2 N M``. Forward + backward roughly doubles this: the
    saved tensors plus their gradients.

    Args:
        mode: the pairwise function.
        shape: the input shape ``(B, C, T, H, W)``.
        inter_channels: C'; default ``max(C // 2, 1)``.
        sub_sample: whether keys are pooled by (1, 2, 2).
        backward: whether autograd runs a backward pass too.
        element_size: bytes per element (4 for float32).

    Returns:
        bytes, an int.
    """
    validate_choice(mode, "mode", MODES)
    batch, channels, num_frames, height, width = validate_int_tuple(shape, "shape", length=5, minimum=1,
                                                                    layout="(B, C, T, H, W)")
    inter = max(channels // 2, 1) if inter_channels is None else validate_int(inter_channels, "inter_channels",
                                                                              minimum=1)
    sub_sample, backward = validate_bool(sub_sample, "sub_sample"), validate_bool(backward, "backward")
    element_size = validate_int(element_size, "element_size", minimum=1)
    num_queries = num_frames * height * width
    num_keys = num_frames * (height // 2) * (width // 2) if sub_sample else num_queries
    per_pair = 4 * inter + 2 if mode == "concatenate" else 2
    if backward:
        per_pair *= 2
    return batch * num_queries * num_keys * per_pair * element_size


def can_measure_memory(device: torch.device) -> bool:
    """Say whether ``measure`` reports a peak on ``device``: on CUDA, or on a Linux CPU with ``/proc``.

    Args:
        device: a ``torch.device``.

    Returns:
        True where the peak is measured, False where ``measure`` returns None for it.
    """
    validate_instance(device, "device", torch.device, what="a torch.device (e.g. get_device())")
    return device.type == "cuda" or (device.type == "cpu" and sys.platform.startswith("linux") and _STATUS.exists())


def _status_kib(field: str) -> int:
    for line in _STATUS.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} missing from {_STATUS}")


def _serve_large_allocations_with_mmap() -> None:
    global _MMAP_SET
    if not _MMAP_SET:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD: mmap (and unmap on free) every block >= 64 KiB
        libc.mallopt(-1, 128 * 1024)  # M_TRIM_THRESHOLD: give freed heap tops back to the OS
        _MMAP_SET = True


def measure(fn: Callable[[], object], device: torch.device) -> tuple[float, int | None]:
    """Run ``fn`` once and measure its time and, where possible, its peak memory.

    Args:
        fn: a zero-argument callable, e.g. from ``block_step``.
        device: where ``fn`` computes (for synchronisation and memory).

    Returns:
        ``(seconds, peak extra bytes)``; the peak is None where ``can_measure_memory(device)`` is False.
    """
    validate_instance(fn, "fn", Callable, what="a callable taking no argument")
    validate_instance(device, "device", torch.device, what="a torch.device (e.g. get_device())")
    peak = None
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize(device)
        seconds = time.perf_counter() - start
        peak = torch.cuda.max_memory_allocated(device) - before
    elif can_measure_memory(device):
        _serve_large_allocations_with_mmap()
        _CLEAR_REFS.write_text("5")  # reset VmHWM to the current resident set
        before = _status_kib("VmRSS")
        start = time.perf_counter()
        fn()
        seconds = time.perf_counter() - start
        peak = max(_status_kib("VmHWM") - before, 0) * 1024
    else:
        if device.type == "mps":
            torch.mps.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "mps":
            torch.mps.synchronize()
        seconds = time.perf_counter() - start
    return seconds, peak


@dataclass
class Cost:
    """Median seconds, largest measured peak bytes (None if unmeasurable) and number of timed runs of one impl."""

    seconds: float
    peak_bytes: int | None
    runs: int


def block_step(block: nn.Module, x: torch.Tensor, *, backward: bool) -> Callable[[], None]:
    """Make a closure that runs ``block`` on ``x``, for ``measure`` and ``compare_costs``.

    Args:
        block: a module, e.g. a ``NonLocalBlock``.
        x: its input, e.g. ``(B, C, T, H, W)``.
        backward: False runs the forward under ``no_grad``; True runs forward and backward of ``block(x).sum()``.

    Returns:
        A zero-argument callable returning None.
    """
    validate_instance(block, "block", nn.Module, what="an nn.Module such as a NonLocalBlock")
    validate_tensor(x, "x")
    backward = validate_bool(backward, "backward")

    def step() -> None:
        if backward:
            block(x).sum().backward()
        else:
            with torch.no_grad():
                block(x)
    return step


def compare_costs(steps: dict[str, Callable[[], None]], device: torch.device, *, repeats: int = 5,
                  max_seconds: float = 20.0) -> dict[str, Cost]:
    """Time several implementations in interleaved rounds (one untimed warm-up each) and take medians.

    Interleaving (a, b, a, b, ...) spreads slow periods of a shared machine over all of them. A warm-up slower than
    ``max_seconds / 2`` counts as the single timed run; rounds stop once ``max_seconds`` have passed.

    Args:
        steps: name -> zero-argument callable (e.g. from ``block_step``).
        device: where they run (for synchronisation and memory).
        repeats: at most this many timed rounds.
        max_seconds: time budget for the timed rounds.

    Returns:
        name -> ``Cost``.
    """
    validate_instance(steps, "steps", dict, what="a dict name -> zero-argument callable")
    for name, step in steps.items():
        validate_instance(step, f"steps[{name!r}]", Callable, what="a callable taking no argument")
    validate_instance(device, "device", torch.device, what="a torch.device (e.g. get_device())")
    repeats = validate_int(repeats, "repeats", minimum=1)
    max_seconds = validate_number(max_seconds, "max_seconds", greater_than=0)
    times: dict[str, list[float]] = {name: [] for name in steps}
    peaks: dict[str, list[int]] = {name: [] for name in steps}
    for name, step in steps.items():  # warm-up
        seconds, peak = measure(step, device)
        if peak is not None:
            peaks[name].append(peak)
        if seconds > max_seconds / 2:
            times[name].append(seconds)
    spent = 0.0
    for _ in range(repeats):
        if spent > max_seconds:
            break
        for name, step in steps.items():
            if len(times[name]) == 1 and times[name][0] > max_seconds / 2:
                continue  # a single slow run is all we afford
            seconds, peak = measure(step, device)
            times[name].append(seconds)
            spent += seconds
            if peak is not None:
                peaks[name].append(peak)
    return {name: Cost(statistics.median(times[name]), max(peaks[name]) if peaks[name] else None, len(times[name]))
            for name in steps}
