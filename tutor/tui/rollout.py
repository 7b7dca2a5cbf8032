"""Provides the pod STATUS / READY words kubectl prints, and a deployment's pods grouped by ReplicaSet.

:func:`pod_status`, :func:`pod_ready` and :func:`pod_restarts` give kubectl's ``printPod`` words
(:func:`tutor.kube.printers.print_pod`, the one port of ``pkg/printers/internalversion/printers.go``,
which the practice cluster's Tables use too) for pods as ``kubectl get -o json`` returns them. :func:`rollout_groups` arranges a cluster snapshot the way the
cluster panel shows a rolling update: one group per revision, newest first, each with its pods.

This module is core: it never imports textual.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from tutor.kube.meta import get_controller_of
from tutor.kube.printers import PodPrint, print_pod

__all__ = [
    "OTHER_PODS",
    "REVISION_ANNOTATION",
    "Group",
    "PodRow",
    "Severity",
    "image_tag",
    "pod_ready",
    "pod_restarts",
    "pod_status",
    "rollout_groups",
    "status_severity",
]

Obj = Mapping[str, Any]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
"""The annotation the deployment controller numbers ReplicaSets with."""

OTHER_PODS = "other pods"
"""The name of the group of pods whose owning ReplicaSet is unknown."""

Severity = Literal["ok", "progress", "error", "terminating", "other"]
"""How a STATUS word reads: fine, on its way, broken, going away, or none of these."""

_OK = frozenset({"Running", "Completed", "Succeeded"})
_PROGRESS = frozenset({"Pending", "ContainerCreating", "PodInitializing", "NotReady", "SchedulingGated"})
_ERROR = frozenset({
    "ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "InvalidImageName", "RegistryUnavailable",
    "CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError", "RunContainerError",
    "PreStartHookError", "PostStartHookError", "OOMKilled", "Error", "Failed", "Unknown",
    "ContainerStatusUnknown", "Evicted", "DeadlineExceeded",
})


def _map(value: Any) -> Obj:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _int(value: Any, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return default
    return default


def _print_pod(pod: Obj) -> PodPrint:
    """kubectl's ``printPod`` of a pod as the API server stores it (which never lacks a phase)."""
    status = _map(pod.get("status"))
    if not status.get("phase"):
        pod = {**pod, "status": {**status, "phase": "Pending"}}
    return print_pod(pod)


def pod_status(pod: Obj) -> str:
    """The STATUS column ``kubectl get pods`` prints for a pod.

    ``Terminating`` while the pod is being deleted (unless it already succeeded or failed); else the
    last container's waiting reason (``ContainerCreating``, ``ErrImagePull``, ``ImagePullBackOff``,
    ``CrashLoopBackOff`` …) or terminated reason; else the phase (``Pending`` before the pod has
    container statuses, ``Running``, ``Succeeded``, ``Failed``). A ``Completed`` container next to a
    running one reads ``Running`` (pod Ready) or ``NotReady``. Init containers give ``Init:…``.

    Args:
        pod: A pod as ``kubectl get pod -o json`` returns it.

    Returns:
        The status word, e.g. ``"ImagePullBackOff"``. A pod without a phase counts as ``Pending``.
    """
    return _print_pod(pod).status


def pod_ready(pod: Obj) -> tuple[int, int]:
    """The READY column as numbers.

    Args:
        pod: A pod as ``kubectl get pod -o json`` returns it.

    Returns:
        (containers ready and running, containers in the pod), sidecar init containers included.
    """
    printed = _print_pod(pod)
    return printed.ready, printed.total


def pod_restarts(pod: Obj) -> int:
    """The RESTARTS column without its "(5m ago)" part.

    Args:
        pod: A pod as ``kubectl get pod -o json`` returns it.

    Returns:
        The containers' restart counts added up, as ``printPod`` adds them.
    """
    return _print_pod(pod).restarts


def status_severity(status: str) -> Severity:
    """How a STATUS word should read to a learner.

    Args:
        status: A word from :func:`pod_status`.

    Returns:
        ``"ok"`` (Running, Completed), ``"progress"`` (Pending, ContainerCreating, NotReady …),
        ``"error"`` (ErrImagePull, ImagePullBackOff, CrashLoopBackOff, Error …), ``"terminating"``,
        or ``"other"``.
    """
    if status == "Terminating":
        return "terminating"
    if status in _OK:
        return "ok"
    if status.startswith("Init:"):
        inner = status.removeprefix("Init:")
        return "error" if inner in _ERROR or inner.startswith(("Signal:", "ExitCode:")) else "progress"
    if status in _ERROR or status.startswith(("Signal:", "ExitCode:")):
        return "error"
    if status in _PROGRESS:
        return "progress"
    return "other"


def image_tag(image: str) -> str:
    """The part of an image reference a learner calls its version.

    Args:
        image: An image reference, e.g. ``jocatalin/kubernetes-bootcamp:v2``.

    Returns:
        The tag (``v2``); ``latest`` for an untagged image; for a pinned digest without a tag, ``@`` and
        the digest's first 7 hex digits (``@4f3a2b1``); ``""`` for an empty reference. A registry port
        (``localhost:5000/app``) is not a tag.
    """
    image = image.strip()
    if not image:
        return ""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        return last.rsplit(":", 1)[1]
    if digest:
        return "@" + digest.rpartition(":")[2][:7]
    return "latest"


class PodRow(NamedTuple):
    """One pod as the cluster panel lists it."""

    name: str
    """The pod's name."""
    status: str
    """The STATUS word (:func:`pod_status`)."""
    ready: str
    """The READY column, ``"1/1"``."""
    restarts: int
    """The RESTARTS count (:func:`pod_restarts`)."""


@dataclass(frozen=True)
class Group:
    """A ReplicaSet of the deployment and its pods (or the pods whose ReplicaSet is unknown)."""

    name: str
    """The ReplicaSet's name, or :data:`OTHER_PODS`."""
    revision: int
    """The ``deployment.kubernetes.io/revision`` annotation (0 when missing, and for other pods)."""
    image: str
    """The tag of the ReplicaSet's first container image (:func:`image_tag`), ``""`` for other pods."""
    desired: int
    """``spec.replicas`` (for other pods: how many there are)."""
    ready: int
    """``status.readyReplicas`` or 0 (for other pods: how many have every container ready)."""
    current: bool
    """True for the one ReplicaSet whose template images equal the deployment's (the newest such)."""
    pods: tuple[PodRow, ...] = ()
    """The ReplicaSet's pods, by name."""

    @property
    def scaled_to_zero(self) -> bool:
        """An old revision kept for history: 0 replicas wanted and no pod left."""
        return self.desired == 0 and not self.pods and not self.is_other

    @property
    def is_other(self) -> bool:
        """True for the group of pods whose ReplicaSet is unknown."""
        return self.name == OTHER_PODS


def _images(template_owner: Obj) -> list[str]:
    containers = _list(_map(_map(_map(template_owner.get("spec")).get("template")).get("spec")).get("containers"))
    return [str(_map(c).get("image") or "") for c in containers]


def _owners(obj: Obj, kind: str) -> list[Obj]:
    return [_map(ref) for ref in _list(_map(obj.get("metadata")).get("ownerReferences"))
            if _map(ref).get("kind") == kind]


def _meta(obj: Obj, key: str) -> str:
    return str(_map(obj.get("metadata")).get(key) or "")


def _owned_by(obj: Obj, kind: str, name: str, uid: str) -> bool:
    """True when one of ``obj``'s owner references is ``kind``/``name`` (and ``uid``, when both know it)."""
    return any(ref.get("name") == name and (not uid or not ref.get("uid") or ref.get("uid") == uid)
               for ref in _owners(obj, kind))


def _pod_row(pod: Obj) -> PodRow:
    printed = _print_pod(pod)
    return PodRow(_meta(pod, "name"), printed.status, printed.ready_text, printed.restarts)


def _items(snapshot: Mapping[str, Sequence[Obj]], kind: str) -> Iterable[Obj]:
    return (_map(item) for item in _list(snapshot.get(kind)))


def rollout_groups(snapshot: Mapping[str, Sequence[Obj]], deployment: str) -> list[Group]:
    """A deployment's ReplicaSets with their pods, newest revision first.

    ReplicaSets are the deployment's when an owner reference names it (kind ``Deployment``); pods
    belong to a ReplicaSet through their own owner reference (kind ``ReplicaSet``). ReplicaSets scaled
    to 0 without pods are kept (:attr:`Group.scaled_to_zero`), so old revisions stay visible. Pods
    whose ReplicaSet owner is not in the snapshot, and pods without any controller, come last in a
    group named :data:`OTHER_PODS`; pods of other workloads' known ReplicaSets are left out.

    Args:
        snapshot: ``deployments``, ``replicasets`` and ``pods``: lists of objects as ``kubectl get -o
            json`` returns them (other keys are ignored, missing ones count as empty).
        deployment: The deployment's name.

    Returns:
        The groups; empty when there is neither a ReplicaSet of the deployment nor an unowned pod.
    """
    found = next((d for d in _items(snapshot, "deployments") if _meta(d, "name") == deployment), None)
    deployment_uid = _meta(found, "uid") if found is not None else ""
    wanted_images = _images(found) if found is not None else None

    all_sets = list(_items(snapshot, "replicasets"))
    known_sets = {_meta(rs, "name") for rs in all_sets}
    owned = [rs for rs in all_sets if _owned_by(rs, "Deployment", deployment, deployment_uid)]
    owned.sort(key=lambda rs: (-_int(_map(_map(rs.get("metadata")).get("annotations")).get(REVISION_ANNOTATION)),
                               _meta(rs, "name")))
    current_name = next((_meta(rs, "name") for rs in owned
                         if wanted_images is not None and _images(rs) == wanted_images), None)

    pods_by_set: dict[str, list[PodRow]] = {_meta(rs, "name"): [] for rs in owned}
    uid_by_set = {_meta(rs, "name"): _meta(rs, "uid") for rs in owned}
    other: list[PodRow] = []
    for pod in _items(snapshot, "pods"):
        set_refs = _owners(pod, "ReplicaSet")
        placed = False
        for ref in set_refs:
            name = str(ref.get("name") or "")
            uid = uid_by_set.get(name)
            if uid is not None and (not uid or not ref.get("uid") or ref.get("uid") == uid):
                pods_by_set[name].append(_pod_row(pod))
                placed = True
                break
        if placed:
            continue
        unknown_set = any(str(ref.get("name") or "") not in known_sets for ref in set_refs)
        has_controller = get_controller_of(pod) is not None
        if unknown_set or not (set_refs or has_controller):
            other.append(_pod_row(pod))

    groups = []
    for rs in owned:
        name = _meta(rs, "name")
        images = _images(rs)
        groups.append(Group(
            name=name,
            revision=_int(_map(_map(rs.get("metadata")).get("annotations")).get(REVISION_ANNOTATION)),
            image=image_tag(images[0]) if images else "",
            desired=_int(_map(rs.get("spec")).get("replicas"), 1),
            ready=_int(_map(rs.get("status")).get("readyReplicas")),
            current=name == current_name,
            pods=tuple(sorted(pods_by_set[name])),
        ))
    if other:
        rows = tuple(sorted(other))
        groups.append(Group(
            name=OTHER_PODS, revision=0, image="", desired=len(rows),
            ready=sum(1 for row in rows if _fully_ready(row.ready)), current=False, pods=rows,
        ))
    return groups


def _fully_ready(ready: str) -> bool:
    done, _, total = ready.partition("/")
    return done == total and total not in ("", "0")
