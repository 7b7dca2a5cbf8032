#!/usr/bin/env python3
"""Measure what a workshop's seats cost the practice cluster: 30 learner seats prepared one after another with
``tutor.backends.seats.prepare_seat`` (namespace, ServiceAccount, RoleBinding, quota, LimitRange, the shared node
reads, a TokenRequest token), then torn down.

Usage (from the repository root):

    .venv/bin/python bench/seats.py [--seats N]

A fresh practice cluster (temporary state directory, time scale 1) in its own process. Prints the time to prepare
each seat (median, slowest, all of them), the kubectl floor (``kubectl version --client``) and how many floors a
seat costs, the server's RSS before and after (VmRSS) and its peak (VmHWM), the time to tear every seat down,
and whether every seat's kubeconfig works (``kubectl auth can-i create deployments`` says yes). It asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tutor import paths  # noqa: E402
from tutor.backends.practice import PracticeBackend  # noqa: E402
from tutor.backends.seats import prepare_seat, seat_names, tear_down_seat  # noqa: E402


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/seats.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seats", type=int, default=30)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kt-seats-bench-"))
    backend = PracticeBackend(work / "state", time_scale=1.0)
    os.environ["HOME"] = str(work / "home")  # kubectl's own files go there, never to the user's ~/.kube
    try:
        status = backend.up()
        pid = status.pid or 0
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work / "home"), "KUBERC": "off",
               "KUBECACHEDIR": str(work / "cache")}
        floor = statistics.median(
            _timed(lambda: subprocess.run([str(paths.kubectl()), "version", "--client"], env=env,
                                          capture_output=True, check=True)) for _ in range(10))
        before = status_kb(pid, "VmRSS")
        times: list[float] = []
        seats = []
        for name in seat_names(args.seats):
            started = time.perf_counter()
            seats.append(prepare_seat(backend.kubeconfig, name, work / "seats" / name, lifetime=3600))
            times.append(time.perf_counter() - started)
        after = status_kb(pid, "VmRSS")
        working = sum(
            subprocess.run([str(paths.kubectl()), "auth", "can-i", "create", "deployments"],
                           env={**env, "KUBECONFIG": seat.kubeconfig}, capture_output=True, text=True)
            .stdout.strip() == "yes" for seat in seats)
        started = time.perf_counter()
        for seat in seats:
            tear_down_seat(backend.kubeconfig, work / "seats" / seat.name)
        teardown = time.perf_counter() - started
        print(f"seats prepared: {len(seats)}; kubeconfigs that may create deployments: {working}")
        print(f"prepare one seat: median {statistics.median(times):.2f} s, slowest {max(times):.2f} s, "
              f"all {sum(times):.1f} s; kubectl floor {floor * 1000:.1f} ms "
              f"(a seat = {statistics.median(times) / floor:.0f} floors: 4 kubectl runs)")
        print(f"server RSS: {before / 1024:.1f} MB before, {after / 1024:.1f} MB with {len(seats)} seats "
              f"(+{(after - before) / 1024 / len(seats) * 1024:.0f} KB a seat), peak {status_kb(pid, 'VmHWM') / 1024:.1f} MB")
        print(f"tear down all: {teardown:.1f} s")
    finally:
        backend.down()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def _timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


if __name__ == "__main__":
    sys.exit(main())
