"""course_utils.train.fit: the loops of notebooks 02 and 03 reproduced exactly, budgets, progress, bad input, AMP."""

from __future__ import annotations

import copy
import io

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from course_utils.consensus import LinearWeighting
from course_utils.device import seed_everything
from course_utils.inflation import build_small_resnet, inflate_model
from course_utils.train import History, fit
from course_utils.train.amp import autocast_dtype, grad_scaler
from course_utils.tsn import build_tsn

CPU = torch.device("cpu")


def snippets(num: int = 40, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.rand(num, 3, 3, 8, 8, generator=generator)                  # (N, K, C, H, W)
    labels = torch.randint(0, 8, (num,), generator=generator)
    return inputs, labels


def test_fit_reproduces_notebook_02_loop():
    """Two parameter groups, one-cycle schedule, seed_everything before the model, a seeded batch order."""
    inputs, labels = snippets()
    lr, factor, epochs, batch_size, seed = 1e-2, 10.0, 3, 16, 0

    def make_model():
        seed_everything(seed)
        model = build_tsn(LinearWeighting(3), num_segments=3, width=4, feature_dim=8)
        consensus = list(model.consensus.parameters())
        others = [p for name, p in model.named_parameters() if not name.startswith("consensus.")]
        optimizer = torch.optim.Adam([{"params": others}, {"params": consensus, "lr": lr * factor}], lr=lr)
        return model, optimizer

    model, optimizer = make_model()                                              # notebook 02's hand-written loop
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=[lr, lr * factor],
                                                   total_steps=epochs * 3, pct_start=0.2)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    losses = []
    for _ in range(epochs):
        for batch in torch.randperm(len(labels), generator=generator).split(batch_size):
            loss = F.cross_entropy(model(inputs[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())

    twin, twin_optimizer = make_model()
    history = fit(twin, (inputs, labels), epochs=epochs, batch_size=batch_size, optimizer=twin_optimizer,
                  scheduler=lambda opt, steps: torch.optim.lr_scheduler.OneCycleLR(
                      opt, max_lr=[lr, lr * factor], total_steps=steps, pct_start=0.2),
                  seed=seed, device=CPU, bar=False)
    assert history.losses == losses
    for name, value in model.state_dict().items():
        assert torch.equal(value, twin.state_dict()[name]), name
    assert history.epochs == epochs and history.steps_per_epoch == 3 and not twin.training


def test_fit_reproduces_notebook_03_loops():
    generator = torch.Generator().manual_seed(1)
    clips = torch.rand(24, 3, 4, 16, 16, generator=generator)                  # (N, C, T, H, W)
    labels = torch.randint(0, 8, (24,), generator=generator)
    val = (torch.rand(10, 3, 4, 16, 16, generator=generator), torch.randint(0, 8, (10,), generator=generator))
    net2d = build_small_resnet(num_classes=2, widths=(4,), stem_stride=2)

    def start():
        torch.manual_seed(1)
        model = inflate_model(net2d, time_kernel=3)
        model.head = nn.Linear(model.head.in_features, 8)
        return model

    # 03's fine-tuning: a generator seeded 0 for the order, per-step losses, validation accuracy after each epoch
    model = start()
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    order_generator = torch.Generator().manual_seed(0)
    losses, accuracies = [], []
    for _ in range(2):
        model.train()
        order = torch.randperm(len(clips), generator=order_generator)
        for begin in range(0, len(clips), 8):
            batch = order[begin:begin + 8]
            loss = F.cross_entropy(model(clips[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        model.eval()
        with torch.no_grad():
            accuracies.append((model(val[0]).argmax(1) == val[1]).float().mean().item())
    history = fit(start(), (clips, labels), epochs=2, batch_size=8, lr=3e-3, val_data=val, seed=0, device=CPU,
                  bar=False)
    assert history.losses == losses
    assert history.val_accuracy == pytest.approx(accuracies, abs=1e-6)

    # 03's 2D pretraining: torch.manual_seed(0) first, then the batch order from torch's global generator
    images, image_labels = clips[:, :, 0], labels % 2
    torch.manual_seed(0)
    model = build_small_resnet(num_classes=2, widths=(4,), stem_stride=2)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(2):
        order = torch.randperm(len(images))
        for begin in range(0, len(images), 16):
            batch = order[begin:begin + 16]
            loss = F.cross_entropy(model(images[batch]), image_labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    torch.manual_seed(0)
    twin = build_small_resnet(num_classes=2, widths=(4,), stem_stride=2)
    history = fit(twin, (images, image_labels), epochs=2, batch_size=16, lr=3e-3, seed=None, device=CPU,
                  bar=False)
    assert history.losses[-1] == loss.item()
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), twin.state_dict().values(), strict=True))


class ItemData(torch.utils.data.Dataset):
    """The same items as a pair of tensors, served one by one."""

    def __init__(self, inputs, labels):
        self.inputs, self.labels = inputs, labels
        self.epochs_seen = []

    def set_epoch(self, epoch):
        self.epochs_seen.append(epoch)

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, index):
        return self.inputs[index], int(self.labels[index])


def test_dataset_and_tensors_train_identically():
    inputs, labels = snippets(20)
    models = [build_tsn(LinearWeighting(3), num_segments=3, width=4, feature_dim=8) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())
    dataset = ItemData(inputs, labels)
    first = fit(models[0], (inputs, labels), epochs=2, batch_size=6, device=CPU, bar=False)
    second = fit(models[1], dataset, epochs=2, batch_size=6, device=CPU, bar=False)
    assert first.losses == second.losses and dataset.epochs_seen == [0, 1]


def test_time_budget_stops_early_and_history_is_consistent():
    inputs, labels = snippets(20)
    model = build_tsn(LinearWeighting(3), num_segments=3, width=4, feature_dim=8)
    history = fit(model, (inputs, labels), time_budget=1e-9, batch_size=5, device=CPU, bar=False)
    assert history.stopped_by == "time_budget" and len(history.losses) == 1 and history.epochs == 0
    assert history.epoch_losses().shape == (0,)
    history = fit(model, (inputs, labels), epochs=2, time_budget=1e6, batch_size=5, device=CPU, bar=False)
    assert history.stopped_by == "epochs" and history.epochs == 2 and history.epoch_losses().shape == (2,)


def test_shared_progress_bar_is_ticked_once_per_epoch_and_left_open():
    inputs, labels = snippets(10)
    with tqdm(total=4, file=io.StringIO()) as bar:
        for _ in range(2):
            model = build_tsn(LinearWeighting(3), num_segments=3, width=4, feature_dim=8)
            fit(model, (inputs, labels), epochs=2, device=CPU, bar=bar)
        assert bar.n == 4 and not bar.disable  # closing a bar disables it


@pytest.mark.parametrize("kwargs, error, word", [
    ({}, ValueError, "epochs"),
    ({"epochs": 0}, ValueError, "epochs"),
    ({"epochs": 1.5}, TypeError, "epochs"),
    ({"time_budget": -1.0}, ValueError, "time_budget"),
    ({"epochs": 1, "batch_size": 0}, ValueError, "batch_size"),
    ({"epochs": 1, "lr": 0.0}, ValueError, "lr"),
    ({"epochs": 1, "seed": -1}, ValueError, "seed"),
    ({"epochs": 1, "device": "cpu"}, TypeError, "device"),
    ({"epochs": 1, "amp": 1}, TypeError, "amp"),
    ({"epochs": 1, "optimizer": "adam"}, TypeError, "optimizer"),
    ({"epochs": 1, "bar": "yes"}, TypeError, "bar"),
    ({"time_budget": 1.0, "scheduler": lambda opt, steps: None}, ValueError, "scheduler"),
])
def test_bad_options_are_named(kwargs, error, word):
    inputs, labels = snippets(4)
    model = build_tsn(LinearWeighting(3), num_segments=3, width=4, feature_dim=8)
    with pytest.raises(error, match=word):
        fit(model, (inputs, labels), **{"bar": False, **kwargs})


@pytest.mark.parametrize("data, error, word", [
    ([torch.zeros(2, 3), torch.zeros(2, dtype=torch.long)], TypeError, "data"),
    ((torch.zeros(2, 3), torch.zeros(3, dtype=torch.long)), ValueError, "same number"),
    ((torch.zeros(2, 3), torch.zeros(2)), TypeError, "labels"),
    ((torch.zeros(0, 3), torch.zeros(0, dtype=torch.long)), ValueError, "no item"),
    (torch.zeros(2, 3), TypeError, "data"),
])
def test_bad_data_is_named(data, error, word):
    with pytest.raises(error, match=word):
        fit(nn.Linear(3, 2), data, epochs=1, bar=False)


def test_mixed_precision_only_on_cuda(monkeypatch):
    assert autocast_dtype(CPU) is None and grad_scaler(CPU, None) is None
    cuda = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert autocast_dtype(cuda) == torch.bfloat16 and grad_scaler(cuda, torch.bfloat16) is None
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert autocast_dtype(cuda) == torch.float16 and autocast_dtype(cuda, enabled=False) is None


def test_history_is_plain_and_model_is_not_copied():
    inputs, labels = snippets(8)
    model = build_tsn(LinearWeighting(3), num_segments=3, width=4, feature_dim=8)
    before = copy.deepcopy(model.state_dict())
    history = fit(model, (inputs, labels), epochs=1, device=CPU, bar=False)
    assert isinstance(history, History) and all(type(loss) is float for loss in history.losses)
    assert any(not torch.equal(before[name], value) for name, value in model.state_dict().items())
