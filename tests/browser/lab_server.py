"""Start a throw-away JupyterLab server for the browser tests, and stop it (and its kernels) by their PIDs.

The server is the ``jupyter-lab`` executable next to the Python that runs the tests, bound to 127.0.0.1 on a free
port, protected by a random token, with its root, settings, workspaces and runtime files in a temporary folder.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# User settings written before start: no news/update pop-ups over the notebook; no windowing, so that every cell
# (and its outputs) is in the DOM, where the tests look for errors and widgets; no blank space after the last cell.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                         "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none",
                                                                    "scrollPastEnd": False},
}


@dataclass
class LabServer:
    """A running ``jupyter-lab`` process and where to reach it."""

    process: subprocess.Popen
    port: int
    token: str
    root_dir: Path
    log_path: Path
    kernel_pids: set[int] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def api(self, method: str, path: str, *, timeout: float = 10.0) -> object:
        """Call the server's REST API with the token; return the decoded JSON body (None when empty)."""
        request = urllib.request.Request(self.base_url + path, method=method,
                                         headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
        return json.loads(body) if body else None

    def log_tail(self, num_chars: int = 4000) -> str:
        """The end of the server's combined stdout/stderr log."""
        text = self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""
        return text[-num_chars:]

    def remember_kernels(self) -> None:
        """Record the PIDs of the server's current child processes (its kernels), to stop them at the end."""
        self.kernel_pids |= set(_descendants(self.process.pid))

    def shutdown_sessions(self, path_suffix: str | None = None) -> None:
        """Shut down the sessions (and kernels) of notebooks whose path ends with ``path_suffix`` (all if None)."""
        self.remember_kernels()
        for session in self.api("GET", "/api/sessions"):
            if path_suffix is None or session.get("path", "").endswith(path_suffix):
                self.api("DELETE", f"/api/sessions/{session['id']}", timeout=30.0)


def find_jupyter_lab() -> str:
    """Return the ``jupyter-lab`` executable of the running Python's environment (else the one on PATH)."""
    beside = Path(sys.executable).parent / "jupyter-lab"
    if beside.exists():
        return str(beside)
    found = shutil.which("jupyter-lab")
    if found is None:
        raise FileNotFoundError("jupyter-lab is not installed (pip install jupyterlab)")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_lab(work_dir: Path, *, python_path: Path, startup_timeout: float = 90.0) -> LabServer:
    """Start ``jupyter-lab`` serving ``work_dir / "root"``; return once its API answers.

    Args:
        work_dir: an empty temporary folder; the server's root, settings and runtime files go below it.
        python_path: a folder put first on the kernels' PYTHONPATH (the repository, for ``course_utils``).
        startup_timeout: seconds to wait for the API before giving up.

    Returns:
        The running server. The caller must call :func:`stop_lab` (in a ``finally``).
    """
    root = work_dir / "root"
    root.mkdir(exist_ok=True)
    settings = work_dir / "lab-settings"
    for name, values in LAB_SETTINGS.items():
        target = settings / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(python_path)] + [p for p in [env.get("PYTHONPATH")] if p])
    env["JUPYTER_CONFIG_DIR"] = str(work_dir / "config")          # ignore the user's own Jupyter config
    env["JUPYTER_RUNTIME_DIR"] = str(work_dir / "runtime")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(work_dir / "workspaces")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"                    # quiets a debugger notice in kernel logs
    env.pop("MPLBACKEND", None)                                    # notebooks must get the inline backend
    token = secrets.token_hex(16)
    port = free_port()
    log_path = work_dir / "jupyter-lab.log"
    command = [find_jupyter_lab(), "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--port-retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               "--allow-root", "--ServerApp.terminals_enabled=False",
               "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate"]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    server = LabServer(process=process, port=port, token=token, root_dir=root, log_path=log_path)
    deadline = time.monotonic() + startup_timeout
    while True:
        if process.poll() is not None:
            stop_lab(server)
            raise RuntimeError(f"jupyter-lab exited with status {process.returncode}:\n{server.log_tail()}")
        try:
            server.api("GET", "/api/status", timeout=2.0)
            return server
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        if time.monotonic() > deadline:
            stop_lab(server)
            raise TimeoutError(f"jupyter-lab did not answer within {startup_timeout:.0f} s:\n{server.log_tail()}")
        time.sleep(0.5)


def stop_lab(server: LabServer, *, grace: float = 10.0) -> list[int]:
    """Stop the server and every kernel it started, by PID; return the PIDs that had to be killed hard.

    Kernels run in process groups of their own, so their PIDs are collected from the process tree (and from
    :meth:`LabServer.remember_kernels`) before the server's group is signalled.
    """
    pids = set(server.kernel_pids)
    if server.process.poll() is None:
        pids |= set(_descendants(server.process.pid))
        try:                                                     # ask politely: it shuts its kernels down
            server.api("POST", "/api/shutdown", timeout=5.0)
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        try:
            server.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(server.process.pid, signal.SIGTERM)
    pids.add(server.process.pid)
    for pid in pids:
        _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
        time.sleep(0.2)
    killed = [pid for pid in sorted(pids) if _alive(pid)]
    for pid in killed:
        _signal_group(pid, signal.SIGKILL)
    try:
        server.process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    still = [pid for pid in killed if _alive(pid)]
    if still:
        raise RuntimeError(f"processes {still} survived SIGKILL")
    return killed


def _signal_group(pid: int, sig: int) -> None:
    """Send ``sig`` to the process group led by ``pid`` (the server and each kernel lead their own)."""
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        try:                                      # not a group leader: signal the process alone
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def _alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            state = stat.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state != "Z"


def _descendants(pid: int) -> list[int]:
    """PIDs of every live descendant of ``pid`` (read from /proc; Linux only)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found
