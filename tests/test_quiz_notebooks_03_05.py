"""The quiz questions of notebooks 03, 04 and 05: right answers in several styles pass; each misconception gets its
own hint; other wrong answers the general hint; malformed answers a message about the form; the stub "not answered".

Several of these quizzes ask more than one question: each question is tested with the accepted answers of the
others, so that a failure names exactly the question under test. The plain answers live here and in the solution
notebooks only (the package stores salted hashes).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_utils.exercises.framework import CheckFailed, check
from course_utils.exercises.quiz import course_quizzes, find_question

MODES = ("gaussian", "embedded", "dot", "concatenate")
PARTS = ("g", "theta", "phi", "w_z_conv", "w_z_bn")

# id: {question: (accepted answers in several styles, [(misconception answer, words of its hint)],
#                 general wrong answers, malformed answers)}, questions in the order check() takes them
QUIZZES = {
    "03.quiz_time_padding": {
        "frames_out": (
            [9, 9.0, np.int64(9), torch.tensor(9)],
            [(8, "only when Kt is odd"), (5, "that is without padding"), (7, "at both ends of the clip")],
            [6, 10, 12],
            ["9", 9.5, [9], None, True],
        ),
    },
    "03.quiz_no_division": {
        "first_conv_ratio": (
            [3, 3.0, 6 / 2, np.float32(3.02), torch.tensor(2.98)],
            [(1.0, "the ratio is 1 only with the division"), (9, "the only one repeated"),
             (27.0, "the only one repeated"), (1 / 3, "larger, not smaller"), (0.33, "larger, not smaller")],
            [2.0, 4.5, 81.0],
            ["3", [3.0], None, float("nan")],
        ),
        "deeper_layers": (
            ["c", "C", " (c) "],
            [("a", "frozen running statistics"), ("b", "exact powers of Kt")],
            [],
            ["d", 3, None],
        ),
    },
    "03.quiz_edge_factors": {
        "frame_0": (
            [0.6, 3 / 5, np.float64(0.605), torch.tensor(0.6)],
            [(0.8, "two taps land on zeros"), (4 / 5, "two taps land on zeros"), (1.0, "zeros, not copies"),
             (1, "zeros, not copies"), (0.4, "share of taps that land on padding")],
            [0.5, 0.2, 0.75],
            ["3/5", (0.6,), None],
        ),
        "frame_1": (
            [0.8, 4 / 5, np.float32(0.8), 0.795],
            [(0.6, "one tap fewer"), (3 / 5, "one tap fewer"), (1.0, "closer than Kt // 2")],
            [0.4, 0.9, 2 / 3],
            ["0.8", [0.8], True],
        ),
    },
    "03.quiz_init": {
        "sharp_square": (
            ["center", "Center", " CENTER "],
            [("mean", "five different places"), ("both", "still video only"), ("neither", "middle tap")],
            [],
            ["centre", "c", 1, None],
        ),
    },
    "04.quiz_global_pool": {
        "field_after_pool": (
            [(32, 96, 96), [32, 96, 96], np.array([32, 96, 96]), torch.tensor([32, 96, 96])],
            [((20, 64, 64), "the lecture's clip"), ((1, 14, 14), "is a layer too"),
             ((1, 96, 96), "over time as well"), ((32, 106, 106), "padding beyond the frame's edge")],
            [(96, 96, 32), (32, 24, 24), (32, 64, 64)],
            [{32, 96}, (32, 96), "32x96x96"],
        ),
    },
    "04.quiz_rf_3d": {
        "field_conv3": (
            [(10, 19, 19), [10, 19, 19], np.array([10, 19, 19])],
            [((8, 10, 10), "multiply by the jump"), ((11, 23, 23), "update the size first"),
             ((10, 18, 18), "window is 3 wide"), ((1, 19, 19), "temporal kernel of 3")],
            [(14, 39, 39), (10, 19, 18), (19, 19, 10)],
            [(10, 19), "10, 19, 19", (10.5, 19, 19)],
        ),
        "jump_conv3": (
            [(2, 4, 4), [2, 4, 4], torch.tensor([2, 4, 4])],
            [((2, 6, 6), "multiplies strides, not kernels"), ((4, 4, 4), "leaves time alone")],
            [(1, 1, 1), (2, 8, 8), (4, 2, 2)],
            [{2, 4}, (2, 4), None],
        ),
    },
    "04.quiz_frame_rate": {
        "what_changes": (
            [{"seconds", "share_of_frame"}, ["Share of frame", "SECONDS"], ("share-of-frame", "seconds", "seconds")],
            [({"frames", "pixels", "seconds", "share_of_frame"}, "is unchanged"),
             ({"frames", "pixels"}, "is unchanged"),
             ({"seconds"}, "half as wide"), ({"share_of_frame"}, "4 times as much time")],
            [set(), {"frames"}, {"pixels", "seconds"}],
            ["seconds", {"seconds", "fps"}, 2],
        ),
    },
    "05.quiz_softmax_axis": {
        "softmax_dim": (
            ["a", "A", "(a)"],
            [("b", "must sum to 1"), ("c", "never attend to each other"), ("d", "whole matrix")],
            [],
            ["e", -1, "dim=-1"],
        ),
    },
    "05.quiz_row_sums": {
        "rows_sum_to_one": (
            [{"gaussian", "embedded"}, ["Embedded", "GAUSSIAN"], ("gaussian", "embedded", "embedded")],
            [(set(MODES), "not by the row's own sum"), ({"gaussian", "embedded", "concatenate"}, "non-negative"),
             ({"embedded"}, "normalised the same way"), ({"dot", "concatenate"}, "normalised by a count")],
            [set(), {"dot"}, {"gaussian"}],
            ["gaussian", {"softmax"}, 4],
        ),
    },
    "05.quiz_block": {
        "learned_embeddings": (
            [{"embedded", "dot", "concatenate"}, ["Concatenate", "dot", "embedded"]],
            [(set(MODES), "no theta or phi"), ({"embedded"}, "also compare"),
             ({"embedded", "dot"}, "concatenates theta")],
            [set(), {"gaussian"}, {"dot", "concatenate"}],
            ["embedded", {"embedded gaussian"}, None],
        ),
        "y_channels": (
            [512, 512.0, np.int64(512), torch.tensor(512)],
            [(1024, "back to the C channels"), (1, "one number per pair")],
            [256, 2048, 8],
            ["512", 512.5, [512]],
        ),
    },
    "05.quiz_new_block": {
        "new_block_output": (
            ["a", "A", " a. "],
            [("b", "adds the input back"), ("c", "exactly 0"), ("d", "y is internal")],
            [],
            ["x", 0, None],
        ),
        "nonzero_gradients": (
            [{"w_z_bn"}, ["W_z BN"], ("w-z-bn",)],
            [(set(PARTS), "multiplied by the BatchNorm's weight"), (set(), "do not contain gamma"),
             ({"w_z_conv", "w_z_bn"}, "sits before the BatchNorm")],
            [{"g"}, {"g", "theta", "phi"}, {"w_z_conv"}],
            ["w_z_bn", {"bn"}, 5],
        ),
    },
    "05.quiz_keys": {
        "num_queries": (
            [784, 784.0, np.int32(784), 4 * 14 * 14],
            [(196, "never pooled")],
            [98, 3136, 392],
            ["784", 784.5, (784,)],
        ),
        "num_keys": (
            [196, 196.0, np.int64(196), torch.tensor(196)],
            [(784, "max-pooled before the affinities"), (98, "leaves time alone"),
             (392, "both the height and the width"), (49, "all T frames")],
            [393, 14, 100],
            ["196", [196], 196.5],
        ),
    },
}

QUESTIONS = [(exercise_id, name) for exercise_id, questions in QUIZZES.items() for name in questions]


def _answers(exercise_id, name, value):
    """The values check() takes: ``value`` for question ``name``, the first accepted answer for every other one."""
    return [value if other == name else accepted[0] for other, (accepted, *_) in QUIZZES[exercise_id].items()]


def _failure(exercise_id, name, value):
    with pytest.raises(CheckFailed) as info:
        check(exercise_id, *_answers(exercise_id, name, value))
    return str(info.value)


def test_every_quiz_of_notebooks_03_to_05_is_tested_here():
    quizzes = {i: q for i, q in course_quizzes().items() if i[:2] in ("03", "04", "05")}
    assert set(quizzes) == set(QUIZZES)
    for exercise_id, exercise in quizzes.items():
        assert [question.name for question in exercise.questions] == list(QUIZZES[exercise_id]), exercise_id


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_right_answers_pass_in_several_styles(exercise_id, name, capsys):
    total = len(QUIZZES[exercise_id])
    for value in QUIZZES[exercise_id][name][0]:
        check(exercise_id, *_answers(exercise_id, name, value))
        assert capsys.readouterr().out == f"✔ {exercise_id}: {total}/{total} checks passed\n", value


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_each_misconception_gets_its_own_hint(exercise_id, name):
    general = find_question(exercise_id, name).hint
    for value, words in QUIZZES[exercise_id][name][1]:
        message = _failure(exercise_id, name, value)
        assert f"`{name} = " in message and "is not right" in message and words in message, (value, message)
        assert general not in message
        assert f"{len(QUIZZES[exercise_id]) - 1}/{len(QUIZZES[exercise_id])} checks passed" in message


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_other_wrong_answers_get_the_general_hint(exercise_id, name):
    general = find_question(exercise_id, name).hint
    assert general
    for value in QUIZZES[exercise_id][name][2]:
        message = _failure(exercise_id, name, value)
        assert f"`{name} = " in message and "is not right" in message and general in message, (value, message)


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_malformed_answers_are_told_the_form(exercise_id, name):
    for value in QUIZZES[exercise_id][name][3]:
        message = _failure(exercise_id, name, value)
        assert "is not in the expected form" in message and "Traceback" not in message, (value, message)


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_the_stub_is_not_answered(exercise_id, name):
    message = _failure(exercise_id, name, ...)
    assert "not answered yet" in message and f"`{name} =`" in message, message
