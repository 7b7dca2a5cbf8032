"""Every write the practice cluster answers is durable: it survives a ``kill -9`` of the server process.

Each case starts the real server process (``python -m tutor.practice serve DIR``, through the practice
backend), makes writes with the real kubectl, sends SIGKILL as soon as kubectl has returned, restarts the
server on the same directory and checks what came back. Losses are counted over every iteration and
reported together, so a failure says how many acknowledged writes were lost, not only the first.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.practice.conftest import TIME_SCALE, Kube, wait_for
from tutor import shell
from tutor.backends.practice import PracticeBackend
from tutor.kube.files import atomic_write

V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
V2 = "jocatalin/kubernetes-bootcamp:v2"
ITERATIONS = 10


class Server:
    """One practice cluster process on its own state directory, killed with SIGKILL and started again."""

    def __init__(self, state: Path) -> None:
        self.backend = PracticeBackend(state, time_scale=TIME_SCALE)
        self.pid = 0

    @property
    def directory(self) -> Path:
        return self.backend.directory

    def start(self) -> Kube:
        status = self.backend.up()
        assert status.running and status.pid, status.detail
        self.pid = status.pid
        return Kube(self.backend.kubeconfig, "default", Path(os.environ["HOME"]))

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed on the way out."""
        os.kill(self.pid, signal.SIGKILL)
        wait_for(lambda: not shell.pid_alive(self.pid), timeout=10, message="the killed server to exit")

    def restart(self) -> Kube:
        self.kill()
        return self.start()

    def log(self) -> str:
        return self.backend.log_path.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "state")
    yield running
    running.backend.down()


def rv(text: str) -> int:
    return int(text.strip())


def deployment_or_again(kube: Kube, replicas: int, image: str, lost: list[str], label: str) -> dict[str, Any]:
    """Deployment ``web`` after a restart; when it is gone, count it lost and create it as it was answered."""
    got = kube.run("get", "deployment", "web", "-o", "json")
    if not got.ok:
        lost.append(f"{label} the whole deployment ({got.stderr.strip()})")
        kube("create", "deployment", "web", f"--image={image}", f"--replicas={replicas}")
        got = kube.run("get", "deployment", "web", "-o", "json", check=True)
    return dict(json.loads(got.stdout))


def test_every_acknowledged_write_survives_kill_9(server: Server) -> None:
    """scale, set image, label, create and delete, answered, then SIGKILL at once: all of them come back."""
    kube = server.start()
    kube("create", "deployment", "web", f"--image={V1}", "--replicas=1")
    lost: list[str] = []
    reused: list[str] = []
    for i in range(1, ITERATIONS + 1):
        replicas, image = i % 3 + 1, V2 if i % 2 else V1
        kube("scale", "deployment/web", f"--replicas={replicas}")
        kube("set", "image", "deployment/web", f"kubernetes-bootcamp={image}")
        kube("create", "configmap", f"c{i}", f"--from-literal=step={i}")
        kube("delete", "configmap", f"c{i - 1}", "--ignore-not-found")
        last = rv(kube("label", "deployment/web", f"step={i}", "--overwrite",
                       "-o", "jsonpath={.metadata.resourceVersion}"))
        kube = server.restart()

        d = deployment_or_again(kube, replicas, image, lost, f"#{i}")
        if d["spec"]["replicas"] != replicas:
            lost.append(f"#{i} scale to {replicas} (found {d['spec']['replicas']})")
        found_image = d["spec"]["template"]["spec"]["containers"][0]["image"]
        if found_image != image:
            lost.append(f"#{i} set image {image} (found {found_image})")
        if d["metadata"].get("labels", {}).get("step") != str(i):
            lost.append(f"#{i} label step={i} (found {d['metadata'].get('labels')})")
        names = set(kube("get", "configmaps", "-o", "jsonpath={.items[*].metadata.name}").split())
        if f"c{i}" not in names:
            lost.append(f"#{i} create configmap c{i}")
        if f"c{i - 1}" in names:
            lost.append(f"#{i} delete configmap c{i - 1}")
        after = rv(kube("create", "configmap", f"probe{i}", "-o", "jsonpath={.metadata.resourceVersion}"))
        if after <= last:
            reused.append(f"#{i}: resourceVersion {after} after the restart, {last} answered before it")
        kube("delete", "configmap", f"probe{i}")
    assert (lost, reused) == ([], []), (
        f"lost {len(lost)} of {5 * ITERATIONS} acknowledged writes: {lost}; "
        f"resourceVersions went back after {len(reused)} of {ITERATIONS} restarts: {reused}")


def _converged(kube: Kube, replicas: int, image: str) -> dict[str, Any] | None:
    d = kube.json("get", "deployment", "web")
    status = d.get("status", {})
    if status.get("observedGeneration", 0) < d["metadata"]["generation"]:
        return None
    if not (status.get("replicas") == status.get("updatedReplicas") == status.get("readyReplicas")
            == status.get("availableReplicas") == replicas):
        return None
    pods = [p for p in kube.pods("app=web") if not p["metadata"].get("deletionTimestamp")]
    if len(pods) != replicas or any(p["spec"]["containers"][0]["image"] != image for p in pods):
        return None
    return d


def test_a_rollout_killed_mid_way_converges_to_the_last_spec(server: Server) -> None:
    """scale + set image answered, SIGKILL at once, restart: the rollout ends at the last spec."""
    kube = server.start()
    kube("create", "deployment", "web", f"--image={V1}", "--replicas=3")
    kube("rollout", "status", "deployment/web", "--timeout=60s")
    lost: list[str] = []
    stuck: list[str] = []
    reused: list[str] = []
    for i in range(1, ITERATIONS + 1):
        replicas, image = 2 + i % 4, V2 if i % 2 else V1
        kube("scale", "deployment/web", f"--replicas={replicas}")
        last = rv(kube("set", "image", "deployment/web", f"kubernetes-bootcamp={image}",
                       "-o", "jsonpath={.metadata.resourceVersion}"))
        kube = server.restart()
        d = deployment_or_again(kube, replicas, image, lost, f"#{i}:")
        found = (d["spec"]["replicas"], d["spec"]["template"]["spec"]["containers"][0]["image"])
        if found != (replicas, image):
            lost.append(f"#{i}: answered {(replicas, image)}, found {found} after the restart")
            kube("scale", "deployment/web", f"--replicas={replicas}")
            kube("set", "image", "deployment/web", f"kubernetes-bootcamp={image}")
        listed = json.loads(kube("get", "--raw", "/apis/apps/v1/namespaces/default/deployments"))
        if rv(listed["metadata"]["resourceVersion"]) < last:
            reused.append(f"#{i}: the list resourceVersion went back below {last}")
        try:
            wait_for(lambda kube=kube, replicas=replicas, image=image: _converged(kube, replicas, image), timeout=45,
                     message=f"the rollout to {replicas} x {image}")
        except pytest.fail.Exception as error:
            stuck.append(f"#{i}: {error}")
            kube = server.restart()
    assert (lost, stuck, reused) == ([], [], []), (
        f"lost the last spec after {len(lost)} of {ITERATIONS} restarts: {lost}; "
        f"{len(stuck)} of {ITERATIONS} restarts did not converge: {stuck}; "
        f"resourceVersions went back after {len(reused)} of {ITERATIONS} restarts: {reused}")


def test_what_the_node_keeps_survives_kill_9(server: Server) -> None:
    """The app's answers (request count and log line) and the pulled image: answered, SIGKILL, still there."""
    kube = server.start()
    kube("create", "deployment", "web", f"--image={V2}", "--replicas=1")
    kube("expose", "deployment/web", "--type=NodePort", "--port", "8080")
    kube("rollout", "status", "deployment/web", "--timeout=60s")
    port = int(kube("get", "service", "web", "-o", "jsonpath={.spec.ports[0].nodePort}"))
    for _ in range(3):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert b"v=2" in response.read()
    kube = server.restart()
    assert "Total Requests: 3 |" in kube("logs", "deployment/web")
    with sqlite3.connect(server.directory / "state.db") as db:
        images = json.loads(db.execute("SELECT value FROM node_state WHERE key = 'images'").fetchone()[0])
    assert "docker.io/jocatalin/kubernetes-bootcamp:v2" in images


def test_a_corrupt_database_is_reported_and_kept_aside(server: Server) -> None:
    """The cluster does not silently come up empty: cluster.log says what happened and how to go back."""
    kube = server.start()
    kube("create", "configmap", "precious", "--from-literal=k=v")
    server.backend.down()
    database = server.directory / "state.db"
    assert database.exists()
    with open(database, "r+b") as handle:
        handle.seek(0)
        handle.write(b"this is not an SQLite database, it was overwritten" * 40)
    kube = server.start()
    kept = sorted(server.directory.glob("state.db.broken-*"))
    assert kept, sorted(p.name for p in server.directory.iterdir())
    assert kept[0].read_bytes().startswith(b"this is not an SQLite database")
    log = server.log()
    assert "ERROR" in log and str(kept[0]) in log, log[-2000:]
    assert "To go back" in log
    events = kube("get", "events", "-n", "default", "--field-selector", "reason=StateUnreadable")
    assert str(kept[0].name) in events
    assert kube("get", "namespace", "default", "-o", "name").strip() == "namespace/default"


def test_a_state_json_of_the_previous_version_is_imported_once(server: Server) -> None:
    """A learner's cluster survives the upgrade: the objects, the resourceVersion, the pulled images."""
    directory = server.directory
    directory.mkdir(parents=True)
    namespace = {"apiVersion": "v1", "kind": "Namespace",
                 "metadata": {"name": "default", "uid": "u-ns", "resourceVersion": "7",
                              "creationTimestamp": "2026-01-01T00:00:00Z",
                              "labels": {"kubernetes.io/metadata.name": "default"}},
                 "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}
    configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": "from-before", "namespace": "default", "uid": "u-cm",
                              "resourceVersion": "4100", "creationTimestamp": "2026-01-01T00:00:00Z"},
                 "data": {"k": "v"}}
    old = {"version": 1, "port": 0,
           "store": {"resourceVersion": 4242, "objects": {"namespaces": [namespace], "configmaps": [configmap]}},
           "kubelet": {"images": [V1, "docker.io/jocatalin/kubernetes-bootcamp:v2"], "logs": {}, "requests": {}}}
    (directory / "state.json").write_text(json.dumps(old))
    kube = server.start()
    assert kube.json("get", "configmap", "from-before")["data"] == {"k": "v"}
    assert rv(kube("create", "configmap", "new", "-o", "jsonpath={.metadata.resourceVersion}")) > 4242
    assert not (directory / "state.json").exists()
    assert (directory / "state.json.imported").exists()
    with sqlite3.connect(directory / "state.db") as db:
        images = json.loads(db.execute("SELECT value FROM node_state WHERE key = 'images'").fetchone()[0])
    assert "docker.io/jocatalin/kubernetes-bootcamp:v2" in images
    kube = server.restart()  # imported once: the renamed file is not read again
    assert kube.json("get", "configmap", "new")["metadata"]["name"] == "new"


def test_concurrent_atomic_writes_never_tear_or_collide(tmp_path: Path) -> None:
    """Two writers of the same file at once: no error, and the file is always one whole version."""
    target = tmp_path / "state.json"
    payloads = [json.dumps({"writer": w, "pad": "x" * 200_000}).encode() for w in range(2)]
    errors: list[BaseException] = []
    torn: list[int] = []

    def writer(payload: bytes) -> None:
        for _ in range(100):
            try:
                atomic_write(target, payload)
            except OSError as error:
                errors.append(error)

    def reader() -> None:
        for _ in range(200):
            try:
                data = target.read_bytes()
            except FileNotFoundError:
                continue
            if data not in payloads:
                torn.append(len(data))

    threads = [threading.Thread(target=writer, args=(p,)) for p in payloads] + [threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert torn == []
    assert target.read_bytes() in payloads
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"], "no temporary file is left behind"
