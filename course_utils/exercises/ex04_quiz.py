"""Quizzes of notebook 04 (receptive fields); 04.quiz_rf_3d is the lecture's quiz 2 (its code exercise is
04.rf_quiz).

Answers and misconceptions are stored as salted hashes (``course_utils.exercises.quiz``); the plain
answers are in the solution notebook and in the tests (tests/test_quiz_notebooks_03_05.py).
"""

from __future__ import annotations

from course_utils.exercises.quiz import Question, quiz
from course_utils.exercises.quiz_forms import Choices, Integers

GLOBAL_POOL = quiz(
    "04.quiz_global_pool", "The field after a global pooling, on a larger clip",
    Question(
        "field_after_pool", Integers(ordered=True, length=3),
        accepted=("c60a30d4157cf848",),
        hints={
            "e568ff2f845b61bf": ("20 x 64 x 64 was the lecture's clip; a global pooling has no fixed window: its "
                                 "single output averages whatever it is given"),
            "02866d4434b03c98": ("the global pooling is a layer too: its one output averages every position of its "
                                 "input, and each of those sees its own 1 x 14 x 14 patch"),
            "79372adad4189de2": "nn.AdaptiveAvgPool3d(1) averages over time as well as over height and width",
            "1709ae70d1dd03b4": ("the recurrence with a window of 24 positions, jump 4, counts positions in the "
                                 "padding beyond the frame's edge: a unit can only see the input it is given"),
        },
        hint="a global pooling has a single output unit: which input positions can reach it?"),
)

_FIELD_NO_JUMP_HINT = ("each kernel adds (k - 1) steps of its input's grid, and those steps are j input positions "
                       "apart: multiply by the jump of the layer's input")

RF_3D = quiz(
    "04.quiz_rf_3d", "The receptive field of a small 3D network (the lecture's quiz 2)",
    Question(
        "field_conv3", Integers(ordered=True, length=3),
        accepted=("0a224e2b29158572",),
        hints={
            "2a3c94560f5792a4": _FIELD_NO_JUMP_HINT,
            "6a64f73d3c454b35": ("a layer's own stride spaces out the next layer's taps; its size uses the jump of "
                                 "its input, so update the size first, then the jump"),
            "1e871ac6e1a98efb": ("pool1's window is 3 wide in h and w; its stride (2) sets the jump, the window "
                                 "sets how much the field grows: (3 - 1) x 1"),
            "d83bd4a27abe44ca": "a 3 x 3 x 3 convolution has a temporal kernel of 3; only pool1 leaves time alone",
        },
        hint=("along t, h and w separately: r_l = r_(l-1) + (k_l - 1) d_l j_(l-1), then j_l = j_(l-1) s_l, "
              "starting from r_0 = j_0 = 1")),
    Question(
        "jump_conv3", Integers(ordered=True, length=3),
        accepted=("28010494601e11cd",),
        hints={
            "4f43c00d63e2b21c": "the jump multiplies strides, not kernels: pool1's stride is 2 in h and w",
            "d57287c6f99d3a1b": "pool1's stride in time is 1: it leaves time alone",
        },
        hint="the jump is the product of the strides so far, one dimension at a time"),
)

_FRAME_RATE_HINT_1 = ("the layers (kernels, strides, dilations) are unchanged, so the field measured in input frames "
                      "and input pixels is unchanged; what changes is what one frame and one pixel stand for")

FRAME_RATE = quiz(
    "04.quiz_frame_rate", "What a field means at another frame rate and resolution",
    Question(
        "what_changes", Choices(("frames", "pixels", "seconds", "share_of_frame")),
        accepted=("1605f2f056366ec1",),
        hints={
            "3b8b703bb66558cf": _FRAME_RATE_HINT_1,
            "17017390017d49f3": _FRAME_RATE_HINT_1,
            "8ecd35f3af6113be": "at 224 x 224 one pixel covers half as wide a part of the scene as at 112 x 112",
            "c5304a2075fad4f3": ("keeping 1 frame in 4 puts 4 times as much time between two consecutive input "
                                 "frames"),
        },
        hint=("separate the field in the network's own units (input frames, input pixels) from what those units "
              "cover of the video (seconds, share of the frame)")),
)

EXERCISES = (GLOBAL_POOL, RF_3D, FRAME_RATE)
