"""From nbval's per-cell results to a verdict: points per exercise, a status, and messages a student can act on.

Points come only from check cells: an exercise earns its check cell's points when that cell ran and printed its
stored pass line (nbval's comparison), and 0 otherwise. The status is ``graded`` when every cell of the notebook
ran; otherwise it says why the run stopped short (``timeout``, ``course_timeout`` when the cell that ran too long is
the course's own, ``kernel_died``, ``error``). Messages are scrubbed
of colour codes, temporary paths and memory addresses, so grading twice gives the same report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from course_utils.grade.course import CourseNotebook
from course_utils.grade.result import ExerciseResult
from course_utils.grade.runner import RunResult

MESSAGE_CAP = 4000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_KERNEL_FILE = re.compile(r"/(?:tmp|var/folders)/[^\s'\"]*ipykernel_\d+/\d+\.py")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
_DURATION = re.compile(r"\b\d+(\.\d+)?s\b")


def clean(text: str, scratch: str = "", *, limit: int = MESSAGE_CAP) -> str:
    """Return ``text`` without ANSI colours, temporary paths or addresses, cut to ``limit`` characters."""
    text = _KERNEL_FILE.sub("<cell>", _ANSI.sub("", text))
    if scratch:
        text = text.replace(scratch, "<scratch>")
    text = _ADDRESS.sub("0x…", text).rstrip()
    return text if len(text) <= limit else text[:limit] + "\n[… message cut by the grader …]"


def describe(record: dict, *, cell_timeout: float, scratch: str) -> str:
    """Say, for a student, why a cell failed."""
    reason = record.get("reason")
    if reason == "error":
        if record.get("ename") == "CheckFailed":
            return clean(record.get("evalue", ""), scratch)
        return clean(f"{record.get('ename')}: {record.get('evalue')}", scratch)
    if reason == "output_mismatch":
        got = record.get("printed", "").rstrip()
        if len(got) > 800:
            got = f"{got[:400]}\n[… {len(got) - 800} characters left out …]\n{got[-400:]}"
        return clean("the check ran, but printed something other than its pass line (does your code print?).\n"
                     f"expected:\n{record.get('expected', '').rstrip()}\ngot:\n{got}", scratch)
    if reason == "timeout":
        return (f"stopped: the cell ran longer than the time limit of {cell_timeout:g} s per cell "
                "(an endless loop, or far too much work?)")
    if reason == "kernel_died":
        return "the Python kernel died while running this cell (os._exit, a crash, or out of memory?)"
    if reason == "kernel_dead":
        return "not run: the kernel had stopped earlier in the notebook"
    return clean(f"the grader could not run this cell: {record.get('message', '')}", scratch)


@dataclass
class Verdict:
    """Points and messages of one run: ``status`` and ``detail``, one ``ExerciseResult`` per exercise, and the
    errors of other cells (``{"cell", "error"}``)."""

    status: str
    detail: str
    exercises: list[ExerciseResult]
    other_errors: list[dict]


def verdict(course_notebook: CourseNotebook, origin: dict[str, str], run: RunResult, *, cell_timeout: float,
            timeout: float, end_cell: int | None = None) -> Verdict:
    """Turn one nbval run into points, messages and a status.

    Args:
        course_notebook: the course notebook the pristine copy was built from.
        origin: exercise id -> ``"submission"`` or ``"stub"`` (from ``build_pristine``).
        run: what ``run_nbval`` reported.
        cell_timeout: the per-cell limit used (for messages).
        timeout: the whole-submission limit used (for messages).
        end_cell: the number of the grader's end cell, when the pristine copy has one.
    """
    cells = run.cells
    exercises = []
    roles = {}
    for spec in course_notebook.exercises:
        roles[spec.exercise_code] = f"the exercise cell of {spec.id}"
        roles[spec.check_code] = f"the check cell of {spec.id}"
        check = cells.get(spec.check_code)
        answer = cells.get(spec.exercise_code)
        passed = check is not None and check["outcome"] == "passed"
        if passed:
            message = None
        elif origin[spec.id] == "stub":
            message = (f"no exercise cell for {spec.id} was found in your notebook (the grader finds it by the "
                       "cell's metadata, which copying code into a new cell loses), so the stub was graded")
        elif check is None:
            message = "not run: the notebook stopped before this check"
        elif answer is not None and answer["outcome"] == "failed" and answer.get("reason") != "kernel_dead":
            lead = "your exercise cell raised " if answer.get("reason") == "error" else "in your exercise cell: "
            message = lead + describe(answer, cell_timeout=cell_timeout, scratch=run.scratch)
        elif check["outcome"] == "skipped":
            message = "the check was skipped"
        else:
            message = describe(check, cell_timeout=cell_timeout, scratch=run.scratch)
        exercises.append(ExerciseResult(spec.id, spec.kind, spec.points if passed else 0, spec.points, passed,
                                        origin[spec.id], message))
    if end_cell is not None:
        roles[end_cell] = "the grader's end marker"
    other_errors = [{"cell": number, "error": describe(record, cell_timeout=cell_timeout, scratch=run.scratch)
                     .splitlines()[0][:300]}
                    for number, record in sorted(cells.items())
                    if record["outcome"] == "failed" and number not in roles
                    and record.get("reason") != "kernel_dead"]
    num_cells = course_notebook.graded_code_cells + (end_cell is not None)
    status, detail = _status(run, roles, cell_timeout=cell_timeout, timeout=timeout, num_cells=num_cells)
    return Verdict(status, detail, exercises, other_errors)


def student_cell(role: str | None) -> bool:
    """True for the cells whose run time is the student's doing: exercise cells and check cells."""
    return role is not None and role.startswith(("the exercise cell", "the check cell"))


def _status(run: RunResult, roles: dict[int, str], *, cell_timeout: float, timeout: float,
            num_cells: int) -> tuple[str, str]:
    def where(number: int) -> str:
        return f"cell {number} ({roles.get(number, 'a course cell')})"

    course_note = ("; that cell is the course's own code, not the student's: grade again with a longer limit "
                   "(or on a quieter machine)")
    if run.killed:
        reached = max(run.cells, default=-1) + 1
        status = "timeout" if student_cell(roles.get(reached)) else "course_timeout"
        return status, (f"stopped by the whole-submission time limit of {timeout:g} s while running "
                        f"{where(reached)}" + (course_note if status == "course_timeout" else ""))
    for number, record in sorted(run.cells.items()):
        if record.get("reason") == "kernel_died":
            return "kernel_died", f"the kernel died in {where(number)}"
        if record.get("reason") == "timeout":
            if student_cell(roles.get(number)):
                return "timeout", f"{where(number)} exceeded the time limit of {cell_timeout:g} s per cell"
            return "course_timeout", f"{where(number)} exceeded the time limit of {cell_timeout:g} s per cell" + (
                course_note)
        if record.get("reason") == "grader":
            return "error", clean(f"nbval could not run {where(number)}: {record.get('message', '')}", run.scratch,
                                  limit=600)
    missing = [number for number in range(num_cells) if number not in run.cells]
    if missing:
        log = _DURATION.sub("<duration>", run.log_tail[-800:])
        return "error", clean(f"the grading run stopped before {where(missing[0])} (pytest exit code "
                              f"{run.returncode}); its log ends with:\n{log}", run.scratch, limit=1200)
    return "graded", "every cell ran"
