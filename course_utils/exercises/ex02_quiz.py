"""Quizzes of notebook 02 (segmental consensus).

Answers and misconceptions are stored as salted hashes (``course_utils.exercises.quiz``); the plain
answers are in the solution notebook and in the tests (tests/test_quiz_notebooks_00_02.py).
"""

from __future__ import annotations

from course_utils.exercises.quiz import Question, quiz
from course_utils.exercises.quiz_forms import Choices, Number

TOP2 = quiz(
    "02.quiz_top2", "Top-2 consensus of one class",
    Question(
        "top2_class_1", Number(tolerance=0.01),
        accepted=("f6f0d55c18143ed4",),
        hints={
            "a89263d5dabbf469": "that is max consensus: top-2 averages the two largest scores of the class",
            "61e14518fa282fd6": "that is average consensus over all three snippets",
            "2fd1d7d4fa82f706": ("top-k picks the k largest scores of each class separately, not the k snippets "
                                 "with the largest total score"),
            "da88f986ad30bcfa": "top-k consensus averages the k scores; it does not add them",
        },
        hint="take class 1's three snippet scores, keep the two largest, average them"),
)

_ORDER_HINT_1 = ("attention weighting computes each snippet's weight from that snippet's own features, so the "
                 "weights move with the snippets: a video and its reverse get the same weighted sum")

ORDER = quiz(
    "02.quiz_order", "Which consensus can see the order of events",
    Question(
        "order_aware", Choices(("max", "average", "top_k", "linear", "attention")),
        accepted=("accd081a9c3644aa",),
        hints={
            "f7d5bbf74a008b86": _ORDER_HINT_1,
            "a7c6ad9d81c19392": _ORDER_HINT_1,
            "6f85d8e32f651aa6": "one of the five gives each snippet position its own weight",
        },
        hint="reverse the snippets of a video: which of the five outputs can change?"),
)

_FEATURES_HINT_1 = ("max and top-k choose snippets per dimension: the largest feature value and the largest class "
                    "score can come from different snippets, so the fc layer does not commute with them")

FEATURES = quiz(
    "02.quiz_features_or_scores", "Consensus on features or on class scores",
    Question(
        "same_either_way", Choices(("max", "average", "top_k", "linear", "attention")),
        accepted=("3f0a71ec6b0f3bd1",),
        hints={
            "e8fd3672fe8dc5ce": ("a weighted sum whose weights add up to one passes through an affine layer as the "
                                 "mean does: W (sum_k w_k f_k) + b = sum_k w_k (W f_k + b) when sum_k w_k = 1"),
            "58a6664756b2fc1c": ("attention weights depend on the snippets, but every class (and every feature) "
                                 "uses the same weights, which add up to one"),
            "a518aa0cae45b944": ("this course's linear weighting normalises its weights with a softmax, so they add"
                                 " up to one"),
            "210d309e62c72e9f": _FEATURES_HINT_1,
            "9c54fc6ed27efcc0": _FEATURES_HINT_1,
            "b852af7964aa733a": _FEATURES_HINT_1,
        },
        hint="for each consensus ask whether fc(consensus(features)) = consensus(fc(features)), with fc(x) = W x + b"),
)

EXERCISES = (TOP2, ORDER, FEATURES)
