"""Paths and settings shared by the browser suite's conftest and tests.

Environment knobs (for development):
    COURSE_BROWSER_NOTEBOOKS   folder whose ``*.ipynb`` are run (default: the repository's ``solutions/``)
    COURSE_BROWSER_RUN_TIMEOUT seconds allowed for Run All of one notebook (default 240: a 60 s budget on a loaded CI)
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO / "build" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
RUN_TIMEOUT = float(os.environ.get("COURSE_BROWSER_RUN_TIMEOUT", "240"))


def notebook_dir() -> Path:
    """The folder whose notebooks the suite runs."""
    return Path(os.environ.get("COURSE_BROWSER_NOTEBOOKS", REPO / "solutions")).resolve()
