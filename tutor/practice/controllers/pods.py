"""Provides the pod and owner helpers the controllers share (podutil.IsPodReady, metav1.GetControllerOf, controller.IsPodActive)."""

from __future__ import annotations

from tutor.practice.apiserver.store import Obj


def controller_ref(obj: Obj) -> dict | None:
    for ref in obj["metadata"].get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


def pod_ready(pod: Obj) -> bool:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("status") == "True"
    return False


def pod_ready_since(pod: Obj) -> str:
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready":
            return cond.get("lastTransitionTime") or ""
    return ""


def pod_active(pod: Obj) -> bool:
    return (not pod["metadata"].get("deletionTimestamp")
            and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))


