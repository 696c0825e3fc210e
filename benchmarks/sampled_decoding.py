"""Benchmark: decode only the frames TSN samples from an .mp4, against decoding every frame.

Writes a synthetic 300-frame 224x224 video with ``course_utils.video_io.write_video`` (keyframe every 12 frames),
then times ``read_video(path)`` (all frames) and ``read_video(path, indices)`` for the 8 indices of a TSN sample
(test mode: segment centres; and train mode: a fresh random draw each run), over several interleaved runs. Prints
the median wall and CPU times and the ratios sampled / full; the goal is a wall-time ratio of at most 0.3.

Usage: ``python3 benchmarks/sampled_decoding.py [--runs 9] [--num-frames 300] [--size 224] [--segments 8]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from course_utils.data import make_videos
from course_utils.sampling.clips import sample_clips
from course_utils.video_io import read_video, video_info, write_video

GOAL_RATIO = 0.3


def median_times(functions: dict, runs: int) -> dict[str, tuple[float, float]]:
    """Median (wall, CPU) seconds of each function over ``runs`` rounds, after one warm-up round.

    The functions are interleaved within each round, so a change of machine load affects them alike; the CPU time
    of this process (decoder threads included) is much less sensitive to other processes than the wall time.
    """
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in functions}
    for round_index in range(runs + 1):
        for name, function in functions.items():
            wall, cpu = time.perf_counter(), time.process_time()
            function()
            if round_index > 0:
                times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
    return {name: tuple(float(m) for m in np.median(np.array(values), axis=0)) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--num-frames", type=int, default=300)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--segments", type=int, default=8)
    args = parser.parse_args()

    videos, _ = make_videos(1, num_frames=args.num_frames, size=args.size, seed=0, classes=(6,))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "benchmark.mp4"
        write_video(path, videos[0], fps=25)
        info = video_info(path)
        test_indices = sample_clips(info.num_frames, args.segments, mode="test").ravel()  # (K,)
        full = read_video(path)
        if not np.array_equal(full[test_indices], read_video(path, test_indices)):
            raise SystemExit("sampled decoding returned other pixels than the full decode")
        rng = np.random.default_rng(0)
        medians = median_times({
            "full": lambda: read_video(path),
            "test": lambda: read_video(path, test_indices),
            "train": lambda: read_video(path, sample_clips(info.num_frames, args.segments, rng=rng).ravel()),
        }, args.runs)
        full_s, test_s, train_s = medians["full"], medians["test"], medians["train"]

    print(f"video: {info.num_frames} frames, {info.width}x{info.height}, {path.suffix}; "
          f"{args.segments} TSN segments; {args.runs} runs (medians)")
    print(f"{'decode':<22}{'frames':>7}{'wall ms':>10}{'ratio':>7}{'CPU ms':>10}{'ratio':>7}")
    for name, frames, (wall, cpu) in (("all frames", info.num_frames, full_s), ("TSN test (centres)", args.segments,
                                      test_s), ("TSN train (random)", args.segments, train_s)):
        print(f"{name:<22}{frames:>7}{wall * 1e3:>10.1f}{wall / full_s[0]:>7.2f}{cpu * 1e3:>10.1f}"
              f"{cpu / full_s[1]:>7.2f}")
    worst = max(test_s[0], train_s[0]) / full_s[0]
    print(f"goal: wall-time ratio <= {GOAL_RATIO}: {'met' if worst <= GOAL_RATIO else 'missed'} "
          f"(worst ratio {worst:.2f}; on a loaded machine compare the CPU-time ratios too)")


if __name__ == "__main__":
    main()
