"""Provides the READY, STATUS and RESTARTS words ``kubectl get pods`` prints: a port of ``printPod``.

Upstream: kubernetes/kubernetes ``pkg/printers/internalversion/printers.go`` (``printPod``,
``hasPodReadyCondition``, ``isPodInitializedConditionTrue``, ``isRestartableInitContainer``,
``translateTimestampSince``). The API server renders these cells into the Tables kubectl prints, and the
tutor's cluster panel shows the same words, so both take them from :func:`print_pod`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from tutor.kube.duration import parse_timestamp, since
from tutor.kube.podutil import (
    POD_INITIALIZED,
    POD_READY,
    POD_SCHEDULED,
    is_pod_condition_true,
    is_pod_phase_terminal,
    is_restartable_init_container,
)

Obj = Mapping[str, Any]

NODE_UNREACHABLE_POD_REASON = "NodeLost"
"""``node.NodeUnreachablePodReason``: a deleted pod on a lost node prints ``Unknown``."""
SCHEDULING_GATED = "SchedulingGated"
"""``PodReasonSchedulingGated``."""


def _map(value: Any) -> Obj:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int:
    """An int32 field; missing (or not an integer) reads as Go's zero value."""
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


class PodPrint(NamedTuple):
    """What ``printPod`` computes for one pod."""

    status: str
    """The STATUS column: ``Running``, ``ContainerCreating``, ``CrashLoopBackOff``, ``Init:0/1`` ..."""
    ready: int
    """Containers ready and running (sidecars that started and are ready included)."""
    total: int
    """Containers of the pod, sidecar init containers included."""
    restarts: int
    """The restart counts added up as ``printPod`` adds them."""
    last_restart: datetime | None
    """When the last counted container last terminated (``lastState.terminated.finishedAt``), if known."""

    @property
    def ready_text(self) -> str:
        """The READY column: ``"1/2"``."""
        return f"{self.ready}/{self.total}"

    def restarts_text(self, now: datetime) -> str:
        """The RESTARTS column: ``"0"``, ``"5"``, or ``"5 (2m3s ago)"`` when the last restart is known.

        Args:
            now: The current time (the API server's clock, for a server-side Table).
        """
        if self.restarts != 0 and self.last_restart is not None:
            return f"{self.restarts} ({since(self.last_restart, now)} ago)"
        return str(self.restarts)


def has_pod_ready_condition(conditions: Any) -> bool:
    """``hasPodReadyCondition``: any ``Ready`` condition with status ``True``."""
    return any(_map(c).get("type") == POD_READY and _map(c).get("status") == "True" for c in _list(conditions))


def _later(current: datetime | None, container: Obj) -> datetime | None:
    """``lastRestartDate.Before(&terminatedDate)``, from ``lastState.terminated.finishedAt``."""
    terminated = _map(_map(container.get("lastState")).get("terminated"))
    finished = parse_timestamp(_str(terminated.get("finishedAt")))
    if finished is None:
        return current
    return finished if current is None or current < finished else current


def _terminated_reason(terminated: Obj, prefix: str = "") -> str:
    """``Reason``, else ``Signal:<n>``, else ``ExitCode:<n>`` of a terminated container state."""
    reason = _str(terminated.get("reason"))
    if reason:
        return prefix + reason
    signal = _int(terminated.get("signal"))
    if signal != 0:
        return f"{prefix}Signal:{signal}"
    return f"{prefix}ExitCode:{_int(terminated.get('exitCode'))}"


def print_pod(pod: Obj) -> PodPrint:
    """Compute a pod's STATUS, READY and RESTARTS as ``printPod`` does.

    The status starts as ``status.reason`` or the phase (``""`` for a pod without one, which a server
    never serves); ``SchedulingGated`` for a gated pod; then the first init container that has not
    succeeded gives ``Init:<reason>``, ``Init:ExitCode:1`` or ``Init:0/2``; once initialised, the last
    container with a waiting or terminated reason gives it (``ContainerCreating``, ``ErrImagePull``,
    ``CrashLoopBackOff``, ``Completed``, ``ExitCode:137``), a ``Completed`` container next to a running
    one reads ``Running`` (pod Ready) or ``NotReady``; a pod being deleted reads ``Terminating``
    (``Unknown`` on a lost node) unless it already succeeded or failed.

    Args:
        pod: A pod as served in JSON.

    Returns:
        The columns; see :class:`PodPrint`.
    """
    metadata, spec, status = _map(pod.get("metadata")), _map(pod.get("spec")), _map(pod.get("status"))
    conditions = _list(status.get("conditions"))
    restarts = 0
    restartable_init_restarts = 0
    total = len(_list(spec.get("containers")))
    ready = 0
    last_restart: datetime | None = None
    last_restartable_init_restart: datetime | None = None

    phase = _str(status.get("phase"))
    reason = _str(status.get("reason")) or phase
    for condition in conditions:
        condition = _map(condition)
        if condition.get("type") == POD_SCHEDULED and condition.get("reason") == SCHEDULING_GATED:
            reason = SCHEDULING_GATED

    init_specs = _list(spec.get("initContainers"))
    init_by_name = {_str(_map(c).get("name")): _map(c) for c in init_specs}
    total += sum(1 for c in init_specs if is_restartable_init_container(c))

    initializing = False
    for index, raw in enumerate(_list(status.get("initContainerStatuses"))):
        container = _map(raw)
        state = _map(container.get("state"))
        terminated = state.get("terminated")
        waiting = state.get("waiting")
        restartable = is_restartable_init_container(init_by_name.get(_str(container.get("name"))))
        restarts += _int(container.get("restartCount"))
        last_restart = _later(last_restart, container)
        if restartable:
            restartable_init_restarts += _int(container.get("restartCount"))
            last_restartable_init_restart = _later(last_restartable_init_restart, container)
        if isinstance(terminated, Mapping) and _int(terminated.get("exitCode")) == 0:
            continue
        if restartable and container.get("started") is True:
            if container.get("ready") is True:
                ready += 1
            continue
        if isinstance(terminated, Mapping):
            reason = _terminated_reason(terminated, "Init:")
        elif isinstance(waiting, Mapping) and _str(waiting.get("reason")) and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + _str(waiting.get("reason"))
        else:
            reason = f"Init:{index}/{len(init_specs)}"
        initializing = True
        break

    if not initializing or is_pod_condition_true(pod, POD_INITIALIZED):
        restarts = restartable_init_restarts
        last_restart = last_restartable_init_restart
        has_running = False
        for raw in reversed(_list(status.get("containerStatuses"))):
            container = _map(raw)
            state = _map(container.get("state"))
            terminated = state.get("terminated")
            waiting = state.get("waiting")
            restarts += _int(container.get("restartCount"))
            last_restart = _later(last_restart, container)
            if isinstance(waiting, Mapping) and _str(waiting.get("reason")):
                reason = _str(waiting.get("reason"))
            elif isinstance(terminated, Mapping):
                reason = _terminated_reason(terminated)
            elif container.get("ready") is True and isinstance(state.get("running"), Mapping):
                has_running = True
                ready += 1
        # A pod with a container still running goes back to "Running" (or "NotReady").
        if reason == "Completed" and has_running:
            reason = "Running" if has_pod_ready_condition(conditions) else "NotReady"

    deleting = metadata.get("deletionTimestamp") is not None
    if deleting and status.get("reason") == NODE_UNREACHABLE_POD_REASON:
        reason = "Unknown"
    elif deleting and not is_pod_phase_terminal(phase):
        reason = "Terminating"
    return PodPrint(reason, ready, total, restarts, last_restart)
