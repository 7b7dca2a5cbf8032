"""Provides the garbage collector: deletes dependents whose owners are gone (background, foreground, orphan)."""

from __future__ import annotations

from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.controllers.workqueue import Controller


class GarbageCollector(Controller):
    """Deletes dependents whose owner is gone; handles the foreground and orphan finalizers."""

    name = "garbage-collector"

    def on_event(self, event: WatchEvent) -> None:
        meta = event.obj["metadata"]
        if event.type == "DELETED":
            self.queue.add(("owner-gone", meta["uid"]))
        elif meta.get("deletionTimestamp") and set(meta.get("finalizers") or ()) & {"foregroundDeletion", "orphan"}:
            self.queue.add(("finalize", event.resource.plural, meta.get("namespace", ""), meta["name"]))
        # A dependent that goes away may unblock a foreground deletion of its owner.
        if event.type == "DELETED" or meta.get("deletionTimestamp"):
            for ref in meta.get("ownerReferences") or []:
                self.queue.add(("owner-check", ref.get("uid", "")))

    def _find(self, uid: str) -> tuple[str, Obj] | None:
        for plural in ("deployments", "replicasets", "daemonsets", "services", "pods", "nodes"):
            for obj in self.store.iter(plural):
                if obj["metadata"]["uid"] == uid:
                    return plural, obj
        return None

    def sync(self, key: tuple) -> None:
        if key[0] == "owner-gone":
            uid = key[1]
            for dependent in self.store.owned_by(uid):
                plural = self.store.resource_for(dependent)
                remaining = [r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                if any(self._owner_exists(r) for r in remaining):
                    new = deep_copy(dependent)
                    new["metadata"]["ownerReferences"] = remaining
                    self.store.update(plural, new)
                elif not dependent["metadata"].get("deletionTimestamp"):
                    self.ctx.delete(plural, dependent, "Background", None)
        elif key[0] == "owner-check":
            found = self._find(key[1])
            if found is not None:
                plural, owner = found
                self.queue.add(("finalize", plural, owner["metadata"].get("namespace", ""), owner["metadata"]["name"]))
        elif key[0] == "finalize":
            _, plural, namespace, name = key
            obj = self.store.get(plural, namespace, name)
            if obj is None or not obj["metadata"].get("deletionTimestamp"):
                return
            finalizers = list(obj["metadata"].get("finalizers") or [])
            uid = obj["metadata"]["uid"]
            dependents = self.store.owned_by(uid)
            if "orphan" in finalizers:
                for dependent in dependents:
                    new = deep_copy(dependent)
                    new["metadata"]["ownerReferences"] = [
                        r for r in dependent["metadata"].get("ownerReferences") or [] if r.get("uid") != uid]
                    if not new["metadata"]["ownerReferences"]:
                        del new["metadata"]["ownerReferences"]
                    self.store.update(self.store.resource_for(dependent), new)
                finalizers.remove("orphan")
            elif "foregroundDeletion" in finalizers:
                for dependent in dependents:
                    if not dependent["metadata"].get("deletionTimestamp"):
                        self.ctx.delete(self.store.resource_for(dependent), dependent, "Foreground", None)
                if self.store.owned_by(uid):
                    return
                finalizers.remove("foregroundDeletion")
            else:
                return
            new = deep_copy(obj)
            new["metadata"]["finalizers"] = finalizers
            if not finalizers:
                del new["metadata"]["finalizers"]
            stored = self.store.update(plural, new)
            if not finalizers and not (plural == "pods" and stored["spec"].get("nodeName")):
                self.store.remove(plural, namespace, name)

    def _owner_exists(self, ref: dict) -> bool:
        return self._find(ref.get("uid", "")) is not None


