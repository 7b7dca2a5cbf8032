"""The kind backend against fake `docker` and `kind` executables (tests/backends/bin) that record their arguments.

The fake `kind create cluster` starts a practice cluster underneath and writes its kubeconfig where it was told,
so the real kubectl, the NodePort patch and `kube-tutor verify --backend kind` run for real. No network, no
Docker, never the real ~/.kube.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tutor import paths
from tutor.backends import make_backend
from tutor.backends.base import BackendError, Stopped
from tutor.backends.kind import KindBackend, kind_config, lesson_images
from tutor.lesson import load_lesson
from tutor.lesson.library import lesson_files
from tutor.practice.node import registry

BIN = Path(__file__).parent / "bin"
REPO = Path(__file__).parent.parent.parent
LESSON = REPO / "lessons" / "rolling-update.yaml"
IMAGES = lesson_images()
V1, V2 = IMAGES
PRACTICE = "use the practice cluster: kube-tutor --backend practice"
DOWN = "`kube-tutor cluster down --backend kind` (or `kind delete cluster --name kube-tutor`)"
KUBE_CONFIG = b"apiVersion: v1\nkind: Config\n# the learner's own kubeconfig: kube-tutor must never touch it\n"


def free_node_port() -> int:
    """The first of KindBackend.NODE_PORTS free ports in the NodePort range's static band (30000-30085), where the
    practice cluster never allocates on its own: 30080 itself when its ports are free."""
    count = KindBackend.NODE_PORTS
    candidates = [KindBackend.NODE_PORT] + random.sample(range(30000, 30086 - count + 1), 86 - count + 1)
    for base in candidates:
        if all(port_is_free(port) for port in range(base, base + count)):
            return base
    pytest.skip(f"no {count} free ports in 30000-30085")


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Fakes:
    """The environment the fakes run in, and what they recorded."""

    root: Path
    state: Path
    log: Path
    kind_state: Path
    node_port: int
    home_kube_config: Path

    def commands(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line)["argv"] for line in self.log.read_text(encoding="utf-8").splitlines()]

    def clear(self) -> None:
        self.log.unlink(missing_ok=True)

    def backend(self) -> KindBackend:
        return KindBackend(self.state)

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kind" / "kubeconfig"

    def kind_clusters(self) -> dict[str, dict[str, str | None]]:
        try:
            return json.loads(self.kind_state.read_text(encoding="utf-8"))["clusters"]
        except OSError:
            return {}


@pytest.fixture
def fakes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, _isolated_home: Path) -> Iterator[Fakes]:
    node_port = free_node_port()
    found = Fakes(root=tmp_path, state=tmp_path / "state", log=tmp_path / "fake-log.jsonl",
                  kind_state=tmp_path / "fake-kind" / "state.json", node_port=node_port,
                  home_kube_config=_isolated_home / ".kube" / "config")
    found.home_kube_config.parent.mkdir(parents=True, exist_ok=True)
    found.home_kube_config.write_bytes(KUBE_CONFIG)
    for name in list(os.environ):
        if name.startswith("FAKE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("KUBE_TUTOR_FAKE_PYTHON", sys.executable)
    monkeypatch.setenv("FAKE_LOG", str(found.log))
    monkeypatch.setenv("FAKE_KIND_STATE", str(found.kind_state))
    monkeypatch.setenv("KUBE_TUTOR_KIND_NODE_PORT", str(node_port))
    yield found
    stop_fake_clusters(found)
    assert found.home_kube_config.read_bytes() == KUBE_CONFIG, "~/.kube/config was changed"
    assert not (_isolated_home / ".kube" / "kind-config").exists()
    for argv in found.commands():
        if argv[:3] in (["kind", "create", "cluster"], ["kind", "delete", "cluster"], ["kind", "export", "kubeconfig"]):
            assert "--kubeconfig" in argv, f"{argv} ran without --kubeconfig"


def stop_fake_clusters(found: Fakes) -> None:
    """Delete every cluster the fake kind started (kills by pid if the fake cannot)."""
    env = {**os.environ, "FAKE_LOG": str(found.root / "teardown-log.jsonl")}
    for name, cluster in found.kind_clusters().items():
        subprocess.run([str(BIN / "kind"), "delete", "cluster", "--name", name, "--kubeconfig",
                        str(found.root / "teardown-kubeconfig")], env=env, capture_output=True, timeout=60,
                       check=False)
        server = Path(cluster["dir"] or found.root / "none") / "server.json"
        if server.exists():
            pid = int(json.loads(server.read_text(encoding="utf-8"))["pid"])
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def expected_fresh_up(found: Fakes, *, present: tuple[str, ...] = ()) -> list[list[str]]:
    commands = [
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        ["kind", "get", "clusters"],
        ["kind", "create", "cluster", "--name", "kube-tutor", "--config", str(kind_config()),
         "--kubeconfig", str(found.kubeconfig), "--wait", "120s"],
    ]
    for image in IMAGES:
        commands.append(["docker", "image", "inspect", image])
        if image not in present:
            commands.append(["docker", "pull", image])
        commands.append(["kind", "load", "docker-image", image, "--name", "kube-tutor"])
    return commands


def kubectl(found: Fakes, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **found.backend().env()}
    return subprocess.run([str(paths.kubectl()), *args], capture_output=True, text=True, env=env, timeout=90,
                          check=check)


# ---- the config and the backend's shape ----------------------------------------------------------------


def test_kind_config_publishes_every_node_port_the_api_server_may_allocate() -> None:
    """A step's `kubectl expose ... --type="NodePort"` gets a port Kubernetes picks (kubectl expose has no flag for
    it: staging/src/k8s.io/kubectl/pkg/cmd/expose/expose.go), so the API server's --service-node-port-range must be
    exactly the ports published on the host's loopback."""
    assert kind_config() == REPO / "kind-config.yaml"
    config = yaml.safe_load(kind_config().read_text(encoding="utf-8"))
    assert config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert config["kind"] == "Cluster"
    assert [node["role"] for node in config["nodes"]] == ["control-plane"]
    published = range(KindBackend.NODE_PORT, KindBackend.NODE_PORT + KindBackend.NODE_PORTS)
    assert config["nodes"][0]["extraPortMappings"] == [
        {"containerPort": port, "hostPort": port, "listenAddress": "127.0.0.1", "protocol": "TCP"}
        for port in published]
    patches = [yaml.safe_load(patch) for patch in config["kubeadmConfigPatches"]]
    assert patches == [{"kind": "ClusterConfiguration",
                        "apiServer": {"extraArgs": {"service-node-port-range": f"{published[0]}-{published[-1]}"}}}]
    assert (KindBackend.NODE_PORT, KindBackend.NODE_PORTS) == (30080, 10)


def test_make_backend_builds_it_with_its_own_kubeconfig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBE_TUTOR_KIND_NODE_PORT", raising=False)
    backend = make_backend("kind", tmp_path)
    assert isinstance(backend, KindBackend)
    assert (backend.name, backend.namespace, backend.node_port) == ("kind", "default", 30080)
    assert backend.kubeconfig == tmp_path / "kind" / "kubeconfig"
    assert backend.env() == {"KUBECONFIG": str(tmp_path / "kind" / "kubeconfig"),
                             "KUBECACHEDIR": str(tmp_path / "kube-cache"), "KUBERC": "off"}


# ---- up(): the happy paths -------------------------------------------------------------------------------


def test_the_preloaded_images_are_the_lessons_pulled_ones_never_the_absent_v10() -> None:
    lesson = load_lesson(LESSON)
    assert IMAGES == lesson.images == ("gcr.io/google-samples/kubernetes-bootcamp:v1",
                                       "jocatalin/kubernetes-bootcamp:v2")
    assert lesson.absent_images and not set(lesson.absent_images) & set(IMAGES)


@pytest.mark.parametrize("file", lesson_files(REPO / "lessons"), ids=lambda file: file.stem)
def test_every_lesson_finds_its_images_offline_on_both_clusters(file: Path, tmp_path: Path) -> None:
    """Each lesson file in lessons/ (a new one needs no change here): every image it pulls is in the practice
    cluster's offline registry and in what the kind backend preloads, and none it names as absent is in either
    (its failing pull is the point). A miss is one line naming the lesson, the image and the cluster."""
    lesson = load_lesson(file)
    offline = {registry.normalize(image) for image in registry.available()}
    preloaded = {registry.normalize(image) for image in KindBackend(tmp_path).images}
    problems = [f"{file.name}: images.pull {image} is not in {where}" for image in lesson.images
                for where, has in (("the practice cluster's offline registry (tutor/practice/node/registry.py)",
                                    offline), ("the kind backend's preload (KindBackend.images)", preloaded))
                if registry.normalize(image) not in has]
    problems += [f"{file.name}: images.absent {image} is in {where}, so its pull would not fail"
                 for image in lesson.absent_images
                 for where, has in (("the practice cluster's offline registry", offline),
                                    ("the kind backend's preload", preloaded))
                 if registry.normalize(image) in has]
    assert not problems, "\n".join(problems)


def test_a_fresh_up_creates_the_cluster_and_loads_v1_and_v2_only(fakes: Fakes) -> None:
    lines: list[str] = []
    status = fakes.backend().up(on_status=lines.append)
    assert fakes.commands() == expected_fresh_up(fakes)
    loaded = [argv[3] for argv in fakes.commands() if argv[:3] == ["kind", "load", "docker-image"]]
    assert loaded == [V1, V2] and not any("v10" in " ".join(argv) for argv in fakes.commands())
    assert status.running and status.backend == "kind" and status.kubeconfig == fakes.kubeconfig
    assert status.server.startswith("https://127.0.0.1:")
    assert lines == [
        "checking that the Docker daemon answers (docker info)",
        "checking that kind is installed",
        "looking for an existing kind cluster named kube-tutor",
        f"checking that ports {fakes.node_port}-{fakes.node_port + 9} on 127.0.0.1 are free for the lessons' "
        "NodePorts",
        "creating the kind cluster kube-tutor (this takes a minute or two; the first time also downloads kind's "
        "node image)",
        f"pulling {V1}", f"loading {V1} into the kind cluster",
        f"pulling {V2}", f"loading {V2} into the kind cluster",
    ]
    assert kubectl(fakes, "get", "--raw", "/readyz").stdout == "ok"
    assert fakes.backend().status().running


def test_images_already_in_docker_are_not_pulled(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DOCKER_IMAGES", f"{V1},{V2}")
    fakes.backend().up()
    assert fakes.commands() == expected_fresh_up(fakes, present=(V1, V2))


def test_a_second_up_reuses_the_healthy_cluster(fakes: Fakes) -> None:
    first = fakes.backend().up()
    fakes.clear()
    lines: list[str] = []
    second = fakes.backend().up(on_status=lines.append)
    assert fakes.commands() == [["docker", "info", "--format", "{{.ServerVersion}}"], ["kind", "get", "clusters"]]
    assert lines[-1] == "reusing the running kind cluster kube-tutor"
    assert second.server == first.server


def test_reuse_exports_the_kubeconfig_when_ours_is_missing(fakes: Fakes) -> None:
    fakes.backend().up()
    fakes.kubeconfig.unlink()
    fakes.clear()
    assert fakes.backend().up().running
    assert fakes.commands() == [
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        ["kind", "get", "clusters"],
        ["kind", "export", "kubeconfig", "--name", "kube-tutor", "--kubeconfig", str(fakes.kubeconfig)],
    ]


def test_a_slow_create_is_waited_for(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KIND_CREATE", "slow")
    monkeypatch.setenv("FAKE_KIND_SLOW", "1")
    assert fakes.backend().up().running
    assert fakes.commands() == expected_fresh_up(fakes)


# ---- up(): failures, each one line with the way out ---------------------------------------------------------


def test_docker_daemon_down(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_DOCKER_DAEMON", "down")
    with pytest.raises(BackendError) as caught:
        fakes.backend().up()
    assert str(caught.value) == (
        "Docker is installed but its daemon is not running (`docker info` failed: Cannot connect to the Docker "
        "daemon at unix:///var/run/docker.sock. Is the docker daemon running?). Start Docker, or " + PRACTICE)
    assert fakes.commands() == [["docker", "info", "--format", "{{.ServerVersion}}"]]


def test_docker_not_installed(fakes: Fakes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(BackendError) as caught:
        fakes.backend().up()
    assert str(caught.value) == f"Docker is not installed (no `docker` on PATH). Install Docker, or {PRACTICE}"


def test_kind_missing(fakes: Fakes, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    only_docker = tmp_path / "only-docker"
    only_docker.mkdir()
    (only_docker / "docker").write_text(f'#!/bin/sh\nexec "{BIN / "docker"}" "$@"\n')
    (only_docker / "docker").chmod(0o755)
    monkeypatch.setenv("PATH", f"{only_docker}{os.pathsep}/usr/bin{os.pathsep}/bin")
    with pytest.raises(BackendError) as caught:
        fakes.backend().up()
    assert str(caught.value) == (
        "kind is not installed (no `kind` on PATH). Install it "
        f"(https://kind.sigs.k8s.io/docs/user/quick-start/#installation), or {PRACTICE}")
    assert fakes.commands() == [["docker", "info", "--format", "{{.ServerVersion}}"]]


def test_the_name_is_taken_by_an_unhealthy_cluster(fakes: Fakes) -> None:
    fakes.kind_state.parent.mkdir(parents=True)
    fakes.kind_state.write_text(json.dumps({"clusters": {"kube-tutor": {"dir": None}}}), encoding="utf-8")
    with pytest.raises(BackendError) as caught:
        fakes.backend().up()
    assert str(caught.value) == (
        f"A kind cluster named kube-tutor exists but its API server does not answer. Delete it with {DOWN}, "
        "then try again")
    assert fakes.commands() == [
        ["docker", "info", "--format", "{{.ServerVersion}}"],
        ["kind", "get", "clusters"],
        ["kind", "export", "kubeconfig", "--name", "kube-tutor", "--kubeconfig", str(fakes.kubeconfig)],
    ]
    assert fakes.backend().status().detail == f"the kind cluster kube-tutor exists but does not answer; delete it with {DOWN}"
    # the way out works: down, then up creates a new one
    assert fakes.backend().down().stopped
    assert fakes.backend().up().running


@pytest.mark.parametrize("offset", [0, KindBackend.NODE_PORTS - 1])
def test_a_published_node_port_is_in_use(fakes: Fakes, offset: int) -> None:
    port = fakes.node_port + offset
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # earlier tests may leave TIME_WAIT behind
        busy.bind(("127.0.0.1", port))
        busy.listen()
        with pytest.raises(BackendError) as caught:
            fakes.backend().up()
    assert str(caught.value) == (
        f"Port {port} on 127.0.0.1 is in use, and the kind cluster publishes the lessons' NodePorts "
        f"{fakes.node_port}-{fakes.node_port + 9} there. Stop the program that uses it (`lsof -i :{port}` names "
        f"it), or {PRACTICE}")
    assert fakes.commands() == [["docker", "info", "--format", "{{.ServerVersion}}"], ["kind", "get", "clusters"]]


def test_a_cluster_made_from_another_config_is_not_reused(fakes: Fakes, tmp_path: Path) -> None:
    """A cluster from an older kind-config.yaml (one published port) would leave a step's Service unreachable."""
    fakes.backend().up()
    older = tmp_path / "older-kind-config.yaml"
    older.write_text(kind_config().read_text(encoding="utf-8") + "# older\n", encoding="utf-8")
    with pytest.raises(BackendError) as caught:
        KindBackend(fakes.state, config=older).up()
    assert str(caught.value) == (
        f"The kind cluster kube-tutor was not created from {older} (an older kube-tutor, or kind itself, made it), "
        f"so it may not publish the NodePorts {fakes.node_port}-{fakes.node_port + 9} the lessons use. Delete it "
        f"with {DOWN}, then try again")
    (fakes.state / "kind" / "config.sha256").unlink()  # made before kube-tutor recorded its config
    with pytest.raises(BackendError):
        fakes.backend().up()
    fakes.backend().down()
    assert fakes.backend().up().running  # the way out works


TIMED_OUT = ("The kind cluster kube-tutor did not become ready in 120 s. See why with `kind export logs --name "
             f"kube-tutor`, delete it with {DOWN} and try again, or {PRACTICE}")


def test_create_times_out_waiting_for_ready(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KIND_CREATE", "timeout")  # kind warns and exits 0 when --wait runs out
    with pytest.raises(BackendError) as caught:
        fakes.backend().up()
    assert str(caught.value) == TIMED_OUT
    assert fakes.commands() == expected_fresh_up(fakes)[:3]


def test_create_that_never_finishes_is_stopped(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KIND_CREATE", "slow")
    monkeypatch.setenv("FAKE_KIND_SLOW", "30")
    backend = fakes.backend()
    backend.create_timeout = 0.5
    started = time.monotonic()
    with pytest.raises(BackendError) as caught:
        backend.up()
    assert str(caught.value) == TIMED_OUT
    assert time.monotonic() - started < 15
    assert fakes.kind_clusters() == {}


def test_create_fails(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_KIND_CREATE", "fail")
    with pytest.raises(BackendError) as caught:
        fakes.backend().up()
    assert str(caught.value) == (
        "`kind create cluster` failed: ERROR: failed to create cluster: failed to init node with kubeadm: command "
        '"docker exec --privileged kube-tutor-control-plane kubeadm init --skip-phases=preflight '
        '--config=/kind/kubeadm.conf --skip-token-print --v=6" failed with error: exit status 1. Delete what is '
        f"left with {DOWN} and try again, or {PRACTICE}")


@pytest.mark.parametrize(("mode", "message"), [
    ("offline", f"Could not pull {V1}: the registry cannot be reached (are you offline?). Connect to the network "
                f"and try again, or {PRACTICE}"),
    ("ratelimit", f"Could not pull {V1}: Docker Hub's pull rate limit was reached (toomanyrequests). Log in with "
                  f"`docker login` or wait a few hours, then try again, or {PRACTICE}"),
])
def test_image_pull_failures(fakes: Fakes, monkeypatch: pytest.MonkeyPatch, mode: str, message: str) -> None:
    monkeypatch.setenv("FAKE_DOCKER_PULL", mode)
    with pytest.raises(BackendError) as caught:
        fakes.backend().up()
    assert str(caught.value) == message
    assert fakes.commands() == expected_fresh_up(fakes)[:5]  # ... inspect v1, pull v1; nothing loaded
    # once the network is back, the next up() reuses the cluster and loads the images
    monkeypatch.delenv("FAKE_DOCKER_PULL")
    fakes.clear()
    assert fakes.backend().up().running
    assert fakes.commands() == expected_fresh_up(fakes)[:2] + expected_fresh_up(fakes)[3:]


# ---- down() and status() ------------------------------------------------------------------------------------


def test_down_deletes_the_cluster_by_name(fakes: Fakes) -> None:
    fakes.backend().up()
    server = Path(fakes.kind_clusters()["kube-tutor"]["dir"] or "") / "server.json"
    pid = int(json.loads(server.read_text(encoding="utf-8"))["pid"])
    fakes.clear()
    assert fakes.backend().down() == Stopped(True)
    assert fakes.commands() == [
        ["kind", "get", "clusters"],
        ["kind", "delete", "cluster", "--name", "kube-tutor", "--kubeconfig", str(fakes.kubeconfig)],
    ]
    assert not fakes.kubeconfig.exists()
    assert fakes.kind_clusters() == {}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and os.path.exists(f"/proc/{pid}"):
        time.sleep(0.05)  # the practice cluster was already told to stop (noqa: sleep-ok)
    status = fakes.backend().status()
    assert not status.running and status.detail == "not running (no kind cluster named kube-tutor)"
    fakes.clear()
    assert fakes.backend().down() == Stopped(False)
    assert fakes.commands() == [["kind", "get", "clusters"]]


def test_the_learners_kubeconfig_stays_byte_identical(fakes: Fakes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBECONFIG", str(fakes.home_kube_config))  # even when the learner points at it
    backend = fakes.backend()
    backend.up()
    backend.status()
    backend.after_setup()
    backend.down()
    assert fakes.home_kube_config.read_bytes() == KUBE_CONFIG
    assert sorted(p.name for p in fakes.home_kube_config.parent.iterdir()) == ["config"]


# ---- after_setup(): the NodePort that kind-config.yaml publishes -------------------------------------------------


def test_after_setup_gives_the_service_the_mapped_node_port(fakes: Fakes) -> None:
    backend = fakes.backend()
    backend.up()
    kubectl(fakes, "create", "deployment", "kubernetes-bootcamp", f"--image={V1}", "--replicas=2")
    kubectl(fakes, "expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080")
    kubectl(fakes, "create", "service", "clusterip", "other", "--tcp=80:8080")
    kubectl(fakes, "rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
    backend.after_setup()
    service = json.loads(kubectl(fakes, "get", "service", "kubernetes-bootcamp", "-o", "json").stdout)
    assert service["spec"]["ports"][0]["nodePort"] == fakes.node_port
    version = service["metadata"]["resourceVersion"]
    backend.after_setup()  # already there: nothing to patch
    again = json.loads(kubectl(fakes, "get", "service", "kubernetes-bootcamp", "-o", "json").stdout)
    assert again["metadata"]["resourceVersion"] == version
    body = ""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and "v=1" not in body:
        try:
            with urllib.request.urlopen(f"http://localhost:{fakes.node_port}/", timeout=2) as response:
                body = response.read().decode()
        except OSError:
            time.sleep(0.05)  # the NodePort listener starts asynchronously (noqa: sleep-ok)
    assert body.startswith("Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-")
    assert body.strip().endswith("| v=1")


# ---- end to end -----------------------------------------------------------------------------------------------


def kind_is_a_verify_backend() -> bool:
    done = subprocess.run([str(paths.bin_dir() / "kube-tutor"), "verify", "--help"], capture_output=True, text=True,
                          timeout=60, check=False)
    return "kind" in done.stdout


@pytest.mark.skipif(not kind_is_a_verify_backend(), reason="`kube-tutor verify --backend kind` is not wired yet")
def test_verify_passes_end_to_end_on_the_fake_kind(fakes: Fakes) -> None:
    env = {**os.environ, "LANG": "C.UTF-8"}
    env.pop("KUBE_TUTOR_BACKEND", None)
    done = subprocess.run([str(paths.bin_dir() / "kube-tutor"), "--state-dir", str(fakes.state), "verify",
                           str(LESSON), "--backend", "kind", "--lang", "en"], capture_output=True, text=True,
                          env=env, timeout=300, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines()[-1].startswith("4 of 4 steps passed")
    assert done.stderr.splitlines()[0] == "kube-tutor: using the kind backend (--backend kind)"
    assert fakes.commands() == expected_fresh_up(fakes)
    service = json.loads(kubectl(fakes, "get", "service", "kubernetes-bootcamp", "-o", "json").stdout)
    assert service["spec"]["ports"][0]["nodePort"] == fakes.node_port
    with urllib.request.urlopen(f"http://localhost:{fakes.node_port}/", timeout=5) as response:
        assert response.read().decode().strip().endswith("| v=2")  # the lesson ends rolled back to v2
    down = subprocess.run([str(paths.bin_dir() / "kube-tutor"), "--state-dir", str(fakes.state), "cluster", "down",
                           "--backend", "kind"], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert down.returncode == 0 and down.stdout.strip() == "kind cluster stopped"
    assert fakes.commands()[-1] == ["kind", "delete", "cluster", "--name", "kube-tutor", "--kubeconfig",
                                    str(fakes.kubeconfig)]


def test_verify_all_plays_the_whole_course_on_the_fake_kind(fakes: Fakes) -> None:
    """`kube-tutor verify --all --backend kind`: every lesson of lessons/course.yaml (a new one needs no change
    here), on one fake kind cluster, with every lesson's images preloaded once and no absent one.

    The fake kind's cluster is a practice cluster, which listens on every nodePort it allocates and allocates from
    the whole 30000-32767 range: that a Service created by a step (`kubectl expose` in expose-your-app) lands in
    the published 30080-30089 is up to the real API server's --service-node-port-range, which
    test_kind_config_publishes_every_node_port_the_api_server_may_allocate checks in kind-config.yaml.
    """
    from tutor.lesson.course import load_course_lessons

    course, lessons = load_course_lessons(REPO / "lessons")
    env = {**os.environ, "LANG": "C.UTF-8"}
    env.pop("KUBE_TUTOR_BACKEND", None)
    done = subprocess.run([str(paths.bin_dir() / "kube-tutor"), "--state-dir", str(fakes.state), "verify", "--all",
                           "--backend", "kind", "--lang", "en"], capture_output=True, text=True, env=env,
                          timeout=900, stdin=subprocess.DEVNULL, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert [line.split(" (")[0] for line in lines if line.startswith("── lesson ")] == [
        f"── lesson {n}/{len(lessons)}: {lesson.id}" for n, lesson in enumerate(lessons, 1)]
    assert lines[-1].startswith(f"✓ course {course.id}: all {len(lessons)} lessons passed")
    assert fakes.commands() == expected_fresh_up(fakes)
    preloaded = [argv[3] for argv in fakes.commands() if argv[:3] == ["kind", "load", "docker-image"]]
    assert preloaded == list(dict.fromkeys(image for lesson in lessons for image in lesson.images))
    assert not {image for lesson in lessons for image in lesson.absent_images} & set(preloaded)


# ---- the TUI on kind: F5 goes through the same start-state lifecycle ------------------------------------------


async def test_f5_on_kind_keeps_the_mapped_node_port_and_curl_answers(fakes: Fakes, tmp_path: Path) -> None:
    """F5 recreates the Service (random nodePort); the lifecycle's after_setup must map it back before replaying.

    Before the one lifecycle (tutor/backends/lifecycle.py), the TUI's F5 ran the setup commands and replayed the
    earlier steps but never called ``after_setup``: on kind the NodePort published on 127.0.0.1 was lost.
    """
    from tests.tui.test_lesson_play import console_text, lesson_ready, type_command, until
    from tutor.lesson import load_lesson
    from tutor.lesson.progress import Progress
    from tutor.tui.app import TutorApp

    backend = fakes.backend()
    await asyncio_to_thread(backend.up)
    Progress.load(fakes.state, "rolling-update", "kind").start("verify")  # resume on step 2: no setup ran yet
    app = TutorApp(load_lesson(LESSON), backend, fakes.state, lang="en", cwd=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_ready(pilot, app)
        await pilot.press("f5")
        await until(pilot, lambda: "The cluster is back at the start of this step." in console_text(app),
                    timeout=120, message="the reset")
        service = json.loads(kubectl(fakes, "get", "service", "kubernetes-bootcamp", "-o", "json").stdout)
        assert service["spec"]["ports"][0]["nodePort"] == fakes.node_port
        # Step 1's solution was replayed after the port was mapped: v2 is rolling out behind the same port.
        await type_command(pilot, "export NODE_PORT=$(kubectl get services/kubernetes-bootcamp "
                                  "-o go-template='{{(index .spec.ports 0).nodePort}}')")
        await until(pilot, lambda: screen.runtime.session.exported().get("NODE_PORT") == str(fakes.node_port),
                    message="NODE_PORT exported")
        await until(pilot, lambda: not screen.console.running, message="the export finished")
        await type_command(pilot, "curl localhost:$NODE_PORT")
        await until(pilot, lambda: "Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-" in console_text(app),
                    timeout=30, message="curl answered through the mapped NodePort")
        await pilot.press("ctrl+q")


async def asyncio_to_thread(function: Callable[[], object]) -> object:
    import asyncio

    return await asyncio.to_thread(function)
