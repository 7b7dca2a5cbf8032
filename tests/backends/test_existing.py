"""The existing backend against a practice cluster standing in for a remote one.

The learner's kubeconfig (in a fake HOME) has two contexts: one for the practice cluster and a bogus ``prod``
that is the current context. kube-tutor must copy only the chosen one, never write the learner's file, keep
every lesson object in the learner's namespace and make NodePorts answer on 127.0.0.1.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import socket
import stat
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tutor import paths, shell
from tutor.backends.base import BackendError, Stopped
from tutor.backends.existing import ExistingBackend
from tutor.backends.practice import PracticeBackend
from tutor.lesson import load_lesson
from tutor.lesson.runtime import backend_env
from tutor.lesson.verify import verify

ROOT = Path(__file__).resolve().parents[2]
CONTEXT = "remote-practice"
_numbers = itertools.count(1)


def wait_for(condition: Callable[[], Any], *, timeout: float = 30.0, message: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.05)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
    pytest.fail(f"timed out after {timeout} s waiting for {message} (last: {last!r})")


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PracticeBackend]:
    """A practice cluster (20x clock) playing the learner's remote cluster."""
    backend = PracticeBackend(tmp_path_factory.mktemp("state-remote"), time_scale=20)
    backend.up()
    yield backend
    backend.down()


def write_user_kubeconfig(home: Path, remote: PracticeBackend) -> Path:
    """``~/.kube/config`` with the practice context (CA as a path relative to the file) and a bogus ``prod``."""
    practice = yaml.safe_load(remote.kubeconfig.read_text(encoding="utf-8"))
    cluster = practice["clusters"][0]["cluster"]
    kube = home / ".kube"
    kube.mkdir(parents=True, exist_ok=True)
    (kube / "remote-ca.crt").write_bytes((remote.directory / "pki" / "ca.crt").read_bytes())
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "prod-cluster", "cluster": {"server": "https://127.0.0.1:1",
                                                 "insecure-skip-tls-verify": True}},
            {"name": "remote-cluster", "cluster": {"server": cluster["server"],
                                                   "certificate-authority": "remote-ca.crt"}},
        ],
        "users": [
            {"name": "prod-admin", "user": {"token": "prod-secret-token"}},
            {"name": "remote-learner", "user": dict(practice["users"][0]["user"])},
        ],
        "contexts": [
            {"name": "prod", "context": {"cluster": "prod-cluster", "user": "prod-admin", "namespace": "payments"}},
            {"name": CONTEXT, "context": {"cluster": "remote-cluster", "user": "remote-learner"}},
        ],
        "current-context": "prod",
    }
    path = kube / "config"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def user_config(remote: PracticeBackend, _isolated_home: Path) -> Path:
    return write_user_kubeconfig(_isolated_home, remote)


def kubectl(backend: ExistingBackend, *args: str, input_text: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **backend.env()}
    return subprocess.run([str(paths.kubectl()), *args], env=env, capture_output=True, text=True, timeout=60,
                          input=input_text, stdin=None if input_text is not None else subprocess.DEVNULL,
                          check=False)


def test_up_copies_only_the_chosen_context(tmp_path: Path, user_config: Path) -> None:
    before = user_config.read_bytes()
    backend = ExistingBackend(tmp_path / "state", source=user_config, context=CONTEXT, namespace="learner-copy")
    lines: list[str] = []
    status = backend.up(on_status=lines.append)
    assert status.running and status.backend == "existing"
    assert user_config.read_bytes() == before
    assert backend.kubeconfig == tmp_path / "state" / "existing" / "kubeconfig"
    assert stat.S_IMODE(backend.kubeconfig.stat().st_mode) == 0o600
    user = yaml.safe_load(before)
    ours = yaml.safe_load(backend.kubeconfig.read_text(encoding="utf-8"))
    assert ours == {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "remote-cluster", "cluster": {
            "server": user["clusters"][1]["cluster"]["server"],
            "certificate-authority": str(user_config.parent / "remote-ca.crt")}}],
        "users": [user["users"][1]],
        "contexts": [{"name": CONTEXT, "context": {"cluster": "remote-cluster", "user": "remote-learner",
                                                   "namespace": "learner-copy"}}],
        "current-context": CONTEXT,
        "preferences": {},
    }
    assert "prod" not in backend.kubeconfig.read_text(encoding="utf-8")
    assert lines[-1] == "created namespace learner-copy"
    assert kubectl(backend, "get", "namespace", "learner-copy", "-o", "name").stdout == "namespace/learner-copy\n"
    assert backend.env() == {"KUBECONFIG": str(backend.kubeconfig),
                             "KUBECACHEDIR": str(tmp_path / "state" / "kube-cache"), "KUBERC": "off"}
    # a second up reuses the namespace; without --kubeconfig the copy is reused
    again = ExistingBackend(tmp_path / "state", namespace="learner-copy")
    lines.clear()
    assert again.up(on_status=lines.append).running
    assert "created namespace learner-copy" not in lines
    assert again.down() == Stopped(False)
    assert user_config.read_bytes() == before


def test_verify_keeps_the_lesson_in_the_learners_namespace(tmp_path: Path, user_config: Path) -> None:
    before = user_config.read_bytes()
    backend = ExistingBackend(tmp_path / "state", source=user_config, context=CONTEXT, namespace="learner-1")
    backend.up()
    lesson = load_lesson(ROOT / "lessons" / "rolling-update.yaml")
    out = io.StringIO()
    try:
        code = asyncio_run(verify(lesson, backend_env(backend.env()), backend.namespace, backend=backend,
                                  name="existing", out=out, lang="en"))
        assert code == 0, out.getvalue()
        assert out.getvalue().startswith("verify rolling-update on existing (namespace learner-1)\n")
        everywhere = json.loads(kubectl(backend, "get", "deployments,replicasets,pods,services", "-A",
                                        "-o", "json").stdout)["items"]
        lesson_objects = {(item["kind"], item["metadata"]["namespace"]) for item in everywhere
                          if "kubernetes-bootcamp" in item["metadata"]["name"]}
        assert {namespace for _, namespace in lesson_objects} == {"learner-1"}
        assert {kind for kind, _ in lesson_objects} >= {"Deployment", "ReplicaSet", "Pod", "Service"}
        default = kubectl(backend, "get", "deployments", "-n", "default", "-o", "name")
        assert "kubernetes-bootcamp" not in default.stdout
        # the practice cluster's NodePorts answer on 127.0.0.1: nothing was forwarded
        assert not backend.forwards_path.exists() or json.loads(backend.forwards_path.read_text()) == {}
        assert backend.down() == Stopped(False)
    finally:
        backend.down()
    assert user_config.read_bytes() == before


def asyncio_run(coroutine: Any) -> Any:
    import asyncio

    return asyncio.run(coroutine)


def one_line(error: pytest.ExceptionInfo[BackendError]) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def test_a_missing_file_is_one_clear_line(tmp_path: Path) -> None:
    backend = ExistingBackend(tmp_path / "state", source=tmp_path / "nope", namespace="learner-x")
    with pytest.raises(BackendError) as error:
        backend.up()
    assert one_line(error) == f"kubeconfig {tmp_path / 'nope'} does not exist; pass --kubeconfig with an existing file"
    assert not backend.kubeconfig.exists()


def test_no_file_at_all_asks_for_kubeconfig(tmp_path: Path) -> None:
    with pytest.raises(BackendError) as error:
        ExistingBackend(tmp_path / "state", namespace="learner-x").up()
    assert one_line(error).startswith("the existing backend needs --kubeconfig PATH")


def test_an_unknown_context_lists_the_contexts(tmp_path: Path, user_config: Path) -> None:
    backend = ExistingBackend(tmp_path / "state", source=user_config, context="staging", namespace="learner-x")
    with pytest.raises(BackendError) as error:
        backend.up()
    assert one_line(error) == f"context 'staging' not found in {user_config} (contexts: prod, {CONTEXT})"


def test_an_unreachable_cluster_says_what_kubectl_said(tmp_path: Path, user_config: Path) -> None:
    before = user_config.read_bytes()
    backend = ExistingBackend(tmp_path / "state", source=user_config, namespace="learner-x")  # current: prod
    started = time.monotonic()
    with pytest.raises(BackendError) as error:
        backend.up()
    message = one_line(error)
    assert message.startswith("the cluster of context 'prod' (https://127.0.0.1:1) does not answer: ")
    assert "refused" in message
    assert time.monotonic() - started < 15
    assert not backend.status().running
    assert user_config.read_bytes() == before


@pytest.mark.parametrize("namespace", ["kube-system", "kube-public", "kube-node-lease"])
def test_system_namespaces_are_refused(tmp_path: Path, namespace: str) -> None:
    with pytest.raises(BackendError, match=f"refusing namespace '{namespace}': it belongs to Kubernetes itself"):
        ExistingBackend(tmp_path, source=tmp_path / "config", namespace=namespace)


def test_a_bad_namespace_name_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="is not a namespace name"):
        ExistingBackend(tmp_path, namespace="Learner_1")


def test_status_before_up(tmp_path: Path) -> None:
    status = ExistingBackend(tmp_path, namespace="learner-x").status()
    assert not status.running
    assert status.detail.startswith("not set up: run `kube-tutor --backend existing")


# ----------------------------------------------------------------------------------------------------------------
# Port-forward: the practice cluster has no pods/portforward, so a stand-in kubectl relays `port-forward` to
# another NodePort of the same app, and the NodePort under test is one the practice cluster could not open.

RELAY = '''
import asyncio, json, os, sys
args = sys.argv[1:]
with open(os.environ["FAKE_FORWARD_ARGS"], "a") as f:
    f.write(json.dumps(args) + "\\n")
local = int(args[-1].split(":")[0])
target = int(os.environ["FAKE_FORWARD_TO"])

async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()

async def handle(reader, writer):
    up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
    await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer), return_exceptions=True)

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", local)
    print(f"Forwarding from 127.0.0.1:{local} -> {args[-1].split(':')[1]}", flush=True)
    await server.serve_forever()

asyncio.run(main())
'''


def fake_kubectl(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    relay = directory / "relay.py"
    relay.write_text(RELAY, encoding="utf-8")
    script = directory / "kubectl"
    script.write_text(f'#!/bin/sh\nif [ "$1" = "port-forward" ]; then shift; exec {sys.executable} {relay} "$@"; fi\n'
                      f'exec {paths.kubectl()} "$@"\n', encoding="utf-8")
    script.chmod(0o755)
    return script


def free_node_port() -> int:
    for port in range(32700, 30100, -1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.fail("no free port in the NodePort range")


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def test_port_forward_when_the_node_port_does_not_answer(tmp_path: Path, user_config: Path, remote: PracticeBackend,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = f"learner-pf{next(_numbers)}"
    ExistingBackend(tmp_path / "state", source=user_config, context=CONTEXT, namespace=namespace).up()
    backend = ExistingBackend(tmp_path / "state", namespace=namespace, kubectl=fake_kubectl(tmp_path / "bin"))
    try:
        assert kubectl(backend, "create", "deployment", "kubernetes-bootcamp",
                       "--image=gcr.io/google-samples/kubernetes-bootcamp:v1", "--replicas=2").returncode == 0
        assert kubectl(backend, "expose", "deployment/kubernetes-bootcamp", "--name=direct", "--type=NodePort",
                       "--port=8080").returncode == 0
        assert kubectl(backend, "rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s").returncode == 0
        direct = int(kubectl(backend, "get", "service", "direct", "-o",
                             "jsonpath={.spec.ports[0].nodePort}").stdout)
        wait_for(lambda: answers(direct), message=f"the practice NodePort {direct}")
        # hold the port (bound, not listening) while the Service is created, so the "node" cannot open it
        node_port = free_node_port()
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", node_port))
        try:
            manifest = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                        "spec": {"type": "NodePort", "selector": {"app": "kubernetes-bootcamp"},
                                 "ports": [{"port": 8080, "nodePort": node_port}]}}
            done = kubectl(backend, "apply", "-f", "-", input_text=json.dumps(manifest))
            assert done.returncode == 0, done.stderr
            wait_for(lambda: f"cannot listen on 127.0.0.1:{node_port}" in remote.log_path.read_text(),
                     message="the practice cluster giving up on the NodePort")
        finally:
            blocker.close()
        assert not answers(node_port)

        calls = tmp_path / "forward-args"
        monkeypatch.setenv("FAKE_FORWARD_ARGS", str(calls))
        monkeypatch.setenv("FAKE_FORWARD_TO", str(direct))
        backend.after_setup()
        with urllib.request.urlopen(f"http://127.0.0.1:{node_port}/", timeout=10) as response:
            assert response.read().decode().startswith("Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-")
        assert [json.loads(line) for line in calls.read_text().splitlines()] == [
            ["-n", namespace, "service/web", f"{node_port}:8080"]]
        forwards = json.loads(backend.forwards_path.read_text())
        assert list(forwards) == [f"web:{node_port}"]  # `direct` answered already: not forwarded
        pid = forwards[f"web:{node_port}"]["pid"]
        assert shell.pid_alive(pid)
        log = (tmp_path / "state" / "existing" / "port-forward-web.log").read_text()
        assert f"port-forward -n {namespace} service/web {node_port}:8080" in log.splitlines()[0]
        assert f"Forwarding from 127.0.0.1:{node_port} -> 8080" in log

        backend.after_setup()  # idempotent: the live port-forward is reused
        assert json.loads(backend.forwards_path.read_text())[f"web:{node_port}"]["pid"] == pid
        assert len(calls.read_text().splitlines()) == 1

        assert backend.down() == Stopped(True)
        assert not shell.pid_alive(pid)
        assert not answers(node_port)
        assert not backend.forwards_path.exists()
        assert backend.down() == Stopped(False)
        # nothing in the cluster was deleted by down()
        assert kubectl(backend, "get", "service", "web", "-o", "name").stdout == "service/web\n"
    finally:
        backend.down()
        kubectl(backend, "delete", "namespace", namespace, "--wait=false")


def test_a_port_forward_that_cannot_listen_is_one_clear_line(tmp_path: Path, user_config: Path,
                                                            remote: PracticeBackend) -> None:
    """The real kubectl cannot listen on the NodePort's number (this test holds it), so the forward fails; the
    error says why."""
    namespace = f"learner-pf{next(_numbers)}"
    backend = ExistingBackend(tmp_path / "state", source=user_config, context=CONTEXT, namespace=namespace)
    backend.up()
    node_port = free_node_port()
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", node_port))
    try:
        assert kubectl(backend, "create", "deployment", "kubernetes-bootcamp",
                       "--image=gcr.io/google-samples/kubernetes-bootcamp:v1", "--replicas=1").returncode == 0
        manifest = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                    "spec": {"type": "NodePort", "selector": {"app": "kubernetes-bootcamp"},
                             "ports": [{"port": 8080, "nodePort": node_port}]}}
        assert kubectl(backend, "apply", "-f", "-", input_text=json.dumps(manifest)).returncode == 0
        wait_for(lambda: f"cannot listen on 127.0.0.1:{node_port}" in remote.log_path.read_text(),
                 message="the practice cluster giving up on the NodePort")
        with pytest.raises(BackendError) as error:
            backend.after_setup()
        message = one_line(error)
        assert message.startswith(f"kubectl port-forward for service/web did not listen on 127.0.0.1:{node_port}")
        assert not backend.forwards_path.exists() or json.loads(backend.forwards_path.read_text()) == {}
        assert backend.down() == Stopped(False)
    finally:
        blocker.close()
        backend.down()
        kubectl(backend, "delete", "namespace", namespace, "--wait=false")
