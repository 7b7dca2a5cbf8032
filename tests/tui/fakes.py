"""Provides fakes for driving the whole TUI without a cluster: backend, cluster watch, shell session, runtime.

Everything is deterministic: pod names are fixed, nothing shows an age, no process is started. The cluster
states are the hand-built ones of ``tests.lesson.test_checks`` (which the lesson's checks are tested against), turned
into objects a cluster would really return (:func:`realize`): ReplicaSets named by their pod-template-hash
and owned by the Deployment, pods named after their ReplicaSet and owned by it, ready counts filled in. So
the checklist and the cluster panel read the same objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tests.lesson.test_checks import rolled_back, start_state, v2_done, v10_stall
from tutor.backends.base import BackendError, ClockState
from tutor.lesson import Check, Lesson, Step, find_lesson, load_lesson
from tutor.lesson.checks import CommandRun, StepVerdict, build_context, evaluate_checks
from tutor.lesson.progress import Progress
from tutor.text import Phrase
from tutor.tui.app import TutorApp
from tutor.tui.rollout import image_tag, pod_ready, pod_status

Obj = dict[str, Any]
Snapshot = dict[str, list[Obj]]

DEPLOY = "kubernetes-bootcamp"
NAMESPACE = "default"
CREATED = "2026-01-05T10:00:00Z"
"""Every timestamp is this one: nothing shown depends on the clock."""
NODE_PORT = 31234
"""The Service's NodePort in every state (``tests.lesson.test_checks.service``)."""

POD_TEMPLATE_HASH = {"v1": "5c69669756", "v2": "7c6644499c", "v10": "6d4fb9c5dk"}
"""The fixed pod-template-hash of each version's ReplicaSet."""
POD_SUFFIXES = {
    "v1": ("2kq8x", "9ztlm", "d7fvw", "qq7rx"),
    "v2": ("bx4wq", "kz9tn", "r2mhd", "w8pjc"),
    "v10": ("7mx2p", "h5lsv"),
}
"""The fixed random suffixes of each version's pods, in the order the hand-built states list them."""

CURL_ANSWER = f"Hello Kubernetes bootcamp! | Running on: {DEPLOY}-7c6644499c-bx4wq | v=2\n"


# ---------------------------------------------------------------------------------------------------
# Cluster states
# ---------------------------------------------------------------------------------------------------


def _image(obj: Mapping[str, Any]) -> str:
    spec = obj.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or spec
    return str(template["containers"][0]["image"])


def _replicaset_name(tag: str) -> str:
    return f"{DEPLOY}-{POD_TEMPLATE_HASH[tag]}"


def _ready(pod: Mapping[str, Any]) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def realize(snapshot: Mapping[str, Sequence[Obj]]) -> Snapshot:
    """A hand-built state of ``tests.lesson.test_checks`` completed into what the API server would return.

    Adds names, uids, labels and owner references (Deployment → ReplicaSet → pod), the container
    statuses' ``ready``/``image`` fields and the ReplicaSets' ready counts. Nothing a check reads is
    changed, so the lesson's checks give the same verdicts on the result.

    Args:
        snapshot: ``start_state()``, ``v2_done()``, ``v10_stall()`` or ``rolled_back()``.

    Returns:
        A new snapshot with every kind ``ClusterWatch.snapshot()`` has.
    """
    state: Snapshot = {kind: copy.deepcopy(list(snapshot.get(kind, ()))) for kind in
                       ("deployments", "replicasets", "pods", "services", "endpoints", "events")}
    deployment_uid = f"uid-{DEPLOY}"
    for deployment in state["deployments"]:
        meta = deployment["metadata"]
        meta.update(namespace=NAMESPACE, uid=deployment_uid, creationTimestamp=CREATED, labels={"app": DEPLOY})
        deployment.update(apiVersion="apps/v1", kind="Deployment")

    pods_by_tag: dict[str, list[Obj]] = {}
    for pod in state["pods"]:
        pods_by_tag.setdefault(image_tag(_image(pod)), []).append(pod)
    for tag, pods in pods_by_tag.items():
        owner = _replicaset_name(tag)
        for pod, suffix in zip(pods, POD_SUFFIXES[tag], strict=False):
            meta = pod["metadata"]
            meta.update(name=f"{owner}-{suffix}", namespace=NAMESPACE, uid=f"uid-{owner}-{suffix}",
                        creationTimestamp=CREATED,
                        labels={"app": DEPLOY, "pod-template-hash": POD_TEMPLATE_HASH[tag]},
                        ownerReferences=[{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": owner,
                                          "uid": f"uid-{owner}", "controller": True, "blockOwnerDeletion": True}])
            pod.update(apiVersion="v1", kind="Pod")
            pod["spec"]["containers"][0]["name"] = DEPLOY
            for status in pod["status"].get("containerStatuses") or []:
                status.update(name=DEPLOY, image=_image(pod), ready=_ready(pod), restartCount=0,
                              started="running" in status["state"])
    state["pods"].sort(key=lambda p: p["metadata"]["name"])

    for rs in state["replicasets"]:
        tag = image_tag(_image(rs))
        name = _replicaset_name(tag)
        rs["metadata"].update(name=name, namespace=NAMESPACE, uid=f"uid-{name}", creationTimestamp=CREATED,
                              labels={"app": DEPLOY, "pod-template-hash": POD_TEMPLATE_HASH[tag]},
                              ownerReferences=[{"apiVersion": "apps/v1", "kind": "Deployment", "name": DEPLOY,
                                                "uid": deployment_uid, "controller": True,
                                                "blockOwnerDeletion": True}])
        rs.update(apiVersion="apps/v1", kind="ReplicaSet")
        rs["spec"]["template"]["spec"]["containers"][0]["name"] = DEPLOY
        live = [p for p in pods_by_tag.get(tag, []) if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in live if _ready(p))
        rs["status"] = {"replicas": len(live), "readyReplicas": ready, "availableReplicas": ready,
                        "observedGeneration": 1}
    state["replicasets"].sort(key=lambda rs: rs["metadata"]["name"])

    for service in state["services"]:
        service["metadata"].update(namespace=NAMESPACE, uid=f"uid-svc-{DEPLOY}", labels={"app": DEPLOY})
        service["spec"].update(selector={"app": DEPLOY}, clusterIP="10.96.120.15")
        service.update(apiVersion="v1", kind="Service")
    return state


STATES: dict[str, tuple[str, Callable[[], Mapping[str, Sequence[Obj]]]]] = {
    "start_state": ("update", start_state),
    "v2_done": ("verify", v2_done),
    "v10_stall": ("break", v10_stall),
    "rolled_back": ("rollback", rolled_back),
}
"""Each cluster state, with the id of the step the learner is on in it."""


# ---------------------------------------------------------------------------------------------------
# Fakes
# ---------------------------------------------------------------------------------------------------


class FakeBackend:
    """The app's Backend protocol: nothing to start, no environment of its own."""

    name = "practice"
    namespace = NAMESPACE

    def __init__(self) -> None:
        self.storage_error = ""
        """What ``storage_failure`` answers: set it to simulate a cluster whose storage fails."""
        self.storage_asked = 0
        self.ups = 0
        """How often ``up`` was called (Ctrl+R restarts through it)."""
        self.time_scale = 1.0

    def up(self, on_status: object = None) -> None:
        self.ups += 1
        return None

    def storage_failure(self) -> str:
        self.storage_asked += 1
        return self.storage_error

    def after_setup(self) -> None:
        return None

    def env(self) -> dict[str, str]:
        return {}

    def clock(self) -> ClockState | None:
        return None

    def set_clock_paused(self, paused: bool) -> ClockState:
        raise BackendError(Phrase("clock.practice_only", name="fake"))


class FakeWatch:
    """ClusterWatch's interface over a fixed snapshot: synced from the start, never changes by itself.

    ``set_snapshot`` and ``error`` let a test change what the cluster shows; ``notify`` wakes subscribers.
    """

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.changed = asyncio.Event()
        self._subscribers: list[asyncio.Event] = []
        self.error: str | None = None
        """The last error reaching the cluster, None while it answers."""

    @property
    def synced(self) -> bool:
        return True

    def snapshot(self) -> Snapshot:
        return {kind: list(objects) for kind, objects in self._snapshot.items()}

    def set_snapshot(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self.notify()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def wait_synced(self, timeout: float) -> bool:
        return True

    def subscribe(self) -> asyncio.Event:
        event = asyncio.Event()
        self._subscribers.append(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(event)

    def notify(self) -> None:
        self.changed.set()
        for event in self._subscribers:
            event.set()


def _table(rows: Sequence[Sequence[str]]) -> str:
    """Columns as kubectl aligns them: left-aligned, three spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() + "\n"
                   for row in rows)


class FakeSession:
    """``tutor.shell.Session``'s interface with canned output for the lesson's commands; runs nothing.

    The pod and deployment tables are built from the watch's snapshot (without the AGE column, so nothing
    depends on the clock). ``export NODE_PORT=...`` exports the Service's NodePort.
    """

    def __init__(self, watch: FakeWatch, cwd: Path | None = None) -> None:
        self.watch = watch
        self._base: dict[str, str] = {"HOME": "/home/learner", "PATH": "/usr/local/bin:/usr/bin:/bin"}
        self.env: dict[str, str] = dict(self._base)
        self.cwd = cwd or Path("/home/learner")
        self.history: list[str] = []
        self.commands: list[CommandRun] = []
        """Each command with its exit status and output, as ``tutor.lesson.runtime.RecordingSession`` keeps them."""
        self._running = False
        self.cancelled = 0

    @property
    def running(self) -> bool:
        return self._running

    def exported(self) -> dict[str, str]:
        return {name: value for name, value in self.env.items() if self._base.get(name) != value}

    def restore(self, variables: Mapping[str, str], history: Sequence[str] = ()) -> None:
        """``Session.restore``: the variables and history an earlier session left."""
        self.env.update({name: value for name, value in variables.items() if name != "PATH"})
        self.history[:0] = list(history)

    async def run(self, line: str, on_output: Callable[[str], None]) -> int:
        if self._running:
            raise RuntimeError("a command is already running in this session")
        if not line.strip():
            return 0
        self.history.append(line)
        self._running = True
        printed: list[str] = []

        def tee(chunk: str) -> None:
            printed.append(chunk)
            on_output(chunk)

        try:
            await asyncio.sleep(0)  # yield to the loop like a real command would (noqa: sleep-ok)
            code = self._answer(" ".join(line.split()), tee)
            self.commands.append(CommandRun(line, code, "".join(printed)))
            return code
        finally:
            self._running = False

    def _answer(self, line: str, on_output: Callable[[str], None]) -> int:
        snapshot = self.watch.snapshot()
        if line == "kubectl get pods":
            rows = [("NAME", "READY", "STATUS", "RESTARTS")]
            rows += [(p["metadata"]["name"], "{}/{}".format(*pod_ready(p)), pod_status(p), "0")
                     for p in snapshot["pods"]]
            on_output(_table(rows) if len(rows) > 1 else "No resources found in default namespace.\n")
        elif line == "kubectl get deployments":
            rows = [("NAME", "READY", "UP-TO-DATE", "AVAILABLE")]
            for d in snapshot["deployments"]:
                status = d.get("status") or {}
                rows.append((d["metadata"]["name"], f"{status.get('readyReplicas', 0)}/{d['spec']['replicas']}",
                             str(status.get("updatedReplicas", 0)), str(status.get("availableReplicas", 0))))
            on_output(_table(rows))
        elif line.startswith("export NODE_PORT="):
            self.env["NODE_PORT"] = str(NODE_PORT)
        elif line == "echo NODE_PORT=$NODE_PORT":
            on_output(f"NODE_PORT={self.env.get('NODE_PORT', '')}\n")
        elif line == "curl localhost:$NODE_PORT":
            if "NODE_PORT" not in self.env:
                on_output("curl: (3) URL rejected: Port number was not a decimal number between 0 and 65535\n")
                return 3
            on_output(CURL_ANSWER)
        elif line.startswith("kubectl rollout status"):
            on_output(f'deployment "{DEPLOY}" successfully rolled out\n')
        elif line.startswith("kubectl set image"):
            on_output(f"deployment.apps/{DEPLOY} image updated\n")
        elif line.startswith("kubectl rollout undo"):
            on_output(f"deployment.apps/{DEPLOY} rolled back\n")
        else:
            on_output(f"bash: {line.split()[0]}: no canned output in FakeSession\n")
            return 127
        return 0

    def cancel(self) -> None:
        self.cancelled += 1

    async def close(self) -> None:
        return None


class FakeRuntime:
    """What LessonScreen and TutorApp use of ``tutor.lesson.runtime.LessonRuntime``, over a FakeWatch and FakeSession."""

    def __init__(self, lesson: Lesson, snapshot: Snapshot, *, namespace: str = NAMESPACE,
                 cwd: Path | None = None) -> None:
        self.lesson = lesson
        self.namespace = namespace
        self.env: dict[str, str] = {}
        self.watch = FakeWatch(snapshot)
        self.session = FakeSession(self.watch, cwd)
        self.probes: list[str] = []
        self._step_mark = 0
        self._step_earlier: list[str] = []

    def begin_step(self, earlier: Sequence[str] = ()) -> None:
        """As ``LessonRuntime.begin_step``: the step history starts again from ``earlier``."""
        self._step_mark = len(self.session.history)
        self._step_earlier = list(earlier)

    @property
    def step_history(self) -> list[str]:
        ran = self.session.history[self._step_mark:]
        if ran and self.session.running:  # a command counts once it has finished
            ran = ran[:-1]
        return [*self._step_earlier, *ran]

    def saved_runs(self) -> list[dict[str, Any]]:
        return [run.as_cel() for run in self.session.commands]

    def restore_runs(self, runs: list[dict[str, Any]]) -> None:
        self.session.commands = [CommandRun(run["line"], run["exit"], run["output"]) for run in runs]

    async def start(self, sync_timeout: float = 15.0) -> bool:
        await self.watch.start()
        return True

    async def stop(self) -> None:
        await self.watch.stop()
        await self.session.close()

    def context(self) -> dict[str, Any]:
        return build_context(self.watch.snapshot(), variables=self.session.exported(), history=self.session.history,
                             step_history=self.step_history, commands=self.session.commands)

    async def run_probe(self, command: str) -> tuple[int, str]:
        """``curl localhost:$NODE_PORT`` answers v2 once NODE_PORT holds the NodePort; curl's exit 3 before."""
        self.probes.append(command)
        if self.session.env.get("NODE_PORT") == str(NODE_PORT):
            return 0, CURL_ANSWER
        return 3, ""

    async def evaluate(self, step_id: str, checks: Sequence[Check]) -> StepVerdict:
        return await evaluate_checks(step_id, checks, self.context(), self.run_probe)

    async def verdict(self, step: Step) -> StepVerdict:
        return await self.evaluate(step.id, step.checks)

    async def wait_for(self, step_id: str, checks: Sequence[Check], timeout: float,
                       on_verdict: Callable[[StepVerdict], None] | None = None) -> StepVerdict:
        """One evaluation: the fixed snapshot never changes by itself."""
        verdict = await self.evaluate(step_id, checks)
        if on_verdict is not None:
            on_verdict(verdict)
        return verdict

    async def run_setup(self, on_output: Callable[[str], None] | None = None) -> tuple[bool, str]:
        return True, ""


# ---------------------------------------------------------------------------------------------------
# The app
# ---------------------------------------------------------------------------------------------------


def rolling_update_lesson() -> Lesson:
    return load_lesson(find_lesson("rolling-update"))


def write_progress(state: Path, lesson: Lesson, step_id: str, backend: str = FakeBackend.name) -> Progress:
    """Save progress that puts the learner on ``step_id``, every earlier step passed (so setup is skipped)."""
    progress = Progress(Progress.file_for(state, lesson.id, backend), lesson.id, backend)
    for step in lesson.steps[: lesson.index(step_id)]:
        entry = progress.step(step.id)
        entry.started_at = entry.passed_at = CREATED
        entry.conditions = [check.id for check in step.checks]
    progress.current = step_id
    progress.save()
    return progress


def make_app(state_name: str, lang: str, tmp_path: Path) -> TutorApp:
    """A TutorApp that opens on the step of ``state_name`` (a key of :data:`STATES`), on a fake cluster.

    Args:
        state_name: ``start_state``, ``v2_done``, ``v10_stall`` or ``rolled_back``.
        lang: ``ja`` or ``en``.
        tmp_path: the state directory (progress is written under it).
    """
    step_id, state = STATES[state_name]
    lesson = rolling_update_lesson()
    write_progress(tmp_path, lesson, step_id)
    runtime = FakeRuntime(lesson, realize(state()), cwd=tmp_path)
    return TutorApp(lesson, FakeBackend(), tmp_path, lang=lang, cwd=tmp_path, runtime=runtime)  # type: ignore[arg-type]
