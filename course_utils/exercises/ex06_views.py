"""Checker of exercise 06.multi_view_scores: the test protocol's average of a model's scores over several views.

The check cell calls ``check("06.multi_view_scores", multi_view_scores)`` where ``multi_view_scores(model, views)``
takes ``views`` of shape ``(B, V, *input_shape)`` (``V`` views of each of ``B`` videos) and returns the video scores
``(B, num_classes)``: for each video, the mean of the model's raw scores over its ``V`` views.
"""

from __future__ import annotations

import torch

from course_utils.exercises.ex06_support import clip_scorer, linear_scorer
from course_utils.exercises.framework import Exercise, close, expect_true, fail, forbid, same
from course_utils.exercises.helpers import expect_tensor, max_difference, random_tensor

MULTI_VIEW = Exercise(
    "06.multi_view_scores", "Video scores averaged over several views",
    forbidden=[forbid("must run the model on the views and average the scores itself",
                      "course_utils.train.evaluation:video_scores",
                      "course_utils.train.evaluation:evaluate")])

RESHAPE_HINT = ("flatten (B, V, ...) to (B*V, ...) with views.flatten(0, 1), score, then reshape the scores to "
                "(B, V, C) and average over dim 1; or loop over the videos or the views")


def _expected(model: torch.nn.Module, views: torch.Tensor) -> torch.Tensor:
    """The mean over views, one view at a time (plain loops: independent of any reshape)."""
    with torch.no_grad():
        return torch.stack([torch.stack([model(views[b, v:v + 1])[0] for v in range(views.shape[1])]).mean(dim=0)
                            for b in range(views.shape[0])])  # (B, C)


def _answer(multi_view_scores, model: torch.nn.Module, views: torch.Tensor, *, what: str) -> torch.Tensor:
    got = multi_view_scores(model, views.clone())
    return expect_tensor(got, shape=(views.shape[0], _expected(model, views[:1]).shape[1]), what=what,
                         hint="one row of class scores per video: (B, num_classes)")


def _compare(got: torch.Tensor, expected: torch.Tensor, views: torch.Tensor, model: torch.nn.Module, *,
             what: str) -> None:
    if close(got, expected, atol=1e-10, rtol=1e-8):
        return
    with torch.no_grad():
        flat = model(views.flatten(0, 1)).reshape(views.shape[0], views.shape[1], -1)  # (B, V, C)
    mistakes = {
        "the scores of the first view only: average over all V views": flat[:, 0],
        "the sum over the views: divide by V (take the mean)": flat.sum(dim=1),
        "the mean of the softmax probabilities: average the raw scores": flat.softmax(dim=-1).mean(dim=1),
        "the largest score over the views: average them": flat.amax(dim=1),
    }
    for hint, wrong in mistakes.items():
        if close(got, wrong, atol=1e-10, rtol=1e-8):
            fail(f"{what} is {hint.split(':')[0]}", expected=expected[0], got=got[0], hint=hint.split(": ")[1])
    fail(f"{what} differs from the mean over each video's views (largest difference "
         f"{max_difference(got, expected):.3g})", expected=expected[0], got=got[0], hint=RESHAPE_HINT)


@MULTI_VIEW.case("the mean of the model's scores over each video's views")
def _(multi_view_scores):
    model = linear_scorer(10, 4, seed=1)
    views = random_tensor(3, 5, 2, 5, seed=2)                                  # (B, V, 2, 5)
    got = _answer(multi_view_scores, model, views, what="multi_view_scores(model, views (3, 5, 2, 5))")
    _compare(got, _expected(model, views), views, model, what="multi_view_scores(model, views (3, 5, 2, 5))")


@MULTI_VIEW.case("each video is scored on its own views only")
def _(multi_view_scores):
    model = linear_scorer(6, 3, seed=3)
    views = random_tensor(4, 3, 6, seed=4)                                      # (B, V, 6)
    views[1] += 5.0                                                             # video 1 differs from the others
    got = _answer(multi_view_scores, model, views, what="multi_view_scores(model, views (4, 3, 6))")
    for index in range(4):
        alone = _answer(multi_view_scores, model, views[index:index + 1], what=f"video {index} alone")
        if not close(got[index], alone[0], atol=1e-10, rtol=1e-8):
            fail(f"video {index}'s scores change when the other videos are in the batch",
                 expected=alone[0], got=got[index],
                 hint="keep B first: views.flatten(0, 1) puts the V views of video b in rows b*V ... b*V + V - 1, "
                      "so reshape the scores to (B, V, C), not (V, B, C)")


@MULTI_VIEW.case("one view gives the model's own scores")
def _(multi_view_scores):
    model = linear_scorer(4, 5, seed=5)
    views = random_tensor(2, 1, 4, seed=6)                                      # (B, 1, 4)
    got = _answer(multi_view_scores, model, views, what="multi_view_scores with V = 1")
    with torch.no_grad():
        expected = model(views[:, 0])
    _compare(got, expected, views, model, what="multi_view_scores with V = 1")


@MULTI_VIEW.case("clips (B, V, C, T, H, W) through a 3D network")
def _(multi_view_scores):
    model = clip_scorer(3, seed=7)
    views = random_tensor(2, 2, 3, 4, 5, 5, seed=8)                             # (B, V, C, T, H, W)
    what = "multi_view_scores(model, clips (2, 2, 3, 4, 5, 5))"
    _compare(_answer(multi_view_scores, model, views, what=what), _expected(model, views), views, model, what=what)


@MULTI_VIEW.case("keeps the dtype and leaves the views unchanged")
def _(multi_view_scores):
    model = linear_scorer(3, 2, seed=9)
    views = random_tensor(2, 4, 3, seed=10)
    before = views.clone()
    multi_view_scores(model, views)
    expect_true(same(views, before), what="the views changed during the call",
                hint="no in-place operations on the input (views -= ..., views.mul_(...))")
    expect_tensor(multi_view_scores(model, views), shape=(2, 2), what="multi_view_scores on float64 views",
                  dtype=torch.float64)


EXERCISES = (MULTI_VIEW,)
