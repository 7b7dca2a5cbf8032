"""`kube-tutor cluster up/env/status/down`, persistence across restarts, and isolation from ~/.kube."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.practice.conftest import Kube, wait_for
from tutor import paths
from tutor.cli import main

NODE = "kube-tutor-control-plane"


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a learner runs it."""
    script = paths.bin_dir() / "kube-tutor"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})}, stdin=subprocess.DEVNULL, check=False)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture
def home_kube(_isolated_home: Path) -> tuple[Path, str]:
    """A learner's own ~/.kube/config, which kube-tutor must never read or write."""
    kube_dir = _isolated_home / ".kube"
    kube_dir.mkdir()
    config = kube_dir / "config"
    config.write_text("apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts: []\nclusters: []\nusers: []\n")
    return config, hashlib.sha256(config.read_bytes()).hexdigest()


def test_up_is_idempotent_and_down_stops(state: Path, home_kube: tuple[Path, str]) -> None:
    first = run_cli("cluster", "up", "--state-dir", str(state), "--time-scale", "20")
    assert first.returncode == 0, first.stderr
    kubeconfig = Path(first.stdout.strip())
    assert kubeconfig == state / "practice" / "kubeconfig"
    pid = json.loads((state / "practice" / "server.json").read_text())["pid"]
    second = run_cli("cluster", "up", "--state-dir", str(state))
    assert second.returncode == 0 and second.stdout.strip() == str(kubeconfig)
    assert json.loads((state / "practice" / "server.json").read_text())["pid"] == pid
    status = run_cli("cluster", "status", "--state-dir", str(state))
    assert status.returncode == 0
    assert f"practice cluster: running (pid {pid}, https://127.0.0.1:" in status.stdout
    down = run_cli("cluster", "down", "--state-dir", str(state))
    assert down.returncode == 0 and down.stdout.strip() == "practice cluster stopped"
    stopped = run_cli("cluster", "status", "--state-dir", str(state))
    assert stopped.returncode == 3
    assert "practice cluster: not running" in stopped.stdout
    assert run_cli("cluster", "down", "--state-dir", str(state)).stdout.strip() == "practice cluster was not running"
    config, digest = home_kube
    assert hashlib.sha256(config.read_bytes()).hexdigest() == digest
    assert not (config.parent / "cache").exists()


def test_state_dir_from_environment_and_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert paths.state_dir() == (tmp_path / "xdg" / "kube-tutor").resolve()
    monkeypatch.setenv("KUBE_TUTOR_STATE_DIR", str(tmp_path / "env"))
    assert paths.state_dir() == (tmp_path / "env").resolve()
    assert paths.state_dir(str(tmp_path / "flag")) == (tmp_path / "flag").resolve()


def test_env_prints_shell_lines_that_work(state: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cluster", "env", "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    assert f"export KUBECONFIG={state / 'practice' / 'kubeconfig'}" in out
    assert "export KUBERC=off" in out
    guard = paths.kubectl_guard(state / "practice" / "kubeconfig")
    assert f"export PATH={guard.parent}:{paths.bin_dir()}:\"$PATH\"" in out  # the kubectl guard first
    assert paths.is_kubectl_guard(guard)
    assert "kube-tutor cluster up" in out  # not running yet: says how to start it


def test_env_lines_drive_the_bundled_kubectl(state: Path) -> None:
    assert run_cli("cluster", "up", "--state-dir", str(state), "--time-scale", "20").returncode == 0
    try:
        env_lines = run_cli("cluster", "env", "--state-dir", str(state)).stdout
        done = subprocess.run(["bash", "-c", f"{env_lines}\nkubectl get namespaces -o name; command -v kubectl"],
                              capture_output=True, text=True, timeout=60, check=False,
                              env={"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"]})
        assert done.returncode == 0, done.stderr
        assert "namespace/default" in done.stdout
        assert done.stdout.strip().splitlines()[-1] == str(paths.kubectl_guard(state / "practice" / "kubeconfig"))
        refused = subprocess.run(["bash", "-c", f"{env_lines}\nkubectl config use-context x"], capture_output=True,
                                 text=True, timeout=60, check=False, env={"PATH": "/usr/bin:/bin", "HOME": os.environ["HOME"]})
        assert refused.returncode == 2 and "refused: `kubectl config use-context`" in refused.stderr
    finally:
        run_cli("cluster", "down", "--state-dir", str(state))


def test_restart_keeps_every_object_and_the_lesson_goes_on(state: Path) -> None:
    up = run_cli("cluster", "up", "--state-dir", str(state), "--time-scale", "20")
    assert up.returncode == 0, up.stderr
    config = yaml.safe_load(Path(up.stdout.strip()).read_text())
    kube = Kube(Path(up.stdout.strip()), "default", Path(os.environ["HOME"]))
    try:
        kube("create", "deployment", "kubernetes-bootcamp", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1",
             "--replicas=4")
        kube("expose", "deployment/kubernetes-bootcamp", "--type=NodePort", "--port", "8080")
        kube("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
        kube("set", "image", "deployments/kubernetes-bootcamp", "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v2")
        kube("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s")
        before = {p["metadata"]["name"]: p["metadata"]["uid"] for p in kube.pods()
                  if not p["metadata"].get("deletionTimestamp")}
        node_port = int(kube("get", "svc/kubernetes-bootcamp", "-o", "jsonpath={.spec.ports[0].nodePort}"))
        assert run_cli("cluster", "down", "--state-dir", str(state)).returncode == 0
        assert run_cli("cluster", "up", "--state-dir", str(state), "--time-scale", "20").returncode == 0
        # Same port and credentials: the learner's KUBECONFIG keeps working.
        assert yaml.safe_load(Path(up.stdout.strip()).read_text()) == config
        after = {p["metadata"]["name"]: p["metadata"]["uid"] for p in kube.pods()
                 if not p["metadata"].get("deletionTimestamp")}
        assert before.items() <= after.items()
        assert kube("get", "deployments").splitlines()[1].split()[:4] == ["kubernetes-bootcamp", "4/4", "4", "4"]
        with urllib.request.urlopen(f"http://127.0.0.1:{node_port}/", timeout=5) as response:
            assert response.read().decode().endswith("| v=2\n")
        history = kube("rollout", "history", "deployments/kubernetes-bootcamp")
        assert "1         <none>\n2         <none>" in history
        kube("set", "image", "deployments/kubernetes-bootcamp", "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v10")
        wait_for(lambda: kube("get", "deployments").splitlines()[1].split()[1:4] == ["3/4", "2", "3"],
                 message="the v10 stall after a restart")
    finally:
        run_cli("cluster", "down", "--state-dir", str(state))


def test_reset_creates_the_start_state_without_touching_home(state: Path, home_kube: tuple[Path, str]) -> None:
    done = run_cli("--state-dir", str(state), "reset", "rolling-update", "--lang", "en",
                   env={"KUBE_TUTOR_TIME_SCALE": "20"})
    try:
        assert done.returncode == 0, done.stderr
        assert "back at the start" in done.stdout
        kube = Kube(state / "practice" / "kubeconfig", "default", Path(os.environ["HOME"]))
        row = kube("get", "deployments").splitlines()[1].split()
        assert row[:4] == ["kubernetes-bootcamp", "4/4", "4", "4"]
        assert "8080:3" in kube("get", "svc", "kubernetes-bootcamp")
    finally:
        run_cli("cluster", "down", "--state-dir", str(state))
    config, digest = home_kube
    assert hashlib.sha256(config.read_bytes()).hexdigest() == digest


def test_a_broken_state_file_is_kept_aside_and_the_cluster_starts(state: Path) -> None:
    practice = state / "practice"
    practice.mkdir(parents=True)
    (practice / "state.json").write_text("{not json")
    up = run_cli("cluster", "up", "--state-dir", str(state), "--time-scale", "20")
    try:
        assert up.returncode == 0, up.stderr
        assert (practice / "state.broken").read_text() == "{not json"
    finally:
        run_cli("cluster", "down", "--state-dir", str(state))


def test_a_workshop_sized_node_has_room_for_more_pods_and_pending_ones_start(state: Path) -> None:
    """``--max-pods`` is the kubelet's (``pkg/kubelet/apis/config/v1beta1/types.go`` ``MaxPods``); the kubelet sets
    the node's ``pods`` capacity from it on every start (``pkg/kubelet/nodestatus/setters.go`` ``MachineInfo``), and
    the scheduler's ``NodeResourcesFit`` leaves a pod past it Pending with ``Too many pods``. A workshop's cluster
    is restarted with room for its seats (``class_pods``); the pods that waited are scheduled then."""
    from tutor.backends.practice import PracticeBackend
    from tutor.backends.seats import class_pods

    small = PracticeBackend(state, time_scale=20, max_pods=12)
    running = small.up()
    kube = Kube(Path(running.kubeconfig), "default", Path(os.environ["HOME"]))
    try:
        assert re.search(r"^Capacity:\n(?:  .*\n)*  pods:\s+12\n", kube("describe", "node", NODE), re.M)
        system = len(kube.json("get", "pods", "-A")["items"])
        kube("create", "deployment", "kubernetes-bootcamp", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1",
             f"--replicas={12 - system + 3}")
        wait_for(lambda: sum(not p["spec"].get("nodeName") for p in kube.pods()) == 3, message="3 pods Pending")
        events = kube("get", "events", "--field-selector", "reason=FailedScheduling", "-o", "jsonpath={.items[0].message}")
        assert events.startswith("0/1 nodes are available: 1 Too many pods."), events
        said: list[str] = []
        wider = PracticeBackend(state, max_pods=class_pods(3))
        wider.up(on_status=lambda line: said.append(str(line)))
        assert class_pods(3) == 140
        assert any("room for 140 pods" in line for line in said), said
        assert json.loads((state / "practice" / "server.json").read_text())["max_pods"] == 140
        node = kube.json("get", "node", NODE)
        assert node["status"]["capacity"]["pods"] == node["status"]["allocatable"]["pods"] == "140"
        wait_for(lambda: all(p["spec"].get("nodeName") for p in kube.pods()), message="every pod scheduled")
        # A learner's start afterwards (no --max-pods asked) keeps the workshop's cluster as it runs.
        pid = json.loads((state / "practice" / "server.json").read_text())["pid"]
        assert PracticeBackend(state).up().pid == pid
    finally:
        PracticeBackend(state).down()
