"""The grader on the real course: every solution notebook is gradable, and one is graded end to end.

The end-to-end test runs one real notebook twice (in parallel): a renamed copy of the solution must get full marks,
and a copy whose first exercise is the student stub must lose exactly that exercise's points.
"""

from __future__ import annotations

import copy

import nbformat
import pytest

from course_utils.authoring import contract as notebook_contract
from course_utils.grade import grade_submissions, load_course
from course_utils.grade.course import SANITIZE_FILE, default_course_root

PREFERRED = ("00_", "01_", "02_", "05_", "03_", "04_")   # quickest notebooks first


@pytest.fixture(scope="module")
def course():
    return load_course()


def test_the_course_root_is_found_from_the_package():
    assert (default_course_root() / "solutions").is_dir()
    assert (default_course_root() / SANITIZE_FILE).is_file()


def test_every_solution_notebook_is_gradable(course):
    broken = {name: nb.problems for name, nb in course.notebooks.items() if nb.problems}
    assert not broken, f"the grader cannot use these notebooks: {broken}"


def test_a_real_notebook_end_to_end(course, tmp_path):
    candidates = [name for prefix in PREFERRED for name in sorted(course.notebooks)
                  if name.startswith(prefix) and course.notebooks[name].exercises]
    if not candidates:
        pytest.skip("no solution notebook with exercises yet")
    course_notebook = course.notebooks[candidates[0]]
    solution = notebook_contract.read_notebook(course_notebook.path)
    first = course_notebook.exercises[0]
    partial = copy.deepcopy(solution)
    partial.cells[first.exercise_cell].source = first.stub_source
    nbformat.write(solution, str(tmp_path / "renamed by the student.ipynb"))
    nbformat.write(partial, str(tmp_path / "first exercise left.ipynb"))
    results = {r["file"]: r for r in grade_submissions([tmp_path], out_dir=tmp_path / "out", workers=2,
                                                        cell_timeout=300, timeout=600)}
    full = results["renamed by the student.ipynb"]
    assert (full["status"], full["total"], full["flags"]) == ("graded", course_notebook.max_total, []), full
    left = results["first exercise left.ipynb"]
    assert left["status"] == "graded"
    assert left["total"] == course_notebook.max_total - first.points
    assert "not implemented yet" in left["exercises"][0]["message"]
