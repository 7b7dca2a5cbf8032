"""Provides PracticeCluster: the store, the controllers, the kubelet, the API server and persistence."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import random
import socket
from pathlib import Path
from typing import Any

from aiohttp import web

from tutor.practice.apiserver import errors
from tutor.practice.apiserver.server import ApiServer
from tutor.practice.apiserver.store import Obj, Store, deep_copy
from tutor.practice.apiserver.tls import Credentials, ensure_credentials
from tutor.practice.clock import Clock, parse_time
from tutor.practice.controllers.deployment import DeploymentController
from tutor.practice.controllers.endpoints import EndpointsController
from tutor.practice.controllers.garbagecollector import GarbageCollector
from tutor.practice.controllers.namespace import NamespaceController
from tutor.practice.controllers.replicaset import ReplicaSetController
from tutor.practice.controllers.scheduler import Scheduler
from tutor.practice.events import NODE_NAME, EventRecorder
from tutor.practice.node.kubelet import NODE_IP, Kubelet
from tutor.practice.node.nodeports import NodePortProxy, port_is_free

log = logging.getLogger(__name__)

STATE_FILE = "state.json"
SERVER_FILE = "server.json"
KUBECONFIG_FILE = "kubeconfig"
CONTEXT = "kube-tutor-practice"
NODE_PORT_RANGE = (30000, 32767)
NODE_PORT_STATIC_BAND = 86  # allocator.go calculateRangeOffset for the default range
SAVE_INTERVAL = 0.5
EVENT_TTL_SECONDS = 3600


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` so a reader sees the old or the new file, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


class Forbidden(errors.ApiError):
    code = 403
    reason = "Forbidden"


class PracticeCluster:
    """An embedded, single-node Kubernetes that the real kubectl drives over HTTPS."""

    def __init__(self, directory: Path, *, time_scale: float = 1.0, port: int = 0) -> None:
        self.directory = directory
        self.clock = Clock(time_scale)
        self.store = Store(self.clock)
        self.recorder = EventRecorder(self.store)
        # Listener order matters: ReplicaSets act on a scale-down before the Deployment's next sync.
        self.replicasets = ReplicaSetController(self)
        self.deployments = DeploymentController(self)
        self.scheduler = Scheduler(self)
        self.endpoints = EndpointsController(self)
        self.gc = GarbageCollector(self)
        self.namespaces = NamespaceController(self)
        self.kubelet = Kubelet(self)
        self.nodeports = NodePortProxy(self)
        self.requested_port = port
        self.port = 0
        self.watch_count = 0
        self.credentials: Credentials | None = None
        self._runner: web.AppRunner | None = None
        self._saver: asyncio.Task[None] | None = None
        self._stopped = asyncio.Event()

    # ---- files ---------------------------------------------------------------------------------
    @property
    def kubeconfig_path(self) -> Path:
        return self.directory / KUBECONFIG_FILE

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

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
        self.directory.mkdir(parents=True, exist_ok=True)
        self.credentials = ensure_credentials(self.directory / "pki")
        previous_port = self._load()
        if not self.store.get("namespaces", "", "default"):
            self._bootstrap()
        server = ApiServer(self, self.credentials.token)
        self._runner = web.AppRunner(server.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = self._bind(self.requested_port or previous_port)
        self.port = sock.getsockname()[1]
        site = web.SockSite(self._runner, sock, ssl_context=self.credentials.server_context())
        await site.start()
        import yaml

        atomic_write(self.kubeconfig_path, yaml.safe_dump(self.kubeconfig(), sort_keys=False).encode())
        self.kubelet.resume()
        self._resync_all()
        await self.nodeports.reconcile()
        self._saver = asyncio.get_running_loop().create_task(self._save_loop())

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
        if self._saver is not None:
            self._saver.cancel()
        self.save()
        self.store.close_watches()
        self.kubelet.close()
        self.nodeports.close()
        for controller in (self.deployments, self.replicasets, self.scheduler, self.endpoints, self.gc,
                           self.namespaces):
            controller.queue.close()
        if self._runner is not None:
            await self._runner.cleanup()
        self._stopped.set()

    async def wait_stopped(self) -> None:
        await self._stopped.wait()

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

    # ---- persistence ---------------------------------------------------------------------------
    def _load(self) -> int:
        if not self.state_path.exists():
            return 0
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as error:
            broken = self.state_path.with_suffix(".broken")
            log.error("cannot read %s (%s); starting empty, kept as %s", self.state_path, error, broken)
            self.state_path.replace(broken)
            return 0
        self.store.restore(data.get("store", {}))
        self.kubelet.restore(data.get("kubelet", {}))
        return int(data.get("port", 0))

    def save(self) -> None:
        data = {"version": 1, "port": self.port, "store": self.store.snapshot(), "kubelet": self.kubelet.snapshot()}
        atomic_write(self.state_path, json.dumps(data, separators=(",", ":")).encode())
        self.store.dirty = False

    async def _save_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_gc = loop.time()
        while True:
            await asyncio.sleep(SAVE_INTERVAL)
            if loop.time() - last_gc > 60:
                last_gc = loop.time()
                self._expire_events()
            if self.store.dirty:
                # Stored objects are replaced, never mutated, so the snapshot can be encoded off the loop.
                self.store.dirty = False
                try:
                    await asyncio.to_thread(self._save_snapshot, self.store.snapshot(), self.kubelet.snapshot())
                except Exception:  # noqa: BLE001 - keep saving later; the log says why this one failed
                    self.store.dirty = True
                    log.exception("saving the practice cluster state failed")

    def _save_snapshot(self, store: dict[str, Any], kubelet: dict[str, Any]) -> None:
        data = {"version": 1, "port": self.port, "store": store, "kubelet": kubelet}
        atomic_write(self.state_path, json.dumps(data, separators=(",", ":")).encode())

    def _expire_events(self) -> None:
        now = self.clock.now()
        for event in self.store.list("events"):
            last = parse_time(event.get("lastTimestamp") or event["metadata"].get("creationTimestamp"))
            if last is not None and (now - last).total_seconds() > EVENT_TTL_SECONDS:
                self.store.remove("events", event["metadata"]["namespace"], event["metadata"]["name"])

    # ---- bootstrap -----------------------------------------------------------------------------
    def _bootstrap(self) -> None:
        for name in ("default", "kube-system", "kube-public", "kube-node-lease"):
            self.store.create("namespaces", {"metadata": {"name": name,
                                                          "labels": {"kubernetes.io/metadata.name": name}},
                                             "spec": {"finalizers": ["kubernetes"]},
                                             "status": {"phase": "Active"}})
        self.store.create("nodes", {
            "metadata": {"name": NODE_NAME, "labels": {
                "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux",
                "node-role.kubernetes.io/control-plane": ""}},
            "spec": {"podCIDR": "10.244.0.0/16", "podCIDRs": ["10.244.0.0/16"]},
            "status": {
                "capacity": {"cpu": "2", "memory": "8Gi", "pods": "10000", "ephemeral-storage": "100Gi"},
                "allocatable": {"cpu": "2", "memory": "8Gi", "pods": "10000", "ephemeral-storage": "100Gi"},
                "conditions": [
                    {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                     "message": "kubelet has sufficient memory available"},
                    {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
                     "message": "kubelet has no disk pressure"},
                    {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID",
                     "message": "kubelet has sufficient PID available"},
                    {"type": "Ready", "status": "True", "reason": "KubeletReady",
                     "message": "kubelet is posting ready status"}],
                "addresses": [{"type": "InternalIP", "address": NODE_IP}, {"type": "Hostname", "address": NODE_NAME}],
                "nodeInfo": {"kubeletVersion": "v1.37.0", "kubeProxyVersion": "v1.37.0",
                             "containerRuntimeVersion": "kube-tutor-practice://0.1", "operatingSystem": "linux",
                             "architecture": "amd64", "osImage": "kube-tutor practice node",
                             "kernelVersion": os.uname().release},
            },
        })
        now = self.clock.timestamp()
        for ns in self.store.list("namespaces"):
            self.store.create("serviceaccounts", {"metadata": {"name": "default",
                                                               "namespace": ns["metadata"]["name"]}})
        del now
        self.store.create("services", {
            "metadata": {"name": "kubernetes", "namespace": "default",
                         "labels": {"component": "apiserver", "provider": "kubernetes"}},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.1", "clusterIPs": ["10.96.0.1"],
                     "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": 6443}],
                     "sessionAffinity": "None", "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                     "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}},
        })

    # ---- admission (called by the API server) ------------------------------------------------------
    def _used_cluster_ips(self) -> set[str]:
        return {ip for svc in self.store.iter("services") for ip in svc["spec"].get("clusterIPs") or []}

    def _used_node_ports(self, exclude_uid: str | None = None) -> set[int]:
        out = set()
        for svc in self.store.iter("services"):
            if svc["metadata"].get("uid") == exclude_uid:
                continue
            for port in svc["spec"].get("ports") or []:
                if port.get("nodePort"):
                    out.add(port["nodePort"])
        return out

    def _allocate_node_port(self, used: set[int]) -> int:
        low, high = NODE_PORT_RANGE
        upper = list(range(low + NODE_PORT_STATIC_BAND, high + 1))
        random.shuffle(upper)
        for candidate in upper + list(range(low, low + NODE_PORT_STATIC_BAND)):
            if candidate not in used and port_is_free(candidate):
                return candidate
        raise errors.ApiError("range is full")

    def _service_ports(self, svc: Obj, previous: Obj | None) -> None:
        spec = svc["spec"]
        name = svc["metadata"].get("name", "")
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            used = self._used_node_ports(exclude_uid=(previous or {}).get("metadata", {}).get("uid"))
            old_ports = {p.get("port"): p.get("nodePort") for p in ((previous or {}).get("spec") or {}).get("ports") or []}
            for i, port in enumerate(spec.get("ports") or []):
                if not port.get("nodePort") and old_ports.get(port.get("port")):
                    port["nodePort"] = old_ports[port["port"]]
                if port.get("nodePort"):
                    if port["nodePort"] in used:
                        raise errors.invalid("Service", "", name, [(
                            f"spec.ports[{i}].nodePort",
                            f"Invalid value: {port['nodePort']}: provided port is already allocated")])
                else:
                    port["nodePort"] = self._allocate_node_port(used)
                used.add(port["nodePort"])
        else:
            for port in spec.get("ports") or []:
                port.pop("nodePort", None)
            spec.pop("externalTrafficPolicy", None)

    def admit_create(self, plural: str, obj: Obj) -> None:
        if plural == "services":
            spec = obj["spec"]
            if spec.get("type") != "ExternalName" and spec.get("clusterIP") != "None":
                used = self._used_cluster_ips()
                ip = spec.get("clusterIP")
                if ip and ip in used:
                    raise errors.invalid("Service", "", obj["metadata"].get("name", ""), [
                        ("spec.clusterIPs", f'Invalid value: ["{ip}"]: failed to allocate IP {ip}: '
                                            "provided IP is already allocated")])
                while not ip or ip in used:
                    ip = f"10.96.{random.randint(0, 255)}.{random.randint(2, 254)}"
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
            self._service_ports(obj, None)
        elif plural == "namespaces":
            obj["status"] = {"phase": "Active"}

    def admit_update(self, plural: str, current: Obj, new: Obj) -> None:
        if plural == "services":
            spec = new["spec"]
            old_spec = current["spec"]
            if spec.get("clusterIP") and spec.get("clusterIP") != old_spec.get("clusterIP"):
                raise errors.invalid("Service", "", current["metadata"]["name"], [
                    ("spec.clusterIPs[0]", f'Invalid value: ["{spec["clusterIP"]}"]: may not change once set')])
            if old_spec.get("clusterIP"):
                spec["clusterIP"] = old_spec["clusterIP"]
                spec["clusterIPs"] = old_spec.get("clusterIPs", [old_spec["clusterIP"]])
            self._service_ports(new, current)
        elif plural == "pods":
            old_spec = dict(current["spec"])
            new_spec = dict(new["spec"])
            for spec in (old_spec, new_spec):
                spec["containers"] = [{k: v for k, v in c.items() if k != "image"} for c in spec.get("containers") or []]
                spec.pop("activeDeadlineSeconds", None)
                spec.pop("tolerations", None)
            if old_spec != new_spec:
                raise errors.invalid("Pod", "", current["metadata"]["name"], [(
                    "spec", "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                            "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                            "(allow it to be set to 1 if it was previously negative)")])

    def after_update(self, plural: str, obj: Obj) -> None:
        """Hook after an API update (nothing yet: controllers react to store events)."""

    # ---- deletion ------------------------------------------------------------------------------
    def delete(self, plural: str, obj: Obj, propagation: str | None, grace: int | None) -> Obj | None:
        """Delete like the apiserver: graceful for bound pods, finalizers for foreground/orphan.

        Returns the object when it still exists (being deleted), None when it is gone.
        """
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        current = self.store.get(plural, namespace, name)
        if current is None:
            return None
        if plural == "namespaces":
            if name in ("default", "kube-system", "kube-public"):
                raise Forbidden(f'namespaces "{name}" is forbidden: this namespace may not be deleted')
            if current["metadata"].get("deletionTimestamp"):
                return current
            new = deep_copy(current)
            new["status"] = {"phase": "Terminating"}
            stored = self.store.set_deletion(plural, new, self.clock.timestamp(), 0)
            return stored
        if current["metadata"].get("deletionTimestamp"):
            if plural == "pods" and grace is not None:
                deadline = parse_time(current["metadata"]["deletionTimestamp"])
                wanted = self.clock.now().timestamp() + self.clock.real(grace)
                if deadline is not None and wanted < deadline.timestamp():
                    if grace == 0:
                        self.store.remove(plural, namespace, name)
                        return None
                    from datetime import UTC, datetime

                    return self.store.set_deletion(plural, deep_copy(current), self.clock.timestamp(
                        datetime.fromtimestamp(wanted, UTC)), grace)
            return current
        finalizers = list(current["metadata"].get("finalizers") or [])
        if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        new = deep_copy(current)
        if finalizers:
            new["metadata"]["finalizers"] = finalizers
        if plural == "pods" and current["spec"].get("nodeName") and (current.get("status") or {}).get(
                "phase") not in ("Succeeded", "Failed"):
            if grace is None:
                grace = int(current["spec"].get("terminationGracePeriodSeconds", 30))
            if grace > 0 or finalizers:
                from datetime import UTC, datetime

                when = datetime.fromtimestamp(self.clock.now().timestamp() + self.clock.real(grace), UTC)
                return self.store.set_deletion(plural, new, self.clock.timestamp(when), grace)
        if finalizers:
            return self.store.set_deletion(plural, new, self.clock.timestamp(), 0 if grace is None else grace)
        self.store.remove(plural, namespace, name)
        if plural == "services":
            endpoints = self.store.get("endpoints", namespace, name)
            if endpoints is not None:
                self.store.remove("endpoints", namespace, name)
        return None


async def serve(directory: Path, *, time_scale: float = 1.0, port: int = 0,
                ready: asyncio.Future[PracticeCluster] | None = None) -> None:
    """Run a practice cluster until cancelled or SIGTERM; writes ``server.json`` once it listens."""
    import signal

    cluster = PracticeCluster(directory, time_scale=time_scale, port=port)
    await cluster.start()
    info = {"pid": os.getpid(), "port": cluster.port, "time_scale": time_scale,
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
