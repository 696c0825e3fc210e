"""GPU report: every solution notebook on one device, the non-local block at video scale, the capstone at GPU scale.

    python benchmarks/gpu_report.py                          # on get_device(): the GPU when there is one
    python benchmarks/gpu_report.py --out benchmarks/results # also write the report there, named by date and device
    python benchmarks/gpu_report.py --quick --device cpu     # CI: one short notebook, small blocks (about 30 s)

Three parts:

1. every notebook of ``solutions/``, executed on a copy (the solutions are not modified) in a kernel whose
   ``COURSE_DEVICE`` is the chosen device: wall time, and whether every check cell printed its pass line. Notebook 06
   picks its own scale from the device (``"gpu"`` on CUDA: more and larger videos, wider networks, more epochs);
2. the non-local block, naive against fast, forward pass, at ``(1, 128, 16, 28, 28)`` (naive and fast) and
   ``(1, 64, 32, 56, 56)`` (fast only: the naive block's N x N matrices exceed the memory budget), every pairwise
   function, with ``benchmarks/non_local.py``'s own measurement (on CUDA the fast embedded/gaussian block is
   ``scaled_dot_product_attention`` with scale 1);
3. the capstone's results table, as notebook 06 printed it at that scale.

``--quick`` skips every notebook but the shortest one (so the capstone too) and measures the blocks at small shapes
only, ``(1, 16, 4, 8, 8)`` and ``(1, 8, 8, 8, 8)``; it checks that the report runs, not how fast a GPU is.
"""

from __future__ import annotations

import argparse
import copy
import datetime
import importlib.util
import os
import platform
import re
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import nbclient
import torch

from course_utils.authoring import contract
from course_utils.authoring.commands import solution_paths
from course_utils.device import get_device
from course_utils.non_local.block import MODES

HERE = Path(__file__).resolve().parent
FULL_SHAPES = ((1, 128, 16, 28, 28), (1, 64, 32, 56, 56))
QUICK_SHAPES = ((1, 16, 4, 8, 8), (1, 8, 8, 8, 8))
QUICK_NOTEBOOK = "04_receptive_fields"  # the shortest notebook
CAPSTONE = "06_capstone"
PASS = re.compile(r"^✔ (\S+): (\d+)/(\d+) checks passed$", re.MULTILINE)


def _block_benchmark():
    """``benchmarks/non_local.py`` as a module (its ``run_case`` measures one shape and mode)."""
    spec = importlib.util.spec_from_file_location("non_local_benchmark", HERE / "non_local.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def device_name(device: torch.device) -> str:
    """The accelerator's name, or the CPU's, for the report's header and file name."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.processor() or platform.machine()} CPU, {os.cpu_count()} cores"


def run_notebook(path: Path, device: torch.device, timeout: int) -> dict[str, object]:
    """Execute a copy of a solution notebook on ``device``; return its seconds, checks, errors and printed text."""
    notebook = copy.deepcopy(contract.read_notebook(path))
    os.environ["COURSE_DEVICE"] = str(device)  # the kernel inherits it; get_device() reads it
    client = nbclient.NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                                     record_timing=False, resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    checks = passed = errors = 0
    printed = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        text = "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")
        printed.append(text)
        errors += sum(output.output_type == "error" for output in cell.outputs)
        if contract.role(cell) == "check":
            checks += 1
            passed += bool(PASS.search(text))
    return {"seconds": seconds, "checks": checks, "passed": passed, "errors": errors, "printed": printed}


def notebook_rows(device: torch.device, *, quick: bool, timeout: int) -> tuple[list[list[str]], list[str]]:
    """One row per solution notebook; and the capstone's printed results table (empty when it did not run)."""
    rows, capstone = [], []
    for path in solution_paths():
        if quick and path.stem != QUICK_NOTEBOOK:
            rows.append([path.stem, device.type, "-", "-", "skipped (--quick)"])
            continue
        print(f"  running {path.stem} ...", file=sys.stderr, flush=True)
        run = run_notebook(path, device, timeout)
        verdict = "yes" if run["passed"] == run["checks"] and not run["errors"] else "NO"
        scale = next((m.group(1) for text in run["printed"] if (m := re.search(r"^scale '(\w+)'", text, re.M))), "-")
        rows.append([path.stem, device.type, scale, f"{run['seconds']:.1f}",
                     f"{verdict}: {run['passed']}/{run['checks']} checks, {run['errors']} errors"])
        if path.stem == CAPSTONE:
            capstone = next((text.splitlines() for text in run["printed"] if text.startswith("model ")), [])
    return rows, capstone


def block_rows(device: torch.device, *, quick: bool) -> list[list[str]]:
    """The non-local block, naive against fast, forward pass, every mode, at the report's shapes."""
    benchmark = _block_benchmark()
    options = SimpleNamespace(repeats=2 if quick else 5, max_seconds=2.0 if quick else 20.0, budget_gb=8.0,
                              full=False)
    rows = []
    for shape in QUICK_SHAPES if quick else FULL_SHAPES:
        for mode in MODES:
            print(f"  block {shape} {mode} ...", file=sys.stderr, flush=True)
            cells = benchmark.run_case(shape, mode, False, device, options)
            rows.append([device.type, "x".join(map(str, shape)), mode, *cells])
    return rows


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    """Rows as aligned text columns under a header."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return [" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            for row in [header, ["-" * width for width in widths], *rows]]


def report(device: torch.device, *, quick: bool, timeout: int) -> list[str]:
    """The whole report, as lines of text."""
    today = datetime.date.today().isoformat()
    lines = [f"# GPU report, {today}: {device_name(device)} ({device})", "",
             f"torch {torch.__version__}, Python {platform.python_version()}, "
             f"{'quick mode (one notebook, small blocks)' if quick else 'full mode'}", "", "## Notebooks", ""]
    rows, capstone = notebook_rows(device, quick=quick, timeout=timeout)
    lines += table(["notebook", "device", "scale", "seconds", "every check passed"], rows)
    lines += ["", "## Non-local block, forward pass (naive vs fast)", ""]
    lines += table(["device", "shape", "mode", "naive", "fast", "fast/naive", "naive peak", "fast peak",
                    "peak ratio", "est GB", "notes"], block_rows(device, quick=quick))
    lines += ["", "## Capstone (notebook 06) at its scale on this device", ""]
    lines += capstone or ["not run (--quick)" if quick else "no results table found in notebook 06's output"]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default=None, help="e.g. cuda, cuda:1, cpu (default: get_device())")
    parser.add_argument("--quick", action="store_true", help="one short notebook and small block shapes (for CI)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per notebook cell")
    parser.add_argument("--out", type=Path, default=None, help="also write the report into this folder")
    args = parser.parse_args(argv)
    try:
        device = get_device() if args.device is None else torch.device(args.device)
    except RuntimeError as error:
        parser.error(f"--device {args.device!r}: {error}")
    if device.type == "cuda" and not torch.cuda.is_available():
        parser.error(f"--device {args.device!r}: no CUDA device is available here")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        parser.error(f"--device {args.device!r}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    lines = report(device, quick=args.quick, timeout=args.timeout)
    print("\n".join(lines))
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", device_name(device)).strip("-").lower()
        path = args.out / f"gpu_report_{datetime.date.today().isoformat()}_{slug}.md"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"written to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
