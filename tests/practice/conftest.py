"""Fixtures that run the REAL kubectl against one practice cluster shared by the session."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tutor import paths
from tutor.backends.practice import PracticeBackend

TIME_SCALE = 20.0
"""Tests run the practice clock 20x faster: a 30 s grace period lasts 1.5 s."""

_counter = itertools.count(1)


def wait_for(condition: Callable[[], Any], *, timeout: float = 30.0, interval: float = 0.05,
             message: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
    pytest.fail(f"timed out after {timeout} s waiting for {message} (last: {last!r})")


async def kubectl_of(directory: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The real kubectl against an in-process cluster in ``directory`` (its kubeconfig), from a test's event
    loop: run in a thread so the cluster on that loop keeps serving."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home), "KUBECONFIG": str(directory / "kubeconfig"),
           "KUBERC": "off", "KUBECACHEDIR": str(home / "cache")}
    return await asyncio.to_thread(subprocess.run, [str(paths.kubectl()), *args], env=env, capture_output=True,
                                   text=True, timeout=60, check=False)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


class Kube:
    """The real kubectl, pointed at the practice cluster, in one namespace of its own."""

    def __init__(self, kubeconfig: Path, namespace: str, home: Path) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.env = {
            "PATH": f"{paths.bin_dir()}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": str(home),
            "KUBECONFIG": str(kubeconfig),
            "KUBECACHEDIR": str(home / "kube-cache"),
            "KUBERC": "off",
            "LANG": "C.UTF-8",
        }

    def run(self, *args: str, timeout: float = 60, check: bool = False) -> Result:
        done = subprocess.run([str(paths.kubectl()), *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        result = Result(done.returncode, done.stdout, done.stderr)
        if check and not result.ok:
            pytest.fail(f"kubectl {' '.join(args)} failed ({result.returncode}): {result.stderr}")
        return result

    def __call__(self, *args: str, timeout: float = 60) -> str:
        return self.run(*args, timeout=timeout, check=True).stdout

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "-o", "json"))

    def shell(self, script: str, timeout: float = 60) -> Result:
        done = subprocess.run(["bash", "-c", script], env=self.env, capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, check=False)
        return Result(done.returncode, done.stdout, done.stderr)

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen([str(paths.kubectl()), *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)

    def pods(self, selector: str = "app=kubernetes-bootcamp") -> list[dict[str, Any]]:
        return self.json("get", "pods", "-l", selector)["items"]

    def deployment(self, name: str = "kubernetes-bootcamp") -> dict[str, Any]:
        return self.json("get", "deployment", name)


@pytest.fixture(scope="session")
def practice(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PracticeBackend]:
    """One practice cluster process for the whole session (its own state dir, 20x clock)."""
    state = tmp_path_factory.mktemp("state")
    backend = PracticeBackend(state, time_scale=TIME_SCALE)
    backend.up()
    yield backend
    backend.down()


@pytest.fixture
def kube(practice: PracticeBackend, tmp_path: Path) -> Iterator[Kube]:
    """kubectl in a fresh namespace; the namespace is deleted afterwards."""
    namespace = f"t{next(_counter)}-{os.getpid()}"
    config = yaml.safe_load(practice.kubeconfig.read_text())
    config["contexts"][0]["context"]["namespace"] = namespace
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump(config))
    home = Path(os.environ["HOME"])
    k = Kube(kubeconfig, namespace, home)
    k("create", "namespace", namespace)
    yield k
    k.run("delete", "namespace", namespace, "--wait=false")


@pytest.fixture
def bootcamp(kube: Kube) -> Kube:
    """The lesson's start state: 4 replicas of v1 behind a NodePort service on 8080."""
    assert kube("create", "deployment", "kubernetes-bootcamp",
                "--image=gcr.io/google-samples/kubernetes-bootcamp:v1", "--replicas=4").strip() == \
        "deployment.apps/kubernetes-bootcamp created"
    assert kube("expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080").strip() == \
        "service/kubernetes-bootcamp exposed"
    kube("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    return kube


class WatchStream:
    """``kubectl get pods -w -o json --output-watch-events`` read by a thread, event by event."""

    def __init__(self, kube: Kube, *args: str) -> None:
        import threading

        self.events: list[dict[str, Any]] = []
        self._process = kube.popen("get", "pods", "-w", "-o", "json", "--output-watch-events", *args)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        decoder = json.JSONDecoder()
        buffer = ""
        assert self._process.stdout is not None
        for line in self._process.stdout:
            buffer += line
            while buffer.strip():
                try:
                    event, end = decoder.raw_decode(buffer.lstrip())
                except ValueError:
                    break
                self.events.append(event)
                buffer = buffer.lstrip()[end:]

    def wait_for_events(self, count: int) -> None:
        wait_for(lambda: len(self.events) >= count, message=f"{count} watch events")

    def stop(self) -> list[dict[str, Any]]:
        self._process.terminate()
        self._process.wait(10)
        self._thread.join(10)
        return self.events


def rollout_bounds(events: list[dict[str, Any]], initial: int) -> tuple[int, int, int]:
    """Replay pod watch events; return (max active pods, min ready active pods, events after the list)."""
    pods: dict[str, dict[str, Any]] = {}
    most, least = 0, 10**9
    for seen, event in enumerate(events, 1):
        obj = event["object"]
        if event["type"] == "DELETED":
            pods.pop(obj["metadata"]["name"], None)
        else:
            pods[obj["metadata"]["name"]] = obj
        if seen < initial:
            continue
        active = [p for p in pods.values() if not p["metadata"].get("deletionTimestamp")]
        ready = [p for p in active if any(c["type"] == "Ready" and c["status"] == "True"
                                          for c in p["status"].get("conditions", []))]
        most, least = max(most, len(active)), min(least, len(ready))
    return most, least, max(0, len(events) - initial)
