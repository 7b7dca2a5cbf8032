"""Provides the context controllers, the kubelet and the NodePort proxy run in: all they may use of the cluster.

Like a controller in kube-controller-manager gets a ``ControllerContext`` (informers, clients, an event
recorder) and never the process around it, the practice cluster's controllers get this: the store (reads,
writes and the events they learn from), the clock, the event recorder, and ``delete`` (the API server's
deletion, with grace periods, finalizers and propagation).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tutor.practice.apiserver.store import Obj, Store
from tutor.practice.clock import Clock
from tutor.practice.events import EventRecorder

Delete = Callable[[str, Obj, str | None, int | None], Obj | None]
"""``delete(plural, obj, propagation_policy, grace_period_seconds)``: the object if still there, else None."""


@dataclass(frozen=True)
class ControllerContext:
    """What a controller may use: the store, the clock, the event recorder and deletion."""

    store: Store
    clock: Clock
    recorder: EventRecorder
    delete: Delete
