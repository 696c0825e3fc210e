"""The quiz questions of notebooks 00, 01 and 02: right answers in several styles pass; each misconception gets its
own hint; other wrong answers the general hint; malformed answers a message about the form; the stub "not answered".

The plain answers live here and in the solution notebooks only (the package stores salted hashes).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.exercises.framework import CheckFailed, check
from course_utils.exercises.quiz import course_quizzes, find_question

CONSENSUS = ("max", "average", "top_k", "linear", "attention")

# id: (accepted answers in several styles, [(misconception answer, words of its hint)], general wrong answers,
#      malformed answers)
QUIZZES = {
    "00.quiz_raw_size_ratio": (
        [6.75, 27 / 4, np.float64(6.8), 6.7, torch.tensor(6.75)],
        [(2.25, "both the height and the width"), (3.0, "both the height and the width")],
        [1.0, 4.5, 9.0],
        ["6.75", [6.75], None],
    ),
    "00.quiz_batch_mib": (
        [12, 12.0, 16 * 3 * 16 * 64 * 64 * 4 / 2**20, np.float32(12.05), np.int64(12)],
        [(3.0, "4 bytes each"), (12.58, "2**20"), (0.75, "that is one video")],
        [48.0, 1.0, 11.0],
        ["12 MiB", True, (12,)],
    ),
    "00.quiz_single_frame": (
        [{"direction", "order", "second_half"}, ["Second Half", "order", "DIRECTION"], ("order", "direction",
                                                                                         "second-half")],
        [({"direction"}, "which colour came first"), ({"direction", "second_half"}, "which colour came first"),
         ({"direction", "order"}, "only the object's position differs"),
         ({"order", "second_half"}, "look alike in any one frame"),
         ({"appearance", "direction", "order", "second_half"}, "a square and a disc")],
        [set(), {"appearance"}, {"appearance", "direction"}],
        ["direction", {"direction", "motion"}, 3],
    ),
    "01.quiz_local_window": (
        ["a", "A", " (a) "],
        [("b", "identical for the first half"), ("c", "identical for the first half")],
        [],
        ["50%", 0.5, "d"],
    ),
    "01.quiz_tail_frame": (
        [0, 0.0, np.int64(0)],
        [(400, "cover frames 0 to 39"), (95, "its own segment"), (381, "its own segment")],
        [1, 100, 4000],
        ["0", 0.5, [0]],
    ),
    "01.quiz_clip_starts": (
        [{3, 4, 5}, [5, 4, 3], (3, 4, 4, 5), np.arange(3, 6), range(3, 6)],
        [({4, 5, 6, 7}, "not clip_len"), ({5, 6, 7, 8, 9}, "not N // K"), ({3, 4, 5, 6}, "draws 0 to avg - 1")],
        [{3}, {0, 1, 2}, {2, 3, 4}],
        ["3, 4, 5", 3, {3.5, 4}],
    ),
    "01.quiz_test_clips": (
        [(0, 2, 3), [0, 2, 3], np.array([0, 2, 3]), torch.tensor([0, 2, 3])],
        [((0, 1, 2), "the train-mode span"), ((1, 5, 8), "segment centres"), ((1, 4, 8), "segment centres")],
        [(0, 3, 6), (3, 2, 0), (0, 2, 4)],
        [{0, 2, 3}, (0, 2), "0 2 3"],
    ),
    "02.quiz_top2": (
        [2.25, 9 / 4, np.float32(2.25), 2.26, torch.tensor(2.24)],
        [(2.5, "max consensus"), (5 / 3, "average consensus"), (1.67, "average consensus"),
         (1.5, "not the k snippets"), (4.5, "does not add")],
        [2.0, 3.0, 0.5],
        ["2.25", None, np.array([2.25, 2.5])],
    ),
    "02.quiz_order": (
        [{"linear"}, ["Linear"], ("linear", "linear")],
        [({"linear", "attention"}, "move with the snippets"), ({"attention"}, "move with the snippets"),
         (set(), "its own weight")],
        [{"max"}, {"average", "linear"}, set(CONSENSUS)],
        ["linear", {"linear weighting"}, {"lstm"}],
    ),
    "02.quiz_features_or_scores": (
        [{"average", "linear", "attention"}, ["Attention", "average", "linear"]],
        [({"average"}, "add up to one"), ({"average", "linear"}, "attention weights"),
         ({"average", "attention"}, "softmax"), (set(CONSENSUS), "max and top-k"),
         ({"max", "average"}, "max and top-k"), ({"average", "top_k"}, "max and top-k")],
        [set(), {"max"}, {"linear"}],
        ["average", {"mean"}, 1],
    ),
}


def _failure(exercise_id, value):
    with pytest.raises(CheckFailed) as info:
        check(exercise_id, value)
    return str(info.value)


def test_every_quiz_of_notebooks_00_to_02_is_tested_here():
    assert {i for i in course_quizzes() if i[:2] in ("00", "01", "02")} == set(QUIZZES)


@pytest.mark.parametrize("exercise_id", sorted(QUIZZES))
def test_right_answers_pass_in_several_styles(exercise_id, capsys):
    for value in QUIZZES[exercise_id][0]:
        check(exercise_id, value)
        assert capsys.readouterr().out == f"✔ {exercise_id}: 1/1 checks passed\n", value


@pytest.mark.parametrize("exercise_id", sorted(QUIZZES))
def test_each_misconception_gets_its_own_hint(exercise_id):
    general = find_question(exercise_id).hint
    for value, words in QUIZZES[exercise_id][1]:
        message = _failure(exercise_id, value)
        assert "is not right" in message and words in message, (value, message)
        assert general not in message


@pytest.mark.parametrize("exercise_id", sorted(QUIZZES))
def test_other_wrong_answers_get_the_general_hint(exercise_id):
    general = find_question(exercise_id).hint
    for value in QUIZZES[exercise_id][2]:
        message = _failure(exercise_id, value)
        assert "is not right" in message and general in message, (value, message)


@pytest.mark.parametrize("exercise_id", sorted(QUIZZES))
def test_malformed_answers_are_told_the_form(exercise_id):
    for value in QUIZZES[exercise_id][3]:
        message = _failure(exercise_id, value)
        assert "is not in the expected form" in message and "Traceback" not in message, (value, message)


@pytest.mark.parametrize("exercise_id", sorted(QUIZZES))
def test_the_stub_is_not_answered(exercise_id):
    assert "not answered yet" in _failure(exercise_id, ...)
