"""Provides the cluster backends (practice, kind, existing) and how kube-tutor chooses one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tutor.backends.base import Backend, BackendError, ClusterStatus, DockerProbe, Stopped, probe_docker
from tutor.text import Phrase

__all__ = ["BACKENDS", "Backend", "BackendError", "ClusterStatus", "Stopped", "choose", "decide", "detect",
           "from_environment", "make_backend"]

BACKENDS = ("practice", "kind", "existing")
ENV_BACKEND = "KUBE_TUTOR_BACKEND"


def decide(docker: DockerProbe, kind: str | None) -> tuple[str, str]:
    """The rule: kind when the Docker daemon answers and kind is on PATH, else practice; with the reason.

    Args:
        docker: what :func:`~tutor.backends.base.probe_docker` found.
        kind: the ``kind`` program on PATH, or None.

    Returns:
        (backend name, the reason in one sentence: a :class:`~tutor.text.Phrase`, English until said in another
        language).
    """
    if docker.client is None:
        return "practice", Phrase("choice.no_docker")
    if not docker.running:
        return "practice", Phrase("choice.daemon_down")
    if kind is None:
        return "practice", Phrase("choice.no_kind")
    return "kind", Phrase("choice.kind")


def detect() -> tuple[str, str]:
    """:func:`decide` for this machine (asks Docker, looks for kind)."""
    return decide(probe_docker(), shutil.which("kind"))


def from_environment() -> tuple[str, str] | None:
    """``$KUBE_TUTOR_BACKEND`` when set, with the reason; None when unset.

    Raises:
        BackendError: an unknown name in the environment variable.
    """
    env = os.environ.get(ENV_BACKEND, "").strip()
    if not env:
        return None
    if env not in BACKENDS:
        raise BackendError(f"{ENV_BACKEND}={env!r} is not a backend; use one of: {', '.join(BACKENDS)}")
    return env, f"{ENV_BACKEND}={env}"


def choose(requested: str | None) -> tuple[str, str]:
    """``--backend`` wins, then ``$KUBE_TUTOR_BACKEND``, then :func:`detect`.

    Raises:
        BackendError: an unknown name in the environment variable.
    """
    if requested:
        return requested, f"--backend {requested}"
    return from_environment() or detect()


def make_backend(name: str, state: Path, *, kubeconfig: Path | None = None, context: str | None = None,
                 namespace: str | None = None, time_scale: float | None = None,
                 own_credentials: bool = False) -> Backend:
    """Build a backend by name (kind and existing are imported only when used).

    Raises:
        BackendError: missing options (existing needs --namespace).
    """
    if name == "practice":
        from tutor.backends.practice import PracticeBackend

        return PracticeBackend(state, time_scale=time_scale)
    if name == "kind":
        from tutor.backends.kind import KindBackend

        return KindBackend(state)
    if name == "existing":
        if not namespace:
            raise BackendError("the existing backend needs --namespace NS (a namespace of your own for the lesson)")
        from tutor.backends.existing import ExistingBackend

        return ExistingBackend(state, source=kubeconfig, context=context, namespace=namespace,
                               own_credentials=own_credentials)
    raise BackendError(f"unknown backend {name!r}; use one of: {', '.join(BACKENDS)}")
