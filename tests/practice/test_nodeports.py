"""The practice node's NodePorts (``tutor.practice.node.nodeports``): when a Service's port starts to answer.

A client that looks right after creating a Service must find its NodePort listening: kube-tutor's existing
backend, which serves a seat on the practice cluster, starts a ``kubectl port-forward`` for a NodePort that does not
answer on 127.0.0.1, and that forward then follows one pod for its life. Under a class's load the event loop took
seconds to reach the reconcile that served the port, and seats of a 50-seat bench fell back to port-forwards.
"""

from __future__ import annotations

import asyncio
import socket
from types import SimpleNamespace
from typing import Any

import pytest

from tutor.practice.apiserver.store import Store
from tutor.practice.clock import Clock
from tutor.practice.node.nodeports import NodePortProxy


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _service(name: str, node_port: int) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": "default"},
            "spec": {"type": "NodePort", "selector": {"app": name},
                     "ports": [{"port": 8080, "protocol": "TCP", "nodePort": node_port}]}}


async def test_a_nodeport_listens_in_the_write_that_made_its_service() -> None:
    store = Store(Clock(1.0))
    store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    proxy = NodePortProxy(SimpleNamespace(store=store), lambda pod: None)  # type: ignore[arg-type]
    port = _free_port()
    try:
        store.create("services", _service("web", port))
        # no await since the write: the event loop has not run, yet the port accepts a connection
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            pass
        await proxy.reconcile()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        with pytest.raises(ConnectionResetError):  # served: no ready endpoint, so kube-proxy's reject (a reset)
            await asyncio.wait_for(reader.read(), 10)
        writer.close()
        store.remove("services", "default", "web")
        await proxy.reconcile()
        with socket.socket() as again:  # the port is free once its Service is gone
            again.bind(("127.0.0.1", port))
    finally:
        proxy.close()
