"""Provides the existing backend: a cluster the learner already has, used through a copy of one context.

The user's kubeconfig is only read (``yaml.safe_load``): the chosen context, its cluster and its user are
copied into ``<state>/existing/kubeconfig`` (mode 0600) with the context's namespace set to the lesson's
namespace. Every kubectl run uses that copy with ``KUBERC=off``. Nothing in the user's cluster is deleted by
kube-tutor; the only thing it creates outside the lesson is the namespace itself. NodePort Services are made
reachable on ``127.0.0.1:<nodePort>`` with ``kubectl port-forward`` when the nodes' ports do not answer there.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from tutor import paths, shell
from tutor.backends.base import BackendError, ClusterStatus, OwnKubeconfig, Stopped
from tutor.kube.files import atomic_write, open_private
from tutor.text import Phrase

PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
REQUEST_TIMEOUT = "10s"
KUBECTL_TIMEOUT = 30.0
FORWARD_TIMEOUT = 20.0
POLL = 0.05
STOP_TIMEOUT = 5.0
# kubectl resolves these relative to the kubeconfig file that names them; our copy lives elsewhere.
_CLUSTER_FILES = ("certificate-authority",)
_USER_FILES = ("client-certificate", "client-key", "tokenFile")
# kubectl port-forward ends when its pod goes away (a rolling update replaces every pod): start it again, but
# give up after three quick failures in a row (wrong port, no permission), so the caller sees kubectl's error.
_RESTART_LOOP = """quick=0
while :; do
  started=$SECONDS
  "$@"
  code=$?
  if [ $((SECONDS - started)) -lt 5 ]; then quick=$((quick + 1)); else quick=0; fi
  if [ "$quick" -ge 3 ]; then echo "kube-tutor: port-forward failed $quick times in a row; giving up"; exit "$code"; fi
  echo "kube-tutor: port-forward ended ($code); starting it again"
  sleep 1
done"""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _port_answers(port: int, timeout: float = 0.5) -> bool:
    """True when something accepts a TCP connection on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _absolute(value: Any, base: Path) -> Any:
    """A file named in the user's kubeconfig, made absolute (kubectl reads it relative to that file)."""
    if not isinstance(value, str) or not value:
        return value
    expanded = os.path.expanduser(value)
    return expanded if os.path.isabs(expanded) else str(base / expanded)


class ExistingBackend(OwnKubeconfig):
    """A cluster the learner brings (``--kubeconfig PATH [--context NAME] --namespace NS``).

    Args:
        state: kube-tutor's state directory.
        source: the user's kubeconfig to copy from (only read); None reuses the copy made earlier.
        context: the context to copy (default: the file's current-context).
        namespace: where every lesson object lives; created on :meth:`up` when absent.
        kubectl: the kubectl to run (default: the bundled one); tests put a stand-in here.

    Raises:
        BackendError: a namespace kube-tutor must not use (``kube-system`` ...) or that is not a valid name.
    """

    name = "existing"

    def __init__(self, state: Path, *, source: Path | None = None, context: str | None = None, namespace: str,
                 kubectl: Path | None = None) -> None:
        if namespace in PROTECTED_NAMESPACES:
            raise BackendError(f"refusing namespace {namespace!r}: it belongs to Kubernetes itself; pick one of "
                               f"your own, e.g. --namespace kube-tutor")
        if not _DNS_LABEL.fullmatch(namespace or ""):
            raise BackendError(f"{namespace!r} is not a namespace name: use lower-case letters, digits and '-' "
                               f"(at most 63), e.g. --namespace kube-tutor")
        self.state = state
        self.directory = state / "existing"
        self.source = Path(source).expanduser() if source is not None else None
        self.context = context
        self.namespace = namespace
        self.kubectl_override = kubectl

    # ----------------------------------------------------------------------------------------------------------
    # Files

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def forwards_path(self) -> Path:
        return self.directory / "port-forwards.json"

    def forward_log(self, service: str) -> Path:
        return self.directory / f"port-forward-{service}.log"

    def _copy_context(self) -> None:
        """Write our kubeconfig from the chosen context of the user's file (which is only read).

        Raises:
            BackendError: the file is missing or unreadable, or has no such context.
        """
        if self.source is None:
            if self.kubeconfig.exists():
                self._set_namespace()
                return
            raise BackendError("the existing backend needs --kubeconfig PATH (e.g. ~/.kube/config; kube-tutor "
                               "only reads it and copies one context)")
        source = self.source
        try:
            config = yaml.safe_load(source.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise BackendError(f"kubeconfig {source} does not exist; pass --kubeconfig with an existing file") \
                from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
            detail = _last_line(str(error)) or type(error).__name__
            raise BackendError(f"cannot read kubeconfig {source}: {detail}") from None
        if not isinstance(config, dict):
            raise BackendError(f"kubeconfig {source} is not a kubeconfig (no contexts in it)")
        contexts = {entry.get("name"): entry for entry in config.get("contexts") or [] if isinstance(entry, dict)}
        wanted = self.context or config.get("current-context")
        known = ", ".join(sorted(str(name) for name in contexts if name)) or "none"
        if not wanted:
            raise BackendError(f"kubeconfig {source} has no current-context; pass --context NAME "
                               f"(contexts: {known})")
        if wanted not in contexts:
            raise BackendError(f"context {wanted!r} not found in {source} (contexts: {known})")
        entry = contexts[wanted]
        context = dict(entry.get("context") or {})
        clusters = {c.get("name"): c for c in config.get("clusters") or [] if isinstance(c, dict)}
        users = {u.get("name"): u for u in config.get("users") or [] if isinstance(u, dict)}
        cluster = clusters.get(context.get("cluster"))
        if cluster is None:
            raise BackendError(f"context {wanted!r} in {source} names cluster {context.get('cluster')!r}, which "
                               f"the file does not define")
        base = source.resolve().parent
        cluster = {"name": cluster["name"], "cluster": dict(cluster.get("cluster") or {})}
        for key in _CLUSTER_FILES:
            if key in cluster["cluster"]:
                cluster["cluster"][key] = _absolute(cluster["cluster"][key], base)
        copied_users = []
        user = users.get(context.get("user"))
        if user is not None:
            user = {"name": user["name"], "user": dict(user.get("user") or {})}
            for key in _USER_FILES:
                if key in user["user"]:
                    user["user"][key] = _absolute(user["user"][key], base)
            plugin = user["user"].get("exec")
            if isinstance(plugin, dict) and isinstance(plugin.get("command"), str) and "/" in plugin["command"]:
                user["user"]["exec"] = {**plugin, "command": _absolute(plugin["command"], base)}
            copied_users.append(user)
        context["namespace"] = self.namespace
        ours: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [cluster],
            "users": copied_users,
            "contexts": [{"name": wanted, "context": context}],
            "current-context": wanted,
            "preferences": {},
        }
        self._write(ours)

    def _set_namespace(self) -> None:
        """Point the reused copy's context at this backend's namespace."""
        try:
            config = yaml.safe_load(self.kubeconfig.read_text(encoding="utf-8"))
            entry = config["contexts"][0]
        except (OSError, ValueError, yaml.YAMLError, KeyError, IndexError, TypeError) as error:
            raise BackendError(f"kube-tutor's copy {self.kubeconfig} is unreadable ({error}); run `cluster up` "
                               f"again with --kubeconfig PATH") from None
        if (entry.get("context") or {}).get("namespace") != self.namespace:
            entry.setdefault("context", {})["namespace"] = self.namespace
            self._write(config)

    def _write(self, config: dict[str, Any]) -> None:
        atomic_write(self.kubeconfig, yaml.safe_dump(config, sort_keys=False).encode())

    def _server(self) -> str:
        try:
            config = yaml.safe_load(self.kubeconfig.read_text(encoding="utf-8"))
            return str(config["clusters"][0]["cluster"].get("server", ""))
        except (OSError, ValueError, yaml.YAMLError, KeyError, IndexError, TypeError):
            return ""

    def _context_name(self) -> str:
        try:
            return str(yaml.safe_load(self.kubeconfig.read_text(encoding="utf-8")).get("current-context", ""))
        except (OSError, ValueError, yaml.YAMLError, AttributeError):
            return ""

    # ----------------------------------------------------------------------------------------------------------
    # kubectl

    def _kubectl_path(self) -> Path:
        if self.kubectl_override is not None:
            return self.kubectl_override
        try:
            return paths.kubectl()
        except FileNotFoundError as error:
            raise BackendError(str(error)) from None

    def _process_env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(self.env())
        return env

    def _kubectl(self, *args: str, timeout: float = KUBECTL_TIMEOUT) -> shell.Result:
        argv: list[str | os.PathLike[str]] = [self._kubectl_path(), f"--request-timeout={REQUEST_TIMEOUT}", *args]
        try:
            return shell.run(argv, env=self._process_env(), timeout=timeout)
        except shell.ShellError as error:
            raise BackendError(f"kubectl: {error}") from None

    def _reachable(self) -> tuple[bool, str]:
        """(True, "") when the API server answers ``/readyz`` (or ``/version``), else (False, kubectl's line)."""
        done = self._kubectl("get", "--raw", "/readyz")
        if done.returncode == 0:
            return True, ""
        if "Error from server" in done.stderr:  # it answered, but /readyz is not for us: try /version
            fallback = self._kubectl("get", "--raw", "/version")
            if fallback.returncode == 0:
                return True, ""
        return False, _last_line(done.stderr) or f"exit {done.returncode}"

    def _ensure_namespace(self) -> bool:
        """Create the lesson's namespace when absent; True if it was created.

        Raises:
            BackendError: kube-tutor may neither see nor create it, nor create Deployments in it.
        """
        found = self._kubectl("get", "namespace", self.namespace, "-o", "name")
        if found.returncode == 0:
            return False
        created = self._kubectl("create", "namespace", self.namespace)
        if created.returncode == 0:
            return True
        line = _last_line(created.stderr)
        if "AlreadyExists" in line or "already exists" in line:
            return False
        if "Forbidden" in line or "forbidden" in line:
            allowed = self._kubectl("auth", "can-i", "create", "deployments", "-n", self.namespace)
            if allowed.stdout.strip() == "yes":
                return False  # not allowed to list or create namespaces, but this one is ours to use
            raise BackendError(f"forbidden: cannot create namespace {self.namespace!r} nor Deployments in it "
                               f"({line}); ask your cluster's admin for a namespace, then pass --namespace NAME")
        raise BackendError(f"cannot create namespace {self.namespace!r}: {line or 'kubectl failed'}")

    # ----------------------------------------------------------------------------------------------------------
    # Backend protocol

    def up(self, on_status: Callable[[str], None] | None = None) -> ClusterStatus:
        """Copy the context, check the cluster answers, create the namespace when absent.

        Raises:
            BackendError: with a one-line message (file missing, context not found, unreachable, forbidden).
        """
        paths.make_state_private(self.state, self.directory)
        self._copy_context()
        if on_status is not None:
            on_status(Phrase("existing.checking", server=self._server() or Phrase("existing.the_cluster")))
        ok, why = self._reachable()
        if not ok:
            raise BackendError(f"the cluster of context {self._context_name()!r} ({self._server()}) does not "
                               f"answer: {why}")
        if self._ensure_namespace() and on_status is not None:
            on_status(Phrase("existing.created", namespace=self.namespace))
        return self.status()

    def status(self) -> ClusterStatus:
        if not self.kubeconfig.exists():
            return ClusterStatus(self.name, False, self.kubeconfig,
                                 detail="not set up: run `kube-tutor --backend existing --kubeconfig PATH "
                                        "--namespace NS cluster up`")
        try:
            ok, why = self._reachable()
        except BackendError as error:
            ok, why = False, str(error)
        if ok:
            return ClusterStatus(self.name, True, self.kubeconfig, self._server(),
                                 detail=f"context {self._context_name()}, namespace {self.namespace}")
        return ClusterStatus(self.name, False, self.kubeconfig, self._server(), detail=f"not answering: {why}")

    def storage_failure(self) -> str:
        """Nothing to tell: the cluster's storage is its admins'; kubectl's own errors say when it fails."""
        return ""

    def down(self) -> Stopped:
        """Stop the port-forwards kube-tutor started (``stopped`` False if none ran); nothing in the cluster is
        deleted."""
        forwards = self._forwards()
        stopped = False
        for record in forwards.values():
            stopped = self._stop(int(record.get("pid", 0))) or stopped
        self.forwards_path.unlink(missing_ok=True)
        return Stopped(stopped)

    def after_setup(self) -> None:
        """Make each NodePort Service of the namespace answer on ``127.0.0.1:<nodePort>``.

        Ports that already answer there (nodes reachable on this machine) are left alone; the others get ``kubectl port-forward service/NAME <nodePort>:<port>`` in the
        background (reused while it is alive), and this returns once the local port accepts connections.

        Raises:
            BackendError: the Services cannot be listed, or a port-forward did not come up in time.
        """
        listed = self._kubectl("get", "services", "-n", self.namespace, "-o", "json")
        if listed.returncode != 0:
            raise BackendError(f"cannot list Services in {self.namespace}: {_last_line(listed.stderr)}")
        try:
            services = json.loads(listed.stdout).get("items") or []
        except ValueError as error:
            raise BackendError(f"kubectl returned unreadable JSON for the Services: {error}") from None
        forwards = self._forwards()
        for service in services:
            spec = service.get("spec") or {}
            if spec.get("type") not in ("NodePort", "LoadBalancer"):
                continue
            name = service["metadata"]["name"]
            for port in spec.get("ports") or []:
                node_port, target = port.get("nodePort"), port.get("port")
                if not node_port or not target or port.get("protocol", "TCP") != "TCP":
                    continue
                key = f"{name}:{node_port}"
                record = forwards.get(key)
                pid = int(record.get("pid", 0)) if record else 0
                alive = shell.pid_alive(pid) and _is_port_forward(pid)
                if record and alive and record.get("port") == target:
                    self._wait_listening(key, record, name)
                    continue
                if record:
                    self._stop(int(record.get("pid", 0)))
                    forwards.pop(key)
                if _port_answers(int(node_port)):
                    continue
                record = self._start_forward(name, int(node_port), int(target))
                forwards[key] = record
                self._save_forwards(forwards)
                self._wait_listening(key, record, name)
        self._save_forwards({k: v for k, v in forwards.items() if shell.pid_alive(int(v.get("pid", 0)))})

    # ----------------------------------------------------------------------------------------------------------
    # Port-forwards

    def _forwards(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.forwards_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_forwards(self, forwards: Mapping[str, dict[str, Any]]) -> None:
        atomic_write(self.forwards_path, (json.dumps(dict(forwards), indent=2) + "\n").encode())

    def _start_forward(self, service: str, node_port: int, port: int) -> dict[str, Any]:
        kubectl = [os.fspath(self._kubectl_path()), "port-forward", "-n", self.namespace, f"service/{service}",
                   f"{node_port}:{port}"]
        argv = ["bash", "--noprofile", "--norc", "-c", _RESTART_LOOP, "port-forward", *kubectl]
        log = self.forward_log(service)
        with open(open_private(log), "a", encoding="utf-8") as handle:
            handle.write(f"$ {shlex.join(kubectl)}\n")
        pid = shell.spawn_daemon(argv, log_path=log, env=self._process_env())
        return {"pid": pid, "service": service, "nodePort": node_port, "port": port, "log": str(log)}

    def _wait_listening(self, key: str, record: Mapping[str, Any], service: str) -> None:
        pid, node_port = int(record.get("pid", 0)), int(record["nodePort"])
        deadline = time.monotonic() + FORWARD_TIMEOUT
        while time.monotonic() < deadline:
            if _port_answers(node_port, timeout=0.2):
                return
            if not shell.pid_alive(pid):
                break
            time.sleep(POLL)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
        self._stop(pid)
        forwards = self._forwards()
        forwards.pop(key, None)
        self._save_forwards(forwards)
        tail = self._log_tail(self.forward_log(service))
        raise BackendError(f"kubectl port-forward for service/{service} did not listen on 127.0.0.1:{node_port} "
                           f"within {FORWARD_TIMEOUT:g} s (log: {self.forward_log(service)})"
                           f"{': ' + tail if tail else ''}")

    @staticmethod
    def _log_tail(path: Path) -> str:
        try:
            lines = [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines()
                     if line.strip() and not line.startswith("kube-tutor: port-forward ")]
        except OSError:
            return ""
        return lines[-1].strip() if lines else ""

    @staticmethod
    def _stop(pid: int) -> bool:
        """End a port-forward's process group (the restart loop and its kubectl); False if it was gone."""
        if pid <= 0 or not _is_port_forward(pid):
            return False
        return shell.stop_process(pid, group=True, grace=STOP_TIMEOUT)


def _is_port_forward(pid: int) -> bool:
    """False when /proc shows that the pid now belongs to another program (reused after a reboot)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS), or the leader is gone and only its group is left
    return not command or b"port-forward" in command
