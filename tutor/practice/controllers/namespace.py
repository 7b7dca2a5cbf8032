"""Provides the namespace controller: empties a terminating namespace, then removes it."""

from __future__ import annotations

from tutor.practice.apiserver.store import WatchEvent, deep_copy
from tutor.practice.controllers.workqueue import Controller


class NamespaceController(Controller):
    """Empties a terminating namespace, then removes it."""

    name = "namespace"

    def on_event(self, event: WatchEvent) -> None:
        if event.resource.plural == "namespaces" and event.obj["metadata"].get("deletionTimestamp"):
            self.queue.add(event.obj["metadata"]["name"])
        elif event.type == "DELETED" and event.resource.namespaced:
            namespace = event.obj["metadata"].get("namespace", "")
            ns = self.store.get("namespaces", "", namespace)
            if ns is not None and ns["metadata"].get("deletionTimestamp"):
                self.queue.add(namespace)

    def sync(self, name: str) -> None:
        ns = self.store.get("namespaces", "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if (ns.get("status") or {}).get("phase") != "Terminating":
            new = deep_copy(ns)
            new["status"] = {"phase": "Terminating"}
            self.store.update("namespaces", new, status_only=True)
        remaining = 0
        for plural in ("deployments", "replicasets", "services", "pods", "endpoints", "endpointslices",
                       "configmaps", "serviceaccounts", "events", "secrets", "rolebindings", "roles", "resourcequotas",
                       "limitranges"):
            for obj in self.store.list(plural, name):
                remaining += 1
                if not obj["metadata"].get("deletionTimestamp"):
                    self.ctx.delete(plural, obj, "Background", None)
        if remaining == 0 or not any(self.store.list(p, name) for p in (
                "deployments", "replicasets", "services", "pods", "endpoints", "endpointslices", "configmaps",
                "serviceaccounts", "events", "secrets", "rolebindings", "roles", "resourcequotas",
                "limitranges")):
            self.store.remove("namespaces", "", name)
