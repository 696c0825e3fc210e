"""Turn a percent-format script (``# %%`` cell markers) into a course notebook with the metadata contract.

Authors may draft a notebook as a plain script and import it once; from then on the notebook in ``solutions/`` is the
single source. Markers:

* first line, optional: ``# course: title="Frame sampling" topics="local, dense and segment sampling"``
* ``# %% [markdown]``: a markdown cell; each line loses its leading ``# `` (or ``#``)
* ``# %%``: a code cell; ``# %% setup``: the Colab/device set-up cell, whose source is generated
* ``# %% exercise 01.segment_sampling``: an exercise cell; ``# %% quiz 01.quiz_clip_starts``: a quiz cell (an
  exercise cell of kind ``"quiz"``)
* ``# %% check 01.segment_sampling points=3``: a check cell
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import nbformat

from course_utils.authoring import contract

_MARKER = re.compile(r"^# %%(?P<rest>.*)$")


def script_to_notebook(text: str, notebook_name: str) -> nbformat.NotebookNode:
    """Parse a percent-format script into a solution notebook named ``notebook_name`` (e.g. ``"01_frame_sampling"``).

    Raises:
        ValueError: on an unknown marker or a malformed header, naming the line.
    """
    lines = text.splitlines()
    course_meta: dict[str, str] = {"notebook": notebook_name}
    if lines and lines[0].startswith("# course:"):
        for item in shlex.split(lines.pop(0)[len("# course:"):]):
            key, eq, value = item.partition("=")
            if not eq or key not in ("title", "topics"):
                raise ValueError(f"header item {item!r}: expected title=\"...\" or topics=\"...\"")
            course_meta[key] = value
    cells: list[nbformat.NotebookNode] = []
    kind: tuple[str, ...] | None = None
    body: list[str] = []

    def flush() -> None:
        if kind is not None:
            cells.append(_make_cell(kind, body, notebook_name))

    for number, line in enumerate(lines, start=1):
        match = _MARKER.match(line)
        if match is None:
            if kind is None:
                if line.strip():
                    raise ValueError(f"line {number}: text before the first '# %%' marker")
                continue
            body.append(line)
            continue
        flush()
        kind, body = _parse_marker(match.group("rest").strip(), number), []
    flush()
    notebook = nbformat.v4.new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "course": course_meta,
    })
    contract.assign_cell_ids(notebook)
    contract.refresh_setup_cell(notebook)
    return notebook


def import_script(script: Path, destination: Path) -> None:
    """Read ``script`` and write it as the notebook ``destination`` (named after its file stem)."""
    notebook = script_to_notebook(Path(script).read_text(encoding="utf-8"), Path(destination).stem)
    contract.write_notebook(notebook, Path(destination))


def _parse_marker(rest: str, number: int) -> tuple[str, ...]:
    words = rest.split()
    if not words:
        return ("code",)
    if words == ["[markdown]"]:
        return ("markdown",)
    if words == ["setup"]:
        return ("setup",)
    if words[0] in ("exercise", "quiz") and len(words) == 2:
        return (words[0], words[1])
    if words[0] == "check" and len(words) == 3 and re.fullmatch(r"points=\d+", words[2]):
        return ("check", words[1], words[2].split("=")[1])
    raise ValueError(f"line {number}: unknown cell marker '# %% {rest}'")


def _make_cell(kind: tuple[str, ...], body: list[str], notebook_name: str) -> nbformat.NotebookNode:
    while body and not body[-1].strip():
        body.pop()
    while body and not body[0].strip():
        body.pop(0)
    if kind[0] == "markdown":
        text = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in body)
        return nbformat.v4.new_markdown_cell(text)
    cell = nbformat.v4.new_code_cell("\n".join(body))
    if kind[0] == "setup":
        cell.metadata["course"] = {"role": "setup"}
    elif kind[0] == "exercise":
        cell.metadata["course"] = {"exercise": kind[1], "role": "exercise"}
    elif kind[0] == "quiz":
        cell.metadata["course"] = {"exercise": kind[1], "role": "exercise", "kind": "quiz"}
    elif kind[0] == "check":
        cell.metadata["course"] = {"exercise": kind[1], "role": "check", "points": int(kind[2])}
        cell.metadata["tags"] = [contract.CHECK_TAG]
    return cell
