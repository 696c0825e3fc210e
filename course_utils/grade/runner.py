"""Running nbval on one pristine notebook: a fresh process, a scratch folder, two timeouts, and maybe a sandbox.

Layout of the scratch folder (a new temporary directory per run, removed afterwards)::

    work/       the kernel's working folder, HOME and TMPDIR, where the student's code may write
    ipc/        the kernel's connection file, ZeroMQ ipc sockets and IPYTHONDIR (with the grader's start-up file:
                output cap and audit, run before any cell; changing it later changes nothing)
    grader/     never visible to the kernel: the pristine notebook, an empty pytest.ini, pytest's log

nbval runs in a child process (``nbval_plugin``) outside any sandbox and starts the kernel; with ``sandbox="bwrap"``
the kernel's command is wrapped in ``bwrap`` (``sandbox``). The plugin sends each cell's result to the grader over
a socket it inherited, and the kernel's audit hook sends its findings over another: neither is a file that the
kernel could write. The whole-submission timeout kills pytest's process group and the kernel's.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course_utils.grade import sandbox as bwrap
from course_utils.grade.nbval_plugin import OUTPUT_CAP, TRUNCATED

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "nbval_plugin.py"
KERNEL_FILES = {"audit": HERE / "kernel_audit.py", "watch": HERE / "kernel_watch.py", "fresh": HERE / "fresh.py"}
LOG_TAIL = 4000
AUDIT_LIMIT = 4_000_000
STARTUP_ATTEMPTS = 3
"""Runs tried when the kernel dies or hangs while starting, before any cell ran."""

KERNEL_STARTUP = f'''\
# Written by the course grader into the kernel's IPYTHONDIR; runs before any notebook cell.
def _grader_start():
    import json
    import os
    import sys

    # The output cap: what one cell prints is cut at OUTPUT_CAP characters, so a 100 MB print neither floods the
    # grader nor exhausts memory (nbval_plugin caps again what reaches nbval, rich output included).
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
    config = os.environ.pop("COURSE_GRADER_AUDIT", None)
    if config is not None:   # the runtime audit (kernel_audit), in namespaces of its own
        config = json.loads(config)
        spaces = {{}}
        for name in ("watch", "audit"):
            spaces[name] = {{"__name__": "course_grader_" + name}}
            with open(config["sources"][name], "rb") as handle:
                exec(compile(handle.read(), config["sources"][name], "exec"), spaces[name])
        spaces["audit"]["install"](config, spaces["watch"])


_grader_start()
del _grader_start
'''


@dataclass
class RunResult:
    """What one nbval run reported.

    ``cells`` maps nbval's code-cell number to the plugin's record; ``killed`` says the whole-submission timeout
    struck; ``scratch`` is the run's temporary folder (to scrub from messages); ``audit`` holds the audit
    channel's lines (empty when the audit was off); ``sandbox`` what the kernel ran under.
    """

    cells: dict[int, dict] = field(default_factory=dict)
    killed: bool = False
    returncode: int | None = None
    log_tail: str = ""
    scratch: str = ""
    kernel_pid: int | None = None
    audit: list[str] = field(default_factory=list)
    sandbox: str = "none"


@dataclass(frozen=True)
class KernelSetup:
    """How to start the kernel: ``sandbox`` (``"bwrap"`` or ``"none"``), the audit's settings (None: no audit) and
    the paths the kernel must not see or touch (course root, output folder, submission folders)."""

    sandbox: str = "none"
    audit: dict | None = None
    hidden: tuple[Path, ...] = ()


def run_nbval(notebook: nbformat.NotebookNode, *, name: str, sanitize_file: Path, course_root: Path,
              cell_timeout: float, timeout: float, threads: int | None = None,
              setup: KernelSetup = KernelSetup()) -> RunResult:
    """Run nbval (lax mode, current environment) on ``notebook`` in a fresh process and collect per-cell results.

    Args:
        notebook: the pristine notebook to run.
        name: the notebook's file stem (``"01_frame_sampling"``).
        sanitize_file: nbval's sanitizer file.
        course_root: put first on the kernel's ``PYTHONPATH`` so it imports this course's ``course_utils``.
        cell_timeout: seconds one cell may run (nbval interrupts it).
        timeout: seconds the whole run may take (then both process groups are killed).
        threads: if given, ``OMP_NUM_THREADS`` for the kernel (unless the caller's environment sets it).
        setup: sandbox and audit (see ``KernelSetup``).

    Returns:
        The per-cell records, the audit lines and how the run ended.
    """
    if cell_timeout <= 0 or timeout <= 0:
        raise ValueError(f"cell_timeout and timeout must be > 0 seconds, got {cell_timeout} and {timeout}")
    for _ in range(STARTUP_ATTEMPTS):
        result = _run_once(notebook, name=name, sanitize_file=sanitize_file, course_root=course_root,
                           cell_timeout=cell_timeout, timeout=timeout, threads=threads, setup=setup)
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
              cell_timeout: float, timeout: float, threads: int | None, setup: KernelSetup) -> RunResult:
    with tempfile.TemporaryDirectory(prefix="course-grade-", ignore_cleanup_errors=True) as scratch:
        root = Path(scratch)
        work, ipc, private = (root / part for part in ("work", "ipc", "grader"))
        for folder in (work, ipc, private):
            folder.mkdir()
        startup = ipc / "ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-grader.py").write_text(KERNEL_STARTUP, encoding="utf-8")
        notebook_path = private / f"{name}.ipynb"
        notebook_path.write_text(nbformat.writes(notebook), encoding="utf-8")
        ini, log, launch_file = private / "pytest.ini", private / "pytest.log", private / "launch.json"
        ini.write_text("[pytest]\n", encoding="utf-8")
        results_in, results_out = socket.socketpair()
        audit_in, audit_out = socket.socketpair() if setup.audit is not None else (None, None)
        kernel_fds = [audit_out.fileno()] if audit_out is not None else []
        launch = _launch(setup, course_root=course_root, root=root, threads=threads, fds=kernel_fds)
        launch_file.write_text(json.dumps(launch), encoding="utf-8")
        command = [sys.executable, str(PLUGIN), "-p", "nbval.plugin", "-p", "no:cacheprovider", "-c", str(ini),
                   "--rootdir", str(private), "-q", "--tb=no", "--nbval-lax", "--nbval-current-env",
                   "--nbval-sanitize-with", str(sanitize_file), "--nbval-cell-timeout", f"{cell_timeout:g}",
                   "--grade-results-fd", str(results_out.fileno()), "--grade-launch", str(launch_file),
                   str(notebook_path)]
        result = RunResult(scratch=scratch, sandbox=setup.sandbox)
        readers = [_reader(results_in), *([_reader(audit_in)] if audit_in is not None else [])]
        env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", JUPYTER_RUNTIME_DIR=str(ipc))
        env.pop("PYTEST_ADDOPTS", None)
        try:
            with open(log, "wb") as log_handle:
                process = subprocess.Popen(command, cwd=private, stdin=subprocess.DEVNULL, stdout=log_handle,
                                           stderr=subprocess.STDOUT, env=env, start_new_session=True,
                                           pass_fds=(results_out.fileno(), *kernel_fds))
                results_out.close()
                if audit_out is not None:
                    audit_out.close()
                try:
                    result.returncode = process.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    result.killed = True
                    _kill_group(process.pid)
                    result.returncode = process.wait()
        finally:
            results_out.close()
            result.kernel_pid = _read_results(_finish(readers[0]), result)
        if result.kernel_pid is not None:   # also ends whatever the student's code left running in its group
            _kill_group(result.kernel_pid)
        result.audit = _finish(readers[1]) if len(readers) > 1 else []
        result.log_tail = _tail(log)
    return result


def _launch(setup: KernelSetup, *, course_root: Path, root: Path, threads: int | None, fds: list[int]) -> dict:
    """Return what the plugin needs to start the kernel: command prefix, environment, folder, ipc path."""
    work, ipc = root / "work", root / "ipc"
    ipython = ipc / "ipython"
    if setup.sandbox == "bwrap":
        env = {key: os.environ[key] for key in ("LANG", "LC_ALL", "MPLBACKEND", "COURSE_DEVICE") if key in os.environ}
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"])
        env.update(HOME=str(work), PYTHONDONTWRITEBYTECODE="1")
    else:
        env = dict(os.environ)
        env.pop("PYTEST_ADDOPTS", None)
    env.update(IPYTHONDIR=str(ipython), TMPDIR=str(work),
               PYTHONPATH=os.pathsep.join(p for p in (str(course_root), env.get("PYTHONPATH", "")) if p))
    env.setdefault("PYTHONHASHSEED", "0")
    if threads is not None:
        env.setdefault("OMP_NUM_THREADS", str(threads))
    if setup.audit is not None:
        env["COURSE_GRADER_AUDIT"] = json.dumps(dict(setup.audit, fd=fds[0], **_audit_paths(setup, root)))
    prefix: list[str] = []
    if setup.sandbox == "bwrap":
        visible = [course_root / "course_utils", *course_root.glob("*.py"), *KERNEL_FILES.values(),
                   *bwrap.python_paths(hidden=[course_root, Path(tempfile.gettempdir()), *setup.hidden])]
        prefix = bwrap.prefix(read_only=[path for path in visible if path.exists()], writable=[work, ipc], cwd=work)
    return {"prefix": prefix, "env": env, "cwd": str(work), "ipc": str(ipc / "kernel"), "pass_fds": fds,
            "connection_file": str(ipc / "kernel.json"),
            "kernel_args": ["--HistoryManager.enabled=False"]}


def _audit_paths(setup: KernelSetup, root: Path) -> dict:
    """The audit's path prefixes for this run (see ``kernel_audit.install``)."""
    own = [f"{root / 'work'}/", f"{root / 'ipc'}/"]
    python = [f"{path}/" for path in bwrap.python_paths(hidden=[])]
    return {"sources": {name: str(path) for name, path in KERNEL_FILES.items()}, "own": own, "python": python,
            "grader": [str(path) for path in KERNEL_FILES.values()],
            "read_ok": [*own, *python, *setup.audit["course"], "/usr/", "/lib", "/etc/fonts/",
                        "/etc/localtime", "/sys/", "/dev/null", "/dev/urandom", "/proc/self/stat", "/proc/cpuinfo",
                        "/proc/meminfo"],
            "write_ok": [*own, "/dev/null"],
            "protected": [[f"{path}/", rule] for path, rule in setup.audit["protected"]]
                         + [[f"{root / 'grader'}/", "files"], [f"{tempfile.gettempdir()}/course-grade-", "files"]]}


def _reader(sock: socket.socket) -> tuple[threading.Thread, socket.socket, list[bytes]]:
    """Read a socket until it closes, in a thread (up to AUDIT_LIMIT bytes; more is dropped)."""
    chunks: list[bytes] = []

    def run() -> None:
        size = 0
        while True:
            try:
                chunk = sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            if size < AUDIT_LIMIT:
                chunks.append(chunk)
                size += len(chunk)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, sock, chunks


def _finish(reader: tuple[threading.Thread, socket.socket, list[bytes]]) -> list[str]:
    """Wait briefly for the reader (a process left behind may hold the other end), then return its lines."""
    thread, sock, chunks = reader
    thread.join(timeout=5)
    if thread.is_alive():
        sock.shutdown(socket.SHUT_RDWR)
        thread.join(timeout=5)
    sock.close()
    return b"".join(chunks).decode("utf-8", errors="replace").splitlines()


def _kill_group(pid: int) -> None:
    """SIGKILL the process group led by ``pid`` (our pytest process, or the kernel: both lead their session)."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass   # the group has already exited


def _read_results(lines: list[str], result: RunResult) -> int | None:
    kernel_pid = None
    for line in lines:
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
