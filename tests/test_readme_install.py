"""The README's two commands: what they install, where they run, and which PyTorch build command 1 fetches.

Command 1 installs the ``lab`` extra with uv's ``--torch-backend=auto``; command 2 the ``dev`` extra, in the same
folder, from a second terminal. The uv step of command 1, exactly as the README writes it, is resolved by uv with
``--offline --dry-run`` (nothing is downloaded or installed; uv logs the index URL it would ask for PyTorch): without
a GPU driver it must choose PyTorch's CPU index, never a CUDA one (those builds bring > 2 GB of NVIDIA libraries), and
with an NVIDIA driver (a stand-in ``nvidia-smi`` that reports one) a CUDA index.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from prepared import unavailable

from course_utils.authoring import config

REPO = Path(__file__).resolve().parents[1]
FOLDER = "video-course"
_TORCH_INDEX = re.compile(r"https://download\.pytorch\.org/whl/([A-Za-z0-9.]+)/torch/")


def quick_start_commands() -> list[str]:
    """The shell commands of the README's numbered Quick start steps (the bash blocks before its first subsection)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start\n", 1)[1].split("\n### ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section, flags=re.S)]


def steps(command: str) -> list[list[str]]:
    """The ``&&``-separated steps of a one-line command, each split into words as the shell would."""
    return [shlex.split(step) for step in command.split(" && ")]


def uv_install_step(command: str) -> list[str]:
    """The command's one ``.venv/bin/python -m uv pip ...`` step."""
    (step,) = [s for s in steps(command) if s[:4] == [".venv/bin/python", "-m", "uv", "pip"]]
    return step


def test_there_are_two_one_line_commands():
    commands = quick_start_commands()
    assert len(commands) == 2, f"the Quick start must have exactly two commands, found {len(commands)}"
    assert all("\n" not in command for command in commands), "each command must be one line to copy and paste"


def test_command_1_clones_installs_the_lab_extra_with_auto_torch_backend_and_starts_jupyterlab():
    command = steps(quick_start_commands()[0])
    assert command[0] == ["git", "clone", config.REPOSITORY_URL, FOLDER] and command[1] == ["cd", FOLDER]
    assert command[2] == ["python3", "-m", "venv", ".venv"]
    assert command[3] == [".venv/bin/python", "-m", "pip", "install", "uv"]
    assert command[4] == [".venv/bin/python", "-m", "uv", "pip", "install", "--python", ".venv",
                          "--torch-backend=auto", "-e", ".[lab]"]
    assert command[-1] == [".venv/bin/jupyter-lab", "notebooks/"], "command 1 ends by starting JupyterLab"


def test_command_2_runs_in_the_same_folder_installs_the_dev_extra_and_runs_the_suite():
    command = steps(quick_start_commands()[1])
    assert command[0] == ["cd", FOLDER], "a second terminal starts elsewhere: command 2 must enter the folder"
    assert command[1] == [".venv/bin/python", "-m", "uv", "pip", "install", "--python", ".venv",
                          "--torch-backend=auto", "-e", ".[dev]"]
    assert command[-1] == [".venv/bin/python", "-m", "pytest"]


def test_the_extras_the_readme_names_exist():
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        tomllib = pytest.importorskip("tomli")
    extras = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    named = set(re.findall(r'-e "?\.\[([a-z,]+)\]', (REPO / "README.md").read_text(encoding="utf-8")))
    assert named and {extra for group in named for extra in group.split(",")} <= set(extras)


def _uv() -> str:
    try:
        import uv
    except ImportError:
        found = shutil.which("uv")
        if found is None:
            unavailable("uv (in the dev extra) is not installed")
        return found
    return uv.find_uv_bin()


def _has_gpu_driver() -> bool:
    return (Path("/proc/driver/nvidia/version").exists() or Path("/sys/module/nvidia/version").exists()
            or shutil.which("nvidia-smi") is not None)


def torch_indexes(tmp_path: Path, *, fake_nvidia_driver: bool) -> tuple[set[str], str]:
    """The PyTorch indexes (``cpu``, ``cu130``, ...) that command 1's uv step would ask for torch, offline; uv's log."""
    project = tmp_path / "video-course"
    (project / "course_utils").mkdir(parents=True)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, project / name)
    (project / "course_utils" / "__init__.py").write_text("", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(project / ".venv")], check=True, timeout=120)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV", "CONDA"))}
    env.update(HOME=str(tmp_path), UV_CACHE_DIR=str(tmp_path / "uv-cache"), UV_OFFLINE="1", UV_NO_CONFIG="1")
    if fake_nvidia_driver:
        fake = tmp_path / "fake-driver"
        fake.mkdir()
        (fake / "nvidia-smi").write_text("#!/bin/sh\necho 580.65.06\n", encoding="utf-8")   # a CUDA 13 driver
        (fake / "nvidia-smi").chmod(0o755)
        env["PATH"] = f"{fake}{os.pathsep}{env.get('PATH', '')}"
    step = uv_install_step(quick_start_commands()[0])
    done = subprocess.run([_uv(), *step[3:], "--dry-run", "--offline", "--no-config", "-v"], cwd=project, env=env,
                          capture_output=True, text=True, timeout=120)
    log = done.stdout + done.stderr                 # offline, uv stops where it would have to download
    return set(_TORCH_INDEX.findall(log)), log[-3000:]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="driver detection is checked on Linux")
def test_command_1_takes_the_cpu_build_without_a_gpu(tmp_path):
    if _has_gpu_driver():
        pytest.skip("this machine has an NVIDIA driver")
    indexes, log = torch_indexes(tmp_path, fake_nvidia_driver=False)
    assert indexes, f"uv asked no PyTorch index for torch (PyPI's Linux torch is the CUDA build):\n{log}"
    assert not [index for index in indexes if index.startswith("cu")], f"CUDA index without a GPU: {indexes}"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="driver detection is checked on Linux")
def test_command_1_takes_a_cuda_build_with_an_nvidia_driver(tmp_path):
    indexes, log = torch_indexes(tmp_path, fake_nvidia_driver=True)
    assert [index for index in indexes if index.startswith("cu")], f"no CUDA index with an NVIDIA driver:\n{log}"
