"""Running nbval on one pristine notebook: a fresh process in a scratch folder, under two timeouts.

Layout of the scratch folder (a new temporary directory per run, removed afterwards)::

    work/<notebook>.ipynb     the pristine copy; the kernel's working folder holds nothing else
    grader/pytest.ini         an empty ini, so that no project's pytest settings (addopts, xdist) apply
    grader/results.jsonl      one JSON line per cell, written by ``nbval_plugin``
    grader/pytest.log         pytest's own output (only its tail is read)
    grader/ipython/           the kernel's IPYTHONDIR: no user start-up files, plus the grader's output cap

The whole-submission timeout kills pytest's process group and the kernel's (the kernel runs in its own session).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.grade.nbval_plugin import OUTPUT_CAP, TRUNCATED

PLUGIN = Path(__file__).with_name("nbval_plugin.py")
LOG_TAIL = 4000
STARTUP_ATTEMPTS = 3
"""Runs tried when the kernel dies or hangs while starting, before any cell ran."""

KERNEL_STARTUP = f'''\
# Written by the course grader into a private IPYTHONDIR: caps what one cell prints, inside the kernel, so that
# a 100 MB print neither floods the grader nor exhausts memory. (The same cap, OUTPUT_CAP of nbval_plugin, applies
# again to what reaches nbval, which also covers rich display output.)
def _grader_cap_output():
    import sys
    state = {{"used": 0}}

    def reset(*args):
        state["used"] = 0

    get_ipython().events.register("pre_run_cell", reset)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)

        def write(text, _original=stream.write):
            if not isinstance(text, str):
                return _original(text)
            before = state["used"]
            state["used"] = before + len(text)
            if state["used"] <= {OUTPUT_CAP}:
                return _original(text)
            if before <= {OUTPUT_CAP}:
                _original(text[:{OUTPUT_CAP} - before] + {TRUNCATED!r})
            return len(text)

        stream.write = write


_grader_cap_output()
del _grader_cap_output
'''


@dataclass
class RunResult:
    """What one nbval run reported.

    ``cells`` maps nbval's code-cell number to the plugin's record; ``killed`` says the whole-submission timeout
    struck; ``scratch`` is the run's temporary folder (to scrub from messages).
    """

    cells: dict[int, dict] = field(default_factory=dict)
    killed: bool = False
    returncode: int | None = None
    log_tail: str = ""
    scratch: str = ""
    kernel_pid: int | None = None


def run_nbval(notebook: nbformat.NotebookNode, *, name: str, sanitize_file: Path, course_root: Path,
              cell_timeout: float, timeout: float, threads: int | None = None) -> RunResult:
    """Run nbval (lax mode, current environment) on ``notebook`` in a fresh process and collect per-cell results.

    Args:
        notebook: the pristine notebook to run.
        name: the notebook's file stem (``"01_frame_sampling"``).
        sanitize_file: nbval's sanitizer file.
        course_root: put first on the kernel's ``PYTHONPATH`` so it imports this course's ``course_utils``.
        cell_timeout: seconds one cell may run (nbval interrupts it).
        timeout: seconds the whole run may take (then both process groups are killed).
        threads: if given, ``OMP_NUM_THREADS`` for the kernel (unless the caller's environment sets it).

    Returns:
        The per-cell records and how the run ended.
    """
    if cell_timeout <= 0 or timeout <= 0:
        raise ValueError(f"cell_timeout and timeout must be > 0 seconds, got {cell_timeout} and {timeout}")
    for _ in range(STARTUP_ATTEMPTS):
        result = _run_once(notebook, name=name, sanitize_file=sanitize_file, course_root=course_root,
                           cell_timeout=cell_timeout, timeout=timeout, threads=threads)
        if not _kernel_failed_to_start(result):
            break
    return result


def _kernel_failed_to_start(result: RunResult) -> bool:
    """True when the kernel died or hung while starting, before any student or course code ran (a machine
    hiccup, not the submission's doing: the kernel's start-up runs none of its code)."""
    first = result.cells.get(0, {})
    return (not result.killed and result.kernel_pid is None and first.get("phase") == "setup"
            and first.get("reason") == "grader")


def _run_once(notebook: nbformat.NotebookNode, *, name: str, sanitize_file: Path, course_root: Path,
              cell_timeout: float, timeout: float, threads: int | None) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="course-grade-", ignore_cleanup_errors=True) as scratch:
        work, private = Path(scratch, "work"), Path(scratch, "grader")
        work.mkdir()
        private.mkdir()
        notebook_path = work / f"{name}.ipynb"
        notebook_path.write_text(nbformat.writes(notebook), encoding="utf-8")
        ini, results, log = private / "pytest.ini", private / "results.jsonl", private / "pytest.log"
        ini.write_text("[pytest]\n", encoding="utf-8")
        startup = private / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-grader-output-cap.py").write_text(KERNEL_STARTUP, encoding="utf-8")
        command = [sys.executable, str(PLUGIN), "-p", "nbval.plugin", "-p", "no:cacheprovider", "-c", str(ini),
                   "--rootdir", str(work), "-q", "--tb=no", "--nbval-lax", "--nbval-current-env",
                   "--nbval-sanitize-with", str(sanitize_file), "--nbval-cell-timeout", f"{cell_timeout:g}",
                   "--grade-results", str(results), str(notebook_path)]
        result = RunResult(scratch=scratch)
        with open(log, "wb") as log_handle:
            env = _environment(course_root, threads, private / "ipython")
            process = subprocess.Popen(command, cwd=private, stdin=subprocess.DEVNULL, stdout=log_handle,
                                       stderr=subprocess.STDOUT, env=env, start_new_session=True)
            try:
                result.returncode = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                result.killed = True
                _kill_group(process.pid)
                result.returncode = process.wait()
        kernel_pid = result.kernel_pid = _read_results(results, result)
        if kernel_pid is not None:   # also ends whatever the student's code left running in the kernel's group
            _kill_group(kernel_pid)
        result.log_tail = _tail(log)
    return result


def _environment(course_root: Path, threads: int | None, ipython_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["IPYTHONDIR"] = str(ipython_dir)
    env.pop("PYTEST_ADDOPTS", None)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(course_root), env.get("PYTHONPATH", "")) if p)
    env.setdefault("PYTHONHASHSEED", "0")
    if threads is not None:
        env.setdefault("OMP_NUM_THREADS", str(threads))
    return env


def _kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (our pytest process, or the kernel: both lead their session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass   # the group has already exited


def _read_results(path: Path, result: RunResult) -> int | None:
    kernel_pid = None
    if not path.exists():
        return None
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue   # a line cut short by the kill
            if record.get("kind") == "kernel" and isinstance(record.get("pid"), int):
                kernel_pid = record["pid"]
            elif record.get("kind") == "cell" and isinstance(record.get("cell"), int):
                result.cells.setdefault(record["cell"], record)   # a setup failure comes before its call
    return kernel_pid


def _tail(path: Path) -> str:
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - LOG_TAIL))
        return handle.read().decode("utf-8", errors="replace")
