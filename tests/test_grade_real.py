"""The grader on the real course: every solution notebook is gradable, and one is graded end to end.

The end-to-end test runs one real notebook twice (in parallel, in the sandbox where bubblewrap works): a renamed
copy of the solution must get full marks and no flag; a copy whose first exercise is the student stub, followed by
code that patches the check framework to print pass lines, and whose second code exercise is correct but replaces
the course's reference implementation with itself, must lose exactly those two exercises' points, with flags
naming both (the fresh checker ignores the patched framework, and refuses a check whose reference was replaced).
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
    first, second = [spec for spec in course_notebook.exercises if spec.kind == "code"][:2]
    attacked = copy.deepcopy(solution)
    attacked.cells[first.exercise_cell].source = first.stub_source + PATCH_FRAMEWORK
    reference = REFERENCES.get(second.id)
    if reference is not None:
        attacked.cells[second.exercise_cell].source = second.solution_source + reference
    nbformat.write(solution, str(tmp_path / "renamed by the student.ipynb"))
    nbformat.write(attacked, str(tmp_path / "first exercise left.ipynb"))
    results = {r.file: r for r in grade_submissions([tmp_path], out_dir=tmp_path / "out", workers=2,
                                                    cell_timeout=300, timeout=600)}
    full = results["renamed by the student.ipynb"]
    assert (full.status, full.total, full.flags) == ("graded", course_notebook.max_total, []), full
    left = results["first exercise left.ipynb"]
    assert left.status == "graded", left.detail
    lost = first.points + (second.points if reference is not None else 0)
    assert left.total == course_notebook.max_total - lost, left.points
    assert "not implemented yet" in left.exercise(first.id).message
    named = {(flag.exercise, flag.rule) for flag in left.flags if flag.source == "audit"}
    assert (first.id, "monkeypatch") in named, left.flags
    if reference is not None:
        assert "changed" in left.exercise(second.id).message, left.exercise(second.id).message
        assert (second.id, "monkeypatch") in named, left.flags


PATCH_FRAMEWORK = """

import course_utils.exercises.framework as framework

framework.run_checks = lambda exercise, *answers: print(
    f"\\u2714 {exercise.id}: {len(exercise.cases)}/{len(exercise.cases)} checks passed")
"""

REFERENCES = {"00.single_frame_baseline": """

import course_utils.exercises.ex00_support as support

support.reference_single_frame_baseline = single_frame_baseline
"""}
"""Code that replaces the course's reference of an exercise with the student's answer (for the quickest notebooks)."""
