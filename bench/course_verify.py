#!/usr/bin/env python3
"""Benchmark the whole course verified end to end: prints measurements, asserts nothing.

Usage (from the repository root):

    .venv/bin/python bench/course_verify.py [--time-scale N] [--lessons DIR] [--json FILE]

Runs ``kube-tutor verify --all --backend practice`` (every lesson of the course, in order, on one fresh practice
cluster in a temporary state directory) and reports: the wall time of the whole run and of each lesson (from its
own lines), the peak RSS of the practice cluster's server (VmHWM, read before it stops) and of the
``kube-tutor verify`` process with its kubectl children (``RUSAGE_CHILDREN``). The cluster is stopped and the
state directory removed in a ``finally``. Default time scale 1 (a learner's pace for the cluster's clock).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KUBE_TUTOR = ROOT / ".venv" / "bin" / "kube-tutor"


def vm_hwm_kb(pid: int) -> int | None:
    """The peak resident set of a process (VmHWM, kB), None when it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii", errors="replace").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def server_pid(state: Path) -> int | None:
    try:
        return int(json.loads((state / "practice" / "server.json").read_text(encoding="utf-8"))["pid"])
    except (OSError, ValueError, KeyError):
        return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", default="1", help="the practice cluster's clock (default 1)")
    parser.add_argument("--lessons", type=Path, default=None, help="a lessons directory (default: lessons/)")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers to this file")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kube-tutor-bench-course-"))
    state = root / "state"
    env = {**os.environ, "KUBE_TUTOR_TIME_SCALE": args.time_scale, "HOME": str(root / "home"), "LANG": "C.UTF-8"}
    if args.lessons is not None:
        env["KUBE_TUTOR_LESSONS_DIR"] = str(args.lessons)
    peak_server = 0
    stop = threading.Event()

    def sample() -> None:  # the server's VmHWM only grows: the last reading before it stops is its peak
        nonlocal peak_server
        while not stop.wait(0.5):
            pid = server_pid(state)
            found = vm_hwm_kb(pid) if pid else None
            if found:
                peak_server = max(peak_server, found)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    try:
        done = subprocess.run([str(KUBE_TUTOR), "--state-dir", str(state), "verify", "--all", "--backend", "practice",
                               "--lang", "en"], capture_output=True, text=True, env=env, check=False,
                              stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        pid = server_pid(state)
        found = vm_hwm_kb(pid) if pid else None
        peak_server = max(peak_server, found or 0)
    finally:
        stop.set()
        subprocess.run([str(KUBE_TUTOR), "--state-dir", str(state), "cluster", "down"], capture_output=True,
                       env=env, check=False)
        shutil.rmtree(root, ignore_errors=True)
    children_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1000
    print(done.stdout, end="")
    if done.returncode != 0:
        print(done.stderr, end="", file=sys.stderr)
    lessons = re.findall(r"^(\d+) of \d+ steps passed in ([\d.]+) s$", done.stdout, re.MULTILINE)
    print(f"[course] verify --all: exit {done.returncode}, {wall:.1f} s wall (time scale {args.time_scale}), "
          f"{len(lessons)} lessons; practice server peak RSS {peak_server / 1000:.0f} MB; kube-tutor verify and "
          f"its kubectl children peak RSS {children_mb:.0f} MB")
    if args.json is not None:
        result: dict[str, Any] = {"exit": done.returncode, "wall_s": wall, "time_scale": args.time_scale,
                                  "lesson_seconds": [float(seconds) for _, seconds in lessons],
                                  "server_peak_rss_mb": peak_server / 1000, "children_peak_rss_mb": children_mb}
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
