"""Benchmark: the naive non-local block (the lecture's, with the N x N matrix) against the fast one.

    python3 benchmarks/non_local.py                 # every shape and mode, forward and forward+backward
    python3 benchmarks/non_local.py --shapes 1,64,4,14,14 --modes dot --repeats 3

float32, time = median of interleaved runs (naive, fast, naive, fast, ...; one untimed warm-up each), peak memory
measured as described in course_utils.non_local.cost (CUDA allocator peak on a GPU, resident-set high-water mark on a
Linux CPU). A case whose naive intermediates would exceed the memory budget (8 GB by default) is not run for naive.
Runs on the CPU, and on the GPU as well when there is one. Goals (issue 7) are for the 2-core CPU.
"""

from __future__ import annotations

import argparse
import os
import platform

import torch

from course_utils.device import get_device
from course_utils.non_local.block import MODES, NonLocalBlock
from course_utils.non_local.cost import block_step, can_measure_memory, compare_costs, naive_intermediate_bytes

SHAPES = ((1, 64, 4, 14, 14), (1, 256, 8, 14, 14), (1, 512, 8, 14, 14), (1, 128, 16, 28, 28), (1, 64, 32, 56, 56))
GB = 1e9


def goals(shape: tuple[int, ...], mode: str, backward: bool) -> list[tuple[str, float]]:
    """The issue's CPU goals for one case: (metric, upper limit) with metric 'time ratio', 'memory ratio', 'fast s'."""
    if backward:
        return []
    if shape == (1, 128, 16, 28, 28) and mode in ("gaussian", "embedded", "dot"):
        return [("time ratio", 1.0 if mode != "dot" else 0.1), ("memory ratio", 0.05)]
    if shape == (1, 256, 8, 14, 14) and mode == "concatenate":
        return [("time ratio", 0.1), ("memory ratio", 0.05)]
    if shape == (1, 64, 32, 56, 56):
        return [("fast s", 1.0 if mode in ("dot", "concatenate") else 30.0)]
    return []


def make_blocks(shape: tuple[int, ...], mode: str, device: torch.device) -> tuple[NonLocalBlock, NonLocalBlock]:
    """A naive block with seeded non-zero weights and a fast block with the same state_dict, eval mode, float32."""
    generator = torch.Generator().manual_seed(0)
    naive = NonLocalBlock(shape[1], mode=mode)
    with torch.no_grad():
        for param in naive.parameters():
            param.copy_(torch.randn(param.shape, generator=generator) / max(param[0].numel(), 1) ** 0.5)
    fast = NonLocalBlock(shape[1], mode=mode, impl="fast")
    fast.load_state_dict(naive.state_dict())
    return naive.to(device).eval(), fast.to(device).eval()


def fmt_seconds(value: float | None) -> str:
    """Seconds as ``"12.3 ms"`` below one second, else ``"1.23 s"``; ``"-"`` for None."""
    return "-" if value is None else (f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s")


def fmt_bytes(value: int | None) -> str:
    """Bytes in MiB, ``"-"`` for None."""
    return "-" if value is None else f"{value / 2**20:.1f} MiB"


def run_case(shape: tuple[int, ...], mode: str, backward: bool, device: torch.device,
             args: argparse.Namespace) -> list[str]:
    """Time one case on one device; return the table's cells from "naive" to "notes"."""
    estimate = naive_intermediate_bytes(mode, shape, backward=backward)
    slow_softmax = mode in ("gaussian", "embedded") and backward and shape[2] * shape[3] * shape[4] > 50_000
    if slow_softmax and not args.full:
        return [fmt_seconds(None)] * 2 + ["-"] + ["-"] * 3 + [f"{estimate / GB:.1f}",
                                                             "not run: minutes on a CPU (use --full)"]
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1)).to(device)
    naive, fast = make_blocks(shape, mode, device)
    steps = {"fast": block_step(fast, x, backward=backward)}
    over_budget = estimate > args.budget_gb * GB
    if not over_budget:
        steps = {"naive": block_step(naive, x, backward=backward), **steps}
    costs = compare_costs(steps, device, repeats=args.repeats, max_seconds=args.max_seconds)
    fast_cost = costs["fast"]
    naive_cost = costs.get("naive")
    time_ratio = fast_cost.seconds / naive_cost.seconds if naive_cost else None
    memory_ratio = (fast_cost.peak_bytes / naive_cost.peak_bytes
                    if naive_cost and naive_cost.peak_bytes and fast_cost.peak_bytes is not None else None)
    verdicts = []
    if device.type == "cpu":
        values = {"time ratio": time_ratio, "memory ratio": memory_ratio, "fast s": fast_cost.seconds}
        for metric, limit in goals(shape, mode, backward):
            value = values[metric]
            mark = "n/a" if value is None else ("met" if value <= limit else "MISSED")
            verdicts.append(f"{metric} <= {limit:g}: {mark}")
    note = "naive out of memory budget" if over_budget else ""
    runs = f"{naive_cost.runs}/{fast_cost.runs}" if naive_cost else f"-/{fast_cost.runs}"
    return [fmt_seconds(naive_cost.seconds if naive_cost else None), fmt_seconds(fast_cost.seconds),
            "-" if time_ratio is None else f"{time_ratio:.3f}",
            fmt_bytes(naive_cost.peak_bytes if naive_cost else None), fmt_bytes(fast_cost.peak_bytes),
            "-" if memory_ratio is None else f"{memory_ratio:.4f}", f"{estimate / GB:.1f}",
            "; ".join(filter(None, [note, *verdicts, f"runs {runs}"]))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shapes", nargs="+", default=[",".join(map(str, s)) for s in SHAPES],
                        help="input shapes B,C,T,H,W")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--repeats", type=int, default=5, help="timed rounds per case (at most)")
    parser.add_argument("--max-seconds", type=float, default=20.0, help="time budget of one case's timed rounds")
    parser.add_argument("--budget-gb", type=float, default=8.0, help="skip naive when its intermediates exceed this")
    parser.add_argument("--full", action="store_true", help="also run forward+backward of the softmax modes at "
                                                             "N > 50,000 (minutes each on a CPU)")
    args = parser.parse_args()
    shapes = [tuple(int(v) for v in text.split(",")) for text in args.shapes]
    if any(len(shape) != 5 for shape in shapes):
        parser.error("every shape needs 5 numbers B,C,T,H,W")
    devices = [torch.device("cpu")]
    if get_device().type != "cpu":
        devices.append(get_device())
    print(f"non-local block benchmark, float32; {platform.processor() or platform.machine()}, {os.cpu_count()} "
          f"cores, torch {torch.__version__} with {torch.get_num_threads()} threads; load average at start "
          f"{os.getloadavg()[0]:.1f}")
    print("time: median of interleaved runs (naive, fast, ...), one untimed warm-up each; 'forward' runs under "
          "no_grad, 'fwd+bwd' is forward plus backward of z.sum()")
    print("peak: extra memory during one call: CUDA allocator peak on a GPU, resident-set high-water mark "
          "(/proc/self/status VmHWM after clear_refs, allocations >= 64 KiB served by mmap) on a Linux CPU; "
          "est GB: analytic size of the naive N x M intermediates (decides the budget)")
    header = ["device", "shape", "mode", "pass", "naive", "fast", "fast/naive", "naive peak", "fast peak",
              "peak ratio", "est GB", "notes"]
    for device in devices:
        if not can_measure_memory(device):
            print(f"({device.type}: peak memory cannot be measured here; only the estimate is printed)")
        rows = []
        for shape in shapes:
            for mode in args.modes:
                for backward in (False, True):
                    cells = run_case(shape, mode, backward, device, args)
                    row = [device.type, "x".join(map(str, shape)), mode, "fwd+bwd" if backward else "forward", *cells]
                    rows.append(row)
                    print(" | ".join(row), flush=True)
        print()
        widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
        for row in [header, ["-" * w for w in widths], *rows]:
            print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)))
        print()
    print(f"load average at end {os.getloadavg()[0]:.1f} (other processes share this machine: timings are inflated)")


if __name__ == "__main__":
    main()
