"""Benchmark: time to generate synthetic videos with course_utils.data.make_videos (goal: 1,000 videos of 16
frames at 64x64 in a few seconds on one core). Prints a table of medians; not a test."""

import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from course_utils.data import make_videos  # noqa: E402

GOAL_S = 5.0


def main(repeats: int = 3) -> None:
    print(f"{'num_videos':>10} {'frames':>6} {'size':>5} {'median s':>9} {'videos/s':>9}")
    for num_videos, num_frames, size in [(100, 16, 64), (1000, 16, 64), (1000, 8, 32)]:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            make_videos(num_videos, num_frames=num_frames, size=size, seed=0)
            times.append(time.perf_counter() - start)
        median = float(np.median(times))
        print(f"{num_videos:>10} {num_frames:>6} {size:>5} {median:>9.2f} {num_videos / median:>9.0f}")
        if (num_videos, num_frames, size) == (1000, 16, 64):
            verdict = "met" if median <= GOAL_S else "missed"
            print(f"goal: 1,000 x 16 x 64x64 in <= {GOAL_S:.0f} s: {verdict} (ratio {median / GOAL_S:.2f})")


if __name__ == "__main__":
    main()
