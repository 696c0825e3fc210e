"""The course's notebook metadata contract, and the rules that turn a solution notebook into a student notebook.

Contract (relied on by the grader and outside tools):

* notebook: ``metadata.course = {"notebook": "NN_topic", "title": ..., "topics": ...}``
* set-up cell (the first code cell): ``metadata.course = {"role": "setup"}``; its source is generated
* exercise cell: ``metadata.course = {"exercise": "<id>", "role": "exercise"}``, with ``"kind": "quiz"`` for a quiz
  (``"kind": "code"``, the default, may be omitted); the answer lies between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``. A region that only assigns values to names, at the cell's top level (``answer = "b"``),
  becomes ``answer = ...`` in the student notebook, so the check cell still finds the name; any other region becomes
  ``raise NotImplementedError(...)``. A quiz's regions must be of the first sort.
* check cell: ``metadata.course = {"exercise": "<id>", "role": "check", "points": <int>}`` and the tag
  ``nbval-check-output``
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from course_utils.authoring import config as _config

CHECK_TAG = "nbval-check-output"
BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB_LINE = "# YOUR CODE HERE"
ANSWER_LINE = "# YOUR ANSWER HERE"
KINDS = ("code", "quiz")
"""The kinds of exercise cells: code (a function or class to write) and quiz (values to assign)."""

SETUP_SOURCE = f'''\
# Set-up. On Google Colab: install the course package (release {_config.RELEASE_TAG}; Colab's own torch and ipywidgets
# are kept) and show their versions. Anywhere else: install nothing. Then choose the device.
import sys

COURSE_PACKAGE = "{_config.INSTALL_URL}"
if "google.colab" in sys.modules:
    import importlib
    import subprocess

    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", COURSE_PACKAGE], check=True)
    importlib.invalidate_caches()  # so that this kernel finds what pip has just installed

    import ipywidgets
    import torch

    print(f"torch {{torch.__version__}}, ipywidgets {{ipywidgets.__version__}}")

from course_utils import get_device  # noqa: E402  (after the install above)

device = get_device()
print("Computing on:", device)
if "google.colab" in sys.modules and device.type == "cpu":
    print("No GPU in this runtime; for faster experiments choose Runtime > Change runtime type > GPU.")'''


@dataclass(frozen=True)
class ExerciseInfo:
    """What a notebook says about one exercise: its id, the points of its check cell and its kind."""

    id: str
    points: int
    kind: str = "code"


def role(cell: nbformat.NotebookNode) -> str | None:
    """Return the course role of a cell (``"setup"``, ``"exercise"``, ``"check"``) or None."""
    return cell.get("metadata", {}).get("course", {}).get("role")


def kind(cell: nbformat.NotebookNode) -> str:
    """Return the kind of an exercise cell, ``"code"`` or ``"quiz"`` (``"code"`` when the metadata has none)."""
    return cell.get("metadata", {}).get("course", {}).get("kind", "code")


def exercises(notebook: nbformat.NotebookNode) -> list[ExerciseInfo]:
    """Return the notebook's exercises in order, as declared by its check cells, with the kind of their cells."""
    kinds = {cell.metadata["course"]["exercise"]: kind(cell) for cell in notebook.cells if role(cell) == "exercise"}
    return [ExerciseInfo(meta["exercise"], int(meta["points"]), kinds.get(meta["exercise"], "code"))
            for meta in (cell.metadata["course"] for cell in notebook.cells if role(cell) == "check")]


def validate(notebook: nbformat.NotebookNode, name: str) -> list[str]:
    """Return the contract violations of a solution notebook (an empty list when it is valid)."""
    problems: list[str] = []
    meta = notebook.metadata.get("course", {})
    if meta.get("notebook") != name:
        problems.append(f"metadata.course.notebook is {meta.get('notebook')!r}, expected {name!r}")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    if not code or role(code[0]) != "setup":
        problems.append("the first code cell must be the set-up cell (metadata.course.role = 'setup')")
    exercise_cells = [c.metadata["course"]["exercise"] for c in notebook.cells if role(c) == "exercise"]
    check_cells = [c for c in notebook.cells if role(c) == "check"]
    for exercise_id in exercise_cells:
        if not exercise_id.startswith(name[:2] + "."):
            problems.append(f"exercise {exercise_id} does not belong to notebook {name}")
    if sorted(exercise_cells) != sorted({c.metadata["course"]["exercise"] for c in check_cells}):
        problems.append("every exercise needs exactly one exercise cell and one check cell")
    if len(check_cells) != len({c.metadata["course"]["exercise"] for c in check_cells}):
        problems.append("an exercise has more than one check cell")
    for cell in check_cells:
        if CHECK_TAG not in cell.metadata.get("tags", []):
            problems.append(f"check cell of {cell.metadata['course']['exercise']} lacks the tag {CHECK_TAG}")
    for cell in notebook.cells:
        has_marker = BEGIN in cell.source or END in cell.source
        if has_marker and role(cell) != "exercise":
            problems.append(f"cell {cell.get('id')} has solution markers but is not an exercise cell")
        if role(cell) == "exercise":
            if kind(cell) not in KINDS:
                problems.append(f"exercise {cell.metadata['course']['exercise']} has kind {kind(cell)!r}, "
                                f"expected one of {KINDS}")
            try:
                _replace_answers(cell.source, cell.metadata["course"]["exercise"], kind(cell))
            except ValueError as error:
                problems.append(str(error))
    return problems


def student_version(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the student notebook: answers replaced by stubs, all outputs cleared, everything else identical."""
    student = copy.deepcopy(notebook)
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)
        if role(cell) == "exercise":
            cell.source = _replace_answers(cell.source, cell.metadata["course"]["exercise"], kind(cell))
    student.metadata.pop("widgets", None)
    return student


def refresh_setup_cell(notebook: nbformat.NotebookNode) -> bool:
    """Write the generated set-up source into the notebook's set-up cells; return True when anything changed."""
    changed = False
    for cell in notebook.cells:
        if role(cell) == "setup" and cell.source != SETUP_SOURCE:
            cell.source = SETUP_SOURCE
            changed = True
    return changed


def assign_cell_ids(notebook: nbformat.NotebookNode) -> None:
    """Give every cell a readable id: ``ex-01-segment_sampling``, ``check-…``, ``setup`` or ``cell-007``."""
    for index, cell in enumerate(notebook.cells):
        meta = cell.get("metadata", {}).get("course", {})
        if meta.get("role") in ("exercise", "check"):
            prefix = "ex" if meta["role"] == "exercise" else "check"
            cell.id = f"{prefix}-{meta['exercise'].replace('.', '-')}"
        elif meta.get("role") == "setup":
            cell.id = "setup"
        else:
            cell.id = f"cell-{index:03d}"


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook (nbformat 4)."""
    return nbformat.read(str(path), as_version=4)


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    """Serialise a notebook exactly as the course stores it."""
    return nbformat.writes(notebook) + "\n"


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Write a notebook exactly as the course stores it."""
    nbformat.validate(notebook)
    Path(path).write_text(notebook_text(notebook), encoding="utf-8")


def _replace_answers(source: str, exercise_id: str, exercise_kind: str = "code") -> str:
    lines = source.split("\n")
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    regions = 0
    for line in lines:
        stripped = line.strip()
        if stripped == BEGIN:
            if region is not None:
                raise ValueError(f"exercise {exercise_id}: nested {BEGIN}")
            region, indent, regions = [], re.match(r"\s*", line).group(0), regions + 1
        elif stripped == END:
            if region is None:
                raise ValueError(f"exercise {exercise_id}: {END} without {BEGIN}")
            out += _stub(region, indent, exercise_id, exercise_kind)
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise ValueError(f"exercise {exercise_id}: {BEGIN} without {END}")
    if regions == 0:
        raise ValueError(f"exercise {exercise_id}: the exercise cell has no {BEGIN} ... {END} region")
    return "\n".join(out)


def _stub(region: list[str], indent: str, exercise_id: str, exercise_kind: str) -> list[str]:
    """The student's lines for one answer region: ``name = ...`` per assigned name, or a NotImplementedError."""
    names = _assigned_names("\n".join(region)) if not indent else None
    if names:
        return [ANSWER_LINE] + [f"{name} = ..." for name in names]
    if exercise_kind == "quiz":
        raise ValueError(f"quiz {exercise_id}: its answer region must only assign values to names at the cell's "
                         "top level, e.g. `answer = 'b'`")
    return [f"{indent}{STUB_LINE}",
            f'{indent}raise NotImplementedError("exercise {exercise_id}: replace this line with your code")']


def _assigned_names(code: str) -> list[str] | None:
    """The names a region assigns, in order, when it does nothing but assign values to plain names; else None."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    names: list[str] = []
    for statement in tree.body:
        targets = (statement.targets if isinstance(statement, ast.Assign) else
                   [statement.target] if isinstance(statement, ast.AnnAssign) and statement.value else None)
        if not targets or not all(isinstance(target, ast.Name) for target in targets):
            return None
        names += [target.id for target in targets if target.id not in names]
    return names or None
