"""Binder builds the course with repo2docker from ``binder/``: the pinned Python, CPU torch and the ``lab`` extra.

``jupyter-repo2docker --no-build --debug`` (from ``build/repo2docker``, which ``.ci/prepare_tests.sh`` creates; it is
not a dependency of the course) chooses the build pack and prints the Dockerfile it would build, without Docker. The
Dockerfile must set up runtime.txt's Python version and install binder/requirements.txt after the repository is
copied in (its ``-e .[lab]`` needs it). tests/test_packaging.py checks what the two files say; the README's badge
opens JupyterLab on ``notebooks/``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from prepared import not_prepared

from course_utils.authoring import config

REPO = Path(__file__).resolve().parents[1]
PREPARED = REPO / "build" / "repo2docker" / "bin" / "jupyter-repo2docker"


def repo2docker() -> str:
    """The jupyter-repo2docker command: build/repo2docker's, else one on PATH; skip (fail under CI) without one."""
    if PREPARED.is_file():
        return str(PREPARED)
    found = shutil.which("jupyter-repo2docker")
    if found is None:
        not_prepared("jupyter-repo2docker (build/repo2docker)")
    return found


def render(folder: Path) -> subprocess.CompletedProcess:
    """Let repo2docker examine ``folder`` and print its Dockerfile (``--no-build``: no Docker needed)."""
    return subprocess.run([repo2docker(), "--no-build", "--debug", str(folder)], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def dockerfile() -> str:
    done = render(REPO)
    assert done.returncode == 0, f"repo2docker rejects the repository:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def test_repo2docker_uses_the_pinned_python(dockerfile):
    runtime = (REPO / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    version = runtime.removeprefix("python-")
    assert f"python={version}" in dockerfile, f"repo2docker did not pick Python {version} from binder/runtime.txt"


def test_repo2docker_installs_the_requirements_after_copying_the_repository(dockerfile):
    copy = dockerfile.find("COPY --chown=0:0 src/ ${REPO_DIR}/")
    install = re.search(r'pip install --no-cache-dir -r "binder/requirements\.txt"', dockerfile)
    assert copy >= 0 and install, "repo2docker does not install binder/requirements.txt with pip"
    assert install.start() > copy, "binder/requirements.txt is installed before the repository is there (-e .[lab])"
    assert "environment.yml" not in dockerfile, "Binder must use binder/, not the top-level environment.yml"


def test_repo2docker_check_can_fail(tmp_path):
    (tmp_path / "binder").mkdir()
    (tmp_path / "binder" / "runtime.txt").write_text("python-2.5\n", encoding="utf-8")   # no such environment
    (tmp_path / "binder" / "requirements.txt").write_text("numpy\n", encoding="utf-8")
    assert render(tmp_path).returncode != 0, "repo2docker --no-build accepted a Python it cannot provide"


def test_readme_has_a_binder_badge_that_opens_jupyterlab_on_the_notebooks():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    url = config.binder_url("notebooks")
    assert url.endswith("?urlpath=lab/tree/notebooks") and f"/{config.RELEASE_TAG}?" in url
    assert f"[![Binder](https://mybinder.org/badge_logo.svg)]({url})" in readme
