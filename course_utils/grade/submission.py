"""Submissions: finding them, reading them without ever writing, and matching them to a course notebook.

A submission is matched by its notebook metadata (``metadata.course.notebook``), never by its file name: students
rename files. Its exercise cells are found by their metadata (``metadata.course.exercise``). Nothing else in a
submission is used: check cells, outputs and other code all come from the course.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.grade.course import Course

SKIPPED_DIRS = (".ipynb_checkpoints",)


@dataclass
class Submission:
    """What the grader read from one file.

    ``status`` is None when the file can be graded; otherwise a word (``empty``, ``unreadable``,
    ``unknown_notebook``) with ``detail`` saying why. ``answers`` maps exercise ids to the source of the
    submission's exercise cell.
    """

    path: Path
    file: str
    sha256: str
    status: str | None = None
    detail: str = ""
    notebook: str | None = None
    answers: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def discover(paths: list[str | Path]) -> list[tuple[Path, str]]:
    """Expand files and folders into ``(path, file label)`` pairs, sorted by label.

    A folder contributes every ``*.ipynb`` below it (checkpoint and hidden folders skipped), labelled by its path
    relative to that folder; a file named explicitly is taken whatever its extension, labelled by its name. Labels
    that collide fall back to the path as given.

    Raises:
        FileNotFoundError: when a path does not exist.
        ValueError: when no submission is found.
    """
    found: list[tuple[Path, str]] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            for item in sorted(path.rglob("*.ipynb")):
                relative = item.relative_to(path)
                if item.is_file() and not any(part in SKIPPED_DIRS or part.startswith(".")
                                              for part in relative.parts[:-1]):
                    found.append((item, relative.as_posix()))
        elif path.exists():
            found.append((path, path.name))
        else:
            raise FileNotFoundError(f"submission path {str(given)!r} does not exist")
    labels = [label for _, label in found]
    unique = [(path, label if labels.count(label) == 1 else path.as_posix()) for path, label in found]
    if len({label for _, label in unique}) != len(unique):
        raise ValueError("the same submission file was given twice")
    if not unique:
        raise ValueError(f"no .ipynb submission found in {', '.join(map(str, paths))}")
    return sorted(unique, key=lambda pair: pair[1])


def file_digest(path: Path) -> str:
    """Return the SHA-256 of a file's bytes (read-only)."""
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def read_submission(path: Path, file: str, course: Course) -> Submission:
    """Read one submission (opened read-only) and match it to a course notebook.

    Args:
        path: the submission file.
        file: its label in the reports.
        course: the course it should belong to.

    Returns:
        The submission, with ``status`` set when it cannot be graded.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        return Submission(path=path, file=file, sha256="", status="unreadable",
                          detail=f"cannot be opened: {error.strerror or type(error).__name__}")
    submission = Submission(path=path, file=file, sha256=hashlib.sha256(data).hexdigest())
    notebook = _parse(data, submission)
    if notebook is None:
        return submission
    _collect_answers(notebook, submission)
    meta = notebook.get("metadata", {}).get("course", {})
    name = meta.get("notebook") if isinstance(meta, dict) else None
    if isinstance(name, str) and name in course.notebooks:
        submission.notebook = name
    elif name is not None:
        submission.status = "unknown_notebook"
        submission.detail = (f"metadata.course.notebook is {str(name)[:80]!r}, not a notebook of this course "
                             f"({', '.join(sorted(course.notebooks))})")
    else:
        owners = {course.owner_of(exercise_id) for exercise_id in submission.answers}
        if len(owners) == 1 and None not in owners:
            submission.notebook = owners.pop()
            submission.notes.append("the notebook metadata (metadata.course.notebook) is missing; matched by the "
                                    "exercise ids of its cells")
        else:
            submission.status = "unknown_notebook"
            submission.detail = ("no metadata.course.notebook and no exercise cell of this course: "
                                 "not a notebook of this course")
    if submission.notebook is not None:
        known = {spec.id for spec in course.notebooks[submission.notebook].exercises}
        for exercise_id in sorted(set(submission.answers) - known):
            submission.notes.append(f"a cell claims exercise {exercise_id!r}, which notebook "
                                    f"{submission.notebook} does not have; ignored")
            del submission.answers[exercise_id]
    return submission


def _parse(data: bytes, submission: Submission) -> dict | None:
    if not data.strip():
        submission.status, submission.detail = "empty", "the file is empty"
        return None
    try:
        text = data.decode("utf-8-sig")   # tolerate a byte-order mark written by some editors
        notebook = json.loads(text)
    except UnicodeDecodeError:
        submission.status, submission.detail = "unreadable", "the file is not UTF-8 text (not a notebook)"
        return None
    except json.JSONDecodeError as error:
        submission.status = "unreadable"
        submission.detail = f"not valid JSON (line {error.lineno}, column {error.colno}): not a saved notebook"
        return None
    version = notebook.get("nbformat") if isinstance(notebook, dict) else None
    if not isinstance(version, int) or not isinstance(notebook.get("metadata", {}), dict):
        submission.status, submission.detail = "unreadable", "JSON, but not a Jupyter notebook (no nbformat)"
        return None
    if version > 4:
        submission.status, submission.detail = "unreadable", f"nbformat {version} is newer than the grader knows"
        return None
    if version < 4:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                notebook = nbformat.reads(text, as_version=4)
        except Exception as error:  # nbformat raises many types on malformed old notebooks
            submission.status = "unreadable"
            submission.detail = f"nbformat {version} notebook that cannot be upgraded: {type(error).__name__}"
            return None
        submission.notes.append(f"nbformat {version} notebook, upgraded to nbformat 4 for grading")
    if not isinstance(notebook.get("cells"), list):
        submission.status, submission.detail = "unreadable", "a notebook without a list of cells"
        return None
    return notebook


def _collect_answers(notebook: dict, submission: Submission) -> None:
    counts: dict[str, int] = {}
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("course", {}) if isinstance(cell, dict) else {}
        if not isinstance(meta, dict) or meta.get("role") != "exercise" or not isinstance(meta.get("exercise"), str):
            continue
        exercise_id = meta["exercise"]
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if cell.get("cell_type") != "code" or not isinstance(source, str):
            submission.notes.append(f"exercise {exercise_id}: a cell with its metadata is not a code cell; ignored")
            continue
        counts[exercise_id] = counts.get(exercise_id, 0) + 1
        submission.answers[exercise_id] = source   # the last one wins, as when the notebook runs top to bottom
    for exercise_id, count in sorted(counts.items()):
        if count > 1:
            submission.notes.append(f"exercise {exercise_id}: {count} cells carry its metadata; graded the last one")
