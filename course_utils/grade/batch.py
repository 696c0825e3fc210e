"""Grading a batch: read, flag, build the pristine copy, run nbval, judge; several submissions at a time."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from course_utils.grade import flags as static_flags
from course_utils.grade.course import Course, load_course
from course_utils.grade.pristine import build_pristine
from course_utils.grade.report import write_reports
from course_utils.grade.runner import run_nbval
from course_utils.grade.submission import Submission, discover, read_submission
from course_utils.grade.verdict import verdict

DEFAULT_CELL_TIMEOUT = 120.0
DEFAULT_TIMEOUT = 600.0


def grade_submissions(paths: list[str | Path], *, out_dir: str | Path = "grading-out",
                      course_dir: str | Path | None = None, workers: int = 1,
                      cell_timeout: float = DEFAULT_CELL_TIMEOUT, timeout: float = DEFAULT_TIMEOUT,
                      progress: bool = False) -> list[dict]:
    """Grade every submission found in ``paths`` and write ``grades.csv``, ``grades.json`` and the feedback files.

    Args:
        paths: submission files and/or folders (searched for ``*.ipynb``).
        out_dir: where the reports go (created if needed).
        course_dir: the course root; None means the checkout ``course_utils`` was imported from.
        workers: submissions graded at the same time, one kernel each (>= 1). Each kernel gets
            ``OMP_NUM_THREADS`` = CPU cores // workers unless the environment already sets it.
        cell_timeout: seconds one cell may run.
        timeout: seconds one whole submission may run.
        progress: print one line per finished submission to stderr.

    Returns:
        One result dict per submission, sorted by file label (what ``grades.json`` holds): ``file``, ``sha256``,
        ``notebook``, ``status``, ``detail``, ``total``, ``max_total``, ``exercises`` (id, points, max_points,
        passed, code, message, flagged), ``flags``, ``notes``, ``other_errors`` and ``feedback`` (its path in
        ``out_dir``).

    Raises:
        CourseError: when the course cannot be loaded. FileNotFoundError / ValueError: bad ``paths``.
    """
    if isinstance(paths, (str, Path)):
        raise TypeError("paths must be a list of files and folders, e.g. [\"submissions/\"], not a single path")
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be an int >= 1, got {workers!r}")
    for label, value in (("cell_timeout", cell_timeout), ("timeout", timeout)):
        if not isinstance(value, (int, float)) or not value > 0:
            raise ValueError(f"{label} must be a number of seconds > 0, got {value!r}")
    course = load_course(course_dir)
    found = discover(list(paths))
    threads = kernel_threads(workers)
    done = []

    def one(item: tuple[Path, str]) -> dict:
        start = time.monotonic()
        result = grade_one(item[0], item[1], course, cell_timeout=cell_timeout, timeout=timeout, threads=threads)
        done.append(result)
        if progress:
            print(f"[{len(done)}/{len(found)}] {result['file']}: {result['status']} {result['total']}/"
                  f"{result['max_total'] if result['max_total'] is not None else '-'} "
                  f"({time.monotonic() - start:.1f} s)", file=sys.stderr, flush=True)
        return result

    with ThreadPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(one, found))
    results.sort(key=lambda result: result["file"])
    write_reports(results, course, Path(out_dir))
    return results


def kernel_threads(workers: int) -> int:
    """Return the ``OMP_NUM_THREADS`` each kernel gets when ``workers`` run at once: the CPU cores shared out."""
    return max(1, (os.cpu_count() or 1) // workers)


def grade_one(path: Path, file: str, course: Course, *, cell_timeout: float, timeout: float,
              threads: int | None = None) -> dict:
    """Grade one submission file (see ``grade_submissions``); return its result dict."""
    submission = read_submission(path, file, course)
    result = {"file": file, "sha256": submission.sha256, "notebook": submission.notebook, "status": submission.status,
              "detail": submission.detail, "total": 0, "max_total": None, "exercises": [], "flags": [],
              "notes": list(submission.notes), "other_errors": []}
    if submission.status is not None:
        return result
    course_notebook = course.notebooks[submission.notebook]
    if course_notebook.problems:
        result.update(status="course_error", detail="the course's notebook is broken: "
                      + "; ".join(course_notebook.problems))
        return result
    result["flags"] = _flags(submission, course)
    notebook, origin = build_pristine(course_notebook, submission.answers)
    try:
        run = run_nbval(notebook, name=course_notebook.name, sanitize_file=course.sanitize_file,
                        course_root=course.root, cell_timeout=cell_timeout, timeout=timeout, threads=threads)
    except OSError as error:   # no process could be started, the disk is full, ...: this row says so, the batch goes on
        result.update(status="error", detail=f"the grading run could not start: {type(error).__name__}: {error}")
        return result
    judged = verdict(course_notebook, origin, run, cell_timeout=cell_timeout, timeout=timeout)
    result["notes"] += [f"exercise {exercise_id}: no exercise cell found, so the stub was graded (0 points)"
                        for exercise_id, where in origin.items() if where == "stub"]
    flagged = {flag["exercise"] for flag in result["flags"]}
    for exercise in judged["exercises"]:
        exercise["flagged"] = exercise["id"] in flagged
    result.update(judged)
    result["total"] = sum(exercise["points"] for exercise in judged["exercises"])
    result["max_total"] = course_notebook.max_total
    return result


def _flags(submission: Submission, course: Course) -> list[dict]:
    course_notebook = course.notebooks[submission.notebook]
    found = []
    for spec in course_notebook.exercises:
        if spec.id not in submission.answers:
            continue
        allowed = static_flags.signature(spec.solution_source)
        for flag in static_flags.scan(submission.answers[spec.id], allowed=allowed):
            found.append({"exercise": spec.id, **flag.as_dict()})
    return found
