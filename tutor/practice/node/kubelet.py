"""Provides the kubelet simulator: sandboxes, image pulls with back-off, containers, logs, termination."""

from __future__ import annotations

import asyncio
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from tutor.kube import duration
from tutor.kube.duration import parse_timestamp
from tutor.practice.apiserver import errors
from tutor.practice.apiserver.store import Obj, WatchEvent, deep_copy
from tutor.practice.context import ControllerContext
from tutor.practice.events import NODE_NAME
from tutor.practice.node import registry, streaming
from tutor.practice.node.containers import Containers
from tutor.practice.node.runtime import ContainerProcess, ContainerRuntime, NoRuntime, RuntimeUnavailable
from tutor.practice.node.staticpods import is_mirror_pod

log = logging.getLogger(__name__)

NODE_IP = "127.0.0.1"
MAX_LOG_LINES = 2000
COMPONENT = "kubelet"

# Simulated seconds (divided by the time scale).
NOTICE_DELAY = 0.05
SANDBOX_DELAY = 0.25
CONTAINER_START_DELAY = 0.3
FAILED_PULL_DELAY = 0.7
RESYNC_AFTER_FAILURE = (1.0, 2.0)
RESYNC_PERIOD = (10.0, 15.0)
BACKOFF_INITIAL = 10.0
BACKOFF_MAX = 300.0
"""The kubelet's back-off for image pulls and for restarting a failed container (``pkg/kubelet/kubelet.go``:
``backOffPeriod`` 10 s, ``MaxContainerBackOff`` 300 s), doubling from one to the next."""
BACKOFF_RESET = 2 * BACKOFF_MAX
"""A container that ran this long starts its back-off over (the back-off's entries expire after 2 x the maximum)."""


def go_duration(seconds: float) -> str:
    """A pull time as the kubelet prints it: ``Duration.Truncate(time.Millisecond)`` (``412ms``, ``2.013s``).

    Upstream: ``pkg/kubelet/images/image_manager.go``; :func:`tutor.kube.duration.go_duration` formats it.
    """
    return duration.go_duration(int(seconds * 1000) * 1_000_000)


def js_date(when: datetime) -> str:
    """How Node's ``console.log`` prints a ``Date``: ``2026-11-26T01:07:46.123Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def already_present(image: str) -> str:
    """The kubelet's ``Pulled`` message for an image on the node (1.35+ wording,
    ``pkg/kubelet/images/image_manager.go``)."""
    return f'Container image "{image}" already present on machine and can be accessed by the pod'


def pod_phase(restart_policy: str, containers: list[Obj], statuses: list[Obj]) -> str:
    """The pod's phase from its containers' states (``pkg/kubelet/kubelet_pods.go`` ``getPhase``)."""
    by_name = {s["name"]: s for s in statuses}
    running = waiting = stopped = succeeded = unknown = 0
    for c in containers:
        s = by_name.get(c["name"])
        state = (s or {}).get("state") or {}
        if s is None:
            unknown += 1
        elif "running" in state:
            running += 1
        elif "terminated" in state:
            stopped += 1
            succeeded += state["terminated"].get("exitCode") == 0
        elif "waiting" in state:
            if ((s.get("lastState") or {}).get("terminated")):
                stopped += 1
            else:
                waiting += 1
        else:
            unknown += 1
    if waiting:
        return "Pending"
    if running and not unknown:
        return "Running"
    if not running and stopped and not unknown:
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        if restart_policy == "Never":
            return "Failed"
        return "Running"
    return "Pending"


Persist = Callable[[str, Any], None]
"""``persist(key, value)``: stage one row of the node's durable state (None removes it)."""


class Kubelet:
    """One node's kubelet: drives every bound pod through its lifecycle and serves logs.

    What it keeps across restarts (pulled images, each pod's log and request count) is written through
    ``persist`` whenever it changes, as rows ``images``, ``logs/<pod uid>`` and ``requests/<pod uid>``.
    """

    def __init__(self, ctx: ControllerContext, persist: Persist, *, directory: Path | None = None,
                 runtime: ContainerRuntime | None = None, ca_pem: Callable[[], bytes] = lambda: b"") -> None:
        self.ctx = ctx
        self.store = ctx.store
        self.clock = ctx.clock
        self._persist = persist
        self.images: set[str] = set(registry.PRELOADED)
        self.logs: dict[str, list[str]] = {}
        self.previous: dict[str, list[str]] = {}
        """The log of each pod's previous (terminated) container, for ``logs --previous``."""
        self.containers = Containers(self.store, directory or Path("."), runtime or NoRuntime(), ca_pem) \
            if directory is not None else None
        self._processes: dict[str, set[ContainerProcess]] = {}
        self.requests: dict[str, int] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._terminating: dict[str, asyncio.Task[None]] = {}
        self._pulls: dict[str, asyncio.Future[None]] = {}
        self._log_waiters: dict[str, asyncio.Event] = {}
        self._ips: set[str] = set()
        self._next_ip = 2
        self.store.add_listener(self._on_event)

    # ---- state kept across restarts --------------------------------------------------------------
    def restore(self, rows: dict[str, Any]) -> None:
        """Take back the rows written through ``persist`` before a restart."""
        self.images = set(rows.get("images", ())) | set(registry.PRELOADED)
        self.logs = {k.removeprefix("logs/"): list(v) for k, v in rows.items() if k.startswith("logs/")}
        self.previous = {k.removeprefix("previous/"): list(v) for k, v in rows.items() if k.startswith("previous/")}
        self.requests = {k.removeprefix("requests/"): int(v) for k, v in rows.items() if k.startswith("requests/")}

    @staticmethod
    def rows_of_snapshot(snapshot: dict[str, Any]) -> dict[str, Any]:
        """The rows of the kubelet's part of a previous version's ``state.json`` (imported once)."""
        rows: dict[str, Any] = {"images": sorted(snapshot.get("images") or registry.PRELOADED)}
        rows.update({f"logs/{uid}": list(lines) for uid, lines in (snapshot.get("logs") or {}).items()})
        rows.update({f"requests/{uid}": int(n) for uid, n in (snapshot.get("requests") or {}).items()})
        return rows

    def resume(self) -> None:
        """After a restart: pick every bound pod up where it was."""
        for pod in self.store.list("pods"):
            ip = (pod.get("status") or {}).get("podIP")
            if ip:
                self._ips.add(ip)
        for pod in self.store.list("pods"):
            if pod["spec"].get("nodeName") != NODE_NAME or is_mirror_pod(pod):
                continue
            if pod["metadata"].get("deletionTimestamp"):
                self._start_termination(pod)
            elif not self._all_running(pod) and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed"):
                self._start(pod)

    # ---- events --------------------------------------------------------------------------------
    def _on_event(self, event: WatchEvent) -> None:
        if event.resource.plural != "pods":
            return
        pod = event.obj
        uid = pod["metadata"]["uid"]
        if event.type == "DELETED":
            for tasks in (self._tasks, self._terminating):
                task = tasks.pop(uid, None)
                if task is not None:
                    task.cancel()
            if self.logs.pop(uid, None) is not None:
                self._persist(f"logs/{uid}", None)
            if self.previous.pop(uid, None) is not None:
                self._persist(f"previous/{uid}", None)
            for process in self._processes.pop(uid, set()):
                process.kill()
            if self.containers is not None:
                self.containers.remove(uid)
            if self.requests.pop(uid, None) is not None:
                self._persist(f"requests/{uid}", None)
            self._ips.discard((pod.get("status") or {}).get("podIP", ""))
            waiter = self._log_waiters.pop(uid, None)
            if waiter:
                waiter.set()
            return
        if pod["spec"].get("nodeName") != NODE_NAME or is_mirror_pod(pod):
            return  # a mirror pod only reflects a static pod (node/staticpods.py keeps it)
        if pod["metadata"].get("deletionTimestamp"):
            shortened = event.old is not None and uid in self._terminating and (
                event.old["metadata"].get("deletionTimestamp") != pod["metadata"]["deletionTimestamp"])
            if shortened:
                self._terminating.pop(uid).cancel()
            if uid not in self._terminating:
                self._start_termination(pod)
        elif uid not in self._tasks and not (pod.get("status") or {}).get("containerStatuses"):
            self._start(pod)

    def _start(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        self._tasks[uid] = asyncio.get_running_loop().create_task(self._run(pod["metadata"]["namespace"],
                                                                            pod["metadata"]["name"], uid))

    def _start_termination(self, pod: Obj) -> None:
        uid = pod["metadata"]["uid"]
        task = self._tasks.pop(uid, None)
        if task is not None:
            task.cancel()
        self._terminating[uid] = asyncio.get_running_loop().create_task(
            self._terminate(pod["metadata"]["namespace"], pod["metadata"]["name"], uid))

    # ---- helpers -------------------------------------------------------------------------------
    def _pod(self, namespace: str, name: str, uid: str) -> Obj | None:
        pod = self.store.get("pods", namespace, name)
        if pod is None or pod["metadata"]["uid"] != uid:
            return None
        return pod

    def _event(self, pod: Obj, type_: str, reason: str, message: str, container: str | None = None) -> None:
        field_path = f"spec.containers{{{container}}}" if container else ""
        self.ctx.recorder.record(pod, type_, reason, message, component=COMPONENT, field_path=field_path,
                                 host=NODE_NAME)

    def _allocate_ip(self) -> str:
        for _ in range(65_000):
            n = self._next_ip
            self._next_ip = 2 if self._next_ip >= 64_000 else self._next_ip + 1
            ip = f"10.244.{n // 250}.{n % 250 + 2}"
            if ip not in self._ips:
                self._ips.add(ip)
                return ip
        raise RuntimeError("pod IP range exhausted")

    @staticmethod
    def _all_running(pod: Obj) -> bool:
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        return bool(statuses) and all("running" in (s.get("state") or {}) for s in statuses)

    def _write_status(self, namespace: str, name: str, uid: str, state: dict[str, Obj], *,
                      pod_ip: str | None = None, sandbox_ready: bool | None = None) -> Obj | None:
        pod = self._pod(namespace, name, uid)
        if pod is None:
            return None
        new = deep_copy(pod)
        status = new.setdefault("status", {})
        now = self.clock.timestamp()
        containers = pod["spec"].get("containers") or []
        statuses = []
        for c in containers:
            cs = state.get(c["name"])
            if cs is None:
                continue
            statuses.append(cs)
        if statuses:
            status["containerStatuses"] = statuses
        if pod_ip:
            status["podIP"] = pod_ip
            status["podIPs"] = [{"ip": pod_ip}]
        status["hostIP"] = NODE_IP
        status["hostIPs"] = [{"ip": NODE_IP}]
        status.setdefault("startTime", now)
        status.setdefault("qosClass", "BestEffort")
        all_ready = bool(statuses) and len(statuses) == len(containers) and all(s.get("ready") for s in statuses)
        if status.get("phase") not in ("Succeeded", "Failed"):
            status["phase"] = pod_phase(pod["spec"].get("restartPolicy") or "Always", containers, statuses)
        not_ready = [s["name"] for s in statuses if not s.get("ready")] or [c["name"] for c in containers]
        conds = {c["type"]: c for c in status.get("conditions") or []}

        def cond(type_: str, ok: bool, reason: str | None = None, message: str | None = None) -> None:
            old = conds.get(type_)
            value = "True" if ok else "False"
            entry: Obj = {"type": type_, "status": value, "lastProbeTime": None,
                          "lastTransitionTime": old["lastTransitionTime"] if old and old["status"] == value else now}
            if reason and not ok:
                entry["reason"] = reason
            if message and not ok:
                entry["message"] = message
            conds[type_] = entry

        if sandbox_ready is not None or "PodReadyToStartContainers" not in conds:
            cond("PodReadyToStartContainers", bool(sandbox_ready) or pod_ip is not None or bool(
                (pod.get("status") or {}).get("podIP")))
        cond("Initialized", True)
        missing = f"containers with unready status: [{' '.join(not_ready)}]"
        completed = status["phase"] in ("Succeeded", "Failed")
        cond("Ready", all_ready, "PodCompleted" if completed else "ContainersNotReady", None if completed else missing)
        cond("ContainersReady", all_ready, "PodCompleted" if completed else "ContainersNotReady",
             None if completed else missing)
        if "PodScheduled" not in conds:
            cond("PodScheduled", True)
        order = ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"]
        status["conditions"] = [conds[t] for t in order if t in conds]
        return self.store.update("pods", new, status_only=True)

    @staticmethod
    def _terminated_pod_ok(statuses: list[Obj]) -> bool:
        return all(((s.get("state") or {}).get("terminated") or {}).get("exitCode") == 0 for s in statuses)

    @staticmethod
    def _waiting(c: Obj, reason: str, message: str | None = None) -> Obj:
        waiting: Obj = {"reason": reason}
        if message:
            waiting["message"] = message
        return {"name": c["name"], "image": c.get("image", ""), "imageID": "", "ready": False, "restartCount": 0,
                "started": False, "state": {"waiting": waiting}, "lastState": {}}

    # ---- lifecycle -----------------------------------------------------------------------------
    async def _run(self, namespace: str, name: str, uid: str) -> None:
        try:
            await self._lifecycle(namespace, name, uid)
        except asyncio.CancelledError:
            raise
        except errors.ApiError:
            pass  # the pod went away underneath us
        except Exception:  # noqa: BLE001
            log.exception("kubelet: pod %s/%s failed", namespace, name)
        finally:
            if self._tasks.get(uid) is asyncio.current_task():
                del self._tasks[uid]

    async def _lifecycle(self, namespace: str, name: str, uid: str) -> None:
        await self.clock.sleep(NOTICE_DELAY)
        pod = self._pod(namespace, name, uid)
        if pod is None:
            return
        containers = pod["spec"].get("containers") or []
        state = {c["name"]: self._waiting(c, "ContainerCreating") for c in containers}
        pod_ip = (pod.get("status") or {}).get("podIP")
        self._write_status(namespace, name, uid, state, sandbox_ready=False)
        await self.clock.sleep(SANDBOX_DELAY)
        pod_ip = pod_ip or (NODE_IP if pod["spec"].get("hostNetwork") else self._allocate_ip())
        if self._write_status(namespace, name, uid, state, pod_ip=pod_ip, sandbox_ready=True) is None:
            return
        await asyncio.gather(*(self._container(namespace, name, uid, c, state) for c in containers))

    async def _container(self, namespace: str, name: str, uid: str, c: Obj, state: dict[str, Obj]) -> None:
        image = c.get("image", "")
        backoff = 0.0
        last_attempt: float | None = None  # on the clock's simulated time (stands still while paused)
        last_error = ""
        while True:
            pod = self._pod(namespace, name, uid)
            if pod is None:
                return
            policy = c.get("imagePullPolicy", "IfNotPresent")
            ref = registry.normalize(image)
            present = ref in self.images
            if present and policy != "Always":
                self._event(pod, "Normal", "Pulled", already_present(image), c["name"])
                break
            if policy == "Never":
                message = f'Container image "{image}" is not present with pull policy of Never'
                self._event(pod, "Warning", "ErrImageNeverPull", message, c["name"])
                state[c["name"]] = self._waiting(c, "ErrImageNeverPull", message)
                self._write_status(namespace, name, uid, state)
                return
            in_backoff = last_attempt is not None and self.clock.elapsed() - last_attempt < backoff
            if in_backoff:
                self._event(pod, "Normal", "BackOff", f'Back-off pulling image "{image}"', c["name"])
                self._event(pod, "Warning", "Failed", "Error: ImagePullBackOff", c["name"])
                state[c["name"]] = self._waiting(
                    c, "ImagePullBackOff", f'Back-off pulling image "{image}": ErrImagePull: {last_error}')
                self._write_status(namespace, name, uid, state)
                await self.clock.sleep(random.uniform(*RESYNC_PERIOD))
                continue
            self._event(pod, "Normal", "Pulling", f'Pulling image "{image}"', c["name"])
            started = self.clock.elapsed()
            ok = await self._pull(image)
            pod = self._pod(namespace, name, uid)
            if pod is None:
                return
            if ok:
                took = self.clock.elapsed() - started
                pulled = registry.lookup(image)
                size = pulled.size if pulled else 0
                self._event(pod, "Normal", "Pulled",
                            f'Successfully pulled image "{image}" in {go_duration(took)} '
                            f"({go_duration(took)} including waiting). Image size: {size} bytes.", c["name"])
                break
            last_error = registry.pull_error(image)
            last_attempt = self.clock.elapsed()
            backoff = BACKOFF_INITIAL if backoff == 0 else min(backoff * 2, BACKOFF_MAX)
            self._event(pod, "Warning", "Failed", f'Failed to pull image "{image}": {last_error}', c["name"])
            self._event(pod, "Warning", "Failed", "Error: ErrImagePull", c["name"])
            state[c["name"]] = self._waiting(c, "ErrImagePull", last_error)
            self._write_status(namespace, name, uid, state)
            await self.clock.sleep(random.uniform(*RESYNC_AFTER_FAILURE))
        await self._run_container(namespace, name, uid, c, state)

    async def _run_container(self, namespace: str, name: str, uid: str, c: Obj, state: dict[str, Obj]) -> None:
        """Create and start the container, and for a command of its own, restart it as its pod's restart policy
        and the kubelet's back-off say (``pkg/kubelet/kuberuntime/kuberuntime_manager.go``)."""
        image = c.get("image", "")
        found = registry.lookup(image)
        simulated = found is None or registry.runs_app(found, c.get("command"), c.get("args"))
        restarts = 0
        backoff = 0.0
        last: Obj = {}
        while True:
            await self.clock.sleep(CONTAINER_START_DELAY)
            pod = self._pod(namespace, name, uid)
            if pod is None:
                return
            container_id = "containerd://" + secrets.token_hex(32)
            image_id = f"{found.repository}@{found.digest}" if found else ""
            self._event(pod, "Normal", "Created", "Container created", c["name"])
            if self.containers is not None:
                self.containers.started(pod, c["name"])
            if simulated:
                self._event(pod, "Normal", "Started", "Container started", c["name"])
                now = self.clock.now()
                state[c["name"]] = {
                    "name": c["name"], "image": image, "imageID": image_id, "containerID": container_id,
                    "ready": True, "restartCount": restarts, "started": True,
                    "state": {"running": {"startedAt": self.clock.timestamp(now)}}, "lastState": last,
                }
                if found is not None:
                    ms = js_date(now)
                    # server.js: console.log("Kubernetes Bootcamp App Started At:", startTime, "| Running On: ", host, "\n")
                    self._append_log(uid, f"Kubernetes Bootcamp App Started At: {ms} | Running On:  {name} ")
                    self._append_log(uid, "")
                self._write_status(namespace, name, uid, state)
                return
            assert found is not None
            argv = [*(c.get("command") or []), *(c.get("args") or [])] if c.get("command") or c.get("args") \
                else list(found.filesystem.cmd)
            if restarts:
                self._rotate_log(uid)
            started = self.clock.now()
            code, reason, message = await self._run_process(pod, c, argv, state, container_id, image_id, restarts,
                                                            last, started)
            finished = self.clock.now()
            terminated: Obj = {"exitCode": code, "reason": reason, "startedAt": self.clock.timestamp(started),
                               "finishedAt": self.clock.timestamp(finished), "containerID": container_id}
            if message:
                terminated["message"] = message
            pod = self._pod(namespace, name, uid)
            if pod is None:
                return
            policy = pod["spec"].get("restartPolicy") or "Always"
            state[c["name"]] = {"name": c["name"], "image": image, "imageID": image_id, "containerID": container_id,
                                "ready": False, "restartCount": restarts, "started": False,
                                "state": {"terminated": terminated}, "lastState": last}
            self._write_status(namespace, name, uid, state)
            if policy == "Never" or (policy == "OnFailure" and code == 0):
                return
            if self.clock.elapsed_since(started, finished) >= BACKOFF_RESET:
                backoff = 0.0
            last = {"terminated": terminated}
            if backoff:
                pod = self._pod(namespace, name, uid)
                if pod is None:
                    return
                self._event(pod, "Warning", "BackOff", f"Back-off restarting failed container {c['name']} in pod "
                                                       f"{name}_{namespace}({uid})", c["name"])
                state[c["name"]] = {
                    "name": c["name"], "image": image, "imageID": image_id, "containerID": container_id,
                    "ready": False, "restartCount": restarts, "started": False,
                    "state": {"waiting": {"reason": "CrashLoopBackOff", "message":
                                          f"back-off {duration.go_duration(int(backoff) * 1_000_000_000)} restarting "
                                          f"failed container={c['name']} pod={name}_{namespace}({uid})"}},
                    "lastState": last}
                self._write_status(namespace, name, uid, state)
                await self.clock.sleep(backoff)
                pod = self._pod(namespace, name, uid)
                if pod is None:
                    return
                self._event(pod, "Normal", "Pulled", already_present(image), c["name"])
            backoff = BACKOFF_INITIAL if not backoff else min(backoff * 2, BACKOFF_MAX)
            restarts += 1

    async def _run_process(self, pod: Obj, c: Obj, argv: list[str], state: dict[str, Obj], container_id: str,
                           image_id: str, restarts: int, last: Obj, started: datetime) -> tuple[int, str, str]:
        """Run a container's own command through the runtime, its output going to the container's log.

        Returns:
            the exit code, the terminated reason (``Completed``, ``Error``, ``StartError``) and its message.
        """
        namespace, name, uid = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"]
        if self.containers is None:
            error = RuntimeUnavailable("failed to create containerd task: this practice cluster has no container "
                                       "runtime, so it cannot start processes")
            process = None
        else:
            try:
                process = await self.containers.start(pod, c, argv, tty=bool(c.get("tty")), stdin=False,
                                                      exec_=False)
            except RuntimeUnavailable as failed:
                error, process = failed, None
        if process is None:
            message = str(error)
            self._event(pod, "Warning", "Failed", f"Error: {message}", c["name"])
            return 128, "StartError", message
        self._processes.setdefault(uid, set()).add(process)
        try:
            self._event(pod, "Normal", "Started", "Container started", c["name"])
            state[c["name"]] = {"name": c["name"], "image": c.get("image", ""), "imageID": image_id,
                                "containerID": container_id, "ready": True, "restartCount": restarts,
                                "started": True, "state": {"running": {"startedAt": self.clock.timestamp(started)}},
                                "lastState": last}
            self._write_status(namespace, name, uid, state)
            pumps = [asyncio.ensure_future(self._log_output(uid, process.read_stdout)),
                     asyncio.ensure_future(self._log_output(uid, process.read_stderr))]
            code = await process.wait()
            await asyncio.wait(pumps, timeout=streaming.OUTPUT_GRACE)
            for pump in pumps:
                pump.cancel()
        except BaseException:
            process.kill()
            raise
        finally:
            self._processes.get(uid, set()).discard(process)
        return code, "Completed" if code == 0 else "Error", ""

    async def _log_output(self, uid: str, read: Callable[[], Any]) -> None:
        pending = b""
        while True:
            data = await read()
            if not data:
                if pending:
                    self._append_log(uid, pending.decode("utf-8", "replace"))
                return
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                self._append_log(uid, line.decode("utf-8", "replace"))

    def _rotate_log(self, uid: str) -> None:
        """A new container of the pod: the log so far becomes the previous container's."""
        self.previous[uid] = self.logs.pop(uid, [])
        self._persist(f"previous/{uid}", self.previous[uid])
        self._persist(f"logs/{uid}", None)

    async def _pull(self, image: str) -> bool:
        """Pull one image; concurrent pulls of the same image share one download (serialised pulls)."""
        found = registry.lookup(image)
        ref = registry.normalize(image)
        if found is None:
            await self.clock.sleep(FAILED_PULL_DELAY * random.uniform(0.8, 1.2))
            return False
        if ref in self.images:
            await self.clock.sleep(0.3)
            return True
        pending = self._pulls.get(ref)
        if pending is None:
            pending = asyncio.get_running_loop().create_future()
            self._pulls[ref] = pending

            async def download() -> None:
                await self.clock.sleep(found.pull_seconds)
                self.images.add(ref)
                self._persist("images", sorted(self.images))
                self._pulls.pop(ref, None)
                if not pending.done():
                    pending.set_result(None)

            asyncio.get_running_loop().create_task(download())
        await asyncio.shield(pending)
        return True

    async def _terminate(self, namespace: str, name: str, uid: str) -> None:
        try:
            await self.clock.running()  # a pod deleted while the clock is paused starts stopping on resume
            pod = self._pod(namespace, name, uid)
            if pod is None:
                return
            statuses = (pod.get("status") or {}).get("containerStatuses") or []
            running = [s for s in statuses if "running" in (s.get("state") or {})]
            deadline = parse_timestamp(pod["metadata"].get("deletionTimestamp"))
            if running:
                for s in running:
                    self._event(pod, "Normal", "Killing", f"Stopping container {s['name']}", s["name"])
                # The bootcamp app ignores SIGTERM: it runs until SIGKILL at the end of the grace period.
                grace = float(pod["metadata"].get("deletionGracePeriodSeconds", 30))
                remaining = grace
                if deadline is not None:
                    # deletionTimestamp is cut to whole seconds: it may end up to 1 s early. The grace period
                    # began real(grace) before it; time the clock stood still since does not count.
                    began = deadline - timedelta(seconds=self.clock.real(grace))
                    remaining = grace - self.clock.elapsed_since(began) + self.clock.time_scale
                await self.clock.sleep(max(0.0, min(remaining, grace)))
            else:
                await self.clock.sleep(0.1)
            pod = self._pod(namespace, name, uid)
            if pod is None:
                return
            if pod["metadata"].get("finalizers"):
                new = deep_copy(pod)
                status = new.setdefault("status", {})
                status["phase"] = "Failed" if running else "Succeeded"
                for s in status.get("containerStatuses") or []:
                    if "running" in s.get("state", {}):
                        s["state"] = {"terminated": {"exitCode": 137, "reason": "Error",
                                                     "startedAt": s["state"]["running"].get("startedAt"),
                                                     "finishedAt": self.clock.timestamp()}}
                        s["ready"] = False
                self.store.update("pods", new, status_only=True)
                return
            self.store.remove("pods", namespace, name)
        finally:
            if self._terminating.get(uid) is asyncio.current_task():
                del self._terminating[uid]

    # ---- logs and the app ----------------------------------------------------------------------
    def _append_log(self, uid: str, line: str) -> None:
        lines = self.logs.setdefault(uid, [])
        lines.append(f"{self.clock.micro_timestamp()} {line}")
        if len(lines) > MAX_LOG_LINES:
            del lines[: len(lines) - MAX_LOG_LINES]
        waiter = self._log_waiters.pop(uid, None)
        if waiter:
            waiter.set()
        self._persist(f"logs/{uid}", lines)

    def serve_app(self, pod: Obj) -> str | None:
        """Answer one HTTP request as the bootcamp app in ``pod``; None if the pod runs no bootcamp app."""
        containers = pod["spec"].get("containers") or []
        statuses = {s["name"]: s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        for c in containers:
            found = registry.lookup(c.get("image", ""))
            if found is None or "running" not in (statuses.get(c["name"], {}).get("state") or {}):
                continue
            uid = pod["metadata"]["uid"]
            count = self.requests.get(uid, 0) + 1
            self.requests[uid] = count
            self._persist(f"requests/{uid}", count)
            started = parse_timestamp(statuses[c["name"]]["state"]["running"].get("startedAt"))
            uptime = (self.clock.now() - started).total_seconds() if started else 0.0
            name = pod["metadata"]["name"]
            # console.log("Running On:", host, "| Total Requests:", n, "| App Uptime:", s, "seconds", "| Log Time:", new Date())
            self._append_log(uid, f"Running On: {name} | Total Requests: {count} | App Uptime: {round(uptime, 3)!r} "
                                  f"seconds | Log Time: {js_date(self.clock.now())}")
            return f"Hello Kubernetes bootcamp! | Running on: {name} | v={found.app_version}\n"
        return None

    async def log_response(self, request: web.Request, namespace: str, name: str,
                           query: dict[str, str]) -> web.StreamResponse:
        pod = self.store.must_get("pods", namespace, name)
        containers = [c["name"] for c in pod["spec"].get("containers") or []]
        container = query.get("container")
        if not container:
            if len(containers) != 1:
                raise errors.BadRequest(f"a container name must be specified for pod {name}, choose one of: "
                                        f"[{' '.join(containers)}]")
            container = containers[0]
        if container not in containers:
            raise errors.BadRequest(f"container {container} is not valid for pod {name}")
        statuses = {s["name"]: s for s in (pod.get("status") or {}).get("containerStatuses") or []}
        cstate = (statuses.get(container) or {}).get("state") or {}
        last = ((statuses.get(container) or {}).get("lastState") or {}).get("terminated") or {}
        uid = pod["metadata"]["uid"]
        # pkg/kubelet/kubelet_pods.go validateContainerLogStatus: --previous needs a terminated earlier container;
        # a container waiting to restart shows its last run's log.
        options = _log_options(name, query, self.clock.now())
        if query.get("previous") == "true":
            if not last.get("containerID"):
                raise errors.BadRequest(f'previous terminated container "{container}" in pod "{name}" not found')
            return self._log_lines(list(self.previous.get(uid, [])), options)
        if "waiting" in cstate and last.get("containerID"):
            return self._log_lines(list(self.logs.get(uid, [])), options)
        if "waiting" in cstate or not cstate:
            reason = (cstate.get("waiting") or {}).get("reason", "ContainerCreating")
            detail = "trying and failing to pull image" if reason in ("ImagePullBackOff", "ErrImagePull") else reason
            raise errors.BadRequest(f'container "{container}" in pod "{name}" is waiting to start: {detail}')
        lines = _select_lines(list(self.logs.get(uid, [])), options)
        budget = _LogBudget(options.limit_bytes)
        if query.get("follow") != "true":
            return web.Response(body=budget.take("".join(_format_line(line, options) for line in lines).encode()),
                                content_type="text/plain", charset="utf-8")
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})  # chunked unless HTTP/1.0
        await response.prepare(request)
        sent = len(self.logs.get(uid, []))
        await response.write(budget.take("".join(_format_line(line, options) for line in lines).encode()))
        try:
            while self._pod(namespace, name, uid) is not None and not budget.spent:
                waiter = self._log_waiters.setdefault(uid, asyncio.Event())
                await waiter.wait()
                current = self.logs.get(uid, [])
                new_lines = current[sent:] if len(current) >= sent else current
                sent = len(current)
                chunk = "".join(_format_line(line, options) for line in new_lines
                                if _since_ok(line, options.since))
                if chunk:
                    await response.write(budget.take(chunk.encode()))
        except (ConnectionResetError, ConnectionError):
            pass
        return response

    @staticmethod
    def _log_lines(lines: list[str], options: LogOptions) -> web.Response:
        """A container log that is not followed (a previous container's, or one waiting to restart)."""
        body = "".join(_format_line(line, options) for line in _select_lines(lines, options)).encode()
        return web.Response(body=_LogBudget(options.limit_bytes).take(body), content_type="text/plain",
                            charset="utf-8")

    # ---- exec and attach -----------------------------------------------------------------------
    async def stream_response(self, request: web.Request, sub: str, namespace: str, name: str) -> web.StreamResponse:
        """``pods/exec`` and ``pods/attach`` (:mod:`tutor.practice.node.streaming`)."""
        pod = self.store.must_get("pods", namespace, name)
        query = request.query
        flags = {k: query.get(k, "") in ("true", "1") for k in ("stdin", "stdout", "stderr", "tty")}
        if not (flags["stdin"] or flags["stdout"] or flags["stderr"]):
            raise errors.BadRequest("you must specify at least 1 of stdin, stdout, stderr")
        container = streaming.choose_container(pod, query.get("container", ""))
        if not streaming.running(pod, container["name"]):
            return web.Response(status=500, text=f'container not found ("{container["name"]}")',
                                content_type="text/plain")
        if sub == "attach":
            return await streaming.serve_attach(request, self._follower(pod))
        argv = query.getall("command", [])
        if not argv:
            raise errors.BadRequest("you must specify at least one command for the container")
        return await streaming.serve_exec(request, pod, container, list(argv), tty=flags["tty"], stdin=flags["stdin"],
                                          stdout=flags["stdout"], stderr=flags["stderr"], start=self._exec)

    async def _exec(self, pod: Obj, c: Obj, argv: list[str], tty: bool, stdin: bool) -> ContainerProcess:
        if self.containers is None:
            raise RuntimeUnavailable("failed to exec in container: this practice cluster has no container runtime, "
                                     "so it cannot start processes")
        process = await self.containers.start(pod, c, argv, tty=tty, stdin=stdin)
        uid = pod["metadata"]["uid"]
        processes = self._processes.setdefault(uid, set())
        processes.add(process)

        async def forget() -> None:
            try:
                await process.wait()
            finally:
                processes.discard(process)

        asyncio.get_running_loop().create_task(forget())
        return process

    def _follower(self, pod: Obj) -> Callable[[], Any]:
        """The container's new output, line by line as its log gets it (``b""`` once the pod is gone)."""
        namespace, name, uid = pod["metadata"]["namespace"], pod["metadata"]["name"], pod["metadata"]["uid"]
        sent = len(self.logs.get(uid, []))

        async def follow() -> bytes:
            nonlocal sent
            while self._pod(namespace, name, uid) is not None:
                current = self.logs.get(uid, [])
                if len(current) < sent:
                    sent = 0
                if len(current) > sent:
                    new, sent = current[sent:], len(current)
                    return "".join(f"{e.partition(' ')[2]}\n" for e in new).encode()
                await self._log_waiters.setdefault(uid, asyncio.Event()).wait()
            return b""

        return follow

    def close(self) -> None:
        for task in [*self._tasks.values(), *self._terminating.values()]:
            task.cancel()
        for processes in self._processes.values():
            for process in processes:
                process.kill()


# ---- the kubelet's log reader (pkg/kubelet/kuberuntime/logs/logs.go) ----------------------------------------
@dataclass(frozen=True)
class LogOptions:
    """``logs.LogOptions`` from ``PodLogOptions``: what ``ReadLogs`` needs."""

    tail: int | None
    since: datetime | None
    limit_bytes: int | None
    timestamps: bool


def _log_options(name: str, query: dict[str, str], now: datetime) -> LogOptions:
    """``PodLogOptions`` checked as the apiserver does (``ValidatePodLogOptions``,
    ``pkg/apis/core/validation/validation.go``), then ``NewLogOptions``: ``sinceSeconds`` counts back from now.

    Raises:
        errors.Invalid: ``PodLogOptions "<pod>" is invalid: ...``.
    """
    def number(key: str) -> int | None:
        text = query.get(key)
        return int(text) if text not in (None, "") else None  # integers checked by the API server

    tail, limit, since_seconds = number("tailLines"), number("limitBytes"), number("sinceSeconds")
    since_time = query.get("sinceTime") or None
    causes: list[tuple[str, str]] = []
    if tail is not None and tail < 0:
        causes.append(("tailLines", f"Invalid value: {tail}: must be greater than or equal to 0"))
    if limit is not None and limit < 1:
        causes.append(("limitBytes", f"Invalid value: {limit}: must be greater than 0"))
    if since_seconds is not None and since_time is not None:
        causes.append(("", "Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"))
    elif since_seconds is not None and since_seconds < 1:
        causes.append(("sinceSeconds", f"Invalid value: {since_seconds}: must be greater than 0"))
    since: datetime | None = None
    if since_time is not None and not causes:
        since = parse_timestamp(since_time)
        if since is None:
            raise errors.BadRequest(f'parsing time "{since_time}" as "2006-01-02T15:04:05Z07:00": cannot parse '
                                    f'"{since_time}" as "2006"')
    if causes:
        raise errors.invalid("PodLogOptions", "", name, causes)
    if since_seconds is not None:
        try:
            since = now - timedelta(seconds=since_seconds)
        except OverflowError:
            since = None  # before any log line (Go's time.Duration would wrap; no line is that old either way)
    return LogOptions(tail, since, limit, query.get("timestamps") == "true")


def _entry_time(entry: str) -> datetime | None:
    return parse_timestamp(entry.partition(" ")[0])


def _since_ok(entry: str, since: datetime | None) -> bool:
    """``ReadLogs`` skips a line written before ``since``."""
    if since is None:
        return True
    when = _entry_time(entry)
    return when is None or when >= since


def _select_lines(lines: list[str], options: LogOptions) -> list[str]:
    """The last ``tail`` lines (``tail.FindTailLineStartIndex``), then those not before ``since``."""
    if options.tail is not None:
        lines = lines[-options.tail:] if options.tail else []
    return [line for line in lines if _since_ok(line, options.since)]


def _format_line(entry: str, options: LogOptions) -> str:
    """One line as written out: with ``timestamps``, prefixed by its time in ``time.RFC3339Nano``."""
    stamp, _, text = entry.partition(" ")
    if not options.timestamps:
        return f"{text}\n"
    whole, dot, fraction = stamp.removesuffix("Z").partition(".")
    fraction = fraction.rstrip("0")  # RFC3339Nano drops trailing zeros (and the dot with them)
    return f"{whole}{'.' + fraction if dot and fraction else ''}Z {text}\n"


class _LogBudget:
    """``LimitedWriter``: at most ``limitBytes`` bytes, cut wherever they end (even within a line)."""

    def __init__(self, limit: int | None) -> None:
        self.left = limit

    @property
    def spent(self) -> bool:
        return self.left is not None and self.left <= 0

    def take(self, data: bytes) -> bytes:
        if self.left is None:
            return data
        data = data[:max(self.left, 0)]
        self.left -= len(data)
        return data
