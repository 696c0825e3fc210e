"""Quizzes of notebook 03 (inflation); all four are predict-then-run questions placed before the cell that answers.

Answers and misconceptions are stored as salted hashes (``course_utils.exercises.quiz``); the plain
answers are in the solution notebook and in the tests (tests/test_quiz_notebooks_03_05.py).
"""

from __future__ import annotations

from course_utils.exercises.quiz import Question, quiz
from course_utils.exercises.quiz_forms import Choice, Integer, Number

TIME_PADDING = quiz(
    "03.quiz_time_padding", "Frames out of a Conv3d with an even time kernel",
    Question(
        "frames_out", Integer(),
        accepted=("dbbdefc2950d6320",),
        hints={
            "c665effa5242652b": ("Kt // 2 frames of padding at each end keep the frame count only when Kt is odd: "
                                 "count the positions where a window of Kt frames fits in the padded clip"),
            "9ac9b22ed2727465": "that is without padding: the zero frames added at both ends give the window more "
                                "positions",
            "437a6dcb0e096756": "the padding is added at both ends of the clip, Kt // 2 frames each",
        },
        hint="with stride 1, a window of Kt frames fits in a clip of T + 2p frames at T + 2p - Kt + 1 positions"),
)

_NO_DIVISION_HINT_1 = ("the time axis is the only one repeated: Kt slices of W each meet the same image, and the "
                       "spatial taps are already counted in the 2D response")

NO_DIVISION = quiz(
    "03.quiz_no_division", "Inflation without the division by Kt",
    Question(
        "first_conv_ratio", Number(tolerance=0.05),
        accepted=("e4c978201808ec0c",),
        hints={
            "2a64eae344ee34c5": ("the ratio is 1 only with the division: without it each of the Kt slices applies "
                                 "the full W to the same image, and the slices add up"),
            "28a37bb2bb6803f4": _NO_DIVISION_HINT_1,
            "4ac98c9ffabaa1dc": _NO_DIVISION_HINT_1,
            "7214bb6be8ffba0a": ("without the division every slice is W, not W / Kt: the response gets larger, "
                                 "not smaller"),
        },
        hint="on a boring video each of the Kt slices sees the same image; the stem convolution has no bias"),
    Question(
        "deeper_layers", Choice("abc"),
        accepted=("83a7232cbb5412d5",),
        hints={
            "04c28765d46f99bb": ("in eval mode BatchNorm applies the 2D network's frozen running statistics: a fixed "
                                 "scale and shift that cannot notice that its input is Kt times too large"),
            "e58f18d55b4c68ad": ("exact powers of Kt would need every layer between two convolutions to be linear "
                                 "without an offset; BatchNorm's shift, the ReLU and the residual sums (whose "
                                 "shortcut skips convolutions) are not"),
        },
        hint="follow the excess factor through BatchNorm (frozen statistics), ReLU and the residual additions"),
)

_EDGE_HINT_1 = ("the padded frames are zeros, not copies of the image: a tap that lands on padding adds nothing, "
                "so the response falls short of the 2D one")

EDGE_FACTORS = quiz(
    "03.quiz_edge_factors", "Zero temporal padding at the clip's ends (Kt = 5)",
    Question(
        "frame_0", Number(tolerance=0.01),
        accepted=("157edfad696d1e85",),
        hints={
            "61571975ccc8f018": ("with Kt = 5 the padding is Kt // 2 = 2 frames at each end: at frame 0 two taps "
                                 "land on zeros, not one ((Kt - 1) / Kt holds for Kt = 3 only)"),
            "1cdd87e000884671": _EDGE_HINT_1,
            "7dd8265691bde6e3": "that is the share of taps that land on padding; the response comes from the others",
        },
        hint="the factor is (taps that land inside the clip) / Kt; the taps of frame t read frames t - 2 to t + 2"),
    Question(
        "frame_1", Number(tolerance=0.01),
        accepted=("ae816815571a1bf5",),
        hints={
            "3bd8a3a5a6788a03": ("frame 1 is one frame further from the end than frame 0, so one tap fewer lands on "
                                 "padding: the factor grows towards the interior, it does not shrink"),
            "b700a93b17a8cfef": ("frame 1 is still closer than Kt // 2 = 2 frames to the end: its tap at offset -2 "
                                 "reads frame -1, which is padding"),
        },
        hint="the factor is (taps that land inside the clip) / Kt; the taps of frame t read frames t - 2 to t + 2"),
)

INIT = quiz(
    "03.quiz_init", "Mean or center initialisation on a moving square",
    Question(
        "sharp_square", Choice(("mean", "center", "both", "neither")),
        accepted=("61607d71f894c7d6",),
        hints={
            "d00db9c1bfa6157a": ("mean init gives each of the 5 taps W / 5: frame 8's output averages frames 6 to 10, "
                                 "in which the square sits at five different places"),
            "4732c9803e5e7325": ("the two agree on a still video only; with motion the taps away from the centre "
                                 "see the square at other places"),
            "9aee95762cca3272": ("center init puts W in the middle tap and zeros in the others: frame 8's output is "
                                 "the copy filter applied to frame 8 alone"),
        },
        hint="write out which input frames each initialisation mixes into output frame 8, and with which weights"),
)

EXERCISES = (TIME_PADDING, NO_DIVISION, EDGE_FACTORS, INIT)
