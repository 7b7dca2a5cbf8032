"""Provides containers a learner can look into: each one's directory, environment and processes.

A running container of a catalogue image (:mod:`tutor.practice.node.registry`) has a directory of its own under
the cluster's state directory (``containers/<pod uid>/<container>``, 0700) that holds the image's files
(``/server.js`` of the bootcamp app), a ``bin`` of the programs the image has (links to this machine's programs, and
small scripts where the container must answer as itself: ``hostname`` prints the pod's name, ``curl`` reaches the
pod's own app for ``localhost:8080``, ``ps`` shows the app's ``node`` process, ``env`` shows the image's ``PATH``),
``/root`` (``HOME``) with a ``.bashrc`` whose prompt is ``root@<pod>:/#``, and the service account volume the
kubelet mounts at ``/var/run/secrets/kubernetes.io/serviceaccount`` (``token``, ``ca.crt``, ``namespace``).
Its processes run through the :class:`~tutor.practice.node.runtime.ContainerRuntime` the cluster was given, with
the environment the kubelet computes: ``HOSTNAME``, the container's ``env``, and the service variables of
``pkg/kubelet/envvars/envvars.go`` for the services of the pod's namespace that existed when it started.

It is not a sandbox: a program of the container can reach what the learner's own console reaches.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import shlex
import shutil
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path

from tutor.kube.files import private_dir
from tutor.practice.apiserver.store import Obj, Store
from tutor.practice.node import registry
from tutor.practice.node.runtime import ContainerProcess, ContainerRuntime, RuntimeUnavailable

log = logging.getLogger(__name__)

SA_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
CONTAINERS_DIR = "containers"
CLOSED_PORT = 1
"""Where ``curl localhost:8080`` goes in a container whose app does not run: nothing listens there."""

_ENV_SCRIPT = """import os, sys
ENV, ROOT = {env}, {root}
if len(sys.argv) > 1:
    os.execv(ENV, [ENV, *sys.argv[1:]])
def inside(path):
    return "/" if path == ROOT else path[len(ROOT):] if path.startswith(ROOT + "/") else path
out = []
for key, value in os.environ.items():
    if key == "LC_CTYPE" and value == "C.UTF-8" and "LC_ALL" not in os.environ:
        continue  # Python's own locale coercion (PEP 538), not the container's
    if key == "PATH":
        value = ":".join(inside(p) for p in value.split(":"))
    elif key in ("HOME", "PWD", "OLDPWD"):
        value = inside(value)
    out.append(key + "=" + value + "\\n")
sys.stdout.write("".join(out))
"""
"""``env`` in a container: with no argument it prints the environment as the container sees it."""

AppPort = Callable[[Obj], Awaitable[int | None]]
"""``app_port(pod)``: the loopback port on which the cluster serves ``pod``'s app (None: it runs none)."""


def env_name(name: str) -> str:
    """``makeEnvVariableName``: ``kubernetes-bootcamp`` -> ``KUBERNETES_BOOTCAMP``."""
    return name.replace("-", "_").upper()


def service_env(services: Sequence[Obj]) -> list[tuple[str, str]]:
    """The service variables a container gets (kubernetes ``pkg/kubelet/envvars/envvars.go`` ``FromServices``).

    For each service with a cluster IP: ``<NAME>_SERVICE_HOST``, ``<NAME>_SERVICE_PORT`` (the first port),
    ``<NAME>_SERVICE_PORT_<PORTNAME>`` for each named port, and the Docker link variables of
    ``makeLinkVariables``: ``<NAME>_PORT`` (the first port) and ``<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]``.
    """
    result: list[tuple[str, str]] = []
    for svc in services:
        spec = svc.get("spec") or {}
        ip = spec.get("clusterIP") or ""
        ports = spec.get("ports") or []
        if ip in ("", "None") or not ports:
            continue
        prefix = env_name(svc["metadata"]["name"])
        result.append((f"{prefix}_SERVICE_HOST", ip))
        result.append((f"{prefix}_SERVICE_PORT", str(ports[0].get("port"))))
        for port in ports:
            if port.get("name"):
                result.append((f"{prefix}_SERVICE_PORT_{env_name(port['name'])}", str(port.get("port"))))
        for i, port in enumerate(ports):
            protocol = port.get("protocol") or "TCP"
            host_port = f"[{ip}]:{port.get('port')}" if ":" in ip else f"{ip}:{port.get('port')}"
            url = f"{protocol.lower()}://{host_port}"
            if i == 0:
                result.append((f"{prefix}_PORT", url))
            port_prefix = f"{prefix}_PORT_{port.get('port')}_{protocol.upper()}"
            result += [(port_prefix, url), (f"{port_prefix}_PROTO", protocol.lower()),
                       (f"{port_prefix}_PORT", str(port.get("port"))), (f"{port_prefix}_ADDR", ip)]
    return result


def _field_value(pod: Obj, path: str) -> str:
    """The ``fieldRef`` values a container's ``env`` can name (``pkg/kubelet/kubelet_pods.go`` ``podFieldSelectorRuntimeValue``)."""
    meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    values = {"metadata.name": meta["name"], "metadata.namespace": meta.get("namespace", ""),
              "metadata.uid": meta.get("uid", ""), "spec.nodeName": spec.get("nodeName", ""),
              "spec.serviceAccountName": spec.get("serviceAccountName", ""), "status.hostIP": status.get("hostIP", ""),
              "status.podIP": status.get("podIP", "")}
    if path.startswith("metadata.labels['") and path.endswith("']"):
        return (meta.get("labels") or {}).get(path[len("metadata.labels['"):-2], "")
    if path.startswith("metadata.annotations['") and path.endswith("']"):
        return (meta.get("annotations") or {}).get(path[len("metadata.annotations['"):-2], "")
    return values.get(path, "")


def _expand(value: str, known: dict[str, str]) -> str:
    """``$(VAR)`` references as ``third_party/forked/golang/expansion`` expands them (``$$`` escapes)."""
    out, i = [], 0
    while i < len(value):
        if value[i] == "$" and i + 1 < len(value):
            nxt = value[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = value.find(")", i + 2)
                if end != -1:
                    name = value[i + 2:end]
                    out.append(known[name] if name in known else value[i:end + 1])
                    i = end + 1
                    continue
        out.append(value[i])
        i += 1
    return "".join(out)


class Containers:
    """The containers of one node: their directories, their environment, and their processes."""

    def __init__(self, store: Store, directory: Path, runtime: ContainerRuntime,
                 ca_pem: Callable[[], bytes] = lambda: b"") -> None:
        self.store = store
        self.directory = directory / CONTAINERS_DIR
        self.runtime = runtime
        self.ca_pem = ca_pem
        self.app_port: AppPort | None = None
        self._service_names: dict[tuple[str, str], set[str]] = {}
        """The services each container's environment names, taken when it started (kept in memory; after a
        restart of the cluster the services created before the container's start time)."""

    def started(self, pod: Obj, container: str) -> None:
        """A container started: the services its environment names are those that exist now."""
        namespace = pod["metadata"].get("namespace", "default")
        self._service_names[(pod["metadata"]["uid"], container)] = {
            f"{svc['metadata']['namespace']}/{svc['metadata']['name']}"
            for svc in [*self.store.list("services", namespace), *self.store.list("services", "default")]}

    # ---- the directory ---------------------------------------------------------------------------
    def root(self, pod: Obj, container: str) -> Path:
        return self.directory / pod["metadata"]["uid"] / container

    def remove(self, uid: str) -> None:
        """Remove a deleted pod's containers' directories."""
        shutil.rmtree(self.directory / uid, ignore_errors=True)
        for key in [k for k in self._service_names if k[0] == uid]:
            del self._service_names[key]

    async def prepare(self, pod: Obj, c: Obj) -> tuple[Path, dict[str, str]]:
        """Make (or refresh) the container's directory; its root and the environment its processes get."""
        image = registry.lookup(c.get("image", ""))
        fs = image.filesystem if image is not None else registry.Filesystem()
        root = self.root(pod, c["name"])
        private_dir(self.directory)
        private_dir(root)
        port = await self.app_port(pod) if self.app_port is not None else None
        for path, text in fs.files:
            target = self._inside(root, path)
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        home = self._inside(root, fs.home)
        home.mkdir(parents=True, exist_ok=True)
        self._write(home / ".bashrc", self._bashrc(root, pod["metadata"]["name"]))
        (root / "tmp").mkdir(exist_ok=True)
        self._service_account(root, pod)
        self._programs(root, pod, fs, port)
        return root, self.environment(pod, c, root, fs)

    @staticmethod
    def _inside(root: Path, path: str) -> Path:
        return root / path.lstrip("/")

    @staticmethod
    def _write(path: Path, text: str, mode: int = 0o600) -> None:
        try:
            if path.read_text(encoding="utf-8") == text:
                return
        except OSError:
            pass
        path.write_text(text, encoding="utf-8")
        path.chmod(mode)

    @staticmethod
    def _bashrc(root: Path, pod_name: str) -> str:
        where = shlex.quote(str(root))
        return ("# the container's prompt: root@<pod>:<directory inside the container>#\n"
                f"__kt_where() {{ case $PWD in {where}) echo /;; {where}/*) echo \"${{PWD#{where}}}\";; "
                "*) echo \"$PWD\";; esac; }\n"
                f"PS1='root@{pod_name}:$(__kt_where)# '\n")

    def _service_account(self, root: Path, pod: Obj) -> None:
        """The projected volume's files: ``token`` (valid nowhere: this cluster's own token is never given
        away), ``ca.crt`` and ``namespace``."""
        directory = self._inside(root, SA_MOUNT)
        directory.mkdir(parents=True, exist_ok=True)
        namespace = pod["metadata"].get("namespace", "default")
        token = directory / "token"
        if not token.exists():
            def part(data: Mapping[str, object]) -> str:
                return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

            sa = pod["spec"].get("serviceAccountName", "default")
            claims = {"aud": ["https://kubernetes.default.svc.cluster.local"], "iss":
                      "https://kubernetes.default.svc.cluster.local",
                      "sub": f"system:serviceaccount:{namespace}:{sa}"}
            self._write(token, f"{part({'alg': 'RS256', 'kid': ''})}.{part(claims)}.{secrets.token_urlsafe(64)}")
        self._write(directory / "namespace", namespace)
        self._write(directory / "ca.crt", self.ca_pem().decode())

    def _programs(self, root: Path, pod: Obj, fs: registry.Filesystem, port: int | None) -> None:
        """``bin``: a link to this machine's program for each of the image's programs, or a script."""
        bin_dir = root / "bin"
        bin_dir.mkdir(exist_ok=True)
        host_path = os.environ.get("PATH") or os.defpath
        sh = shutil.which("sh", path=host_path) or "/bin/sh"
        name = pod["metadata"]["name"]
        ip = (pod.get("status") or {}).get("podIP") or ""
        scripts: dict[str, str] = {"hostname": f"echo {shlex.quote(name)}\n"}
        env_program = shutil.which("env", path=host_path)
        if env_program:
            # Python keeps the environment's order (PATH, HOSTNAME, ... as the kubelet gave it); paths inside the
            # container's directory are shown as the container sees them.
            scripts["env"] = _ENV_SCRIPT.format(env=repr(env_program), root=repr(str(root)))
        curl = shutil.which("curl", path=host_path)
        if curl:
            target = f"127.0.0.1:{port or CLOSED_PORT}"
            hosts = ["localhost", "127.0.0.1", *([ip] if ip else [])]
            maps = " ".join(f"--connect-to {h}:{registry.APP_PORT}:{target}" for h in hosts)
            scripts["curl"] = f'exec {shlex.quote(curl)} {maps} "$@"\n'
        app = port is not None
        scripts["ps"] = ('echo "  PID TTY          TIME CMD"\n'
                         + ('echo "    1 ?        00:00:00 node"\n' if app else "")
                         + 'printf "%5d pts/0    00:00:00 ps\\n" "$$"\n')
        scripts["node"] = ('case "$1" in -v|--version) echo v6.3.1; exit 0;; esac\n'
                           'echo "node: this practice container runs no other node program than its app" >&2\n'
                           "exit 1\n")
        for program in fs.programs:
            link = bin_dir / program
            if program in scripts:
                if link.is_symlink():
                    link.unlink()
                interpreter = f"{sys.executable} -S" if program == "env" else sh
                self._write(link, f"#!{interpreter}\n{scripts[program]}", mode=0o700)
                continue
            found = shutil.which(program, path=host_path)
            if found is None or link.is_symlink() or link.exists():
                continue
            link.symlink_to(found)

    # ---- the environment -------------------------------------------------------------------------
    def environment(self, pod: Obj, c: Obj, root: Path, fs: registry.Filesystem) -> dict[str, str]:
        """What the container's processes see: the image's ``PATH`` (inside the container's directory),
        ``HOSTNAME``, the image's ``ENV``, the container's ``env`` and the service variables, ``HOME``."""
        env: dict[str, str] = {"PATH": ":".join(str(self._inside(root, d)) for d in registry.IMAGE_PATH.split(":")),
                               "HOSTNAME": pod["metadata"]["name"]}
        env.update((k, v) for k, v in fs.env if k != "PATH")
        services = self._services(pod, c["name"])
        known = dict(services)
        for var in c.get("env") or []:
            source = var.get("valueFrom") or {}
            if "value" in var or not source:
                value = _expand(var.get("value", ""), known)
            elif "fieldRef" in source:
                value = _field_value(pod, source["fieldRef"].get("fieldPath", ""))
            else:
                continue  # a configMap, secret or resource reference: not served here
            env[var["name"]] = known[var["name"]] = value
        for k, v in services:
            env.setdefault(k, v)
        env["HOME"] = str(self._inside(root, fs.home))
        return env

    def _services(self, pod: Obj, container: str) -> list[tuple[str, str]]:
        """Services of the pod's namespace (when ``enableServiceLinks``) and ``default/kubernetes``, created
        before the container started (``pkg/kubelet/kubelet_pods.go`` ``getServiceEnvVarMap``)."""
        namespace = pod["metadata"].get("namespace", "default")
        started = ""
        for s in (pod.get("status") or {}).get("containerStatuses") or []:
            started = max(started, ((s.get("state") or {}).get("running") or {}).get("startedAt") or "")
        links = pod["spec"].get("enableServiceLinks", True) is not False
        chosen: dict[str, Obj] = {}
        for svc in self.store.list("services", namespace) if links else []:
            chosen[svc["metadata"]["name"]] = svc
        master = self.store.get("services", "default", "kubernetes")
        if master is not None:
            chosen["kubernetes"] = master
        names = self._service_names.get((pod["metadata"]["uid"], container))
        existing = [svc for _, svc in sorted(chosen.items())
                    if (f"{svc['metadata']['namespace']}/{svc['metadata']['name']}" in names if names is not None
                        else not started or (svc["metadata"].get("creationTimestamp") or "") <= started)]
        return service_env(existing)

    # ---- processes -------------------------------------------------------------------------------
    @staticmethod
    def lookup(program: str, env: dict[str, str], root: Path) -> str | None:
        """``program`` found as the container's runtime finds it: a path inside the container, or on its PATH."""
        if "/" in program:
            path = Path(program)
            candidate = Containers._inside(root, program) if path.is_absolute() else root / path
            return str(candidate) if os.access(candidate, os.X_OK) and candidate.is_file() else None
        for directory in env.get("PATH", "").split(":"):
            candidate = Path(directory) / program
            if directory and os.access(candidate, os.X_OK) and candidate.is_file():
                return str(candidate)
        return None

    async def start(self, pod: Obj, c: Obj, argv: Sequence[str], *, tty: bool, stdin: bool,
                    exec_: bool = True) -> ContainerProcess:
        """Start ``argv`` in the container.

        Raises:
            RuntimeUnavailable: containerd's message for a process that cannot start (an unknown program: the
                OCI runtime's ``executable file not found in $PATH``).
        """
        if not argv:
            raise RuntimeUnavailable("OCI runtime exec failed: exec failed: no command given: unknown")
        root, env = await self.prepare(pod, c)
        if tty:
            env = {"TERM": "xterm", **env}
        program = self.lookup(argv[0], env, root)
        if program is None:
            reason = (f'exec: "{argv[0]}": executable file not found in $PATH' if "/" not in argv[0]
                      else f'exec: "{argv[0]}": stat {argv[0]}: no such file or directory')
            if exec_:
                raise RuntimeUnavailable(f'failed to exec in container: failed to start exec "{secrets.token_hex(32)}": '
                                         f"OCI runtime exec failed: exec failed: unable to start container process: "
                                         f"{reason}: unknown")
            raise RuntimeUnavailable("failed to create containerd task: failed to create shim task: OCI runtime create "
                                     "failed: runc create failed: unable to start container process: error during "
                                     f"container init: {reason}: unknown")
        workdir = self._inside(root, c.get("workingDir") or "/")
        try:
            return await self.runtime.start([program, *argv[1:]], root=root, env=env, cwd=workdir, tty=tty,
                                            stdin=stdin)
        except RuntimeUnavailable as error:
            prefix = "failed to exec in container" if exec_ else "failed to create containerd task"
            raise RuntimeUnavailable(f"{prefix}: {error}") from None
