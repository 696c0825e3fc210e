"""``fit``: train a model on tensors or a dataset, with a progress bar, a budget, seeding and mixed precision on CUDA.

One loop for the whole course (d2l's ``trainer.fit(model, data)``)::

    history = fit(model, (inputs, labels), epochs=15, lr=1e-2, val_data=(val_inputs, val_labels))
    plot_learning_curves({"my model": history})

Each epoch visits the items in a fresh random order (``torch.randperm`` from a ``torch.Generator`` seeded with
``seed``, or from torch's global generator when ``seed=None``), in batches of ``batch_size``; each step computes
``loss_fn(model(inputs), labels)``, backpropagates, steps the optimizer and then the scheduler, if any.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from course_utils.device import get_device, seed_everything
from course_utils.train.amp import autocast, autocast_dtype, grad_scaler
from course_utils.train.batches import Data, batches, num_items, validate_data
from course_utils.train.evaluation import evaluate
from course_utils.validation import validate_bool, validate_instance, validate_int, validate_number

__all__ = ["History", "fit"]

SchedulerFactory = Callable[[torch.optim.Optimizer, int], torch.optim.lr_scheduler.LRScheduler]
LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class History:
    """What happened during ``fit``.

    Attributes:
        losses: the training loss of every step, in order (Python floats).
        val_accuracy: accuracy on ``val_data`` after every epoch (empty without ``val_data``).
        epochs: epochs completed.
        steps_per_epoch: optimizer steps in a full epoch.
        stopped_by: ``"epochs"`` or ``"time_budget"``.
        seconds: wall time of the training (a measurement: do not print it where outputs are compared).
    """

    losses: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    epochs: int = 0
    steps_per_epoch: int = 0
    stopped_by: str = "epochs"
    seconds: float = 0.0

    def epoch_losses(self) -> np.ndarray:
        """Mean training loss of each completed epoch, float64 ``(epochs,)``."""
        steps = np.asarray(self.losses[: self.epochs * self.steps_per_epoch], dtype=np.float64)
        return steps.reshape(self.epochs, self.steps_per_epoch).mean(axis=1)  # (epochs * steps,) -> (epochs,)


def fit(model: nn.Module, data: Data, *, epochs: int | None = None, time_budget: float | None = None,
        batch_size: int = 32, lr: float = 1e-3, optimizer: torch.optim.Optimizer | None = None,
        scheduler: SchedulerFactory | None = None, loss_fn: LossFunction = F.cross_entropy,
        val_data: Data | None = None, seed: int | None = 0, device: torch.device | None = None,
        amp: bool = True, num_workers: int = 0, bar: bool | tqdm = True, desc: str = "training") -> History:
    """Train ``model`` on ``data`` and return its :class:`History`; the model ends on ``device``, in eval mode.

    Args:
        model: maps a batch of inputs ``(B, ...)`` to logits ``(B, num_classes)``.
        data: a pair of tensors ``(inputs (N, ...), labels (N,) int64)`` or a Dataset of ``(input, label)`` items
            (a dataset with a ``set_epoch`` method, such as ``VideoClips``, is told each epoch before it starts).
        epochs: full passes over the data. At least one of ``epochs`` and ``time_budget`` is needed.
        time_budget: seconds of training; the run stops after the step that exceeds it. Results then depend on the
            machine's speed: prefer ``epochs`` wherever outputs must be reproducible.
        batch_size: items per step (the last batch of an epoch may be smaller).
        lr: learning rate of the default optimizer, ``Adam(model.parameters(), lr)``.
        optimizer: an optimizer over the model's parameters (e.g. with parameter groups); replaces the default.
        scheduler: ``scheduler(optimizer, total_steps) -> LRScheduler``, stepped after every optimizer step (e.g.
            ``lambda opt, steps: OneCycleLR(opt, max_lr=0.01, total_steps=steps)``); needs ``epochs``.
        loss_fn: ``loss_fn(logits, labels) -> scalar``.
        val_data: data to measure accuracy on after every epoch (see ``course_utils.train.evaluate``).
        seed: seeds everything (``seed_everything``) and the batch order; None uses torch's global generator as it
            is, for the batch order, and seeds nothing.
        device: where to train; default ``get_device()``.
        amp: mixed precision where it pays (CUDA only: bfloat16, or float16 with a gradient scaler).
        num_workers: DataLoader worker processes for a Dataset.
        bar: True for a tqdm progress bar (one tick per epoch), False for none, or an open tqdm bar to tick
            (shared by several trainings; it is not closed). (Not ``progress``: notebooks keep that name for their
            scoreboard.)
        desc: the bar's label.

    Returns:
        The :class:`History` of the run.
    """
    validate_instance(model, "model", nn.Module, what="an nn.Module")
    data = validate_data(data, "data")
    if val_data is not None:
        validate_data(val_data, "val_data")
    if epochs is None and time_budget is None:
        raise ValueError("give epochs (an int >= 1) or time_budget (seconds > 0), or both")
    epochs = None if epochs is None else validate_int(epochs, "epochs", minimum=1)
    time_budget = None if time_budget is None else validate_number(time_budget, "time_budget", greater_than=0)
    if scheduler is not None and epochs is None:
        raise ValueError("a scheduler needs epochs (it is built for epochs * steps_per_epoch steps)")
    batch_size = validate_int(batch_size, "batch_size", minimum=1)
    device = get_device() if device is None else validate_instance(device, "device", torch.device,
                                                                   what="a torch.device")
    dtype = autocast_dtype(device, enabled=validate_bool(amp, "amp"))
    for name, function in (("scheduler", scheduler), ("loss_fn", loss_fn)):
        if function is not None:
            validate_instance(function, name, Callable, what="a function")
    if seed is not None:
        seed_everything(validate_int(seed, "seed", minimum=0, maximum=2**32 - 1))
    generator = None if seed is None else torch.Generator().manual_seed(seed)

    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=validate_number(lr, "lr", greater_than=0))
    validate_instance(optimizer, "optimizer", torch.optim.Optimizer, what="a torch.optim.Optimizer")
    size = num_items(data)
    history = History(steps_per_epoch=-(-size // batch_size))
    schedule = None if scheduler is None else scheduler(optimizer, epochs * history.steps_per_epoch)
    scaler = grad_scaler(device, dtype)
    bar, own_bar = _progress_bar(bar, epochs, desc)
    start = time.perf_counter()
    try:
        epoch = 0
        while epochs is None or epoch < epochs:
            if hasattr(data, "set_epoch"):
                data.set_epoch(epoch)
            model.train()
            order = torch.randperm(size, generator=generator)
            step_losses = []
            for inputs, labels in batches(data, order, batch_size=batch_size, device=device, num_workers=num_workers):
                with autocast(device, dtype):
                    loss = loss_fn(model(inputs), labels)
                optimizer.zero_grad()
                if scaler is None:
                    loss.backward()
                    optimizer.step()
                else:
                    scaler.scale(loss).backward()
                    scaler.step(optimizer)
                    scaler.update()
                if schedule is not None:
                    schedule.step()
                step_losses.append(loss.detach())
                if time_budget is not None and time.perf_counter() - start > time_budget:
                    history.stopped_by = "time_budget"
                    break
            history.losses += torch.stack(step_losses).float().cpu().tolist()  # one device sync per epoch
            if history.stopped_by == "epochs":
                epoch = history.epochs = epoch + 1
            if val_data is not None:
                history.val_accuracy.append(_accuracy(model, val_data, batch_size, device, amp, num_workers))
            bar.update(1)
            postfix = {"loss": f"{np.mean(history.losses[-len(step_losses):]):.3f}"}
            if history.val_accuracy:
                postfix["val"] = f"{history.val_accuracy[-1]:.0%}"
            bar.set_postfix(postfix)
            if history.stopped_by == "time_budget":
                break
    finally:
        if own_bar:
            bar.close()
        history.seconds = time.perf_counter() - start
        model.eval()
    return history


def _accuracy(model: nn.Module, data: Data, batch_size: int, device: torch.device, amp: bool,
              num_workers: int) -> float:
    return evaluate(model, data, batch_size=max(batch_size, 64), device=device, amp=amp,
                    num_workers=num_workers).accuracy


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix(self, postfix: dict) -> None:
        pass

    def close(self) -> None:
        pass


def _progress_bar(bar: bool | tqdm, epochs: int | None, desc: str) -> tuple[tqdm | _NoBar, bool]:
    """(bar, whether fit owns it and must close it)."""
    if isinstance(bar, bool):
        if not bar:
            return _NoBar(), False
        return tqdm(total=epochs, desc=str(desc), unit="epoch"), True
    if not hasattr(bar, "update") or not hasattr(bar, "set_postfix"):
        raise TypeError(f"bar must be a bool or a tqdm bar, got {type(bar).__name__}")
    return bar, False
