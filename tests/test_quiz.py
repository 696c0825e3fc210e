"""The quiz machinery: forms, salted hashes, hints, malformed answers, the stub, the authoring helper, consistency.

The questions of the notebooks are tested in tests/test_quiz_notebooks_00_02.py (and the other notebooks' files).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils.authoring import commands, contract
from course_utils.authoring.quiz_hash import quiz_hash_lines
from course_utils.exercises.framework import CheckFailed, check, run_checks
from course_utils.exercises.quiz import NotAnswered, Question, answer_hash, course_quizzes, digest, find_question, quiz
from course_utils.exercises.quiz_forms import Choice, Choices, Integer, Integers, Malformed, Number

ROOT = Path(__file__).resolve().parent.parent
QID = "99.quiz_demo"


def _question(name, form, right, wrong=(), hint="general hint"):
    return Question(name, form, accepted=(answer_hash(QID, name, form, right),),
                    hints={answer_hash(QID, name, form, value): f"misconception {value!r}" for value in wrong},
                    hint=hint)


def _verdict(question, value):
    """'ok', or the failure message of a one-question quiz."""
    try:
        run_checks(quiz(QID, "demo", question), value)
    except CheckFailed as error:
        return str(error)
    return "ok"


# ---------------------------------------------------------------- forms
@pytest.mark.parametrize("value", ["b", "B", " b ", "(b)", "b.", np.str_("b")])
def test_choice_accepts_a_letter_in_any_case(value):
    assert _verdict(_question("letter", Choice("abcd"), "b"), value) == "ok"


@pytest.mark.parametrize("value, message", [
    (2, "one of 'a', 'b', 'c', 'd', as a string"), ("e", "'e' is not one of the options"),
    (["b"], "as a string"), (None, "as a string"), (True, "as a string"),
])
def test_choice_malformed_says_the_form(value, message):
    verdict = _verdict(_question("letter", Choice("abcd"), "b"), value)
    assert "is not in the expected form" in verdict and message in verdict


def test_choice_wrong_answers_get_their_hint_or_the_general_one(capsys):
    question = _question("letter", Choice("abcd"), "b", wrong=("c",))
    assert "hint:     misconception 'c'" in _verdict(question, "C")
    assert "hint:     general hint" in _verdict(question, "a")
    assert "`letter = 'a'` is not right" in _verdict(question, "a")
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("value", [{"linear", "attention"}, ["Attention", "LINEAR"], ("attention", "linear", "linear"),
                                   frozenset({"linear", " attention"})])
def test_choices_ignore_order_case_and_duplicates(value):
    form = Choices(("max", "linear", "attention"))
    assert _verdict(_question("chosen", form, {"linear", "attention"}), value) == "ok"


def test_choices_treat_dash_underscore_and_space_alike_and_accept_the_empty_set():
    form = Choices(("top_k", "second half", "max"))
    assert _verdict(_question("chosen", form, {"top-k", "second_half"}), ["TOP K", "second-half"]) == "ok"
    assert _verdict(_question("chosen", form, set()), set()) == "ok"
    assert "is not right" in _verdict(_question("chosen", form, set()), {"max"})


@pytest.mark.parametrize("value, message", [
    ("linear", "a set of options"), ({"linear", "lstm"}, "'lstm' is not one of the options"), (3, "a set of options"),
    ({1, 2}, "is not one of the options"), ({"linear": 1}, "a set of options"),
])
def test_choices_malformed(value, message):
    verdict = _verdict(_question("chosen", Choices(("max", "linear")), {"linear"}), value)
    assert "is not in the expected form" in verdict and message in verdict


@pytest.mark.parametrize("value", [12, 12.0, np.int64(12), np.float32(12.0), np.array(12), torch.tensor(12)])
def test_integer_accepts_whole_numbers_in_any_numeric_type(value):
    assert _verdict(_question("count", Integer(), 12), value) == "ok"


@pytest.mark.parametrize("value, message", [(12.5, "not a whole number"), ("12", "without quotes"), (True, "bool"),
                                            (float("nan"), "not a finite number"), ([12], "a whole number")])
def test_integer_malformed(value, message):
    verdict = _verdict(_question("count", Integer(), 12), value)
    assert "is not in the expected form" in verdict and message in verdict


@pytest.mark.parametrize("value", [(0, 2, 3), [0, 2, 3], np.array([0, 2, 3]), torch.tensor([0, 2, 3]),
                                   (np.int32(0), 2.0, np.int64(3))])
def test_ordered_integers(value):
    assert _verdict(_question("starts", Integers(ordered=True, length=3), (0, 2, 3)), value) == "ok"


@pytest.mark.parametrize("value, message", [({0, 2, 3}, "a set has no order"), ((0, 2), "got 2 number(s)"),
                                            ((0, 2, 3.5), "not a whole number"), ("0, 2, 3", "a tuple of 3")])
def test_ordered_integers_malformed(value, message):
    verdict = _verdict(_question("starts", Integers(ordered=True, length=3), (0, 2, 3)), value)
    assert "is not in the expected form" in verdict and message in verdict


def test_ordered_integers_care_about_order_and_sets_do_not():
    assert "is not right" in _verdict(_question("starts", Integers(ordered=True), (0, 2, 3)), (3, 2, 0))
    unordered = _question("starts", Integers(ordered=False), {3, 4, 5})
    for value in ([5, 4, 3], (3, 3, 4, 5), np.array([4, 3, 5]), range(3, 6)):
        assert _verdict(unordered, value) == "ok"


@pytest.mark.parametrize("value, verdict", [
    (6.75, "ok"), (6.70, "ok"), (6.80, "ok"), (27 / 4, "ok"), (np.float32(6.72), "ok"), (torch.tensor(6.78), "ok"),
    (np.array(6.75), "ok"), (7, "is not right"), (6.69, "is not right"), (6.81, "is not right"),
])
def test_number_tolerance_is_around_the_rounded_value(value, verdict):
    assert verdict in _verdict(_question("ratio", Number(tolerance=0.05), 6.75), value)


def test_number_misconception_hint_uses_the_same_grid():
    question = _question("ratio", Number(tolerance=0.05), 6.75, wrong=(2.25,))
    assert "misconception 2.25" in _verdict(question, 2.26)
    assert "general hint" in _verdict(question, 4.0)


@pytest.mark.parametrize("value, message", [("6.75", "without quotes"), (np.array([6.75]), "a number"),
                                            (float("inf"), "not a finite number"), (False, "bool"), (None, "None")])
def test_number_malformed(value, message):
    verdict = _verdict(_question("ratio", Number(tolerance=0.05), 6.75), value)
    assert "is not in the expected form" in verdict and message in verdict


def test_forms_reject_bad_parameters():
    for build in (lambda: Choice("a"), lambda: Choice(("a", "A")), lambda: Choices("abc"), lambda: Choices(("x",)),
                  lambda: Number(tolerance=0), lambda: Number(tolerance=True), lambda: Integers(ordered=True,
                                                                                               length=0)):
        with pytest.raises((ValueError, TypeError)):
            build()


# ---------------------------------------------------------------- answers as plain values
class AlwaysEqualInt(int):
    def __eq__(self, other):
        return True

    def __hash__(self):
        return 0


class AlwaysEqualStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__

    def lower(self):
        return "b"

    def strip(self, *args):
        return "b"


def test_a_lying_subclass_gains_nothing():
    assert "is not right" in _verdict(_question("count", Integer(), 12), AlwaysEqualInt(3))
    assert "is not right" in _verdict(_question("letter", Choice("abcd"), "b"), AlwaysEqualStr("a"))
    assert _verdict(_question("count", Integer(), 12), AlwaysEqualInt(12)) == "ok"


# ---------------------------------------------------------------- the stub, hashes, declarations
def test_the_stub_says_not_answered_and_records_not_tried():
    from course_utils.exercises import progress

    with pytest.raises(CheckFailed) as info:
        run_checks(quiz(QID, "demo", _question("letter", Choice("abcd"), "b")), ...)
    assert "not answered yet" in str(info.value) and "`...` after `letter =`" in str(info.value)
    assert "NotImplementedError" not in str(info.value)
    assert progress.RESULTS[QID] == progress.NOT_TRIED
    assert isinstance(NotAnswered("x"), NotImplementedError)


def test_hashes_depend_on_the_question_the_form_and_the_answer():
    form = Choice("abcd")
    base = answer_hash(QID, "letter", form, "b")
    assert base == answer_hash(QID, "letter", form, " B ")
    assert len({base, answer_hash("99.other", "letter", form, "b"), answer_hash(QID, "other", form, "b"),
                answer_hash(QID, "letter", Choice("abc"), "b"), answer_hash(QID, "letter", form, "c")}) == 5
    assert base == digest(QID, "letter", form, "b")
    with pytest.raises(Malformed):
        answer_hash(QID, "letter", form, "z")


def test_question_and_quiz_declarations_are_validated():
    form = Choice("abcd")
    right = answer_hash(QID, "letter", form, "b")
    with pytest.raises(ValueError, match="non-empty"):
        Question("letter", form, accepted=())
    with pytest.raises(ValueError, match="not an answer hash"):
        Question("letter", form, accepted=("b",))
    with pytest.raises(ValueError, match="keyed by an accepted answer"):
        Question("letter", form, accepted=(right,), hints={right: "no"})
    with pytest.raises(ValueError, match="identifier"):
        Question("a letter", form, accepted=(right,))
    with pytest.raises(TypeError, match="form"):
        Question("letter", "abcd", accepted=(right,))
    with pytest.raises(ValueError, match="at least one"):
        quiz(QID, "demo")
    question = Question("letter", form, accepted=(right,))
    with pytest.raises(ValueError, match="distinct"):
        quiz(QID, "demo", question, question)


def test_a_quiz_with_two_questions_judges_each_value(capsys):
    first = _question("letter", Choice("abc"), "a")
    second = _question("count", Integer(), 3)
    two = quiz(QID, "two parts", first, second)
    run_checks(two, "A", np.int64(3))
    assert capsys.readouterr().out == f"✔ {QID}: 2/2 checks passed\n"
    with pytest.raises(CheckFailed, match="1/2 checks passed") as info:
        run_checks(two, "a", 4)
    assert "count" in str(info.value)
    with pytest.raises(CheckFailed, match="takes 2 value"):
        run_checks(two, "a")


def test_quiz_hash_helper_matches_answer_hash(capsys):
    lines = quiz_hash_lines("01.quiz_clip_starts", ["{3, 4, 5}", "[5, 4, 3]"])
    question = find_question("01.quiz_clip_starts")
    expected = answer_hash("01.quiz_clip_starts", "clip_1_starts", question.form, {3, 4, 5})
    assert [line.split()[0] for line in lines] == [expected, expected]
    assert expected in question.accepted
    fresh = quiz_hash_lines("99.quiz_new", ["'B'"], question="letter", form="Choice('abcd')")
    assert fresh[0].split()[0] == answer_hash("99.quiz_new", "letter", Choice("abcd"), "b")
    for bad in (dict(values=["b"]), dict(values=["'z'"]), dict(values=["'b'"], form="Choice('abcd')"),
                dict(values=["'b'"], question="letter", form="print('x')")):
        with pytest.raises((ValueError, TypeError)):
            quiz_hash_lines("99.quiz_new", bad.pop("values"), **bad)
    assert commands.main(["quiz-hash", "01.quiz_clip_starts", "{3, 4, 5}"]) == 0
    assert expected in capsys.readouterr().out
    assert commands.main(["quiz-hash", "01.segment_sampling", "1"]) == 1
    assert "not a quiz" in capsys.readouterr().err


def test_quiz_hash_command_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "course_utils.authoring", "quiz-hash", "01.quiz_tail_frame", "0"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] in find_question("01.quiz_tail_frame").accepted


# ---------------------------------------------------------------- the course's quizzes and notebooks agree
def test_every_quiz_cell_has_a_quiz_checker_and_every_quiz_checker_a_quiz_cell():
    cells = {}
    for path in commands.solution_paths():
        notebook = contract.read_notebook(path)
        cells.update({e.id: e.kind for e in contract.exercises(notebook)})
    quizzes = course_quizzes()
    assert {i for i, kind in cells.items() if kind == "quiz"} == set(quizzes)


@pytest.mark.parametrize("exercise_id", sorted(course_quizzes()))
def test_every_course_quiz_has_a_general_hint_and_rejects_the_stub(exercise_id):
    exercise = course_quizzes()[exercise_id]
    for question in exercise.questions:
        assert question.hint, f"{exercise_id}.{question.name} has no general hint"
    with pytest.raises(CheckFailed, match="not answered yet"):
        check(exercise_id, *[...] * len(exercise.questions))
