"""The course as the grader sees it: its solution notebooks, their exercises, check cells and points.

The course root is the directory that holds ``course_utils/`` and ``solutions/``; by default the one this package
was imported from. Everything the grader needs comes from the solution notebooks' metadata contract
(``course_utils.authoring.contract``): points live only in the check cells.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_utils.authoring import contract
from course_utils.authoring.commands import solution_paths

SANITIZE_FILE = Path("course_utils") / "grade" / "nbval_sanitize.cfg"


class CourseError(Exception):
    """The course directory or one of its solution notebooks cannot be used for grading."""


@dataclass(frozen=True)
class ExerciseSpec:
    """One exercise of a course notebook.

    ``*_cell`` are indices into the notebook's cells; ``*_code`` are nbval's code-cell numbers ("Cell N"); ``kind``
    is ``"code"`` or ``"quiz"``.
    """

    id: str
    points: int
    exercise_cell: int
    exercise_code: int
    check_cell: int
    check_code: int
    solution_source: str
    stub_source: str
    kind: str = "code"


@dataclass(frozen=True)
class CourseNotebook:
    """A solution notebook ready for grading; ``problems`` is non-empty when it breaks the contract."""

    name: str
    path: Path
    notebook: nbformat.NotebookNode
    exercises: tuple[ExerciseSpec, ...]
    num_code_cells: int
    check_import: str | None
    problems: tuple[str, ...] = ()

    @property
    def max_total(self) -> int:
        """Sum of the points of the notebook's check cells."""
        return sum(spec.points for spec in self.exercises)

    def exercise(self, exercise_id: str) -> ExerciseSpec | None:
        """Return the exercise with this id, or None."""
        return next((spec for spec in self.exercises if spec.id == exercise_id), None)

    @property
    def graded_code_cells(self) -> int:
        """Code cells that grading runs: up to and including the last check cell (later cells are experiments)."""
        return max((spec.check_code for spec in self.exercises), default=-1) + 1

    @property
    def check_module(self) -> str | None:
        """The module the course's ``check`` is imported from (``"course_utils"``), or None."""
        return self.check_import.split()[1] if self.check_import else None


@dataclass(frozen=True)
class Course:
    """A course root, its sanitizer file for nbval and its notebooks by name (``"01_frame_sampling"``)."""

    root: Path
    sanitize_file: Path
    notebooks: dict[str, CourseNotebook]

    def owner_of(self, exercise_id: str) -> str | None:
        """Return the name of the notebook that has exercise ``exercise_id``, or None."""
        for name, course_notebook in self.notebooks.items():
            if course_notebook.exercise(exercise_id) is not None:
                return name
        return None


def default_course_root() -> Path:
    """Return the directory that holds the imported ``course_utils`` package (and, in a checkout, ``solutions/``)."""
    import course_utils
    return Path(course_utils.__file__).resolve().parent.parent


def load_course(course_dir: str | Path | None = None) -> Course:
    """Load every solution notebook of the course for grading.

    Args:
        course_dir: the course root (holding ``course_utils/`` and ``solutions/``); None means the root of the
            installed package, which must be a checkout of the course.

    Returns:
        The course. Notebooks that break the metadata contract are kept, with their ``problems`` listed, so that
        submissions of the other notebooks can still be graded.

    Raises:
        CourseError: when the directory has no ``solutions/`` notebooks or no nbval sanitizer file.
    """
    root = Path(course_dir).resolve() if course_dir is not None else default_course_root()
    hint = "pass --course-dir with the course checkout (the folder holding course_utils/ and solutions/)"
    if not (root / "solutions").is_dir():
        raise CourseError(f"{root} has no solutions/ folder; {hint}")
    sanitize_file = root / SANITIZE_FILE
    if not sanitize_file.is_file():
        raise CourseError(f"{root} has no {SANITIZE_FILE.as_posix()} (the nbval sanitizer); {hint}")
    paths = solution_paths(root)
    if not paths:
        raise CourseError(f"{root / 'solutions'} holds no NN_topic.ipynb notebook; {hint}")
    notebooks = {path.stem: load_course_notebook(path) for path in paths}
    return Course(root=root, sanitize_file=sanitize_file, notebooks=notebooks)


def load_course_notebook(path: Path) -> CourseNotebook:
    """Read one solution notebook and index its exercises (see ``load_course``)."""
    name = Path(path).stem
    try:
        notebook = contract.read_notebook(path)
    except (OSError, ValueError) as error:   # nbformat's read errors are ValueErrors
        return CourseNotebook(name, Path(path), nbformat.v4.new_notebook(), (), 0, None, (f"unreadable: {error}",))
    problems = list(contract.validate(notebook, name))
    student = contract.student_version(notebook) if not problems else notebook
    code_number: dict[int, int] = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            code_number[index] = len(code_number)
    exercise_cells = {cell.metadata["course"]["exercise"]: index for index, cell in enumerate(notebook.cells)
                      if contract.role(cell) == "exercise"}
    specs = []
    for index, cell in enumerate(notebook.cells):
        if contract.role(cell) != "check" or problems:
            continue
        meta = cell.metadata["course"]
        points = meta.get("points")
        if not isinstance(points, int) or isinstance(points, bool) or points < 0:
            problems.append(f"check cell of {meta['exercise']} has points {points!r}, expected an int >= 0")
            continue
        if not cell.get("outputs") or cell.get("execution_count") is None:
            problems.append(f"check cell of {meta['exercise']} has no stored pass line (execute the notebook)")
            continue
        exercise_index = exercise_cells[meta["exercise"]]
        stub = student.cells[exercise_index].source
        kind = contract.kind(notebook.cells[exercise_index])   # validated by the contract: "code" or "quiz"
        specs.append(ExerciseSpec(meta["exercise"], points, exercise_index, code_number[exercise_index], index,
                                  code_number[index], notebook.cells[exercise_index].source, stub, kind))
    return CourseNotebook(name, Path(path), notebook, tuple(specs) if not problems else (), len(code_number),
                          _check_import(notebook), tuple(problems))


def import_nodes(notebook: nbformat.NotebookNode, *,
                 skip_roles: tuple[str, ...]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Yield the absolute import statements of the notebook's code cells, except cells with a role in ``skip_roles``.

    Args:
        notebook: a course notebook.
        skip_roles: cell roles (``"exercise"``, ``"check"``) whose cells are not read; cells that do not parse are
            skipped too.

    Returns:
        An iterator of ``ast.Import`` and ``ast.ImportFrom`` nodes (``level == 0``), in cell order.
    """
    for cell in notebook.cells:
        if cell.cell_type != "code" or contract.role(cell) in skip_roles:
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import) or (isinstance(node, ast.ImportFrom) and node.level == 0):
                yield node


def _check_import(notebook: nbformat.NotebookNode) -> str | None:
    """Return the course's own ``from X import check`` statement, to re-bind ``check`` in every check cell."""
    for node in import_nodes(notebook, skip_roles=("exercise", "check")):
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name == "check":
                    suffix = f" as {alias.asname}" if alias.asname else ""
                    return f"from {node.module} import check{suffix}"
    return None


def course_digest(course: Course) -> str:
    """Return a SHA-256 over the course's own files (solutions, package sources, top-level modules, sanitizer).

    The batch compares it before and after each submission: a change means something a submission left behind
    rewrote the course, and every later grade would be in doubt.
    """
    digest = hashlib.sha256()
    paths = sorted([*course.root.glob("*.py"), *(course.root / "solutions").glob("*.ipynb"), course.sanitize_file,
                    *(course.root / "course_utils").rglob("*.py")])
    for path in paths:
        if path.is_file():
            digest.update(path.relative_to(course.root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def copy_notebook(course_notebook: CourseNotebook) -> nbformat.NotebookNode:
    """Return a deep copy of the solution notebook (the course's copy is never modified)."""
    return copy.deepcopy(course_notebook.notebook)
