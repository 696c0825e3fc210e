"""The pristine copy: the course's solution notebook with only the exercise cells taken from the submission.

Everything that decides a grade comes from the course: check cells with their stored pass lines and tags, the
cells between exercises, the notebook's metadata. A student who edits a check cell, its output, its execution
count or its tags changes nothing, because none of it is read. An exercise the submission lacks gets the student
stub (never the solution), so it scores 0.

Each check cell is prefixed with the course's own ``from ... import check`` statement, so an exercise cell that
rebinds ``check`` cannot answer for the real checker. (Code in the same kernel can still patch the checker's
module; the static flags exist for that.)
"""

from __future__ import annotations

import nbformat

from course_utils.grade.course import CourseNotebook, copy_notebook

REBIND_COMMENT = "  # the grader re-binds the course's checker"


def build_pristine(course_notebook: CourseNotebook, answers: dict[str, str]) -> tuple[nbformat.NotebookNode,
                                                                                    dict[str, str]]:
    """Build the notebook that nbval runs for one submission.

    Args:
        course_notebook: the solution notebook of the course.
        answers: exercise id -> the source of the submission's exercise cell (ids it lacks get the stub).

    Returns:
        The pristine notebook, and for every exercise where its code came from: ``"submission"`` or ``"stub"``.
    """
    if course_notebook.problems:
        raise ValueError(f"notebook {course_notebook.name} breaks the course contract: "
                         + "; ".join(course_notebook.problems))
    notebook = copy_notebook(course_notebook)
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
        if course_notebook.check_import and not check_cell.source.lstrip().startswith("%%"):
            check_cell.source = course_notebook.check_import + REBIND_COMMENT + "\n" + check_cell.source
    return notebook, origin
