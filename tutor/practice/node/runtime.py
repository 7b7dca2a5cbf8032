"""Provides the container runtime protocol: what the kubelet simulator needs to run a process in a container.

The practice cluster never starts a process itself (only ``tutor/shell.py`` does, ``tests/test_layering.py``):
whoever starts the cluster hands it a :class:`ContainerRuntime` (``tutor.shell.ContainerShell``), and the
kubelet runs every container command and every ``kubectl exec`` through it. A cluster started without one
(:class:`NoRuntime`) answers as a node whose runtime cannot start processes: containerd's ``failed to exec in
container`` (or ``failed to create containerd task``) with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol


class RuntimeUnavailable(Exception):
    """The runtime cannot start the process (the message is one line, said as containerd says it)."""


class ContainerProcess(Protocol):
    """One running process of a container (a container's main process, or an exec)."""

    async def write(self, data: bytes) -> None:
        """Send ``data`` to the process's stdin (its terminal, with a tty)."""

    def close_stdin(self) -> None:
        """End the process's stdin (with a tty: an end-of-file character)."""

    async def read_stdout(self) -> bytes:
        """The next output of the process (its terminal's, with a tty); ``b""`` at its end."""

    async def read_stderr(self) -> bytes:
        """The next error output (never any with a tty: it all goes to the terminal); ``b""`` at its end."""

    async def wait(self) -> int:
        """The exit code (128 + the signal's number for a process killed by a signal)."""

    def resize(self, cols: int, rows: int) -> None:
        """Set the terminal's size (nothing without a tty)."""

    def signal(self, signum: int) -> None:
        """Send a signal to the process's group."""

    def kill(self) -> None:
        """End the process's group (SIGKILL)."""


class ContainerRuntime(Protocol):
    """Starts processes in a container's directory (see :mod:`tutor.practice.node.containers`)."""

    async def start(self, argv: Sequence[str], *, root: Path, env: Mapping[str, str], cwd: Path, tty: bool,
                    stdin: bool) -> ContainerProcess:
        """Start ``argv`` (its program an absolute path) with exactly ``env``, in ``cwd``, in a process group of
        its own; with ``tty`` on a new terminal that is its controlling terminal.

        Raises:
            RuntimeUnavailable: the process could not be started.
        """
        ...


class NoRuntime:
    """The runtime of a cluster started without one: it starts nothing."""

    async def start(self, argv: Sequence[str], *, root: Path, env: Mapping[str, str], cwd: Path, tty: bool,
                    stdin: bool) -> ContainerProcess:
        raise RuntimeUnavailable("this practice cluster was started without a container runtime, so it cannot "
                                 "start processes")
