#!/usr/bin/env python3
"""Measure the practice cluster's storage commits with ``PRAGMA synchronous`` NORMAL and FULL (WAL journal).

Usage (from the repository root):

    .venv/bin/python bench/storage_sync.py [--dir DIR] [--commits N]

Two cases per pragma, on a database in DIR (default: a temporary directory next to the user's state, on
the same file system the practice cluster writes to): one API write (one ~2.5 kB pod object per commit,
``--commits`` times) and one controller burst (100 pods in one commit). Prints median and p99 per commit.
It is a benchmark, not a test: it asserts nothing.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tutor.practice.apiserver.storage import Storage  # noqa: E402

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web-5d8f9c7b6-abcde", "namespace": "default", "uid": "0" * 36, "resourceVersion": "1",
                 "generateName": "web-5d8f9c7b6-", "creationTimestamp": "2026-01-01T00:00:00Z",
                 "labels": {"app": "web", "pod-template-hash": "5d8f9c7b6"},
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f9c7b6",
                                      "uid": "1" * 36, "controller": True, "blockOwnerDeletion": True}]},
    "spec": {"containers": [{"name": "kubernetes-bootcamp", "image": "gcr.io/google-samples/kubernetes-bootcamp:v1",
                             "imagePullPolicy": "IfNotPresent", "resources": {},
                             "terminationMessagePath": "/dev/termination-log",
                             "terminationMessagePolicy": "File"}],
             "restartPolicy": "Always", "terminationGracePeriodSeconds": 30, "dnsPolicy": "ClusterFirst",
             "serviceAccountName": "default", "serviceAccount": "default", "nodeName": "kube-tutor-control-plane",
             "securityContext": {}, "schedulerName": "default-scheduler", "enableServiceLinks": True,
             "preemptionPolicy": "PreemptLowerPriority", "priority": 0,
             "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                              "tolerationSeconds": 300},
                             {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
                              "effect": "NoExecute", "tolerationSeconds": 300}]},
    "status": {"phase": "Running", "hostIP": "127.0.0.1", "podIP": "10.244.0.7", "startTime": "2026-01-01T00:00:01Z",
               "qosClass": "BestEffort",
               "conditions": [{"type": t, "status": "True", "lastProbeTime": None,
                               "lastTransitionTime": "2026-01-01T00:00:02Z"}
                              for t in ("PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady",
                                        "PodScheduled")],
               "containerStatuses": [{"name": "kubernetes-bootcamp", "ready": True, "restartCount": 0,
                                      "started": True, "image": "gcr.io/google-samples/kubernetes-bootcamp:v1",
                                      "imageID": "gcr.io/google-samples/kubernetes-bootcamp@sha256:" + "a" * 64,
                                      "containerID": "containerd://" + "b" * 64,
                                      "state": {"running": {"startedAt": "2026-01-01T00:00:02Z"}},
                                      "lastState": {}}]},
}


def measure(directory: Path, synchronous: str, commits: int) -> dict[str, float]:
    storage = Storage(directory / f"bench-{synchronous.lower()}.db", synchronous=synchronous)
    storage.open()
    rv = 0
    single: list[float] = []
    for i in range(commits):
        rv += 1
        pod = copy.deepcopy(POD)
        pod["metadata"]["name"] = f"web-{i % 50}"
        started = time.perf_counter()
        storage.stage("pods", "default", pod["metadata"]["name"], pod, rv)
        storage.commit()
        single.append(time.perf_counter() - started)
    burst: list[float] = []
    for _ in range(max(5, commits // 20)):
        started = time.perf_counter()
        for i in range(100):
            rv += 1
            storage.stage("pods", "default", f"burst-{i}", POD, rv)
        storage.commit()
        burst.append(time.perf_counter() - started)
    storage.close()
    ordered = sorted(single)
    return {"median_ms": statistics.median(single) * 1000, "p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
            "burst_median_ms": statistics.median(burst) * 1000}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/storage_sync.py")
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--commits", type=int, default=500)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir or Path.home()) as tmp:
        for synchronous in ("NORMAL", "FULL"):
            result = measure(Path(tmp), synchronous, args.commits)
            print(f"WAL + {synchronous:6}  one pod per commit: median {result['median_ms']:.3f} ms, "
                  f"p99 {result['p99_ms']:.3f} ms; 100 pods per commit: median {result['burst_median_ms']:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
