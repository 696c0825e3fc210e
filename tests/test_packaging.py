"""pyproject.toml and environment.yml list the same packages with the same version ranges."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
# PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"torch": "pytorch"}
PIP_ONLY = {"playwright"}  # not on conda-forge under that name: environment.yml installs it with pip


def _split(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return name.lower(), spec.replace(" ", "")


def _pyproject() -> dict[str, str]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = data["dependencies"] + data["optional-dependencies"]["dev"]
    return dict(_split(r) for r in requirements)


def _environment() -> tuple[dict[str, str], dict[str, str]]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    conda, pip = {}, {}
    for item in env["dependencies"]:
        if isinstance(item, dict):
            pip.update(_split(r) for r in item["pip"] if not r.startswith("-"))
        else:
            conda.update([_split(item)])
    return conda, pip


def test_environment_yml_lists_the_pyproject_packages():
    conda, pip = _environment()
    expected_conda = {CONDA_NAMES.get(n, n): s for n, s in _pyproject().items() if n not in PIP_ONLY}
    expected_pip = {n: s for n, s in _pyproject().items() if n in PIP_ONLY}
    conda.pop("python"), conda.pop("pip")
    assert conda == expected_conda
    assert pip == expected_pip


def test_environment_yml_uses_conda_forge_and_installs_the_course():
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["channels"] == ["conda-forge"]
    pip = next(item["pip"] for item in env["dependencies"] if isinstance(item, dict))
    assert "-e ." in pip


def test_torch_range_accepts_the_ci_build_and_colab():
    spec = _pyproject()["torch"]
    assert spec == ">=2.11", "torch must accept 2.13.0 (CI) and Colab's 2.11+, with no upper pin"
    assert _pyproject()["ipywidgets"] == ">=7.7,<9"
