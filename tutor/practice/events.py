"""Provides the event recorder: core/v1 Events, aggregated with counts like client-go's correlator."""

from __future__ import annotations

from typing import Any

from tutor.practice.apiserver.store import Obj, Store, deep_copy

NODE_NAME = "kube-tutor-control-plane"


class EventRecorder:
    """Records events on objects; identical events (same object, reason, message) bump ``count``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._index: dict[tuple[str, ...], tuple[str, str]] = {}

    def record(self, obj: Obj, type_: str, reason: str, message: str, *, component: str,
               field_path: str = "", host: str = "") -> None:
        meta = obj["metadata"]
        namespace = meta.get("namespace") or "default"
        if self.store.get("namespaces", "", namespace) is None:
            return
        ns_obj = self.store.get("namespaces", "", namespace)
        if ns_obj and ns_obj["metadata"].get("deletionTimestamp"):
            return
        key = (namespace, obj.get("kind", ""), meta.get("name", ""), meta.get("uid", ""), field_path, type_, reason,
               message, component)
        now = self.store.clock.timestamp()
        existing_key = self._index.get(key)
        if existing_key is not None:
            existing = self.store.get("events", *existing_key)
            if existing is not None:
                updated = deep_copy(existing)
                updated["count"] = existing.get("count", 1) + 1
                updated["lastTimestamp"] = now
                self.store.update("events", updated)
                return
        involved: dict[str, Any] = {
            "kind": obj.get("kind", ""),
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "apiVersion": obj.get("apiVersion", ""),
            "resourceVersion": meta.get("resourceVersion", ""),
        }
        if not involved["namespace"]:
            involved.pop("namespace")
        if field_path:
            involved["fieldPath"] = field_path
        nanos = self.store.clock.now().timestamp()
        name = f"{meta.get('name', '')}.{int(nanos * 1e9):x}"
        source: dict[str, str] = {"component": component}
        if host:
            source["host"] = host
        event = {
            "metadata": {"name": name, "namespace": namespace},
            "involvedObject": involved,
            "reason": reason,
            "message": message,
            "source": source,
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": type_,
            "eventTime": None,
            "reportingComponent": component,
            "reportingInstance": host,
        }
        created = self.store.create("events", event)
        self._index[key] = (namespace, created["metadata"]["name"])
        if len(self._index) > 50_000:
            self._index.clear()
