"""The pristine copy: the course's solution notebook with only the exercise cells taken from the submission.

Everything that decides a grade comes from the course: check cells with their stored pass lines and tags, the
cells between exercises, the notebook's metadata. A student who edits a check cell, its output, its execution
count or its tags changes nothing, because none of it is read. An exercise the submission lacks gets the student
stub (never the solution), so it scores 0.

Grading runs only what grading needs: the copy stops after the last check cell, so the experiments that follow it
(training runs, figures) do not run. Three changes make the copy harder to fool:

* each check cell first loads a fresh copy of the course's checker from disk (``fresh.py``) and binds ``check`` to
  it, so patching the checker objects that the student's code can reach changes nothing;
* when the runtime audit is on, a last cell raises the grader's end event with a per-run nonce: a channel that was
  closed or silenced on the way never delivers it (see ``audit``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_utils.grade.course import CourseNotebook, copy_notebook, import_nodes

FRESH_SOURCE = Path(__file__).with_name("fresh.py")
REBIND_COMMENT = "  # the grader runs a fresh copy of the course's checker"
END_EVENT = "course.grader.end"


@dataclass(frozen=True)
class FreshChecker:
    """How a check cell loads a fresh checker: the file of the loader as the kernel sees it, and its settings."""

    loader: str
    settings: dict


def fresh_settings(course_notebook: CourseNotebook, course_root: Path) -> dict | None:
    """Return the settings ``fresh.fresh_check`` needs for this notebook, or None when it imports no ``check``.

    The fresh set is the module the course imports ``check`` from and, for the course package, the package root and
    ``course_utils.exercises`` with its submodules, except the modules the notebook's own cells import (fixtures
    and references such as ``ex00_support``): those stay shared, so that tripwires on them see the very objects the
    student's code holds, and the loader verifies them against the course's files instead.
    """
    statement = course_notebook.check_import
    if statement is None:
        return None
    words = statement.split()
    module, name = words[1], words[3]
    bound = words[5] if len(words) > 5 else name
    trees = ["course_utils.exercises"] if module == "course_utils" else [module]
    imported = course_imports(course_notebook)
    shared = sorted(m for m in imported if any(m.startswith(tree + ".") for tree in trees))
    return {"root": str(course_root), "module": module, "name": name, "bound": bound, "exact": [module],
            "trees": trees, "shared": shared, "package": module.split(".")[0]}


def course_imports(course_notebook: CourseNotebook) -> set[str]:
    """Return the modules that the notebook's course cells (every code cell but the exercise cells) import."""
    names: set[str] = set()
    for node in import_nodes(course_notebook.notebook, skip_roles=("exercise",)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif node.module:
            names.add(node.module)
    return names


def build_pristine(course_notebook: CourseNotebook, answers: dict[str, str], *,
                   fresh: FreshChecker | None = None, end_nonce: str | None = None
                   ) -> tuple[nbformat.NotebookNode, dict[str, str]]:
    """Build the notebook that nbval runs for one submission.

    Args:
        course_notebook: the solution notebook of the course.
        answers: exercise id -> the source of the submission's exercise cell (ids it lacks get the stub).
        fresh: when given, each check cell loads a fresh checker through it; otherwise it re-imports ``check``.
        end_nonce: when given, a last code cell raises the audit's end event with this nonce.

    Returns:
        The pristine notebook, and for every exercise where its code came from: ``"submission"`` or ``"stub"``.
    """
    if course_notebook.problems:
        raise ValueError(f"notebook {course_notebook.name} breaks the course contract: "
                         + "; ".join(course_notebook.problems))
    notebook = copy_notebook(course_notebook)
    notebook.cells = _up_to_last_check(notebook.cells, course_notebook.graded_code_cells)
    checked = {spec.check_cell for spec in course_notebook.exercises}
    for index, cell in enumerate(notebook.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if cell.cell_type == "code" and index not in checked and "nbval-check-output" not in tags:
            cell.outputs = []   # never compared in lax mode; dropping figures keeps the copy small
    origin = {}
    for spec in course_notebook.exercises:
        exercise_cell = notebook.cells[spec.exercise_cell]
        origin[spec.id] = "submission" if spec.id in answers else "stub"
        exercise_cell.source = answers.get(spec.id, spec.stub_source)
        if exercise_cell.source == spec.solution_source and origin[spec.id] == "stub":
            raise ValueError(f"the stub of {spec.id} equals its solution; is the course notebook valid?")
        exercise_cell.outputs = []
        exercise_cell.execution_count = None
        check_cell = notebook.cells[spec.check_cell]
        prefix = check_prefix(course_notebook, fresh)
        if prefix and not check_cell.source.lstrip().startswith("%%"):
            check_cell.source = prefix + "\n" + check_cell.source
    if end_nonce is not None:
        notebook.cells.append(nbformat.v4.new_code_cell(end_cell_source(end_nonce), id="course-grader-end"))
    return notebook, origin


def check_prefix(course_notebook: CourseNotebook, fresh: FreshChecker | None) -> str:
    """Return the lines put before a check cell: a fresh checker, or at least the course's own ``check`` import."""
    if course_notebook.check_import is None:
        return ""
    if fresh is None:
        return course_notebook.check_import + REBIND_COMMENT
    settings = dict(sorted(fresh.settings.items()))
    load = f"exec(compile(_grader_file.read(), {fresh.loader!r}, 'exec'), g)"
    return (f"with open({fresh.loader!r}, 'rb') as _grader_file:{REBIND_COMMENT}\n"
            f"    {fresh.settings['bound']} = (lambda g: {load} or g['fresh_check']({settings!r}))({{}})\n"
            "del _grader_file")


def end_cell_source(nonce: str) -> str:
    """Return the source of the last cell: it raises the audit's end event with the run's nonce."""
    return f"__import__('sys').audit({END_EVENT!r}, {nonce!r})  # the grader's end marker"


def _up_to_last_check(cells: list, graded_code_cells: int) -> list:
    """Keep the cells up to and including the last check cell (the ``graded_code_cells``-th code cell)."""
    kept, seen = [], 0
    for cell in cells:
        if seen == graded_code_cells:
            break
        kept.append(cell)
        seen += cell.cell_type == "code"
    return kept
