"""The quiz questions of notebook 06: right answers in several styles pass; each misconception gets its own hint;
other wrong answers the general hint; malformed answers a message about the form; the stub "not answered".

The plain answers live here and in the solution notebook only (the package stores salted hashes).
"""

from __future__ import annotations

import numpy as np
import pytest

from course_utils.exercises.framework import CheckFailed, check
from course_utils.exercises.quiz import course_quizzes, find_question

# id: {question: (accepted answers in several styles, [(misconception answer, words of its hint)],
#                 general wrong answers, malformed answers)}
QUIZZES = {
    "06.quiz_frame_models": {
        "unsolvable_by_frames": (
            [{"direction", "order", "relation"}, ["Relation", "order", "DIRECTION"],
             ("order", "relation", "direction")],
            [({"direction", "order", "relation", "second_half"}, "the late ones see the square rise"),
             ({"direction", "relation"}, "order: a green-then-red video"),
             ({"order", "relation"}, "direction: a left-moving video"),
             ({"direction", "order"}, "relation: each frame shows at most one square")],
            [set(), {"appearance"}, {"relation"}],
            ["relation", {"motion"}, 3, None],
        ),
    },
    "06.quiz_time_field": {
        "frames_seen": (
            [7, 7.0, np.int64(7)],
            [(11, "only the stem and the first convolution"), (3, "there are three of them"),
             (8, "that is the whole clip"), (5, "count the stem's convolution too")],
            [1, 9, 16],
            ["7", 7.5, [7], True],
        ),
    },
    "06.quiz_relation_models": {
        "solves_relation": (
            [{"i3d_non_local"}, ["I3D_non_local"], ("i3d-non-local",)],
            [({"i3d", "i3d_non_local"}, "no unit sees both"), ({"tsn", "i3d_non_local"}, "a sum cannot ask"),
             (set(), "every position of the clip")],
            [{"i3d"}, {"single_frame", "tsn", "i3d", "i3d_non_local"}],
            ["i3d_non_local", {"non_local"}, 1],
        ),
    },
    "06.quiz_order_models": {
        "solves_order": (
            [{"i3d", "i3d_non_local"}, ["I3D_Non_Local", "i3d"]],
            [({"tsn", "i3d", "i3d_non_local"}, "none straddles the change"),
             ({"i3d_non_local"}, "sees red turn green"), ({"tsn"}, "ignores the order of the snippets")],
            [set(), {"single_frame"}, {"i3d"}],
            ["i3d", {"c3d"}, None],
        ),
    },
}
QUESTIONS = [(exercise_id, name) for exercise_id, questions in QUIZZES.items() for name in questions]


def _failure(exercise_id, value):
    with pytest.raises(CheckFailed) as info:
        check(exercise_id, value)
    return str(info.value)


def test_every_quiz_of_notebook_06_is_tested_here():
    quizzes = {i: q for i, q in course_quizzes().items() if i.startswith("06.")}
    assert set(quizzes) == set(QUIZZES)
    for exercise_id, exercise in quizzes.items():
        assert [question.name for question in exercise.questions] == list(QUIZZES[exercise_id]), exercise_id


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_right_answers_pass_in_several_styles(exercise_id, name, capsys):
    for value in QUIZZES[exercise_id][name][0]:
        check(exercise_id, value)
        assert capsys.readouterr().out == f"✔ {exercise_id}: 1/1 checks passed\n", value


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_each_misconception_gets_its_own_hint(exercise_id, name):
    general = find_question(exercise_id, name).hint
    for value, words in QUIZZES[exercise_id][name][1]:
        message = _failure(exercise_id, value)
        assert f"`{name} = " in message and "is not right" in message and words in message, (value, message)
        assert general not in message


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_other_wrong_answers_get_the_general_hint(exercise_id, name):
    general = find_question(exercise_id, name).hint
    for value in QUIZZES[exercise_id][name][2]:
        message = _failure(exercise_id, value)
        assert f"`{name} = " in message and "is not right" in message and general in message, (value, message)


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_malformed_answers_are_told_the_form(exercise_id, name):
    for value in QUIZZES[exercise_id][name][3]:
        message = _failure(exercise_id, value)
        assert "is not in the expected form" in message and "Traceback" not in message, (value, message)


@pytest.mark.parametrize("exercise_id, name", QUESTIONS)
def test_the_stub_is_not_answered(exercise_id, name):
    message = _failure(exercise_id, ...)
    assert "not answered yet" in message and f"`{name} =`" in message, message
