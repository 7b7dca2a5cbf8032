"""Provides the practice backend: starts, finds and stops the embedded practice cluster's process."""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tutor import paths, shell
from tutor.backends.base import BackendError, ClusterStatus, OwnKubeconfig

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
POLL = 0.02


class PracticeBackend(OwnKubeconfig):
    """The practice cluster as a background process owning ``<state>/practice``."""

    name = "practice"
    namespace = "default"

    def __init__(self, state: Path, *, time_scale: float | None = None) -> None:
        self.state = state
        self.directory = paths.practice_dir(state)
        env_scale = os.environ.get("KUBE_TUTOR_TIME_SCALE")
        self.time_scale = time_scale if time_scale is not None else float(env_scale) if env_scale else 1.0

    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def log_path(self) -> Path:
        return self.directory / "cluster.log"

    def _server_info(self) -> dict[str, Any] | None:
        try:
            return json.loads((self.directory / "server.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def _healthy(self, port: int, timeout: float = 1.0) -> bool:
        ca = self.directory / "pki" / "ca.crt"
        if not ca.exists():
            return False
        context = ssl.create_default_context(cafile=str(ca))
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", context=context,
                                        timeout=timeout) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError, ssl.SSLError):
            return False

    def status(self) -> ClusterStatus:
        info = self._server_info()
        if info and shell.pid_alive(int(info.get("pid", 0))) and self._healthy(int(info["port"])):
            return ClusterStatus(self.name, True, self.kubeconfig, f"https://127.0.0.1:{info['port']}",
                                 int(info["pid"]), f"time scale {info.get('time_scale', 1)}")
        detail = "not running"
        if info and shell.pid_alive(int(info.get("pid", 0))):
            detail = f"process {info['pid']} is not answering (see {self.log_path})"
        return ClusterStatus(self.name, False, self.kubeconfig, detail=detail)

    def after_setup(self) -> None:
        """Nothing to do: NodePorts already listen on 127.0.0.1."""

    def up(self, on_status: Callable[[str], None] | None = None) -> ClusterStatus:
        """Start the practice cluster, or reuse the running one; return once it answers.

        Raises:
            BackendError: it did not come up; the message points at its log.
        """
        current = self.status()
        if current.running:
            return current
        if on_status is not None:
            on_status("starting the practice cluster")
        info = self._server_info()
        if info and shell.pid_alive(int(info.get("pid", 0))):
            self._terminate(int(info["pid"]))
        (self.directory / "server.json").unlink(missing_ok=True)
        argv = shell.python_module("tutor.practice", "serve", self.directory, "--time-scale", str(self.time_scale))
        pid = shell.spawn_daemon(argv, log_path=self.log_path)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            info = self._server_info()
            if info and info.get("pid") == pid and self._healthy(int(info["port"])):
                return self.status()
            if not shell.pid_alive(pid):
                break
            time.sleep(POLL)
        tail = self._log_tail()
        raise BackendError(f"the practice cluster did not start (log: {self.log_path}){': ' + tail if tail else ''}")

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def _terminate(self, pid: int) -> None:
        shell.stop_process(pid, grace=STOP_TIMEOUT)

    def down(self) -> bool:
        """Stop the practice cluster (its objects are kept for the next ``up``); False if none ran."""
        info = self._server_info()
        if not info or not shell.pid_alive(int(info.get("pid", 0))):
            (self.directory / "server.json").unlink(missing_ok=True)
            return False
        self._terminate(int(info["pid"]))
        (self.directory / "server.json").unlink(missing_ok=True)
        return True
