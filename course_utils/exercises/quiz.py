"""Quiz exercises: the student answers by assigning a value, and the checker compares salted hashes of it.

A quiz is declared in a checker module (``course_utils/exercises/exNN_quiz.py``) with one ``Question`` per value
the student assigns::

    CLIP_STARTS = quiz(
        "01.quiz_clip_starts", "Where the second clip can start",
        Question("clip_1_starts", Integers(ordered=False),
                 accepted=("1f0c6b5e2d7a9c43",),                        # the hash of {3, 4, 5}
                 hints={"8d2e4f...": "the span of a clip is clip_len * frame_interval frames"},
                 hint="avg = (N - L + 1) // K; clip k starts in [k * avg, (k + 1) * avg)"),
    )
    EXERCISES = (CLIP_STARTS,)

and the notebook's check cell calls ``check("01.quiz_clip_starts", clip_1_starts)``. The package never holds an
answer in plain text: ``accepted`` and the keys of ``hints`` are ``answer_hash`` values of the normalised answers
(see ``course_utils.exercises.quiz_forms``), salted with the exercise id, the question's name and the form. An
author gets them with ``python -m course_utils.authoring quiz-hash`` (or ``answer_hash`` in Python).

A wrong answer gets the hint of its misconception when its hash is a key of ``hints``, else the general ``hint``; a
malformed one is told the form expected; the stub's ``...`` reports "not answered yet".
"""

from __future__ import annotations

import hashlib
import importlib
import pkgutil
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from course_utils.exercises.framework import Exercise, fail, get_exercise
from course_utils.exercises.quiz_forms import Form, Malformed

SALT = "video-understanding-hands-on/quiz/v1"
"""Course-wide salt; with the exercise id, question name and form it makes every question's hashes its own."""
_DIGEST = re.compile(r"[0-9a-f]{16}")


class NotAnswered(NotImplementedError):
    """The answer is still the stub's ``...``; ``status`` is what the failed check says instead of a wrong answer."""

    def __init__(self, name: str) -> None:
        self.status = (f"not answered yet. Replace the `...` after `{name} =` in the cell above with your answer, "
                       "run that cell, then run this check again.")
        super().__init__(self.status)


def digest(exercise_id: str, name: str, form: Form, key: str) -> str:
    """Return the salted hash (16 hex digits) of a normalised answer ``key`` of question ``name``."""
    text = "\x1f".join((SALT, exercise_id, name, form.signature, key))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def answer_hash(exercise_id: str, name: str, form: Form, value: Any) -> str:
    """Return the hash an author puts in ``accepted`` (or as a key of ``hints``) for the exact answer ``value``.

    Args:
        exercise_id: the quiz's id, e.g. ``"01.quiz_clip_starts"``.
        name: the question's name (the variable the student assigns).
        form: the question's form, e.g. ``Integers(ordered=False)``.
        value: the answer, e.g. ``{3, 4, 5}``; for a ``Number`` the exact value (it is rounded to the tolerance).

    Raises:
        Malformed: when ``value`` does not have the form.
    """
    return digest(exercise_id, name, form, form.key(value))


@dataclass(frozen=True)
class Question:
    """One value of a quiz: the variable ``name`` the student assigns, its form, and hashes of answers and hints."""

    name: str
    form: Form
    accepted: tuple[str, ...]
    hints: Mapping[str, str] = field(default_factory=dict)
    hint: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and self.name.isidentifier()):
            raise ValueError(f"a question's name must be a Python identifier, got {self.name!r}")
        if not isinstance(self.form, Form):
            raise TypeError(f"question {self.name}: form must be a quiz_forms.Form, got {type(self.form).__name__}")
        if isinstance(self.accepted, str) or not self.accepted:
            raise ValueError(f"question {self.name}: accepted must be a non-empty tuple of answer hashes")
        for value in (*self.accepted, *self.hints):
            if not (isinstance(value, str) and _DIGEST.fullmatch(value)):
                raise ValueError(f"question {self.name}: {value!r} is not an answer hash (16 hex digits)")
        if set(self.accepted) & set(self.hints):
            raise ValueError(f"question {self.name}: a hint is keyed by an accepted answer")
        object.__setattr__(self, "accepted", tuple(self.accepted))


@dataclass
class Quiz(Exercise):
    """An exercise whose cases judge assigned values; one case per question, in the order ``check`` receives them."""

    questions: tuple[Question, ...] = ()


def quiz(exercise_id: str, title: str, *questions: Question) -> Quiz:
    """Declare a quiz: ``check(exercise_id, *values)`` then judges one value per question, in order.

    Args:
        exercise_id: e.g. ``"01.quiz_clip_starts"`` (the notebook number, a dot, a name).
        title: a short description, shown when the check fails.
        *questions: at least one ``Question``.

    Returns:
        the ``Quiz`` (an ``Exercise``); list it in the module's ``EXERCISES``.
    """
    if not questions:
        raise ValueError(f"quiz {exercise_id} needs at least one Question")
    names = [question.name for question in questions]
    if len(set(names)) != len(names):
        raise ValueError(f"quiz {exercise_id}: question names must be distinct, got {names}")
    exercise = Quiz(exercise_id, title, questions=tuple(questions))
    for index, question in enumerate(questions):
        exercise.case(question.name)(_case(exercise_id, names, index, question))
    return exercise


def _case(exercise_id: str, names: list[str], index: int, question: Question) -> Callable[..., None]:
    def run(*answers: Any) -> None:
        if len(answers) != len(names):
            fail(f"check({exercise_id!r}, ...) takes {len(names)} value(s), {', '.join(names)}; "
                 f"it received {len(answers)}", hint="run the check cell as it is written")
        judge(exercise_id, question, answers[index])

    return run


def judge(exercise_id: str, question: Question, value: Any) -> None:
    """Return when ``value`` is an accepted answer to ``question``; otherwise fail the case with a hint.

    Raises:
        NotAnswered: when ``value`` is ``...`` (the stub).
    """
    if value is Ellipsis:
        raise NotAnswered(question.name)
    try:
        keys = question.form.keys(value)
    except Malformed as error:
        fail(f"`{question.name}` is not in the expected form: {error}")
    digests = [digest(exercise_id, question.name, question.form, key) for key in keys]
    if any(candidate in question.accepted for candidate in digests):
        return
    hint = next((question.hints[candidate] for candidate in digests if candidate in question.hints), question.hint)
    fail(f"`{question.name} = {question.form.show(value)}` is not right", hint=hint or None)


def find_question(exercise_id: str, name: str | None = None) -> Question:
    """Return the question ``name`` of the declared quiz ``exercise_id`` (its only question when ``name`` is None).

    Raises:
        ValueError: when the exercise is not a quiz, or has no such question, or several and no name was given.
    """
    exercise = get_exercise(exercise_id)
    if not isinstance(exercise, Quiz):
        raise ValueError(f"{exercise_id} is not a quiz")
    names = [question.name for question in exercise.questions]
    if name is None and len(names) == 1:
        return exercise.questions[0]
    for question in exercise.questions:
        if question.name == name:
            return question
    raise ValueError(f"quiz {exercise_id} has the questions {names}; name one of them")


def course_quizzes() -> dict[str, Quiz]:
    """Return every quiz declared in the ``course_utils.exercises.exNN_*`` modules, by id."""
    package = importlib.import_module("course_utils.exercises")
    found: dict[str, Quiz] = {}
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda info: info.name):
        if re.fullmatch(r"ex\d\d_\w+", info.name):
            module = importlib.import_module(f"course_utils.exercises.{info.name}")
            found.update({e.id: e for e in getattr(module, "EXERCISES", ()) if isinstance(e, Quiz)})
    return found
