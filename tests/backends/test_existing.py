"""The existing backend against a practice cluster standing in for a remote one.

The user's kubeconfig (in a fake HOME) has two contexts: the practice cluster's admin and a bogus ``prod`` that is
the current context. By default kube-tutor makes a learner seat with the chosen one (``tutor.backends.seats``):
kube-tutor's kubeconfig then holds the seat's token and the CA and nothing of the user's credentials, works in the
seat's namespace only, and tear-down leaves the cluster as it was. With ``own_credentials`` it copies only the
chosen context. Either way it never writes the user's file, keeps every lesson object in the learner's namespace
and makes NodePorts answer on 127.0.0.1.
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

from tutor import cli, paths, shell
from tutor.backends import seats
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


def admin_kubectl(remote: PracticeBackend, *args: str, input_text: str | None = None
                  ) -> subprocess.CompletedProcess[str]:
    """kubectl as the practice cluster's admin (the test's own view of the "remote" cluster)."""
    env = {**os.environ, **remote.env()}
    return subprocess.run([str(paths.kubectl()), *args], env=env, capture_output=True, text=True, timeout=60,
                          input=input_text, stdin=None if input_text is not None else subprocess.DEVNULL,
                          check=False)


def cluster_objects(remote: PracticeBackend) -> dict[str, list[str]]:
    """What a seat's tear-down must leave as it found: namespaces, cluster roles and bindings, kube-system's roles
    and bindings (those being deleted count as gone)."""
    def names(*args: str) -> list[str]:
        done = admin_kubectl(remote, "get", *args, "-o", "json")
        assert done.returncode == 0, done.stderr
        return sorted(item["metadata"]["name"] for item in json.loads(done.stdout)["items"]
                      if not item["metadata"].get("deletionTimestamp"))

    return {"namespaces": names("namespaces"), "clusterroles": names("clusterroles"),
            "clusterrolebindings": names("clusterrolebindings"),
            "kube-system roles": names("roles", "-n", "kube-system"),
            "kube-system rolebindings": names("rolebindings", "-n", "kube-system")}


def secrets_of(config: Any) -> list[str]:
    """Every credential string of a kubeconfig's users (tokens, certificates, keys, their files)."""
    found: list[str] = []
    for user in config.get("users") or []:
        for value in (user.get("user") or {}).values():
            if isinstance(value, str) and len(value) >= 8:
                found.append(value)
    return found


def test_up_makes_a_seat_that_holds_no_admin_credential_and_tear_down_leaves_what_was_there(
        tmp_path: Path, user_config: Path, remote: PracticeBackend, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 13's acceptance: a fake ~/.kube/config with an admin context; the seat kubeconfig holds no admin
    credential; ``cluster down --delete-state`` leaves only what existed before ``up``."""
    before_file = user_config.read_bytes()
    before = cluster_objects(remote)
    state = tmp_path / "state"
    # the remote's clock runs 20x: its tokens end 20x sooner in real time, so a month (36 h here) keeps this one
    # far from `up`'s renewal margin
    lifetime = 30 * 24 * 3600
    backend = ExistingBackend(state, source=user_config, context=CONTEXT, namespace="seat-acc", lifetime=lifetime)
    lines: list[str] = []
    try:
        status = backend.up(on_status=lines.append)
        assert status.running and status.backend == "existing"
        assert status.detail.startswith(f"seat seat-acc (ServiceAccount {seats.ACCOUNT}, token expires ")
        assert lines[0] == (f"preparing the learner seat seat-acc with context {CONTEXT} (a ServiceAccount with "
                            f"the admin role in that namespace only; your credentials are not handed to the learner)")
        assert lines[1].startswith("seat seat-acc is ready (its token expires ")
        assert not [line for line in lines if "warning" in line]
        assert user_config.read_bytes() == before_file

        # kube-tutor's kubeconfig: the seat's token and the CA, nothing of the user's file
        assert backend.kubeconfig == state / "existing" / "kubeconfig"
        assert stat.S_IMODE(backend.kubeconfig.stat().st_mode) == 0o600
        ours_text = backend.kubeconfig.read_text(encoding="utf-8")
        ours = yaml.safe_load(ours_text)
        [user] = ours["users"]
        assert set(user["user"]) == {"token"}
        user_file = yaml.safe_load(before_file)
        admin_secrets = secrets_of(user_file) + secrets_of(yaml.safe_load(remote.kubeconfig.read_text()))
        assert admin_secrets and not [secret for secret in admin_secrets if secret in ours_text]
        assert "prod" not in ours_text
        assert ours["contexts"][0]["context"]["namespace"] == "seat-acc"
        record = json.loads(backend.credentials_path.read_text())
        assert record == {"mode": "seat", "kubeconfig": str(user_config.resolve()), "context": CONTEXT,
                          "lifetime": lifetime}

        # the learner works in the seat and nowhere else
        created = kubectl(backend, "create", "deployment", "kubernetes-bootcamp",
                          "--image=gcr.io/google-samples/kubernetes-bootcamp:v1")
        assert created.returncode == 0 and created.stdout.strip() == "deployment.apps/kubernetes-bootcamp created"
        assert kubectl(backend, "auth", "can-i", "create", "deployments").stdout.strip() == "yes"
        user_name = "system:serviceaccount:seat-acc:learner"
        for args, message in [  # `create deployment` words it as kubectl's create.go does: "failed to create"
            (("get", "pods", "-n", "default"),
             f'Error from server (Forbidden): pods is forbidden: User "{user_name}" cannot list resource "pods" in '
             f'API group "" in the namespace "default"'),
            (("create", "deployment", "elsewhere", "--image=nginx", "-n", "default"),
             f'error: failed to create deployment: deployments.apps is forbidden: User "{user_name}" cannot create '
             f'resource "deployments" in API group "apps" in the namespace "default"'),
        ]:
            refused = kubectl(backend, *args)
            assert (refused.returncode, refused.stderr.strip()) == (1, message)

        # a later `up` without --kubeconfig reuses the seat while its token lasts ...
        token = user["user"]["token"]
        again = ExistingBackend(state, namespace="seat-acc")
        lines.clear()
        assert again.up(on_status=lines.append).running
        assert yaml.safe_load(backend.kubeconfig.read_text())["users"][0]["user"]["token"] == token
        assert not [line for line in lines if "preparing" in line]
        # ... and renews it (from the recorded kubeconfig and context) once it has ended
        seat_record = json.loads((state / "existing" / "seat.json").read_text())
        (state / "existing" / "seat.json").write_text(json.dumps({**seat_record, "expires": "2000-01-01T00:00:00Z"}))
        expired = again.status()
        assert not expired.running
        assert expired.detail.startswith("seat seat-acc: its token expired at 2000-01-01T00:00:00Z; run `kube-tutor")
        lines.clear()
        assert again.up(on_status=lines.append).running
        assert lines[0].startswith("preparing the learner seat seat-acc")
        assert yaml.safe_load(backend.kubeconfig.read_text())["users"][0]["user"]["token"] != token
        assert kubectl(backend, "get", "deployment", "kubernetes-bootcamp", "-o", "name").returncode == 0

        # `cluster status` says it is a seat and when its token ends
        capsys.readouterr()
        args = ["--state-dir", str(state), "cluster", "status", "--backend", "existing", "--namespace", "seat-acc"]
        assert cli.main(args) == 0
        said = capsys.readouterr().out
        assert "existing cluster: running (https://127.0.0.1:" in said
        assert f"seat seat-acc (ServiceAccount learner, token expires {seats.load_seat(state / 'existing').expires}" \
            in said  # type: ignore[union-attr]

        # another namespace, or --own-credentials without a kubeconfig, is refused while the seat is held
        with pytest.raises(BackendError) as error:
            ExistingBackend(state, namespace="seat-other").up()
        assert one_line(error).startswith("kube-tutor holds the seat 'seat-acc' here, not 'seat-other'")
        with pytest.raises(BackendError) as error:
            ExistingBackend(state, namespace="seat-acc", own_credentials=True).up()
        assert one_line(error).endswith("pass --kubeconfig PATH --own-credentials")

        # `cluster down` keeps the seat (the learner's work stays) ...
        assert cli.main(["--state-dir", str(state), "cluster", "down", "--backend", "existing",
                         "--namespace", "seat-acc"]) == 0
        assert kubectl(backend, "get", "deployment", "kubernetes-bootcamp", "-o", "name").returncode == 0
        # ... `--delete-state` deletes exactly what kube-tutor made
        capsys.readouterr()
        assert cli.main(["--state-dir", str(state), "cluster", "down", "--backend", "existing",
                         "--namespace", "seat-acc", "--delete-state"]) == 0
        out = capsys.readouterr().out
        assert "deleted the seat seat-acc: " in out and "Namespace/seat-acc" in out
        assert not (state / "existing").exists()
    finally:
        if seats.load_seat(state / "existing") is not None:
            ExistingBackend(state, namespace="seat-acc").delete_seat()
        wait_for(lambda: cluster_objects(remote) == before, timeout=60, message="the cluster as it was before")
    assert user_config.read_bytes() == before_file


def test_a_user_who_may_not_make_a_seat_gets_one_line(tmp_path: Path, _isolated_home: Path,
                                                      remote: PracticeBackend) -> None:
    """A user who may create and delete namespaces but nothing else: the seat cannot be made; one line says
    kubectl's Forbidden and suggests --own-credentials, and the half-made namespace is taken back."""
    manifest = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "outsiders"}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "limited", "namespace": "outsiders"}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "test:limited"},
         "rules": [{"apiGroups": [""], "resources": ["namespaces"], "verbs": ["get", "list", "create", "delete"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": {"name": "test:limited"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "test:limited"},
         "subjects": [{"kind": "ServiceAccount", "name": "limited", "namespace": "outsiders"}]},
    ]
    done = admin_kubectl(remote, "create", "-f", "-", input_text=yaml.safe_dump_all(manifest))
    assert done.returncode == 0, done.stderr
    try:
        token = admin_kubectl(remote, "create", "token", "limited", "-n", "outsiders").stdout.strip()
        assert token
        practice = yaml.safe_load(remote.kubeconfig.read_text(encoding="utf-8"))
        config = {"apiVersion": "v1", "kind": "Config",
                  "clusters": [{"name": "shared", "cluster": practice["clusters"][0]["cluster"]}],
                  "users": [{"name": "limited", "user": {"token": token}}],
                  "contexts": [{"name": "shared", "context": {"cluster": "shared", "user": "limited"}}],
                  "current-context": "shared"}
        path = _isolated_home / ".kube" / "limited"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        before_file = path.read_bytes()
        before = cluster_objects(remote)
        backend = ExistingBackend(tmp_path / "state", source=path, namespace="seat-denied")
        with pytest.raises(BackendError) as error:
            backend.up()
        user = "system:serviceaccount:outsiders:limited"
        assert one_line(error) == (
            f"your credentials (context 'shared') cannot make a learner seat: kubectl create: Error from server "
            f"(Forbidden): error when creating \"STDIN\": serviceaccounts is forbidden: User \"{user}\" cannot "
            f"create resource \"serviceaccounts\" in API group \"\" in the namespace \"seat-denied\"; ask the cluster's "
            f"admin for a seat, or pass "
            f"--own-credentials to let the learner use your credentials as they are (only on a cluster of your own)")
        wait_for(lambda: cluster_objects(remote) == before, timeout=60, message="the half-made seat taken back")
        assert path.read_bytes() == before_file
        assert not backend.kubeconfig.exists()
    finally:
        for kind, name in [("clusterrolebinding", "test:limited"), ("clusterrole", "test:limited"),
                           ("namespace", "outsiders")]:
            admin_kubectl(remote, "delete", kind, name, "--ignore-not-found", "--wait=false")


def test_own_credentials_copies_only_the_chosen_context(tmp_path: Path, user_config: Path) -> None:
    before = user_config.read_bytes()
    backend = ExistingBackend(tmp_path / "state", source=user_config, context=CONTEXT, namespace="learner-copy",
                              own_credentials=True)
    lines: list[str] = []
    status = backend.up(on_status=lines.append)
    assert status.running and status.backend == "existing"
    assert status.detail == f"context {CONTEXT}, namespace learner-copy, your own credentials (--own-credentials)"
    assert lines[0] == (f"warning: --own-credentials: the learner acts with all the rights of context {CONTEXT} "
                        f"(for a cluster of your own only, never a shared one)")
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
    assert json.loads(backend.credentials_path.read_text())["mode"] == "own-credentials"
    assert kubectl(backend, "get", "namespace", "learner-copy", "-o", "name").stdout == "namespace/learner-copy\n"
    assert backend.env() == {"KUBECONFIG": str(backend.kubeconfig),
                             "KUBECACHEDIR": str(tmp_path / "state" / "kube-cache"), "KUBERC": "off"}
    # a second up reuses the namespace; without --kubeconfig the copy is reused (and the warning said again)
    again = ExistingBackend(tmp_path / "state", namespace="learner-copy")
    lines.clear()
    assert again.up(on_status=lines.append).running
    assert "created namespace learner-copy" not in lines
    assert lines[0].startswith("warning: --own-credentials: ")
    assert again.down() == Stopped(False)
    assert again.delete_seat() == []  # no seat: nothing in the cluster is deleted
    assert kubectl(backend, "get", "namespace", "learner-copy", "-o", "name").returncode == 0
    assert user_config.read_bytes() == before
    kubectl(backend, "delete", "namespace", "learner-copy", "--wait=false")


def test_verify_keeps_the_lesson_in_the_learners_namespace(tmp_path: Path, user_config: Path,
                                                           remote: PracticeBackend) -> None:
    """The lesson passes `verify` with a seat's rights (the default), and its objects stay in the seat."""
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
        everywhere = json.loads(admin_kubectl(remote, "get", "deployments,replicasets,pods,services", "-A",
                                              "-o", "json").stdout)["items"]
        lesson_objects = {(item["kind"], item["metadata"]["namespace"]) for item in everywhere
                          if "kubernetes-bootcamp" in item["metadata"]["name"]}
        assert {namespace for _, namespace in lesson_objects} == {"learner-1"}
        assert {kind for kind, _ in lesson_objects} >= {"Deployment", "ReplicaSet", "Pod", "Service"}
        default = admin_kubectl(remote, "get", "deployments", "-n", "default", "-o", "name")
        assert default.returncode == 0 and "kubernetes-bootcamp" not in default.stdout
        # the practice cluster's NodePorts answer on 127.0.0.1: nothing was forwarded
        assert not backend.forwards_path.exists() or json.loads(backend.forwards_path.read_text()) == {}
        assert backend.down() == Stopped(False)
    finally:
        backend.down()
        backend.delete_seat()
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
# Port-forward: the NodePort under test is one the practice cluster could not open. A stand-in kubectl relays
# `port-forward` to another NodePort of the same app (to see the arguments), and the real kubectl forwards with the
# seat's rights (the `admin` role has pods/portforward).

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


def settle(remote: PracticeBackend) -> None:
    """Wait until no namespace is being deleted (an earlier test's seat): deleting its Services makes the practice
    cluster reconcile its NodePorts, which would open a port a test has just let go."""
    def settled() -> bool:
        done = admin_kubectl(remote, "get", "namespaces", "-o", "json")
        return done.returncode == 0 and not [item for item in json.loads(done.stdout)["items"]
                                             if item["metadata"].get("deletionTimestamp")]

    wait_for(settled, timeout=60, message="no namespace being deleted")


def answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def service_on_a_silent_node_port(backend: ExistingBackend, remote: PracticeBackend) -> int:
    """A NodePort Service ``web`` for the app whose port the practice cluster cannot open (it is held, bound but not
    listening, while the Service is created), as on a cluster whose nodes' ports this machine cannot reach."""
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
    return node_port


def test_port_forward_when_the_node_port_does_not_answer(tmp_path: Path, user_config: Path, remote: PracticeBackend,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = f"learner-pf{next(_numbers)}"
    settle(remote)
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
        node_port = service_on_a_silent_node_port(backend, remote)
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
        backend.delete_seat()


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
        backend.down()
        backend.delete_seat()


def test_a_seat_port_forwards_a_node_port_with_the_real_kubectl(tmp_path: Path, user_config: Path,
                                                                remote: PracticeBackend) -> None:
    """after_setup's `kubectl port-forward` runs with the seat's token (kube-tutor's kubeconfig) and reaches the
    app: the `admin` role the seat is bound to allows `create pods/portforward` (upstream
    plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go)."""
    namespace = f"learner-pf{next(_numbers)}"
    settle(remote)
    backend = ExistingBackend(tmp_path / "state", source=user_config, context=CONTEXT, namespace=namespace)
    backend.up()
    try:
        assert kubectl(backend, "auth", "can-i", "create", "pods", "--subresource=portforward").stdout.strip() \
            == "yes"
        assert kubectl(backend, "create", "deployment", "kubernetes-bootcamp",
                       "--image=gcr.io/google-samples/kubernetes-bootcamp:v1").returncode == 0
        assert kubectl(backend, "rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s").returncode == 0
        node_port = service_on_a_silent_node_port(backend, remote)
        assert not answers(node_port)  # only kubectl port-forward can make it answer now
        backend.after_setup()
        with urllib.request.urlopen(f"http://127.0.0.1:{node_port}/", timeout=10) as response:
            assert response.read().decode().startswith("Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-")
        assert list(json.loads(backend.forwards_path.read_text())) == [f"web:{node_port}"]

        # A rolling update replaces the one pod `port-forward service/web` follows. Once it is gone, kubectl ends
        # on the next connection (client-go's portforward.go: an error on the error stream closes the session),
        # the loop starts it again, and it reaches the v2 pod: the lesson's `curl` after its rollout sees v=2.
        assert kubectl(backend, "set", "image", "deployment/kubernetes-bootcamp",
                       "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v2").returncode == 0
        assert kubectl(backend, "rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s").returncode == 0

        def v2_answers() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{node_port}/", timeout=5) as response:
                    return "| v=2" in response.read().decode()
            except OSError:  # the old pod's last connection, or the moment the loop starts kubectl again
                return False

        wait_for(v2_answers, timeout=90, message="the v2 pod answering through the port-forward")
        log = (tmp_path / "state" / "existing" / "port-forward-web.log").read_text()
        assert "kube-tutor: port-forward ended (1); starting it again" in log, log
        assert "error: lost connection to pod" in log, log
        assert backend.down() == Stopped(True)
    finally:
        backend.down()
        backend.delete_seat()


@pytest.mark.parametrize("argv", [
    ["cluster", "up", "--backend", "existing", "--namespace", "seat-x", "--own-credentials"],
    ["--backend", "existing", "--namespace", "seat-x", "--own-credentials", "cluster", "status"],
])
def test_the_own_credentials_flag_reaches_the_backend(tmp_path: Path, argv: list[str]) -> None:
    args = cli._parser().parse_args(argv)
    backend = cli._backend(tmp_path, args, announce=False)
    assert isinstance(backend, ExistingBackend) and backend.own_credentials
    plain = cli._backend(tmp_path, cli._parser().parse_args(["cluster", "up", "--backend", "existing",
                                                             "--namespace", "seat-x"]), announce=False)
    assert isinstance(plain, ExistingBackend) and not plain.own_credentials
