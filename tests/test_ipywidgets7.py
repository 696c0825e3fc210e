"""Every interactive widget of the course builds and responds under ipywidgets 7.7.1 (Colab) and under 8 (here).

A widget cell is a solution cell whose stored output is a widget with a control (slider, dropdown, ...). For each
notebook, the widget cells and the earlier cells they need (found by the names they use and bind) run headless in
a separate Python process (``tests/widget_runner.py``); then every control is set to another value and what the
widget shows (or what it displays, prints or plots) must change, without error and without a warning such as
ipywidgets 7's "Passing unrecognized arguments" (``Play(playing=)``, ``Tab(titles=)``, ``tooltip=``).

ipywidgets 7.7.1 comes from ``build/ipywidgets7`` (git-ignored), put first on PYTHONPATH over the environment's own
packages, so torch & co. are not reinstalled. ``.ci/prepare_tests.sh`` creates that folder (``pip install --no-deps
--target`` of ``tests/ipywidgets7.txt``); the tests never install it themselves and skip when it is missing or stale
(under CI they fail instead: ``tests/prepared.py``).
"""

from __future__ import annotations

import ast
import builtins
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from prepared import not_prepared

REPO = Path(__file__).resolve().parents[1]
TARGET = REPO / "build" / "ipywidgets7"
REQUIREMENTS = Path(__file__).resolve().parent / "ipywidgets7.txt"   # 7.7.1 and its one import beyond IPython
RUNNER = Path(__file__).resolve().parent / "widget_runner.py"
_CONTROL_REPR = re.compile(r"\b(IntSlider|FloatSlider|SelectionSlider|Dropdown|ToggleButtons|Checkbox|Button)\(")
_MAGIC = re.compile(r"^(\s*)(%|!|\?)")


def ipywidgets7_folder() -> Path:
    """``build/ipywidgets7`` as ``.ci/prepare_tests.sh`` leaves it; skip (fail under CI) when missing or stale."""
    stamp = TARGET / "requirements.txt"
    if not stamp.is_file() or stamp.read_text(encoding="utf-8") != REQUIREMENTS.read_text(encoding="utf-8"):
        not_prepared(f"{TARGET.relative_to(REPO)} with {' '.join(REQUIREMENTS.read_text(encoding='utf-8').split())}")
    return TARGET


def _code(cell: dict) -> str:
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join(_MAGIC.sub(r"\1pass  # ", line) for line in source.split("\n"))


def is_widget_cell(cell: dict) -> bool:
    """True when the cell's stored outputs hold an interactive widget."""
    for output in cell.get("outputs", []):
        data = output.get("data", {})
        text = data.get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else text
        if "application/vnd.jupyter.widget-view+json" in data and _CONTROL_REPR.search(text):
            return True
    return False


def names_used_and_bound(source: str) -> tuple[set[str], set[str]]:
    """Global names a cell reads (anywhere, function bodies included) and binds (at its top level)."""
    tree = ast.parse(source)
    used = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    local = {node.id for comp in ast.walk(tree) if isinstance(comp, ast.comprehension)    # comprehension and
             for node in ast.walk(comp.target) if isinstance(node, ast.Name)}             # argument names are
    local |= {arg.arg for node in ast.walk(tree) if isinstance(node, ast.arguments)       # not globals
              for arg in node.posonlyargs + node.args + node.kwonlyargs + [node.vararg, node.kwarg] if arg}
    used -= local
    bound: set[str] = set()
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
            continue
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        if not isinstance(node, ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return used - set(dir(builtins)), bound


def widget_job(path: Path) -> dict | None:
    """The runner's job for one notebook: its widget cells and the earlier cells they need; None if no widget."""
    cells = [(index, cell) for index, cell in enumerate(json.loads(path.read_text(encoding="utf-8"))["cells"])
             if cell["cell_type"] == "code"]
    widget_indices = {index for index, cell in cells if is_widget_cell(cell)}
    if not widget_indices:
        return None
    needed: set[str] = set()
    chosen = []
    for index, cell in reversed([(i, c) for i, c in cells if i <= max(widget_indices)]):
        used, bound = names_used_and_bound(_code(cell))
        if index in widget_indices or bound & needed:
            chosen.append({"index": index, "source": _code(cell), "widget": index in widget_indices})
            needed |= used
    return {"name": path.stem, "cells": chosen[::-1]}


def course_jobs() -> list[dict]:
    """One job per solution notebook that shows an interactive widget."""
    jobs = [widget_job(path) for path in sorted((REPO / "solutions").glob("*.ipynb"))]
    return [job for job in jobs if job is not None]


def run_widgets(jobs: list[dict], tmp_path: Path, *, ipywidgets7: bool) -> dict:
    """Run the jobs in a fresh Python (ipywidgets 7.7.1 first on its path when asked); return its report."""
    jobs_path, result_path = tmp_path / "jobs.json", tmp_path / "result.json"
    jobs_path.write_text(json.dumps(jobs), encoding="utf-8")
    path = [str(ipywidgets7_folder())] if ipywidgets7 else []
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONPATH=os.pathsep.join(
        path + [str(REPO)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    done = subprocess.run([sys.executable, str(RUNNER), str(jobs_path), str(result_path)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"the widget runner crashed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return json.loads(result_path.read_text(encoding="utf-8"))


def failures(report: dict) -> list[str]:
    """Every problem in a runner report, one line each."""
    return [line for notebook in report["notebooks"] for line in notebook_failures(notebook)]


def notebook_failures(notebook: dict) -> list[str]:
    """Every problem the runner found in one notebook, one line each."""
    lines = []
    if notebook["error"]:
        lines.append(notebook["error"])
    for widget in notebook["widgets"]:
        where = widget["cell"]
        if widget.get("error"):
            lines.append(f"{where}: {widget['error']}")
            continue
        if not widget["controls"]:
            lines.append(f"{where}: {widget['type']} has no control")
        for control in widget["controls"]:
            if control["error"]:
                lines.append(f"{where}: moving {control['control']} raised:\n{control['error']}")
            elif not control["changed"]:
                lines.append(f"{where}: {control['control']}: {control.get('action')} changed nothing shown")
        lines += [f"{where}: warning: {text}" for text in widget["warnings"]]
        lines += [f"{where}: {text}" for text in widget["logged"]]
    return lines


def test_the_course_has_interactive_widgets():
    jobs = course_jobs()
    assert jobs, "no solution notebook shows an interactive widget (notebooks 01, 04 and 05 should)"


@pytest.mark.parametrize("ipywidgets7", [True, False], ids=["ipywidgets-7.7.1", "ipywidgets-8"])
def test_every_course_widget_builds_and_responds(ipywidgets7, tmp_path):
    jobs = course_jobs()
    if not jobs:
        pytest.fail("no solution notebook shows an interactive widget")
    report = run_widgets(jobs, tmp_path, ipywidgets7=ipywidgets7)
    assert report["ipywidgets"].startswith("7.7.1" if ipywidgets7 else "8."), report["ipywidgets"]
    built = sum(len(notebook["widgets"]) for notebook in report["notebooks"])
    assert built >= sum(cell["widget"] for job in jobs for cell in job["cells"])
    problems = failures(report)
    assert not problems, f"under ipywidgets {report['ipywidgets']}:\n" + "\n".join(problems)


def _job(name: str, *sources: str) -> dict:
    cells = [{"index": i, "source": s, "widget": i == len(sources) - 1} for i, s in enumerate(sources)]
    return {"name": name, "cells": cells}


_IMPORTS = "import ipywidgets as w"
_GOOD = "s = w.IntSlider(2, max=5, description_tooltip='frames'); l = w.Label('2')\n" \
        "s.observe(lambda change: setattr(l, 'value', str(change['new'])), 'value')\nw.VBox([s, l])"


_BAD = [                                                  # (a widget cell, what the report must say)
    (_GOOD.replace("description_tooltip", "tooltip"), "unrecognized arguments"),           # ipywidgets 8 only
    ("w.VBox([w.Play(playing=False), w.IntSlider()])", "unrecognized arguments"),
    ("w.Tab([w.IntSlider()], titles=['a'])", "unrecognized arguments"),
    ("w.VBox([w.Stack([w.Label('a')]), w.IntSlider()])", "has no attribute 'Stack'"),
    ("w.VBox([w.IntSlider(), w.Label('constant')])", "changed nothing shown"),
    ("w.interactive(lambda n: print(1 / 0 if n > 2 else n), n=(0, 5))", "Exception in interact callback"),
]


@pytest.fixture(scope="module")
def bad_reports(tmp_path_factory) -> dict:
    """The runner's findings on each bad widget of ``_BAD``, all run in one process under ipywidgets 7.7.1."""
    jobs = [_job(f"bad{i}", _IMPORTS, cell) for i, (cell, _) in enumerate(_BAD)]
    report = run_widgets(jobs, tmp_path_factory.mktemp("bad"), ipywidgets7=True)
    return {notebook["name"]: notebook for notebook in report["notebooks"]}


@pytest.mark.parametrize("case", range(len(_BAD)), ids=[expected.split()[0] + str(i) for i, (_, expected)
                                                          in enumerate(_BAD)])
def test_runner_rejects_what_ipywidgets7_lacks_and_dead_widgets(case, bad_reports):
    cell, expected = _BAD[case]
    problems = notebook_failures(bad_reports[f"bad{case}"])
    assert any(expected in line for line in problems), (cell, problems)


def test_runner_accepts_a_working_widget_and_slices_cells(tmp_path):
    cells = [_IMPORTS, "unused = 1 / 0", _GOOD]
    notebook = {"cells": [{"cell_type": "code", "source": s, "outputs": []} for s in cells]}
    notebook["cells"][2]["outputs"] = [{"output_type": "display_data", "data": {
        "application/vnd.jupyter.widget-view+json": {"model_id": "x"}, "text/plain": "VBox(children=(IntSlider("}}]
    path = tmp_path / "99_example.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    job = widget_job(path)
    assert [cell["index"] for cell in job["cells"]] == [0, 2]              # the failing cell 1 is not needed
    for ipywidgets7 in (True, False):
        report = run_widgets([job], tmp_path, ipywidgets7=ipywidgets7)
        assert failures(report) == [] and len(report["notebooks"][0]["widgets"]) == 1, report
