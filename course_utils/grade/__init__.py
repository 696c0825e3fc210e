"""Instructor grading: a batch grader built on nbval that edited notebooks and hostile code cannot easily fool.

``python -m course_utils.grade SUBMISSION_OR_FOLDER... [--out DIR] [--workers N] [--cell-timeout S] [--timeout S]
[--sandbox auto|bwrap|none] [--no-audit]``

For each submission the grader finds its course notebook by metadata, builds a pristine copy (the course's solution
notebook up to its last check cell, with only the exercise cells taken from the submission), runs it under nbval in
a fresh process, its kernel sandboxed and audited, and maps the check cells' results to points. Modules, one concern
each:

* ``course``: the course's solution notebooks, exercises (code or quiz), check cells and points;
* ``submission``: finding, reading (read-only) and matching submissions;
* ``flags``: static flags on exercise code that reaches into the grading machinery;
* ``pristine``: the notebook that is actually run; ``fresh``: the fresh checker each of its check cells loads;
* ``runner`` and ``nbval_plugin``: one nbval run under a cell and a whole-submission timeout;
* ``sandbox``: the kernel under bubblewrap; ``kernel_audit`` and ``kernel_watch``: the runtime audit inside the
  kernel; ``audit``: its settings, its channel and its baseline, on the grader's side;
* ``verdict``: points, status and messages; ``result``: the typed grade record; ``report``: grades.csv,
  grades.json, feedback files;
* ``batch``: the whole batch, in parallel.
"""

from course_utils.grade.batch import grade_submissions
from course_utils.grade.course import CourseError, load_course

__all__ = ["CourseError", "grade_submissions", "load_course"]
