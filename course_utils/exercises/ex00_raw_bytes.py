"""Checker of exercise 00.raw_video_bytes: the raw size of a video, in bytes and in GiB.

The check cell calls ``check("00.raw_video_bytes", raw_video_bytes, bytes_to_gib)`` with
``raw_video_bytes(duration_s, fps, height, width, channels=3) -> int`` (the number of frames is
``duration_s * fps`` rounded to the nearest integer; one byte per channel of every pixel) and
``bytes_to_gib(num_bytes) -> float`` (1 GiB = 2**30 bytes).
"""

from __future__ import annotations

from typing import Any

from course_utils.exercises.framework import Exercise, expect_close, expect_equal
from course_utils.exercises.helpers import expect_number

RAW_VIDEO_BYTES = Exercise("00.raw_video_bytes", "Raw size of a video in bytes and GiB")

LECTURE_BYTES = 1_658_880_000  # one minute of 640x480 RGB at 30 fps
GIB = 2**30


def _expect_int(out: Any, *, what: str) -> int:
    return expect_number(out, kind=int, what=f"{what} (a count of bytes)",
                         hint="a byte count is a whole number: round the number of frames to an int before "
                              "multiplying (60 * 30.0 is a float)")


@RAW_VIDEO_BYTES.case("the lecture's example: one minute of 640x480 RGB at 30 fps")
def _(raw_video_bytes, bytes_to_gib):
    out = _expect_int(raw_video_bytes(60, 30, 480, 640), what="raw_video_bytes(60, 30, 480, 640)")
    expect_equal(out, LECTURE_BYTES, what="raw_video_bytes(60, 30, 480, 640)",
                 hint="frames x height x width x channels: 60 s * 30 fps = 1800 frames of 480 * 640 pixels, "
                      "3 bytes each")


@RAW_VIDEO_BYTES.case("every argument counts, passed by name too")
def _(raw_video_bytes, bytes_to_gib):
    cases = [
        (dict(duration_s=2, fps=25, height=64, width=64, channels=3), 2 * 25 * 64 * 64 * 3,
         "a 2-second clip has twice the frames of a 1-second one"),
        (dict(duration_s=1, fps=10, height=4, width=6, channels=1), 240, "channels=1 is one byte per pixel"),
        (dict(duration_s=3, fps=8, height=5, width=7, channels=4), 3 * 8 * 5 * 7 * 4,
         "use the channels argument: RGBA has 4 bytes per pixel"),
        (dict(duration_s=1, fps=24, height=2, width=3), 24 * 2 * 3 * 3, "channels defaults to 3 (RGB)"),
        (dict(duration_s=0, fps=30, height=480, width=640), 0, "zero seconds hold zero frames"),
    ]
    for kwargs, expected, hint in cases:
        call = "raw_video_bytes(" + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"
        out = _expect_int(raw_video_bytes(**kwargs), what=call)
        expect_equal(out, expected, what=call, hint=hint)


@RAW_VIDEO_BYTES.case("fractional durations: the frame count is rounded, not truncated")
def _(raw_video_bytes, bytes_to_gib):
    # 0.29 * 100 == 28.999999999999996 and 0.28 * 25 == 7.000000000000001 in floating point
    for duration_s, fps, frames in [(0.29, 100, 29), (0.28, 25, 7), (1.12, 25, 28), (1.5, 24, 36)]:
        call = f"raw_video_bytes({duration_s}, {fps}, 10, 10, channels=1)"
        out = _expect_int(raw_video_bytes(duration_s, fps, 10, 10, channels=1), what=call)
        expect_equal(out, frames * 100, what=call,
                     hint=f"{duration_s} * {fps} is {duration_s * fps!r} in floating point: int() truncates it "
                          "and math.ceil rounds it up; use round() to get the whole number of frames")


@RAW_VIDEO_BYTES.case("bytes_to_gib uses binary gibibytes (2**30 bytes)")
def _(raw_video_bytes, bytes_to_gib):
    hint = "1 GiB = 1024**3 = 2**30 bytes; 1 GB = 10**9 bytes and 1 MiB = 2**20 bytes are other units"
    expect_close(bytes_to_gib(GIB), 1.0, what="bytes_to_gib(2**30)", hint=hint)
    expect_close(bytes_to_gib(3 * GIB // 2), 1.5, what="bytes_to_gib(1.5 * 2**30)", hint=hint)
    expect_close(bytes_to_gib(LECTURE_BYTES), LECTURE_BYTES / GIB, what="bytes_to_gib(1_658_880_000)",
                 rtol=1e-12, hint=hint)
    expect_close(bytes_to_gib(0), 0.0, what="bytes_to_gib(0)", hint=hint)


@RAW_VIDEO_BYTES.case("the lecture's one-minute clip is about 1.54 GiB")
def _(raw_video_bytes, bytes_to_gib):
    gib = bytes_to_gib(raw_video_bytes(60, 30, 480, 640))
    expect_close(gib, 1.544952392578125, what="bytes_to_gib(raw_video_bytes(60, 30, 480, 640))", rtol=1e-12,
                 hint="the lecture's '~1.5 GB' is 1,658,880,000 bytes / 2**30")


EXERCISES = (RAW_VIDEO_BYTES,)
