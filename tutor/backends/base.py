"""Provides what every cluster backend shares: its status record and its error type."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class BackendError(Exception):
    """A backend cannot start or reach its cluster; the message says how to recover."""


@dataclass(frozen=True)
class ClusterStatus:
    """A one-look summary of a backend's cluster."""

    backend: str
    running: bool
    kubeconfig: Path
    server: str = ""
    pid: int | None = None
    detail: str = ""
