"""Reports: ``grades.csv`` (one row per submission), ``grades.json`` (everything) and one Markdown feedback file each.

Reports are deterministic: rows sorted by file label, keys sorted, no timestamps, durations or temporary paths.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from course_utils.grade.course import Course
from course_utils.grade.result import Flag, GradeResult

STATUS_TEXT = {
    "graded": "Your notebook was graded: every cell ran.",
    "timeout": ("A time limit was reached: a cell that runs too long is stopped (the rest still runs); a notebook "
                "that runs too long as a whole is stopped there (later exercises score 0)."),
    "course_timeout": ("A cell of the course itself (not one of yours) ran past the time limit, so the exercises "
                       "after it could not be graded; your instructor will grade it again."),
    "kernel_died": "The Python kernel died while your notebook ran, so later exercises may have scored 0.",
    "empty": "The file is empty: nothing could be graded.",
    "unreadable": "The file is not a notebook the grader can read: nothing could be graded.",
    "unknown_notebook": "The file is not one of this course's notebooks: nothing could be graded.",
    "course_error": "The course's own notebook is broken; your instructor has been told. Nothing was graded.",
    "error": "The grader could not finish running your notebook; your instructor will look at it.",
}


def exercise_columns(results: list[GradeResult], course: Course) -> list[str]:
    """Return the exercise ids of the notebooks present in ``results``, in course order."""
    present = {result.notebook for result in results}
    return [spec.id for name in sorted(course.notebooks) if name in present
            for spec in course.notebooks[name].exercises]


def feedback_name(file: str) -> str:
    """Return the feedback file name for a submission label (``"a/b.ipynb"`` -> ``"a__b.md"``)."""
    stem = file[:-len(".ipynb")] if file.endswith(".ipynb") else file
    return re.sub(r"[^\w.-]+", "_", stem.replace("/", "__")).strip("._") + ".md"


def write_reports(results: list[GradeResult], course: Course, out_dir: Path) -> None:
    """Write ``grades.csv``, ``grades.json`` and ``feedback/*.md`` into ``out_dir`` (old feedback files removed)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    columns = exercise_columns(results, course)
    with open(out_dir / "grades.csv", "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["file", "notebook", *columns, "total", "max_total", "status", "flags", "sandbox"])
        for result in results:
            points = result.points
            writer.writerow([result.file, result.notebook or "", *[points.get(c, "") for c in columns],
                             result.total, "" if result.max_total is None else result.max_total,
                             result.status, flag_summary(result.flags), result.sandbox])
    names: set[str] = set()
    for result in results:
        name = feedback_name(result.file)
        if name in names:
            name = name[:-3] + "_" + result.sha256[:8] + ".md"
        names.add(name)
        result.feedback = f"feedback/{name}"
    specs = {c: _spec(course, c) for c in columns}
    payload = {"submissions": [result.as_dict() for result in results],
               "exercises": {c: spec.points for c, spec in specs.items()},
               "kinds": {c: spec.kind for c, spec in specs.items()}}
    (out_dir / "grades.json").write_text(json.dumps(payload, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    feedback_dir = out_dir / "feedback"
    feedback_dir.mkdir(exist_ok=True)
    for old in feedback_dir.glob("*.md"):
        old.unlink()
    for result in results:
        (out_dir / result.feedback).write_text(feedback(result), encoding="utf-8")


def _spec(course: Course, exercise_id: str):
    return course.notebooks[course.owner_of(exercise_id)].exercise(exercise_id)


def flag_summary(flags: list[Flag]) -> str:
    """One line for the CSV: ``99.add line 3: checker; cell 7: audit process``."""
    parts = [f"{flag.where()}: {'audit ' if flag.source == 'audit' else ''}{flag.rule}" for flag in flags]
    return "; ".join(dict.fromkeys(parts))   # each place and rule once (grades.json has every flag)


def _review_line(flag: Flag) -> str:
    where = f"line {flag.line} " if flag.line is not None else ""
    code = f" (`{flag.code}`)" if flag.code else ""
    seen = "the grader saw it " if flag.source == "audit" else ""
    return f"- Marked for your instructor's review: {where}{seen}{flag.what}{code}."


def feedback(result: GradeResult) -> str:
    """Return the Markdown feedback for one submission: status, then exercise by exercise what passed and why not."""
    lines = [f"# Feedback on `{result.file}`", ""]
    if result.notebook:
        lines.append(f"Notebook: **{result.notebook}**  ")
    if result.max_total is not None:
        lines.append(f"Score: **{result.total} / {result.max_total}**  ")
    lines += [f"Status: **{result.status}**: {STATUS_TEXT.get(result.status, '')}", ""]
    if result.status != "graded" and result.detail:
        lines += [f"Details: {result.detail}", ""]
    for exercise in result.exercises:
        mark = "✔" if exercise.passed else "✘"
        kind = " (quiz)" if exercise.kind == "quiz" else ""
        lines += [f"## {mark} {exercise.id}{kind}: {exercise.points} / {exercise.max_points} points", ""]
        if exercise.passed:
            lines.append("The check passed.")
        else:
            lines += ["Why it failed:", "", "```text", exercise.message or "", "```"]
        lines += [_review_line(flag) for flag in result.flags if flag.exercise == exercise.id]
        lines.append("")
    general = [flag for flag in result.flags if flag.exercise is None]
    if general:
        lines += ["## Marked for review", ""] + [_review_line(flag) for flag in general] + [""]
    if result.other_errors:
        cells = ", ".join(str(error["cell"]) for error in result.other_errors)
        lines += [f"Other cells of the course raised errors (code cells {cells}); that is usually a consequence of "
                  "an exercise above.", ""]
    if result.notes:
        lines += ["Notes:", ""] + [f"- {note}" for note in result.notes] + [""]
    lines.append("Only the code in the exercise cells is graded; every other cell comes from the course notebook.")
    return "\n".join(lines) + "\n"
