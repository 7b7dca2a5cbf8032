"""Provides deletion as the API server does it: graceful pods, finalizers, propagation, protected namespaces.

Ports ``staging/src/k8s.io/apiserver/pkg/registry/rest/delete.go`` (``BeforeDelete``: a graceful deletion sets
``deletionTimestamp`` and ``deletionGracePeriodSeconds``; a pending one may only be shortened),
``staging/src/k8s.io/apiserver/pkg/registry/generic/registry/store.go`` (``Delete``: the ``foregroundDeletion``
and ``orphan`` finalizers of a propagation policy keep the object until the garbage collector removes them),
``pkg/registry/core/pod/strategy.go`` (``CheckGracefulDelete``: only a bound pod that has not finished waits for
its grace period) and ``staging/src/k8s.io/apiserver/pkg/admission/plugin/namespace/lifecycle/admission.go``
(immortal namespaces). Controllers reach this through their context, the API server directly.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tutor.kube.duration import parse_timestamp
from tutor.practice.apiserver import errors
from tutor.practice.apiserver.store import Obj, Store, deep_copy
from tutor.practice.clock import Clock

IMMORTAL_NAMESPACES = ("default", "kube-system", "kube-public")


class Deletion:
    """``delete(plural, obj, propagation, grace)``: the one way objects are deleted, API and controllers alike."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def _after(self, grace: float) -> str:
        """The timestamp ``grace`` simulated seconds from now."""
        return self.clock.timestamp(datetime.fromtimestamp(self.clock.now().timestamp() + self.clock.real(grace), UTC))

    def __call__(self, plural: str, obj: Obj, propagation: str | None, grace: int | None) -> Obj | None:
        """Delete like the apiserver: graceful for bound pods, finalizers for foreground/orphan.

        Returns the object when it still exists (being deleted), None when it is gone.

        Raises:
            errors.Forbidden: an immortal namespace.
        """
        meta = obj["metadata"]
        namespace, name = meta.get("namespace", ""), meta["name"]
        current = self.store.get(plural, namespace, name)
        if current is None:
            return None
        if plural == "namespaces":
            if name in IMMORTAL_NAMESPACES:
                raise errors.forbidden("namespaces", "", name, "this namespace may not be deleted")
            if current["metadata"].get("deletionTimestamp"):
                return current
            new = deep_copy(current)
            new["status"] = {"phase": "Terminating"}
            return self.store.set_deletion(plural, new, self.clock.timestamp(), 0)
        if current["metadata"].get("deletionTimestamp"):
            if plural == "pods" and grace is not None:
                deadline = parse_timestamp(current["metadata"]["deletionTimestamp"])
                wanted = self.clock.now().timestamp() + self.clock.real(grace)
                if deadline is not None and wanted < deadline.timestamp():
                    if grace == 0:
                        self.store.remove(plural, namespace, name)
                        return None
                    return self.store.set_deletion(plural, deep_copy(current), self._after(grace), grace)
            return current
        finalizers = list(current["metadata"].get("finalizers") or [])
        if propagation == "Foreground" and "foregroundDeletion" not in finalizers:
            finalizers.append("foregroundDeletion")
        elif propagation == "Orphan" and "orphan" not in finalizers:
            finalizers.append("orphan")
        new = deep_copy(current)
        if finalizers:
            new["metadata"]["finalizers"] = finalizers
        if plural == "pods" and current["spec"].get("nodeName") and (current.get("status") or {}).get(
                "phase") not in ("Succeeded", "Failed"):
            if grace is None:
                grace = int(current["spec"].get("terminationGracePeriodSeconds", 30))
            if grace > 0 or finalizers:
                return self.store.set_deletion(plural, new, self._after(grace), grace)
        if finalizers:
            return self.store.set_deletion(plural, new, self.clock.timestamp(), 0 if grace is None else grace)
        self.store.remove(plural, namespace, name)
        if plural == "services" and self.store.get("endpoints", namespace, name) is not None:
            self.store.remove("endpoints", namespace, name)
        return None
