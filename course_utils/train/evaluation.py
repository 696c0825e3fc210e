"""Evaluation with the papers' test protocol: several views per video, their scores averaged, then the metrics.

TSN averages the scores of 25 frames per video, I3D and the non-local networks those of 10 clips (times 3 crops). Here
a test item holds ``V`` views ``(V, *input_shape)`` (``VideoClips`` in test mode); :func:`video_scores` runs the model
on all of them at once and averages per video. The metrics: accuracy, accuracy within each class group (predictions
over every class, scored on the group's videos) and the confusion matrix (row: true class, column: predicted class).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from course_utils.data import group_accuracy
from course_utils.device import get_device
from course_utils.train.amp import autocast, autocast_dtype
from course_utils.train.batches import Data, batches, num_items, validate_data
from course_utils.validation import validate_bool, validate_choice, validate_instance, validate_int, validate_tensor

__all__ = ["AVERAGES", "Evaluation", "confusion_matrix", "evaluate", "video_scores"]

AVERAGES = ("scores", "probabilities")


@dataclass(frozen=True)
class Evaluation:
    """The results of :func:`evaluate`, as plain values.

    Attributes:
        scores: float32 ``(N, num_classes)``, each video's scores averaged over its views.
        labels: int64 ``(N,)``, the true classes.
        predictions: int64 ``(N,)``, the argmax of ``scores``.
        accuracy: the fraction of videos predicted right.
        group_accuracy: group name -> accuracy on that group's videos (nan for a group without videos).
        confusion: int64 ``(num_classes, num_classes)``, ``confusion[i, j]`` = videos of class i predicted as j.
    """

    scores: np.ndarray
    labels: np.ndarray
    predictions: np.ndarray
    accuracy: float
    group_accuracy: dict[str, float]
    confusion: np.ndarray


def video_scores(model: nn.Module, views: torch.Tensor, *, average: str = "scores") -> torch.Tensor:
    """Run ``model`` on every view of every video and average per video.

    Args:
        model: maps inputs ``(N, *input_shape)`` to scores ``(N, num_classes)``.
        views: ``(B, V, *input_shape)``, ``V`` views of each of ``B`` videos.
        average: ``"scores"`` averages the raw scores (logits), as TSN does; ``"probabilities"`` averages their
            softmax (MMAction2's ``average_clips="prob"``).

    Returns:
        float32 video scores ``(B, num_classes)`` (the logits' dtype when that is float64).
    """
    validate_tensor(views, "views", layout="(B, V, *input_shape)")
    validate_choice(average, "average", AVERAGES)
    if views.dim() < 3:
        raise ValueError(f"views must have shape (B, V, *input_shape), got {tuple(views.shape)}")
    batch, num_views = views.shape[:2]
    scores = model(views.flatten(0, 1))                                       # (B * V, *input) -> (B * V, C)
    scores = scores.reshape(batch, num_views, -1)                             # (B * V, C) -> (B, V, C)
    if scores.dtype != torch.float64:
        scores = scores.float()
    if average == "probabilities":
        scores = scores.softmax(dim=-1)
    return scores.mean(dim=1)                                                  # (B, V, C) -> (B, C)


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Count the videos of each true class (row) predicted as each class (column).

    Args:
        labels: int ``(N,)`` true classes in ``[0, num_classes)``.
        predictions: int ``(N,)`` predicted classes in ``[0, num_classes)``.
        num_classes: ``C``.

    Returns:
        int64 ``(C, C)``; its rows sum to the number of videos of each class.
    """
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    num_classes = validate_int(num_classes, "num_classes", minimum=1)
    cells = labels.astype(np.int64) * num_classes + predictions.astype(np.int64)  # (N,) flat index row * C + column
    return np.bincount(cells, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def evaluate(model: nn.Module, data: Data, *, views: bool | None = None, average: str = "scores",
             groups: Mapping[str, Sequence[int]] | None = None, batch_size: int = 64,
             device: torch.device | None = None, amp: bool = True, num_workers: int = 0) -> Evaluation:
    """Score every video of ``data`` (averaging over its views) and measure accuracy, per group and per class.

    The model runs in eval mode without gradients; its train/eval mode is restored afterwards.

    Args:
        model: maps inputs ``(N, *input_shape)`` to scores ``(N, num_classes)``.
        data: a pair of tensors ``(inputs, labels)`` or a Dataset of ``(input, label)`` items.
        views: whether each item holds views ``(V, *input_shape)`` to average (the multi-view protocol). None: the
            dataset's ``views`` attribute (True for ``VideoClips`` in test mode), else False.
        average: ``"scores"`` or ``"probabilities"`` (see :func:`video_scores`).
        groups: class groups for ``group_accuracy`` (e.g. ``ALL_CLASS_GROUPS``); None for none.
        batch_size: videos per forward pass (each brings its ``V`` views).
        device: where to compute; default ``get_device()``.
        amp: mixed precision on CUDA.
        num_workers: DataLoader worker processes for a Dataset.

    Returns:
        An :class:`Evaluation`.
    """
    validate_instance(model, "model", nn.Module, what="an nn.Module")
    data = validate_data(data, "data")
    views = bool(getattr(data, "views", False)) if views is None else validate_bool(views, "views")
    validate_choice(average, "average", AVERAGES)
    device = get_device() if device is None else validate_instance(device, "device", torch.device,
                                                                   what="a torch.device")
    dtype = autocast_dtype(device, enabled=validate_bool(amp, "amp"))
    training = [(module, module.training) for module in model.modules()]
    all_scores, all_labels = [], []
    try:
        model.eval()
        with torch.no_grad():
            order = torch.arange(num_items(data))
            for inputs, labels in batches(data, order, batch_size=batch_size, device=device,
                                          num_workers=num_workers):
                with autocast(device, dtype):
                    if views:
                        scores = video_scores(model, inputs, average=average)  # (B, V, ...) -> (B, C)
                    else:
                        scores = video_scores(model, inputs[:, None], average=average)  # one view: (B, 1, ...)
                all_scores.append(scores.float().cpu())
                all_labels.append(labels.cpu())
    finally:
        for module, mode in training:
            module.training = mode
    scores = torch.cat(all_scores).numpy()                                      # (N, C)
    labels = torch.cat(all_labels).numpy().astype(np.int64)                     # (N,)
    predictions = scores.argmax(axis=1).astype(np.int64)
    num_classes = scores.shape[1]
    if labels.size and labels.max() >= num_classes:
        raise ValueError(f"data holds label {labels.max()}, but the model scores only {num_classes} classes")
    per_group = {} if groups is None else group_accuracy(predictions, labels, groups=dict(groups))
    return Evaluation(scores=scores, labels=labels, predictions=predictions,
                      accuracy=float(np.mean(predictions == labels)) if labels.size else math.nan,
                      group_accuracy=per_group, confusion=confusion_matrix(labels, predictions, num_classes))
