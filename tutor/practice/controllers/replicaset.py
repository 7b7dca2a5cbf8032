"""Provides the ReplicaSet controller: keeps ``spec.replicas`` pods per ReplicaSet.

Upstream: kubernetes/kubernetes ``pkg/controller/replicaset/replica_set.go`` (``manageReplicas``: at most
``BurstReplicas`` (500) creations or deletions per sync, creations in ``slowStartBatch`` batches of 1, 2, 4, ...
that stop at the first failed batch, ``getPodsToDelete``) and ``pkg/controller/controller_utils.go``
(``SlowStartInitialBatchSize``, ``ActivePodsWithRanks``). Its API client is rate limited as
kube-controller-manager's are (``--kube-api-qps`` 20, ``--kube-api-burst`` 30, the defaults of
``k8s.io/controller-manager/config/v1alpha1/defaults.go``; client-go's token bucket,
``k8s.io/client-go/util/flowcontrol/throttle.go``): a scale to 100,000 creates 20 pods a second of cluster time,
as a real controller manager does, instead of blocking the server while it creates them all.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tutor.kube.duration import parse_timestamp
from tutor.practice.apiserver import defaults, errors
from tutor.practice.apiserver.selectors import LabelSelector
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.context import ControllerContext
from tutor.practice.controllers.pods import controller_ref, pod_active, pod_ready, pod_ready_since
from tutor.practice.controllers.workqueue import Controller

BURST_REPLICAS = 500
"""``BurstReplicas``: the most pods one sync creates or deletes."""
SLOW_START_INITIAL_BATCH_SIZE = 1
"""``SlowStartInitialBatchSize``."""
FAILED_CREATE_RETRY_SECONDS = 1.0
"""Real seconds before a sync whose creations failed runs again (the work queue's rate limiter)."""
CLIENT_QPS = 20.0
"""kube-controller-manager's ``--kube-api-qps``: requests a second (of cluster time)."""
CLIENT_BURST = 30
"""kube-controller-manager's ``--kube-api-burst``."""


class TokenBucket:
    """client-go's ``tokenBucketRateLimiter``: ``burst`` requests at once, then ``qps`` a second; starts full."""

    def __init__(self, qps: float, burst: int, now: Callable[[], float] = time.monotonic) -> None:
        self.qps, self.burst, self._now = qps, burst, now
        self._tokens = float(burst)
        self._last = now()

    def _refill(self) -> None:
        now = self._now()
        self._tokens = min(float(self.burst), self._tokens + (now - self._last) * self.qps)
        self._last = now

    def take(self, wanted: int) -> int:
        """Take up to ``wanted`` tokens; return how many were available."""
        self._refill()
        granted = max(0, min(wanted, int(self._tokens)))
        self._tokens -= granted
        return granted

    def delay(self) -> float:
        """Seconds until the next token."""
        self._refill()
        return max(0.0, (1.0 - self._tokens) / self.qps)


def slow_start_batch(count: int, initial_batch_size: int, fn: Callable[[], None]) -> tuple[int, Exception | None]:
    """``slowStartBatch``: call ``fn`` ``count`` times in batches of doubling size; stop after a batch with a failure.

    Returns:
        (successes, the first error or None); calls never attempted count as neither.
    """
    remaining, successes = count, 0
    batch = min(remaining, initial_batch_size)
    while batch > 0:
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


def _neg(text: str) -> tuple[int, ...]:
    """Sort key that orders strings descending (newer timestamps first)."""
    return tuple(-ord(c) for c in text)


class ReplicaSetController(Controller):
    """Keeps ``spec.replicas`` pods per ReplicaSet; deletes not-ready pods first on scale-down."""

    name = "replicaset"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.client = TokenBucket(CLIENT_QPS * ctx.clock.time_scale, CLIENT_BURST)
        """The rate limit of the controller's pod creations and deletions (QPS in real seconds)."""
        self._active: dict[tuple[str, str], int] = {}
        """Active pods per ReplicaSet as its last sync left them (for ``priority``)."""

    def priority(self, key: tuple[str, str]) -> int:
        """Scale-downs first: a rolling update never has more live pods than replicas + maxSurge."""
        rs = self.store.get("replicasets", *key)
        if rs is None:
            return 0
        active = self._active.get(key)
        if active is None:
            active = sum(1 for p in self._pods(rs) if pod_active(p))
        return 0 if active > int(rs["spec"].get("replicas", 0)) else 1

    def on_event(self, event: WatchEvent) -> None:
        plural = event.resource.plural
        if plural == "replicasets":
            # A ReplicaSet the Deployment controller creates is synced from its own ADDED event, like
            # replica_set.go's addRS handler: no controller pokes another's queue.
            if event.type != "DELETED":
                self.queue.add((event.obj["metadata"]["namespace"], event.obj["metadata"]["name"]))
        elif plural == "pods":
            ref = controller_ref(event.obj)
            if ref and ref.get("kind") == "ReplicaSet":
                self.queue.add((event.obj["metadata"]["namespace"], ref["name"]))

    def _pods(self, rs: Obj) -> list[Obj]:
        uid = rs["metadata"]["uid"]
        return [p for p in self.store.owned_by(uid, "pods") if (controller_ref(p) or {}).get("uid") == uid]

    def sync(self, key: tuple[str, str]) -> None:
        rs = self.store.get("replicasets", *key)
        if rs is None:
            self._active.pop(key, None)
            return
        all_pods = self._pods(rs)
        active = [p for p in all_pods if pod_active(p)]
        if not rs["metadata"].get("deletionTimestamp"):
            diff = len(active) - int(rs["spec"].get("replicas", 0))
            if diff < 0:
                if not self._namespace_terminating(rs):  # every creation would fail: nothing to do
                    allowed = self.client.take(min(-diff, BURST_REPLICAS))
                    _, error = slow_start_batch(allowed, SLOW_START_INITIAL_BATCH_SIZE,
                                                lambda: active.append(self._create_pod(rs)))
                    if error is not None:
                        self.queue.add_after(key, FAILED_CREATE_RETRY_SECONDS)
                    elif allowed < -diff:
                        self.queue.add_after(key, self.client.delay())
            elif diff > 0:
                allowed = self.client.take(min(diff, BURST_REPLICAS))
                for pod in self._pods_to_delete(active, allowed):
                    self.ctx.delete("pods", pod, "Background", None)
                    self.ctx.recorder.record(rs, "Normal", "SuccessfulDelete",
                                                 f"Deleted pod: {pod['metadata']['name']}",
                                                 component="replicaset-controller")
                if allowed < diff:
                    self.queue.add_after(key, self.client.delay())
                all_pods = self._pods(rs)
                active = [p for p in all_pods if pod_active(p)]
        self._active[key] = len(active)
        self._update_status(rs, active, all_pods)

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
        try:
            created = self.store.create("pods", pod)
        except errors.ApiError as error:
            self.ctx.recorder.record(rs, "Warning", "FailedCreate", f"Error creating: {error.message}",
                                         component="replicaset-controller")
            raise
        self.ctx.recorder.record(rs, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                                     component="replicaset-controller")
        return created

    @staticmethod
    def _pods_to_delete(pods: list[Obj], count: int) -> list[Obj]:
        """controller.ActivePodsWithRanks ordering: the first ``count`` pods are deleted."""
        phase_rank = {"Pending": 0, "Unknown": 1, "Running": 2}

        def key(pod: Obj) -> tuple:
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
                phase_rank.get(status.get("phase", "Pending"), 0),
                ready,
                cost_value,
                _neg(since),
                -restarts,
                _neg(created),
            )

        return sorted(pods, key=key)[:count]

    def _update_status(self, rs: Obj, active: list[Obj], all_pods: list[Obj]) -> None:
        ready = [p for p in active if pod_ready(p)]
        min_ready = int(rs["spec"].get("minReadySeconds", 0) or 0)
        available = 0
        wait = None
        clock = self.store.clock
        selector = LabelSelector.from_dict(rs["spec"].get("selector"))
        for pod in ready:
            if min_ready == 0:
                available += 1
                continue
            since = parse_timestamp(pod_ready_since(pod))
            elapsed = (clock.now() - since).total_seconds() * clock.time_scale if since else 0
            if elapsed >= min_ready:
                available += 1
            else:
                remaining = min_ready - elapsed
                wait = remaining if wait is None else min(wait, remaining)
        if wait is not None:
            self.queue.add_after((rs["metadata"]["namespace"], rs["metadata"]["name"]), clock.real(wait + 0.1))
        status: Obj = {
            "replicas": len(active),
            "fullyLabeledReplicas": sum(1 for p in active if selector.matches(p["metadata"].get("labels") or {})),
            "readyReplicas": len(ready),
            "availableReplicas": available,
            "observedGeneration": rs["metadata"].get("generation", 1),
        }
        terminating = sum(1 for p in all_pods if p["metadata"].get("deletionTimestamp"))
        if terminating:
            status["terminatingReplicas"] = terminating
        for k in ("fullyLabeledReplicas", "readyReplicas", "availableReplicas"):
            if status[k] == 0:
                del status[k]
        if rs.get("status") == status:
            return
        new = deep_copy(rs)
        new["status"] = status
        self.store.update("replicasets", new, status_only=True)


