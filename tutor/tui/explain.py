"""Provides plain-language explanations of a lesson's events and of a pod's state, in Japanese and English.

:func:`lesson_events` picks the events worth a learner's attention from a cluster snapshot (``ClusterWatch.snapshot()``,
the same watch of core/v1 events on every backend): Warnings, and the Normal ``ScalingReplicaSet``, ``Killing``
and ``BackOff``, only about objects that still exist (their uid is in the snapshot), newest first, each with one
line that says what it means. :func:`explain_pod` does the same for the reason a pod waits or stopped.

The numbers come from upstream Kubernetes, never from the practice cluster:

- the kubelet's image pull back-off starts at ``imageBackOffPeriod = time.Second * 10`` and is capped at
  ``MaxImageBackOff = 300 * time.Second`` (kubernetes/kubernetes ``pkg/kubelet/kubelet.go``); the container
  restart back-off is the same 10 s to 300 s (``containerBackOffPeriod``, ``MaxContainerBackOff``);
- each failed pull moves it on: ``flowcontrol.Backoff.Next`` doubles it up to the cap
  (``staging/src/k8s.io/client-go/util/flowcontrol/backoff.go``), and the image manager, keyed by pod uid and
  image, answers ``Back-off pulling image`` while ``IsInBackOffSinceUpdate`` holds
  (``pkg/kubelet/images/image_manager.go``);
- events pass through client-go's correlator (``staging/src/k8s.io/client-go/tools/record/events_cache.go``):
  one source may record 25 events about one object (``defaultSpamBurst``), then one every 5 minutes
  (``defaultSpamQPS = 1/300``); more than 10 similar ones become one ``(combined from similar events): ...``;
- a Deployment's surge and unavailability are ``ResolveFenceposts`` (``pkg/controller/deployment/util/
  deployment_util.go``): maxSurge rounded up, maxUnavailable rounded down, both 25% by default
  (``pkg/apis/apps/v1/defaults.go``), unavailability 1 when both come to 0;
- a deleted pod's containers get ``terminationGracePeriodSeconds`` (default 30) between SIGTERM and SIGKILL.

This module is core: it never imports textual.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tutor.kube.deployutil import resolve_fenceposts
from tutor.kube.duration import parse_timestamp, since
from tutor.kube.intstr import IntOrStringError
from tutor.tui.rollout import PodRow, revision_label
from tutor.tui.text import TEXTS, t

__all__ = [
    "COMBINED_PREFIX",
    "IMAGE_BACKOFF_INITIAL",
    "IMAGE_BACKOFF_MAX",
    "SPAM_BURST",
    "ExplainedEvent",
    "event_time",
    "explain_event",
    "explain_pod",
    "image_backoff",
    "lesson_events",
]

Obj = Mapping[str, Any]

IMAGE_BACKOFF_INITIAL = 10
"""Seconds: ``imageBackOffPeriod`` (kubernetes/kubernetes ``pkg/kubelet/kubelet.go``)."""
IMAGE_BACKOFF_MAX = 300
"""Seconds: ``MaxImageBackOff`` (``pkg/kubelet/kubelet.go``)."""
DEFAULT_GRACE_SECONDS = 30
"""``v1.DefaultTerminationGracePeriodSeconds``."""
SPAM_BURST = 25
"""``defaultSpamBurst`` of client-go's ``tools/record/events_cache.go``: events one source may record about one
object before the rest are dropped (then one every 5 minutes)."""
COMBINED_PREFIX = "(combined from similar events): "
"""What client-go's ``EventAggregator`` puts before the message of an event that stands for similar ones."""
RELEVANT_NORMAL = frozenset({"ScalingReplicaSet", "Killing", "BackOff"})
"""The Normal reasons worth a learner's attention next to the Warnings."""
LIVE_KINDS = ("deployments", "replicasets", "pods", "services", "endpoints")
"""The kinds of the snapshot whose objects an event may be about."""

_PULL_FAILED = re.compile(r'^Failed to pull image "([^"]*)"')
_BACKOFF_PULL = re.compile(r'^Back-off pulling image "([^"]*)"')
_SCALED = re.compile(r"^Scaled (up|down) replica set (\S+)(?: from (\d+))? to (\d+)(?: from (\d+))?")
_NOT_FOUND = re.compile(r"not found|manifest unknown|NotFound|does not exist", re.IGNORECASE)
_DENIED = re.compile(r"unauthorized|denied|authentication required|forbidden", re.IGNORECASE)


def _map(value: Any) -> Obj:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _count(event: Obj) -> int:
    """How many times the event happened: ``count`` (or ``series.count``); 0 and missing count as 1, as kubectl
    prints them."""
    for value in (event.get("count"), _map(event.get("series")).get("count")):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return 1


def event_time(event: Obj) -> datetime | None:
    """When an event last happened: ``series.lastObservedTime``, ``lastTimestamp``, ``eventTime``,
    ``firstTimestamp``, then the event's ``creationTimestamp`` (what ``kubectl events`` sorts by)."""
    for value in (_map(event.get("series")).get("lastObservedTime"), event.get("lastTimestamp"),
                  event.get("eventTime"), event.get("firstTimestamp"),
                  _map(event.get("metadata")).get("creationTimestamp")):
        when = parse_timestamp(value) if isinstance(value, str) else None
        if when is not None:
            return when
    return None


@dataclass(frozen=True)
class ExplainedEvent:
    """One event as the events view lists it."""

    key: str
    """The event's uid (or name): stable while it is counted up."""
    type: str
    """``Warning`` or ``Normal``."""
    reason: str
    """``Failed``, ``BackOff``, ``Killing``, ``ScalingReplicaSet`` …"""
    object: str
    """What it is about, as kubectl's OBJECT column: ``pod/kubernetes-bootcamp-6d4fb9c5dk-7mx2p``."""
    message: str
    """The event's message without the ``(combined from similar events):`` prefix."""
    count: int
    """How many times it happened (1 at least)."""
    age: str
    """How long ago it last happened (``HumanDuration``, ``""`` when the event has no time)."""
    explanation: str
    """What it means, in the learner's language (``""`` when there is nothing to add to the message)."""
    combined: bool = False
    """It stands for more than 10 similar events (client-go's aggregation)."""
    capped: bool = False
    """Its object has used up the 25 events a source may record, so later events may be missing."""
    when: datetime | None = None
    """When it last happened."""


def _live(snapshot: Mapping[str, Sequence[Obj]]) -> tuple[dict[str, Obj], dict[tuple[str, str], Obj]]:
    """The snapshot's objects by uid, and by (kind, name) for events that name no uid."""
    by_uid: dict[str, Obj] = {}
    by_name: dict[tuple[str, str], Obj] = {}
    for kind in LIVE_KINDS:
        for obj in _list(snapshot.get(kind)):
            meta = _map(_map(obj).get("metadata"))
            if meta.get("uid"):
                by_uid[str(meta["uid"])] = obj
            by_name[(kind, str(meta.get("name") or ""))] = obj
    return by_uid, by_name


_PLURAL = {"Deployment": "deployments", "ReplicaSet": "replicasets", "Pod": "pods", "Service": "services",
           "Endpoints": "endpoints"}


def _involved(event: Obj) -> Obj:
    return _map(event.get("involvedObject") or event.get("regarding"))


def _subject(event: Obj, by_uid: Mapping[str, Obj], by_name: Mapping[tuple[str, str], Obj]) -> Obj | None:
    """The live object an event is about: its uid must match (the name alone may be a deleted namesake's);
    only an event that names no uid is matched by kind and name."""
    involved = _involved(event)
    uid = str(involved.get("uid") or "")
    if uid:
        return by_uid.get(uid)
    plural = _PLURAL.get(str(involved.get("kind") or ""))
    return by_name.get((plural, str(involved.get("name") or ""))) if plural else None


def _events_about(snapshot: Mapping[str, Sequence[Obj]], subject_uid: str) -> list[Obj]:
    return [_map(e) for e in _list(snapshot.get("events")) if str(_involved(_map(e)).get("uid") or "") == subject_uid]


def image_backoff(events: Iterable[Obj], image: str, now: datetime, *,
                  time_scale: float = 1.0) -> tuple[int, int, int | None]:
    """Where the kubelet's image pull back-off of one pod stands, from that pod's events.

    Each failed pull (a ``Failed`` event ``Failed to pull image "<image>": …``, counted) moved the back-off on:
    10 s after the first, doubling to 300 s. The next pull comes once it has passed since the last failure.

    Args:
        events: The events about the pod.
        image: The image it pulls.
        now: The time to count from.
        time_scale: How much faster than real time the cluster runs (the practice cluster's ``--time-scale``).

    Returns:
        (failed pulls, the back-off after the last one in seconds, seconds until the next try or None when it
        is due now or unknown).
    """
    failed = 0
    last: datetime | None = None
    for event in events:
        message = str(event.get("message") or "").removeprefix(COMBINED_PREFIX)
        match = _PULL_FAILED.match(message)
        if event.get("reason") != "Failed" or match is None or match.group(1) != image:
            continue
        failed += _count(event)
        when = event_time(event)
        if when is not None and (last is None or when > last):
            last = when
    if failed == 0:
        return 0, 0, None
    delay = min(IMAGE_BACKOFF_INITIAL * 2 ** min(failed - 1, 16), IMAGE_BACKOFF_MAX)
    if last is None:
        return failed, delay, None
    left = delay / max(time_scale, 1e-9) - (now - last).total_seconds()
    return failed, delay, math.ceil(left) if left >= 1 else None


def _fenceposts(deployment: Obj) -> tuple[int, int, str, str, bool]:
    """(maxSurge, maxUnavailable, as written, as written, rolling): ``ResolveFenceposts`` with the defaults."""
    spec = _map(deployment.get("spec"))
    strategy = _map(spec.get("strategy"))
    rolling = (strategy.get("type") or "RollingUpdate") == "RollingUpdate"
    update = _map(strategy.get("rollingUpdate"))
    replicas = spec.get("replicas", 1)
    replicas = replicas if isinstance(replicas, int) and not isinstance(replicas, bool) else 1
    surge_spec = update.get("maxSurge", "25%")
    unavailable_spec = update.get("maxUnavailable", "25%")
    try:
        surge, unavailable = resolve_fenceposts(surge_spec, unavailable_spec, replicas)
    except IntOrStringError:
        surge, unavailable = 0, 1
    return surge, min(unavailable, replicas), str(surge_spec), str(unavailable_spec), rolling


def _owner(obj: Obj, kind: str) -> str:
    for ref in _list(_map(obj.get("metadata")).get("ownerReferences")):
        if _map(ref).get("kind") == kind:
            return str(_map(ref).get("name") or "")
    return ""


def _first_image(obj: Obj) -> str:
    containers = _list(_map(_map(_map(obj.get("spec")).get("template")).get("spec")).get("containers"))
    return str(_map(containers[0]).get("image") or "") if containers else ""


def _scaling(event: Obj, subject: Obj, snapshot: Mapping[str, Sequence[Obj]], lang: str,
             lesson_images: Sequence[str]) -> str:
    match = _SCALED.match(str(event.get("message") or "").removeprefix(COMBINED_PREFIX))
    if match is None:
        return ""
    direction, name = match.group(1), match.group(2)
    old = match.group(3) or match.group(5) or "?"
    new = match.group(4)
    sets = {str(_map(_map(rs).get("metadata")).get("name") or ""): _map(rs) for rs in _list(snapshot.get("replicasets"))}
    replica_set = sets.get(name)
    label = ""
    if replica_set is not None:
        deployment_name = _owner(replica_set, "Deployment")
        others = [_first_image(rs) for rs_name, rs in sets.items()
                  if rs_name != name and _owner(rs, "Deployment") == deployment_name]
        revision = _map(_map(replica_set.get("metadata")).get("annotations")).get("deployment.kubernetes.io/revision")
        label = revision_label(_first_image(replica_set), lesson_images, others)
        if revision:
            label = f"rev {revision} · {label}"
    what = t("explain.scaled", lang, rs=name, label=f" ({label})" if label else "", old=old, new=new)
    space = "" if lang == "ja" else " "  # Japanese sentences follow one another without a space
    if _involved(event).get("kind") != "Deployment" or not _map(subject.get("spec")):
        return what
    surge, unavailable, surge_spec, unavailable_spec, rolling = _fenceposts(subject)
    replicas = _map(subject.get("spec")).get("replicas", 1)
    if not rolling:
        return f"{what}{space}{t('explain.scaled_recreate', lang)}"
    if direction == "up":
        why = t("explain.scaled_up", lang, replicas=replicas, surge=surge, total=replicas + surge, spec=surge_spec)
    else:
        why = t("explain.scaled_down", lang, replicas=replicas, unavailable=unavailable,
                total=replicas - unavailable, spec=unavailable_spec)
    return f"{what}{space}{why}"


def _grace(subject: Obj) -> int:
    meta = _map(subject.get("metadata"))
    for value in (meta.get("deletionGracePeriodSeconds"), _map(subject.get("spec")).get("terminationGracePeriodSeconds")):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return DEFAULT_GRACE_SECONDS


def _pull_failure(message: str, lang: str) -> str:
    match = _PULL_FAILED.match(message)
    image = match.group(1) if match else ""
    if _DENIED.search(message):  # Docker Hub answers "pull access denied, repository does not exist or ..."
        return t("explain.pull_denied", lang)
    if _NOT_FOUND.search(message):
        return t("explain.no_such_tag", lang, image=image or "?")
    return t("explain.pull_failed", lang)


def explain_event(event: Obj, snapshot: Mapping[str, Sequence[Obj]], *, now: datetime, lang: str,
                  time_scale: float = 1.0, lesson_images: Sequence[str] = ()) -> str:
    """What one event means, in one line (or ``""`` when its message says it all).

    Args:
        event: A core/v1 event.
        snapshot: The cluster snapshot the event came with (its subject, that subject's other events, the
            ReplicaSets and the Deployment).
        now: The time to count from (for the back-off's next try).
        lang: ``"ja"`` or ``"en"``.
        time_scale: How much faster than real time the cluster runs.
        lesson_images: The lesson's images, to label ReplicaSets as the cluster panel does.

    Returns:
        The explanation.
    """
    by_uid, by_name = _live(snapshot)
    subject = _subject(event, by_uid, by_name) or {}
    reason = str(event.get("reason") or "")
    message = str(event.get("message") or "").removeprefix(COMBINED_PREFIX)
    if reason == "Failed":
        if message.startswith("Failed to pull image"):
            return _pull_failure(message, lang)
        if message == "Error: ErrImagePull":
            return t("explain.err_image_pull", lang)
        if message == "Error: ImagePullBackOff":
            return t("explain.err_image_pull_backoff", lang)
        return ""
    if reason == "BackOff":
        match = _BACKOFF_PULL.match(message)
        if match is None:
            return t("explain.crash_backoff", lang) if "restarting" in message else ""
        uid = str(_involved(event).get("uid") or "")
        failed, delay, left = image_backoff(_events_about(snapshot, uid) if uid else [event], match.group(1), now,
                                            time_scale=time_scale)
        if failed == 0:
            return t("explain.backoff", lang)
        if left is None:
            return t("explain.backoff_due", lang, failed=failed, delay=delay)
        return t("explain.backoff_next", lang, failed=failed, delay=delay, next=left)
    if reason == "Killing":
        return t("explain.killing", lang, grace=_grace(subject))
    if reason == "ScalingReplicaSet":
        return _scaling(event, subject, snapshot, lang, lesson_images)
    return ""


def _capped(event: Obj, snapshot: Mapping[str, Sequence[Obj]]) -> bool:
    """True when the event's source has recorded 25 events about its object: client-go drops the rest."""
    uid = str(_involved(event).get("uid") or "")
    if not uid:
        return False
    component = str(_map(event.get("source")).get("component") or event.get("reportingComponent") or "")
    total = sum(_count(other) for other in _events_about(snapshot, uid)
                if str(_map(other.get("source")).get("component") or other.get("reportingComponent") or "")
                == component)
    return total >= SPAM_BURST


def lesson_events(snapshot: Mapping[str, Sequence[Obj]], *, now: datetime, lang: str, time_scale: float = 1.0,
                  lesson_images: Sequence[str] = ()) -> list[ExplainedEvent]:
    """The events a learner should see, newest first, each explained.

    Warnings, and the Normal ``ScalingReplicaSet``, ``Killing`` and ``BackOff``, about objects that still exist
    (an event's ``involvedObject.uid`` must be a live object's: events of the pods an earlier reset deleted are
    left out, even when a new pod got the same name).

    Args:
        snapshot: ``ClusterWatch.snapshot()``: ``events`` and the live objects.
        now: The time to count from.
        lang: ``"ja"`` or ``"en"``.
        time_scale: How much faster than real time the cluster runs.
        lesson_images: The lesson's images, to label ReplicaSets as the cluster panel does.

    Returns:
        The events, newest first: by their last time, then (within a second) by their ``resourceVersion`` when it
        is a number, as every update of an event gives it a later one, then by name.
    """
    by_uid, by_name = _live(snapshot)
    picked: list[tuple[float, int, str, ExplainedEvent]] = []
    for raw in _list(snapshot.get("events")):
        event = _map(raw)
        kind = str(event.get("type") or "")
        reason = str(event.get("reason") or "")
        if kind != "Warning" and reason not in RELEVANT_NORMAL:
            continue
        if _subject(event, by_uid, by_name) is None:
            continue
        involved = _involved(event)
        meta = _map(event.get("metadata"))
        message = str(event.get("message") or "")
        when = event_time(event)
        version = str(meta.get("resourceVersion") or "")
        picked.append((when.timestamp() if when is not None else float("-inf"),
                       int(version) if version.isdigit() else -1, str(meta.get("name") or ""), ExplainedEvent(
            key=str(meta.get("uid") or meta.get("name") or ""),
            type=kind,
            reason=reason,
            object=f"{str(involved.get('kind') or '').lower()}/{involved.get('name') or ''}",
            message=message.removeprefix(COMBINED_PREFIX).strip(),
            count=_count(event),
            age=since(when, now) if when is not None else "",
            explanation=explain_event(event, snapshot, now=now, lang=lang, time_scale=time_scale,
                                      lesson_images=lesson_images),
            combined=message.startswith(COMBINED_PREFIX),
            capped=_capped(event, snapshot),
            when=when,
        )))
    picked.sort(key=lambda item: item[:3], reverse=True)
    return [item[3] for item in picked]


def explain_pod(row: PodRow, lang: str) -> str:
    """What a pod's STATUS means, in one line, for the pod the learner selected in the cluster panel.

    Args:
        row: The pod as :func:`tutor.tui.rollout.rollout_groups` lists it.
        lang: ``"ja"`` or ``"en"``.

    Returns:
        The explanation; ``""`` for a running pod (nothing to explain).
    """
    if row.deleting:
        return t("explain.pod.Terminating", lang, grace=row.grace if row.grace is not None else DEFAULT_GRACE_SECONDS)
    detail = row.detail
    if detail.state == "waiting":
        key = f"explain.pod.{detail.reason}"
        said = t(key, lang) if key in TEXTS else ""
        pulling = detail.reason in ("ErrImagePull", "ImagePullBackOff")
        if said and pulling and _NOT_FOUND.search(detail.message) and not _DENIED.search(detail.message):
            return f"{said}{'' if lang == 'ja' else ' '}{t('explain.no_such_tag_short', lang)}"
        return said
    if detail.state == "terminated":
        if detail.reason == "Completed":
            return t("explain.pod.Completed", lang)
        return t("explain.pod.terminated", lang, code=detail.exit_code if detail.exit_code is not None else "?")
    if detail.state == "unscheduled":
        return t("explain.pod.unscheduled", lang)
    if row.status == "Pending":
        return t("explain.pod.Pending", lang)
    return ""

