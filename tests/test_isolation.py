"""Every command of the CLI leaves the learner's ``~/.kube`` alone: config and kuberc byte-identical, no cache.

The commands run as subprocesses with a fake HOME and no KUBECONFIG, KUBERC or KUBECACHEDIR in their
environment: the case where kubectl would fall back to ``~/.kube/config`` and ``~/.kube/kuberc``. The kuberc
sets ``--server https://127.0.0.1:1`` for ``kubectl get``, so any kubectl run that reads it fails.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.backends.test_existing import CONTEXT, write_user_kubeconfig
from tutor import paths
from tutor.backends.practice import PracticeBackend

ROOT = Path(__file__).resolve().parents[1]
KUBE_TUTOR = paths.bin_dir() / "kube-tutor"
PROD_ONLY = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "prod-cluster", "cluster": {"server": "https://127.0.0.1:1"}}],
    "users": [{"name": "prod-admin", "user": {"token": "prod-secret-token"}}],
    "contexts": [{"name": "prod", "context": {"cluster": "prod-cluster", "user": "prod-admin"}}],
    "current-context": "prod",
}
KUBERC = """apiVersion: kubectl.config.k8s.io/v1beta1
kind: Preference
defaults:
  - command: get
    options:
      - name: server
        default: https://127.0.0.1:1
aliases:
  - name: getall
    command: get
    appendArgs: [all, -A]
"""


def snapshot(kube: Path) -> dict[str, str]:
    """Every file under ~/.kube with its SHA-256 (directories as "dir")."""
    return {str(path.relative_to(kube)): "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(kube.rglob("*"))}


class Cli:
    def __init__(self, home: Path, state: Path) -> None:
        self.home, self.state, self.kube = home, state, home / ".kube"
        env = {key: value for key, value in os.environ.items()
               if key not in ("KUBECONFIG", "KUBERC", "KUBECACHEDIR", "KUBECTL_KUBERC", "KUBE_TUTOR_STATE_DIR")}
        env.update({"HOME": str(home), "XDG_STATE_HOME": str(home / ".local" / "state"),
                    "XDG_CONFIG_HOME": str(home / ".config"), "XDG_CACHE_HOME": str(home / ".cache"),
                    "KUBE_TUTOR_BACKEND": "practice", "KUBE_TUTOR_TIME_SCALE": "20", "LANG": "C.UTF-8"})
        self.env = env
        self.expected = snapshot(self.kube)
        self.ran: list[str] = []

    def __call__(self, *args: str, expect: int = 0, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(KUBE_TUTOR), "--state-dir", str(self.state), *args], env=self.env, cwd=ROOT,
                              capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                              check=False)
        self.ran.append(" ".join(args))
        assert done.returncode == expect, f"kube-tutor {' '.join(args)}: {done.returncode}\n{done.stdout}{done.stderr}"
        assert snapshot(self.kube) == self.expected, f"~/.kube changed after kube-tutor {' '.join(args)}"
        assert not (self.kube / "cache").exists()
        return done


@pytest.fixture
def cli(tmp_path: Path) -> Iterator[Cli]:
    home = tmp_path / "home"
    kube = home / ".kube"
    kube.mkdir(parents=True)
    (kube / "config").write_text(yaml.safe_dump(PROD_ONLY, sort_keys=False), encoding="utf-8")
    (kube / "kuberc").write_text(KUBERC, encoding="utf-8")
    runner = Cli(home, tmp_path / "state")
    try:
        yield runner
    finally:
        PracticeBackend(runner.state).down()  # in case a step failed before `cluster down`


def test_no_command_touches_the_users_kube_directory(cli: Cli) -> None:
    kuberc = (cli.kube / "kuberc").read_bytes()
    helped = cli("--help").stdout
    cli("cluster", "up")
    assert "export KUBERC=off" in cli("cluster", "env").stdout
    cli("cluster", "status")
    cli("lint", "lessons/rolling-update.yaml")
    verified = cli("verify", "lessons/rolling-update.yaml").stdout
    assert verified.startswith("verify rolling-update on practice (namespace default)\n")
    cli("reset", "lessons/rolling-update.yaml")
    if "doctor" in helped:
        assert "Docker daemon" in cli("doctor").stdout

    # the learner adds a context for the practice cluster to ~/.kube/config and uses it as an existing cluster
    write_user_kubeconfig(cli.home, PracticeBackend(cli.state))
    cli.expected = snapshot(cli.kube)
    existing = ["--backend", "existing", "--kubeconfig", str(cli.kube / "config"), "--context", CONTEXT,
                "--namespace", "learner-9"]
    cli(*existing, "cluster", "up")
    cli(*existing, "cluster", "status")
    assert f"export KUBECONFIG={cli.state / 'existing' / 'kubeconfig'}" in cli(*existing, "cluster", "env").stdout
    verified = cli(*existing, "verify", "lessons/rolling-update.yaml").stdout
    assert verified.startswith("verify rolling-update on existing (namespace learner-9)\n")
    cli(*existing, "reset", "lessons/rolling-update.yaml")
    cli(*existing, "cluster", "down")
    cli("--backend", "existing", "--kubeconfig", str(cli.kube / "config"), "--namespace", "learner-9", "cluster",
        "up", expect=1)  # current-context prod does not answer: refused, and nothing written to ~/.kube

    cli("cluster", "down")
    assert (cli.kube / "kuberc").read_bytes() == kuberc
    assert not (cli.home / ".kube" / "cache").exists()
    assert cli.ran[-1] == "cluster down"
