"""Provides the node lifecycle controller's unschedulable taint (``pkg/controller/nodelifecycle``).

``node_lifecycle_controller.go`` ``doNoScheduleTaintingPass``: a node with ``spec.unschedulable`` (``kubectl
cordon``) gets the ``node.kubernetes.io/unschedulable:NoSchedule`` taint (``UnschedulableTaintTemplate``), and
loses it when it is schedulable again (``kubectl uncordon``). The scheduler's ``NodeUnschedulable`` filter reads
both; pods that tolerate the taint (DaemonSet pods) are still placed.
"""

from __future__ import annotations

from tutor.practice.apiserver.store import WatchEvent, deep_copy
from tutor.practice.controllers.workqueue import Controller

UNSCHEDULABLE_TAINT_KEY = "node.kubernetes.io/unschedulable"
"""``TaintNodeUnschedulable``."""


class NodeLifecycleController(Controller):
    """Keeps the unschedulable taint in step with ``spec.unschedulable``."""

    name = "node-lifecycle"

    def on_event(self, event: WatchEvent) -> None:
        if event.resource.plural == "nodes" and event.type != "DELETED":
            self.queue.add(event.obj["metadata"]["name"])

    def sync(self, name: str) -> None:
        node = self.store.get("nodes", "", name)
        if node is None:
            return
        taints = list(node["spec"].get("taints") or [])
        has = any(t.get("key") == UNSCHEDULABLE_TAINT_KEY and t.get("effect") == "NoSchedule" for t in taints)
        wanted = bool(node["spec"].get("unschedulable"))
        if has == wanted:
            return
        if wanted:
            taints.append({"key": UNSCHEDULABLE_TAINT_KEY, "effect": "NoSchedule",
                           "timeAdded": self.store.clock.timestamp()})
        else:
            taints = [t for t in taints if not (t.get("key") == UNSCHEDULABLE_TAINT_KEY
                                                and t.get("effect") == "NoSchedule")]
        new = deep_copy(node)
        if taints:
            new["spec"]["taints"] = taints
        else:
            new["spec"].pop("taints", None)
        self.store.update("nodes", new)
