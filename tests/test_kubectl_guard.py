"""The kubectl guard (tutor/kubectl_guard.py): its rule, the generated script (run by dash and bash against a fake
kubectl), where it is written and who finds it. Hostile console lines against a real practice cluster are in
tests/practice/test_guard_console.py.

Upstream: kubectl's global flags are those of ``kubectl options`` (registered in
``staging/src/k8s.io/cli-runtime/pkg/genericclioptions/config_flags.go``), its ``config`` verbs those of
``staging/src/k8s.io/kubectl/pkg/cmd/config/config.go``; both are read from the bundled kubectl below, so a kubectl
with a new flag or verb fails here until the guard knows it.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from tutor import kubectl_guard, paths
from tutor.kubectl_guard import CONFIG_WRITES, REFUSED_FLAGS, config_refusal, flag_refusal, refusal
from tutor.lesson.runtime import backend_env, kubectl_path

# ---------------------------------------------------------------------------------------------------------------
# The rule, in Python and in the generated script

ALLOWED = [
    ["get", "pods"],
    ["get", "pods", "-n", "default", "-o", "wide"],
    ["exec", "-ti", "web", "--", "curl", "-s", "--context", "x"],
    ["config", "view", "--minify"],
    ["config", "get-contexts"],
    ["config", "current-context"],
    ["config"],
    ["get", "configmap", "config"],
    ["-n", "config", "get", "set"],
    ["--namespace", "config", "get", "use-context"],
    ["-v", "6", "get", "pods"],
    ["get", "pods", "-lsize=big"],
    ["get", "pods", "-w", "-A"],
    ["--request-timeout", "5s", "config", "view"],
    ["get", "pods", "--insecure-skip-tls-verify", "--cache-dir", "/tmp/c"],
    ["logs", "-f", "web", "--since", "5s"],
    ["get", "pods", "-"],
]

REFUSED = [
    (["--context", "x", "get", "pods"], flag_refusal("--context")),
    (["get", "pods", "--context=x"], flag_refusal("--context")),
    (["get", "pods", "--kubeconfig", "/x"], flag_refusal("--kubeconfig")),
    (["get", "pods", "--as_group=x"], flag_refusal("--as-group")),  # kubectl reads `_` as `-` (with a warning)
    (["get", "pods", "--as=admin"], flag_refusal("--as")),
    (["get", "pods", "--as-uid", "1"], flag_refusal("--as-uid")),
    (["get", "pods", "--as-user-extra", "a=b"], flag_refusal("--as-user-extra")),
    (["get", "pods", "--username=admin", "--password=x"], flag_refusal("--username")),
    (["get", "pods", "--client-certificate=/c", "--client-key=/k"], flag_refusal("--client-certificate")),
    (["get", "pods", "--token", "abc"], flag_refusal("--token")),
    (["get", "pods", "--user", "other"], flag_refusal("--user")),
    (["get", "pods", "--cluster", "other"], flag_refusal("--cluster")),
    (["get", "pods", "--server", "https://x"], flag_refusal("--server")),
    (["get", "pods", "-s", "https://x"], flag_refusal("-s")),
    (["-shttps://x", "get", "pods"], flag_refusal("-s")),
    (["-s=https://x", "get", "pods"], flag_refusal("-s")),
    (["get", "pods", "-ws", "https://x"], flag_refusal("-s")),
    (["get", "pods", "-As"], flag_refusal("-s")),
    (["config", "use-context", "x"], config_refusal("use-context")),
    (["config", "use", "x"], config_refusal("use")),
    (["-n", "default", "config", "set-context", "--current", "--namespace=x"], config_refusal("set-context")),
    (["config", "--namespace", "ns", "unset", "current-context"], config_refusal("unset")),
    (["--v=6", "config", "delete-context", "x"], config_refusal("delete-context")),
    (["config", "set", "current-context", "x"], config_refusal("set")),
    (["config", "rename-context", "a", "b"], config_refusal("rename-context")),
    (["config", "set-credentials", "u", "--token=x"], config_refusal("set-credentials")),
    (["config", "--kubeconfig=/x", "view"], flag_refusal("--kubeconfig")),
]


@pytest.mark.parametrize("arguments", ALLOWED, ids=" ".join)
def test_rule_allows(arguments: list[str]) -> None:
    assert refusal(arguments) is None


@pytest.mark.parametrize(("arguments", "expected"), REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_rule_refuses(arguments: list[str], expected: str) -> None:
    assert refusal(arguments) == expected
    assert "\n" not in expected and "abc" not in expected  # one line, a value never echoed


def test_config_refusal_wording() -> None:
    assert config_refusal("use-context") == (
        "kube-tutor: refused: `kubectl config use-context` would change kube-tutor's own kubeconfig, which the "
        "lesson needs as it is; `kubectl config view`, `get-contexts` and `current-context` only read it, and "
        "`-n NAMESPACE` picks a namespace for one command.")


FAKE_KUBECTL = '#!/bin/sh\nprintf "%s\\n" "KUBECONFIG=$KUBECONFIG" "KUBERC=$KUBERC" "$@"\n'


@pytest.fixture(params=["sh", "bash"])
def guard(request: pytest.FixtureRequest, tmp_path: Path) -> list[str]:
    """The generated guard in front of a fake kubectl that prints its environment and arguments, run by dash's
    ``sh`` and by ``bash --posix`` (the ``/bin/sh`` of other systems)."""
    fake = tmp_path / "real-kubectl"
    fake.write_text(FAKE_KUBECTL)
    fake.chmod(0o700)
    script = tmp_path / "guard"
    script.write_text(kubectl_guard.script(fake, {"KUBECONFIG": "/state/kubeconfig", "KUBERC": "off"}))
    return ["sh", str(script)] if request.param == "sh" else ["bash", "--posix", str(script)]


def run_guard(guard: list[str], arguments: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "KUBECONFIG": "/state/kubeconfig", "KUBERC": "off"}
    return subprocess.run([*guard, *arguments], capture_output=True, text=True, timeout=30, check=False,
                          env=base | env, stdin=subprocess.DEVNULL)


def test_the_script_agrees_with_the_rule_and_passes_arguments_unchanged(guard: list[str]) -> None:
    for arguments in ALLOWED + [["annotate", "pod", "x", "note=a b  c", "*", "$HOME", "\\", "é"]]:
        done = run_guard(guard, arguments)
        assert (done.returncode, done.stderr) == (0, ""), arguments
        assert done.stdout.split("\n")[2:-1] == arguments
    for arguments, expected in REFUSED:
        done = run_guard(guard, arguments)
        assert (done.returncode, done.stdout, done.stderr) == (2, "", expected + "\n"), arguments


def test_the_script_pins_the_kubeconfig_and_the_kuberc(guard: list[str]) -> None:
    done = run_guard(guard, ["get", "pods"], KUBECONFIG="/elsewhere:/state/kubeconfig", KUBERC="/home/me/kuberc")
    assert done.returncode == 0
    assert done.stdout.splitlines()[:2] == ["KUBECONFIG=/state/kubeconfig", "KUBERC=off"]
    assert done.stderr.splitlines() == [
        "kube-tutor: ignored KUBECONFIG=/elsewhere:/state/kubeconfig: the lesson's kubectl commands must keep using "
        "kube-tutor's own kubeconfig and practice cluster.",
        "kube-tutor: ignored KUBERC=/home/me/kuberc: kubectl must not load a kuberc, whose aliases and defaults "
        "would change what the lesson shows."]
    done = subprocess.run([*guard, "get", "pods"], capture_output=True, text=True, timeout=30, check=False,
                          env={"PATH": os.environ["PATH"], "KUBERC": "off"})
    assert done.stdout.splitlines()[0] == "KUBECONFIG=/state/kubeconfig"
    assert done.stderr.startswith("kube-tutor: ignored unset KUBECONFIG: ")


def bundled_help(*arguments: str) -> str:
    return subprocess.run([str(paths.kubectl()), *arguments], capture_output=True, text=True, timeout=30,
                          check=True, env={"HOME": os.environ["HOME"], "KUBERC": "off"}).stdout


def test_the_config_verbs_are_those_of_the_bundled_kubectl() -> None:
    listing = bundled_help("config", "--help").split("Available Commands:")[1].split("\n\n")[0]
    verbs = {line.split()[0] for line in listing.strip().splitlines()}
    readers = {"view", "get-contexts", "get-clusters", "get-users", "current-context"}
    assert verbs - readers == CONFIG_WRITES - {"use"}
    assert "use" in bundled_help("config", "use-context", "--help").split("Aliases:")[1].split("\n\n")[0]


def test_the_global_flags_are_those_of_the_bundled_kubectl() -> None:
    flags = dict(re.findall(r"^\s+(?:-\w, )?(--[\w-]+)=(.*):$", bundled_help("options"), re.MULTILINE))
    booleans = {name for name, default in flags.items() if default in ("false", "true")}
    allowed_values = set(flags) - booleans - set(REFUSED_FLAGS)
    assert set(REFUSED_FLAGS) - {"-s"} <= set(flags)
    assert allowed_values == kubectl_guard._VALUE_FLAGS
    assert booleans == {"--disable-compression", "--insecure-skip-tls-verify", "--match-server-version",
                        "--warnings-as-errors"}


# ---------------------------------------------------------------------------------------------------------------
# Where the guard lives and who finds it

def test_install_writes_a_private_guard_beside_the_kubeconfig_once(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "state" / "practice" / "kubeconfig"
    directory = kubectl_guard.install(kubeconfig)
    guard = paths.kubectl_guard(kubeconfig)
    assert directory == guard.parent == kubeconfig.parent / "bin"
    assert stat.S_IMODE(guard.stat().st_mode) == 0o700
    for parent in (directory, directory.parent, directory.parent.parent):
        assert stat.S_IMODE(parent.stat().st_mode) == 0o700
    assert paths.is_kubectl_guard(guard) and not paths.is_kubectl_guard(paths.kubectl())
    assert f"exec {paths.kubectl()} \"$@\"" in guard.read_text()
    inode = guard.stat().st_ino
    kubectl_guard.install(kubeconfig)
    assert guard.stat().st_ino == inode  # unchanged text: not rewritten


def test_backend_env_puts_the_guard_first(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    env = backend_env({"KUBECONFIG": str(kubeconfig), "KUBERC": "off"})
    assert env["PATH"].split(os.pathsep)[:2] == kubectl_path({"KUBECONFIG": str(kubeconfig)})
    assert shutil.which("kubectl", path=env["PATH"]) == str(paths.kubectl_guard(kubeconfig))


def test_the_real_kubectl_is_never_a_guard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    guard_dir = kubectl_guard.install(tmp_path / "kubeconfig")
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    (real_dir / "kubectl").write_text(FAKE_KUBECTL)
    (real_dir / "kubectl").chmod(0o700)
    monkeypatch.setattr(paths, "bin_dir", lambda: tmp_path / "no-bundled-kubectl")
    monkeypatch.setenv("PATH", os.pathsep.join([str(guard_dir), str(real_dir)]))  # a `cluster env` terminal
    assert paths.kubectl() == real_dir / "kubectl"
