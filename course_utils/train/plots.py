"""Figures of training and evaluation: learning curves, accuracy per class group, a confusion matrix.

Each helper draws on ``ax`` (a new figure when None), returns the figure and never calls ``plt.show()``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from course_utils.train.loop import History
from course_utils.validation import validate_choice, validate_int

__all__ = ["METRICS", "plot_confusion", "plot_group_accuracy", "plot_learning_curves"]

METRICS = ("loss", "val_accuracy")


def _axes(ax: plt.Axes | None, figsize: tuple[float, float]) -> tuple[plt.Figure, plt.Axes]:
    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
        return fig, ax
    return ax.figure, ax


def plot_learning_curves(histories: Mapping[str, History] | History, *, metric: str = "loss", smooth: int = 10,
                         ax: plt.Axes | None = None) -> plt.Figure:
    """Draw one curve per training run: the training loss per step, or the validation accuracy per epoch.

    Args:
        histories: run name -> :class:`History` (or a single History).
        metric: ``"loss"`` (moving average over ``smooth`` steps, drawn at the window's last step) or
            ``"val_accuracy"`` (one point per epoch).
        smooth: window of the moving average, in steps (1: raw losses).
        ax: where to draw; None for a new figure.

    Returns:
        The figure.
    """
    if isinstance(histories, History):
        histories = {"": histories}
    validate_choice(metric, "metric", METRICS)
    smooth = validate_int(smooth, "smooth", minimum=1)
    fig, ax = _axes(ax, (6.0, 3.2))
    for name, history in histories.items():
        if not isinstance(history, History):
            raise TypeError(f"histories[{name!r}] must be a History (what fit returns), got {type(history).__name__}")
        if metric == "loss":
            losses = np.asarray(history.losses, dtype=np.float64)
            window = min(smooth, len(losses)) or 1
            curve = np.convolve(losses, np.ones(window) / window, mode="valid")   # (steps - window + 1,)
            ax.plot(np.arange(window - 1, window - 1 + len(curve)), curve, label=name or None)
        else:
            ax.plot(np.arange(1, len(history.val_accuracy) + 1), history.val_accuracy, "o-", label=name or None)
    if metric == "loss":
        ylabel = "training loss" + (f" (moving average of {smooth})" if smooth > 1 else "")
        ax.set(xlabel="training step", ylabel=ylabel)
    else:
        ax.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0, 1.05))
    if any(histories):
        ax.legend(fontsize=8)
    return fig


def plot_group_accuracy(results: Mapping[str, Mapping[str, float]], *, chance: float | None = 0.5,
                        ax: plt.Axes | None = None) -> plt.Figure:
    """Grouped bars: for each class group, one bar per model.

    Args:
        results: model name -> {group name -> accuracy in [0, 1]} (e.g. ``Evaluation.group_accuracy``); every
            model must report the same groups.
        chance: draw a dashed line at this accuracy (0.5: chance within a pair of classes); None for none.
        ax: where to draw; None for a new figure.

    Returns:
        The figure.
    """
    names = list(results)
    if not names:
        raise ValueError("results must hold at least one model")
    groups = list(results[names[0]])
    for name in names:
        if list(results[name]) != groups:
            raise ValueError(f"every model must report the groups {groups}; {name!r} reports {list(results[name])}")
    fig, ax = _axes(ax, (1.6 * len(groups) + 2.5, 3.4))
    width = 0.8 / len(names)
    for offset, name in enumerate(names):
        positions = np.arange(len(groups)) + width * (offset - (len(names) - 1) / 2)
        ax.bar(positions, [results[name][g] for g in groups], width=width, label=name)
    if chance is not None:
        ax.axhline(chance, color="grey", linestyle="--", linewidth=1)
    ax.set_xticks(np.arange(len(groups)), [g.replace("_", " ") for g in groups])
    ax.set(xlabel="class group", ylabel="test accuracy in the group", ylim=(0, 1.05))
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # beside the bars, never over them
    return fig


def plot_confusion(confusion: np.ndarray, class_names: Sequence[str], *, title: str = "",
                   ax: plt.Axes | None = None) -> plt.Figure:
    """Draw a confusion matrix with each row (true class) normalised to fractions.

    Args:
        confusion: int ``(C, C)`` counts, row = true class, column = predicted class.
        class_names: the ``C`` class names.
        title: the panel's title.
        ax: where to draw; None for a new figure.

    Returns:
        The figure.
    """
    counts = np.asarray(confusion, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] != len(class_names):
        raise ValueError(f"confusion must be (C, C) with C = len(class_names) = {len(class_names)}, got "
                         f"{counts.shape}")
    rows = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)           # (C, C) fractions of each true class
    fig, ax = _axes(ax, (5.0, 4.4))
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    ticks = np.arange(len(class_names))
    ax.set_xticks(ticks, class_names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(ticks, class_names, fontsize=7)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    return fig
