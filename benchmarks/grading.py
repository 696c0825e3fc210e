"""Benchmark the grader: submissions per minute, and its overhead against plain ``pytest --nbval-lax``.

For each solution notebook, ``--copies`` copies (renamed, in shuffled order) are graded with
``python -m course_utils.grade --workers W``; the baseline runs plain ``pytest --nbval-lax`` on the same notebook
the same number of times, W at a time. The overhead is the ratio of the two wall times; the goal is at most 1.3x.
Every copy must score full marks (a solution that does not is reported as a failure).

    python benchmarks/grading.py                       # every notebook, 20 copies, 2 workers
    python benchmarks/grading.py --copies 4 --notebooks 00_videos_as_tensors
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from course_utils.grade import grade_submissions, load_course
from course_utils.grade.batch import kernel_threads

GOAL = 1.3


def plain_nbval(notebook: Path, sanitize_file: Path, folder: Path, *, cell_timeout: float, threads: int) -> float:
    """Run plain ``pytest --nbval-lax`` on one copy of ``notebook`` in its own folder; return seconds.

    The kernel gets the same ``OMP_NUM_THREADS`` as the grader gives it, so that the ratio measures the grader's
    machinery, not a different thread count.
    """
    folder.mkdir()
    copy = folder / notebook.name
    shutil.copy(notebook, copy)
    (folder / "empty.ini").write_text("[pytest]\n", encoding="utf-8")
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-c", str(folder / "empty.ini"),
               "--rootdir", str(folder), "--nbval-lax", "--nbval-current-env", "--nbval-sanitize-with",
               str(sanitize_file), "--nbval-cell-timeout", f"{cell_timeout:g}", str(copy)]
    start = time.perf_counter()
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", str(threads))
    done = subprocess.run(command, cwd=folder, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"plain nbval failed on {notebook.name}:\n{done.stdout[-2000:]}")
    return elapsed


def bench_notebook(name: str, notebook: Path, sanitize_file: Path, *, copies: int, workers: int,
                   cell_timeout: float, timeout: float, seed: int) -> dict:
    """Grade ``copies`` renamed copies of one solution and run the plain baseline; return the measurements."""
    rng = random.Random(seed)
    threads = kernel_threads(workers)   # what grade_submissions gives each kernel
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as scratch:
        submissions = Path(scratch, "submissions")
        submissions.mkdir()
        labels = [f"student_{index:03d}_{rng.randrange(16 ** 6):06x}.ipynb" for index in range(copies)]
        rng.shuffle(labels)
        for label in labels:
            shutil.copy(notebook, submissions / label)
        start = time.perf_counter()
        results = grade_submissions([submissions], out_dir=Path(scratch, "out"), workers=workers,
                                    cell_timeout=cell_timeout, timeout=timeout)
        graded = time.perf_counter() - start
        full = sum(r["status"] == "graded" and r["total"] == r["max_total"] for r in results)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda i: plain_nbval(notebook, sanitize_file, Path(scratch, f"plain{i}"),
                                                cell_timeout=cell_timeout, threads=threads), range(copies)))
        plain = time.perf_counter() - start
    return {"notebook": name, "copies": copies, "grader_s": graded, "plain_s": plain, "full_marks": full,
            "per_minute": 60 * copies / graded, "overhead": graded / plain}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table; return 1 when a solution copy lost points."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--notebooks", nargs="*", default=None, help="names such as 00_videos_as_tensors")
    parser.add_argument("--cell-timeout", type=float, default=300)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    course = load_course()
    names = args.notebooks or [name for name, nb in course.notebooks.items() if nb.exercises]
    unknown = sorted(set(names) - set(course.notebooks))
    if unknown:
        parser.error(f"unknown notebooks {unknown}; known: {sorted(course.notebooks)}")
    print(f"{'notebook':<24} {'copies':>6} {'grader s':>9} {'subs/min':>9} {'plain s':>8} {'overhead':>9}  full marks")
    rows = []
    for name in names:
        row = bench_notebook(name, course.notebooks[name].path, course.sanitize_file, copies=args.copies,
                             workers=args.workers, cell_timeout=args.cell_timeout, timeout=args.timeout,
                             seed=args.seed)
        rows.append(row)
        verdict = "ok" if row["overhead"] <= GOAL else f"over the {GOAL}x goal"
        print(f"{name:<24} {row['copies']:>6} {row['grader_s']:>9.1f} {row['per_minute']:>9.2f} "
              f"{row['plain_s']:>8.1f} {row['overhead']:>8.2f}x  {row['full_marks']}/{row['copies']}  {verdict}",
              flush=True)
    total_grader = sum(r["grader_s"] for r in rows)
    total_plain = sum(r["plain_s"] for r in rows)
    if rows:
        print(f"{'all':<24} {sum(r['copies'] for r in rows):>6} {total_grader:>9.1f} "
              f"{60 * sum(r['copies'] for r in rows) / total_grader:>9.2f} {total_plain:>8.1f} "
              f"{total_grader / total_plain:>8.2f}x  (goal <= {GOAL}x, workers={args.workers})")
    return 0 if all(r["full_marks"] == r["copies"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
