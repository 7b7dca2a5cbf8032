"""Provides the pod and owner helpers the controllers share, under the names the controllers use.

Each is the one port in ``tutor.kube``: ``podutil.IsPodReady`` (:func:`pod_ready`), ``GetPodReadyCondition``
(:func:`pod_ready_since`), ``controller.IsPodActive`` (:func:`pod_active`) and ``metav1.GetControllerOf``
(:func:`controller_ref`).
"""

from __future__ import annotations

from tutor.kube.meta import get_controller_of as controller_ref
from tutor.kube.podutil import is_pod_active as pod_active
from tutor.kube.podutil import is_pod_ready as pod_ready
from tutor.kube.podutil import pod_ready_condition
from tutor.practice.apiserver.store import Obj

__all__ = ["controller_ref", "pod_active", "pod_ready", "pod_ready_since"]


def pod_ready_since(pod: Obj) -> str:
    """The ``lastTransitionTime`` of the pod's ``Ready`` condition (``""`` without one)."""
    condition = pod_ready_condition(pod)
    return str(condition.get("lastTransitionTime") or "") if condition is not None else ""
