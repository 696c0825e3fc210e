"""Fixtures of the browser suite: one JupyterLab server and one headless Chromium for the whole session.

Needs Debian's chromium at /usr/bin/chromium and the Python package ``playwright`` (``bash .ci/install_browser.sh``
installs both). Without them the suite is skipped, except where ``COURSE_REQUIRE_BROWSER`` or ``CI`` is set (as in
``.ci/run``): there that is a failure.
Settings and development knobs: ``lab_paths.py``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))   # the helper modules beside this file

from lab_paths import CHROMIUM, CHROMIUM_ARGS, REPO, SCREENSHOTS, notebook_dir  # noqa: E402


def _missing_requirements() -> list[str]:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package (pip install playwright)")
    return missing


@pytest.fixture(scope="session")
def browser_requirements() -> None:
    """Skip (fail under CI or COURSE_REQUIRE_BROWSER) when chromium or playwright is missing."""
    missing = _missing_requirements()
    if missing:
        message = "browser suite needs " + " and ".join(missing) + "; run: bash .ci/install_browser.sh"
        if any(os.environ.get(name, "").lower() not in ("", "0", "false", "no")
               for name in ("COURSE_REQUIRE_BROWSER", "CI")):
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def lab_server(browser_requirements, tmp_path_factory):
    """A ``jupyter-lab`` whose root holds copies of the course notebooks; stopped (kernels too) at the end."""
    from lab_server import start_lab, stop_lab

    work_dir = tmp_path_factory.mktemp("jupyterlab")
    server = start_lab(work_dir, python_path=REPO)
    try:
        for notebook in sorted(notebook_dir().glob("*.ipynb")):
            shutil.copy2(notebook, server.root_dir / notebook.name)
        yield server
    finally:
        stop_lab(server)


@pytest.fixture(scope="session")
def browser(browser_requirements):
    """A browser context of headless Debian chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = chromium.new_context(viewport={"width": 1100, "height": 1000})   # one HTTP cache
            yield context
        finally:
            chromium.close()
    finally:
        playwright.stop()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    """``build/screenshots`` in the repository (git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_terminal_summary(terminalreporter) -> None:
    """Print each notebook's Run All time in JupyterLab and how many widget controls were moved."""
    rows: dict[str, dict[str, object]] = {}
    for outcome in ("passed", "failed", "skipped"):
        for report in terminalreporter.stats.get(outcome, []):
            properties = dict(getattr(report, "user_properties", []))
            match = re.search(r"\[(.+)\]$", getattr(report, "nodeid", ""))
            if match and {"jupyterlab_run_seconds", "widget_controls_checked"} & properties.keys():
                rows.setdefault(match.group(1), {}).update(properties)
    if not rows:
        return
    terminalreporter.section("JupyterLab run times")
    for notebook, properties in sorted(rows.items()):
        seconds = properties.get("jupyterlab_run_seconds")
        shown = f"{seconds:6.1f} s" if isinstance(seconds, float) else "   n/a  "
        widgets = properties.get("widget_controls_checked", 0)
        phases = properties.get("jupyterlab_phase_seconds", {})
        terminalreporter.write_line(f"{notebook:32s} Run All {shown}   widget controls moved: {widgets}   "
                                    + "  ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    terminalreporter.write_line(f"screenshots: {SCREENSHOTS}")
