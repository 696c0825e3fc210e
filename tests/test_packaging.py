"""The dependency layers of pyproject.toml, environment.yml and binder/ agree, and the release is configured once.

Layers: the core (what the notebooks import; all that Colab installs), the extras ``lab`` (JupyterLab 4 with
ipywidgets 8), ``grade`` (the instructor's grader) and ``dev`` (all of the above plus the test tools).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

from course_utils.authoring import config

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "course-utils"
# PyPI name -> conda-forge name, where they differ.
CONDA_NAMES = {"torch": "pytorch"}
PIP_ONLY = {"playwright"}  # not on conda-forge under that name: environment.yml installs it with pip
CORE = {"torch", "numpy", "matplotlib", "ipywidgets", "tqdm", "av"}  # what the notebooks import
TEST_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "nbformat", "nbclient", "ipykernel", "pyyaml", "playwright",
              "ruff", "pre-commit", "nbval", "setuptools", "uv"}


def _pyproject() -> dict:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def _name(requirement: Requirement) -> str:
    return re.sub(r"[-_.]+", "-", requirement.name).lower()


def layers() -> dict[str, list[Requirement]]:
    """``{"core": [...], "lab": [...], ...}``: each layer's own requirements, as written."""
    project = _pyproject()["project"]
    found = {"core": [Requirement(r) for r in project["dependencies"]]}
    found.update({extra: [Requirement(r) for r in requirements]
                  for extra, requirements in project["optional-dependencies"].items()})
    return found


def resolved(layer: str) -> dict[str, SpecifierSet]:
    """Every package a layer installs (the core and the extras it names included), with its range: an extra's range
    replaces the core's (only ipywidgets differs, narrowed by ``lab``; the tests below check that)."""
    own = layers()
    order, pending = ["core"], [layer]
    while pending:
        current = pending.pop(0)
        if current not in order:
            order.append(current)
            pending += [extra for r in own[current] if _name(r) == PROJECT for extra in sorted(r.extras)]
    combined: dict[str, SpecifierSet] = {}
    for current in order:
        for requirement in own[current]:
            if _name(requirement) != PROJECT:
                combined[_name(requirement)] = requirement.specifier
    return combined


def _environment() -> tuple[dict[str, SpecifierSet], dict[str, SpecifierSet], list[str]]:
    """(conda packages, pip packages, pip options and local paths) of environment.yml."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["channels"] == ["conda-forge"]
    conda, pip, local = {}, {}, []
    for item in env["dependencies"]:
        if isinstance(item, dict):
            for line in item["pip"]:
                if line.startswith("-"):
                    local.append(line)
                else:
                    requirement = Requirement(line)
                    pip[_name(requirement)] = requirement.specifier
        else:
            name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", item).groups()
            conda[name.lower()] = SpecifierSet(spec.replace(" ", ""))
    return conda, pip, local


def test_the_layers_are_the_ones_documented():
    assert set(layers()) == {"core", "lab", "grade", "dev"}
    assert set(resolved("core")) == CORE, "the core is what the notebooks import, and nothing else"
    assert set(resolved("dev")) >= set(resolved("lab")) | set(resolved("grade")) | TEST_TOOLS


def test_a_package_in_two_layers_has_one_range_except_the_narrowed_ipywidgets():
    seen: dict[str, tuple[str, SpecifierSet]] = {}
    for layer, requirements in layers().items():
        for requirement in requirements:
            name = _name(requirement)
            if name == PROJECT or name == "ipywidgets":
                continue
            first = seen.setdefault(name, (layer, requirement.specifier))
            assert first[1] == requirement.specifier, f"{name}: {first[0]} says {first[1]}, {layer} {requirement}"


@pytest.mark.parametrize("layer, accepted, rejected", [
    ("core", ["7.7.1", "8.1.5"], ["7.6.5", "9.0.0"]),     # Colab's 7.7.1 must stay: no reinstall there
    ("lab", ["8.0.0", "8.1.5"], ["7.7.1", "9.0.0"]),      # JupyterLab 4 renders no ipywidgets 7 widget
    ("dev", ["8.1.5"], ["7.7.1"]),
])
def test_ipywidgets_ranges(layer, accepted, rejected):
    spec = resolved(layer)["ipywidgets"]
    assert all(spec.contains(v) for v in accepted) and not any(spec.contains(v) for v in rejected), spec


def test_lab_extra_pairs_jupyterlab_4_with_ipywidgets_8():
    lab = resolved("lab")
    assert lab["jupyterlab"].contains("4.2.0") and not lab["jupyterlab"].contains("3.6.0")
    assert not lab["jupyterlab"].contains("5.0.0"), "JupyterLab 5 is untested: raise the bound after testing it"
    assert "jupyterlab" not in resolved("core") and "jupyterlab" not in resolved("grade")


def test_torch_range_accepts_the_ci_build_and_colab():
    spec = resolved("core")["torch"]
    assert spec == SpecifierSet(">=2.11"), "torch must accept 2.13.0 (CI) and Colab's 2.11+, with no upper pin"


def test_environment_yml_lists_every_layer_with_the_same_ranges():
    conda, pip, local = _environment()
    expected = resolved("dev")
    expected_conda = {CONDA_NAMES.get(n, n): s for n, s in expected.items() if n not in PIP_ONLY}
    expected_pip = {n: s for n, s in expected.items() if n in PIP_ONLY}
    assert conda.pop("python") == SpecifierSet(_pyproject()["project"]["requires-python"])
    conda.pop("pip")
    assert conda == expected_conda
    assert pip == expected_pip
    assert local == ["-e ."], "environment.yml installs the course itself, its dependencies already there"


def test_build_backend_is_in_the_dev_extra():
    backend = [Requirement(r) for r in _pyproject()["build-system"]["requires"]]
    dev = resolved("dev")
    for requirement in backend:
        assert dev.get(_name(requirement)) == requirement.specifier, f"dev must install {requirement} (tests build)"


def test_release_tag_agrees_with_the_version():
    version = _pyproject()["project"]["version"]
    assert config.RELEASE_TAG == f"v{version}", "bump RELEASE_TAG and pyproject's version together"
    assert config.INSTALL_URL == f"git+{config.REPOSITORY_URL}@{config.RELEASE_TAG}"


def _binder_requirements() -> list[str]:
    lines = (ROOT / "binder" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _ci_torch_version() -> str:
    match = re.search(r"^TORCH_VERSION=(\S+)$", (ROOT / ".ci" / "run").read_text(encoding="utf-8"), re.M)
    assert match, ".ci/run no longer sets TORCH_VERSION=..."
    return match.group(1)


def test_binder_pins_python_and_installs_cpu_torch_and_the_lab_extra():
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    assert re.fullmatch(r"python-3\.1[0-9]", runtime), f"runtime.txt must pin a Python minor version: {runtime!r}"
    assert SpecifierSet(_pyproject()["project"]["requires-python"]).contains(runtime.removeprefix("python-") + ".0")
    lines = _binder_requirements()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in lines
    torch = [Requirement(line) for line in lines if line.startswith("torch")]
    assert [str(r.specifier) for r in torch] == [f"=={_ci_torch_version()}+cpu"], "Binder: the CPU build CI tests"
    assert resolved("core")["torch"].contains(_ci_torch_version())
    assert "-e .[lab]" in lines
    assert not [path for path in (ROOT / "binder").iterdir() if path.name not in ("runtime.txt", "requirements.txt")]
