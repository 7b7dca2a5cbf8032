"""Provides the pod network as the API server reaches it: a connection to a pod's port, and the kubelet's own port.

A connection to a pod's port is an in-process socket pair whose far end is served by the same bootcamp app the
NodePort listeners serve (:func:`tutor.practice.node.nodeports.serve_connection` with the kubelet's ``serve_app``):
the pod proxy subresource and ``kubectl port-forward`` reach exactly what ``curl localhost:<nodePort>`` reaches.
The app listens on :data:`~tutor.practice.node.registry.APP_PORT` only, while its container runs; any other port
refuses the connection, as a real one would.

The kubelet's port (10250) answers the few read-only paths a learner tries through ``nodes/<name>/proxy``:
``/healthz`` and ``/pods`` (upstream: kubernetes/kubernetes ``pkg/kubelet/server/server.go``,
``InstallDefaultHandlers``); any other path is Go's ``404 page not found``.
"""

from __future__ import annotations

import asyncio
import json
import socket

from tutor.practice.apiserver.store import Obj, Store
from tutor.practice.events import NODE_NAME
from tutor.practice.node import registry
from tutor.practice.node.nodeports import ServeApp, serve_connection


class PodNetwork:
    """Connections into pods for the API server (pod and service proxy, port-forward) and the kubelet's port."""

    def __init__(self, store: Store, serve: ServeApp) -> None:
        self.store = store
        self._serve = serve
        self._tasks: set[asyncio.Task[None]] = set()

    @staticmethod
    def app_listens(pod: Obj, port: int) -> bool:
        """True when a running container of ``pod`` runs the bootcamp app and ``port`` is the port it listens on."""
        if port != registry.APP_PORT:
            return False
        statuses = {s.get("name"): s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        for c in pod["spec"].get("containers") or []:
            state = (statuses.get(c.get("name")) or {}).get("state") or {}
            if registry.lookup(c.get("image", "")) is not None and "running" in state:
                return True
        return False

    async def dial(self, pod: Obj, port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to ``port`` of ``pod``'s network namespace.

        Raises:
            ConnectionRefusedError: nothing listens on that port.
        """
        if not self.app_listens(pod, port):
            raise ConnectionRefusedError(port)
        namespace, name, uid = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"]

        def current() -> Obj | None:
            now = self.store.get("pods", namespace, name)
            return now if now is not None and now["metadata"].get("uid") == uid else None

        app_end, client_end = socket.socketpair()
        app_reader, app_writer = await asyncio.open_connection(sock=app_end)
        task = asyncio.get_running_loop().create_task(
            serve_connection(app_reader, app_writer, current, self._serve, self.store.commit))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return await asyncio.open_connection(sock=client_end)

    def kubelet(self, method: str, path: str) -> tuple[int, str, bytes]:
        """The kubelet's answer on its own port: ``(status, content type, body)``."""
        if method not in ("GET", "HEAD"):
            return 405, "text/plain; charset=utf-8", b"405: Method Not Allowed"
        if path == "/healthz":
            return 200, "text/plain; charset=utf-8", b"ok"
        if path == "/pods":
            items = [p for p in self.store.list("pods") if p["spec"].get("nodeName") == NODE_NAME]
            body = json.dumps({"kind": "PodList", "apiVersion": "v1", "metadata": {}, "items": items},
                              separators=(",", ":")).encode()
            return 200, "application/json", body
        return 404, "text/plain; charset=utf-8", b"404 page not found\n"

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
