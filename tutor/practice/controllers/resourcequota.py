"""Provides the resource quota controller: keeps each ResourceQuota's ``status.hard`` and ``status.used`` current.

Upstream: kubernetes/kubernetes ``pkg/controller/resourcequota/resource_quota_controller.go``
(``syncResourceQuota``: ``status.hard`` is ``spec.hard``; ``status.used`` is what the namespace's objects use, for
the hard resources only, each counted from zero (``quota.CalculateUsage``, ``generic.CalculateUsageStats``); the
status is written when it differs) and its replenishment (``resource_quota_monitor.go``: a pod that reaches a
terminal phase or goes away, any counted object deleted, gives quota back). The usage itself is the evaluators'
(:mod:`tutor.practice.apiserver.quota`). Objects created here by controllers without the API's admission
(the Deployment controller's ReplicaSets) are counted on their ADDED event.
"""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from typing import Any

from tutor.kube import quantity
from tutor.kube.duration import parse_timestamp
from tutor.practice.apiserver import quota
from tutor.practice.apiserver.resources import RESOURCES, Resource
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.controllers.workqueue import Controller

_COUNTED = {r.plural: r for r in RESOURCES if r.stored and r.namespaced and r.ref not in quota.IGNORED}


def _evaluated(name: str) -> Resource | None:
    """The kind whose evaluator counts the quota resource ``name`` (None: no evaluator does)."""
    if name in quota.POD_RESOURCES or name.startswith(("hugepages-", "requests.hugepages-")):
        return _COUNTED["pods"]
    if name in quota.SERVICE_RESOURCES:
        return _COUNTED["services"]
    for res in _COUNTED.values():
        if name in quota.matching_resources(res, [name]):
            return res
    return None


class ResourceQuotaController(Controller):
    """Recomputes a quota's usage when it changes or when what it counts comes, goes or ends."""

    name = "resourcequota"

    def on_event(self, event: WatchEvent) -> None:
        res = event.resource
        obj = event.obj
        namespace = obj["metadata"].get("namespace", "")
        if res.plural == "resourcequotas":
            if event.type != "DELETED":
                self.queue.add((namespace, obj["metadata"]["name"]))
            return
        if res.plural not in _COUNTED or not self._replenishes(event):
            return
        for item in self.store.list("resourcequotas", namespace):
            self.queue.add((namespace, item["metadata"]["name"]))

    def _replenishes(self, event: WatchEvent) -> bool:
        """Whether the event can change a usage: an object added or deleted, a pod's quota eligibility changed
        (``QuotaV1Pod``), a service's type or ports changed."""
        if event.type != "MODIFIED" or event.old is None:
            return True
        if event.resource.plural == "pods":
            return quota.pod_counts(event.old, self._past) != quota.pod_counts(event.obj, self._past)
        if event.resource.plural == "services":
            return quota.service_usage(event.old) != quota.service_usage(event.obj)
        return False

    def _past(self, deletion_timestamp: Any, grace: Any) -> bool:
        """Whether a pod's deletion grace period is over (``QuotaV1Pod``)."""
        when = parse_timestamp(str(deletion_timestamp))
        if when is None or not isinstance(grace, int):
            return False
        return self.store.clock.now() > when + timedelta(seconds=grace)

    def usage(self, namespace: str, item: Obj, hard: dict[str, quota.Quantity]) -> quota.Usage:
        """``quota.CalculateUsage``: each evaluated hard resource from zero, the matching objects added."""
        by_kind: dict[str, list[str]] = {}
        for name in hard:
            res = _evaluated(name)
            if res is not None:
                by_kind.setdefault(res.plural, []).append(name)
        scopes = quota.scope_selectors(item)
        used: quota.Usage = {}
        for plural, names in by_kind.items():
            res = _COUNTED[plural]
            total: quota.Usage = {name: (Fraction(0), quantity.DECIMAL_SI) for name in names}
            for obj in self.store.list(plural, namespace):
                if all(quota.scope_matches(res, scope, obj) for scope in scopes):
                    total = quota.add(total, quota.mask(quota.usage(res, obj, self._past), names))
            used.update(total)
        return used

    def sync(self, key: tuple[str, str]) -> None:
        item = self.store.get("resourcequotas", *key)
        if item is None or item["metadata"].get("deletionTimestamp"):
            return
        hard = quota.resource_list((item.get("spec") or {}).get("hard"))
        old_status = item.get("status") or {}
        used = {**quota.resource_list(old_status.get("used")), **self.usage(key[0], item, hard)}
        status = {"hard": quota.to_strings(hard), "used": quota.to_strings(quota.mask(used, hard))}
        if old_status == status:
            return
        new = deep_copy(item)
        new["status"] = status
        self.store.update("resourcequotas", new, status_only=True)
