"""Execute every solution notebook once and report its wall time against the course's budget.

Budget on a 2-core CPU: each notebook at most 60 s (the capstone, 06, at most 90 s), the whole course at most 3
minutes. The notebooks are run one
after another, on copies (the solutions are not modified), with the same kernel the tests use.

    python benchmarks/notebook_times.py [NOTEBOOK ...]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import nbclient

from course_utils.authoring import contract
from course_utils.authoring.commands import solution_paths

PER_NOTEBOOK_S = 60.0
CAPSTONE_S = 90.0
TOTAL_S = 180.0


def budget(name: str) -> float:
    """Return the time budget in seconds of the notebook called ``name`` (e.g. ``"06_capstone"``)."""
    return CAPSTONE_S if name.startswith("06_") else PER_NOTEBOOK_S


def time_notebook(path: Path) -> float:
    """Execute a copy of the notebook at ``path`` and return its wall time in seconds."""
    notebook = copy.deepcopy(contract.read_notebook(path))
    client = nbclient.NotebookClient(notebook, timeout=600, kernel_name="python3", record_timing=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Time the notebooks named on the command line (default: all) and print the table; return 0."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook in solutions/")
    args = parser.parse_args(argv)
    paths = args.notebooks or solution_paths()
    rows = []
    for path in paths:
        seconds = time_notebook(path)
        rows.append((path.stem, seconds))
        print(f"  ran {path.stem} in {seconds:.1f} s", file=sys.stderr)
    width = max(len(name) for name, _ in rows)
    print(f"{'notebook':<{width}}  seconds  budget")
    for name, seconds in rows:
        verdict = "met" if seconds <= budget(name) else "MISSED"
        print(f"{name:<{width}}  {seconds:7.1f}  {verdict} (<= {budget(name):.0f} s)")
    total = sum(seconds for _, seconds in rows)
    verdict = "met" if total <= TOTAL_S else "MISSED"
    print(f"{'total':<{width}}  {total:7.1f}  {verdict} (<= {TOTAL_S:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
