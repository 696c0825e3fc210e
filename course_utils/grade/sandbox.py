"""The sandbox a submission's kernel runs in: bubblewrap (``bwrap``, Linux) when it is installed.

Only the kernel runs inside; nbval and the grader stay outside, so the results they keep are out of its reach. The
kernel gets its own PID, IPC, network, UTS and user namespaces (no network at all; every process it starts dies
with it), no capabilities, a read-only view of the system (``/usr``, the libraries, a few files of ``/etc``), of
the Python environment and of the course package, and one writable scratch folder (its working folder, ``HOME``
and ``TMPDIR``). ``solutions/``, ``notebooks/``, the tests, other submissions and the grader's output are simply
not there. It talks to nbval over ZeroMQ ``ipc`` sockets in a second writable folder that holds nothing else.

``--sandbox auto`` uses bwrap when it is installed and works, and otherwise runs the kernel as a plain process
(each report row says which); ``--sandbox bwrap`` insists; ``--sandbox none`` never uses it.
"""

from __future__ import annotations

import functools
import os
import shutil
import site
import subprocess
import sys
import tempfile
from pathlib import Path

MODES = ("auto", "bwrap", "none")
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "alternatives", "fonts", "passwd",
       "group", "nsswitch.conf", "mime.types")
"""Files of ``/etc`` the kernel may read (libraries, fonts, time zone); the rest of ``/etc`` is not there."""
BASE_FLAGS = ("--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "--proc", "/proc", "--dev", "/dev")


class SandboxError(RuntimeError):
    """``--sandbox bwrap`` was asked for, but bubblewrap is missing or cannot run here."""


def resolve(mode: str) -> tuple[str, str]:
    """Decide the sandbox for a batch: ``(used, note)``, ``used`` being ``"bwrap"`` or ``"none"``.

    Args:
        mode: ``"auto"``, ``"bwrap"`` or ``"none"``.

    Returns:
        What is used, and a note for the reports when ``auto`` fell back to no sandbox (empty otherwise).

    Raises:
        ValueError: for an unknown mode. SandboxError: for ``"bwrap"`` when it cannot be used.
    """
    if mode not in MODES:
        raise ValueError(f"sandbox must be one of {', '.join(MODES)}, got {mode!r}")
    if mode == "none":
        return "none", ""
    problem = _problem()
    if problem is None:
        return "bwrap", ""
    if mode == "bwrap":
        raise SandboxError(f"--sandbox bwrap: {problem}")
    return "none", f"no sandbox: {problem}; the kernel ran as a plain process (see the README)"


@functools.lru_cache(maxsize=1)
def _problem() -> str | None:
    """Return why bwrap cannot be used here, or None when a trial sandbox runs."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap exists only on Linux (this is {sys.platform})"
    binary = shutil.which("bwrap")
    if binary is None:
        return "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    with tempfile.TemporaryDirectory(prefix="course-grade-probe-") as scratch:
        command = prefix(read_only=[Path(sys.executable).resolve().parent], writable=[Path(scratch)],
                         cwd=Path(scratch))
        try:
            done = subprocess.run([*command, "/bin/sh", "-c", "test -w . && ! test -e /etc/shadow"],
                                  capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"bwrap does not run ({type(error).__name__}: {error})"
    if done.returncode != 0:
        return f"bwrap cannot create a sandbox here ({(done.stderr.strip() or 'exit ' + str(done.returncode))[:200]})"
    return None


def prefix(*, read_only: list[Path], writable: list[Path], cwd: Path) -> list[str]:
    """Return the ``bwrap ...`` words put before the kernel's command (the namespaces and mounts above).

    Args:
        read_only: folders and files visible read-only at their own paths.
        writable: folders visible read-write at their own paths.
        cwd: the kernel's working folder.
    """
    words = [shutil.which("bwrap") or "bwrap", *BASE_FLAGS]
    for path in SYSTEM:
        if os.path.islink(path):
            words += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            words += ["--ro-bind", path, path]
    for name in ETC:
        words += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    words += ["--ro-bind-try", "/sys/devices/system/cpu", "/sys/devices/system/cpu"]
    for path in _outermost(read_only):
        words += ["--ro-bind", str(path), str(path)]
    for path in writable:
        words += ["--bind", str(path), str(path)]
    return [*words, "--chdir", str(cwd), "--unsetenv", "JPY_PARENT_PID", "--remount-ro", "/"]


def python_paths(*, hidden: list[Path]) -> list[Path]:
    """Return the folders of the Python installation the kernel needs: interpreter, standard library, packages.

    These are the prefixes of the interpreter and the environment, their site-packages, and the entries of
    ``sys.path`` inside them (never a folder such as the current one that merely sits on ``sys.path``). A folder that
    would reveal one of ``hidden`` (it is, or contains, the course root, the output folder, a submission folder...)
    is left out.
    """
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, str(Path(sys.executable).parent)}
    user = site.getusersitepackages()
    sites = {*site.getsitepackages(), *([user] if isinstance(user, str) else [])}
    roots = {Path(path).resolve() for path in prefixes | sites if os.path.isdir(path)}
    candidates = prefixes | sites | {path for path in sys.path if path and os.path.isdir(path) and (
        "-packages" in path or any(root == Path(path).resolve() or root in Path(path).resolve().parents
                                   for root in roots))}
    found: set[Path] = set()
    for candidate in candidates:
        for path in {Path(candidate).absolute(), Path(candidate).resolve()}:
            if path.exists() and not any(path == h or path in h.parents for h in hidden):
                found.add(path)
    return sorted(found)


def _outermost(paths: list[Path]) -> list[Path]:
    """Drop paths inside another one of the list (bwrap binds the outer folder with everything below)."""
    unique = sorted(set(paths), key=lambda path: (len(path.parts), str(path)))
    kept: list[Path] = []
    for path in unique:
        if not any(parent == path or parent in path.parents for parent in kept):
            kept.append(path)
    return kept
