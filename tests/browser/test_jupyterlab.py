"""Every course notebook in a real JupyterLab: Run All without errors or warnings, and every widget responds.

One server and one browser serve the session; notebooks run one after another (the module-scoped, parametrised
``ran`` fixture groups the tests notebook by notebook, and shuts each notebook's kernel down before the next).
A screenshot of each run notebook is written to ``build/screenshots/NN_topic.png``.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from lab_notebook import LabNotebook
from lab_paths import RUN_TIMEOUT, notebook_dir
from lab_widgets import controls, describe, operate, problems, shown, wait_for_change, widget_roots

pytestmark = pytest.mark.browser

NOTEBOOKS = sorted(path.name for path in notebook_dir().glob("*.ipynb"))
WIDGET_TIMEOUT = 30.0            # seconds a widget may take to redraw after a control moved
# A stored widget output whose text/plain names one of these is an interactive widget.
_CONTROL_REPR = re.compile(r"\b(IntSlider|FloatSlider|SelectionSlider|Dropdown|ToggleButtons|Checkbox|Button)\(")


def stored_interactive_cells(name: str) -> list[int]:
    """Indices of the cells whose stored outputs (in the notebook file) hold an interactive widget."""
    notebook = json.loads((notebook_dir() / name).read_text(encoding="utf-8"))
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            text = data.get("text/plain", "")
            text = "".join(text) if isinstance(text, list) else text
            if "application/vnd.jupyter.widget-view+json" in data and _CONTROL_REPR.search(text):
                found.append(index)
                break
    return found


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=[name.removesuffix(".ipynb") for name in NOTEBOOKS])
def ran(request, lab_server, browser, screenshot_dir):
    """The notebook opened in JupyterLab after Run All (``ran.failure`` holds why the run did not finish)."""
    name = request.param
    page = browser.new_page()
    notebook = LabNotebook(page, base_url=lab_server.base_url, token=lab_server.token, path=name)
    try:
        start = time.monotonic()
        try:
            notebook.open()
            notebook.phases["open"] = time.monotonic() - start
            lab_server.remember_kernels()
            notebook.run_all(timeout=RUN_TIMEOUT)
        except Exception as error:  # a timeout: the tests report it; the screenshot shows how far it got
            notebook.failure = f"{type(error).__name__}: {error}"
        start = time.monotonic()
        try:
            notebook.screenshot(screenshot_dir / name.replace(".ipynb", ".png"))
        except Exception as error:  # after a failed open there may be no notebook to capture: report both
            if notebook.failure is None:
                raise
            notebook.failure += f"; no screenshot either ({type(error).__name__}: {error})"
        notebook.phases["screenshot"] = time.monotonic() - start
        yield notebook
    finally:
        page.close()
        lab_server.shutdown_sessions(name)


def test_course_has_notebooks():
    assert NOTEBOOKS, f"no notebook found in {notebook_dir()}"


def test_notebook_runs_without_errors(ran, record_property):
    record_property("jupyterlab_run_seconds", ran.run_seconds)
    record_property("jupyterlab_phase_seconds", {k: round(v, 1) for k, v in ran.phases.items()})
    assert ran.failure is None, f"opening and Run All did not finish within {RUN_TIMEOUT:.0f} s: {ran.failure}"
    cells = ran.cells()
    errors = [f"{cell.where()}\n    {'; '.join(cell.errors)}" for cell in cells if cell.errors]
    assert not errors, "cells show errors:\n" + "\n".join(errors)
    not_run = [cell.where() for cell in cells if cell.type == "code" and cell.execution_count is None]
    assert not not_run, "cells did not run:\n" + "\n".join(not_run)
    assert ran.run_all_succeeded, "Run All Cells reported a failure"


def test_notebook_shows_no_warnings(ran):
    """No stray stderr in any cell: warnings, library logs (progress bars render as widgets in JupyterLab)."""
    if ran.failure is not None:
        pytest.fail(f"the notebook did not finish running: {ran.failure}")
    stray = [f"{cell.where()}\n    {text.strip()[:300]}" for cell in ran.cells() for text in cell.stderr]
    assert not stray, "cells show warnings or other stderr output:\n" + "\n".join(stray)


def test_widgets_render_and_respond(ran, record_property):
    if ran.failure is not None:
        pytest.fail(f"the notebook did not finish running: {ran.failure}")
    found = []                                           # (cell, widget root, controls)
    for cell in ran.cells():
        if cell.type != "code" or not cell.widget_outputs:
            continue
        for root in widget_roots(ran.cell_locator(cell.index)):
            found_controls = controls(root)
            if found_controls:
                found.append((cell, root, found_controls))
    missing = sorted(set(stored_interactive_cells(ran.path)) - {cell.index for cell, _, _ in found})
    assert not missing, (f"cells {missing} held an interactive widget when the notebook was executed, "
                         "but show none in JupyterLab")
    if not found:
        pytest.skip("this notebook has no interactive widget")
    failures, moved = [], 0
    for cell, root, found_controls in found:
        box = root.bounding_box()
        initial = shown(root)
        if not (box and box["height"] > 10 and box["width"] > 10):
            failures.append(f"{cell.where()}: the widget is not visible (bounding box {box})")
        elif problems(root):
            failures.append(f"{cell.where()}: the widget shows {problems(root)}")
        elif not (initial.images or initial.text):
            failures.append(f"{cell.where()}: the widget shows nothing but its controls")
        else:
            for kind, control in found_controls:
                failures += _move_and_compare(ran, cell, root, kind, control)
                moved += 1
    record_property("widget_controls_checked", moved)
    assert not failures, "widgets that do not render or respond:\n" + "\n".join(failures)


def _move_and_compare(ran, cell, root, kind, control) -> list[str]:
    """Move one control a step and back; return the failures (none when what the widget shows changed, no error)."""
    name = describe(kind, control)
    before = shown(root)
    action, undo = operate(kind, control)
    after = wait_for_change(root, before, timeout=WIDGET_TIMEOUT)
    ran.wait_idle(timeout=WIDGET_TIMEOUT)
    undo()                                      # each control is tried from the widget's initial state
    wait_for_change(root, after, timeout=WIDGET_TIMEOUT)
    ran.wait_idle(timeout=WIDGET_TIMEOUT)
    failures = []
    if after == before:
        failures.append(f"{cell.where()}: {name}: {action}, but after {WIDGET_TIMEOUT:.0f} s the widget still "
                        f"shows {before.summary()}")
    shown_problems = problems(root)
    if shown_problems:
        failures.append(f"{cell.where()}: {name}: {action}, then the widget shows {shown_problems}")
    return failures
