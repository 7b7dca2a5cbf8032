"""Which backend kube-tutor uses, and why: --backend, $KUBE_TUTOR_BACKEND, else `docker info` + kind."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tutor import paths
from tutor.backends import BackendError, choose, detect, make_backend


def fake_bin(tmp_path: Path, docker_info_ok: bool | None, kind: bool) -> str:
    """A PATH with a fake docker (None: no docker at all) and maybe a fake kind."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    if docker_info_ok is not None:
        script = bin_dir / "docker"
        if docker_info_ok:
            script.write_text('#!/bin/sh\n[ "$1" = "-v" ] && echo "Docker version 28.2.2"\necho 28.2.2\n')
        else:
            script.write_text('#!/bin/sh\nif [ "$1" = "info" ]; then echo "Cannot connect to the Docker daemon at '
                              'unix:///var/run/docker.sock. Is the docker daemon running?" >&2; exit 1; fi\n'
                              'echo "Docker version 28.2.2, build e6534b4"\n')
        script.chmod(0o755)
    if kind:
        (bin_dir / "kind").write_text("#!/bin/sh\necho kind v0.32.0\n")
        (bin_dir / "kind").chmod(0o755)
    return f"{bin_dir}:/usr/bin:/bin"


@pytest.mark.parametrize(("docker", "kind", "expected"), [
    (None, True, ("practice", "Docker is not installed, so the practice cluster is used")),
    (False, True, ("practice", "the Docker daemon is not running (`docker info` failed), so the practice cluster "
                               "is used")),
    (True, False, ("practice", "Docker runs but kind is not installed, so the practice cluster is used")),
    (True, True, ("kind", "Docker runs and kind is installed, so a kind cluster is used")),
])
def test_detect(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker: bool | None, kind: bool,
                expected: tuple[str, str]) -> None:
    monkeypatch.setenv("PATH", fake_bin(tmp_path, docker, kind))
    assert detect() == expected


def test_flag_beats_environment_beats_detection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", fake_bin(tmp_path, True, True))
    monkeypatch.setenv("KUBE_TUTOR_BACKEND", "practice")
    assert choose(None) == ("practice", "KUBE_TUTOR_BACKEND=practice")
    assert choose("kind") == ("kind", "--backend kind")
    monkeypatch.setenv("KUBE_TUTOR_BACKEND", "minikube")
    with pytest.raises(BackendError, match="KUBE_TUTOR_BACKEND='minikube' is not a backend"):
        choose(None)


def test_existing_needs_a_namespace(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="needs --namespace"):
        make_backend("existing", tmp_path)


def test_the_cli_announces_its_choice_when_it_starts_a_cluster(tmp_path: Path) -> None:
    env = {**os.environ, "PATH": fake_bin(tmp_path, False, False)}
    env.pop("KUBE_TUTOR_BACKEND", None)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(paths.bin_dir() / "kube-tutor"), "--state-dir", str(tmp_path / "s"), "cluster",
                               *args], capture_output=True, text=True, env=env, check=False, timeout=60)

    done = cli("status")
    assert done.returncode == 3
    assert "using the" not in done.stderr, "a question starts nothing: no backend line"
    assert done.stdout.startswith("practice cluster: not running")
    try:
        done = cli("up", "--time-scale", "20")
        assert done.returncode == 0, done.stderr
        assert done.stderr.splitlines()[0] == ("kube-tutor: using the practice backend (the Docker daemon is not "
                                               "running (`docker info` failed), so the practice cluster is used)")
    finally:
        done = cli("down")
    assert (done.returncode, done.stderr) == (0, "")
