"""Quizzes of notebook 00 (videos as tensors).

Answers and misconceptions are stored as salted hashes (``course_utils.exercises.quiz``); the plain
answers are in the solution notebook and in the tests (tests/test_quiz_notebooks_00_02.py).
"""

from __future__ import annotations

from course_utils.exercises.quiz import Question, quiz
from course_utils.exercises.quiz_forms import Choices, Number

_RAW_SIZE_RATIO_HINT_1 = ("the raw size is proportional to the number of pixels, height times width: going from "
                          "480p to 1080p both the height and the width grow")

RAW_SIZE_RATIO = quiz(
    "00.quiz_raw_size_ratio", "How raw size scales with the frame size",
    Question(
        "size_ratio", Number(tolerance=0.05),
        accepted=("464fca16c4da6e04",),
        hints={
            "63c2920438b5a2e1": _RAW_SIZE_RATIO_HINT_1,
            "9bb922d1d5fed849": _RAW_SIZE_RATIO_HINT_1,
        },
        hint=("raw bytes = frames x height x width x channels; frames and channels are the same for both videos, so"
              " the ratio is (1080 x 1920) / (480 x 640)")),
)

BATCH_MIB = quiz(
    "00.quiz_batch_mib", "Memory of a float32 video batch",
    Question(
        "batch_mib", Number(tolerance=0.1),
        accepted=("7098d0f799cb0309",),
        hints={
            "f10c9e1cf39fb6e9": "that is the size in uint8; video_to_tensor makes float32 values, 4 bytes each",
            "3a1a0662af8f3394": "1 MiB is 2**20 = 1,048,576 bytes, not 10**6",
            "bbc565d984290442": "that is one video; the batch holds 16 of them",
        },
        hint="count the values, B x C x T x H x W, then multiply by the bytes per float32 value and divide by 2**20"),
)

_SINGLE_FRAME_HINT_1 = ("order: the frame is drawn at an unknown time, and both classes are red for half of their "
                        "frames and green for the other half; one frame cannot say which colour came first")

SINGLE_FRAME = quiz(
    "00.quiz_single_frame", "Where a single frame is not enough",
    Question(
        "chance_groups", Choices(("appearance", "direction", "order", "second_half")),
        accepted=("058c921ee4a488eb",),
        hints={
            "c25e3ae9b2aefc62": _SINGLE_FRAME_HINT_1,
            "890cbdb2faa3abd6": _SINGLE_FRAME_HINT_1,
            "d9381fdfa14eeaf3": ("second_half: the first halves of jumps and keeps_running are identical, and in "
                                 "the second half only the object's position differs, which the colour feature "
                                 "ignores"),
            "22f203c89c4a18c5": ("direction: the start position is random and the motion wraps around, so a left-"
                                 "mover and a right-mover look alike in any one frame"),
            "4457ffd4a4e1e447": "appearance: a square and a disc differ in every single frame",
        },
        hint=("for each group ask: can one frame, taken at an unknown time and described by the object's colour, "
              "tell its two classes apart?")),
)

EXERCISES = (RAW_SIZE_RATIO, BATCH_MIB, SINGLE_FRAME)
