"""Provides the rollout timeline's recorder and view model: what a deployment's pods were doing over a lesson.

:class:`Timeline` is fed every change of the TUI's cluster watch (:meth:`Timeline.follow`, or
:meth:`Timeline.observe` with a snapshot) and the learner's commands (:meth:`Timeline.command`). Each change
of what the deployment's pods are becomes a :class:`Sample`: per ReplicaSet revision, how many of its pods are
ready, not ready, terminating or failing (an image that cannot be pulled, a container that keeps crashing),
the pods themselves, and the deployment's ``replicas`` with its rolling-update bounds (``maxSurge`` and
``maxUnavailable`` resolved as upstream resolves them: :mod:`tutor.kube.deployutil`). New events are kept
too, so the timeline can say what happened at any moment.

Counting follows the deployment controller: a pod being deleted (``Terminating``) no longer counts toward
``replicas + maxSurge`` (``controller.FilterActivePods``), and a pod is available when it is ready and not
being deleted (``minReadySeconds`` is not modelled: the lessons leave it 0).

Everything is appended to a JSON Lines file per lesson and backend beside the progress file
(``progress/<lesson>/<backend>.timeline.jsonl``), bounded to :data:`MAX_RECORDS` records (the oldest go), so the
lesson's end screen shows the whole lesson after a restart. The file is written as it is recorded: a crash loses
nothing but the line being written, and a damaged line is skipped when loading.

This module is core: it never imports textual.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor.kube.deployutil import max_surge, max_unavailable, replicas
from tutor.kube.duration import parse_timestamp
from tutor.kube.files import atomic_write
from tutor.tui.rollout import PodRow, rollout_groups, status_severity

if TYPE_CHECKING:
    from tutor.backends.watch import ClusterWatch

__all__ = [
    "GAP_SECONDS",
    "MAX_RECORDS",
    "STATES",
    "Command",
    "EventMark",
    "PodAt",
    "Revision",
    "Sample",
    "Timeline",
    "pod_state",
]

STATES = ("ready", "not_ready", "terminating", "failing")
"""The states the timeline counts pods by, in the order the chart stacks them."""

MAX_RECORDS = 4000
"""The most records (samples, commands, events) a lesson's timeline keeps; beyond it the oldest half goes."""

GAP_SECONDS = 8.0
"""On the chart's time axis a quiet stretch (no change) longer than this counts as this long: a rollout of a few
seconds stays readable next to minutes of reading."""

LIVE_SECONDS = 2.0
"""An event whose own time is at most this much before it was seen counts as seen when it happened (an event's
``lastTimestamp`` is cut to the second)."""

EVENTS_KEPT = 6
"""How many events (the newest) :meth:`Timeline.moment` gives for a moment."""


@dataclass(frozen=True)
class Revision:
    """One ReplicaSet revision's pods at one moment, counted by state."""

    revision: int
    label: str
    """What tells its image apart (:func:`tutor.tui.rollout.revision_label`): ``v2``, ``v10``."""
    ready: int = 0
    not_ready: int = 0
    terminating: int = 0
    failing: int = 0

    def count(self, state: str) -> int:
        return int(getattr(self, state))

    @property
    def active(self) -> int:
        """Its pods that are not being deleted."""
        return self.ready + self.not_ready + self.failing


@dataclass(frozen=True)
class PodAt:
    """A pod as it was at one moment."""

    name: str
    revision: int
    status: str
    """kubectl's STATUS word (``Running``, ``ImagePullBackOff``, ``Terminating``)."""
    ready: str
    """kubectl's READY column (``1/1``)."""


@dataclass(frozen=True)
class Sample:
    """The deployment's pods at one moment (a change)."""

    t: float
    """Wall-clock seconds (``time.time()``)."""
    replicas: int
    surge: int
    """``maxSurge`` resolved (``MaxSurge``)."""
    unavailable: int
    """``maxUnavailable`` resolved (``MaxUnavailable``)."""
    revisions: tuple[Revision, ...]
    """Newest revision first."""
    pods: tuple[PodAt, ...] = ()

    @property
    def total(self) -> int:
        """Pods that count toward ``replicas + maxSurge``: every pod not being deleted."""
        return sum(revision.active for revision in self.revisions)

    @property
    def available(self) -> int:
        return sum(revision.ready for revision in self.revisions)

    @property
    def failing(self) -> int:
        return sum(revision.failing for revision in self.revisions)

    @property
    def max_pods(self) -> int:
        """``replicas + maxSurge``: the most pods a rolling update may have."""
        return self.replicas + self.surge

    @property
    def min_available(self) -> int:
        """``replicas - maxUnavailable``: the fewest available pods a rolling update may leave."""
        return self.replicas - self.unavailable

    @property
    def updating(self) -> bool:
        """More than one revision has pods (not being deleted): a rollout is under way (or stuck)."""
        return sum(1 for revision in self.revisions if revision.active) > 1

    def key(self) -> tuple[Any, ...]:
        """What the sample says, without its time (two samples alike are one)."""
        return (self.replicas, self.surge, self.unavailable, self.revisions, self.pods)


@dataclass(frozen=True)
class Command:
    """A line the learner (or the autopilot) ran in the console."""

    t: float
    line: str
    step: str = ""


@dataclass(frozen=True)
class EventMark:
    """A Kubernetes event, at the time it last happened."""

    t: float
    type: str
    reason: str
    object: str
    """``Pod/kubernetes-bootcamp-…``."""
    message: str
    count: int = 1


@dataclass(frozen=True)
class Moment:
    """What the timeline knows of one moment: the sample then, the events and the command before it."""

    sample: Sample | None
    events: tuple[EventMark, ...]
    command: Command | None


def pod_state(row: PodRow) -> str:
    """The state a pod is counted in (one of :data:`STATES`)."""
    if row.deleting:
        return "terminating"
    if status_severity(row.status) == "error":
        return "failing"
    done, _, total = row.ready.partition("/")
    if done == total and total not in ("", "0") and row.status == "Running":
        return "ready"
    return "not_ready"


def _sample(snapshot: Mapping[str, Sequence[Mapping[str, Any]]], deployment: str, images: Sequence[str],
            now: float) -> Sample | None:
    found = next((d for d in snapshot.get("deployments") or () if (d.get("metadata") or {}).get("name") == deployment),
                 None)
    if found is None:
        return None
    revisions: list[Revision] = []
    pods: list[PodAt] = []
    for group in rollout_groups(snapshot, deployment, images):
        if group.is_other:
            continue
        counts = dict.fromkeys(STATES, 0)
        for row in group.pods:
            counts[pod_state(row)] += 1
            pods.append(PodAt(row.name, group.revision, "Terminating" if row.deleting else row.status, row.ready))
        revisions.append(Revision(group.revision, group.image, **counts))
    return Sample(now, replicas(found), max_surge(found), max_unavailable(found), tuple(revisions), tuple(pods))


def _event_time(event: Mapping[str, Any]) -> float | None:
    series = event.get("series") or {}
    for stamp in (series.get("lastObservedTime"), event.get("lastTimestamp"), event.get("eventTime"),
                  event.get("firstTimestamp"), (event.get("metadata") or {}).get("creationTimestamp")):
        if isinstance(stamp, str) and stamp:
            parsed = parse_timestamp(stamp)
            if parsed is not None:
                return parsed.timestamp()
    return None


def _event_key(event: Mapping[str, Any]) -> str:
    meta = event.get("metadata") or {}
    count = (event.get("series") or {}).get("count") or event.get("count") or 1
    return f"{meta.get('uid') or meta.get('name')}#{count}"


@dataclass
class Timeline:
    """A lesson's rollout timeline: recorded as the cluster changes, saved as it goes, loaded on a restart."""

    path: Path | None
    """The JSON Lines file (None: kept in memory only)."""
    deployment: str = "kubernetes-bootcamp"
    images: Sequence[str] = ()
    """The lesson's images (revision labels)."""
    samples: list[Sample] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    events: list[EventMark] = field(default_factory=list)
    error: str | None = None
    """Why the file could not be written (the recording goes on in memory)."""
    _seen: set[str] = field(default_factory=set)
    _records: int = 0

    @staticmethod
    def file_beside(progress_file: Path) -> Path:
        """The timeline file that belongs to a progress file (``rolling-update/practice.json``)."""
        return progress_file.with_name(f"{progress_file.stem}.timeline.jsonl")

    @classmethod
    def load(cls, path: Path | None, deployment: str = "kubernetes-bootcamp", images: Sequence[str] = ()) -> Timeline:
        """The recorded timeline in ``path`` (an empty one when there is none), recording on into it."""
        timeline = cls(path, deployment, tuple(images))
        if path is None:
            return timeline
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return timeline
        for line in lines:
            try:
                timeline._read(json.loads(line))
            except (ValueError, TypeError, KeyError, AttributeError):
                continue  # a line cut short by a crash, or damaged: the rest still tells the story
        timeline._records = len(lines)
        timeline.events.sort(key=lambda event: event.t)
        return timeline

    def _read(self, record: dict[str, Any]) -> None:
        kind = record["k"]
        if kind == "s":
            revisions = tuple(Revision(int(r[0]), str(r[1]), *(int(n) for n in r[2:6])) for r in record["revs"])
            pods = tuple(PodAt(str(p[0]), int(p[1]), str(p[2]), str(p[3])) for p in record.get("pods") or ())
            self.samples.append(Sample(float(record["t"]), int(record["replicas"]), int(record["surge"]),
                                       int(record["unavailable"]), revisions, pods))
        elif kind == "c":
            self.commands.append(Command(float(record["t"]), str(record["line"]), str(record.get("step") or "")))
        elif kind == "e":
            self._seen.add(str(record["key"]))
            self.events.append(EventMark(float(record["t"]), str(record["type"]), str(record["reason"]),
                                         str(record["object"]), str(record["message"]), int(record.get("count") or 1)))

    # ---- recording ----------------------------------------------------------------------------------------------
    def observe(self, snapshot: Mapping[str, Sequence[Mapping[str, Any]]], now: float | None = None) -> bool:
        """Record a cluster state (``ClusterWatch.snapshot()``): a sample when the deployment's pods changed, and
        the events not seen yet. Returns True when anything was recorded."""
        now = time.time() if now is None else now
        recorded = False
        sample = _sample(snapshot, self.deployment, self.images, now)
        if sample is not None and (not self.samples or self.samples[-1].key() != sample.key()):
            self.samples.append(sample)
            self._append(_sample_record(sample))
            recorded = True
        for event in snapshot.get("events") or ():
            key = _event_key(event)
            if key in self._seen:
                continue
            self._seen.add(key)
            involved = event.get("involvedObject") or event.get("regarding") or {}
            when = _event_time(event)
            # Seen as it happens: when the watch saw it (its own time has whole seconds only); one from before: its time.
            at = when if when is not None and when < now - LIVE_SECONDS else now
            mark = EventMark(at, str(event.get("type") or ""),
                             str(event.get("reason") or ""), f"{involved.get('kind', '')}/{involved.get('name', '')}",
                             " ".join(str(event.get("message") or event.get("note") or "").split()),
                             int((event.get("series") or {}).get("count") or event.get("count") or 1))
            self.events.append(mark)
            self.events.sort(key=lambda item: item.t)
            self._append({"k": "e", "key": key, **_plain(mark)})
            recorded = True
        return recorded

    def command(self, line: str, step: str = "", now: float | None = None) -> None:
        """Record a console line as it starts (a marker on the time axis)."""
        mark = Command(time.time() if now is None else now, line, step)
        self.commands.append(mark)
        self._append({"k": "c", **_plain(mark)})

    def clear(self) -> None:
        """Forget everything (a lesson played again from its start)."""
        self.samples.clear()
        self.commands.clear()
        self.events.clear()
        self._seen.clear()
        self._records = 0
        if self.path is not None:
            self.path.unlink(missing_ok=True)

    async def follow(self, watch: ClusterWatch) -> None:
        """Record every change the watch sees, until cancelled."""
        changed = watch.subscribe()
        try:
            while True:
                if watch.synced and watch.error is None:
                    self.observe(watch.snapshot())
                await changed.wait()
                changed.clear()
        finally:
            watch.unsubscribe(changed)

    def _append(self, record: dict[str, Any]) -> None:
        self._records += 1
        if self._records > MAX_RECORDS:
            self._compact()
            return
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)  # private, as every state file
            with os.fdopen(fd, "a", encoding="utf-8") as file:
                file.write(json.dumps(record, ensure_ascii=False) + "\n")
            self.error = None
        except OSError as error:
            self.error = f"{self.path}: {error.strerror or error}"

    def _compact(self) -> None:
        """Keep the newest half of :data:`MAX_RECORDS`, in memory and in the file."""
        records = sorted([(s.t, 0, _sample_record(s)) for s in self.samples]
                         + [(c.t, 1, {"k": "c", **_plain(c)}) for c in self.commands]
                         + [(e.t, 2, {"k": "e", "key": f"kept-{i}", **_plain(e)}) for i, e in enumerate(self.events)],
                         key=lambda item: (item[0], item[1]))[-(MAX_RECORDS // 2):]
        cut = records[0][0] if records else 0.0
        self.samples = [s for s in self.samples if s.t >= cut]
        self.commands = [c for c in self.commands if c.t >= cut]
        self.events = [e for e in self.events if e.t >= cut]
        self._records = len(records)
        if self.path is None:
            return
        text = "".join(json.dumps(record, ensure_ascii=False) + "\n" for _, _, record in records)
        try:
            atomic_write(self.path, text.encode())
        except OSError as error:
            self.error = f"{self.path}: {error.strerror or error}"

    # ---- reading ------------------------------------------------------------------------------------------------
    @property
    def start(self) -> float | None:
        """The time of the first record."""
        times = [*(s.t for s in self.samples[:1]), *(c.t for c in self.commands[:1])]
        return min(times) if times else None

    def moment(self, t: float) -> Moment:
        """The sample at ``t`` (the last one at or before it), the newest events and the last command up to it."""
        sample = next((s for s in reversed(self.samples) if s.t <= t), None)
        events = tuple(e for e in self.events if e.t <= t)[-EVENTS_KEPT:]
        command = next((c for c in reversed(self.commands) if c.t <= t), None)
        return Moment(sample, events, command)

    def axis(self) -> list[float]:
        """Every time the timeline knows (samples and commands), sorted: what the cursor steps through."""
        return sorted({*(s.t for s in self.samples), *(c.t for c in self.commands)})

    def squeeze(self, t: float) -> float:
        """``t`` on the chart's axis: seconds since the start with each quiet stretch cut to :data:`GAP_SECONDS`."""
        times = self.axis()
        if not times:
            return 0.0
        x, previous = 0.0, times[0]
        for at in times[1:]:
            if at > t:
                break
            x += min(at - previous, GAP_SECONDS)
            previous = at
        return x + min(max(t - previous, 0.0), GAP_SECONDS)

    def revision_labels(self) -> dict[int, str]:
        """Each revision recorded with its label (the latest seen)."""
        found: dict[int, str] = {}
        for sample in self.samples:
            for revision in sample.revisions:
                found[revision.revision] = revision.label
        return found


def _plain(item: Command | EventMark) -> dict[str, Any]:
    return {key: value for key, value in item.__dict__.items()}


def _sample_record(sample: Sample) -> dict[str, Any]:
    return {"k": "s", "t": round(sample.t, 3), "replicas": sample.replicas, "surge": sample.surge,
            "unavailable": sample.unavailable,
            "revs": [[r.revision, r.label, r.ready, r.not_ready, r.terminating, r.failing] for r in sample.revisions],
            "pods": [[p.name, p.revision, p.status, p.ready] for p in sample.pods]}
