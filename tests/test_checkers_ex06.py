"""The checkers of notebook 06 accept correct answers in several styles and reject wrong versions and delegation."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from attack_kit import delegation_rejected, gains_nothing, lying_tensor, noisy, passes, rejected
from torch import nn

from course_utils import models as course_models
from course_utils.data import ALL_CLASS_GROUPS
from course_utils.data import group_accuracy as data_group_accuracy
from course_utils.exercises.framework import CheckFailed, check
from course_utils.non_local import NonLocalBlock
from course_utils.train import evaluation


# ------------------------------------------------------------------------------------- 06.multi_view_scores
def views_ok(model, views):
    """The notebook's solution: one forward pass on every view."""
    batch, num_views = views.shape[:2]
    scores = model(views.flatten(0, 1))                                        # (B * V, ...) -> (B * V, C)
    return scores.reshape(batch, num_views, -1).mean(dim=1)                    # (B, V, C) -> (B, C)


def views_loop_videos(model, views):
    return torch.stack([model(video).mean(dim=0) for video in views])


def views_loop_views(model, views):
    return torch.stack([model(views[:, v]) for v in range(views.shape[1])]).mean(dim=0)


def views_einsum(model, views):
    batch, num_views = views.shape[:2]
    scores = model(views.reshape(batch * num_views, *views.shape[2:])).view(batch, num_views, -1)
    return torch.einsum("bvc->bc", scores) / num_views


VIEWS_WRONG = {
    "first view only": lambda model, views: model(views[:, 0]),
    "sum, not mean": lambda model, views: views_ok(model, views) * views.shape[1],
    "softmax average": lambda model, views: model(views.flatten(0, 1)).reshape(
        views.shape[0], views.shape[1], -1).softmax(-1).mean(1),
    "max over views": lambda model, views: model(views.flatten(0, 1)).reshape(
        views.shape[0], views.shape[1], -1).amax(1),
    "views and videos mixed up": lambda model, views: model(views.transpose(0, 1).flatten(0, 1)).reshape(
        views.shape[0], views.shape[1], -1).mean(1),
    "mean of the inputs, one pass": lambda model, views: model(views.mean(dim=1)),
    "(B, V, C) returned": lambda model, views: model(views.flatten(0, 1)).reshape(views.shape[0], views.shape[1], -1),
    "float32": lambda model, views: views_ok(model, views).float(),
    "in place on the views": lambda model, views: views_ok(model, views.mul_(1.0).add_(0.0).clamp_(-0.5, 0.5)),
}


def test_multi_view_solutions_pass():
    for answer in (views_ok, views_loop_videos, views_loop_views, views_einsum, noisy(views_ok)):
        passes("06.multi_view_scores", answer)


@pytest.mark.parametrize("name", sorted(VIEWS_WRONG))
def test_multi_view_wrong_versions_fail(name):
    rejected("06.multi_view_scores", VIEWS_WRONG[name])


def test_multi_view_hints_name_the_mistake():
    assert "first view only" in rejected("06.multi_view_scores", VIEWS_WRONG["first view only"])
    assert "raw scores" in rejected("06.multi_view_scores", VIEWS_WRONG["softmax average"])
    assert "(B, V, C), not (V, B, C)" in rejected("06.multi_view_scores", VIEWS_WRONG["views and videos mixed up"])


@pytest.mark.parametrize("delegate", [
    lambda model, views: evaluation.video_scores(model, views),
    lambda model, views: evaluation.evaluate(model, (views, torch.zeros(len(views), dtype=torch.long)),
                                             views=True, device=torch.device("cpu")).scores,
])
def test_multi_view_delegation_scores_zero(delegate):
    delegation_rejected("06.multi_view_scores", delegate, called="course_utils.train.evaluation")


def test_multi_view_lying_tensor_gains_nothing():
    gains_nothing("06.multi_view_scores", lambda model, views: lying_tensor(views_ok(model, views).detach()),
                  lambda model, views: torch.zeros_like(views_ok(model, views)))


# ---------------------------------------------------------------------------------- 06.insert_non_local
def insert_ok(model3d, stages, *, mode="embedded", position="end", deep=True, channels="out", to=True,
              register=True, sub_sample=True, reinit=False, pass_mode=True, offset=0):
    """The notebook's solution for the defaults; every other keyword value is one mistake."""
    model = copy.deepcopy(model3d) if deep else copy.copy(model3d)
    reference = next(model3d.parameters())
    for index in stages:
        stage = model.stages[index + offset]
        width = stage[-1].bn2.num_features if channels == "out" else stage[0].conv1.weight.shape[1]
        block = NonLocalBlock(width, mode=mode if pass_mode else "embedded", sub_sample=sub_sample)
        if to:
            block = block.to(reference)
        if reinit:
            nn.init.ones_(block.W_z[1].weight)
        if not register:
            model.extra_blocks = [block]
            continue
        layers = {"end": [*stage, block], "start": [block, *stage], "replace": [*list(stage)[:-1], block]}[position]
        model.stages[index + offset] = nn.Sequential(*layers)
    return model


def insert_in_loop_style(model3d, stages, *, mode="embedded"):
    """Another style: rebuild the list of stages, dtype and device given explicitly."""
    model = copy.deepcopy(model3d)
    param = next(model.parameters())
    new_stages = []
    for index, stage in enumerate(model.stages):
        if index in set(stages):
            channels = stage[len(stage) - 1].conv2.out_channels
            block = NonLocalBlock(channels, mode=mode, sub_sample=True).to(device=param.device, dtype=param.dtype)
            stage = nn.Sequential(*stage.children(), block)
        new_stages.append(stage)
    model.stages = nn.Sequential(*new_stages)
    return model


INSERT_WRONG = {
    "in place": {"deep": False},
    "block first in the stage": {"position": "start"},
    "replaces the last residual block": {"position": "replace"},
    "input channels of the stage": {"channels": "in"},
    "float32 block": {"to": False},
    "not registered": {"register": False},
    "no sub-sampling": {"sub_sample": False},
    "not the identity": {"reinit": True},
    "mode ignored": {"pass_mode": False},
}


def test_insert_solutions_pass():
    for answer in (insert_ok, insert_in_loop_style, noisy(insert_ok)):
        passes("06.insert_non_local", answer)


@pytest.mark.parametrize("name", sorted(INSERT_WRONG))
def test_insert_wrong_versions_fail(name):
    options = INSERT_WRONG[name]
    rejected("06.insert_non_local", lambda model3d, stages, mode="embedded": insert_ok(model3d, stages, mode=mode,
                                                                                        **options))


def test_insert_off_by_one_stage_fails():
    def shifted(model3d, stages, mode="embedded"):
        return insert_ok(model3d, [s for s in stages if s + 1 < len(model3d.stages)], mode=mode, offset=1)
    rejected("06.insert_non_local", shifted)


def test_insert_delegation_scores_zero():
    delegation_rejected("06.insert_non_local", lambda model3d, stages, mode="embedded": course_models.insert_non_local(
        model3d, stages, mode=mode), called="course_utils.models.insert_non_local")


# ------------------------------------------------------------------------------------- 06.group_accuracy
def confusion_ok(labels, predictions, num_classes):
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true, predicted in zip(labels, predictions, strict=True):
        counts[true, predicted] += 1
    return counts


def confusion_bincount(labels, predictions, num_classes):
    return torch.bincount(torch.as_tensor(labels) * num_classes + torch.as_tensor(predictions),
                          minlength=num_classes ** 2).reshape(num_classes, num_classes)


def groups_ok(confusion, groups):
    result = {}
    for name, members in groups.items():
        total = confusion[list(members)].sum()
        result[name] = float(confusion[members, members].sum() / total) if total else float("nan")
    return result


def groups_loop(confusion, groups):
    result = {}
    for name, members in groups.items():
        right = sum(int(confusion[c][c]) for c in members)
        total = sum(int(confusion[c].sum()) for c in members)
        result[name] = right / total if total else math.nan
    return result


GROUPS_WRONG = {
    "transposed": (lambda y, p, c: confusion_ok(y, p, c).T, groups_ok),
    "float counts": (lambda y, p, c: confusion_ok(y, p, c).astype(np.float64), groups_ok),
    "only as many classes as seen": (lambda y, p, c: confusion_ok(y, p, max(max(y), max(p)) + 1), groups_ok),
    "within-group denominator": (confusion_ok, lambda confusion, groups: {
        name: float(np.asarray(confusion)[np.ix_(m, m)].trace() / max(np.asarray(confusion)[np.ix_(m, m)].sum(), 1))
        for name, m in groups.items()}),
    "nan as 0": (confusion_ok, lambda confusion, groups: {
        name: (v if not math.isnan(v) else 0.0) for name, v in groups_ok(confusion, groups).items()}),
    "overall accuracy for every group": (confusion_ok, lambda confusion, groups: dict.fromkeys(
        groups, float(np.trace(confusion) / np.sum(confusion)))),
    "mean of per-class accuracies": (confusion_ok, lambda confusion, groups: {
        name: float(np.nanmean([confusion[c, c] / confusion[c].sum() if confusion[c].sum() else np.nan
                                for c in m])) if np.asarray(confusion)[list(m)].sum() else math.nan
        for name, m in groups.items()}),
}


def test_group_accuracy_solutions_pass():
    for confusion, groups in ((confusion_ok, groups_ok), (confusion_bincount, groups_loop),
                              (noisy(confusion_ok), noisy(groups_loop))):
        passes("06.group_accuracy", confusion, groups)


@pytest.mark.parametrize("name", sorted(GROUPS_WRONG))
def test_group_accuracy_wrong_versions_fail(name):
    rejected("06.group_accuracy", *GROUPS_WRONG[name])


def test_group_accuracy_hints():
    assert "transposed" in rejected("06.group_accuracy", *GROUPS_WRONG["transposed"])
    assert "whole rows" in rejected("06.group_accuracy", *GROUPS_WRONG["within-group denominator"])


def test_group_accuracy_delegation_scores_zero():
    with pytest.raises(CheckFailed, match="it called course_utils.train.evaluation.confusion_matrix"):
        check("06.group_accuracy", evaluation.confusion_matrix, groups_ok)

    def via_data(confusion, groups):
        confusion = np.asarray(confusion)
        labels = np.repeat(np.arange(len(confusion)), confusion.sum(axis=1))
        predictions = np.concatenate([np.repeat(np.arange(len(confusion)), row) for row in confusion])
        return data_group_accuracy(predictions, labels, groups=groups)
    with pytest.raises(CheckFailed, match="it called course_utils.data.group_accuracy"):
        check("06.group_accuracy", confusion_ok, via_data)


def test_stubs_report_not_implemented():
    def stub(*args, **kwargs):
        raise NotImplementedError("exercise: replace this line with your code")
    for exercise, answers in (("06.multi_view_scores", (stub,)), ("06.insert_non_local", (stub,)),
                              ("06.group_accuracy", (stub, stub))):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(exercise, *answers)


def test_reference_group_accuracy_agrees_with_the_checker():
    labels, predictions = np.array([8, 9, 9, 0]), np.array([8, 8, 9, 1])
    assert data_group_accuracy(predictions, labels, groups=ALL_CLASS_GROUPS)["relation"] == pytest.approx(2 / 3)
    assert groups_ok(confusion_ok(labels, predictions, 10), ALL_CLASS_GROUPS)["relation"] == pytest.approx(2 / 3)
