"""Provides the ReplicaSet controller: keeps ``spec.replicas`` pods per ReplicaSet.

Upstream: kubernetes/kubernetes ``pkg/controller/replicaset/replica_set.go`` (``manageReplicas``: at most
``BurstReplicas`` (500) creations or deletions per sync, creations in ``slowStartBatch`` batches of 1, 2, 4, ...
that stop at the first failed batch, ``getPodsToDelete``) and ``pkg/controller/controller_utils.go``
(``SlowStartInitialBatchSize``, ``ActivePodsWithRanks``). Upstream creates a batch's pods concurrently while
the API server goes on serving; here one sync spends at most :data:`SYNC_BUDGET_SECONDS` creating or deleting
and requeues the rest, so that a scale to 100,000 never blocks the server's loop for long.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tutor.kube.duration import parse_timestamp
from tutor.practice.apiserver import defaults, errors, quota
from tutor.practice.apiserver.admission import mount_service_account_token
from tutor.practice.apiserver.selectors import LabelSelector
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.context import ControllerContext
from tutor.practice.controllers.pods import controller_ref, pod_active, pod_ready, pod_ready_since
from tutor.practice.controllers.workqueue import Controller

BURST_REPLICAS = 500
"""``BurstReplicas``: the most pods one sync creates or deletes."""
SLOW_START_INITIAL_BATCH_SIZE = 1
"""``SlowStartInitialBatchSize``."""
SYNC_BUDGET_SECONDS = 0.05
"""Real seconds of pod creations or deletions one sync spends before it yields (and requeues the rest)."""


def slow_start_batch(count: int, initial_batch_size: int, fn: Callable[[], object],
                     stop: Callable[[], bool] = lambda: False) -> tuple[int, Exception | None]:
    """``slowStartBatch``: call ``fn`` ``count`` times in batches of doubling size; stop after a batch with a failure.

    Args:
        count: How many calls to make.
        initial_batch_size: The first batch's size.
        fn: The call (an API write); an ``ApiError`` is a failure.
        stop: Asked before each batch: True ends the run there (the caller requeues what is left). Upstream runs
            a batch's calls concurrently while the API server serves others; a single-threaded server yields
            between batches instead.

    Returns:
        (successes, the first error or None); calls never attempted count as neither.
    """
    remaining, successes = count, 0
    batch = min(remaining, initial_batch_size)
    while batch > 0 and not stop():
        failures: list[Exception] = []
        for _ in range(batch):
            try:
                fn()
            except errors.ApiError as error:
                failures.append(error)
        successes += batch - len(failures)
        if failures:
            return successes, failures[0]
        remaining -= batch
        batch = min(2 * batch, remaining)
    return successes, None


def _newest_first(timestamp: str) -> float:
    """Sort key that puts newer timestamps first, and a missing one before all."""
    when = parse_timestamp(timestamp)
    return -when.timestamp() if when is not None else -math.inf


_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def deletion_rank(pod: Obj) -> tuple[Any, ...]:
    """``controller.ActivePodsWithRanks`` ordering: the pods that sort first are deleted first."""
    status = pod.get("status") or {}
    ready = pod_ready(pod)
    cost = (pod["metadata"].get("annotations") or {}).get("controller.kubernetes.io/pod-deletion-cost", "0")
    try:
        cost_value = int(cost)
    except ValueError:
        cost_value = 0
    restarts = sum(c.get("restartCount", 0) for c in status.get("containerStatuses") or [])
    created = pod["metadata"].get("creationTimestamp", "")
    since = pod_ready_since(pod) if ready else ""
    return (
        bool(pod["spec"].get("nodeName")),
        _PHASE_RANK.get(status.get("phase", "Pending"), 0),
        ready,
        cost_value,
        _newest_first(since),
        -restarts,
        _newest_first(created),
    )


@dataclass
class _Entry:
    pod: Obj
    active: bool
    ready: bool
    labeled: bool
    terminating: bool
    rank: tuple[Any, ...]


class OwnedPods:
    """The pods one ReplicaSet controls, kept from store events with running counts.

    What the controller's informer cache and ``FilterActivePods`` give upstream: each pod event changes the
    counts in O(1), so a sync of a ReplicaSet of 100,000 pods does not walk them all.
    """

    def __init__(self, selector: LabelSelector) -> None:
        self.selector = selector
        self.entries: dict[tuple[str, str], _Entry] = {}
        self.active = self.ready = self.labeled = self.terminating = 0

    def _count(self, entry: _Entry, sign: int) -> None:
        self.active += sign * entry.active
        self.ready += sign * (entry.active and entry.ready)
        self.labeled += sign * (entry.active and entry.labeled)
        self.terminating += sign * entry.terminating

    def put(self, key: tuple[str, str], pod: Obj | None) -> None:
        """Record the pod's current state (None: it is gone, or no longer controlled by this ReplicaSet)."""
        old = self.entries.pop(key, None)
        if old is not None:
            self._count(old, -1)
        if pod is None:
            return
        entry = _Entry(pod, pod_active(pod), pod_ready(pod),
                       self.selector.matches(pod["metadata"].get("labels") or {}),
                       bool(pod["metadata"].get("deletionTimestamp")), deletion_rank(pod))
        self.entries[key] = entry
        self._count(entry, +1)

    def to_delete(self, count: int) -> list[Obj]:
        """``getPodsToDelete``: the ``count`` active pods that rank first."""
        active = (e for e in self.entries.values() if e.active)
        return [e.pod for e in heapq.nsmallest(count, active, key=lambda e: e.rank)]

    def ready_pods(self) -> list[Obj]:
        return [e.pod for e in self.entries.values() if e.active and e.ready]


class ReplicaSetController(Controller):
    """Keeps ``spec.replicas`` pods per ReplicaSet; deletes not-ready pods first on scale-down."""

    name = "replicaset"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self._owned: dict[str, OwnedPods] = {}
        """The pods of each ReplicaSet by its uid, built from the store on first use, then kept from events."""
        self._victims: dict[tuple[str, str], list[Obj]] = {}
        """Pods a scale-down chose (at most ``BurstReplicas``) and has not deleted yet, in order."""

    def priority(self, key: tuple[str, str]) -> int:
        """Scale-downs first: a rolling update never has more live pods than replicas + maxSurge."""
        rs = self.store.get("replicasets", *key)
        if rs is None:
            return 0
        return 0 if self._pods(rs).active > int(rs["spec"].get("replicas", 0)) else 1

    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "replicasets":
            # A ReplicaSet the Deployment controller creates is synced from its own ADDED event, like
            # replica_set.go's addRS handler: no controller pokes another's queue.
            if event.type != "DELETED":
                self.queue.add((event.obj["metadata"]["namespace"], event.obj["metadata"]["name"]))
            else:
                self._owned.pop(event.obj["metadata"]["uid"], None)
        elif plural == "pods":
            pod = event.obj
            key = (pod["metadata"]["namespace"], pod["metadata"]["name"])
            new_uid = (controller_ref(pod) or {}).get("uid") if event.type != "DELETED" else None
            old_uid = (controller_ref(event.old) or {}).get("uid") if event.old is not None else None
            if old_uid and old_uid != new_uid and old_uid in self._owned:
                self._owned[old_uid].put(key, None)
            if new_uid and new_uid in self._owned:
                self._owned[new_uid].put(key, pod)
            ref = controller_ref(pod)
            if ref and ref.get("kind") == "ReplicaSet":
                self.queue.add((pod["metadata"]["namespace"], ref["name"]))

    def _pods(self, rs: Obj) -> OwnedPods:
        uid = rs["metadata"]["uid"]
        owned = self._owned.get(uid)
        if owned is None:
            owned = self._owned[uid] = OwnedPods(LabelSelector.from_dict(rs["spec"].get("selector")))
            for pod in self.store.owned_by(uid, "pods"):
                if (controller_ref(pod) or {}).get("uid") == uid:
                    owned.put((pod["metadata"]["namespace"], pod["metadata"]["name"]), pod)
        return owned

    def sync(self, key: tuple[str, str]) -> None:
        rs = self.store.get("replicasets", *key)
        if rs is None:
            self._victims.pop(key, None)
            return
        owned = self._pods(rs)
        failure: errors.ApiError | None = None
        if not rs["metadata"].get("deletionTimestamp"):
            diff = owned.active - int(rs["spec"].get("replicas", 0))
            if diff <= 0:
                self._victims.pop(key, None)
            deadline = time.monotonic() + SYNC_BUDGET_SECONDS
            if diff < 0:
                if not self._namespace_terminating(rs):  # every creation would fail: nothing to do
                    wanted = min(-diff, BURST_REPLICAS)
                    created, error = slow_start_batch(wanted, SLOW_START_INITIAL_BATCH_SIZE,
                                                      lambda: self._create_pod(rs), lambda: time.monotonic() > deadline)
                    if isinstance(error, errors.ApiError):
                        failure = error  # processNextWorkItem: AddRateLimited, the work queue's back-off
                        self.add_rate_limited(key)
                    elif created < -diff:
                        self.queue.add(key)  # the rest on the next turn of the loop, the server answering meanwhile
            elif diff > 0:
                # getPodsToDelete chooses up to BurstReplicas pods at once; they go over as many turns as it takes.
                victims = self._victims.get(key) or owned.to_delete(min(diff, BURST_REPLICAS))
                deleted = 0
                while victims and deleted < diff and time.monotonic() <= deadline:
                    pod = victims.pop(0)
                    entry = owned.entries.get((pod["metadata"]["namespace"], pod["metadata"]["name"]))
                    if entry is None or not entry.active:
                        continue  # gone or going meanwhile
                    self.ctx.delete("pods", entry.pod, "Background", None)
                    self.ctx.recorder.record(rs, "Normal", "SuccessfulDelete",
                                                 f"Deleted pod: {pod['metadata']['name']}",
                                                 component="replicaset-controller")
                    deleted += 1
                self._victims[key] = victims
                if deleted < diff:
                    self.queue.add(key)
        if failure is None:
            self.rate_limiter.forget(key)
        self._update_status(rs, owned, failure)

    def _namespace_terminating(self, rs: Obj) -> bool:
        namespace = self.store.get("namespaces", "", rs["metadata"]["namespace"])
        return namespace is None or bool(namespace["metadata"].get("deletionTimestamp"))

    def _create_pod(self, rs: Obj) -> Obj:
        template = rs["spec"]["template"]
        tmeta = template.get("metadata") or {}
        pod: Obj = {
            "metadata": {
                "generateName": f"{rs['metadata']['name']}-",
                "namespace": rs["metadata"]["namespace"],
                "labels": dict(tmeta.get("labels") or {}),
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs["metadata"]["name"],
                                     "uid": rs["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
            },
            "spec": deep_copy(template.get("spec") or {}),
        }
        if tmeta.get("annotations"):
            pod["metadata"]["annotations"] = dict(tmeta["annotations"])
        defaults.default_pod(pod)
        mount_service_account_token(pod)  # the controller creates through the API: admission runs
        try:
            quota.admit(self.store, "pods", pod)  # LimitRanger and ResourceQuota
            created = self.store.create("pods", pod)
        except errors.ApiError as error:
            self.ctx.recorder.record(rs, "Warning", "FailedCreate", f"Error creating: {error.message}",
                                         component="replicaset-controller")
            raise
        self.ctx.recorder.record(rs, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                                     component="replicaset-controller")
        return created

    def _update_status(self, rs: Obj, owned: OwnedPods, failure: errors.ApiError | None = None) -> None:
        """``calculateStatus`` (``replica_set_utils.go``), with the ``ReplicaFailure`` condition: set (reason
        ``FailedCreate``) when creating pods failed, removed after a sync without a failure."""
        min_ready = int(rs["spec"].get("minReadySeconds", 0) or 0)
        available = owned.ready if min_ready == 0 else 0
        wait = None
        clock = self.store.clock
        for pod in owned.ready_pods() if min_ready else ():
            since = parse_timestamp(pod_ready_since(pod))
            elapsed = clock.elapsed_since(since) if since else 0
            if elapsed >= min_ready:
                available += 1
            else:
                remaining = min_ready - elapsed
                wait = remaining if wait is None else min(wait, remaining)
        if wait is not None:
            self.queue.add_after((rs["metadata"]["namespace"], rs["metadata"]["name"]), clock.real(wait + 0.1))
        status: Obj = {
            "replicas": owned.active,
            "fullyLabeledReplicas": owned.labeled,
            "readyReplicas": owned.ready,
            "availableReplicas": available,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        if owned.terminating:
            status["terminatingReplicas"] = owned.terminating
        conditions = [dict(c) for c in (rs.get("status") or {}).get("conditions") or []]
        has_failure = any(c.get("type") == "ReplicaFailure" for c in conditions)
        if failure is not None and not has_failure:
            conditions.append({"type": "ReplicaFailure", "status": "True",
                               "lastTransitionTime": self.store.clock.timestamp(), "reason": "FailedCreate",
                               "message": failure.message})
        elif failure is None and has_failure:
            conditions = [c for c in conditions if c.get("type") != "ReplicaFailure"]
        if conditions:
            status["conditions"] = conditions
        for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if status[k] == 0:
                del status[k]
        if rs.get("status") == status:
            return
        new = deep_copy(rs)
        new["status"] = status
        self.store.update("replicasets", new, status_only=True)


