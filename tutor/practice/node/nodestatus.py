"""Provides the kubelet's node heartbeats: the node Lease and the node's status conditions.

Ports, for the one node:

- the node lease (``staging/src/k8s.io/component-helpers/apimachinery/lease/controller.go``, started by
  ``pkg/kubelet/kubelet.go``): a ``coordination.k8s.io/v1`` Lease named after the node in ``kube-node-lease``,
  owned by the Node, ``leaseDurationSeconds: 40`` (``NodeLeaseDurationSeconds``), renewed every 10 s
  (``renewIntervalFraction`` 0.25 of it); ``kubectl describe node`` prints it under ``Lease:``;
- the node status (``pkg/kubelet/kubelet_node_status.go`` ``tryUpdateNodeStatus``): with a lease, the status is
  posted only when something changed or every ``nodeStatusReportFrequency`` (5 min), and each post sets every
  condition's ``lastHeartbeatTime``;
- ``recordNodeSchedulableEvent`` (``pkg/kubelet/nodestatus/setters.go``): ``NodeNotSchedulable`` /
  ``NodeSchedulable`` events (``Node <name> status is now: <event>``) when ``spec.unschedulable`` changes.
"""

from __future__ import annotations

import asyncio
import contextlib

from tutor.practice.apiserver import errors
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.context import ControllerContext
from tutor.practice.events import NODE_NAME

LEASE_NAMESPACE = "kube-node-lease"
LEASE_DURATION_SECONDS = 40
RENEW_INTERVAL = LEASE_DURATION_SECONDS * 0.25
STATUS_REPORT_FREQUENCY = 300.0


class NodeStatus:
    """Renews the node's Lease and posts its status heartbeats, on the practice clock."""

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.store = ctx.store
        self._task: asyncio.Task[None] | None = None
        self._since_report = 0.0
        self._unschedulable: bool | None = None
        self.store.add_listener(self._on_event)

    def start(self) -> None:
        node = self.store.get("nodes", "", NODE_NAME)
        self._unschedulable = bool(node and node["spec"].get("unschedulable"))
        self.renew_lease()
        self.post_status()
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()

    async def _loop(self) -> None:
        while True:
            await self.ctx.clock.sleep(RENEW_INTERVAL)
            with contextlib.suppress(errors.ApiError):
                self.renew_lease()
                self._since_report += RENEW_INTERVAL
                if self._since_report >= STATUS_REPORT_FREQUENCY:
                    self.post_status()

    def _on_event(self, event: WatchEvent) -> None:
        if event.resource.plural != "nodes" or event.obj["metadata"]["name"] != NODE_NAME or event.type == "DELETED":
            return
        unschedulable = bool(event.obj["spec"].get("unschedulable"))
        if self._unschedulable is None or unschedulable == self._unschedulable:
            return
        self._unschedulable = unschedulable
        reason = "NodeNotSchedulable" if unschedulable else "NodeSchedulable"
        self.ctx.recorder.record(event.obj, "Normal", reason, f"Node {NODE_NAME} status is now: {reason}",
                                 component="kubelet", host=NODE_NAME)

    def renew_lease(self) -> None:
        node = self.store.get("nodes", "", NODE_NAME)
        if node is None:
            return
        now = self.ctx.clock.micro_timestamp()
        lease = self.store.get("leases", LEASE_NAMESPACE, NODE_NAME)
        if lease is None:
            self.store.create("leases", {
                "metadata": {"name": NODE_NAME, "namespace": LEASE_NAMESPACE, "ownerReferences": [
                    {"apiVersion": "v1", "kind": "Node", "name": NODE_NAME, "uid": node["metadata"]["uid"]}]},
                "spec": {"holderIdentity": NODE_NAME, "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                         "renewTime": now}})
            return
        new = deep_copy(lease)
        new["spec"]["renewTime"] = now
        self.store.update("leases", new)

    def post_status(self) -> None:
        """A status post: every condition's heartbeat is now; a transition time is kept unless never set."""
        node = self.store.get("nodes", "", NODE_NAME)
        if node is None:
            return
        self._since_report = 0.0
        now = self.ctx.clock.timestamp()
        new: Obj = deep_copy(node)
        for condition in (new.get("status") or {}).get("conditions") or []:
            condition["lastHeartbeatTime"] = now
            if not condition.get("lastTransitionTime"):
                condition["lastTransitionTime"] = now
        self.store.update("nodes", new, status_only=True)
