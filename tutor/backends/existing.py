"""Provides the existing backend: a cluster the learner already has.

By default kube-tutor makes a learner *seat* there (:mod:`tutor.backends.seats`) with the user's kubeconfig as the
admin's: a namespace named by ``--namespace``, a ServiceAccount with the ``admin`` role in it only, a small resource
budget, and a kubeconfig (``<state>/existing/kubeconfig``, 0600) that carries only that account's token and the
cluster's CA. The user's kubeconfig is only read (never written) and which file and context made the seat is kept
in ``<state>/existing/credentials.json`` so a later ``up`` renews the token when it ends soon. ``cluster down``
keeps the seat (the learner's work stays); :meth:`ExistingBackend.delete_seat` (``cluster down --delete-state``)
deletes exactly what kube-tutor made.

With ``own_credentials`` (``--own-credentials``: a user's own single-user cluster) the chosen context, its cluster
and its user are copied instead (``yaml.safe_load``) with the context's namespace set to the lesson's namespace;
the learner then acts with the user's full rights, and kube-tutor says so. Nothing in the cluster is deleted then;
the only thing it creates outside the lesson is the namespace itself.

Every kubectl run uses kube-tutor's kubeconfig with ``KUBERC=off``. NodePort Services are made reachable on
``127.0.0.1:<nodePort>`` with ``kubectl port-forward`` when the nodes' ports do not answer there (the ``admin``
role of a seat includes ``pods/portforward``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from tutor import paths, shell
from tutor.backends import seats
from tutor.backends.base import BackendError, ClockState, ClusterStatus, OwnKubeconfig, Stopped
from tutor.kube.files import atomic_write, open_private
from tutor.text import Phrase

PROTECTED_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
REQUEST_TIMEOUT = "10s"
KUBECTL_TIMEOUT = 30.0
FORWARD_TIMEOUT = 20.0
POLL = 0.05
STOP_TIMEOUT = 5.0
RENEW_WITHIN = 3600
"""``up`` renews a seat's token that ends within this many seconds (or within a quarter of its lifetime)."""
SEAT = "seat"
OWN = "own-credentials"
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
    """A cluster the learner brings (``--kubeconfig PATH [--context NAME] --namespace NS [--own-credentials]``).

    Args:
        state: kube-tutor's state directory.
        source: the user's kubeconfig (only read): the admin's that makes the seat, or with ``own_credentials``
            the one to copy from; None reuses what an earlier :meth:`up` recorded.
        context: its context (default: the file's current-context, resolved when the seat is made).
        namespace: where every lesson object lives: the seat's name, or with ``own_credentials`` a namespace
            created on :meth:`up` when absent.
        kubectl: the kubectl to run (default: the bundled one); tests put a stand-in here.
        own_credentials: copy the context instead of making a seat (a user's own cluster: the learner gets the
            user's full rights).
        lifetime: seconds a seat's token lasts.

    Raises:
        BackendError: a namespace kube-tutor must not use (``kube-system`` ...) or that is not a valid name.
    """

    name = "existing"

    def __init__(self, state: Path, *, source: Path | None = None, context: str | None = None, namespace: str,
                 kubectl: Path | None = None, own_credentials: bool = False,
                 lifetime: int = seats.DEFAULT_LIFETIME) -> None:
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
        self.own_credentials = own_credentials
        self.lifetime = lifetime

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

    @property
    def credentials_path(self) -> Path:
        """Which kubeconfig and context made kube-tutor's kubeconfig, and how (``seat`` or ``own-credentials``)."""
        return self.directory / "credentials.json"

    def _credentials(self) -> dict[str, Any]:
        try:
            data = json.loads(self.credentials_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _save_credentials(self, mode: str, source: Path, context: str) -> None:
        record: dict[str, Any] = {"mode": mode, "kubeconfig": str(source.resolve()), "context": context}
        if mode == SEAT:
            record["lifetime"] = self.lifetime
        atomic_write(self.credentials_path, (json.dumps(record, indent=2) + "\n").encode())

    def mode(self) -> str:
        """``seat`` or ``own-credentials``: what :meth:`up` makes (``--kubeconfig``) or made before (without it).

        Raises:
            BackendError: neither a kubeconfig is given nor one was used before, or ``--own-credentials`` without
                ``--kubeconfig`` where a seat was made.
        """
        if self.source is not None:
            return OWN if self.own_credentials else SEAT
        recorded = self._credentials().get("mode")
        if recorded == SEAT and self.own_credentials:
            raise BackendError(f"kube-tutor made the seat {self.namespace!r} here; to use your own credentials "
                               f"instead pass --kubeconfig PATH --own-credentials")
        if recorded in (SEAT, OWN):
            return str(recorded)
        if self.kubeconfig.exists():  # a copy made before seats existed
            return OWN
        raise BackendError("the existing backend needs --kubeconfig PATH (e.g. ~/.kube/config; kube-tutor only "
                           "reads it and makes a learner seat with it)")

    def _read_source(self, source: Path) -> tuple[dict[str, Any], str]:
        """The user's kubeconfig (only read) and the chosen context's name.

        Raises:
            BackendError: the file is missing or unreadable, or has no such context.
        """
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
        return config, str(wanted)

    def _copy_context(self) -> str:
        """Write our kubeconfig from the chosen context of the user's file (which is only read); its name.

        Raises:
            BackendError: the file is missing or unreadable, or has no such context.
        """
        if self.source is None:
            self._set_namespace()
            return self._context_name()
        source = self.source
        config, wanted = self._read_source(source)
        contexts = {entry.get("name"): entry for entry in config.get("contexts") or [] if isinstance(entry, dict)}
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
        return wanted

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

    def _admin_env(self, source: Path) -> dict[str, str]:
        """kubectl with the user's kubeconfig (only read), its own cache, no kuberc: as the seat's admin."""
        return {**os.environ, "KUBECONFIG": str(source), "KUBECACHEDIR": str(self.directory / "admin-cache"),
                "KUBERC": "off"}

    def _kubectl(self, *args: str, timeout: float = KUBECTL_TIMEOUT, env: Mapping[str, str] | None = None
                 ) -> shell.Result:
        argv: list[str | os.PathLike[str]] = [self._kubectl_path(), f"--request-timeout={REQUEST_TIMEOUT}", *args]
        try:
            return shell.run(argv, env=dict(env) if env is not None else self._process_env(), timeout=timeout)
        except shell.ShellError as error:
            raise BackendError(f"kubectl: {error}") from None

    def _reachable(self, *, admin: tuple[Path, str] | None = None) -> tuple[bool, str]:
        """(True, "") when the API server answers ``/readyz`` (or ``/version``), else (False, kubectl's line).

        ``admin``: ask with that kubeconfig and context (the user's) instead of kube-tutor's.
        """
        env = self._admin_env(admin[0]) if admin else None
        context = ["--context", admin[1]] if admin else []
        done = self._kubectl(*context, "get", "--raw", "/readyz", env=env)
        if done.returncode == 0:
            return True, ""
        if "Error from server" in done.stderr:  # it answered, but /readyz is not for us: try /version
            fallback = self._kubectl(*context, "get", "--raw", "/version", env=env)
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
        """Make (or renew) the learner's seat, or with ``own_credentials`` copy the context and create the
        namespace when absent; check the cluster answers.

        Raises:
            BackendError: with a one-line message (file missing, context not found, unreachable, forbidden).
        """
        paths.make_state_private(self.state, self.directory)
        mode = self.mode()
        if mode == SEAT:
            self._seat(on_status)
        else:
            context = self._copy_context()
            if self.source is not None:
                self._save_credentials(OWN, self.source, context)
            if on_status is not None:
                on_status(Phrase("existing.own_credentials", context=context))
        if on_status is not None:
            on_status(Phrase("existing.checking", server=self._server() or Phrase("existing.the_cluster")))
        ok, why = self._reachable()
        if not ok:
            raise BackendError(f"the cluster of context {self._context_name()!r} ({self._server()}) does not "
                               f"answer: {why}")
        if mode == OWN and self._ensure_namespace() and on_status is not None:
            on_status(Phrase("existing.created", namespace=self.namespace))
        return self.status()

    def _seat(self, on_status: Callable[[str], None] | None) -> None:
        """Prepare the seat ``namespace`` with the user's kubeconfig (``--kubeconfig``, else the recorded one);
        without ``--kubeconfig`` only when kube-tutor's kubeconfig is missing or its token ends soon.

        Raises:
            BackendError: the seat cannot be made (one line; Forbidden suggests ``--own-credentials``).
        """
        seat = seats.load_seat(self.directory)
        if seat is not None and seat.name != self.namespace:
            raise BackendError(f"kube-tutor holds the seat {seat.name!r} here, not {self.namespace!r}: use "
                               f"--namespace {seat.name}, or delete it first with `kube-tutor --backend existing "
                               f"--namespace {seat.name} cluster down --delete-state`")
        if self.source is not None:
            source, context = self.source, self._read_source(self.source)[1]
            lifetime = self.lifetime
        else:
            recorded = self._credentials()
            source, context = Path(str(recorded.get("kubeconfig", ""))), str(recorded.get("context", ""))
            lifetime = int(recorded.get("lifetime") or self.lifetime)
            if seat is not None and self.kubeconfig.exists() and not _ends_soon(seat.expires, lifetime):
                return
            if not source.is_file():
                raise BackendError(f"the seat {self.namespace!r} needs a new token, but the kubeconfig that made "
                                   f"it ({source}) is gone: pass --kubeconfig PATH")
        ok, why = self._reachable(admin=(source, context))
        if not ok:
            server = self._admin_server(source, context)
            raise BackendError(f"the cluster of context {context!r} ({server}) does not answer: {why}")
        self._save_credentials(SEAT, source, context)  # before the seat: a half-made one can be torn down
        if on_status is not None:
            on_status(Phrase("existing.seat", namespace=self.namespace, context=context))
        try:
            made = seats.prepare_seat(source, self.namespace, self.directory, lifetime=lifetime, context=context,
                                      kubectl=self.kubectl_override)
        except BackendError as error:
            if "forbidden" not in str(error).lower():
                raise
            if seat is None:  # nothing of the learner's is there yet: take back what this attempt made
                try:
                    seats.tear_down_seat(source, self.directory, context=context, kubectl=self.kubectl_override)
                except BackendError:
                    pass  # what the user may not delete stays; the seat record keeps it for a later tear-down
            raise BackendError(f"your credentials (context {context!r}) cannot make a learner seat: {error}; ask "
                               f"the cluster's admin for a seat, or pass --own-credentials to let the learner use "
                               f"your credentials as they are (only on a cluster of your own)") from None
        if on_status is not None:
            on_status(Phrase("existing.seat_ready", namespace=self.namespace, expires=made.expires))

    def _admin_server(self, source: Path, context: str) -> str:
        try:
            config = yaml.safe_load(source.read_text(encoding="utf-8"))
            entry = next(c for c in config["contexts"] if c.get("name") == context)
            cluster = next(c for c in config["clusters"] if c.get("name") == entry["context"]["cluster"])
            return str(cluster["cluster"].get("server", ""))
        except (OSError, ValueError, yaml.YAMLError, KeyError, TypeError, StopIteration, AttributeError):
            return ""

    def delete_seat(self) -> list[str]:
        """Delete what kube-tutor made for the learner's seat (``cluster down --delete-state``): the namespace with
        everything in it, the seat's bindings, shared roles no other seat uses. Nothing without a seat.

        Returns:
            What was deleted, as ``kind/namespace/name`` lines.

        Raises:
            BackendError: the kubeconfig that made the seat is gone, or kubectl could not delete something.
        """
        if seats.load_seat(self.directory) is None:
            return []
        recorded = self._credentials()
        if self.source is not None:
            source, context = self.source, self._read_source(self.source)[1]
        else:
            source, context = Path(str(recorded.get("kubeconfig", ""))), str(recorded.get("context", ""))
        if not source.is_file():
            raise BackendError(f"cannot delete the seat {self.namespace!r}: the kubeconfig that made it ({source}) "
                               f"is gone; pass --kubeconfig PATH of the cluster's admin")
        return seats.tear_down_seat(source, self.directory, context=context or None, kubectl=self.kubectl_override)

    def status(self) -> ClusterStatus:
        if not self.kubeconfig.exists():
            return ClusterStatus(self.name, False, self.kubeconfig,
                                 detail="not set up: run `kube-tutor --backend existing --kubeconfig PATH "
                                        "--namespace NS cluster up`")
        seat = seats.load_seat(self.directory) if self._credentials().get("mode") == SEAT else None
        if seat is not None and _ends_soon(seat.expires, 0):
            return ClusterStatus(self.name, False, self.kubeconfig, self._server(),
                                 detail=f"seat {seat.name}: its token expired at {seat.expires}; run `kube-tutor "
                                        f"--backend existing --namespace {seat.name} cluster up` to renew it")
        try:
            ok, why = self._reachable()
        except BackendError as error:
            ok, why = False, str(error)
        if not ok:
            return ClusterStatus(self.name, False, self.kubeconfig, self._server(), detail=f"not answering: {why}")
        if seat is not None:
            detail = f"seat {seat.name} (ServiceAccount {seats.ACCOUNT}, token expires {seat.expires})"
        else:
            detail = (f"context {self._context_name()}, namespace {self.namespace}, your own credentials "
                      f"(--own-credentials)")
        return ClusterStatus(self.name, True, self.kubeconfig, self._server(), detail=detail)

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

    def clock(self) -> ClockState | None:
        """None: only the practice cluster has a clock that can be paused."""
        return None

    def set_clock_paused(self, paused: bool) -> ClockState:
        raise BackendError(Phrase("clock.practice_only", name=self.name))

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


def _ends_soon(expires: str, lifetime: int) -> bool:
    """Whether a token that ends at ``expires`` (RFC 3339) has ended, or ends within :data:`RENEW_WITHIN` or a
    quarter of ``lifetime`` seconds (whichever is shorter; ``lifetime`` 0: has ended). Unreadable: True."""
    try:
        end = datetime.fromisoformat(expires.replace("Z", "+00:00"))
    except ValueError:
        return True
    if end.tzinfo is None:
        return True
    margin = min(RENEW_WITHIN, lifetime // 4)
    return (end - datetime.now(UTC)).total_seconds() <= margin


def _is_port_forward(pid: int) -> bool:
    """False when /proc shows that the pid now belongs to another program (reused after a reboot)."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS), or the leader is gone and only its group is left
    return not command or b"port-forward" in command
