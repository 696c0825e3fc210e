"""Authoring: the solution notebooks are the single source of the course (``python -m course_utils.authoring``).

Modules: ``commands`` (student notebooks, set-up cells, the README syllabus and the scoreboard's outline from
``solutions/``; ``check``; ``execute``), ``contract`` (the cell metadata contract, code exercises and quizzes, and the
solution -> student rules), ``syllabus`` (the README table and ``course_utils/exercises/outline.py``), ``quiz_hash``
(``quiz-hash``: the salted hashes of quiz answers), ``percent_script`` (drafts written as percent-format scripts) and
``config`` (the repository the Colab cells install from).
None of them imports torch.
"""

from course_utils._lazy import lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, {
    "commands": ["ROOT", "build", "execute", "out_of_date", "planned_outputs", "solution_paths"],
})
