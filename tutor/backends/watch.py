"""Provides ClusterWatch: a live, event-driven cache of the lesson namespace's objects, read through kubectl.

Every backend is read the same way: ``kubectl get --raw`` with kube-tutor's kubeconfig lists each
kind, then streams a watch from the list's resourceVersion (the informer protocol). kubectl handles
authentication, so the practice cluster, kind and any existing cluster behave alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from tutor import shell

log = logging.getLogger(__name__)

KINDS: dict[str, str] = {
    "deployments": "/apis/apps/v1/namespaces/{ns}/deployments",
    "replicasets": "/apis/apps/v1/namespaces/{ns}/replicasets",
    "pods": "/api/v1/namespaces/{ns}/pods",
    "services": "/api/v1/namespaces/{ns}/services",
    "endpoints": "/api/v1/namespaces/{ns}/endpoints",
    "events": "/api/v1/namespaces/{ns}/events",
}
WATCH_SECONDS = 240
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0)


class ClusterWatch:
    """Keeps ``snapshot()`` current; sets ``changed`` after every change."""

    def __init__(self, kubectl: str, env: Mapping[str, str], namespace: str) -> None:
        self.kubectl = kubectl
        self.env = dict(env)
        self.namespace = namespace
        self._objects: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self._synced: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.changed = asyncio.Event()
        self._subscribers: list[asyncio.Event] = []
        self.error: str | None = None
        """The last error reaching the cluster, None while it answers."""

    @property
    def synced(self) -> bool:
        """True once every kind has been listed at least once."""
        return len(self._synced) == len(KINDS)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every object per kind, by name."""
        return {kind: [objs[name] for name in sorted(objs)] for kind, objs in self._objects.items()}

    async def start(self) -> None:
        """Start the informers (once; a second call does nothing)."""
        if self._tasks:
            return
        for kind in KINDS:
            self._tasks.append(asyncio.get_running_loop().create_task(self._informer(kind)))

    async def wait_synced(self, timeout: float) -> bool:
        """Wait until every kind was listed once; False at the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.synced:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return True

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        self._tasks.clear()

    def subscribe(self) -> asyncio.Event:
        """An event of one's own, set after every change (each consumer clears its own)."""
        event = asyncio.Event()
        self._subscribers.append(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(event)

    def _notify(self) -> None:
        self.changed.set()
        for event in self._subscribers:
            event.set()

    async def _informer(self, kind: str) -> None:
        path = KINDS[kind].format(ns=self.namespace)
        failures = 0
        while True:
            try:
                listed = await shell.run_async([self.kubectl, "get", "--raw", path], self.env, timeout=30)
                if listed.returncode != 0:
                    raise shell.ShellError(listed.stderr.strip().splitlines()[-1] if listed.stderr.strip()
                                           else f"kubectl get --raw {path} failed")
                data = json.loads(listed.stdout)
                self._objects[kind] = {o["metadata"]["name"]: _with_kind(o, data) for o in data.get("items") or []}
                rv = data.get("metadata", {}).get("resourceVersion", "")
                self._synced.add(kind)
                self.error = None
                failures = 0
                self._notify()
                query = f"?watch=true&allowWatchBookmarks=true&timeoutSeconds={WATCH_SECONDS}&resourceVersion={rv}"
                async for line in shell.stream_lines([self.kubectl, "get", "--raw", path + query], self.env):
                    if not line.strip():
                        continue
                    event = json.loads(line)
                    kind_of_event = event.get("type")
                    obj = event.get("object") or {}
                    if kind_of_event == "ERROR":
                        break  # e.g. 410 Gone: list again
                    name = (obj.get("metadata") or {}).get("name")
                    if kind_of_event == "BOOKMARK" or not name:
                        continue
                    if kind_of_event == "DELETED":
                        self._objects[kind].pop(name, None)
                    else:
                        self._objects[kind][name] = obj
                    self._notify()
            except asyncio.CancelledError:
                raise
            except (shell.ShellError, ValueError, KeyError) as error:
                self.error = str(error)
                failures += 1
                self._notify()
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])


def _with_kind(obj: dict[str, Any], listing: dict[str, Any]) -> dict[str, Any]:
    """List items come without kind/apiVersion; fill them in from the list's kind."""
    if "kind" not in obj and listing.get("kind", "").endswith("List"):
        obj = dict(obj, kind=listing["kind"][: -len("List")], apiVersion=listing.get("apiVersion", ""))
    return obj
