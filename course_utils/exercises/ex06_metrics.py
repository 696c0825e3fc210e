"""Checker of exercise 06.group_accuracy: the confusion matrix, and each class group's accuracy read from it.

The check cell calls ``check("06.group_accuracy", confusion_matrix, group_accuracy)`` where

* ``confusion_matrix(labels, predictions, num_classes)`` returns an int array ``(C, C)`` whose entry ``[i, j]``
  counts the videos of true class ``i`` predicted as class ``j``;
* ``group_accuracy(confusion, groups)`` returns ``{group: accuracy}``: the videos of the group's classes predicted
  right, over all the videos of those classes (a prediction of a class outside the group is wrong), ``nan`` for a
  group without videos.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.exercises.framework import Exercise, expect_equal, expect_true, fail, forbid, plain
from course_utils.exercises.helpers import int_tuple
from course_utils.exercises.values import is_array, to_numpy

GROUP_ACCURACY = Exercise(
    "06.group_accuracy", "Confusion matrix and accuracy per class group",
    forbidden=[forbid("must count the videos itself",
                      "course_utils.train.evaluation:confusion_matrix",
                      "course_utils.train.evaluation:evaluate",
                      "course_utils.data:group_accuracy")])

LABELS = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 4, 4])
PREDICTIONS = np.array([0, 1, 0, 1, 3, 2, 2, 0, 2, 3, 4, 1])
GROUPS = {"first": (0, 1), "second": (2, 3), "third": (4, 5)}


def _loop_confusion(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    for true, predicted in zip(labels.tolist(), predictions.tolist(), strict=True):
        counts[true][predicted] += 1
    return counts


def _loop_groups(labels: np.ndarray, predictions: np.ndarray, groups: dict) -> dict[str, float]:
    result = {}
    for name, members in groups.items():
        pairs = [(t, p) for t, p in zip(labels.tolist(), predictions.tolist(), strict=True) if t in members]
        result[name] = sum(t == p for t, p in pairs) / len(pairs) if pairs else math.nan
    return result


def _confusion(confusion_matrix, labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    got = plain(confusion_matrix(labels.copy(), predictions.copy(), num_classes), what="confusion_matrix(...)")
    array = to_numpy(got) if is_array(got) else (np.array(got) if isinstance(got, list) else None)
    problem = ("a " + type(got).__name__ if array is None else f"dtype {array.dtype}" if array.dtype.kind not in "iu"
               else f"shape {array.shape}" if array.shape != (num_classes, num_classes) else None)
    if problem:
        fail("confusion_matrix must return an int array or tensor of shape (C, C)",
             expected=f"ints of shape ({num_classes}, {num_classes})", got=problem,
             hint="np.zeros((C, C), dtype=np.int64), then count; or np.bincount(labels * C + predictions, "
                  "minlength=C * C).reshape(C, C)")
    return array


def _groups(group_accuracy, confusion: np.ndarray, groups: dict) -> dict:
    got = plain(group_accuracy(confusion.copy(), dict(groups)), what="group_accuracy(...)")
    if not isinstance(got, dict) or sorted(got) != sorted(groups):
        fail("group_accuracy must return a dict with one entry per group", expected=sorted(groups),
             got=sorted(got) if isinstance(got, dict) else type(got).__name__)
    for name, value in got.items():
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            fail(f"group_accuracy[{name!r}] must be a number", expected="a float", got=type(value).__name__,
                 hint="float(...) of the ratio")
    return got


def _expect_groups(got: dict, expected: dict, *, what: str) -> None:
    for name, value in expected.items():
        if math.isnan(value):
            expect_true(math.isnan(got[name]), what=f"{what}: group {name!r} has no video, its accuracy is nan",
                        expected=math.nan, got=got[name], hint="return float('nan') for a group without videos")
        elif abs(got[name] - value) > 1e-12:
            fail(f"{what}: accuracy of group {name!r}", expected=value, got=got[name],
                 hint="the diagonal entries of the group's classes (videos predicted right) over the sum of those "
                      "classes' rows (all their videos, whatever they were predicted as)")


@GROUP_ACCURACY.case("confusion matrix: row = true class, column = predicted class")
def _(confusion_matrix, group_accuracy):
    got = _confusion(confusion_matrix, LABELS, PREDICTIONS, 5)
    expected = _loop_confusion(LABELS, PREDICTIONS, 5)
    if (got == expected.T).all() and not (got == expected).all():
        fail("the confusion matrix is transposed", expected=expected, got=got,
             hint="confusion[i, j] counts videos of TRUE class i predicted as j: rows are the true classes")
    expect_equal(got, expected, what="confusion_matrix(labels, predictions, 5)",
                 hint="entry [true, predicted] += 1 for every video")


@GROUP_ACCURACY.case("classes without videos and predictions of any class")
def _(confusion_matrix, group_accuracy):
    labels, predictions = np.array([3, 3, 0]), np.array([6, 3, 3])
    got = _confusion(confusion_matrix, labels, predictions, 8)
    expect_equal(got, _loop_confusion(labels, predictions, 8), what="confusion_matrix of 3 videos, 8 classes",
                 hint="the matrix is C x C whatever classes appear (here class 7 has no video and no prediction)")
    expect_equal(int_tuple(got.sum(axis=1)), (1, 0, 0, 2, 0, 0, 0, 0), what="row sums (videos of each class)")


@GROUP_ACCURACY.case("accuracy of each group from the confusion matrix")
def _(confusion_matrix, group_accuracy):
    confusion = _loop_confusion(LABELS, PREDICTIONS, 6)
    got = _groups(group_accuracy, confusion, GROUPS)
    expected = _loop_groups(LABELS, PREDICTIONS, GROUPS)
    within = {name: confusion[np.ix_(m, m)].trace() / confusion[np.ix_(m, m)].sum()
              if confusion[np.ix_(m, m)].sum() else math.nan for name, m in GROUPS.items()}
    if not math.isnan(got["second"]) and abs(got["second"] - within["second"]) < 1e-12:
        fail("group 'second' counts only the predictions inside the group",
             expected=expected["second"], got=got["second"],
             hint="a video of the group predicted as a class of another group is wrong: divide by all the "
                  "videos of the group's classes (their whole rows)")
    _expect_groups(got, expected, what="group_accuracy(confusion, groups)")


@GROUP_ACCURACY.case("a group without videos is nan, not 0")
def _(confusion_matrix, group_accuracy):
    confusion = _loop_confusion(LABELS, PREDICTIONS, 6)
    got = _groups(group_accuracy, confusion, {"third": (4, 5), "empty": (5,)})
    _expect_groups(got, {"third": 0.5, "empty": math.nan}, what="group_accuracy with an empty group")


@GROUP_ACCURACY.case("together they give each group's accuracy of the predictions")
def _(confusion_matrix, group_accuracy):
    generator = np.random.default_rng(60)
    labels = generator.integers(0, 10, size=200)
    predictions = np.where(generator.random(200) < 0.6, labels, generator.integers(0, 10, size=200))
    groups = {f"pair {k}": (2 * k, 2 * k + 1) for k in range(5)}
    confusion = _confusion(confusion_matrix, labels, predictions, 10)
    got = _groups(group_accuracy, confusion, groups)
    _expect_groups(got, _loop_groups(labels, predictions, groups), what="200 videos, 10 classes, 5 groups")


EXERCISES = (GROUP_ACCURACY,)
