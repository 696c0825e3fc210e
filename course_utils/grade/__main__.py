"""Command line: ``python -m course_utils.grade SUBMISSION_OR_FOLDER... [options]`` (see ``--help``)."""

from __future__ import annotations

import argparse
import sys

from course_utils.grade.batch import DEFAULT_CELL_TIMEOUT, DEFAULT_TIMEOUT, grade_submissions
from course_utils.grade.course import CourseError
from course_utils.grade.sandbox import MODES, SandboxError


def main(argv: list[str] | None = None) -> int:
    """Grade the submissions named on the command line; return the exit code (0 when every report was written)."""
    parser = argparse.ArgumentParser(
        prog="python -m course_utils.grade",
        description="Grade student notebooks with nbval against the course's own check cells. Writes "
                    "grades.csv, grades.json and feedback/<submission>.md into --out.")
    parser.add_argument("paths", nargs="+", metavar="SUBMISSION_OR_FOLDER",
                        help="notebook files, or folders searched for *.ipynb")
    parser.add_argument("--out", default="grading-out", help="folder for the reports (default: grading-out)")
    parser.add_argument("--workers", type=int, default=1,
                        help="submissions graded at the same time, one kernel each (default: 1)")
    parser.add_argument("--cell-timeout", type=float, default=DEFAULT_CELL_TIMEOUT,
                        help=f"seconds one cell may run (default: {DEFAULT_CELL_TIMEOUT:g})")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds one whole submission may run (default: {DEFAULT_TIMEOUT:g})")
    parser.add_argument("--sandbox", choices=MODES, default="auto",
                        help="run each kernel under bubblewrap: auto (where bwrap is installed and works; the "
                             "default), bwrap (insist), none")
    parser.add_argument("--no-audit", dest="audit", action="store_false",
                        help="do not run the runtime audit in the kernels (fewer flags, slightly faster)")
    parser.add_argument("--course-dir", default=None,
                        help="the course checkout (holding course_utils/ and solutions/); default: the one this "
                             "package was imported from")
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    if not args.cell_timeout > 0 or not args.timeout > 0:
        parser.error("--cell-timeout and --timeout must be > 0")
    try:
        results = grade_submissions(args.paths, out_dir=args.out, course_dir=args.course_dir, workers=args.workers,
                                    cell_timeout=args.cell_timeout, timeout=args.timeout, sandbox=args.sandbox,
                                    audit=args.audit, progress=True)
    except (CourseError, FileNotFoundError, ValueError, SandboxError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    width = max(len(result.file) for result in results)
    for result in results:
        score = f"{result.total}/{result.max_total}" if result.max_total is not None else "-"
        flagged = "  flagged" if result.flags else ""
        print(f"{result.file:<{width}}  {score:>7}  {result.status}{flagged}")
    print(f"reports written to {args.out}/ (grades.csv, grades.json, feedback/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
