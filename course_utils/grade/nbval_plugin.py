"""A pytest plugin, run as a script, that records nbval's verdict on every notebook cell for the grader.

The grader runs ``python nbval_plugin.py <pytest args> --grade-results-fd N --grade-launch FILE notebook.ipynb`` in
a fresh process per submission. Each cell's result is sent as one JSON line, as soon as it is known, over the socket
``N`` the grader opened (never a file: the kernel cannot reach it), so a run killed by the whole-submission timeout
still reports the cells it finished. Four small changes to nbval's kernel handling, made only inside that process:

* the kernel starts as ``FILE`` says: its command wrapped in the sandbox's ``bwrap`` words, ZeroMQ over ``ipc``
  sockets (a sandboxed kernel has no network), interrupts sent as messages (a signal would reach ``bwrap``, not
  the kernel), its own environment and working folder, and the audit channel's socket handed down to it alone;
* waiting for a cell's reply polls the kernel process, so a kernel that dies (``os._exit``, a crash) is reported at
  once instead of after the cell timeout;
* the text a cell prints is capped (``OUTPUT_CAP`` characters per cell), so a 100 MB print cannot exhaust memory;
* the kernel's process id is recorded first, so the grader can kill the kernel's process group on a timeout.

It imports nothing from ``course_utils`` (running it must not import torch) and runs with pytest's plugin
auto-loading disabled, so only nbval and this plugin are active.
"""

from __future__ import annotations

import json
import os
import sys
import time

OUTPUT_CAP = 200_000
"""Characters of printed text kept per cell; the rest is dropped and a marker line says so."""

TRUNCATED = "\n[... output truncated by the grader ...]\n"
POLL_SECONDS = 0.25


class KernelDied(RuntimeError):
    """The kernel process exited while a cell was running."""


def pytest_addoption(parser) -> None:
    """Add ``--grade-results-fd N`` (where the JSON lines go) and ``--grade-launch FILE`` (how to start the kernel)."""
    parser.addoption("--grade-results-fd", type=int, default=None, help="inherited socket for the cell results")
    parser.addoption("--grade-launch", default=None, help="JSON file: how the grader starts the kernel")


def pytest_configure(config) -> None:
    """Patch nbval's kernel handling (see the module docstring)."""
    from nbval import kernel, plugin

    results = config.getoption("--grade-results-fd")
    if results is None:
        raise ValueError("--grade-results-fd N is required")
    config._grade_results = results
    launch = config.getoption("--grade-launch")
    if launch is not None:
        with open(launch, encoding="utf-8") as handle:
            kernel.start_new_kernel = _starter(kernel, json.load(handle))
    original_init = kernel.RunningKernel.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        provisioner = getattr(self.km, "provisioner", None)
        _write(config, {"kind": "kernel", "pid": getattr(provisioner, "pid", None)})

    def await_reply(self, msg_id, timeout=None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            wait = POLL_SECONDS if deadline is None else max(0.0, min(POLL_SECONDS, deadline - time.monotonic()))
            try:
                msg = self.get_message(stream="shell", timeout=wait)
            except kernel.Empty:
                if not self.is_alive():
                    raise KernelDied("the kernel process exited while running this cell") from None
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                if msg["content"]["status"] == "aborted":
                    raise RuntimeError("Kernel aborted execution request")
                return

    original_get = plugin.IPyNbFile.get_kernel_message
    used: dict[str, int] = {}

    def get_kernel_message(self, timeout=None, stream="iopub"):
        msg = original_get(self, timeout=timeout, stream=stream)
        if stream == "iopub" and msg.get("msg_type") in ("stream", "display_data", "execute_result"):
            parent = msg["parent_header"].get("msg_id", "")
            content = msg["content"]
            if msg["msg_type"] == "stream":
                content["text"] = _cap(content.get("text", ""), used, parent)
            else:
                data = content.get("data", {})
                for key in list(data):
                    if isinstance(data[key], str):
                        data[key] = _cap(data[key], used, parent)
        return msg

    kernel.RunningKernel.__init__ = init
    kernel.RunningKernel.await_reply = await_reply
    plugin.IPyNbFile.get_kernel_message = get_kernel_message


def _cap(text: str, used: dict[str, int], parent: str) -> str:
    before = used.get(parent, 0)
    used[parent] = before + len(text)
    if before + len(text) <= OUTPUT_CAP:
        return text
    kept = text[:max(0, OUTPUT_CAP - before)]
    return kept + TRUNCATED if before <= OUTPUT_CAP else ""


def _starter(kernel, launch: dict):
    """Return nbval's ``start_new_kernel`` as the grader's launch settings want it (see the module docstring)."""

    def start_new_kernel(startup_timeout=60, kernel_name="python", **kwargs):
        manager = kernel.KernelManager(kernel_name=kernel_name, kernel_spec_manager=kernel.NbvalKernelspecManager())
        spec = manager.kernel_spec
        spec.argv = [*launch["prefix"], *spec.argv, *launch["kernel_args"]]
        spec.interrupt_mode = "message"
        spec.env = {}
        manager.transport, manager.ip = "ipc", launch["ipc"]
        manager.connection_file = launch["connection_file"]
        kwargs.update(cwd=launch["cwd"], env=dict(launch["env"]))
        if launch["pass_fds"]:
            kwargs["pass_fds"] = tuple(launch["pass_fds"])
        try:
            manager.start_kernel(**kwargs)
        finally:
            for fd in launch["pass_fds"]:   # from now on only the kernel holds the audit channel
                os.close(fd)
            launch["pass_fds"] = []
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=startup_timeout)
        except RuntimeError:
            client.stop_channels()
            manager.shutdown_kernel()
            raise
        return manager, client

    return start_new_kernel


def pytest_unconfigure(config) -> None:
    """Close the results socket."""
    fd = getattr(config, "_grade_results", None)
    if fd is not None:
        os.close(fd)
        config._grade_results = None


def _write(config, record: dict) -> None:
    fd = config._grade_results
    if fd is None:
        return
    data = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
    try:
        while data:
            data = data[os.write(fd, data):]
    except OSError:
        pass   # the grader went away; nothing left to report to


def pytest_runtest_makereport(item, call):
    """Record the setup failure or the call result of every notebook cell (one JSON line each)."""
    from nbval.plugin import IPyNbCell

    if not isinstance(item, IPyNbCell) or call.when == "teardown":
        return None
    if call.when == "setup" and call.excinfo is None:
        return None
    record = {"kind": "cell", "cell": item.cell_num, "phase": call.when}
    if call.excinfo is None:
        record["outcome"] = "passed"
    elif call.excinfo.errisinstance(_skip_exception()) and not _is_xfail(call):
        record["outcome"] = "skipped"
    else:
        record["outcome"] = "failed"
        record.update(_describe(call.excinfo.value, item))
    _write(item.config, record)
    return None


def _clip(text: str, limit: int) -> str:
    """Keep the head and, mostly, the tail of a long text (where the end of a run and its errors are)."""
    if len(text) <= limit:
        return text
    head = limit // 4
    return f"{text[:head]}\n[... {len(text) - limit} characters left out ...]\n{text[-(limit - head):]}"


def _skip_exception():
    import pytest
    return pytest.skip.Exception


def _is_xfail(call) -> bool:
    import pytest
    return call.excinfo.errisinstance(pytest.xfail.Exception)


def _describe(error: BaseException, item) -> dict:
    """Classify a cell failure: ``error`` (with ename/evalue), ``timeout``, ``output_mismatch``, ``kernel_died``,
    ``kernel_dead`` (not run) or ``grader`` (anything else), with the text the cell printed."""
    message = str(error)
    outputs = item.test_outputs or []
    printed = "".join(out.get("text", "") for out in outputs if out.get("output_type") == "stream")
    errors = [out for out in outputs if out.get("output_type") == "error"]
    record = {"message": message[:2000], "printed": _clip(printed, 20_000)}
    if isinstance(error, KernelDied):
        record["reason"] = "kernel_died"
    elif message.startswith("Timeout of"):
        record["reason"] = "timeout"
    elif message == "Kernel dead on test start":
        record["reason"] = "kernel_dead"
    elif message == "Cell outputs differ":
        record["reason"] = "output_mismatch"
        record["expected"] = "".join(out.get("text", "") for out in item.cell.outputs
                                     if out.get("output_type") == "stream")[:2000]
    elif errors:
        record["reason"] = "error"
        record["ename"] = str(errors[-1].get("ename", ""))[:200]
        record["evalue"] = str(errors[-1].get("evalue", ""))[:8000]
    else:
        record["reason"] = "grader"
        record["message"] = f"{type(error).__name__}: {message}"[:2000]
    return record


def main(argv: list[str]) -> int:
    """Run pytest with this plugin registered; return pytest's exit code."""
    import pytest
    return int(pytest.main(argv, plugins=[sys.modules[__name__]]))


if __name__ == "__main__":
    # Run as a script: its folder would shadow top-level modules, so take it off the import path first.
    if sys.path and os.path.abspath(sys.path[0]) == os.path.dirname(os.path.abspath(__file__)):
        del sys.path[0]
    sys.exit(main(sys.argv[1:]))
