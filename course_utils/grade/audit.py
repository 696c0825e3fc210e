"""The runtime audit, the grader's side: the kernel's settings, reading its channel, the baseline, the flags.

The kernel side (``kernel_audit``, ``kernel_watch``) writes findings ``(cell, rule, what, line)``, a heartbeat
after every cell and an end record with the run's nonce. Here the grader checks that the channel is whole
(sequence numbers in order, a heartbeat for every cell nbval ran, the end record with the right nonce) and keeps the
findings that the course's own solution does not produce: the *baseline*, one run of the solution notebook with the
audit on, cached in the output folder (``.baseline/``) and reused while the course and the grader are unchanged.
A solution-identical submission in the batch serves as the baseline too, so grading the solutions costs nothing
extra.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.grade.course import Course, CourseNotebook
from course_utils.grade.result import Flag
from course_utils.grade.verdict import clean

CORE_MODULES = ("builtins", "sys", "os", "posixpath", "io", "types", "functools", "operator", "math", "marshal",
                "contextlib", "warnings", "traceback", "importlib", "importlib._bootstrap",
                "importlib._bootstrap_external", "importlib.util", "importlib.machinery", "numpy", "numpy.testing",
                "torch", "torch.nn.functional", "torch.testing")
"""Modules the checker relies on: any change to their callables is reported (elsewhere: only a replacement
defined in a notebook cell)."""
CHECKER_MODULES = ("course_utils.exercises", "course_utils.grade", "course_utils.authoring")
VERSION = "1"
"""Bump when the kernel side changes what it reports: cached baselines are then recomputed."""


def skipped(cell) -> bool:
    """True when nbval will not run this code cell (an ``nbval-skip`` tag or a ``# NBVAL_SKIP`` comment)."""
    if "nbval-skip" in cell.get("metadata", {}).get("tags", []):
        return True
    return any(line.strip().startswith("#") and line.strip().lstrip("#").strip() == "NBVAL_SKIP"
               for line in cell.source.splitlines())


def kernel_settings(course: Course, course_notebook: CourseNotebook, notebook: nbformat.NotebookNode, *,
                    hidden: list[tuple[Path, str]]) -> dict:
    """Return the settings the kernel's audit needs for one pristine ``notebook`` (see ``kernel_audit.install``).

    Args:
        course: the course (its root is protected, its package is the course's code).
        course_notebook: the course notebook the pristine copy comes from.
        notebook: the pristine copy (its code cells, in order, the last one being the end cell).
        hidden: other folders with their rule (output folder, submission folders).
    """
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    check = course_notebook.check_module
    package = f"{course.root / 'course_utils'}/"
    return {"order": [number for number, cell in enumerate(code) if not skipped(cell)],
            "exercise_cells": sorted(spec.exercise_code for spec in course_notebook.exercises),
            "reset_cells": sorted(spec.check_code for spec in course_notebook.exercises) + [len(code) - 1],
            "end_cell": len(code) - 1, "core": list(CORE_MODULES) + ([check] if check else []),
            "course_modules": ["course_utils"] + ([check] if check and not check.startswith("course_utils") else []),
            "checker": list(CHECKER_MODULES) + ([check] if check and check != "course_utils" else []),
            "course": [package, f"{course.root / '__pycache__'}/",
                       *(str(path) for path in sorted(course.root.glob("*.py")))],
            "protected": [(str(course.root), "solutions"), *((str(path), rule) for path, rule in hidden)]}


@dataclass
class AuditReport:
    """What one run's channel said: findings ``(cell, rule, what, line)`` and problems with the channel itself."""

    findings: list[tuple[int, str, str, int | None]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def read_channel(lines: list[str], *, nonce: str, heartbeats: list[int], end_ran: bool,
                 scratch: str = "") -> AuditReport:
    """Parse the audit channel of one run and check that it is whole.

    Args:
        lines: the channel's lines.
        nonce: the run's nonce (in the pristine copy's end cell).
        heartbeats: nbval's numbers of the cells that ran to completion (each must have its heartbeat).
        end_ran: whether nbval ran the end cell (then its end record must be there).
        scratch: the run's temporary folder, replaced by ``<scratch>`` in what the findings say (so that reports and
            baselines do not change from run to run).
    """
    report = AuditReport()
    records, foreign = [], 0
    for line in lines:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            foreign += 1
            continue
        if isinstance(record, dict) and isinstance(record.get("seq"), int):
            records.append(record)
        else:
            foreign += 1
    if foreign or [record["seq"] for record in records] != list(range(len(records))):
        report.problems.append("the channel carries records the audit did not write, or lacks some (something "
                               "else wrote to it, or closed and reopened it)")
    if not records or records[0].get("kind") != "start":
        report.problems.append("the audit never started (the kernel's start-up was changed?)")
    beats = {record.get("cell") for record in records if record.get("kind") == "cell"}
    missing = [cell for cell in heartbeats if cell not in beats]
    if missing:
        report.problems.append(f"the audit went silent from cell {missing[0]} on (its channel was closed or "
                               "redirected, or its cell hook removed)")
    ends = [record for record in records if record.get("kind") == "end"]
    if end_ran and not ends:
        report.problems.append("the audit's end marker never arrived (its channel was closed or silenced)")
    elif ends and (ends[-1].get("nonce") != nonce or len(ends) > 1):
        report.problems.append("the audit's end marker is forged")
    elif ends and ends[-1].get("lost"):
        report.problems.append(f"{ends[-1]['lost']} audit records could not be written (the channel was blocked)")
    if any(record.get("kind") == "overflow" for record in records):
        report.problems.append("more suspicious events than the audit records (only the first ones are listed)")
    for record in records:
        if record.get("kind") == "event" and isinstance(record.get("cell"), int):
            line = record.get("line") if isinstance(record.get("line"), int) else None
            what = clean(str(record.get("what")), scratch, limit=300)
            report.findings.append((record["cell"], str(record.get("rule")), what, line))
    return report


def flags(report: AuditReport, baseline: set[tuple[int, str, str]], course_notebook: CourseNotebook,
          answers: dict[str, str]) -> list[Flag]:
    """Turn a run's findings beyond the baseline, and any channel problem, into flags naming the exercise."""
    by_cell = {spec.exercise_code: spec for spec in course_notebook.exercises}
    found = []
    for cell, rule, what, line in report.findings:
        if (cell, rule, what) in baseline:
            continue
        spec = by_cell.get(cell)
        code = ""
        if spec is not None and line is not None:
            source = answers.get(spec.id, spec.stub_source).splitlines()
            code = source[line - 1].strip()[:160] if 0 < line <= len(source) else ""
        found.append(Flag(spec.id if spec else None, "audit", rule if rule else "introspection", what, line, code,
                          cell))
    found += [Flag(None, "audit", "audit-channel", problem) for problem in report.problems]
    return sorted(set(found), key=lambda flag: (flag.cell if flag.cell is not None else 1 << 30, flag.line or 0,
                                               flag.rule, flag.what))


def baseline_key(course_notebook: CourseNotebook, sandbox: str) -> str:
    """Return the cache key of a notebook's baseline: its solution, the grader's kernel side, Python, the sandbox."""
    digest = hashlib.sha256()
    digest.update(nbformat.writes(course_notebook.notebook).encode())
    for name in ("kernel_audit.py", "kernel_watch.py", "fresh.py"):
        digest.update((Path(__file__).with_name(name)).read_bytes())
    digest.update(f"{VERSION} {sys.version} {sandbox}".encode())
    return digest.hexdigest()


def load_baseline(folder: Path, name: str, key: str) -> set[tuple[int, str, str]] | None:
    """Return a cached baseline from ``folder`` when its key matches, else None."""
    path = folder / f"{name}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return {(cell, rule, what) for cell, rule, what in data.get("findings", [])}


def save_baseline(folder: Path, name: str, key: str, findings: set[tuple[int, str, str]]) -> None:
    """Cache a baseline in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    payload = {"key": key, "findings": sorted(findings)}
    (folder / f"{name}.json").write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
