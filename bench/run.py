#!/usr/bin/env python3
"""Benchmark the practice cluster with the real kubectl: prints measurements against targets, asserts nothing.

Usage (from the repository root):

    .venv/bin/python bench/run.py [--quick] [--json FILE] [--keep-state]

Items:
  1. practice cluster start (fresh state dir, time scale 1) to the lesson's start state rolled out;
  2. ``kubectl get pods`` (warm discovery cache, 4 pods) against ``kubectl version --client``;
  3. a 1,000-replica rolling update (v1 -> v2) until ``kubectl rollout status`` returns (--quick: 200);
  4. resident memory of the practice cluster process at the start state (4 replicas);
  5. cold start of the TUI; 6. a cluster change reaching a check verdict;
  7. soak (only when asked: ``--only soak [--soak-minutes 60]``): the lesson's commands over and over at a
     fast learner's pace; RSS growth after the first 5 minutes (target: within +10 %), each end the median of a
     minute of samples taken every 10 s.

Every cluster gets its own temporary state directory and is stopped in a ``finally`` (Ctrl-C too);
kubectl always runs with an isolated HOME, KUBECACHEDIR, KUBECONFIG and KUBERC=off.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tutor import paths, shell  # noqa: E402
from tutor.backends.base import BackendError  # noqa: E402
from tutor.backends.practice import PracticeBackend  # noqa: E402

DEPLOYMENT = "kubernetes-bootcamp"
NODE = "kube-tutor-control-plane"
IMAGE_V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
IMAGE_V2 = "jocatalin/kubernetes-bootcamp:v2"
CREATE = ["create", "deployment", DEPLOYMENT, f"--image={IMAGE_V1}", "--replicas=4"]
EXPOSE = ["expose", f"deployment/{DEPLOYMENT}", "--type=NodePort", "--port", "8080"]
ROLLOUT_STATUS = ["rollout", "status", f"deployment/{DEPLOYMENT}"]
SET_IMAGE = ["set", "image", f"deployments/{DEPLOYMENT}", f"{DEPLOYMENT}={IMAGE_V2}"]
DEPLOY_JSONPATH = ("-o", "jsonpath={.spec.replicas} {.status.replicas} {.status.updatedReplicas} "
                   "{.status.readyReplicas} {.status.availableReplicas} {.spec.template.spec.containers[0].image}")

TIME_SCALE = 1.0
TARGET_START_S = 1.5
TARGET_GET_PODS_RATIO = 1.3
TARGET_EXEC_RATIO = 1.5
TARGET_ROLLOUT_S = 30.0
TARGET_RSS_MB = 100.0
"""Decimal megabytes (10^6 bytes), the stricter reading of "100 MB"."""


class BenchError(Exception):
    """A measurement could not be taken (a kubectl command failed, the cluster did not start...)."""


# ---- small helpers -----------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def p90(values: list[float]) -> float:
    """Nearest-rank 90th percentile."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def verdict(ratio: float) -> str:
    return "within target" if ratio <= 1.0 else "over target"


def say(text: str = "") -> None:
    print(text, flush=True)


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS, VmHWM (kB) of a process from /proc/<pid>/status; {} when it is gone."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (nan when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return math.nan


def mb(kb: int | float) -> float:
    return kb * 1024 / 1e6


def mem(kb: int | float) -> str:
    return f"{mb(kb):.1f} MB ({kb / 1024:.1f} MiB)"


# ---- kubectl -----------------------------------------------------------------------------------------


@dataclass
class Run:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    lines: list[tuple[float, str]] = field(default_factory=list)
    """(seconds since start, line) of streamed stdout."""

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def check(self) -> Run:
        if not self.ok:
            raise BenchError(f"kubectl {' '.join(self.args)} failed ({self.returncode}): "
                             f"{(self.stderr or self.stdout).strip()[:500]}")
        return self


class Kubectl:
    """The real kubectl with an isolated environment: HOME, KUBECACHEDIR, KUBECONFIG, KUBERC=off."""

    def __init__(self, binary: Path, home: Path, kubeconfig: Path | None, cache: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.binary = str(binary)
        self.env = {
            "PATH": os.defpath,
            "HOME": str(home),
            "KUBECACHEDIR": str(cache),
            "KUBERC": "off",
            "LANG": "C.UTF-8",
        }
        if kubeconfig is not None:
            self.env["KUBECONFIG"] = str(kubeconfig)
        else:  # no cluster: an empty kubeconfig of our own, never ~/.kube/config
            empty = home / "empty-kubeconfig"
            empty.write_text("apiVersion: v1\nkind: Config\n", encoding="utf-8")
            self.env["KUBECONFIG"] = str(empty)

    def run(self, *args: str, timeout: float = 120.0) -> Run:
        start = time.perf_counter()
        try:
            done = subprocess.run([self.binary, *args], env=self.env, capture_output=True, text=True,
                                  timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        except subprocess.TimeoutExpired as error:
            raise BenchError(f"kubectl {' '.join(args)}: no answer after {timeout:g} s") from error
        return Run(tuple(args), done.returncode, done.stdout, done.stderr, time.perf_counter() - start)

    def stream(self, *args: str, timeout: float = 360.0) -> Run:
        """Run kubectl and time-stamp every stdout line as it arrives (``rollout status``)."""
        lines: list[tuple[float, str]] = []
        start = time.perf_counter()
        process = subprocess.Popen([self.binary, *args], env=self.env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
        err_chunks: list[str] = []

        def read_out() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append((time.perf_counter() - start, line.rstrip("\n")))

        def read_err() -> None:
            assert process.stderr is not None
            err_chunks.append(process.stderr.read())

        readers = [threading.Thread(target=read_out, daemon=True), threading.Thread(target=read_err, daemon=True)]
        for reader in readers:
            reader.start()
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            returncode = -9
            err_chunks.append(f"[bench] killed after {timeout:g} s")
        except BaseException:
            process.kill()
            process.wait()
            raise
        seconds = time.perf_counter() - start
        for reader in readers:
            reader.join(timeout=5)
        return Run(tuple(args), returncode, "\n".join(line for _, line in lines), "".join(err_chunks), seconds,
                   lines)


# ---- clusters ----------------------------------------------------------------------------------------

ACTIVE: set[Cluster] = set()


class Cluster:
    """One practice cluster in a fresh temporary state directory, always stopped on exit."""

    def __init__(self, label: str, keep: bool) -> None:
        self.label = label
        self.keep = keep
        self.root = Path(tempfile.mkdtemp(prefix=f"kube-tutor-bench-{label}-"))
        self.backend = PracticeBackend(self.root / "state", time_scale=TIME_SCALE)
        self.pid = 0
        self.log_summary: list[str] = []

    def __enter__(self) -> Cluster:
        ACTIVE.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def up(self) -> float:
        start = time.perf_counter()
        self.backend.up()
        seconds = time.perf_counter() - start
        info = json.loads((self.backend.directory / "server.json").read_text(encoding="utf-8"))
        self.pid = int(info["pid"])
        return seconds

    def kubectl(self, cache: str = "kube-cache") -> Kubectl:
        return Kubectl(paths.kubectl(), self.root / "home", self.backend.kubeconfig, self.root / cache)

    def _strays(self) -> list[int]:
        """Server processes started for this state directory (unique temp path) that are still alive."""
        marker = str(self.backend.directory).encode()
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"tutor.practice" in argv and marker in argv:
                found.append(int(entry.name))
        return found

    def close(self) -> None:
        if self not in ACTIVE:
            return
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip the cleanup
        try:
            try:
                self.backend.down()
            except Exception as error:  # noqa: BLE001 - still kill the process below
                say(f"    [bench] stopping the practice cluster failed: {error!r}")
            for pid in self._strays():
                shell.stop_process(pid, grace=10)
            self.log_summary = self._scan_log()
            if self.keep:
                say(f"    [bench] kept state: {self.root}")
            else:
                shutil.rmtree(self.root, ignore_errors=True)
        finally:
            ACTIVE.discard(self)
            signal.signal(signal.SIGINT, previous)

    def _scan_log(self) -> list[str]:
        try:
            lines = self.backend.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return []
        return [line for line in lines
                if any(word in line for word in (" WARNING ", " ERROR ", " CRITICAL ", "Traceback", "Error"))]

    def print_log_summary(self) -> None:
        if not self.log_summary:
            say(f"    cluster.log ({self.label}): no warnings or errors")
            return
        say(f"    cluster.log ({self.label}): {len(self.log_summary)} warning/error lines, first ones:")
        for line in self.log_summary[:8]:
            say(f"      | {line[:300]}")


def stop_all() -> None:
    for cluster in list(ACTIVE):
        cluster.close()


def start_state(kubectl: Kubectl) -> tuple[Run, Run, Run]:
    """The lesson's start state: 4 replicas of v1 behind a NodePort service, rolled out."""
    create = kubectl.run(*CREATE).check()
    expose = kubectl.run(*EXPOSE).check()
    rollout = kubectl.run(*ROLLOUT_STATUS, "--timeout=60s", timeout=90).check()
    return create, expose, rollout


def deployment_state(kubectl: Kubectl) -> str:
    """``spec.replicas status.replicas updated ready available image`` of the deployment."""
    return kubectl.run("get", "deployment", DEPLOYMENT, *DEPLOY_JSONPATH).check().stdout.strip()


class RssSampler:
    """Samples VmRSS of a process every ``interval`` seconds in a thread."""

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        self.pid = pid
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            rss = proc_status(self.pid).get("VmRSS")
            if rss is not None:
                self.samples.append((time.perf_counter(), rss))
            self._stop.wait(self.interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)

    def peak(self, start: float, end: float) -> int:
        window = [rss for t, rss in self.samples if start <= t <= end]
        return max(window) if window else 0


# ---- the machine ---------------------------------------------------------------------------------------


def machine_info(floor_runs: int) -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 0
    mem_total_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemTotal:"):
                mem_total_kb = int(line.split()[1])
    except OSError:
        pass
    scratch = Path(tempfile.mkdtemp(prefix="kube-tutor-bench-floor-"))
    try:
        kubectl = Kubectl(paths.kubectl(), scratch / "home", None, scratch / "kube-cache")
        version = kubectl.run("version", "--client", "-o", "json").check()
        kubectl_version = json.loads(version.stdout)["clientVersion"]["gitVersion"]
        kubectl.run("version", "--client").check()  # page the binary in
        floor = [kubectl.run("version", "--client").check().seconds for _ in range(floor_runs)]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return {
        "cpu_model": cpu,
        "cpu_cores": os.cpu_count(),
        "cpu_usable": usable,
        "mem_total_mb": round(mb(mem_total_kb)),
        "kernel": platform.release(),
        "loadavg_at_start": list(os.getloadavg()),
        "python": sys.version.split()[0],
        "python_executable": sys.executable,
        "kubectl": str(paths.kubectl()),
        "kubectl_version": kubectl_version,
        "kubectl_floor_runs": floor_runs,
        "kubectl_floor_median_s": median(floor),
        "kubectl_floor_p90_s": p90(floor),
        "kubectl_floor_samples_s": floor,
    }


# ---- item 1: start to start state ------------------------------------------------------------------------


def bench_start(runs: int, keep: bool) -> dict[str, Any]:
    say(f"[1] practice cluster start (fresh state dir, time scale {TIME_SCALE:g}) -> start state rolled out "
        f"(4/4 v1, `rollout status` returned); median of {runs} runs")
    samples: list[dict[str, float]] = []
    for i in range(runs):
        with Cluster("start", keep) as cluster:
            t0 = time.perf_counter()
            cluster.up()
            t1 = time.perf_counter()
            kubectl = cluster.kubectl()
            create, expose, rollout = start_state(kubectl)
            t2 = time.perf_counter()
            state = deployment_state(kubectl)
            sample = {"total_s": t2 - t0, "server_up_s": t1 - t0, "kubectl_s": t2 - t1,
                      "create_s": create.seconds, "expose_s": expose.seconds, "rollout_status_s": rollout.seconds}
            samples.append(sample)
            say(f"    run {i + 1}: total {sample['total_s']:.3f} s = server up {sample['server_up_s']:.3f} s"
                f" + kubectl {sample['kubectl_s']:.3f} s (create {create.seconds:.3f}, expose {expose.seconds:.3f},"
                f" rollout status {rollout.seconds:.3f}); deployment [{state}]")
        if cluster.log_summary:
            cluster.print_log_summary()
    result: dict[str, Any] = {"runs": runs, "samples": samples}
    for key in ("total_s", "server_up_s", "kubectl_s", "create_s", "expose_s", "rollout_status_s"):
        result[f"median_{key}"] = median([s[key] for s in samples])
    measured = result["median_total_s"]
    ratio = measured / TARGET_START_S
    result.update(measured=measured, unit="s", target=TARGET_START_S, ratio=ratio, verdict=verdict(ratio))
    say(f"    server up        (median): {result['median_server_up_s']:.3f} s")
    say(f"    kubectl commands (median): {result['median_kubectl_s']:.3f} s (create {result['median_create_s']:.3f}, "
        f"expose {result['median_expose_s']:.3f}, rollout status {result['median_rollout_status_s']:.3f})")
    say(f"    measured {measured:.3f} s   target <= {TARGET_START_S:g} s   ratio {ratio:.2f}")
    say(f"    verdict: {result['verdict']}")
    return result


# ---- item 2: get pods vs the kubectl floor ---------------------------------------------------------------


def bench_get_pods(runs: int, cold_runs: int, keep: bool) -> dict[str, Any]:
    say(f"[2] `kubectl get pods` (warm discovery cache, 4 pods) vs `kubectl version --client`; "
        f"{runs} runs each, interleaved")
    with Cluster("getpods", keep) as cluster:
        cluster.up()
        kubectl = cluster.kubectl()
        start_state(kubectl)
        first = kubectl.run("get", "pods").check()  # fills the discovery cache
        pods = [line for line in first.stdout.splitlines() if line.startswith(DEPLOYMENT)]
        say(f"    first `get pods` (fills the cache): {ms(first.seconds)}; {len(pods)} pods listed")
        if len(pods) != 4:
            say(f"    NOTE: expected 4 pods, got {len(pods)}:\n{first.stdout}")
        get_pods: list[float] = []
        version: list[float] = []
        for i in range(runs):
            order = (("get", "pods"), ("version", "--client"))
            for args in order if i % 2 == 0 else order[::-1]:
                seconds = kubectl.run(*args).check().seconds
                (get_pods if args[0] == "get" else version).append(seconds)
        cold: list[float] = []
        for j in range(cold_runs):
            cold.append(cluster.kubectl(cache=f"cold-cache-{j}").run("get", "pods").check().seconds)
        rss_after = proc_status(cluster.pid)
    cluster.print_log_summary()
    ratio_measured = median(get_pods) / median(version)
    ratio = ratio_measured / TARGET_GET_PODS_RATIO
    result = {
        "runs": runs, "pods_listed": len(pods),
        "get_pods_median_s": median(get_pods), "get_pods_p90_s": p90(get_pods),
        "version_client_median_s": median(version), "version_client_p90_s": p90(version),
        "get_pods_samples_s": get_pods, "version_client_samples_s": version,
        "cold_cache_runs": cold_runs, "cold_get_pods_median_s": median(cold), "cold_get_pods_samples_s": cold,
        "cold_ratio_to_floor": median(cold) / median(version),
        "p90_ratio": p90(get_pods) / p90(version),
        "server_vmrss_kb_after": rss_after.get("VmRSS"), "server_vmhwm_kb_after": rss_after.get("VmHWM"),
        "measured": ratio_measured, "unit": "x", "target": TARGET_GET_PODS_RATIO, "ratio": ratio,
        "verdict": verdict(ratio),
    }
    say(f"    kubectl floor, `version --client` (interleaved): median {ms(median(version))}   p90 {ms(p90(version))}")
    say(f"    `get pods`, warm cache:                          median {ms(median(get_pods))}   p90 {ms(p90(get_pods))}"
        f"   (p90/p90 {result['p90_ratio']:.2f}x)")
    say(f"    `get pods`, cold cache (info, {cold_runs} runs):         median {ms(median(cold))}"
        f"   ({result['cold_ratio_to_floor']:.2f}x the floor)")
    if rss_after:
        say(f"    (info) server VmRSS after ~{2 * runs + cold_runs + 5} kubectl commands: {mem(rss_after['VmRSS'])}")
    say(f"    measured {ratio_measured:.2f}x   target <= {TARGET_GET_PODS_RATIO:g}x   ratio {ratio:.2f}")
    say(f"    verdict: {result['verdict']}")
    return result


# ---- item 8: exec round trip vs the kubectl floor --------------------------------------------------------


def bench_exec(runs: int, keep: bool) -> dict[str, Any]:
    say(f"[8] `kubectl exec POD -- true` (WebSocket v5.channel.k8s.io, a process in the container) vs "
        f"`kubectl version --client`; {runs} runs each, interleaved")
    with Cluster("exec", keep) as cluster:
        cluster.up()
        kubectl = cluster.kubectl()
        start_state(kubectl)
        pod = kubectl.run("get", "pods", "-o", "jsonpath={.items[0].metadata.name}").check().stdout.strip()
        kubectl.run("exec", pod, "--", "true").check()  # fills the discovery cache, makes the container's directory
        exec_true: list[float] = []
        version: list[float] = []
        for i in range(runs):
            order = (("exec", pod, "--", "true"), ("version", "--client"))
            for args in order if i % 2 == 0 else order[::-1]:
                seconds = kubectl.run(*args).check().seconds
                (exec_true if args[0] == "exec" else version).append(seconds)
    cluster.print_log_summary()
    ratio_measured = median(exec_true) / median(version)
    ratio = ratio_measured / TARGET_EXEC_RATIO
    result = {
        "runs": runs, "exec_median_s": median(exec_true), "exec_p90_s": p90(exec_true),
        "version_client_median_s": median(version), "exec_samples_s": exec_true, "version_client_samples_s": version,
        "measured": ratio_measured, "unit": "x", "target": TARGET_EXEC_RATIO, "ratio": ratio, "verdict": verdict(ratio),
    }
    say(f"    kubectl floor, `version --client` (interleaved): median {ms(median(version))}")
    say(f"    `exec POD -- true`:                              median {ms(median(exec_true))}   p90 {ms(p90(exec_true))}")
    say(f"    measured {ratio_measured:.2f}x   target <= {TARGET_EXEC_RATIO:g}x   ratio {ratio:.2f}")
    say(f"    verdict: {result['verdict']}")
    return result


# ---- item 3: a 1,000-replica rolling update ----------------------------------------------------------------


def print_status_lines(run: Run, note: str = "") -> None:
    lines = run.lines
    say(f"    `kubectl {' '.join(run.args)}`{note}: exit {run.returncode}, {len(lines)} lines in {run.seconds:.2f} s")
    shown = lines if len(lines) <= 8 else lines[:4] + [(math.nan, "...")] + lines[-4:]
    for t, line in shown:
        say(f"      {'' if math.isnan(t) else f'+{t:6.2f} s '}{line[:200]}")
    if run.stderr.strip():
        say(f"      stderr: {run.stderr.strip()[:500]}")


def bench_rollout(replicas: int, quick: bool, keep: bool) -> dict[str, Any]:
    say(f"[3] {replicas}-replica rolling update v1 -> v2 until `kubectl rollout status` returns"
        f" (time scale {TIME_SCALE:g})" + (" -- QUICK: 200 replicas, not the 1,000 of the target" if quick else ""))
    result: dict[str, Any] = {"replicas": replicas, "quick": quick, "target": TARGET_ROLLOUT_S, "unit": "s"}
    with Cluster("rollout", keep) as cluster:
        cluster.up()
        kubectl = cluster.kubectl()
        start_state(kubectl)
        pid = cluster.pid
        # The node holds 110 pods, as a kind node does: give it room for this many, the surge and the old pods
        # still terminating (they hold their place until gone), through the node's status as one could on any
        # cluster, so the item measures the controllers, not pods waiting past the node's capacity.
        room = str(3 * replicas)
        kubectl.run("patch", "node", NODE, "--subresource=status", "--type=merge", "-p", json.dumps(
            {"status": {"capacity": {"pods": room}, "allocatable": {"pods": room}}})).check()
        with RssSampler(pid) as sampler:
            cpu0 = proc_cpu_seconds(pid)
            t0 = time.perf_counter()
            scale = kubectl.run("scale", f"deployment/{DEPLOYMENT}", f"--replicas={replicas}").check()
            scale_status = kubectl.stream(*ROLLOUT_STATUS, "--timeout=300s")
            t1 = time.perf_counter()
            cpu1 = proc_cpu_seconds(pid)
            hwm_scale = proc_status(pid).get("VmHWM", 0)
            state_scaled = deployment_state(kubectl)
            print_status_lines(scale_status, f" (after `kubectl scale --replicas={replicas}`)")
            say(f"    scale-up to {replicas}: {t1 - t0:.2f} s (scale {scale.seconds:.3f} s + rollout status "
                f"{scale_status.seconds:.2f} s); server CPU {cpu1 - cpu0:.2f} s; "
                f"VmRSS peak {mem(sampler.peak(t0, t1))}, VmHWM {mem(hwm_scale)}")
            say(f"    deployment after scale-up [replicas status updated ready available image]: [{state_scaled}]")
            result.update(scale_up_s=t1 - t0, scale_cmd_s=scale.seconds, scale_rollout_status_s=scale_status.seconds,
                          scale_rollout_status_exit=scale_status.returncode, scale_server_cpu_s=cpu1 - cpu0,
                          scale_vmrss_peak_kb=sampler.peak(t0, t1), scale_vmhwm_kb=hwm_scale,
                          deployment_after_scale=state_scaled,
                          scale_status_lines=[[round(t, 3), line] for t, line in scale_status.lines])
            if not scale_status.ok:
                raise BenchError(f"scale-up to {replicas} did not roll out: {scale_status.stderr.strip()[:300]}")

            t2 = time.perf_counter()
            set_image = kubectl.run(*SET_IMAGE).check()
            cpu3 = proc_cpu_seconds(pid)
            status = kubectl.stream("rollout", "status", f"deployments/{DEPLOYMENT}", "--timeout=300s")
            t4 = time.perf_counter()
            cpu4 = proc_cpu_seconds(pid)
            hwm_rollout = proc_status(pid).get("VmHWM", 0)
            peak_rollout = sampler.peak(t2, t4)
        state_after = deployment_state(kubectl)
        rs = kubectl.run("get", "rs", "-o", "wide").stdout.strip()
        get_pods = kubectl.run("get", "pods", timeout=120)
        pod_lines = [line for line in get_pods.stdout.splitlines() if line.startswith(DEPLOYMENT)]
        rss_end = proc_status(pid)
        print_status_lines(status, f" (after `kubectl {' '.join(SET_IMAGE)}`)")
        say(f"    set image: {set_image.seconds:.3f} s; rollout status returned after {status.seconds:.2f} s "
            f"(exit {status.returncode}); set image + rollout {t4 - t2:.2f} s; server CPU {cpu4 - cpu3:.2f} s")
        say(f"    deployment after rollout [replicas status updated ready available image]: [{state_after}]")
        for line in rs.splitlines():
            say(f"      {line[:160]}")
        say(f"    (info) `get pods` with {len(pod_lines)} pods listed (old ones terminating): "
            f"{get_pods.seconds:.3f} s, exit {get_pods.returncode}")
        say(f"    server memory: VmRSS peak during rollout {mem(peak_rollout)}, VmHWM after rollout "
            f"{mem(hwm_rollout)}, VmRSS at the end {mem(rss_end.get('VmRSS', 0))}")
        measured = status.seconds
        ratio = measured / TARGET_ROLLOUT_S
        completed = status.ok and "successfully rolled out" in status.stdout
        result.update(set_image_s=set_image.seconds, rollout_status_s=status.seconds,
                      rollout_status_exit=status.returncode, rollout_completed=completed,
                      set_image_plus_rollout_s=t4 - t2, rollout_server_cpu_s=cpu4 - cpu3,
                      rollout_vmrss_peak_kb=peak_rollout, rollout_vmhwm_kb=hwm_rollout,
                      end_vmrss_kb=rss_end.get("VmRSS"), deployment_after_rollout=state_after,
                      get_pods_after_s=get_pods.seconds, get_pods_after_count=len(pod_lines),
                      rollout_status_lines=[[round(t, 3), line] for t, line in status.lines],
                      rollout_status_stderr=status.stderr.strip(),
                      measured=measured, ratio=ratio,
                      verdict=verdict(ratio) if completed else "over target (rollout did not complete)")
    cluster.print_log_summary()
    result["cluster_log_problems"] = cluster.log_summary[:50]
    say(f"    measured {measured:.2f} s   target <= {TARGET_ROLLOUT_S:g} s   ratio {ratio:.2f}"
        + (f"   (at {replicas} replicas, not 1,000)" if quick else ""))
    say(f"    verdict: {result['verdict']}" + (" (quick run: 200 replicas)" if quick else ""))
    return result


# ---- item 4: resident memory at the start state ------------------------------------------------------------


def bench_memory(settle: float, keep: bool) -> dict[str, Any]:
    say(f"[4] resident memory of the practice cluster process at the start state (4 replicas), "
        f"after settling {settle:g} s")
    with Cluster("rss", keep) as cluster:
        cluster.up()
        kubectl = cluster.kubectl()
        start_state(kubectl)
        samples = []
        deadline = time.perf_counter() + settle
        while time.perf_counter() < deadline:
            rss = proc_status(cluster.pid).get("VmRSS")
            if rss is not None:
                samples.append(rss)
            time.sleep(0.25)
        final = proc_status(cluster.pid)
        if "VmRSS" not in final:
            raise BenchError(f"the practice cluster process {cluster.pid} is gone")
    cluster.print_log_summary()
    measured = mb(final["VmRSS"])
    ratio = measured / TARGET_RSS_MB
    result: dict[str, Any] = {"settle_s": settle, "vmrss_kb": final["VmRSS"], "vmhwm_kb": final.get("VmHWM"),
              "vmrss_max_while_settling_kb": max(samples) if samples else None,
              "measured": measured, "unit": "MB", "target": TARGET_RSS_MB, "ratio": ratio, "verdict": verdict(ratio)}
    say(f"    VmRSS {mem(final['VmRSS'])}; VmHWM {mem(final.get('VmHWM', 0))}; "
        f"max VmRSS while settling {mem(result['vmrss_max_while_settling_kb'] or 0)}")
    say(f"    measured {measured:.1f} MB   target <= {TARGET_RSS_MB:g} MB   ratio {ratio:.2f}")
    say(f"    verdict: {result['verdict']}")
    return result


# ---- item 5: TUI cold start; item 6: check verdict latency ---------------------------------------------------

TARGET_TUI_S = 0.8
TARGET_VERDICT_S = 0.5
CHILD = Path(__file__).with_name("tui_child.py")


def bench_tui(runs: int, keep: bool) -> dict[str, Any]:
    say(f"[5] cold start of `kube-tutor` to an interactive lesson screen (console focused), "
        f"cluster already up; median of {runs} runs")
    with Cluster("tui", keep) as cluster:
        cluster.up()
        start_state(cluster.kubectl())
        from tutor.lesson.progress import Progress

        Progress.load(cluster.backend.state, "rolling-update", "practice").start("update")  # resume: no setup
        times, imports, verdicts = [], [], []
        for _ in range(runs):
            done = subprocess.run([sys.executable, str(CHILD), "tui", str(cluster.backend.state), repr(time.time())],
                                  capture_output=True, text=True, timeout=60, check=False,
                                  env={**os.environ, "HOME": str(cluster.backend.state), "TERM": "xterm-256color"})
            numbers = done.stdout.strip().split()
            if done.returncode != 0 or len(numbers) != 3:
                raise BenchError(f"the TUI child failed: {done.stderr.strip()[-400:]}")
            times.append(float(numbers[0]))
            imports.append(float(numbers[1]))
            verdicts.append(float(numbers[2]))
    measured = median(times)
    ratio = measured / TARGET_TUI_S
    say(f"    runs: {', '.join(f'{t:.3f}' for t in times)} s (python start to our first line: "
        f"{median(imports):.3f} s; to the first check verdict: {median(verdicts):.3f} s)")
    say(f"    measured {measured:.3f} s   target <= {TARGET_TUI_S:g} s   ratio {ratio:.2f}")
    result = {"runs": times, "measured": measured, "unit": "s", "target": TARGET_TUI_S, "ratio": ratio,
              "verdict": verdict(ratio)}
    say(f"    verdict: {result['verdict']}")
    return result


def bench_verdict(runs: int, keep: bool) -> dict[str, Any]:
    say(f"[6] a cluster change reaching a check verdict: `kubectl set image` returns -> the check flips "
        f"({runs} runs)")
    with Cluster("verdict", keep) as cluster:
        cluster.up()
        start_state(cluster.kubectl())
        done = subprocess.run([sys.executable, str(CHILD), "verdict", str(cluster.backend.state), str(runs)],
                              capture_output=True, text=True, timeout=120, check=False,
                              env={**os.environ, "HOME": str(cluster.backend.state)})
        if done.returncode != 0:
            raise BenchError(f"the verdict child failed: {done.stderr.strip()[-400:]}")
    times = [float(x) for x in done.stdout.split()]
    measured = median(times)
    ratio = measured / TARGET_VERDICT_S
    say(f"    median {ms(measured)}, p90 {ms(p90(times))}, max {ms(max(times))}")
    say(f"    measured {measured:.3f} s   target <= {TARGET_VERDICT_S:g} s   ratio {ratio:.2f}")
    result = {"runs": times, "measured": measured, "unit": "s", "target": TARGET_VERDICT_S, "ratio": ratio,
              "verdict": verdict(ratio)}
    say(f"    verdict: {result['verdict']}")
    return result


# ---- item 7: soak ------------------------------------------------------------------------------------------

TARGET_SOAK_GROWTH = 0.10
SOAK_PACE_S = 1.0
"""Seconds between two commands: a fast learner (a person types one every 10 s or so)."""
IMAGE_V10 = "gcr.io/google-samples/kubernetes-bootcamp:v10"


def soak_cycle(kubectl: Kubectl, say_error: Callable[[str], None]) -> int:
    """One pass of the lesson as a learner does it, with a look around and a reset; returns commands run."""
    import urllib.request

    commands = 0

    def run(*args: str, timeout: float = 180.0, expect_failure: bool = False) -> Run:
        nonlocal commands
        commands += 1
        done = kubectl.run(*args, timeout=timeout)
        if not done.ok and not expect_failure:
            say_error(f"kubectl {' '.join(args)}: {done.stderr.strip()[:200]}")
        time.sleep(SOAK_PACE_S)  # the learner reads the output (pacing, not synchronisation)
        return done

    run(*CREATE)
    run(*EXPOSE)
    run(*ROLLOUT_STATUS, "--timeout=120s")
    run("get", "pods")
    run("describe", "pods")
    run("get", "services")
    run(*SET_IMAGE)
    run(*ROLLOUT_STATUS, "--timeout=120s")
    port = run("get", "service", DEPLOYMENT, "-o", "jsonpath={.spec.ports[0].nodePort}").stdout.strip()
    for _ in range(3):
        commands += 1
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}", timeout=10) as answer:
                answer.read()
        except OSError as error:
            say_error(f"curl NodePort {port}: {error}")
    run("set", "image", f"deployments/{DEPLOYMENT}", f"{DEPLOYMENT}={IMAGE_V10}")
    run("get", "pods")
    expected_timeout = run(*ROLLOUT_STATUS, "--timeout=15s", timeout=60, expect_failure=True)
    if expected_timeout.ok:
        say_error("rollout status of v10 succeeded: the image should not exist")
    run("describe", "pods")
    run("get", "events")
    run("rollout", "undo", f"deployments/{DEPLOYMENT}")
    run(*ROLLOUT_STATUS, "--timeout=120s")
    run("scale", f"deployments/{DEPLOYMENT}", "--replicas=10")
    run(*ROLLOUT_STATUS, "--timeout=120s")
    run("get", "rs")
    run("scale", f"deployments/{DEPLOYMENT}", "--replicas=4")
    run("logs", f"deployment/{DEPLOYMENT}")  # a pod of the deployment (a name read first may be scaled away)
    run("delete", "deployment", DEPLOYMENT)
    run("delete", "service", DEPLOYMENT)
    return commands


def bench_soak(minutes: float, keep: bool) -> dict[str, Any]:
    say(f"[7] soak: the lesson's commands over and over for {minutes:g} min (one every {SOAK_PACE_S:g} s or as "
        f"long as it takes), RSS sampled every 10 s; growth after the first 5 min")
    errors: list[str] = []
    with Cluster("soak", keep) as cluster:
        cluster.up()
        kubectl = cluster.kubectl()
        began = time.perf_counter()
        end = began + minutes * 60
        baseline_at = began + min(5 * 60, minutes * 60 / 3)
        samples: list[tuple[float, int]] = []
        baseline: int | None = None
        cycles = commands = 0
        next_sample = began
        while time.perf_counter() < end:
            commands += soak_cycle(kubectl, errors.append)
            cycles += 1
            now = time.perf_counter()
            if now >= next_sample:
                rss = proc_status(cluster.pid).get("VmRSS")
                if rss is None:
                    raise BenchError(f"the practice cluster process {cluster.pid} is gone")
                samples.append((now - began, rss))
                next_sample = now + 10
                if baseline is None and now >= baseline_at:
                    baseline = rss
                    say(f"    baseline after {(now - began) / 60:.1f} min: {mem(rss)}")
            if cycles % 5 == 0:
                rss_text = mem(samples[-1][1]) if samples else "-"
                say(f"    {(now - began) / 60:5.1f} min: {cycles} cycles, {commands} commands, RSS {rss_text}")
        final = proc_status(cluster.pid)
        if "VmRSS" not in final:
            raise BenchError(f"the practice cluster process {cluster.pid} is gone")
        events = kubectl.run("get", "events", "-A", "--no-headers").stdout.count("\n")
        db = cluster.backend.directory / "state.db"
        sizes = {suffix or "db": (db.with_name(db.name + suffix).stat().st_size
                                  if db.with_name(db.name + suffix).exists() else 0) for suffix in ("", "-wal")}
    cluster.print_log_summary()
    if baseline is None:
        baseline = samples[0][1] if samples else final["VmRSS"]
    # One sample swings by several MB (housekeeping gives free heap back to the system once a minute, and a
    # list answer may be on its way out), so the figures are medians of one minute of samples: the minute after
    # the baseline time, and the last minute.
    base_s = baseline_at - began
    first_minute = [rss for at, rss in samples if base_s <= at < base_s + 60] or [baseline]
    last_minute = [rss for at, rss in samples if at >= samples[-1][0] - 60] if samples else [final["VmRSS"]]
    baseline = int(statistics.median(first_minute))
    ended = int(statistics.median(last_minute))
    windows = [int(statistics.median(rss for at, rss in samples if start <= at < start + 600))
               for start in range(0, int(samples[-1][0]) + 1, 600)
               if any(start <= at < start + 600 for at, _ in samples)] if samples else []
    say("    median RSS per 10 min: " + ", ".join(mem(w) for w in windows))
    growth = ended / baseline - 1
    ratio = growth / TARGET_SOAK_GROWTH if growth > 0 else 0.0
    say(f"    {cycles} cycles, {commands} commands, {len(errors)} unexpected errors"
        + (f" (first: {errors[0]})" if errors else ""))
    say(f"    RSS (median of a minute): baseline {mem(baseline)}, last minute {mem(ended)}; last sample "
        f"{mem(final['VmRSS'])}, max sample {mem(max(r for _, r in samples))}, VmHWM {mem(final.get('VmHWM', 0))}")
    say(f"    events kept: {events}; state.db {sizes['db'] / 1e6:.1f} MB, WAL {sizes['-wal'] / 1e6:.1f} MB")
    say(f"    measured growth {growth * 100:+.1f} %   target <= +{TARGET_SOAK_GROWTH * 100:g} %   ratio {ratio:.2f}")
    result = {"minutes": minutes, "cycles": cycles, "commands": commands, "errors": errors[:20],
              "baseline_kb": baseline, "last_minute_kb": ended, "final_kb": final["VmRSS"],
              "vmhwm_kb": final.get("VmHWM"), "window_medians_kb": windows,
              "samples": samples, "events": events, "state_db_bytes": sizes["db"], "wal_bytes": sizes["-wal"],
              "measured": growth * 100, "unit": "%", "target": TARGET_SOAK_GROWTH * 100, "ratio": ratio,
              "verdict": verdict(ratio)}
    say(f"    verdict: {result['verdict']}")
    return result


# ---- main --------------------------------------------------------------------------------------------------


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


@contextmanager
def section(results: dict[str, Any], key: str) -> Iterator[Callable[[dict[str, Any]], None]]:
    """Run one item; a failure is reported and recorded, and the next item still runs."""
    start = time.perf_counter()

    def store(value: dict[str, Any]) -> None:
        results[key] = value

    try:
        yield store
    except (BenchError, BackendError, OSError) as error:
        say(f"    ERROR: {error}")
        say("    verdict: over target (not measured)")
        results[key] = {"error": str(error), "verdict": "over target (not measured)"}
    finally:
        stop_all()
        if key in results:
            results[key]["wall_s"] = time.perf_counter() - start
        say()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs, 200 replicas (about a minute)")
    parser.add_argument("--json", metavar="FILE", type=Path, help="also write every number as JSON")
    parser.add_argument("--keep-state", action="store_true", help="keep the temporary state dirs (and logs)")
    parser.add_argument("--only", metavar="ITEMS", default="start,get_pods,rollout,memory,tui,verdict,exec",
                        help="comma-separated items to run (start,get_pods,rollout,memory,tui,verdict,exec,soak)")
    parser.add_argument("--soak-minutes", metavar="MIN", type=float, default=60.0,
                        help="how long the soak runs (default 60; the baseline is taken at 5 min)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _raise_interrupt)

    start_runs, get_runs, cold_runs, floor_runs = (2, 15, 3, 10) if args.quick else (5, 30, 5, 20)
    replicas = 200 if args.quick else 1000
    settle = 1.5 if args.quick else 3.0
    only = set(args.only.split(","))
    began = time.perf_counter()
    results: dict[str, Any] = {"quick": args.quick, "time_scale": TIME_SCALE}
    try:
        info = machine_info(floor_runs)
        results["machine"] = info
        say("kube-tutor practice cluster benchmark" + (" (--quick)" if args.quick else ""))
        say(f"machine: {info['cpu_model']}, {info['cpu_cores']} cores ({info['cpu_usable']} usable), "
            f"{info['mem_total_mb']} MB RAM, Linux {info['kernel']}, load {info['loadavg_at_start'][0]:.2f}")
        say(f"kubectl: {info['kubectl_version']} ({info['kubectl']})")
        say(f"python:  {info['python']} ({info['python_executable']})")
        say(f"kubectl floor (`kubectl version --client`, {floor_runs} runs): median {ms(info['kubectl_floor_median_s'])}"
            f", p90 {ms(info['kubectl_floor_p90_s'])} -- no kubectl command can be faster than this")
        say()
        if "start" in only:
            with section(results, "start") as store:
                store(bench_start(start_runs, args.keep_state))
        if "get_pods" in only:
            with section(results, "get_pods") as store:
                store(bench_get_pods(get_runs, cold_runs, args.keep_state))
        if "rollout" in only:
            with section(results, "rollout") as store:
                store(bench_rollout(replicas, args.quick, args.keep_state))
        if "memory" in only:
            with section(results, "memory") as store:
                store(bench_memory(settle, args.keep_state))
        if "tui" in only:
            with section(results, "tui") as store:
                store(bench_tui(3 if args.quick else 5, args.keep_state))
        if "verdict" in only:
            with section(results, "verdict") as store:
                store(bench_verdict(6 if args.quick else 20, args.keep_state))
        if "exec" in only:
            with section(results, "exec") as store:
                store(bench_exec(get_runs, args.keep_state))
        if "soak" in only:
            with section(results, "soak") as store:
                store(bench_soak(args.soak_minutes, args.keep_state))
    except KeyboardInterrupt:
        say("\ninterrupted: stopping the practice clusters this benchmark started")
        stop_all()
        results["interrupted"] = True
        if args.json:
            args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        return 130
    finally:
        stop_all()
    results["wall_s"] = time.perf_counter() - began

    say("summary")
    names = {"start": "1 start -> start state", "get_pods": "2 get pods / floor", "rollout": f"3 {replicas}-replica rollout",
             "memory": "4 RSS at 4 replicas", "tui": "5 TUI cold start", "verdict": "6 change -> verdict",
             "soak": "7 soak RSS growth", "exec": "8 exec -- true / floor"}
    for key, name in names.items():
        item = results.get(key, {})
        if "measured" in item:
            unit = item["unit"]
            value = f"{item['measured']:.2f}{' ' if unit != 'x' else ''}{unit}"
            target = f"<= {item['target']:g}{' ' if unit != 'x' else ''}{unit}"
            say(f"  {name:26} {value:>10}   target {target:10}  ratio {item['ratio']:.2f}   {item['verdict']}")
        else:
            say(f"  {name:26} {'-':>10}   {item.get('verdict', 'not run')}: {item.get('error', '')[:120]}")
    say(f"  (kubectl floor {ms(results['machine']['kubectl_floor_median_s'])}; benchmark wall time "
        f"{results['wall_s']:.1f} s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
        say(f"  JSON: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
