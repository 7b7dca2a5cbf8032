"""Provides the scheduler: binds pending pods to the one node when they fit on it (kube-scheduler).

Ports, for a cluster of one node and pods of the priority classes it has:

- the scheduling cycle's outcome (``pkg/scheduler/schedule_one.go``): a pod that fits is bound through the
  binding subresource's logic (:func:`tutor.practice.apiserver.admission.bind`) and gets ``Scheduled``; one
  that does not gets ``PodScheduled=False`` (reason ``Unschedulable``) and a ``FailedScheduling`` event with
  the ``FitError`` message (``pkg/scheduler/framework/types.go`` ``FitError.Error``);
- the default profile's filters, in their order, the first that fails deciding
  (``pkg/scheduler/apis/config/v1/default_plugins.go``, ``pkg/scheduler/framework/plugins/``):
  ``NodeUnschedulable`` (``nodeunschedulable/node_unschedulable.go``: a cordoned node, unless the pod tolerates
  the ``node.kubernetes.io/unschedulable:NoSchedule`` taint: ``node(s) were unschedulable``), ``TaintToleration``
  (``tainttoleration/taint_toleration.go``: ``node(s) had untolerated taint(s)``), ``NodeAffinity``
  (``nodeaffinity/node_affinity.go``: ``nodeSelector`` and required node affinity, ``node(s) didn't match Pod's
  node affinity/selector``) and ``NodeResourcesFit`` (``noderesources/fit.go`` ``fitsRequest``: ``Too many pods``
  against ``status.allocatable.pods``, then ``Insufficient cpu`` / ``memory`` / ``ephemeral-storage`` / any
  other resource, each request against allocatable minus what the node's pods request); the scheduler's cache
  counts the pods assigned to the node that are not in a terminal phase (its informer leaves out ``Succeeded``
  and ``Failed`` pods);
- the post-filter plugins run for an unschedulable pod, in the default profile's order: ``DynamicResources``
  (``no new claims to deallocate`` for a pod without resource claims,
  ``pkg/scheduler/framework/plugins/dynamicresources/dynamicresources.go``) and ``DefaultPreemption``
  (``preemption: `` and its own ``FitError``: ``Preemption is not helpful for scheduling`` for a node that failed
  a filter as ``UnschedulableAndUnresolvable`` (``pkg/scheduler/framework/preemption/preemption.go``
  ``nodesWherePreemptionMightHelp``), else ``No preemption victims found for incoming pod`` when no pod of a
  lower priority would make room, ``defaultpreemption/default_preemption.go``);
- the unschedulable queue: such a pod is tried again when it may fit now (an assigned pod deleted or finished,
  the node changed: cordon, uncordon, labels, taints, allocatable), the oldest first (``PrioritySort``). Only the
  pods that now pass the filters are retried; upstream retries all of them and the others fail again with the
  same event. Every pod still unschedulable after 5 minutes is tried again, and its event counted again.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

from tutor.kube import qos, quantity
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

MAX_IN_UNSCHEDULABLE_PODS_SECONDS = 300.0
"""``DefaultPodMaxInUnschedulablePodsDuration`` (``pkg/scheduler/backend/queue/scheduling_queue.go``)."""
UNSCHEDULABLE = "node(s) were unschedulable"
"""``nodeunschedulable.ErrReasonUnschedulable``."""
UNTOLERATED_TAINT = "node(s) had untolerated taint(s)"
"""``tainttoleration.ErrReasonNotMatch``."""
NODE_AFFINITY_MISMATCH = "node(s) didn't match Pod's node affinity/selector"
"""``nodeaffinity.ErrReasonPod``."""
PREEMPTION_NOT_HELPFUL = "Preemption is not helpful for scheduling"
"""The preemption ``FitError`` reason of a node that failed as ``UnschedulableAndUnresolvable``."""
UNSCHEDULABLE_TAINT = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
"""``v1.TaintNodeUnschedulable`` with ``NoSchedule``: the taint whose toleration lets a pod onto a cordoned node."""

quantity_value = quantity.value
"""``resource.Quantity.Value()`` of a quantity string (rounded up); 0 when it does not parse."""


def tolerates(tolerations: list[Obj], taint: Obj) -> bool:
    """``TolerationsTolerateTaint`` / ``Toleration.ToleratesTaint`` (``k8s.io/api/core/v1/toleration.go``)."""
    for toleration in tolerations:
        if toleration.get("effect") and toleration["effect"] != taint.get("effect"):
            continue
        if toleration.get("key") and toleration["key"] != taint.get("key"):
            continue
        operator = toleration.get("operator") or "Equal"
        if operator == "Exists" or (operator == "Equal" and (toleration.get("value") or "") == (
                taint.get("value") or "")):
            return True
    return False


def _expression_matches(expression: Obj, value: str | None) -> bool:
    """One ``NodeSelectorRequirement`` against a label (or field) value (``nodeaffinity`` / ``labels.Selector``)."""
    operator, values = expression.get("operator"), list(expression.get("values") or [])
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and value is not None and len(values) == 1:
        try:
            have, want = int(value), int(values[0])
        except ValueError:
            return False
        return have > want if operator == "Gt" else have < want
    return False


def matches_node_affinity(pod: Obj, node: Obj) -> bool:
    """``nodeaffinity.GetRequiredNodeAffinity(pod).Match(node)``: ``nodeSelector`` and the required terms."""
    labels = node["metadata"].get("labels") or {}
    selector = pod["spec"].get("nodeSelector") or {}
    if any(labels.get(key) != value for key, value in selector.items()):
        return False
    required = (((pod["spec"].get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution"))
    if required is None:
        return True
    fields = {"metadata.name": node["metadata"]["name"]}
    for term in required.get("nodeSelectorTerms") or []:
        expressions = term.get("matchExpressions") or []
        field_expressions = term.get("matchFields") or []
        if not expressions and not field_expressions:
            continue  # an empty term matches no objects
        if all(_expression_matches(e, labels.get(e.get("key", ""))) for e in expressions) and \
                all(_expression_matches(e, fields.get(e.get("key", ""))) for e in field_expressions):
            return True
    return False


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
    """Binds pending pods to the single node when they pass its filters; records the rest."""

    name = "scheduler"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self._assigned: dict[Key, dict[str, Fraction]] | None = None
        """The pods counted on the node and what each requests (built from the store on first use, then kept
        from events)."""
        self._unschedulable: dict[Key, None] = {}
        """Pods that did not fit, oldest first (``unschedulablePods``)."""

    # ---- events ------------------------------------------------------------------------------------
    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "nodes":
            if event.obj["metadata"].get("name") == NODE_NAME and event.type != "DELETED":
                old = event.old
                if old is None or old.get("spec") != event.obj.get("spec") or \
                        old["metadata"].get("labels") != event.obj["metadata"].get("labels") or \
                        (old.get("status") or {}).get("allocatable") != (event.obj.get("status") or {}).get(
                            "allocatable"):
                    # NodeAdd / NodeSpecUnschedulableChange / NodeTaintChange / NodeLabelChange /
                    # NodeAllocatableChange (the queueing hints of the filters that failed)
                    self._retry()
            return
        if plural != "pods":
            return
        pod = event.obj
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        freed = False
        if self._assigned is not None:
            if event.type != "DELETED" and _occupies_node(pod):
                if key not in self._assigned:
                    self._assigned[key] = qos.pod_requests(pod)
            elif key in self._assigned:
                del self._assigned[key]
                freed = True
        if event.type == "DELETED":
            self._unschedulable.pop(key, None)
        elif not pod["spec"].get("nodeName") and key not in self._unschedulable:
            # An unschedulable pod's own status updates do not requeue it (isPodUpdated ignores status).
            self.queue.add(key)
        if freed:
            self._retry()  # AssignedPodDelete, or a pod that finished

    def _retry(self) -> None:
        """Move the unschedulable pods that would now pass the filters back to the queue, oldest first."""
        if not self._unschedulable:
            return
        node = self.store.get("nodes", "", NODE_NAME)
        if node is None:
            return
        extra: list[dict[str, Fraction]] = []
        for key in list(self._unschedulable):
            pod = self.store.get("pods", *key)
            if pod is None:
                del self._unschedulable[key]
                continue
            if not self._filter(pod, node, extra)[0]:
                del self._unschedulable[key]
                extra.append(qos.pod_requests(pod))
                self.queue.add(key)

    # ---- the scheduler's view of the node ---------------------------------------------------------
    def _cache(self) -> dict[Key, dict[str, Fraction]]:
        if self._assigned is None:
            self._assigned = {(p["metadata"]["namespace"], p["metadata"]["name"]): qos.pod_requests(p)
                              for p in self.store.list("pods") if _occupies_node(p)}
        return self._assigned

    def _filter(self, pod: Obj, node: Obj, extra: Sequence[dict[str, Fraction]] = ()) -> tuple[list[str], bool]:
        """The filters' verdict on the node: (reasons, unresolvable); no reasons when the pod fits.

        ``extra`` are requests of pods about to be placed (a retry places several at once).
        """
        spec = node.get("spec") or {}
        tolerations = pod["spec"].get("tolerations") or []
        if spec.get("unschedulable") and not tolerates(tolerations, UNSCHEDULABLE_TAINT):
            return [UNSCHEDULABLE], True
        if any(t.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, t)
               for t in spec.get("taints") or []):
            return [UNTOLERATED_TAINT], True
        if not matches_node_affinity(pod, node):
            return [NODE_AFFINITY_MISMATCH], True
        return self._fits_request(pod, node, extra), False

    def _fits_request(self, pod: Obj, node: Obj, extra: Sequence[dict[str, Fraction]]) -> list[str]:
        """``fitsRequest`` (``noderesources/fit.go``): the reasons the node's allocatable is short."""
        allocatable = (node.get("status") or {}).get("allocatable") or {}
        placed = [*self._cache().values(), *extra]
        reasons = []
        if len(placed) + 1 > quantity.value(allocatable.get("pods")):
            reasons.append(TOO_MANY_PODS)
        wanted = qos.pod_requests(pod)
        if not any(quantity > 0 for quantity in wanted.values()):
            return reasons
        for name in ("cpu", "memory", "ephemeral-storage",
                     *sorted(n for n in wanted if n not in ("cpu", "memory", "ephemeral-storage", "pods"))):
            request = wanted.get(name, Fraction(0))
            if request <= 0:
                continue
            used = sum((p.get(name, Fraction(0)) for p in placed), Fraction(0))
            available = quantity.parse_quantity(allocatable.get(name)) or Fraction(0)
            if name == "cpu":  # compared in millicores, memory and the rest in units (both rounded up)
                too_much = quantity.milli_value(request) > quantity.milli_value(available) - quantity.milli_value(used)
            else:
                too_much = quantity.value(request) > quantity.value(available) - quantity.value(used)
            if too_much:
                reasons.append(f"Insufficient {name}")
        return reasons

    # ---- one scheduling cycle ------------------------------------------------------------------------
    def sync(self, key: Key) -> None:
        pod = self.store.get("pods", *key)
        if pod is None or pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        if pod["spec"].get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        node = self.store.get("nodes", "", NODE_NAME)
        if node is None:
            self._unschedulable_pod(pod, NO_NODES_AVAILABLE)
            return
        reasons, unresolvable = self._filter(pod, node)
        if reasons:
            preemption = fit_error(1, {PREEMPTION_NOT_HELPFUL if unresolvable else NO_PREEMPTION_VICTIMS: 1})
            self._unschedulable_pod(pod, fit_error(1, dict.fromkeys(reasons, 1),
                                                   f"{NO_CLAIMS_TO_DEALLOCATE}, preemption: {preemption}"))
            return
        try:
            bind(self.store, self.store.clock, key[0], key[1], {"metadata": {"name": key[1]},
                                                               "target": {"kind": "Node", "name": NODE_NAME}})
        except errors.Conflict:
            return  # bound or being deleted meanwhile
        self._cache()[key] = qos.pod_requests(pod)
        self.ctx.recorder.record(
            pod, "Normal", "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {NODE_NAME}",
            component="default-scheduler")

    def _unschedulable_pod(self, pod: Obj, message: str) -> None:
        """``handleSchedulingFailure``: the event, the ``PodScheduled`` condition, the unschedulable queue."""
        key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
        self._unschedulable[key] = None
        # flushUnschedulablePodsLeftover: a pod unschedulable for podMaxInUnschedulablePodsDuration is tried again
        # (and, failing, recorded again: the event's count grows).
        self.queue.add_after(key, self.store.clock.real(MAX_IN_UNSCHEDULABLE_PODS_SECONDS))
        self.ctx.recorder.record(pod, "Warning", "FailedScheduling", message, component="default-scheduler")
        status = deep_copy(pod.get("status") or {})
        condition = {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": message}
        if update_pod_condition(status, condition, self.store.clock.timestamp()):
            self.store.update("pods", dict(pod, status=status), status_only=True)  # the store copies it
