"""benchmarks/gpu_report.py runs in CI: its quick mode on the CPU prints every part of the report.

Quick mode executes one short solution notebook and measures the non-local block at small shapes; the full report
(every notebook, the blocks at video scale, the capstone at its GPU scale) is for a machine with a GPU.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "gpu_report.py"


def test_quick_report_on_the_cpu():
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--device", "cpu"], capture_output=True,
                            text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.splitlines()
    notebooks = [line for line in lines if line.split(" | ")[0].strip()[:3] in {f"{n:02d}_" for n in range(100)}]
    names = sorted(path.stem for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
    assert [row.split(" | ")[0].strip() for row in notebooks] == names
    ran = [row for row in notebooks if "skipped" not in row]
    assert len(ran) == 1 and ran[0].startswith("04_receptive_fields") and "| yes: " in ran[0], ran
    blocks = [line for line in lines if line.startswith("cpu    | ") and "x" in line.split(" | ")[1]]
    assert len(blocks) == 8 and {row.split(" | ")[2].strip() for row in blocks} == {
        "gaussian", "embedded", "dot", "concatenate"}
    assert "## Capstone (notebook 06) at its scale on this device" in lines and "not run (--quick)" in lines


def test_a_missing_gpu_is_refused_clearly():
    result = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--device", "cuda:7"], capture_output=True,
                            text=True, cwd=ROOT, timeout=120)
    if result.returncode == 0:  # a machine with eight GPUs: nothing to refuse
        return
    assert result.returncode == 2 and "--device" in result.stderr, result.stderr[-2000:]
