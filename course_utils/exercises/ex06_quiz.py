"""Quizzes of notebook 06 (the capstone): predict, before training, which model can solve which class group.

Answers and misconceptions are stored as salted hashes (``course_utils.exercises.quiz``); the plain answers are in
the solution notebook and in the tests (tests/test_quiz_notebook_06.py).
"""

from __future__ import annotations

from course_utils.exercises.quiz import Question, quiz
from course_utils.exercises.quiz_forms import Choices, Integer

GROUPS = ("appearance", "direction", "order", "second_half", "relation")
MODELS = ("single_frame", "tsn", "i3d", "i3d_non_local")

FRAME_MODELS = quiz(
    "06.quiz_frame_models", "What a model of single frames can never learn",
    Question(
        "unsolvable_by_frames", Choices(GROUPS),
        accepted=("c78629db1ba3c873",),
        hints={
            "049bd594b2eedc78": ("the jump shows in the frames of the second half, and the test protocol scores "
                                 "several frames spread over the video: the late ones see the square rise"),
            "33ad2113057da25d": ("order: a green-then-red video is a red-then-green one played backwards, so its "
                                 "frames are the same frames in another order, and an average ignores the order"),
            "302421381e203cfe": ("direction: a left-moving video is a right-moving one played backwards, so its "
                                 "frames are the same frames in another order, and an average ignores the order"),
            "1fe59d06b14c2860": ("relation: each frame shows at most one square, whose colour alone is 50/50 in "
                                 "both classes; an average adds the evidence of the two squares and cannot ask "
                                 "whether their colours are the same"),
        },
        hint=("for each group, ask whether adding up evidence from single frames, taken in any order, can separate "
              "its two classes")),
)

TIME_FIELD = quiz(
    "06.quiz_time_field", "How many frames one unit of the I3D sees",
    Question(
        "frames_seen", Integer(),
        accepted=("acf17b5ff346c6a4",),
        hints={
            "3b73ff106bf2dd8a": ("only the stem and the first convolution of each residual block have K_t = 3; the "
                                 "second convolutions and the shortcuts are 1 x 3 x 3 and 1 x 1 x 1"),
            "9e941a3d2a4f4970": "every K_t = 3 convolution adds one frame on each side, and there are three of them",
            "cc05d7f8dd5379c0": ("that is the whole clip: the global pool sees it, but it only averages; count the "
                                 "frames one unit sees before the pool"),
            "f3ed0439182badbb": "count the stem's convolution too: three convolutions with K_t = 3",
        },
        hint="each convolution with K_t = 3 and time stride 1 widens the window by 2 frames; start from 1 frame"),
)

_NO_UNIT_SEES_BOTH = ("the I3D's units see 7 consecutive clip frames, and the squares are in the first and the last "
                      "of the 8: no unit sees both, and the global average pool after them only adds evidence up")

RELATION_MODELS = quiz(
    "06.quiz_relation_models", "Which model can relate the two squares",
    Question(
        "solves_relation", Choices(MODELS),
        accepted=("52ed724c7dfd0109",),
        hints={
            "2c50575da5063416": _NO_UNIT_SEES_BOTH,
            "52c0216cc6df6b47": ("TSN's average consensus adds the snippets' scores, and one snippet shows at most "
                                 "one square: a sum cannot ask whether two colours are the same"),
            "bd61f37f0825e0a2": ("a non-local block computes every position's response from every position of the "
                                 "clip, the first frame's square included"),
        },
        hint="which model has a unit that sees both squares before anything is averaged?"),
)

ORDER_MODELS = quiz(
    "06.quiz_order_models", "Which models can see the order of the colours",
    Question(
        "solves_order", Choices(MODELS),
        accepted=("22f8faace352e103",),
        hints={
            "e335f523b2ab0aa0": ("at test time each of this TSN's snippets is a pair of consecutive frames of one "
                                 "colour (none straddles the change at the middle), and the average consensus "
                                 "ignores the order of the snippets (notebook 02)"),
            "67c76b2fc781f859": ("the colour changes in the middle of the video, between two consecutive clip "
                                 "frames: a unit that sees 7 frames around the middle sees red turn green"),
            "77cc3fc683bd0779": ("no test snippet of this TSN straddles the colour change, and its average "
                                 "consensus ignores the order of the snippets; the 3D networks see red turn green "
                                 "inside their window"),
        },
        hint="which models see two moments of the video together, in order, before they average?"),
)

EXERCISES = (FRAME_MODELS, TIME_FIELD, RELATION_MODELS, ORDER_MODELS)
