"""Provides process spawning: the only module of kube-tutor that starts other programs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Result:
    """What a finished command returned."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class ShellError(Exception):
    """A command could not be started or did not finish in time."""


def run(argv: Sequence[str | os.PathLike[str]], *, env: Mapping[str, str] | None = None,
        timeout: float | None = 60, input_text: str | None = None) -> Result:
    """Run a command to completion and capture its output.

    Args:
        argv: the program and its arguments (no shell).
        env: the complete environment (None: inherit).
        timeout: seconds before the command is killed.
        input_text: text for standard input.

    Returns:
        The exit code and both outputs as text.

    Raises:
        ShellError: the program is missing or timed out.
    """
    args = [os.fspath(a) for a in argv]
    try:
        done = subprocess.run(args, env=dict(env) if env is not None else None, capture_output=True, text=True,
                              timeout=timeout, input=input_text, stdin=None if input_text is not None
                              else subprocess.DEVNULL, check=False)
    except FileNotFoundError as error:
        raise ShellError(f"{args[0]}: command not found") from error
    except subprocess.TimeoutExpired as error:
        raise ShellError(f"{' '.join(args)}: no answer after {timeout:g} s") from error
    return Result(tuple(args), done.returncode, done.stdout, done.stderr)


def spawn_daemon(argv: Sequence[str | os.PathLike[str]], *, log_path: Path,
                 env: Mapping[str, str] | None = None) -> int:
    """Start a background process in its own session, detached from the terminal; return its pid.

    Args:
        argv: the program and its arguments.
        log_path: file that receives the process's stdout and stderr (appended).
        env: the complete environment (None: inherit).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        process = subprocess.Popen([os.fspath(a) for a in argv], stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, env=dict(env) if env is not None else None,
                                   start_new_session=True, close_fds=True)
    return process.pid


def python_module(module: str, *args: str | os.PathLike[str]) -> list[str]:
    """``[sys.executable, "-m", module, *args]``: run a module of this installation."""
    return [sys.executable, "-m", module, *[os.fspath(a) for a in args]]


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (and is not a zombie of ours)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        finished, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        finished = 0
    return finished == 0
