"""Quizzes of notebook 01 (frame sampling); 01.quiz_clip_starts is the lecture's quiz 1.

Answers and misconceptions are stored as salted hashes (``course_utils.exercises.quiz``); the plain
answers are in the solution notebook and in the tests (tests/test_quiz_notebooks_00_02.py).
"""

from __future__ import annotations

from course_utils.exercises.quiz import Question, quiz
from course_utils.exercises.quiz_forms import Choice, Integer, Integers

_LOCAL_WINDOW_HINT_1 = ("jumps and keeps_running are identical for the first half of the video (16 of 32 frames): "
                        "over frames 0-7 neither rises")

LOCAL_WINDOW = quiz(
    "01.quiz_local_window", "A local window on the second-half classes",
    Question(
        "local_window_accuracy", Choice("abc"),
        accepted=("b322eb51f6be9fe3",),
        hints={
            "f9899184500f0614": _LOCAL_WINDOW_HINT_1,
            "a94c17c68b695be5": _LOCAL_WINDOW_HINT_1,
        },
        hint="where in the video do the two classes differ, and does the window reach it?"),
)

_TAIL_FRAMES_HINT_1 = ("each snippet is drawn from its own segment, not from the whole video; which segment holds "
                       "frame 41?")

TAIL_FRAMES = quiz(
    "01.quiz_tail_frame", "How often the last frame is sampled",
    Question(
        "frame_41_count", Integer(),
        accepted=("95729428c9133210",),
        hints={
            "1b189302f116409e": ("segments are 42 // 4 = 10 frames long, so the four segments cover frames 0 to 39:"
                                 " is frame 41 in any of them?"),
            "5543871ea70e40bb": _TAIL_FRAMES_HINT_1,
            "9af77a6461e14e8b": _TAIL_FRAMES_HINT_1,
        },
        hint="avg = N // K; segment k is [k * avg, (k + 1) * avg); the last N - K * avg frames belong to none"),
)

CLIP_STARTS = quiz(
    "01.quiz_clip_starts", "Where the second clip can start (the lecture's quiz 1)",
    Question(
        "clip_1_starts", Integers(ordered=False),
        accepted=("848020c76e847300",),
        hints={
            "b0832625628c601e": ("in train mode a clip spans L = clip_len * frame_interval = 8 frames, not "
                                 "clip_len: avg = (N - L + 1) // K"),
            "8027c3b3a8bce413": "every clip must fit in the video: avg = (N - L + 1) // K, not N // K",
            "bd54baffebeaec72": "rng.integers(avg) draws 0 to avg - 1: a start never reaches the next clip's window",
        },
        hint="avg = (N - L + 1) // K with L = clip_len * frame_interval; clip k starts in [k * avg, (k + 1) * avg)"),
)

_TEST_CLIPS_HINT_1 = ("segment centres are the rule for clip_len = 1; longer clips are spread evenly from frame 0 "
                      "to N - L'")

TEST_CLIPS = quiz(
    "01.quiz_test_clips", "Test-mode clip starts",
    Question(
        "test_starts", Integers(ordered=True, length=3),
        accepted=("de4c2d5d763bda08",),
        hints={
            "915b5a5c6fb4ca11": ("in test mode a clip really spans L' = (clip_len - 1) * frame_interval + 1 = 7 "
                                 "frames; clip_len * frame_interval = 8 is the train-mode span"),
            "c6723a7cd62f4bbe": _TEST_CLIPS_HINT_1,
            "d0f959824886403b": _TEST_CLIPS_HINT_1,
        },
        hint=("starts np.round(k * (m / (K - 1))) with m = max(N - L', 0) and L' = (clip_len - 1) * frame_interval "
              "+ 1; np.round rounds halves to even")),
)

EXERCISES = (LOCAL_WINDOW, TAIL_FRAMES, CLIP_STARTS, TEST_CLIPS)
