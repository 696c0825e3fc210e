"""Every student notebook runs top to bottom, and fails only where a stub waits for the student.

Each notebook in notebooks/ is executed once with errors allowed, up to its last check cell, and then its last code
cell (the scoreboard, which must work on a notebook of stubs). The cells in between are the solution's own cells,
unchanged (asserted below), which the nbval run of the solution notebook executes already, so running them again
here would only repeat the experiments. Every check cell must fail with the framework's "not implemented yet"
message (a code stub, `raise NotImplementedError(...)`) or "not answered yet" (an answer stub, `name = ...`, as
quiz cells have), and every other error must be a stub's NotImplementedError: anything else (a NameError from a
cell that needed the student's answer, say) means the student version is broken.
"""

from __future__ import annotations

from pathlib import Path

import nbclient
import pytest

from course_utils.authoring import contract

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _exercise_source(notebook, check_cell) -> str:
    exercise_id = check_cell.metadata["course"]["exercise"]
    return next(cell.source for cell in notebook.cells
                if contract.role(cell) == "exercise" and cell.metadata["course"]["exercise"] == exercise_id)


def _errors(cell) -> list:
    return [output for output in cell.get("outputs", []) if output.output_type == "error"]


def _up_to_the_last_check(notebook, solution) -> None:
    """Keep the cells up to the last check cell and the last code cell; the ones dropped must be the solution's."""
    last_check = max(i for i, cell in enumerate(notebook.cells) if contract.role(cell) == "check")
    last_code = max(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code")
    dropped = [cell for cell in notebook.cells[last_check + 1:last_code] if cell.cell_type == "code"]
    solution_sources = [cell.source for cell in solution.cells if cell.cell_type == "code"]
    for cell in dropped:
        assert contract.role(cell) is None and cell.source in solution_sources, \
            f"cell {cell.get('id')} after the last check differs from the solution's: it must run here"
    notebook.cells = notebook.cells[:last_check + 1] + notebook.cells[last_code:]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_student_notebook_fails_only_in_stubs(path):
    notebook = contract.read_notebook(path)
    _up_to_the_last_check(notebook, contract.read_notebook(ROOT / "solutions" / path.name))
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3", allow_errors=True,
                                     record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    checks = 0
    for index, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        errors = _errors(cell)
        where = f"{path.name} code cell {index} ({cell.get('id')})"
        if contract.role(cell) == "check":
            checks += 1
            assert len(errors) == 1, f"{where}: a check cell must fail on the stub, outputs: {cell.outputs}"
            stub = "not answered yet" if "= ...\n" in f"{_exercise_source(notebook, cell)}\n" else "not implemented yet"
            assert errors[0].ename == "CheckFailed" and stub in errors[0].evalue, \
                f"{where}: the check did not detect the stub: {errors[0].ename}: {errors[0].evalue}"
            continue
        for error in errors:
            assert error.ename == "NotImplementedError" and "replace this line with your code" in error.evalue, \
                f"{where} raised {error.ename}: {error.evalue}; only a stub's NotImplementedError is allowed"
    assert checks == len(contract.exercises(notebook)) > 0
