"""``python -m course_utils.authoring quiz-hash``: the salted hashes a quiz author pastes into a checker module.

Examples::

    # a quiz already declared in course_utils/exercises/exNN_*.py: its question and form are looked up
    python -m course_utils.authoring quiz-hash 01.quiz_clip_starts "{3, 4, 5}" "{4, 5, 6, 7}"
    # a question not declared yet: name it and give its form
    python -m course_utils.authoring quiz-hash 01.quiz_clip_starts "{3, 4, 5}" \\
        --question clip_1_starts --form "Integers(ordered=False)"

Each VALUE is a Python literal (``"'b'"``, ``"6.75"``, ``"{'linear'}"``, ``"(0, 2, 3)"``). One line per value is
printed: the hash, the normalised key it was computed from, and the value. Put the hash of each accepted answer in
``accepted`` and use the hashes of misconceptions as keys of ``hints``.
"""

from __future__ import annotations

import ast


def quiz_hash_lines(exercise_id: str, values: list[str], *, question: str | None = None,
                    form: str | None = None) -> list[str]:
    """Return one line ``hash  key  value`` per literal in ``values``.

    Args:
        exercise_id: the quiz's id.
        values: Python literals, one per answer to hash.
        question: the question's name (needed with ``form``, or when a declared quiz has several questions).
        form: a form expression such as ``"Choice('abcd')"``; without it the declared question's form is used.

    Raises:
        ValueError: when a value is not a literal, does not have the form, or the question cannot be found.
    """
    from course_utils.exercises import quiz_forms
    from course_utils.exercises.quiz import answer_hash, find_question

    if form is None:
        declared = find_question(exercise_id, question)
        name, shape = declared.name, declared.form
    else:
        if not (question and question.isidentifier()):
            raise ValueError("--form needs --question NAME, the variable the student assigns")
        forms = {name: getattr(quiz_forms, name) for name in ("Choice", "Choices", "Integer", "Integers", "Number")}
        try:
            shape = eval(form, {"__builtins__": {}}, forms)  # the author's own expression, with the forms only
        except Exception as error:
            raise ValueError(f"--form {form!r} failed: {type(error).__name__}: {error}") from error
        name = question
        if not isinstance(shape, quiz_forms.Form):
            raise ValueError(f"--form must build a form ({', '.join(forms)}), got {form!r}")
    lines = []
    for text in values:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError) as error:
            raise ValueError(f"{text!r} is not a Python literal (quote strings: \"'b'\")") from error
        lines.append(f"{answer_hash(exercise_id, name, shape, value)}  {shape.key(value)!r:<20}  {text}")
    return lines
