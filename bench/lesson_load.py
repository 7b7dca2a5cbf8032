#!/usr/bin/env python3
"""Benchmark the lesson loader: prints measurements, asserts nothing.

Usage (from the repository root):

    .venv/bin/python bench/lesson_load.py [--runs N] [--json FILE]

Items:
  1. loading the seed lesson (``load_lesson``, in process, warm): CPU and wall time, median and minimum of N;
  2. ``kube-tutor lint`` of each hostile lesson of tests/lesson/test_hostile.py (huge, deeply nested, alias
     fan-out, long member chains, non-ASCII floods...), under the tests' limits (500 MB, 2 s of CPU): wall time,
     CPU time and peak memory of the child, against issue 9's "a one-line error within 2 s and under 500 MB"
     (wall time depends on the machine's load, so it is measured here, not asserted by the tests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.lesson.test_hostile import SHAPES, lint_limited  # noqa: E402
from tutor.lesson import load_lesson  # noqa: E402

SEED = ROOT / "lessons" / "rolling-update.yaml"
TARGET_WALL_S = 2.0
TARGET_MEMORY_MB = 500.0


def bench_seed(runs: int) -> dict[str, Any]:
    load_lesson(SEED)  # warm: imports, the Markdown parser, the CEL library
    cpu, wall = [], []
    for _ in range(runs):
        started_cpu, started = time.process_time(), time.perf_counter()
        load_lesson(SEED)
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    print(f"[1] load_lesson({SEED.relative_to(ROOT)}), {runs} runs: CPU median {statistics.median(cpu) * 1000:.1f} ms "
          f"(min {min(cpu) * 1000:.1f}), wall median {statistics.median(wall) * 1000:.1f} ms (min {min(wall) * 1000:.1f})")
    return {"cpu_median_ms": statistics.median(cpu) * 1000, "cpu_min_ms": min(cpu) * 1000,
            "wall_median_ms": statistics.median(wall) * 1000, "wall_min_ms": min(wall) * 1000}


def bench_hostile() -> dict[str, Any]:
    print(f"[2] kube-tutor lint of each hostile lesson (target: one line, <= {TARGET_WALL_S:g} s, "
          f"<= {TARGET_MEMORY_MB:g} MB)")
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        for shape in SHAPES:
            content = shape.build()
            file = Path(folder) / f"{shape.name}.yaml"
            file.write_bytes(content if isinstance(content, bytes) else content.encode())
            run = lint_limited(file)
            peak_mb = run.peak_bytes / 2**20
            within = (run.status == 1 and len(run.lines) == 1 and run.wall_s <= TARGET_WALL_S
                      and peak_mb <= TARGET_MEMORY_MB)
            print(f"    {shape.name:24} {file.stat().st_size:>10} B  exit {run.status}  {len(run.lines)} line(s)  "
                  f"wall {run.wall_s:.2f} s  CPU {run.cpu_s:.2f} s  peak {peak_mb:.0f} MB  {'ok' if within else 'OVER'}")
            results[shape.name] = {"bytes": file.stat().st_size, "status": run.status, "lines": len(run.lines),
                                   "wall_s": run.wall_s, "cpu_s": run.cpu_s, "peak_mb": peak_mb, "within": within}
    worst = max(results.values(), key=lambda item: item["wall_s"])
    print(f"    slowest {worst['wall_s']:.2f} s wall; largest {max(r['peak_mb'] for r in results.values()):.0f} MB; "
          f"{sum(not r['within'] for r in results.values())} over target")
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/lesson_load.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50, help="loads of the seed lesson (default 50)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write every number as JSON")
    args = parser.parse_args(argv)
    print(f"machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    results = {"seed": bench_seed(args.runs), "hostile": bench_hostile()}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
