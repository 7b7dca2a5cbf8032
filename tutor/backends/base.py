"""Provides what every cluster backend shares: the Backend protocol, its status record, error type, the
kubectl environment every backend gives (:class:`OwnKubeconfig`) and the one Docker probe."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tutor import paths, shell


class BackendError(Exception):
    """A backend cannot start or reach its cluster; the message says what happened and how to recover."""


@dataclass(frozen=True)
class ClusterStatus:
    """A one-look summary of a backend's cluster."""

    backend: str
    running: bool
    """The cluster answers (the practice cluster: its ``/livez``)."""
    kubeconfig: Path
    server: str = ""
    pid: int | None = None
    detail: str = ""
    time_scale: float = 1.0
    """How many times faster than real time the cluster's clock runs (the practice cluster; 1 elsewhere)."""
    storage_error: str = ""
    """Why a running cluster does not save changes (its storage fails: what ``/readyz/etcd`` says); empty while
    it saves, or when that cannot be told."""


@dataclass(frozen=True)
class Stopped:
    """What :meth:`Backend.down` did."""

    stopped: bool
    """True when something was running and is now stopped; False when there was nothing to stop."""
    unsaved: str = ""
    """When the cluster had stopped saving changes: one line saying since when and why; those changes are gone.
    Empty when everything was saved (or when that cannot be told)."""


@dataclass(frozen=True)
class ClockState:
    """The practice cluster's clock (``GET /kube-tutor/clock``)."""

    paused: bool
    """True while the cluster's time stands still: controllers and the kubelet wait; the API answers."""
    time_scale: float = 1.0
    """How many times faster than real time the clock runs (below 1: slow motion)."""


class Backend(Protocol):
    """A cluster the lesson runs on. Every kubectl run uses ``kubeconfig`` (kube-tutor's own file)."""

    name: str
    """``practice``, ``kind`` or ``existing``."""
    namespace: str
    """Where the lesson's objects live."""

    @property
    def kubeconfig(self) -> Path: ...

    def up(self, on_status: Callable[[str], None] | None = None) -> ClusterStatus:
        """Start (or reuse) the cluster; ``on_status`` gets one line per phase.

        Raises:
            BackendError: with a one-line message that says how to recover.
        """
        ...

    def down(self) -> Stopped:
        """Stop or delete the cluster kube-tutor made, even one whose storage fails (``unsaved`` then says so).

        Raises:
            BackendError: it could not be stopped.
        """
        ...

    def status(self) -> ClusterStatus: ...

    def storage_failure(self) -> str:
        """Why the running cluster does not save changes; empty while it saves or when that cannot be told.

        Cheap enough to poll every few seconds (the TUI's status bar).
        """
        ...

    def env(self) -> dict[str, str]:
        """KUBECONFIG (kube-tutor's), KUBECACHEDIR, KUBERC=off, and whatever else kubectl needs here."""
        ...

    def after_setup(self) -> None:
        """Called after the lesson's start state is created (kind maps the NodePort, existing forwards it)."""
        ...

    def clock(self) -> ClockState | None:
        """The cluster's clock when it can be paused (the running practice cluster); None elsewhere.

        Raises:
            BackendError: the practice cluster did not answer (one line).
        """
        ...

    def set_clock_paused(self, paused: bool) -> ClockState:
        """Pause (True) or resume (False) the cluster's clock; the clock as it is afterwards.

        Raises:
            BackendError: not the practice cluster ("only the practice cluster's clock can be paused"), or it
                does not run or answer (one line).
        """
        ...


class OwnKubeconfig:
    """The ``env()`` of every backend: kubectl reads kube-tutor's own kubeconfig and cache, never the user's."""

    state: Path
    """kube-tutor's state directory."""

    @property
    def kubeconfig(self) -> Path:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        """Variables that point kubectl at this backend's cluster and nowhere else."""
        return {
            "KUBECONFIG": str(self.kubeconfig),
            "KUBECACHEDIR": str(paths.kube_cache_dir(self.state)),
            "KUBERC": "off",
        }


@dataclass(frozen=True)
class DockerProbe:
    """What ``docker info`` says about this machine's Docker (kind needs the daemon, not only the client)."""

    client: str | None
    """The ``docker`` program on PATH, or None."""
    running: bool
    """True when the daemon answered."""
    detail: str
    """The server version when it runs; else why not, in one line (``docker info``'s own error)."""


def probe_docker(timeout: float = 10.0) -> DockerProbe:
    """Ask the Docker daemon for its version (``docker info``, not ``docker -v``, which only finds the client)."""
    client = shutil.which("docker")
    if client is None:
        return DockerProbe(None, False, "Docker is not installed (no `docker` on PATH)")
    try:
        done = shell.run([client, "info", "--format", "{{.ServerVersion}}"], timeout=timeout)
    except shell.ShellError as error:
        return DockerProbe(client, False, f"`docker info` did not answer ({error})")
    if done.returncode != 0:
        lines = [line.strip() for text in (done.stderr, done.stdout) for line in text.splitlines() if line.strip()]
        return DockerProbe(client, False, f"`docker info` failed: {lines[-1] if lines else f'exit {done.returncode}'}")
    return DockerProbe(client, True, done.stdout.strip() or "unknown version")
