"""Provides the pod predicates controllers and printers share: ready, active, terminal.

Upstream (kubernetes/kubernetes): ``pkg/api/v1/pod/util.go`` (``IsPodReady``, ``IsPodReadyConditionTrue``,
``GetPodReadyCondition``, ``GetPodCondition``, ``GetPodConditionFromList``, ``IsPodPhaseTerminal``,
``IsRestartableInitContainer``) and ``pkg/controller/controller_utils.go`` (``IsPodActive``). Pods are
plain dicts shaped as the API serves them in JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Obj = Mapping[str, Any]

POD_READY = "Ready"
POD_INITIALIZED = "Initialized"
POD_SCHEDULED = "PodScheduled"
TERMINAL_PHASES = frozenset({"Succeeded", "Failed"})


def _map(value: Any) -> Obj:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def get_pod_condition_from_list(conditions: Any, condition_type: str) -> Obj | None:
    """``GetPodConditionFromList``: the first condition of that type, or None."""
    for condition in _list(conditions):
        if _map(condition).get("type") == condition_type:
            return _map(condition)
    return None


def get_pod_condition(pod: Obj, condition_type: str) -> Obj | None:
    """``GetPodCondition`` on the pod's status: the first condition of that type, or None."""
    return get_pod_condition_from_list(_map(pod.get("status")).get("conditions"), condition_type)


def is_pod_condition_true(pod: Obj, condition_type: str) -> bool:
    """True when the pod's first condition of that type has status ``True``."""
    condition = get_pod_condition(pod, condition_type)
    return condition is not None and condition.get("status") == "True"


def is_pod_ready(pod: Obj) -> bool:
    """``IsPodReady``: the pod's (first) ``Ready`` condition is ``True``.

    Args:
        pod: A pod as served in JSON.

    Returns:
        False when the pod has no ``Ready`` condition.
    """
    return is_pod_condition_true(pod, POD_READY)


def pod_ready_condition(pod: Obj) -> Obj | None:
    """``GetPodReadyCondition``: the ``Ready`` condition (its ``lastTransitionTime`` dates readiness)."""
    return get_pod_condition(pod, POD_READY)


def is_pod_phase_terminal(phase: Any) -> bool:
    """``IsPodPhaseTerminal``: ``Succeeded`` or ``Failed``."""
    return phase in TERMINAL_PHASES


def is_pod_active(pod: Obj) -> bool:
    """``controller.IsPodActive``: not being deleted, and neither succeeded nor failed.

    Args:
        pod: A pod as served in JSON.

    Returns:
        True for a pod a ReplicaSet counts towards its replicas.
    """
    return (not is_pod_phase_terminal(_map(pod.get("status")).get("phase"))
            and _map(pod.get("metadata")).get("deletionTimestamp") is None)


def is_restartable_init_container(container: Any) -> bool:
    """``IsRestartableInitContainer``: a sidecar, an init container with ``restartPolicy: Always``."""
    return _map(container).get("restartPolicy") == "Always"
