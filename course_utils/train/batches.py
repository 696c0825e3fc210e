"""The data the trainer accepts, and its batches in a given order.

Two kinds of data, one way of batching them:

* a pair of tensors ``(inputs, labels)``: item ``i`` is ``(inputs[i], labels[i])``; the tensors may live on the CPU
  or already on the device;
* a ``torch.utils.data.Dataset`` whose item is ``(input, label)``, e.g. :class:`course_utils.train.VideoClips`;
  its batches are collated by a ``DataLoader`` (with worker processes if asked).

Either way the caller decides the order (a permutation for training, ``0..N-1`` for testing), so a pair of tensors
and a dataset holding the same items give the same batches.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
from torch.utils.data import DataLoader, Dataset

from course_utils.validation import validate_int, validate_tensor

__all__ = ["Data", "batches", "num_items", "validate_data"]

Data = tuple[torch.Tensor, torch.Tensor] | Dataset


def validate_data(data: object, name: str) -> Data:
    """Return ``data`` if it is a pair of tensors with matching lengths or a sized Dataset, else raise.

    Raises:
        TypeError: for anything else (a list of tensors, a tensor alone, a dataset without ``len``).
        ValueError: for tensors of different lengths, labels that are not 1-D, or no item at all.
    """
    if isinstance(data, tuple):
        if len(data) != 2:
            raise TypeError(f"{name} must be a pair (inputs, labels) of tensors or a Dataset, got a tuple of "
                            f"{len(data)} items")
        inputs, labels = data
        validate_tensor(inputs, f"{name}[0] (inputs)", layout="(N, ...)")
        validate_tensor(labels, f"{name}[1] (labels)", ndim=1, layout="(N,) of class ids", dtype="integer")
        if inputs.dim() == 0 or inputs.shape[0] != labels.shape[0]:
            raise ValueError(f"{name}: inputs and labels must hold the same number of items N, got inputs of shape "
                             f"{tuple(inputs.shape)} and labels of shape {tuple(labels.shape)}")
    elif not isinstance(data, Dataset) or not hasattr(data, "__len__"):
        raise TypeError(f"{name} must be a pair (inputs, labels) of tensors or a Dataset with a length, got "
                        f"{type(data).__name__}")
    if num_items(data) == 0:
        raise ValueError(f"{name} holds no item")
    return data


def num_items(data: Data) -> int:
    """The number of items N of validated ``data``."""
    return int(data[1].shape[0]) if isinstance(data, tuple) else len(data)


def batches(data: Data, order: torch.Tensor, *, batch_size: int, device: torch.device,
            num_workers: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(inputs, labels)`` batches of ``data`` on ``device``, taking the items in ``order``.

    Args:
        data: validated data (see :func:`validate_data`).
        order: int64 tensor ``(N,)`` of item indices; consecutive runs of ``batch_size`` make the batches (the last
            one may be shorter).
        batch_size: items per batch.
        device: where the batches go.
        num_workers: DataLoader worker processes for a Dataset (0: load in this process); ignored for tensors.

    Yields:
        ``inputs`` ``(B, ...)`` and ``labels`` ``(B,)`` int64, on ``device``.
    """
    batch_size = validate_int(batch_size, "batch_size", minimum=1)
    chunks = order.split(batch_size)
    if isinstance(data, tuple):
        inputs, labels = data
        for chunk in chunks:
            yield (inputs[chunk.to(inputs.device)].to(device, non_blocking=True),
                   labels[chunk.to(labels.device)].to(device, non_blocking=True))
        return
    loader = DataLoader(data, batch_sampler=[chunk.tolist() for chunk in chunks],
                        num_workers=validate_int(num_workers, "num_workers", minimum=0),
                        pin_memory=device.type == "cuda")
    for inputs, labels in loader:
        yield inputs.to(device, non_blocking=True), labels.to(device, non_blocking=True)
