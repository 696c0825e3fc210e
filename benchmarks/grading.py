"""Benchmark the grader: submissions per minute, and the overhead of its sandbox and audit against plain nbval.

For each solution notebook, ``--copies`` copies (renamed, in shuffled order) are graded with ``grade_submissions``
(``--workers`` at a time) in four set-ups: no sandbox and no audit, the audit alone, the sandbox alone, and both (the
default where bubblewrap works). The baseline runs plain ``pytest --nbval-lax`` on the same notebook the same number
of times, as many at a time. The overhead is a set-up's wall time over the baseline's; the goal for the whole grader
is at most 1.3x. Every copy must score full marks with no flag (a solution that does not is reported as a failure).
The grader runs the notebook only up to its last check cell, so it runs less than plain nbval does.

    python benchmarks/grading.py                       # every notebook, 6 copies, 2 workers
    python benchmarks/grading.py --quick               # about a minute: one quick notebook, 2 copies
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
from course_utils.grade.sandbox import resolve

GOAL = 1.3
QUICK = "04_receptive_fields"
SETUPS = {"none": ("none", False), "audit": ("none", True), "sandbox": ("bwrap", False), "grader": ("bwrap", True)}
"""Set-up name -> (sandbox, audit); the last one is the grader's default where bubblewrap works."""


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


def bench_notebook(name: str, notebook: Path, sanitize_file: Path, *, setups: list[str], copies: int, workers: int,
                   cell_timeout: float, timeout: float, seed: int) -> dict:
    """Grade ``copies`` renamed copies of one solution in every set-up and run the plain baseline."""
    rng = random.Random(seed)
    threads = kernel_threads(workers)   # what grade_submissions gives each kernel
    row: dict = {"notebook": name, "copies": copies, "seconds": {}, "clean": {}}
    with tempfile.TemporaryDirectory(prefix="grading-bench-") as scratch:
        submissions = Path(scratch, "submissions")
        submissions.mkdir()
        labels = [f"student_{index:03d}_{rng.randrange(16 ** 6):06x}.ipynb" for index in range(copies)]
        rng.shuffle(labels)
        for label in labels:
            shutil.copy(notebook, submissions / label)
        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(lambda i: plain_nbval(notebook, sanitize_file, Path(scratch, f"plain{i}"),
                                                cell_timeout=cell_timeout, threads=threads), range(copies)))
        row["plain"] = time.perf_counter() - start
        for setup in setups:
            sandbox, audit = SETUPS[setup]
            out = Path(scratch, f"out-{setup}")
            start = time.perf_counter()
            results = grade_submissions([submissions], out_dir=out, workers=workers, cell_timeout=cell_timeout,
                                        timeout=timeout, sandbox=sandbox, audit=audit)
            row["seconds"][setup] = time.perf_counter() - start
            row["clean"][setup] = sum(r.status == "graded" and r.total == r.max_total and not r.flags
                                      for r in results)
    return row


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print a table; return 1 when a solution copy lost points or was flagged."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=None, help="copies per notebook (default 6; 2 with --quick)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--notebooks", nargs="*", default=None, help="names such as 00_videos_as_tensors")
    parser.add_argument("--quick", action="store_true", help=f"only {QUICK}, 2 copies: about a minute")
    parser.add_argument("--cell-timeout", type=float, default=300)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    course = load_course()
    names = args.notebooks or ([QUICK] if args.quick else [n for n, nb in course.notebooks.items() if nb.exercises])
    unknown = sorted(set(names) - set(course.notebooks))
    if unknown:
        parser.error(f"unknown notebooks {unknown}; known: {sorted(course.notebooks)}")
    copies = args.copies or (2 if args.quick else 6)
    sandbox, why_not = resolve("auto")
    setups = list(SETUPS) if sandbox == "bwrap" else ["none", "audit"]
    if why_not:
        print(f"(no sandbox set-ups: {why_not})")
    header = " ".join(f"{setup + ' s':>10} {'x':>5}" for setup in setups)
    print(f"{'notebook':<22} {'copies':>6} {'plain s':>8} {header}  clean")
    rows = []
    for name in names:
        row = bench_notebook(name, course.notebooks[name].path, course.sanitize_file, setups=setups, copies=copies,
                             workers=args.workers, cell_timeout=args.cell_timeout, timeout=args.timeout,
                             seed=args.seed)
        rows.append(row)
        cells = " ".join(f"{row['seconds'][s]:>10.1f} {row['seconds'][s] / row['plain']:>5.2f}" for s in setups)
        clean = ", ".join(f"{s} {row['clean'][s]}/{copies}" for s in setups)
        print(f"{name:<22} {copies:>6} {row['plain']:>8.1f} {cells}  {clean}", flush=True)
    plain = sum(r["plain"] for r in rows)
    totals = {s: sum(r["seconds"][s] for r in rows) for s in setups}
    cells = " ".join(f"{totals[s]:>10.1f} {totals[s] / plain:>5.2f}" for s in setups)
    print(f"{'all':<22} {copies * len(rows):>6} {plain:>8.1f} {cells}")
    full = setups[-1]
    verdict = "within" if totals[full] / plain <= GOAL else "over"
    print(f"the grader as configured ({full}: sandbox={SETUPS[full][0]}, audit={SETUPS[full][1]}) takes "
          f"{totals[full] / plain:.2f}x plain nbval, {verdict} the {GOAL}x goal; "
          f"{60 * copies * len(rows) / totals[full]:.1f} submissions per minute with {args.workers} workers")
    return 0 if all(r["clean"][s] == copies for r in rows for s in setups) else 1


if __name__ == "__main__":
    sys.exit(main())
