"""A fake ``kind`` for the kind backend tests; run through the ``kind`` wrapper next to it.

Every call appends its arguments as a JSON line ``{"argv": ["kind", ...]}`` to ``$FAKE_LOG``. Clusters are kept
in the JSON state file ``$FAKE_KIND_STATE`` (``{"clusters": {name: {"dir": practice dir or null}}}``); a cluster
whose ``dir`` is null exists but does not answer. Behaviour:

- ``kind get clusters``: one name per line, or ``No kind clusters found.`` on stderr.
- ``kind create cluster --name N --config C --kubeconfig P --wait W``: starts a practice cluster
  (``python -m tutor.practice_server serve DIR --time-scale $FAKE_KIND_TIME_SCALE``, default 20: with containers,
  so `kubectl exec` runs as on kind) in the background,
  waits until it answers, copies its kubeconfig to P and prints kind's create output. ``FAKE_KIND_CREATE``:
  ``slow`` sleeps ``$FAKE_KIND_SLOW`` seconds (default 1) first; ``timeout`` behaves like kind when ``--wait``
  runs out (it warns, exits 0 and leaves a cluster that does not answer); ``fail`` exits 1 with a kind error.
- ``kind delete cluster --name N``: stops N's practice cluster (SIGTERM to the pid in its server.json) and
  forgets N; nothing to delete is not an error, as with kind.
- ``kind export kubeconfig --name N --kubeconfig P``: copies the kubeconfig again.
- ``kind load docker-image IMG... --name N``: prints kind's line per image.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
NODE_IMAGE = "kindest/node:v1.36.1"
DEAD_KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- cluster:
    server: https://127.0.0.1:1
    insecure-skip-tls-verify: true
  name: kind-{name}
contexts:
- context:
    cluster: kind-{name}
    user: kind-{name}
  name: kind-{name}
current-context: kind-{name}
users:
- name: kind-{name}
  user:
    token: fake
"""


def record(argv: list[str]) -> None:
    log = os.environ.get("FAKE_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"argv": argv}) + "\n")


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)  # kind's logger writes to stderr


def state_path() -> Path:
    return Path(os.environ.get("FAKE_KIND_STATE") or Path.cwd() / "fake-kind-state.json")


def load_state() -> dict[str, Any]:
    try:
        return json.loads(state_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"clusters": {}}


def save_state(state: dict[str, Any]) -> None:
    state_path().parent.mkdir(parents=True, exist_ok=True)
    state_path().write_text(json.dumps(state, indent=2), encoding="utf-8")


def flags(args: list[str]) -> tuple[dict[str, str], list[str]]:
    """``--flag value`` and ``--flag=value`` pairs, and the remaining positional arguments."""
    found: dict[str, str] = {}
    rest: list[str] = []
    index = 0
    while index < len(args):
        word = args[index]
        if word.startswith("--"):
            if "=" in word:
                key, value = word[2:].split("=", 1)
            else:
                key, value = word[2:], args[index + 1] if index + 1 < len(args) else ""
                index += 1
            found[key] = value
        else:
            rest.append(word)
        index += 1
    return found, rest


def go_duration(text: str) -> str:
    """``120s`` -> ``2m0s``, as Go prints a time.Duration."""
    seconds = int(float(text.rstrip("s"))) if text.endswith("s") and text[:-1].replace(".", "").isdigit() else 0
    if text.endswith("m") and text[:-1].isdigit():
        seconds = int(text[:-1]) * 60
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds}s" if minutes else f"{seconds}s"


def server_info(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / "server.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def answers(directory: Path, port: int) -> bool:
    context = ssl.create_default_context(cafile=str(directory / "pki" / "ca.crt"))
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", context=context, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ssl.SSLError):
        return False


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as handle:
            return handle.read().split(") ", 1)[1][:1] != "Z"
    except OSError:
        return True


def start_practice(directory: Path) -> str | None:
    """Start a practice cluster in ``directory``; None once it answers, else the reason it did not."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "server.json").unlink(missing_ok=True)
    scale = os.environ.get("FAKE_KIND_TIME_SCALE", "20")
    with open(directory / "cluster.log", "ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "tutor.practice_server", "serve", str(directory),
                                    "--time-scale", scale], stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True, close_fds=True)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        info = server_info(directory)
        if info and info.get("pid") == process.pid and answers(directory, int(info["port"])):
            return None
        if process.poll() is not None:
            return f"the practice cluster exited with status {process.returncode} (log: {directory / 'cluster.log'})"
        time.sleep(0.05)  # deadline poll (noqa: sleep-ok)
    process.kill()
    return f"the practice cluster did not answer in {START_TIMEOUT:g} s"


def stop_practice(directory: Path) -> None:
    info = server_info(directory)
    if not info:
        return
    pid = int(info.get("pid", 0))
    if pid <= 0:
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)  # deadline poll (noqa: sleep-ok)
    if alive(pid):
        os.kill(pid, signal.SIGKILL)
    (directory / "server.json").unlink(missing_ok=True)


def write_kubeconfig(name: str, cluster: dict[str, Any], target: str) -> None:
    destination = Path(target)
    destination.parent.mkdir(parents=True, exist_ok=True)
    directory = cluster.get("dir")
    if directory and (Path(directory) / "kubeconfig").exists():
        shutil.copyfile(Path(directory) / "kubeconfig", destination)
    else:
        destination.write_text(DEAD_KUBECONFIG.format(name=name), encoding="utf-8")


def create(options: dict[str, str]) -> int:
    name = options.get("name") or "kind"
    state = load_state()
    if name in state["clusters"]:
        say(f"ERROR: failed to create cluster: node(s) already exist for a cluster with the name \"{name}\"")
        return 1
    mode = os.environ.get("FAKE_KIND_CREATE", "")
    if mode == "slow":
        time.sleep(float(os.environ.get("FAKE_KIND_SLOW", "1")))  # the simulated slowness (noqa: sleep-ok)
    wait = go_duration(options.get("wait", "0s"))
    say(f'Creating cluster "{name}" ...')
    for line in (f"Ensuring node image ({NODE_IMAGE}) 🖼", "Preparing nodes 📦", "Writing configuration 📜"):
        say(f" ✓ {line}")
    if mode == "fail":
        say(" ✗ Starting control-plane 🕹️")
        say(f'ERROR: failed to create cluster: failed to init node with kubeadm: command "docker exec --privileged '
            f'{name}-control-plane kubeadm init --skip-phases=preflight --config=/kind/kubeadm.conf '
            f'--skip-token-print --v=6" failed with error: exit status 1')
        return 1  # kind deletes the failed node unless --retain
    directory = state_path().parent / f"fake-kind-{name}"
    cluster: dict[str, Any] = {"dir": None}
    if mode != "timeout":
        problem = start_practice(directory)
        if problem:
            say(f"ERROR: failed to create cluster: {problem}")
            return 1
        cluster = {"dir": str(directory)}
    for line in ("Starting control-plane 🕹️", "Installing CNI 🔌", "Installing StorageClass 💾"):
        say(f" ✓ {line}")
    if wait != "0s":
        if mode == "timeout":
            say(f" ✗ Waiting ≤ {wait} for control-plane = Ready ⏳")
            say(" • WARNING: Timed out waiting for Ready ⚠️")
        else:
            say(f" ✓ Waiting ≤ {wait} for control-plane = Ready ⏳")
            say(" • Ready after 3s 💚")
    state["clusters"][name] = cluster
    save_state(state)
    kubeconfig = options.get("kubeconfig") or os.environ.get("KUBECONFIG") or str(Path.home() / ".kube" / "config")
    write_kubeconfig(name, cluster, kubeconfig)
    say(f'Set kubectl context to "kind-{name}"')
    say("You can now use your cluster with:\n")
    extra = f" --kubeconfig {options['kubeconfig']}" if options.get("kubeconfig") else ""
    say(f"kubectl cluster-info --context kind-{name}{extra}\n")
    say("Have a nice day! 👋")
    return 0


def main(args: list[str]) -> int:
    record(["kind", *args])
    options, positional = flags(args)
    if positional[:1] == ["version"]:
        print("kind v0.32.0 go1.24.2 linux/amd64")
        return 0
    if positional[:2] == ["get", "clusters"]:
        names = sorted(load_state()["clusters"])
        if not names:
            say("No kind clusters found.")
        for name in names:
            print(name)
        return 0
    if positional[:2] == ["create", "cluster"]:
        return create(options)
    name = options.get("name") or "kind"
    if positional[:2] == ["delete", "cluster"]:
        state = load_state()
        say(f'Deleting cluster "{name}" ...')
        cluster = state["clusters"].pop(name, None)
        if cluster is not None:
            if cluster.get("dir"):
                stop_practice(Path(cluster["dir"]))
            save_state(state)
            say(f'Deleted nodes: ["{name}-control-plane"]')
        return 0
    if positional[:2] == ["export", "kubeconfig"]:
        cluster = load_state()["clusters"].get(name)
        if cluster is None:
            say(f"ERROR: could not locate any control plane nodes for cluster named '{name}'. Use the --name "
                "option to select a different cluster")
            return 1
        write_kubeconfig(name, cluster, options.get("kubeconfig") or os.environ.get("KUBECONFIG", ""))
        say(f'Set kubectl context to "kind-{name}"')
        return 0
    if positional[:2] == ["load", "docker-image"] and len(positional) > 2:
        if name not in load_state()["clusters"]:
            say(f'ERROR: no nodes found for cluster "{name}"')
            return 1
        for image in positional[2:]:
            say(f'Image: "{image}" with ID "sha256:{"0" * 64}" not yet present on node "{name}-control-plane", '
                "loading...")
        return 0
    say(f"ERROR: fake kind: unsupported command: {' '.join(args)}")
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
