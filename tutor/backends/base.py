"""Provides what every cluster backend shares: the Backend protocol, its status record and error type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class BackendError(Exception):
    """A backend cannot start or reach its cluster; the message says what happened and how to recover."""


@dataclass(frozen=True)
class ClusterStatus:
    """A one-look summary of a backend's cluster."""

    backend: str
    running: bool
    kubeconfig: Path
    server: str = ""
    pid: int | None = None
    detail: str = ""


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

    def down(self) -> bool:
        """Stop or delete the cluster kube-tutor made; False if there was none."""
        ...

    def status(self) -> ClusterStatus: ...

    def env(self) -> dict[str, str]:
        """KUBECONFIG (kube-tutor's), KUBECACHEDIR, KUBERC=off, and whatever else kubectl needs here."""
        ...

    def after_setup(self) -> None:
        """Called after the lesson's start state is created (kind maps the NodePort, existing forwards it)."""
        ...
