"""Provides the pod STATUS / READY words kubectl prints, and a deployment's pods grouped by ReplicaSet.

:func:`pod_status`, :func:`pod_ready` and :func:`pod_restarts` give kubectl's ``printPod`` words
(:func:`tutor.kube.printers.print_pod`, the one port of ``pkg/printers/internalversion/printers.go``,
which the practice cluster's Tables use too) for pods as ``kubectl get -o json`` returns them. :func:`rollout_groups` arranges a cluster snapshot the way the
cluster panel shows a rolling update: one group per revision, newest first, each with its pods, each revision
labelled by :func:`revision_label` (the part of its image that tells it apart from the lesson's images), each
pod with the reason and message of what it waits for (:func:`pod_detail`).

This module is core: it never imports textual.
"""

from __future__ import annotations

import re
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
    "PodDetail",
    "image_tag",
    "pod_detail",
    "pod_ready",
    "pod_restarts",
    "pod_status",
    "revision_label",
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


_SEPARATORS = "/:-_@"
"""Where a label may begin in the last path segment of an image reference: after one of these (``@`` itself
begins a digest); before that segment, only after a ``/``."""


def _canonical(image: str) -> str:
    """``image`` as labels compare it: Docker Hub's implied ``docker.io/`` and ``library/`` written out, ``:latest``
    made explicit for an untagged image (what the kubelet pulls), a digest shortened to ``@`` and 7 hex digits
    (dropped when there is a tag, which says more to a learner)."""
    name, at, digest = image.strip().partition("@")
    first, slash, rest = name.partition("/")
    if not slash:
        name = f"docker.io/library/{name}"
    elif "." not in first and ":" not in first and first != "localhost":
        name = f"docker.io/{name}"
    tagged = ":" in name.rsplit("/", 1)[-1]
    if at and not tagged:
        return f"{name}@{digest.rpartition(':')[2][:7]}"
    return name if tagged else f"{name}:latest"


def _starts(reference: str) -> list[int]:
    """Where a label of ``reference`` may begin, last first. A label always holds the whole tag (or digest)."""
    segment = reference.rfind("/") + 1
    last = reference[segment:]
    tag_at = segment + (last.find("@") if "@" in last else last.rfind(":") + 1)
    starts = {0}
    for index, char in enumerate(reference):
        if char == "@":
            starts.add(index)
        elif (char == "/" or (char in _SEPARATORS and index >= segment)) and index + 1 <= tag_at:
            starts.add(index + 1)
    return sorted((start for start in starts if start <= tag_at), reverse=True)


def _ends_with(other: str, label: str) -> bool:
    """True when ``other`` ends with ``label`` at a place a label may begin (``v2`` ends ``x:v2``, not ``x:av2``)."""
    if not other.endswith(label):
        return False
    cut = len(other) - len(label)
    return cut == 0 or label.startswith("@") or other[cut - 1] in _SEPARATORS


def _words(reference: str) -> list[tuple[int, str]]:
    """The words of a reference with where each begins (``docker.io``, ``jocatalin``, ``kubernetes``, ``bootcmp``)."""
    return [(match.start(), match.group()) for match in re.finditer(r"[^/:\-_@]+", reference)]


def _shown(label: str) -> str:
    """A label without the Docker Hub prefixes :func:`_canonical` wrote out."""
    for prefix in ("docker.io/library/", "docker.io/", "library/"):
        if label.startswith(prefix) and len(label) > len(prefix):
            return label[len(prefix):]
    return label


def revision_label(image: str, lesson_images: Iterable[str] = (), other_images: Iterable[str] = ()) -> str:
    """The part of a revision's image that tells it apart: what the cluster panel shows after ``rev N ·``.

    An image the lesson uses is named by its shortest end that no other lesson image ends with: its tag
    (``v1``, ``v2``, ``v10``) when the tags differ. Any other image is named from the first word where it
    differs from the lesson image it is closest to, and at least by as much of its end as no lesson image and
    no other revision's image ends with: a misspelt ``jocatalin/kubernetes-bootcmp:v2`` is ``bootcmp:v2``,
    never ``v2``; ``jocatalin/kubernetes-bootcamp:v3`` is ``v3``; ``nginx:1.27`` is ``nginx:1.27``. An
    untagged image reads ``:latest`` (what the kubelet pulls), a digest without a tag ``@`` and 7 hex digits;
    ``docker.io/`` and ``library/`` are implied, as Docker Hub implies them.

    Args:
        image: The revision's image, e.g. ``jocatalin/kubernetes-bootcmp:v2``.
        lesson_images: The images the lesson names (``Lesson.images`` and ``Lesson.absent_images``).
        other_images: The images of the deployment's other revisions.

    Returns:
        The label; ``""`` for an empty reference.
    """
    if not image.strip():
        return ""
    reference = _canonical(image)
    lesson = {_canonical(i) for i in lesson_images if i.strip()}
    others = {_canonical(i) for i in other_images if i.strip()}
    latest = len(reference)
    if reference in lesson:
        rivals = lesson - {reference}
    else:
        rivals = (lesson | others) - {reference}
        words = _words(reference)
        if lesson and words:
            def shared(other: str) -> int:
                count = 0
                for (_, word), (_, their) in zip(words, _words(other), strict=False):
                    if word != their:
                        break
                    count += 1
                return count

            latest = words[min(max(shared(other) for other in lesson), len(words) - 1)][0]
    for start in _starts(reference):
        label = reference[start:]
        if start <= latest and not any(_ends_with(other, label) for other in rivals):
            return _shown(label)
    return _shown(reference)


class PodDetail(NamedTuple):
    """Why a pod is in its STATUS: the state of the container that decides it, as ``kubectl describe`` says."""

    state: str
    """``waiting`` or ``terminated`` (a container's state), ``unscheduled`` (no node yet), ``pod`` (the pod's
    own reason, e.g. ``Evicted``), or ``""`` when there is nothing to explain (it runs)."""
    reason: str = ""
    """``ImagePullBackOff``, ``ErrImagePull``, ``CrashLoopBackOff``, ``Error``, ``Unschedulable`` …"""
    message: str = ""
    """The message that goes with the reason (``Back-off pulling image "…": ErrImagePull: … not found``)."""
    container: str = ""
    """The container's name, ``""`` for the pod itself."""
    exit_code: int | None = None
    """A terminated container's exit code."""


def pod_detail(pod: Obj) -> PodDetail:
    """The reason and message behind a pod's STATUS, from the container that decides it.

    Init containers that have not completed come first; then the app containers, last to first, as
    ``printPod`` reads them: the first one waiting with a reason, or terminated. A pod without container
    statuses that could not be scheduled gives its ``PodScheduled`` condition; a pod with a reason of its own
    (``Evicted``) gives that.

    Args:
        pod: A pod as ``kubectl get pod -o json`` returns it.

    Returns:
        The detail; ``PodDetail("")`` when every container runs (nothing to explain).
    """
    status = _map(pod.get("status"))

    def of(container: Obj) -> PodDetail | None:
        state = _map(container.get("state"))
        name = str(container.get("name") or "")
        waiting = _map(state.get("waiting"))
        if waiting.get("reason"):
            return PodDetail("waiting", str(waiting["reason"]), str(waiting.get("message") or ""), name)
        terminated = state.get("terminated")
        if isinstance(terminated, Mapping):
            code = _int(terminated.get("exitCode"))
            reason = str(terminated.get("reason") or "")
            return PodDetail("terminated", reason, str(terminated.get("message") or ""), name, code)
        return None

    for container in _list(status.get("initContainerStatuses")):
        terminated = _map(_map(_map(container).get("state")).get("terminated"))
        if terminated and _int(terminated.get("exitCode")) == 0:
            continue
        found = of(_map(container))
        if found is not None:
            return found
    for container in reversed(_list(status.get("containerStatuses"))):
        found = of(_map(container))
        if found is not None:
            return found
    if status.get("reason"):
        return PodDetail("pod", str(status["reason"]), str(status.get("message") or ""))
    for condition in _list(status.get("conditions")):
        condition = _map(condition)
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return PodDetail("unscheduled", str(condition.get("reason") or ""), str(condition.get("message") or ""))
    return PodDetail("")


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
    detail: PodDetail = PodDetail("")
    """What the pod waits for, or why its container stopped (:func:`pod_detail`)."""
    deleting: bool = False
    """The pod has a ``deletionTimestamp``."""
    grace: int | None = None
    """``metadata.deletionGracePeriodSeconds`` of a pod being deleted (else the spec's grace period)."""


@dataclass(frozen=True)
class Group:
    """A ReplicaSet of the deployment and its pods (or the pods whose ReplicaSet is unknown)."""

    name: str
    """The ReplicaSet's name, or :data:`OTHER_PODS`."""
    revision: int
    """The ``deployment.kubernetes.io/revision`` annotation (0 when missing, and for other pods)."""
    image: str
    """The label of the ReplicaSet's first container image (:func:`revision_label`), ``""`` for other pods."""
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
    meta = _map(pod.get("metadata"))
    deleting = bool(meta.get("deletionTimestamp"))
    grace = meta.get("deletionGracePeriodSeconds") if deleting else None
    if grace is None:
        grace = _map(pod.get("spec")).get("terminationGracePeriodSeconds")
    return PodRow(_meta(pod, "name"), printed.status, printed.ready_text, printed.restarts, pod_detail(pod), deleting,
                  grace if isinstance(grace, int) and not isinstance(grace, bool) else None)


def _items(snapshot: Mapping[str, Sequence[Obj]], kind: str) -> Iterable[Obj]:
    return (_map(item) for item in _list(snapshot.get(kind)))


def rollout_groups(snapshot: Mapping[str, Sequence[Obj]], deployment: str,
                   lesson_images: Sequence[str] = ()) -> list[Group]:
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
        lesson_images: The images the lesson names: each revision is labelled by what tells its image apart
            from them (:func:`revision_label`).

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
    first_images = {_meta(rs, "name"): (_images(rs) or [""])[0] for rs in owned}
    for rs in owned:
        name = _meta(rs, "name")
        image = first_images[name]
        others = [other for other_name, other in first_images.items() if other_name != name]
        groups.append(Group(
            name=name,
            revision=_int(_map(_map(rs.get("metadata")).get("annotations")).get(REVISION_ANNOTATION)),
            image=revision_label(image, lesson_images, others),
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
