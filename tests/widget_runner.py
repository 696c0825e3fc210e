"""Build a notebook's widgets headless, outside Jupyter, and move every control; report what happened as JSON.

Run by ``tests/test_ipywidgets7.py`` as ``python tests/widget_runner.py JOBS.json RESULT.json`` in a separate process,
under whichever ipywidgets the PYTHONPATH gives (7.7.1 from ``build/ipywidgets7`` or the environment's 8.x).
JOBS.json: ``[{"name": ..., "cells": [{"index": int, "source": str, "widget": bool}, ...]}, ...]``: the cells
needed to build a notebook's widgets, in notebook order; ``widget`` marks the cells whose result is a widget.
Only the standard library, ipywidgets and what the cells import are used.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import json
import logging
import re
import sys
import traceback
import warnings

_MAGIC = re.compile(r"^(\s*)(%|!|\?)")
# Deprecation notices that are not the course's doing: ipywidgets 7 under newer ipykernel/traitlets, and
# ipywidgets 8 on ``description_tooltip``, which the course uses on purpose (7.7 lacks ``tooltip``).
_FOREIGN = ("ipykernel.comm.Comm", "Widget._repr_mimebundle_", "on_trait_change", "Keyword `trait`",
            "description_tooltip argument is deprecated", "ipykernel.pylab.backend_inline",
            "The 'warn' method is deprecated")
_CONTROL_MODELS = {"IntSliderModel", "FloatSliderModel", "FloatLogSliderModel", "SelectionSliderModel",
                   "DropdownModel", "ToggleButtonsModel", "RadioButtonsModel", "CheckboxModel",
                   "ToggleButtonModel", "IntRangeSliderModel", "FloatRangeSliderModel"}


def strip_magics(source: str) -> str:
    """Blank IPython-only lines (``%magic``, ``!shell``, ``?help``); a ``%%cell`` magic blanks the cell."""
    if source.lstrip().startswith("%%"):
        return ""
    return "\n".join(_MAGIC.sub(r"\1pass  # ", line) for line in source.split("\n"))


class LogRecorder(logging.Handler):
    """Keeps the warnings and errors logged meanwhile (ipywidgets logs exceptions raised in interact callbacks)."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info, limit=6))
        self.lines.append(f"{record.levelname} from logger {record.name!r}: {text}")


class Recorder:
    """Keeps what cells display, standing in for IPython's ``display`` (pyplot figures stay open under Agg)."""

    def __init__(self) -> None:
        self.displayed: list[object] = []

    def display(self, *objs, **kwargs) -> None:
        self.displayed.extend(objs)


def widget_tree(widget, widgets_module) -> list:
    """The widget and all its descendants (through ``children``)."""
    found, stack = [], [widget]
    while stack:
        item = stack.pop()
        if isinstance(item, widgets_module.Widget) and all(item is not seen for seen in found):
            found.append(item)
            stack.extend(reversed(list(getattr(item, "children", ()) or ())))
    return found


def is_control(widget) -> bool:
    return getattr(widget, "_model_name", "") in _CONTROL_MODELS


def snapshot(tree, recorder: Recorder, stdout: io.StringIO, plt) -> str:
    """A digest of everything the widget shows (except the controls) and of everything displayed so far."""
    printed = re.sub(r"\x1b\[[0-9;]*[A-Za-z]|\s", "", stdout.getvalue())     # clear_output writes ANSI codes
    parts = [f"displayed={len(recorder.displayed)} printed={printed}",
             f"figures={plt.get_fignums() if plt else None}"]
    for widget in tree:
        if is_control(widget):
            continue
        for key in ("value", "outputs", "description"):
            if widget.has_trait(key):
                value = getattr(widget, key)
                parts.append(f"{key}={hashlib.sha1(repr(value).encode()).hexdigest()}")
    return "|".join(parts)


def other_value(control):
    """``(trait, value)``: ``control`` one step away from its current value (as a user would move it)."""
    if hasattr(control, "options") and control.has_trait("index"):
        if len(control.options) < 2:
            raise ValueError(f"{type(control).__name__} has fewer than two options")
        return "index", 1 if control.index == 0 else control.index - 1
    if control.has_trait("max") and control.has_trait("min"):
        step = control.step if control.has_trait("step") and control.step else 1
        if isinstance(control.value, tuple):
            low, high = control.value
            return "value", (low, high + step) if high + step <= control.max else (low, high - step)
        return "value", control.value + step if control.value + step <= control.max else control.value - step
    return "value", not control.value


def describe(control) -> str:
    return f"{type(control).__name__}({getattr(control, 'description', '')!r})"


def run_notebook(job: dict) -> dict:
    """Execute the job's cells; for each widget cell, build its widgets and move each control."""
    import ipywidgets

    try:
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    recorder = Recorder()
    namespace = {"__name__": "__main__", "display": recorder.display}
    builtins.display = recorder.display
    import IPython.display

    IPython.display.display = recorder.display
    from ipywidgets.widgets import interaction

    interaction.display = recorder.display               # interact() displays its widget through this name
    logged = LogRecorder()
    logging.getLogger().addHandler(logged)
    logging.getLogger().setLevel(logging.WARNING)
    result = {"name": job["name"], "widgets": [], "error": None}
    for cell in job["cells"]:
        where = f"{job['name']} cell {cell['index']}"
        source = strip_magics(cell["source"])
        start = len(recorder.displayed)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                value = _exec_cell(source, namespace, where)
            except Exception:
                result["error"] = f"{where} raised:\n{traceback.format_exc(limit=6)}"
                return result
        if not cell["widget"]:
            continue
        built = [obj for obj in [*recorder.displayed[start:], value] if isinstance(obj, ipywidgets.Widget)]
        if not built:
            result["widgets"].append({"cell": where, "error": "the cell built no widget"})
        for widget in built:
            result["widgets"].append(_exercise_widget(widget, where, ipywidgets, recorder, plt, caught, logged))
    return result


def _exec_cell(source: str, namespace: dict, where: str):
    """Run a cell like IPython does: the value of a final expression is returned."""
    import ast

    tree = ast.parse(source, filename=where)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, where, "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), where, "eval"), namespace)


def _exercise_widget(widget, where, ipywidgets, recorder, plt, build_warnings, logged) -> dict:
    tree = widget_tree(widget, ipywidgets)
    report = {"cell": where, "type": type(widget).__name__, "classes": sorted({type(w).__module__.split(".")[0]
                                                                               for w in tree}),
              "controls": [], "warnings": [], "logged": [], "error": None}
    report["warnings"] += [_warning_text(w) for w in build_warnings if not _foreign(w)]
    for control in [w for w in tree if is_control(w)]:
        stdout = io.StringIO()
        entry = {"control": describe(control), "changed": False, "error": None}
        with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(stdout):
            warnings.simplefilter("always")
            before = snapshot(tree, recorder, stdout, plt)
            try:
                trait, new = other_value(control)
                old = getattr(control, trait)
                setattr(control, trait, new)
                entry["action"] = f"set {trait} from {old!r} to {new!r}"
                tree = widget_tree(widget, ipywidgets)        # interactive outputs may add children
                entry["changed"] = snapshot(tree, recorder, stdout, plt) != before
                setattr(control, trait, old)                  # the next control starts from the initial state
            except Exception:
                entry["error"] = traceback.format_exc(limit=6)
        report["warnings"] += [_warning_text(w) for w in caught if not _foreign(w)]
        report["controls"].append(entry)
    report["logged"], logged.lines[:] = list(logged.lines), []
    if plt is not None:
        plt.close("all")
    return report


def _foreign(caught) -> bool:
    return any(text in str(caught.message) for text in _FOREIGN)


def _warning_text(caught) -> str:
    return f"{caught.category.__name__}: {caught.message} ({caught.filename}:{caught.lineno})"


def main(argv: list[str]) -> int:
    import ipywidgets

    jobs = json.loads(open(argv[1], encoding="utf-8").read())
    results = {"ipywidgets": ipywidgets.__version__, "python": sys.version.split()[0],
               "notebooks": [run_notebook(job) for job in jobs]}
    with open(argv[2], "w", encoding="utf-8") as out:
        json.dump(results, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
