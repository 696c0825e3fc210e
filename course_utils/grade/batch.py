"""Grading a batch: read, flag, build the pristine copy, run nbval (sandboxed, audited), judge, report.

The steps for one submission, in order (``grade_one``): read it and match it to its course notebook, scan its
exercise cells for static flags, build the pristine copy, run it under nbval in a fresh process, turn the cells'
results into points. After every run the batch turns the audit's findings into flags, against the baseline of the
course's own solution (``audit``), and writes the reports.
"""

from __future__ import annotations

import os
import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.grade import audit as runtime_audit
from course_utils.grade import flags as static_flags
from course_utils.grade import sandbox as sandboxing
from course_utils.grade.course import Course, course_digest, load_course
from course_utils.grade.pristine import FRESH_SOURCE, FreshChecker, build_pristine, fresh_settings
from course_utils.grade.report import write_reports
from course_utils.grade.result import Flag, GradeResult
from course_utils.grade.runner import KernelSetup, run_nbval
from course_utils.grade.submission import Submission, discover, read_submission
from course_utils.grade.verdict import verdict

DEFAULT_CELL_TIMEOUT = 120.0
DEFAULT_TIMEOUT = 600.0
BASELINES = ".baseline"
"""Folder of the output folder where the audit's baselines are cached."""


@dataclass
class Plan:
    """What every submission of a batch is graded with (see ``grade_submissions``)."""

    course: Course
    sandbox: str
    sandbox_note: str
    audit: bool
    hidden: list[tuple[Path, str]]
    cell_timeout: float
    timeout: float
    threads: int | None = None
    fresh: dict = field(default_factory=dict)


@dataclass
class Graded:
    """One graded submission with what the audit said, before the audit's findings become flags."""

    result: GradeResult
    answers: dict[str, str] = field(default_factory=dict)
    report: runtime_audit.AuditReport | None = None


def grade_submissions(paths: list[str | Path], *, out_dir: str | Path = "grading-out",
                      course_dir: str | Path | None = None, workers: int = 1,
                      cell_timeout: float = DEFAULT_CELL_TIMEOUT, timeout: float = DEFAULT_TIMEOUT,
                      sandbox: str = "auto", audit: bool = True, progress: bool = False) -> list[GradeResult]:
    """Grade every submission found in ``paths`` and write ``grades.csv``, ``grades.json`` and the feedback files.

    Args:
        paths: submission files and/or folders (searched for ``*.ipynb``).
        out_dir: where the reports go (created if needed).
        course_dir: the course root; None means the checkout ``course_utils`` was imported from.
        workers: submissions graded at the same time, one kernel each (>= 1). Each kernel gets
            ``OMP_NUM_THREADS`` = CPU cores // workers unless the environment already sets it.
        cell_timeout: seconds one cell may run.
        timeout: seconds one whole submission may run.
        sandbox: ``"auto"`` (bubblewrap where it is installed and works), ``"bwrap"`` or ``"none"``.
        audit: run the runtime audit in each kernel (findings beyond the solution's become flags).
        progress: print one line per finished submission to stderr.

    Returns:
        One ``GradeResult`` per submission, sorted by file label (what ``grades.json`` holds).

    Raises:
        CourseError: when the course cannot be loaded. FileNotFoundError / ValueError: bad ``paths``.
        SandboxError: ``sandbox="bwrap"`` where bubblewrap cannot run.
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
    used, note = sandboxing.resolve(sandbox)
    if note and progress:
        print(f"warning: {note}", file=sys.stderr, flush=True)
    out = Path(out_dir).resolve()
    hidden = [(out, "files")] + [((p if p.is_dir() else p.parent).resolve(), "files") for p in map(Path, paths)]
    plan = Plan(course, used, note, audit, hidden, cell_timeout, timeout, kernel_threads(workers))
    plan.fresh = {name: fresh_settings(nb, course.root) for name, nb in course.notebooks.items() if not nb.problems}
    digest = course_digest(course) if used == "none" else None
    done: list[Graded] = []

    def one(item: tuple[Path, str]) -> Graded:
        start = time.monotonic()
        graded = grade_one(item[0], item[1], plan)
        if digest is not None and course_digest(course) != digest:
            graded.result.flags.append(Flag(None, "audit", "course-files", "the course's files changed while this "
                                            "submission was graded (by a process it left behind?)"))
        done.append(graded)
        if progress:
            result = graded.result
            print(f"[{len(done)}/{len(found)}] {result.file}: {result.status} {result.total}/"
                  f"{result.max_total if result.max_total is not None else '-'} "
                  f"({time.monotonic() - start:.1f} s)", file=sys.stderr, flush=True)
        return graded

    with ThreadPoolExecutor(max_workers=workers) as pool:
        graded = list(pool.map(one, found))
    if audit:
        apply_audit(graded, plan, out / BASELINES)
    results = sorted((item.result for item in graded), key=lambda result: result.file)
    for result in results:
        result.mark_flagged()
    write_reports(results, course, out)
    return results


def kernel_threads(workers: int) -> int:
    """Return the ``OMP_NUM_THREADS`` each kernel gets when ``workers`` run at once: the CPU cores shared out."""
    return max(1, (os.cpu_count() or 1) // workers)


def grade_one(path: Path, file: str, plan: Plan) -> Graded:
    """Grade one submission file (see ``grade_submissions``); its audit findings are not flags yet."""
    course = plan.course
    submission = read_submission(path, file, course)
    result = GradeResult(file=file, sha256=submission.sha256, notebook=submission.notebook,
                         status=submission.status or "", detail=submission.detail, notes=list(submission.notes))
    graded = Graded(result, dict(submission.answers))
    if submission.status is not None:
        return graded
    course_notebook = course.notebooks[submission.notebook]
    if course_notebook.problems:
        result.status = "course_error"
        result.detail = "the course's notebook is broken: " + "; ".join(course_notebook.problems)
        return graded
    result.flags = _static_flags(submission, course)
    settings = plan.fresh.get(course_notebook.name)
    fresh = FreshChecker(str(FRESH_SOURCE), settings) if settings else None
    nonce = secrets.token_hex(16) if plan.audit else None
    notebook, origin = build_pristine(course_notebook, submission.answers, fresh=fresh, end_nonce=nonce)
    kernel_audit = (runtime_audit.kernel_settings(course, course_notebook, notebook, hidden=plan.hidden)
                    if plan.audit else None)
    setup = KernelSetup(plan.sandbox, kernel_audit, tuple(path for path, _ in plan.hidden))
    result.sandbox = plan.sandbox
    if plan.sandbox_note:
        result.notes.append(plan.sandbox_note)
    try:
        run = run_nbval(notebook, name=course_notebook.name, sanitize_file=course.sanitize_file,
                        course_root=course.root, cell_timeout=plan.cell_timeout, timeout=plan.timeout,
                        threads=plan.threads, setup=setup)
    except OSError as error:   # no process could be started, the disk is full, ...: this row says so, the batch goes on
        result.status, result.detail = "error", f"the grading run could not start: {type(error).__name__}: {error}"
        return graded
    end_cell = kernel_audit["end_cell"] if kernel_audit else None
    judged = verdict(course_notebook, origin, run, cell_timeout=plan.cell_timeout, timeout=plan.timeout,
                     end_cell=end_cell)
    result.status, result.detail = judged.status, judged.detail
    result.exercises, result.other_errors = judged.exercises, judged.other_errors
    result.notes += [f"exercise {exercise_id}: no exercise cell found, so the stub was graded (0 points)"
                     for exercise_id, where in origin.items() if where == "stub"]
    result.total = sum(exercise.points for exercise in judged.exercises)
    result.max_total = course_notebook.max_total
    if kernel_audit is not None:
        ran = [number for number, record in sorted(run.cells.items()) if record.get("outcome") in ("passed", "failed")
               and record.get("reason") in (None, "error", "output_mismatch")]
        end = run.cells.get(end_cell, {}).get("outcome") == "passed"
        graded.report = runtime_audit.read_channel(run.audit, nonce=nonce, heartbeats=ran, end_ran=end,
                                                   scratch=run.scratch)
    return graded


def apply_audit(graded: list[Graded], plan: Plan, cache: Path) -> None:
    """Turn every run's audit findings beyond its notebook's baseline into flags (computing baselines as needed)."""
    baselines: dict[str, set] = {}
    for item in graded:
        report, result = item.report, item.result
        if report is None or result.notebook is None:
            continue
        name = result.notebook
        if report.findings and name not in baselines:
            baselines[name] = baseline(name, graded, plan, cache)
        result.flags += runtime_audit.flags(report, baselines.get(name, set()), plan.course.notebooks[name],
                                            item.answers)


def baseline(name: str, graded: list[Graded], plan: Plan, cache: Path) -> set:
    """Return the audit findings of the course's own solution of notebook ``name`` (cached in ``cache``)."""
    course_notebook = plan.course.notebooks[name]
    key = runtime_audit.baseline_key(course_notebook, plan.sandbox)
    known = runtime_audit.load_baseline(cache, name, key)
    if known is not None:
        return known
    solution = {spec.id: spec.solution_source for spec in course_notebook.exercises}
    twin = next((item for item in graded if item.result.notebook == name and item.answers == solution
                 and item.result.status == "graded" and item.report is not None and not item.report.problems), None)
    if twin is None:
        twin = grade_one(course_notebook.path, course_notebook.path.name, plan)
    findings = {(cell, rule, what) for cell, rule, what, _ in (twin.report.findings if twin.report else [])}
    runtime_audit.save_baseline(cache, name, key, findings)
    return findings


def _static_flags(submission: Submission, course: Course) -> list[Flag]:
    course_notebook = course.notebooks[submission.notebook]
    found = []
    for spec in course_notebook.exercises:
        if spec.id not in submission.answers:
            continue
        allowed = static_flags.signature(spec.solution_source)
        for finding in static_flags.scan(submission.answers[spec.id], allowed=allowed):
            found.append(Flag(spec.id, "static", finding.rule, finding.what, finding.line, finding.code))
    return found
