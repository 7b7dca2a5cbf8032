"""Provides the practice backend: starts, finds and stops the embedded practice cluster's process.

Liveness and readiness are told apart as kube-apiserver does. The cluster *runs* while its process answers
``/livez``. Whether it *saves* what kubectl changes is ``/readyz/etcd``: 200 ``ok``, or 500 with
``internal server error: <reason>`` once a commit to ``state.db`` failed (kube-apiserver's healthz
``adaptCheckToHandler``, staging/src/k8s.io/apiserver/pkg/server/healthz/healthz.go). A cluster whose storage
fails still runs: it is reported, never replaced. A busy one (its event loop blocked for seconds) gets
:data:`LIVE_TIMEOUT` per request and :data:`HUNG_AFTER` in all before :meth:`PracticeBackend.up` replaces it,
saying so.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor import paths, shell
from tutor.backends.base import BackendError, ClockState, ClusterStatus, OwnKubeconfig, Stopped
from tutor.text import Phrase

START_TIMEOUT = 20.0
"""Seconds a new server process gets to answer ``/livez``."""
STOP_TIMEOUT = 15.0
LIVE_TIMEOUT = 5.0
"""Seconds one ``/livez`` or ``/readyz/etcd`` request may take."""
HUNG_AFTER = 30.0
"""Seconds ``up`` keeps asking a running server's ``/livez`` before it replaces the process as hung."""
POLL = 0.02
RETRY = 0.25
"""Pause between two ``/livez`` requests that failed at once (connection refused)."""
ANSWER_LIMIT = 64 * 1024
"""Bytes read of a health answer."""
SERVER_FILE = "server.json"
DEFAULT_MAX_PODS = 110
"""The pods a practice node has room for unless started with ``--max-pods`` (the kubelet's default, which the
practice cluster keeps: ``tutor.practice.cluster.MAX_PODS``; a backend does not import the practice cluster)."""
CLOCK_PATH = "/kube-tutor/clock"
"""The practice cluster's clock endpoint (``tutor.practice.apiserver.server.CLOCK_PATH``; the tutor does not
import the practice cluster)."""
_TIMESTAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)")


class PracticeBackend(OwnKubeconfig):
    """The practice cluster as a background process owning ``<state>/practice``."""

    name = "practice"
    namespace = "default"

    def __init__(self, state: Path, *, time_scale: float | None = None, sandbox: bool = False,
                 max_pods: int | None = None) -> None:
        self.state = state
        self.max_pods = max_pods
        """The node's room for pods asked for (a workshop's, sized by its seats); None: whatever runs, else the
        kubelet's 110. :meth:`up` restarts a running cluster with another."""
        self.sandbox = sandbox
        """A workshop's cluster: container processes (``kubectl exec``) run in bubblewrap (``--sandbox`` of
        :mod:`tutor.practice_server`); :meth:`up` restarts a running cluster that does not."""
        self.directory = paths.practice_dir(state)
        env_scale = os.environ.get("KUBE_TUTOR_TIME_SCALE")
        self.requested_scale: float | None = time_scale if time_scale is not None else (
            float(env_scale) if env_scale else None)
        """The time scale asked for (``--time-scale``, ``KUBE_TUTOR_TIME_SCALE``); None: whatever runs, else 1."""
        self.time_scale = self.requested_scale or 1.0
        """The time scale of the cluster: the one asked for, or, once :meth:`up` found one running, its own."""
        self.live_timeout = LIVE_TIMEOUT
        self.hung_after = HUNG_AFTER

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def log_path(self) -> Path:
        return self.directory / "cluster.log"

    # ---- the server process ------------------------------------------------------------------------------------
    def _server_info(self) -> dict[str, Any] | None:
        try:
            info = json.loads((self.directory / SERVER_FILE).read_text(encoding="utf-8"))
            int(info["pid"]), int(info["port"])
        except (OSError, ValueError, TypeError, KeyError):
            return None
        return info if isinstance(info, dict) else None

    def _server_pid(self, info: dict[str, Any] | None) -> int:
        """The pid ``server.json`` names when that process is alive and serves this directory; else 0."""
        if info is None:
            return 0
        pid = int(info["pid"])
        if not shell.pid_alive(pid) or not self._serves_here(pid):
            return 0
        return pid

    def _serves_here(self, pid: int) -> bool:
        """False when /proc shows that the pid now belongs to another program (reused after a reboot): the
        server's command line names this directory (an empty one is a zombie's or a kernel thread's)."""
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:
            return not Path("/proc/self").exists()  # no /proc (macOS): trust server.json
        except OSError:
            return True
        return os.fsencode(self.directory) in command.split(b"\0")

    def _token(self) -> str:
        try:
            return (self.directory / "pki" / "token").read_text(encoding="utf-8").strip()
        except OSError:
            return ""

    def _get(self, port: int, path: str, timeout: float) -> tuple[int, str] | None:
        """``GET path`` on the server: its status and body, or None when it did not answer within ``timeout``."""
        return self._request(port, path, timeout)

    def _request(self, port: int, path: str, timeout: float, method: str = "GET",
                 body: bytes | None = None) -> tuple[int, str] | None:
        """``method path`` (a JSON ``body``) on the server: its status and body, or None when it did not answer."""
        try:
            context = ssl.create_default_context(cafile=str(self.directory / "pki" / "ca.crt"))
        except (OSError, ssl.SSLError):
            return None
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),  # 127.0.0.1: never a proxy
                                             urllib.request.HTTPSHandler(context=context))
        request = urllib.request.Request(f"https://127.0.0.1:{port}{path}", data=body, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        token = self._token()
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with opener.open(request, timeout=timeout) as response:
                return response.status, response.read(ANSWER_LIMIT).decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            try:
                answered = error.read(ANSWER_LIMIT).decode("utf-8", "replace")
            except (OSError, http.client.HTTPException):
                answered = ""
            return error.code, answered
        except (urllib.error.URLError, OSError, ssl.SSLError, http.client.HTTPException, ValueError):
            return None

    def _live(self, port: int, timeout: float | None = None) -> bool:
        answer = self._get(port, "/livez", self.live_timeout if timeout is None else timeout)
        return answer is not None and answer[0] == 200

    def _storage_error(self, port: int) -> str:
        """What ``/readyz/etcd`` says is wrong with the storage; empty on ``ok``, no answer, or no such check."""
        answer = self._get(port, "/readyz/etcd", self.live_timeout)
        if answer is None or answer[0] != 500:
            return ""  # 200 ok; 404 or 401 from a server without the check
        body = answer[1]
        try:
            body = str(json.loads(body)["message"])  # a Status, as an API error answers
        except (ValueError, KeyError, TypeError):
            pass  # healthz's plain text
        lines = [line.strip() for line in body.splitlines() if line.strip()]
        reason = "; ".join(lines).removeprefix("internal server error: ")
        return reason[:1000] or "its storage check failed (/readyz/etcd answered 500)"

    def _running(self, info: dict[str, Any], pid: int) -> ClusterStatus:
        port = int(info["port"])
        scale = float(info.get("time_scale", 1) or 1)
        return ClusterStatus(self.name, True, self.kubeconfig, f"https://127.0.0.1:{port}", pid,
                             f"time scale {scale:g}", storage_error=self._storage_error(port), time_scale=scale)

    # ---- the Backend protocol ----------------------------------------------------------------------------------
    def status(self) -> ClusterStatus:
        info = self._server_info()
        pid = self._server_pid(info)
        if info is None or not pid:
            return ClusterStatus(self.name, False, self.kubeconfig, detail="not running")
        if not self._live(int(info["port"])):
            return ClusterStatus(self.name, False, self.kubeconfig, pid=pid,
                                 detail=f"process {pid} is not answering (no answer to /livez within "
                                        f"{self.live_timeout:g} s; log: {self.log_path})")
        return self._running(info, pid)

    def storage_failure(self) -> str:
        info = self._server_info()
        if info is None or not self._server_pid(info):
            return ""
        return self._storage_error(int(info["port"]))

    def after_setup(self) -> None:
        """Nothing to do: NodePorts already listen on 127.0.0.1."""

    def clock(self) -> ClockState | None:
        """The running cluster's clock (``GET /kube-tutor/clock``); None when it does not run.

        Raises:
            BackendError: it runs but did not answer, or answered something else than its clock.
        """
        info = self._server_info()
        if info is None or not self._server_pid(info):
            return None
        return self._clock_call(int(info["port"]), "GET", None)

    def set_clock_paused(self, paused: bool) -> ClockState:
        """``PUT /kube-tutor/clock`` ``{"paused": ...}`` with the admin token: pause or resume the cluster's time.

        Raises:
            BackendError: the cluster does not run, or the request failed (one line).
        """
        info = self._server_info()
        if info is None or not self._server_pid(info):
            raise BackendError(Phrase("clock.not_running"))
        return self._clock_call(int(info["port"]), "PUT", json.dumps({"paused": paused}).encode())

    def _clock_call(self, port: int, method: str, body: bytes | None) -> ClockState:
        answer = self._request(port, CLOCK_PATH, self.live_timeout, method, body)
        if answer is None:
            raise BackendError(Phrase("clock.failed", reason=f"no answer within {self.live_timeout:g} s "
                                                             f"(log: {self.log_path})"))
        code, text = answer
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if code == 200 and isinstance(data, dict) and isinstance(data.get("paused"), bool):
            return ClockState(data["paused"], float(data.get("timeScale") or 1))
        message = data.get("message") if isinstance(data, dict) else None
        reason = str(message or " ".join(text.split())[:200] or "no body")
        raise BackendError(Phrase("clock.failed", reason=f"{method} {CLOCK_PATH} answered {code}: {reason}"))

    def up(self, on_status: Callable[[str], None] | None = None) -> ClusterStatus:
        """Start the practice cluster, or reuse the running one; return once it answers.

        A running server that does not answer ``/livez`` at once is asked again until :attr:`hung_after`
        seconds have passed; only then is it replaced, with one line to ``on_status`` saying so. A server whose
        storage fails is reused as it is: the status's ``storage_error`` says why it does not save.

        Raises:
            BackendError: it did not come up; the message points at its log.
        """
        def say(line: str) -> None:
            if on_status is not None:
                on_status(line)

        paths.make_state_private(self.state, self.directory)
        info = self._server_info()
        pid = self._server_pid(info)
        if info is not None and pid:
            waited = self._wait_live(pid, int(info["port"]), say)
            running_scale = float(info.get("time_scale", 1) or 1)
            unsandboxed = self.sandbox and not _sandboxed(pid)
            running_pods = int(info.get("max_pods") or DEFAULT_MAX_PODS)
            other_pods = self.max_pods not in (None, running_pods)
            if waited is None and self.requested_scale in (None, running_scale) and not unsandboxed and not other_pods:
                self.time_scale = running_scale
                return self._running(info, pid)
            if waited is None and unsandboxed:
                say(Phrase("practice.restarting_sandbox"))
                self._terminate(pid)
            elif waited is None and other_pods:
                say(Phrase("practice.restarting_max_pods", pods=self.max_pods, running=running_pods))
                self._terminate(pid)
            elif waited is None:
                say(Phrase("practice.restarting_scale", scale=f"{self.requested_scale:g}",
                           running=f"{running_scale:g}"))
                self._terminate(pid)
            elif shell.pid_alive(pid):
                say(Phrase("practice.replacing", pid=pid, seconds=f"{waited:.0f}", log=self.log_path))
                self._terminate(pid)
        say(Phrase("practice.starting"))
        (self.directory / SERVER_FILE).unlink(missing_ok=True)
        argv = shell.python_module("tutor.practice_server", "serve", self.directory, "--time-scale", str(self.time_scale),
                                   "--log-file", self.log_path, *(["--sandbox"] if self.sandbox else []),
                                   *(["--max-pods", str(self.max_pods)] if self.max_pods is not None else []))
        pid = shell.spawn_daemon(argv, log_path=self.log_path)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            info = self._server_info()
            if info is not None and info.get("pid") == pid and self._live(int(info["port"])):
                return self._running(info, pid)
            if not shell.pid_alive(pid):
                break
            time.sleep(POLL)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
        tail = self._log_tail()
        raise BackendError(f"the practice cluster did not start (log: {self.log_path}){': ' + tail if tail else ''}")

    def _wait_live(self, pid: int, port: int, say: Callable[[str], None]) -> float | None:
        """Ask ``/livez`` until it answers or :attr:`hung_after` seconds passed.

        Returns:
            None once it answered; else the seconds waited (the process is hung, or gone).
        """
        started = time.monotonic()
        deadline = started + self.hung_after
        told = False
        while True:
            remaining = deadline - time.monotonic()
            if self._live(port, max(0.5, min(self.live_timeout, remaining))):
                if told:
                    say(Phrase("practice.answered", pid=pid, seconds=f"{time.monotonic() - started:.0f}"))
                return None
            if not shell.pid_alive(pid) or time.monotonic() >= deadline:
                return time.monotonic() - started
            if not told:
                say(Phrase("practice.not_answering", pid=pid, seconds=f"{self.hung_after:g}"))
                told = True
            time.sleep(RETRY)  # pause between attempts of a deadline-bounded wait (noqa: sleep-ok)

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def _terminate(self, pid: int) -> None:
        shell.stop_process(pid, grace=STOP_TIMEOUT)

    def down(self) -> Stopped:
        """Stop the practice cluster (its objects are kept for the next ``up``).

        A cluster whose storage fails is stopped too; ``unsaved`` then says since when and why its changes
        were not saved.
        """
        info = self._server_info()
        pid = self._server_pid(info)
        if info is None or not pid:
            (self.directory / SERVER_FILE).unlink(missing_ok=True)
            return Stopped(False)
        reason = self._storage_error(int(info["port"]))
        self._terminate(pid)
        (self.directory / SERVER_FILE).unlink(missing_ok=True)
        if not reason:
            return Stopped(True)
        since = self._failing_since(reason, info.get("started"))
        return Stopped(True, f"changes since {since or 'its storage failed'} were not saved: {reason} "
                             f"(log: {self.log_path})")

    def _failing_since(self, reason: str, started: object) -> str:
        """When this server first logged ``reason`` (the log's local time), looking through the rotated logs
        oldest first and skipping lines from before the server started (``started``: server.json's UTC time);
        empty when no line says it."""
        try:
            since = datetime.strptime(str(started), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        except ValueError:
            since = datetime.min.replace(tzinfo=UTC)
        needle = reason.split("; ")[0]
        for path in (*(self.log_path.with_name(f"{self.log_path.name}.{n}") for n in (3, 2, 1)), self.log_path):
            try:
                with open(path, encoding="utf-8", errors="replace") as log:
                    for line in log:
                        if needle not in line or not (found := _TIMESTAMP.match(line)):
                            continue
                        logged = datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S").astimezone(UTC)
                        if logged >= since:
                            return found.group(1)
            except (OSError, ValueError):
                continue
        return ""


def _sandboxed(pid: int) -> bool:
    """Whether the server process ``pid`` was started with ``--sandbox`` (its command line, Linux's /proc)."""
    try:
        return b"--sandbox" in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
