"""The course installs and runs as on Colab: the core package alone, from the release tag, in a fresh environment.

* The wheel built from this checkout holds every file of ``course_utils``, declares the core dependencies only (the
  rest behind extras), and carries the version of the release tag.
* Colab, played here: a temporary git repository holds this checkout's package files at the configured release tag,
  and git is told (``url.<local>.insteadOf``) to fetch the configured repository URL from it. A fresh virtual
  environment stands in for a Colab runtime. It sees only the distributions that the wheel's core dependencies, a
  Jupyter kernel, pip and setuptools need (linked from this environment, as Colab preinstalls torch & co.): not the
  project's editable install, not the extras, not the repository, so a notebook or module that imports anything
  beyond the core fails. A kernel in it, with ``google.colab`` imported at start-up, runs a solution notebook from an
  empty folder: its set-up cell pip-installs the course from the tag (offline: ``--no-index``, no build isolation),
  every check cell must pass, and ``course_utils.__file__`` must lie inside that environment.
"""

from __future__ import annotations

import email
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from packaging.requirements import Requirement
from prepared import unavailable

from course_utils.authoring import config

REPO = Path(__file__).resolve().parents[1]
NOTEBOOK = REPO / "solutions" / "04_receptive_fields.ipynb"        # the fastest solution notebook
PACKAGE_FILES = ["pyproject.toml", "README.md", "course_utils"]
KERNEL_NEEDS = ["ipykernel", "pip", "setuptools"]                     # what Colab has beyond the course's core
CORE = {"torch", "numpy", "matplotlib", "ipywidgets", "tqdm", "av"}
_PROBE = """\
import importlib.metadata, json, sys
import course_utils
print(json.dumps({"file": course_utils.__file__, "prefix": sys.prefix,
                  "version": importlib.metadata.version("course-utils")}))"""


def copy_package_sources(destination: Path) -> Path:
    """Copy what building the package reads (pyproject, README, licenses, ``course_utils/``) into ``destination``."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PACKAGE_FILES + sorted(p.name for p in REPO.glob("LICENSE*")):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, destination / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, destination / name)
    return destination


def _clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without pip or Python path settings, plus ``extra``: pip reads no config file,
    uses no index and no build isolation (no download), and git reads no system config."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "CONDA", "GIT_", "JUPYTER", "IPYTHON"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_NO_BUILD_ISOLATION="0",  # "0": isolation off
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1", GIT_CONFIG_NOSYSTEM="1", **extra)
    return env


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The course's wheel, built offline from a copy of this checkout."""
    if importlib.util.find_spec("setuptools") is None:
        unavailable("setuptools (the build backend, in the dev extra) is not installed")
    tmp = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", str(copy_package_sources(tmp / "src")), "-w", str(tmp / "dist")],
                          capture_output=True, text=True, timeout=300, env=_clean_env(HOME=str(tmp)))
    assert done.returncode == 0, f"building the wheel failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    (built,) = (tmp / "dist").glob("course_utils-*.whl")
    return built


def test_the_wheel_holds_the_package_and_only_core_dependencies(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        (metadata_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
    expected = {p.relative_to(REPO).as_posix() for p in (REPO / "course_utils").rglob("*")
                if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
    assert expected <= names, f"missing from the wheel: {sorted(expected - names)}"
    assert metadata["Version"] == config.RELEASE_TAG.removeprefix("v")
    requirements = [Requirement(r) for r in metadata.get_all("Requires-Dist")]
    unconditional = {r.name for r in requirements if r.marker is None}
    assert unconditional == CORE, "without extras, the package must bring the core dependencies and nothing else"
    assert set(metadata.get_all("Provides-Extra")) == {"lab", "grade", "dev"}


def _closure(roots: list[Requirement]) -> list[importlib.metadata.Distribution]:
    """The installed distributions that ``roots`` need, following their dependencies (extras only where asked)."""
    found: dict[str, importlib.metadata.Distribution] = {}
    pending = [(requirement, "") for requirement in roots]
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": extra}):
            continue
        try:
            dist = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            unavailable(f"{requirement.name}, which Colab would have, is not installed here")
        key = dist.metadata["Name"].lower().replace("_", "-")
        wanted = [""] + sorted(requirement.extras)
        if key in found and not requirement.extras:
            continue
        found[key] = dist
        pending += [(Requirement(r), e) for r in dist.requires or [] for e in wanted]
    return list(found.values())


def link_preinstalled(distributions: list[importlib.metadata.Distribution], folder: Path) -> None:
    """Make ``folder`` a site folder holding exactly ``distributions``: links to their top-level files."""
    folder.mkdir()
    for dist in distributions:
        if not dist.files:
            unavailable(f"{dist.metadata['Name']} lists no files (RECORD), so it cannot be linked")
        tops = {f.parts[0] for f in dist.files if f.parts[0] not in ("..", "__pycache__") and f.suffix != ".pth"}
        for top in tops:
            source = Path(dist.locate_file(top))
            if source.exists() and not (folder / top).exists():
                (folder / top).symlink_to(source, target_is_directory=source.is_dir())


def make_colab_runtime(root: Path, wheel: Path) -> Path:
    """A fresh virtual environment under ``root`` that sees the core's dependencies, a kernel, pip and setuptools."""
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = email.message_from_bytes(archive.read(metadata_name))
    core = [Requirement(r) for r in metadata.get_all("Requires-Dist") if Requirement(r).marker is None]
    link_preinstalled(_closure(core + [Requirement(n) for n in KERNEL_NEEDS]), root / "preinstalled")
    venv = root / "colab-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                          capture_output=True, text=True, check=True, env=_clean_env()).stdout.strip()
    Path(site, "colab_preinstalled.pth").write_text(str(root / "preinstalled") + "\n", encoding="utf-8")
    return python


def publish_release(root: Path) -> Path:
    """A git repository holding the package files at ``config.RELEASE_TAG``; a git config that serves it in place
    of ``config.REPOSITORY_URL``. Returns the git config file."""
    if shutil.which("git") is None:
        unavailable("git is not installed (pip needs it to install from a git tag, as Colab does)")
    origin = copy_package_sources(root / "origin")
    gitconfig = root / "gitconfig"
    gitconfig.write_text(f'[url "{origin.as_uri()}"]\n\tinsteadOf = {config.REPOSITORY_URL}\n'
                         "[user]\n\tname = course\n\temail = course@example.invalid\n", encoding="utf-8")
    env = _clean_env(GIT_CONFIG_GLOBAL=str(gitconfig), HOME=str(root))
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "release"], ["tag", config.RELEASE_TAG]):
        subprocess.run(["git", *command], cwd=origin, env=env, check=True, capture_output=True, timeout=60)
    return gitconfig


def test_a_fresh_colab_style_install_runs_a_notebook_from_an_empty_folder(wheel, tmp_path, monkeypatch):
    import nbclient

    gitconfig = publish_release(tmp_path)
    python = make_colab_runtime(tmp_path, wheel)
    kernels = tmp_path / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Colab-like", "language": "python"}), encoding="utf-8")
    startup = tmp_path / "ipython" / "profile_default" / "startup"
    startup.mkdir(parents=True)
    (startup / "00-colab.py").write_text('import sys, types\nsys.modules["google.colab"] = types.ModuleType('
                                         '"google.colab")\n', encoding="utf-8")
    empty = tmp_path / "content"                                        # Colab's working folder, empty
    empty.mkdir()

    notebook = nbformat.read(str(NOTEBOOK), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(_PROBE))
    env = _clean_env(GIT_CONFIG_GLOBAL=str(gitconfig), HOME=str(tmp_path), JUPYTER_PATH=str(tmp_path / "jupyter"),
                     JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"), IPYTHONDIR=str(tmp_path / "ipython"),
                     JUPYTER_PLATFORM_DIRS="1", COURSE_DEVICE="cpu")
    for name in set(os.environ) - set(env):
        monkeypatch.delenv(name)
    for name, value in env.items():         # the kernel inherits them; jupyter_client finds the kernel spec by them
        monkeypatch.setenv(name, value)
    client = nbclient.NotebookClient(notebook, kernel_name="colab", timeout=300, allow_errors=False,
                                     resources={"metadata": {"path": str(empty)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(f"the notebook failed in the Colab-style environment:\n{str(error)[-4000:]}")
    monkeypatch.undo()

    printed = ["".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
               for cell in notebook.cells if cell.cell_type == "code"]
    assert "torch " in printed[0] and "ipywidgets " in printed[0], f"the set-up cell ran outside 'Colab': {printed[0]}"
    for cell in notebook.cells:
        if cell.get("metadata", {}).get("course", {}).get("role") == "check":
            text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
            assert text.startswith(f"✔ {cell.metadata['course']['exercise']}: "), text
    probe = json.loads(printed[-1])
    assert Path(probe["prefix"]).resolve() == python.parent.parent.resolve(), probe
    assert Path(probe["file"]).resolve().is_relative_to(python.parent.parent.resolve()), (
        f"course_utils came from {probe['file']}, not from the package installed in the fresh environment")
    assert probe["version"] == config.RELEASE_TAG.removeprefix("v")
