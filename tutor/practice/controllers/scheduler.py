"""Provides the scheduler: binds pending pods to the one node while it has room for them (kube-scheduler).

Ports, for a cluster of one node and pods of priority 0:

- the scheduling cycle's outcome (``pkg/scheduler/schedule_one.go``): a pod that fits is bound through the
  binding subresource's logic (:func:`tutor.practice.apiserver.admission.bind`) and gets ``Scheduled``; one
  that does not gets ``PodScheduled=False`` (reason ``Unschedulable``) and a ``FailedScheduling`` event with
  the ``FitError`` message (``pkg/scheduler/framework/types.go`` ``FitError.Error``);
- the ``NodeResourcesFit`` filter's pod count (``pkg/scheduler/framework/plugins/noderesources/fit.go``:
  ``len(nodeInfo.Pods)+1 > allowedPodNumber`` is ``Too many pods``), against the node's
  ``status.allocatable.pods``; the scheduler's cache counts the pods assigned to the node that are not in a
  terminal phase (its informer leaves out ``Succeeded`` and ``Failed`` pods);
- the post-filter plugins run for an unschedulable pod, in the default profile's order: ``DynamicResources``
  (``no new claims to deallocate`` for a pod without resource claims,
  ``pkg/scheduler/framework/plugins/dynamicresources/dynamicresources.go``) and ``DefaultPreemption``
  (``preemption: `` and its own ``FitError``, every node answering ``No preemption victims found for incoming
  pod`` when no pod has a lower priority, ``defaultpreemption/default_preemption.go``);
- the unschedulable queue: such a pod is tried again when room may have appeared (an assigned pod deleted or
  finished, the node changed), the oldest first (``PrioritySort``). Only as many as the node has room for are
  retried; upstream retries all of them and the others fail again with the same event.
"""

from __future__ import annotations

import math
import re

from tutor.kube.podutil import is_pod_phase_terminal
from tutor.practice.apiserver import errors
from tutor.practice.apiserver.admission import bind, update_pod_condition
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.context import ControllerContext
from tutor.practice.controllers.workqueue import Controller
from tutor.practice.events import NODE_NAME

Key = tuple[str, str]

NO_NODES_AVAILABLE = "no nodes available to schedule pods"
"""``ErrNoNodesAvailable`` (``pkg/scheduler/schedule_one.go``)."""
TOO_MANY_PODS = "Too many pods"
"""``NodeResourcesFit``'s reason when the node's pod count is used up."""
NO_CLAIMS_TO_DEALLOCATE = "no new claims to deallocate"
"""``DynamicResources.PostFilter`` for a pod without resource claims."""
NO_PREEMPTION_VICTIMS = "No preemption victims found for incoming pod"
"""``SelectVictimsOnNode`` when the node runs no pod of a lower priority."""

_QUANTITY = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?")
_SUFFIXES = {"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
             "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50, "Ei": 2 ** 60}


def quantity_value(text: object) -> int:
    """``resource.Quantity.Value()`` of a quantity string (rounded up); 0 when it does not parse."""
    match = _QUANTITY.fullmatch(str(text).strip()) if text is not None else None
    if match is None:
        return 0
    number, suffix = match.group(1), match.group(2) or ""
    factor = 10.0 ** int(suffix[1:]) if suffix[:1] in ("e", "E") else _SUFFIXES[suffix]
    return math.ceil(float(number) * factor)


def fit_error(num_nodes: int, reasons: dict[str, int], post_filter: str = "") -> str:
    """``FitError.Error()``: ``0/1 nodes are available: 1 Too many pods. <post-filter message>``."""
    message = f"0/{num_nodes} nodes are available:"
    histogram = sorted(f"{count} {reason}" for reason, count in reasons.items())
    if histogram:
        message += f" {', '.join(histogram)}."
    if post_filter:
        message += f" {post_filter}"
    return message


def _occupies_node(pod: Obj) -> bool:
    """A pod the scheduler's cache counts on the node: assigned to it, not finished."""
    return pod["spec"].get("nodeName") == NODE_NAME and not is_pod_phase_terminal((pod.get("status") or {})
                                                                                   .get("phase"))


class Scheduler(Controller):
    """Binds pending pods to the single node while its ``allocatable.pods`` has room; records the rest."""

    name = "scheduler"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self._assigned: set[Key] | None = None
        """The pods counted on the node (built from the store on first use, then kept from events)."""
        self._unschedulable: dict[Key, None] = {}
        """Pods that did not fit, oldest first (``unschedulablePods``)."""

    # ---- events ------------------------------------------------------------------------------------
    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "nodes":
            if event.obj["metadata"].get("name") == NODE_NAME and event.type != "DELETED":
                self._retry()  # NodeAdd / NodeAllocatableChange
            return
        if plural != "pods":
            return
        pod = event.obj
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        freed = False
        if self._assigned is not None:
            if event.type != "DELETED" and _occupies_node(pod):
                self._assigned.add(key)
            elif key in self._assigned:
                self._assigned.discard(key)
                freed = True
        if event.type == "DELETED":
            self._unschedulable.pop(key, None)
        elif not pod["spec"].get("nodeName") and key not in self._unschedulable:
            # An unschedulable pod's own status updates do not requeue it (isPodUpdated ignores status).
            self.queue.add(key)
        if freed:
            self._retry()  # AssignedPodDelete, or a pod that finished

    def _retry(self) -> None:
        """Move as many unschedulable pods back to the queue as the node may now have room for."""
        if not self._unschedulable:
            return
        room = self._allowed_pods() - len(self._cache())
        for key in list(self._unschedulable)[:max(room, 0)]:
            del self._unschedulable[key]
            self.queue.add(key)

    # ---- the scheduler's view of the node ---------------------------------------------------------
    def _cache(self) -> set[Key]:
        if self._assigned is None:
            self._assigned = {(p["metadata"]["namespace"], p["metadata"]["name"])
                              for p in self.store.list("pods") if _occupies_node(p)}
        return self._assigned

    def _allowed_pods(self) -> int:
        node = self.store.get("nodes", "", NODE_NAME)
        if node is None:
            return 0
        return quantity_value(((node.get("status") or {}).get("allocatable") or {}).get("pods"))

    # ---- one scheduling cycle ------------------------------------------------------------------------
    def sync(self, key: Key) -> None:
        pod = self.store.get("pods", *key)
        if pod is None or pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        if pod["spec"].get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        if self.store.get("nodes", "", NODE_NAME) is None:
            self._unschedulable_pod(pod, NO_NODES_AVAILABLE)
            return
        if len(self._cache()) + 1 > self._allowed_pods():
            preemption = fit_error(1, {NO_PREEMPTION_VICTIMS: 1})
            self._unschedulable_pod(pod, fit_error(1, {TOO_MANY_PODS: 1},
                                                   f"{NO_CLAIMS_TO_DEALLOCATE}, preemption: {preemption}"))
            return
        try:
            bind(self.store, self.store.clock, key[0], key[1], {"metadata": {"name": key[1]},
                                                               "target": {"kind": "Node", "name": NODE_NAME}})
        except errors.Conflict:
            return  # bound or being deleted meanwhile
        self._cache().add(key)
        self.ctx.recorder.record(
            pod, "Normal", "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {NODE_NAME}",
            component="default-scheduler")

    def _unschedulable_pod(self, pod: Obj, message: str) -> None:
        """``handleSchedulingFailure``: the event, the ``PodScheduled`` condition, the unschedulable queue."""
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        self._unschedulable[key] = None
        self.ctx.recorder.record(pod, "Warning", "FailedScheduling", message, component="default-scheduler")
        status = deep_copy(pod.get("status") or {})
        condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
        if update_pod_condition(status, condition, self.store.clock.timestamp()):
            self.store.update("pods", dict(pod, status=status), status_only=True)  # the store copies it
