"""Provides PracticeCluster: wiring of the store, the controllers, the kubelet and the API server; start and stop.

The cluster builds every part and hands each what it needs: controllers, the kubelet and the NodePort proxy
a :class:`~tutor.practice.context.ControllerContext`, the API server the store, admission, deletion and the
kubelet's log endpoint. None of them sees this object. The state lives in ``state.db`` (see
:mod:`tutor.practice.apiserver.storage`); a ``state.json`` of a previous version is imported once.
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import ctypes.util
import json
import logging
import os
import re
import socket
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from tutor.kube.files import atomic_write, private_dir
from tutor.practice import system
from tutor.practice.apiserver.admission import Admission
from tutor.practice.apiserver.auth import TokenIssuer, ensure_signing_key
from tutor.practice.apiserver.deletion import Deletion
from tutor.practice.apiserver.resources import RESOURCES
from tutor.practice.apiserver.server import ApiServer
from tutor.practice.apiserver.storage import Loaded, Storage, StorageFailed, StorageUnreadable
from tutor.practice.apiserver.store import Store
from tutor.practice.apiserver.tls import Credentials, ensure_credentials
from tutor.practice.clock import Clock
from tutor.practice.context import ControllerContext
from tutor.practice.controllers.daemonset import DaemonSetController
from tutor.practice.controllers.deployment import DeploymentController
from tutor.practice.controllers.endpoints import EndpointsController
from tutor.practice.controllers.garbagecollector import GarbageCollector
from tutor.practice.controllers.namespace import NamespaceController
from tutor.practice.controllers.nodelifecycle import NodeLifecycleController
from tutor.practice.controllers.replicaset import ReplicaSetController
from tutor.practice.controllers.resourcequota import ResourceQuotaController
from tutor.practice.controllers.scheduler import Scheduler
from tutor.practice.controllers.serviceaccounts import RootCACertPublisher, ServiceAccountsController
from tutor.practice.events import NODE_NAME, EventRecorder
from tutor.practice.node.kubelet import NODE_IP, Kubelet
from tutor.practice.node.nodeports import NodePortProxy
from tutor.practice.node.nodestatus import NodeStatus
from tutor.practice.node.podnet import PodNetwork
from tutor.practice.node.runtime import ContainerRuntime
from tutor.practice.node.staticpods import StaticPods

log = logging.getLogger(__name__)

DATABASE_FILE = "state.db"
LEGACY_STATE_FILE = "state.json"
SERVER_FILE = "server.json"
KUBECONFIG_FILE = "kubeconfig"
CONTEXT = "kube-tutor-practice"
EVENT_TTL_SECONDS = 3600
HOUSEKEEPING_SECONDS = 60.0
HEADER_TIMEOUT = 32.0
"""kube-apiserver's ``ReadHeaderTimeout`` (kubernetes/apiserver ``pkg/server/secure_serving.go``: 32 s, "just
shy of requestTimeoutUpperBound"), which also bounds Go's TLS handshake. Here it is the TLS handshake timeout
and aiohttp's keep-alive timeout: aiohttp's keep-alive timer runs from a connection's start (or its last
answer) until a whole request header has come, so it closes half-sent requests and idle connections (Go
keeps idle ones 90 s)."""
MAX_REQUEST_LINE = 1 << 20
"""Go's ``MaxHeaderBytes`` (1 MiB, ``secure_serving.go``) for the request line: long selectors fit."""
MAX_HEADER_FIELD = 64 * 1024
"""The longest header line; aiohttp has no limit on the whole header block, so one line is kept smaller."""

http_log = logging.getLogger("tutor.practice.http")
"""aiohttp's server logger for the API server: malformed requests are one line, never a traceback or a header."""


class _MalformedRequests(logging.Filter):
    """Rewrites aiohttp's ``Error handling request`` records of requests its parser refused.

    aiohttp logs them with a traceback and a message that quotes the bytes it refused, which can hold an
    ``Authorization`` header; Go's server answers them with 400 and logs nothing. Here they are one INFO line
    with the parser's reason cut before anything it quotes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            reason = _reason(error)
            remote = record.args[0] if isinstance(record.args, tuple) and record.args else "?"
            record.msg = "refused a malformed HTTP request from %s: %s (%s)"
            record.args = (remote, reason or "-", type(error).__name__)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


http_log.addFilter(_MalformedRequests())


def _reason(error: HttpProcessingError) -> str:
    """What the parser refused, without the bytes it quotes (a header, perhaps ``Authorization``).

    llhttp's messages are ``<description>:`` and the bytes on lines of their own; aiohttp's own quote them
    (``Got more than 8190 bytes when reading: b'...'``, ``Bad status line '...'``); any other message may be
    the request's own text (an invalid URL), so only its kind is said.
    """
    first = (error.message or "").split("\n", 1)[0]
    if first.endswith(":"):
        return first[:-1].strip()[:120] or "-"
    quoted = re.split(r":? b?['\"]", first, maxsplit=1)
    if len(quoted) > 1:
        return quoted[0].strip()[:120] or "-"
    return "malformed request"


class _TLSSite(web.SockSite):
    """A ``SockSite`` whose TLS handshakes get :data:`HEADER_TIMEOUT` (aiohttp leaves asyncio's 60 s)."""

    __slots__ = ("handshake_timeout",)

    def __init__(self, runner: web.BaseRunner, sock: socket.socket, *, ssl_context: Any,
                 handshake_timeout: float) -> None:
        super().__init__(runner, sock, ssl_context=ssl_context)
        self.handshake_timeout = handshake_timeout

    async def start(self) -> None:
        await web.BaseSite.start(self)
        server = self._runner.server
        assert server is not None
        self._server = await asyncio.get_running_loop().create_server(
            server, sock=self._sock, ssl=self._ssl_context, backlog=self._backlog,
            ssl_handshake_timeout=self.handshake_timeout)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (None elsewhere: musl, macOS)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim: Callable[[int], int] = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


_MALLOC_TRIM = _malloc_trim()


def release_free_memory() -> None:
    """Give the heap's free pages back to the system (``malloc_trim(0)``). A list answer or an expiry scan
    leaves free memory between live objects that glibc keeps; over an hour of use that was a few megabytes
    of resident memory doing nothing."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


MAX_PODS = 110
"""The kubelet's ``maxPods`` default (``pkg/kubelet/apis/config/v1beta1/defaults.go``), which kind keeps."""


class PracticeCluster:
    """An embedded, single-node Kubernetes that the real kubectl drives over HTTPS."""

    def __init__(self, directory: Path, *, time_scale: float = 1.0, port: int = 0,
                 runtime: ContainerRuntime | None = None, max_pods: int = MAX_PODS) -> None:
        self.directory = directory
        self.max_pods = max_pods
        """The node's room for pods (the kubelet's ``--max-pods``): its ``capacity`` and ``allocatable`` ``pods``."""
        self.clock = Clock(time_scale)
        self.storage = Storage(directory / DATABASE_FILE)
        self.store = Store(self.clock, self.storage)
        self.recorder = EventRecorder(self.store)
        self.deletion = Deletion(self.store, self.clock)
        self.admission = Admission(self.store)
        ctx = ControllerContext(self.store, self.clock, self.recorder, self.deletion)
        # Listener order matters: ReplicaSets act on a scale-down before the Deployment's next sync.
        self.replicasets = ReplicaSetController(ctx)
        self.deployments = DeploymentController(ctx)
        self.scheduler = Scheduler(ctx)
        self.endpoints = EndpointsController(ctx)
        self.gc = GarbageCollector(ctx)
        self.namespaces = NamespaceController(ctx)
        self.daemonsets = DaemonSetController(ctx)
        self.serviceaccounts = ServiceAccountsController(ctx)
        self.rootca = RootCACertPublisher(ctx)
        self.nodelifecycle = NodeLifecycleController(ctx)
        self.resourcequotas = ResourceQuotaController(ctx)
        self.staticpods = StaticPods(ctx, NODE_IP)
        self.kubernetes_service = system.KubernetesServiceController(ctx, NODE_IP)
        self.nodestatus = NodeStatus(ctx)
        # The runtime starts the containers' processes (tutor.shell's, given by the server process); none: a node
        # whose runtime cannot start any.
        self.kubelet = Kubelet(ctx, self.storage.stage_state, directory=directory, runtime=runtime,
                               ca_pem=lambda: self.credentials.ca_pem() if self.credentials else b"")
        self.nodeports = NodePortProxy(ctx, self.kubelet.serve_app)
        self.network = PodNetwork(self.store, self.kubelet.serve_app)
        if self.kubelet.containers is not None:
            self.kubelet.containers.app_port = self.nodeports.pod_port
        self.requested_port = port
        self.port = 0
        self.header_timeout = HEADER_TIMEOUT
        self.credentials: Credentials | None = None
        self._runner: web.AppRunner | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        self._loaded_meta: dict[str, str] = {}

    # ---- files ---------------------------------------------------------------------------------
    @property
    def kubeconfig_path(self) -> Path:
        return self.directory / KUBECONFIG_FILE

    def kubeconfig(self) -> dict[str, Any]:
        assert self.credentials is not None
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": CONTEXT, "cluster": {
                "server": f"https://127.0.0.1:{self.port}",
                "certificate-authority-data": base64.b64encode(self.credentials.ca_pem()).decode()}}],
            "users": [{"name": "kube-tutor-learner", "user": {"token": self.credentials.token}}],
            "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": "kube-tutor-learner",
                                                       "namespace": "default"}}],
            "current-context": CONTEXT,
            "preferences": {},
        }

    # ---- life cycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        private_dir(self.directory)
        self.credentials = ensure_credentials(self.directory / "pki")
        unreadable = self._open()
        if not self.store.get("namespaces", "", "default"):
            self._bootstrap()
        elif self.store.get("nodes", "", NODE_NAME) is None:
            self._register_node()
        system.ensure(self.store, NODE_IP)
        self._node_capacity()
        self.rootca.publish(self.credentials.ca_pem().decode())
        if unreadable is not None:
            self._report_unreadable(*unreadable)
        self.store.commit()
        issuer = TokenIssuer(ensure_signing_key(self.directory / "pki" / "sa.key"), self.clock)
        server = ApiServer(self.store, self.admission, self.deletion, self.kubelet.log_response,
                           self.credentials.token, network=self.network, streams=self.kubelet.stream_response,
                           issuer=issuer)
        # Request bodies are read as sent (Go's server decodes no Content-Encoding); the limits are Go's.
        self._runner = web.AppRunner(server.app, access_log=None, handle_signals=False, logger=http_log,
                                     keepalive_timeout=self.header_timeout, max_line_size=MAX_REQUEST_LINE,
                                     max_field_size=MAX_HEADER_FIELD, auto_decompress=False)
        await self._runner.setup()
        previous_port = int(self._loaded_meta.get("port", "0") or 0)
        sock = self._bind(self.requested_port or previous_port)
        self.port = sock.getsockname()[1]
        site = _TLSSite(self._runner, sock, ssl_context=self.credentials.server_context(),
                        handshake_timeout=self.header_timeout)
        await site.start()
        import yaml

        atomic_write(self.kubeconfig_path, yaml.safe_dump(self.kubeconfig(), sort_keys=False).encode())
        self.storage.set_meta("port", str(self.port))
        self.store.commit()
        self.kubelet.resume()
        self.nodestatus.start()
        self._resync_all()
        await self.nodeports.reconcile()
        self._housekeeping = asyncio.get_running_loop().create_task(self._housekeeping_loop())

    @staticmethod
    def _bind(port: int) -> socket.socket:
        """A listening socket on 127.0.0.1; the previous port when free (kubeconfigs stay valid)."""
        for candidate in ([port] if port else []) + [0]:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", candidate))
            except OSError:
                sock.close()
                continue
            sock.listen(128)
            sock.setblocking(False)
            return sock
        raise OSError("no free port on 127.0.0.1")

    async def stop(self) -> None:
        if self._housekeeping is not None:
            self._housekeeping.cancel()
        self.store.close_watches()
        self.kubelet.close()
        self.nodestatus.close()
        self.nodeports.close()
        self.network.close()
        for controller in (self.deployments, self.replicasets, self.scheduler, self.endpoints, self.gc,
                           self.namespaces, self.daemonsets, self.serviceaccounts, self.rootca, self.nodelifecycle,
                           self.staticpods, self.kubernetes_service, self.resourcequotas):
            controller.queue.close()
        if self._runner is not None:
            await self._runner.cleanup()
        try:
            self.storage.close()
        except StorageFailed as error:
            log.error("stopped WITHOUT saving the last changes: %s", error)

    def _resync_all(self) -> None:
        for d in self.store.list("deployments"):
            self.deployments.queue.add((d["metadata"]["namespace"], d["metadata"]["name"]))
        for rs in self.store.list("replicasets"):
            self.replicasets.queue.add((rs["metadata"]["namespace"], rs["metadata"]["name"]))
        for svc in self.store.list("services"):
            self.endpoints.queue.add((svc["metadata"]["namespace"], svc["metadata"]["name"]))
        for pod in self.store.list("pods"):
            if not pod["spec"].get("nodeName"):
                self.scheduler.queue.add((pod["metadata"]["namespace"], pod["metadata"]["name"]))
        for ns in self.store.list("namespaces"):
            if ns["metadata"].get("deletionTimestamp"):
                self.namespaces.queue.add(ns["metadata"]["name"])
            self.serviceaccounts.queue.add(ns["metadata"]["name"])
        for ds in self.store.list("daemonsets"):
            self.daemonsets.queue.add((ds["metadata"]["namespace"], ds["metadata"]["name"]))
        self.nodelifecycle.queue.add(NODE_NAME)
        for item in self.store.list("resourcequotas"):
            self.resourcequotas.queue.add((item["metadata"]["namespace"], item["metadata"]["name"]))
        self.staticpods.ensure()

    def _node_capacity(self) -> None:
        """The kubelet sets its node's ``pods`` capacity from ``maxPods`` on every start (the ``MachineInfo`` setter,
        ``pkg/kubelet/nodestatus/setters.go``): a node kept from a start with another ``--max-pods`` (or from a
        version that gave it room for 10,000) gets this start's."""
        node = self.store.get("nodes", "", NODE_NAME)
        status = (node or {}).get("status") or {}
        wanted = str(self.max_pods)
        if node is None or all((status.get(key) or {}).get("pods") == wanted for key in ("capacity", "allocatable")):
            return
        new = json.loads(json.dumps(node))
        for key in ("capacity", "allocatable"):
            new["status"].setdefault(key, {})["pods"] = wanted
        self.store.update("nodes", new, status_only=True)

    # ---- persistence ---------------------------------------------------------------------------
    def _open(self) -> tuple[Path, str] | None:
        """Read the state back (importing a previous version's ``state.json`` once).

        Returns:
            where an unreadable database was kept and why it could not be read; None when it was read.
        """
        unreadable = None
        try:
            loaded = self.storage.open(kept_here=self.store.kept_in_storage)
        except StorageUnreadable as error:
            kept = self.storage.set_aside()
            unreadable = (kept, str(error))
            log.error(
                "cannot read the practice cluster's state %s (%s). It was kept as %s, and this start begins with "
                "an EMPTY cluster. To go back: stop the cluster (kube-tutor cluster down), then either move %s back "
                "to %s (with its -wal file, if any) once it is repaired, or let SQLite recover what it can read: "
                "sqlite3 %s .recover | sqlite3 %s (after removing the new %s).",
                self.storage.path, error, kept, kept, self.storage.path, kept, self.storage.path, self.storage.path)
            loaded = self.storage.open(kept_here=self.store.kept_in_storage)
        if loaded.empty:
            loaded = self._import_legacy(loaded)
        self._loaded_meta = loaded.meta
        self.store.restore(loaded.objects, loaded.resource_version)
        self.kubelet.restore(loaded.node_state)
        return unreadable

    def _import_legacy(self, loaded: Loaded) -> Loaded:
        """Import ``state.json`` (the JSON snapshot of kube-tutor before ``state.db``) once, then rename it."""
        legacy = self.directory / LEGACY_STATE_FILE
        if not legacy.exists():
            return loaded
        try:
            data = json.loads(legacy.read_text(encoding="utf-8"))
            store = data.get("store", {})
            namespaced = {r.plural: r.namespaced for r in RESOURCES if r.stored}
            objects = [(plural, obj["metadata"].get("namespace", "") if namespaced[plural] else "",
                        obj["metadata"]["name"], obj)
                       for plural, items in (store.get("objects") or {}).items() if plural in namespaced
                       for obj in items]
            rows = Kubelet.rows_of_snapshot(data.get("kubelet") or {})
            meta = {"port": str(int(data.get("port", 0) or 0)), "imported": str(legacy)}
            rv = int(store.get("resourceVersion", 0) or 0)
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
            broken = legacy.with_suffix(".broken")
            log.error("cannot read %s (%s); starting empty, kept as %s", legacy, error, broken)
            legacy.replace(broken)
            return loaded
        self.storage.import_all(objects, rv, rows, meta)
        legacy.replace(legacy.with_name(legacy.name + ".imported"))
        log.info("imported %d objects from %s into %s", len(objects), legacy, self.storage.path)
        self.storage.close()
        return self.storage.open(kept_here=self.store.kept_in_storage)

    def _report_unreadable(self, kept: Path, reason: str) -> None:
        """Say it where kubectl shows it too: a Warning event on the node."""
        node = self.store.get("nodes", "", NODE_NAME)
        if node is not None:
            self.recorder.record(node, "Warning", "StateUnreadable",
                                 f"the state database could not be read ({reason}); it was kept as {kept.name} "
                                 f"and the cluster started empty (see cluster.log)", component="kube-tutor")

    async def _housekeeping_loop(self) -> None:
        while True:
            await asyncio.sleep(HOUSEKEEPING_SECONDS)
            self._expire_events()
            try:
                self.store.commit()
            except StorageFailed:
                continue  # said once by the storage; it retries
            self.storage.vacuum()
            release_free_memory()

    def _expire_events(self) -> None:
        """Events live an hour after their last write, like the apiserver's ``--event-ttl`` (an etcd lease
        attached again by every update): the storage finds them by ``lastTimestamp`` (else
        ``metadata.creationTimestamp``), without decoding the others."""
        cutoff = self.clock.now() - timedelta(seconds=EVENT_TTL_SECONDS)
        try:
            expired = self.store.written_before("events", cutoff, "lastTimestamp")
        except StorageFailed:
            return  # said by the storage; the next housekeeping tries again
        for namespace, name in expired:
            self.store.remove("events", namespace, name)

    # ---- bootstrap -----------------------------------------------------------------------------
    def _bootstrap(self) -> None:
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.create("namespaces", {"metadata": {"name": name,
                                                          "labels": {"kubernetes.io/metadata.name": name}},
                                             "spec": {"finalizers": ["kubernetes"]},
                                             "status": {"phase": "Active"}})
        self._register_node()
        for ns in self.store.list("namespaces"):
            self.store.create("serviceaccounts", {"metadata": {"name": "default",
                                                               "namespace": ns["metadata"]["name"]}})

    def _register_node(self) -> None:
        """The kubelet registers its node (``registerWithAPIServer``, ``pkg/kubelet/kubelet_node_status.go``): on
        the first start, and on a later one when the node was deleted meanwhile."""
        now = self.clock.timestamp()
        self.staticpods.boot(now)
        resources = _node_resources(self.directory, self.max_pods)
        conditions = [
            ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
            ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
            ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
            ("Ready", "KubeletReady", "kubelet is posting ready status"),
        ]
        self.store.create("nodes", {
            "metadata": {"name": NODE_NAME, "labels": {
                "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": "",
                "node.kubernetes.io/exclude-from-external-load-balancers": ""},
                "annotations": {"node.alpha.kubernetes.io/ttl": "0",
                                "volumes.kubernetes.io/controller-managed-attach-detach": "true"}},
            "spec": {"podCIDR": system.POD_SUBNET, "podCIDRs": [system.POD_SUBNET],
                     "providerID": f"kind://docker/kube-tutor/{NODE_NAME}"},
            "status": {
                "capacity": dict(resources),
                "allocatable": dict(resources),
                "conditions": [{"type": type_, "status": "False" if type_ != "Ready" else "True",
                                "lastHeartbeatTime": now, "lastTransitionTime": now, "reason": reason,
                                "message": message} for type_, reason, message in conditions],
                "addresses": [{"type": "InternalIP", "address": NODE_IP}, {"type": "Hostname", "address": NODE_NAME}],
                "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
                "nodeInfo": {"kubeletVersion": "v1.37.0", "kubeProxyVersion": "v1.37.0",
                             "containerRuntimeVersion": "kube-tutor-practice://0.1", "operatingSystem": "linux",
                             "architecture": "amd64", "osImage": "kube-tutor practice node",
                             "kernelVersion": os.uname().release},
            },
        })
        self._node_started()

    def _node_started(self) -> None:
        """The events a new kind node shows in ``describe node``: the kubelet starting (``pkg/kubelet/kubelet.go``,
        ``pkg/kubelet/nodestatus/setters.go``, ``pkg/kubelet/cm/node_container_manager_linux.go``), the node
        lifecycle controller registering it (``Node <name> event: Registered Node <name> in Controller``) and
        kube-proxy starting."""
        node = self.store.get("nodes", "", NODE_NAME)
        if node is None:
            return
        for component, reason, message in (
                ("kubelet", "Starting", "Starting kubelet."),
                ("kubelet", "NodeHasSufficientMemory", f"Node {NODE_NAME} status is now: NodeHasSufficientMemory"),
                ("kubelet", "NodeHasNoDiskPressure", f"Node {NODE_NAME} status is now: NodeHasNoDiskPressure"),
                ("kubelet", "NodeHasSufficientPID", f"Node {NODE_NAME} status is now: NodeHasSufficientPID"),
                ("kubelet", "NodeAllocatableEnforced", "Updated Node Allocatable limit across pods"),
                ("node-controller", "RegisteredNode",
                 f"Node {NODE_NAME} event: Registered Node {NODE_NAME} in Controller"),
                ("kube-proxy", "Starting", ""),
                ("kubelet", "NodeReady", f"Node {NODE_NAME} status is now: NodeReady")):
            self.recorder.record(node, "Normal", reason, message, component=component,
                                 host="" if component == "node-controller" else NODE_NAME)


def _node_resources(directory: Path, max_pods: int = MAX_PODS) -> dict[str, str]:
    """What a kind node reports: the host's CPUs, memory and disk (kind reserves nothing), ``max_pods`` pods."""
    memory_ki = 8 * 1024 * 1024
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    memory_ki = int(line.split()[1])
                    break
    except (OSError, ValueError):
        pass
    try:
        fs = os.statvfs(directory)
        storage_ki = fs.f_blocks * fs.f_frsize // 1024
    except OSError:
        storage_ki = 100 * 1024 * 1024
    return {"cpu": str(os.cpu_count() or 2), "ephemeral-storage": f"{storage_ki}Ki", "hugepages-1Gi": "0",
            "hugepages-2Mi": "0", "memory": f"{memory_ki}Ki", "pods": str(max_pods)}


async def serve(directory: Path, *, time_scale: float = 1.0, port: int = 0,
                ready: asyncio.Future[PracticeCluster] | None = None, runtime: ContainerRuntime | None = None,
                max_pods: int = MAX_PODS) -> None:
    """Run a practice cluster until cancelled or SIGTERM; writes ``server.json`` once it listens."""
    import signal

    cluster = PracticeCluster(directory, time_scale=time_scale, port=port, runtime=runtime, max_pods=max_pods)
    await cluster.start()
    info = {"pid": os.getpid(), "port": cluster.port, "time_scale": time_scale, "max_pods": max_pods,
            "kubeconfig": str(cluster.kubeconfig_path), "started": cluster.clock.timestamp()}
    atomic_write(directory / SERVER_FILE, json.dumps(info).encode())
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    if ready is not None:
        ready.set_result(cluster)
    try:
        await stop.wait()
    finally:
        await cluster.stop()
        try:
            current = json.loads((directory / SERVER_FILE).read_text())
            if current.get("pid") == os.getpid():
                (directory / SERVER_FILE).unlink()
        except (OSError, ValueError):
            pass
