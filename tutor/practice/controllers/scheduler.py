"""Provides the scheduler: binds pending pods to the one node."""

from __future__ import annotations

from tutor.practice.apiserver.store import WatchEvent, deep_copy
from tutor.practice.controllers.workqueue import Controller
from tutor.practice.events import NODE_NAME


class Scheduler(Controller):
    """Binds every pending pod to the single node and records ``Scheduled``."""

    name = "scheduler"

    def on_event(self, event: WatchEvent) -> None:
        if event.resource.plural == "pods" and event.type != "DELETED" and not event.obj["spec"].get("nodeName"):
            self.queue.add((event.obj["metadata"]["namespace"], event.obj["metadata"]["name"]))

    def sync(self, key: tuple[str, str]) -> None:
        pod = self.store.get("pods", *key)
        if pod is None or pod["spec"].get("nodeName") or pod["metadata"].get("deletionTimestamp"):
            return
        if pod["spec"].get("schedulerName", "default-scheduler") != "default-scheduler":
            return
        new = deep_copy(pod)
        new["spec"]["nodeName"] = NODE_NAME
        status = new.setdefault("status", {})
        status.setdefault("phase", "Pending")
        status["conditions"] = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"] + [
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": self.store.clock.timestamp()}]
        stored = self.store.update("pods", new, bump_generation=False)
        # spec.nodeName is set through the binding subresource: status is kept, so write it too.
        self.store.update("pods", dict(deep_copy(stored), status=status), status_only=True)
        self.ctx.recorder.record(
            pod, "Normal", "Scheduled", f"Successfully assigned {key[0]}/{key[1]} to {NODE_NAME}",
            component="default-scheduler")


