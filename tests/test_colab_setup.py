"""Every notebook opens with the generated Colab set-up cell: on Colab it installs the course package, without extras,
from the release configured once (``course_utils/authoring/config.py``), then prints the torch and ipywidgets versions
it found and the device; anywhere else it installs nothing and prints only the device, in a cell nbval does not
compare.

The cell's source is executed for real, with ``google.colab`` faked in ``sys.modules`` (Colab) or not (elsewhere)
and a fake ``subprocess`` module that records the pip command instead of running it. ``tests/test_colab_install.py``
runs the real install, from a git tag, in a fresh virtual environment.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from course_utils.authoring import config as _config

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "solutions").glob("*.ipynb")) + sorted((REPO / "notebooks").glob("*.ipynb"))


class FakeSubprocess(types.ModuleType):
    """Stands in for ``subprocess``: records ``run`` calls and pretends they succeeded."""

    def __init__(self) -> None:
        super().__init__("subprocess")
        self.calls: list[tuple[list[str], dict]] = []
        self.CalledProcessError = subprocess.CalledProcessError

    def run(self, args, **kwargs):
        self.calls.append((list(args), kwargs))
        return subprocess.CompletedProcess(args, 0)


def run_setup_cell(source: str, *, on_colab: bool, monkeypatch) -> tuple[FakeSubprocess, str]:
    """Execute the cell's source as a notebook would; return the fake subprocess and what the cell printed."""
    fake = FakeSubprocess()
    monkeypatch.setitem(sys.modules, "subprocess", fake)
    monkeypatch.setenv("COURSE_DEVICE", "cpu")            # the same lines on every machine: a CPU runtime
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(source, "<set-up cell>", "exec"), {"__name__": "__main__"})
    monkeypatch.undo()
    return fake, printed.getvalue()


def first_code_cell(path: Path) -> dict:
    cells = [cell for cell in json.loads(path.read_text(encoding="utf-8"))["cells"] if cell["cell_type"] == "code"]
    assert cells, f"{path.name} has no code cell"
    return cells[0]


def assert_setup_behaviour(source: str, monkeypatch) -> None:
    """On Colab: exactly one ``pip install <INSTALL_URL>``, then the versions and the device; elsewhere: nothing
    installed and one deterministic line, the device."""
    import ipywidgets
    import torch

    device = "cpu"                                        # run_setup_cell sets COURSE_DEVICE=cpu
    fake, printed = run_setup_cell(source, on_colab=True, monkeypatch=monkeypatch)
    assert len(fake.calls) == 1, f"expected one install command on Colab, got {fake.calls}"
    args, kwargs = fake.calls[0]
    assert args[:4] == [sys.executable, "-m", "pip", "install"], args
    assert args[-1] == _config.INSTALL_URL, f"installs {args[-1]!r}, not the configured {_config.INSTALL_URL!r}"
    assert kwargs.get("check") is True, "a failed install must stop the notebook (check=True)"
    assert f"torch {torch.__version__}" in printed, f"the set-up cell does not print torch's version: {printed!r}"
    assert f"ipywidgets {ipywidgets.__version__}" in printed, f"nor ipywidgets' version: {printed!r}"
    assert f"Computing on: {device}\n" in printed, f"the set-up cell does not print the device: {printed!r}"
    assert "Change runtime type" in printed, f"on a CPU runtime it should say how to get a GPU: {printed!r}"
    fake, printed_here = run_setup_cell(source, on_colab=False, monkeypatch=monkeypatch)
    assert fake.calls == [], f"installs outside Colab: {fake.calls}"
    assert printed_here == f"Computing on: {device}\n", f"outside Colab, only the device line: {printed_here!r}"


def test_configured_install_url_is_the_release_of_the_repository():
    assert _config.INSTALL_URL == f"git+{_config.REPOSITORY_URL}@{_config.RELEASE_TAG}"
    assert "[" not in _config.INSTALL_URL, "Colab installs the core package, without extras"
    assert _config.colab_url("notebooks/x.ipynb") == (
        f"https://colab.research.google.com/github/{_config.GITHUB_REPOSITORY}/blob/{_config.RELEASE_TAG}/notebooks/x.ipynb")


def test_generated_setup_source_installs_only_on_colab(monkeypatch):
    from course_utils.authoring.contract import SETUP_SOURCE

    assert_setup_behaviour(SETUP_SOURCE, monkeypatch)


def test_generated_setup_source_follows_the_configuration():
    code = ("import course_utils.authoring.config as c\n"
            "c.INSTALL_URL = 'git+https://example.invalid/owner/name@branch'\n"
            "from course_utils.authoring.contract import SETUP_SOURCE\n"
            "assert 'git+https://example.invalid/owner/name@branch' in SETUP_SOURCE, SETUP_SOURCE\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebook in solutions/ or notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[f"{p.parent.name}/{p.stem}" for p in NOTEBOOKS])
def test_notebook_starts_with_the_setup_cell(path, monkeypatch):
    cell = first_code_cell(path)
    assert cell["metadata"].get("course", {}).get("role") == "setup", "the first code cell is not the set-up cell"
    assert "nbval-check-output" not in cell["metadata"].get("tags", []), "nbval must not compare the device line"
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    assert_setup_behaviour(source, monkeypatch)
    stored = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []))
    assert re.fullmatch(r"(Computing on: [a-z]+(:[0-9]+)?\n)?", stored), f"stored output is not the device: {stored!r}"


@pytest.mark.parametrize("old, new", [
    ('if "google.colab" in sys.modules:', "if True:"),                       # installs everywhere
    ('if "google.colab" in sys.modules:', "if False:"),                      # never installs
    (_config.INSTALL_URL, "git+https://github.com/someone/else@main"),      # a URL not from the configuration
    (', check=True', ''),                                                   # a failed install goes unnoticed
    ('print("Computing on:", device)', 'pass'),                             # no device line
    ('print(f"torch {torch.__version__}, ipywidgets {ipywidgets.__version__}")', 'pass'),   # no versions
    ('device.type == "cpu"', 'False'),                                      # no hint towards a GPU runtime
    ('if "google.colab" in sys.modules and device', 'if device'),          # the GPU hint outside Colab too
])
def test_the_setup_check_rejects_broken_cells(old, new, monkeypatch):
    from course_utils.authoring.contract import SETUP_SOURCE

    assert old in SETUP_SOURCE, f"the generated cell changed; update this test: {old!r}"
    with pytest.raises(AssertionError):
        assert_setup_behaviour(SETUP_SOURCE.replace(old, new), monkeypatch)
