"""Tests that need something from outside the project's environment, which ``.ci/prepare_tests.sh`` prepares once.

No test installs a package or uses the network. When what a test needs is missing, it skips with a reason that
says how to get it; under CI (``CI`` set to anything but ``0``/``false``) or with ``COURSE_REQUIRE_SETUP_TESTS=1``
(which ``.ci/run`` sets) it fails instead, so that CI cannot pass by skipping.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[1]
PREPARE = "bash .ci/prepare_tests.sh .venv/bin/python"
"""The command that prepares ``build/ipywidgets7`` and ``build/repo2docker`` (it downloads them once)."""


def required() -> bool:
    """True when a missing preparation must fail the test rather than skip it (CI)."""
    ci = os.environ.get("CI", "").strip().lower()
    return os.environ.get("COURSE_REQUIRE_SETUP_TESTS", "").strip() == "1" or ci not in ("", "0", "false", "no")


def unavailable(reason: str) -> NoReturn:
    """Skip the running test because of ``reason``, or fail it under CI."""
    if required():
        pytest.fail(f"{reason} (CI or COURSE_REQUIRE_SETUP_TESTS=1: this test must run, not skip)", pytrace=False)
    pytest.skip(reason)


def not_prepared(what: str) -> NoReturn:
    """Skip (or, under CI, fail) because ``what``, which ``.ci/prepare_tests.sh`` makes, is missing."""
    unavailable(f"{what} is missing: run `{PREPARE}` once (it downloads it; the tests never do)")
