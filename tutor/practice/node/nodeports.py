"""Provides the NodePort proxy: each NodePort listens on 127.0.0.1 and forwards to a ready endpoint's app."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable
from email.utils import formatdate

from tutor.kube.podutil import is_pod_ready
from tutor.practice.apiserver.storage import StorageFailed
from tutor.practice.apiserver.store import Obj, WatchEvent
from tutor.practice.context import ControllerContext
from tutor.practice.node import registry

log = logging.getLogger(__name__)
HOST = "127.0.0.1"

ServeApp = Callable[[Obj], str | None]
"""``serve(pod)``: the body the app in ``pod`` answers to one request, None when it runs no app."""


class NodePortProxy:
    """Plays kube-proxy for NodePort Services: round-robin over ready, non-terminating endpoints."""

    def __init__(self, ctx: ControllerContext, serve: ServeApp) -> None:
        self.store = ctx.store
        self._serve = serve
        self._servers: dict[int, asyncio.Server] = {}
        self._owners: dict[int, tuple[str, str, int]] = {}  # nodePort -> (namespace, service, port)
        self._next: dict[tuple[str, str], int] = {}
        self._pending = False
        self.store.add_listener(self._on_event)

    def _on_event(self, event: WatchEvent) -> None:
        if event.resource.plural == "services" and not self._pending:
            self._pending = True
            asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.reconcile()))

    def desired(self) -> dict[int, tuple[str, str, int]]:
        out: dict[int, tuple[str, str, int]] = {}
        for svc in self.store.list("services"):
            if svc["spec"].get("type") not in ("NodePort", "LoadBalancer"):
                continue
            for port in svc["spec"].get("ports") or []:
                if port.get("nodePort") and port.get("protocol", "TCP") == "TCP":
                    out[port["nodePort"]] = (svc["metadata"]["namespace"], svc["metadata"]["name"], port["port"])
        return out

    async def reconcile(self) -> None:
        self._pending = False
        desired = self.desired()
        for port in list(self._servers):
            if port not in desired:
                server = self._servers.pop(port)
                self._owners.pop(port, None)
                server.close()
        for port, owner in desired.items():
            self._owners[port] = owner
            if port in self._servers:
                continue
            try:
                server = await asyncio.start_server(self._handle, HOST, port, reuse_address=True)
            except OSError as error:
                log.warning("NodePort %s: cannot listen on %s:%s: %s", owner, HOST, port, error)
                continue
            self._servers[port] = server

    def _backend(self, port: int) -> Obj | None:
        owner = self._owners.get(port)
        if owner is None:
            return None
        namespace, name, service_port = owner
        svc = self.store.get("services", namespace, name)
        if svc is None:
            return None
        target = None
        for p in svc["spec"].get("ports") or []:
            if p.get("port") == service_port:
                target = p.get("targetPort", p.get("port"))
        selector = svc["spec"].get("selector") or {}
        if not selector:
            return None
        pods = []
        for pod in self.store.list("pods", namespace):
            labels = pod["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            if pod["metadata"].get("deletionTimestamp") or not is_pod_ready(pod):
                continue
            pods.append(pod)
        pods = [p for p in pods if _listens(p, target)]
        if not pods:
            return None
        key = (namespace, name)
        index = self._next.get(key, 0) % len(pods)
        self._next[key] = index + 1
        return pods[index]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    break
                length = 0
                keep_alive = True
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    key, _, value = line.partition(":")
                    if key.strip().lower() == "content-length" and value.strip().isdigit():
                        length = int(value.strip())
                    if key.strip().lower() == "connection" and value.strip().lower() == "close":
                        keep_alive = False
                if length:
                    await reader.readexactly(length)
                pod = self._backend(port)
                body = self._serve(pod) if pod is not None else None
                if body is not None:
                    try:
                        self.store.commit()  # the request count and log line the app kept, before it answers
                    except StorageFailed:
                        log.exception("NodePort %s: the app's state could not be stored", port)
                if body is None:
                    # No ready endpoint: kube-proxy rejects the connection.
                    sock = writer.get_extra_info("socket")
                    if sock is not None:
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    break
                data = body.encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: "
                    + formatdate(usegmt=True).encode()
                    + b"\r\nConnection: " + (b"keep-alive" if keep_alive else b"close")
                    + b"\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
                await writer.drain()
                if not keep_alive:
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def close(self) -> None:
        for server in self._servers.values():
            server.close()
        self._servers.clear()


def _listens(pod: Obj, target: object) -> bool:
    """The bootcamp app listens on 8080 (or a named container port that resolves to it)."""
    for c in pod["spec"].get("containers") or []:
        if registry.lookup(c.get("image", "")) is None:
            continue
        if target == registry.APP_PORT:
            return True
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("containerPort") == registry.APP_PORT:
                return True
    return False
