"""Provides process spawning: the only module of kube-tutor that starts other programs.

Two families, each on the tool that fits it:

- Synchronous helpers for kube-tutor's own commands (the CLI, the backends and ``doctor`` running kubectl,
  docker and kind): :func:`run` runs a program to completion through the ``sh`` package (a command is an
  ``sh.Command`` called with ``_return_cmd=True``, output captured without a terminal, every exit status
  accepted so the caller decides, ``_timeout`` killing a program that hangs). ``sh`` turns a missing program
  into ``CommandNotFound`` and a hang into ``TimeoutException``; both become :class:`ShellError` here, so
  callers catch one type. :func:`stop_process` ends a process (or its group) with the one escalation every
  caller uses: SIGTERM, a grace period, then SIGKILL.
- The asyncio side serves the interactive tutorial: :class:`Session` runs the learner's shell lines
  (streaming their output, keeping exported variables and the working directory from one line to the next,
  refusing typed kubectl lines that would leave kube-tutor's cluster or rewrite its kubeconfig, see
  :func:`check_command`; the kubectl guard of :mod:`tutor.kubectl_guard` enforces the same rule on every kubectl
  the line really runs), :func:`stream_lines`
  follows a long-lived command such as ``kubectl get pods -w -o json``, and :func:`run_async` is the awaitable
  twin of :func:`run`. These stay on ``asyncio.create_subprocess_exec``: ``sh``'s own async mode polls its
  pipes every 10 ms from threads, which the TUI's event loop must not pay for on every line of output, and
  the session needs process groups and signals that it manages step by step.

Two synchronous helpers also stay on the standard library, because ``sh`` does not fit them:
:func:`spawn_daemon` starts a background server that must outlive this process, detached in its own session
(``sh``'s background mode keeps reader threads and a handle in this process), and :func:`interactive` hands
the terminal to the learner's shell and needs its exit status (``sh``'s ``_fg`` returns none and changes this
process's working directory while it runs). Never imports textual.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import functools
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sh

from tutor import kubectl_guard
from tutor.kube.files import open_private
from tutor.kubectl_guard import PINNED_REASONS
from tutor.kubectl_guard import REFUSED_FLAGS as REFUSED_FLAGS  # re-exported: the console's refusals
from tutor.practice.node.runtime import ContainerProcess, RuntimeUnavailable


@dataclass(frozen=True)
class Result:
    """What a finished command returned."""

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


class ShellError(Exception):
    """A command could not be started or did not finish in time."""


_ANY_EXIT = (*range(256), *(-signum for signum in range(1, 65)))
"""Every exit status (and death by any signal): :func:`run` reports the status, it never raises for one."""


def run(argv: Sequence[str | os.PathLike[str]], *, env: Mapping[str, str] | None = None,
        timeout: float | None = 60, input_text: str | None = None) -> Result:
    """Run a command to completion and capture its output (through ``sh``).

    Args:
        argv: the program and its arguments (no shell); a bare name is looked up on ``env``'s PATH.
        env: the complete environment (None: inherit).
        timeout: seconds before the command is killed (SIGKILL).
        input_text: text for standard input (None: /dev/null).

    Returns:
        The exit code (negative: killed by that signal) and both outputs as text (UTF-8, universal newlines).

    Raises:
        ShellError: the program is missing or timed out.
    """
    args = [os.fspath(a) for a in argv]
    search_path = (env if env is not None else os.environ).get("PATH")
    program = args[0] if os.sep in args[0] else shutil.which(args[0], path=search_path) or args[0]
    try:
        command = sh.Command(program)
    except sh.CommandNotFound as error:
        raise ShellError(f"{args[0]}: command not found") from error
    options: dict[str, Any] = {"_return_cmd": True, "_tty_out": False, "_ok_code": _ANY_EXIT, "_timeout": timeout,
                               "_decode_errors": "replace"}
    if env is not None:
        options["_env"] = dict(env)
    try:
        if input_text is None:
            with open(os.devnull, "rb") as nothing:
                done = command(*args[1:], _in=nothing, **options)
        else:
            done = command(*args[1:], _in=input_text, **options)
    except sh.TimeoutException as error:
        raise ShellError(f"{' '.join(args)}: no answer after {timeout:g} s") from error
    except PermissionError as error:
        raise ShellError(f"{args[0]}: cannot run it ({error.strerror})") from error
    return Result(tuple(args), done.exit_code, _text(done.stdout), _text(done.stderr))


def stop_process(pid: int, *, group: bool = False, grace: float = 15.0) -> bool:
    """End a process, or its whole process group: SIGTERM, then SIGKILL after ``grace`` seconds.

    The one stop escalation of kube-tutor's own background processes (the practice cluster's server,
    ``kubectl port-forward`` loops); the learner's commands are stopped by :class:`Session`.

    Args:
        pid: the process id (with ``group``: the process group id, i.e. the leader's pid).
        group: signal the whole group (``kill -- -PID``).
        grace: seconds to wait for it to go after SIGTERM.

    Returns:
        False when there was nothing to stop; True once it is gone.
    """
    def alive() -> bool:
        # pid_alive reaps the leader when it is our child, so a zombie leader does not keep the group "alive"
        return pid_alive(pid) or (group and _group_exists(pid))

    def send(signum: int) -> bool:
        if group:
            return _signal_group(pid, signum)
        try:
            os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            return False
        return True

    if pid <= 0 or not alive() or not send(signal.SIGTERM):
        return False
    deadline = time.monotonic() + grace
    while alive() and time.monotonic() < deadline:
        time.sleep(_GROUP_POLL)  # poll interval of a deadline-bounded wait
    if alive():
        send(signal.SIGKILL)
        deadline = time.monotonic() + 5.0
        while alive() and time.monotonic() < deadline:
            time.sleep(_GROUP_POLL)
    return True


def spawn_daemon(argv: Sequence[str | os.PathLike[str]], *, log_path: Path,
                 env: Mapping[str, str] | None = None) -> int:
    """Start a background process in its own session, detached from the terminal; return its pid.

    Args:
        argv: the program and its arguments.
        log_path: file that receives the process's stdout and stderr (appended); created 0600 in a directory
            created 0700, whatever the umask (an existing log is made 0600 too).
        env: the complete environment (None: inherit).
    """
    log = open_private(log_path)
    try:
        process = subprocess.Popen([os.fspath(a) for a in argv], stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, env=dict(env) if env is not None else None,
                                   start_new_session=True, close_fds=True)
    finally:
        os.close(log)
    return process.pid


def python_module(module: str, *args: str | os.PathLike[str]) -> list[str]:
    """``[sys.executable, "-m", module, *args]``: run a module of this installation."""
    return [sys.executable, "-m", module, *[os.fspath(a) for a in args]]


def pid_alive(pid: int) -> bool:
    """True while a process with this pid exists (and is not a zombie of ours); False for pids <= 0."""
    if pid <= 0:
        return False  # os.kill(0, ...) would signal our own process group
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


# --------------------------------------------------------------------------------------------------------------
# The console's first pointer: refusing a typed line before any of it runs (the kubectl guard is the exact layer)

_OPERATOR_CHARS = "();<>|&\n"
# Words that may stand before the command itself: `sudo kubectl ...`, `watch -n1 kubectl ...`, `then kubectl ...`.
_PREFIX_WORDS = frozenset({
    "!", "{", "if", "then", "else", "elif", "do", "while", "until", "time",
    "sudo", "doas", "env", "nohup", "nice", "ionice", "timeout", "watch", "exec", "command", "xargs", "stdbuf",
    "unbuffer", "strace",
})
# Programs whose arguments are shell code: `bash -c "kubectl ..."`, `watch "kubectl ..."`.
_CODE_RUNNERS = frozenset({"bash", "sh", "dash", "zsh", "ksh", "watch"})
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=")
_SEPARATOR = "\0sep"  # stands for a shell operator that starts a new command (never a real word)


def _is_kubectl(word: str) -> bool:
    return word == "kubectl" or word.endswith("/kubectl")


def _lex(line: str) -> list[str]:
    """Split a line into words and operators the way the refusal check needs them.

    Raises:
        ValueError: shlex cannot parse the line (unbalanced quotes, trailing backslash).
    """
    lexer = shlex.shlex(line, posix=True, punctuation_chars=_OPERATOR_CHARS)
    lexer.whitespace_split = True
    lexer.whitespace = " \t\r"  # a newline separates commands, as in bash
    lexer.commenters = ""  # `#` is not a comment inside a word; a refused flag after a comment is refused anyway
    return list(lexer)


def _simple_commands(line: str) -> tuple[list[list[str]], list[str]]:
    """The line's simple commands (their words, redirections dropped) and the nested code found in words.

    Nested code is the text of command substitutions that shlex kept inside one (quoted) word:
    ``"$(kubectl ...)"`` and ``"`kubectl ...`"``.

    Raises:
        ValueError: shlex cannot parse the line.
    """
    commands: list[list[str]] = [[]]
    nested: list[str] = []
    skip_next = False
    for token in _lex(line):
        if token and all(char in _OPERATOR_CHARS for char in token):
            if "(" in token or not ("<" in token or ">" in token):
                commands.append([])  # ; | || && & ( ) |& newline, <( >( : a new command starts
            else:
                skip_next = True  # a redirection: its target is not an argument
            continue
        if skip_next:
            skip_next = False
            continue
        start = 0
        while (found := token.find("$(", start)) >= 0:
            nested.append(token[found + 2:])
            start = found + 2
        pieces = token.split("`")
        for index, piece in enumerate(pieces):
            if index:
                commands.append([])  # a backtick opens or closes a command substitution
            if not piece:
                continue
            if index % 2 and index < len(pieces) - 1 and any(space in piece for space in " \t\n"):
                nested.append(piece)  # a whole `...` kept in one quoted word
            else:
                commands[-1].append(piece)
    return [words for words in commands if words], nested


def _kubectl_arguments(words: list[str]) -> list[str] | None:
    """The arguments of the kubectl invocation in one simple command, or None if it runs no kubectl."""
    index = 0
    while index < len(words) and _ASSIGNMENT.match(words[index]):
        index += 1
    if index == len(words):
        return None
    if _is_kubectl(words[index]):
        return words[index + 1:]
    if words[index] in _PREFIX_WORDS:
        for position in range(index + 1, len(words)):
            if _is_kubectl(words[position]):
                return words[position + 1:]
    return None


def check_command(line: str) -> str | None:
    """Decide whether a learner's shell line may run.

    kubectl invocations are found with shlex (posix, punctuation characters): a ``kubectl`` word, or a path
    ending in ``/kubectl``, at the start of a command (after the start of the line or a shell operator
    ``; | & && || ( $( <( `` or a newline, after ``VAR=value`` assignments, or after a prefix such as
    ``sudo``, ``env``, ``watch``, ``time``, ``then``, ``do``). Only the words of that invocation, up to the next
    operator, are checked with :func:`tutor.kubectl_guard.refusal` (the flags of :data:`REFUSED_FLAGS` before a
    ``--``, and the ``kubectl config`` verbs that write), so ``curl -s localhost:1`` and ``grep --context=2`` are
    fine. Command substitutions kept inside a quoted word and the code given to ``bash -c`` or ``watch`` are
    checked the same way.

    This is the first, friendlier pointer: it refuses the whole line before any of it runs, and it sees a path to
    the real kubectl typed out. The exact layer is the kubectl guard first on the session's PATH
    (:mod:`tutor.kubectl_guard`), which sees the words after the shell expanded them: kubectl behind a variable,
    ``/usr/bin/env kubectl``, ``xargs kubectl`` and ``KUBECONFIG=... kubectl`` reach it. Neither is a sandbox.

    Args:
        line: the line as typed.

    Returns:
        None if the line may run, else a one-line refusal naming the flag or the ``config`` verb. A line that shlex cannot parse
        (unbalanced quotes) is not refused here: bash will report its own error.
    """
    try:
        commands, nested = _simple_commands(line)
    except ValueError:
        return None
    for words in commands:
        arguments = _kubectl_arguments(words)
        if arguments is not None and (refused := kubectl_guard.refusal(arguments)):
            return refused
        if os.path.basename(words[0]) in _CODE_RUNNERS:
            nested.extend(word for word in words[1:] if any(space in word for space in " \t\n"))
    for code in nested:
        if refusal := check_command(code):
            return refusal
    return None


# --------------------------------------------------------------------------------------------------------------
# Interactive programs: refused before the line runs, since the console has no terminal to give them

_FULL_SCREEN = frozenset({"watch", "top", "htop", "btop", "atop"})
"""Programs that redraw the whole screen: the console shows only lines, so nothing (``watch``) or garbage."""
_EDITORS = frozenset({"vi", "vim", "nvim", "view", "vimdiff", "nano", "pico", "emacs", "mg", "micro", "joe"})
"""Editors: they need a terminal for both input and output."""
_PAGERS = frozenset({"less", "more", "most"})
"""Pagers: they page in a terminal of their own (the console keeps and scrolls the whole output)."""
_TERMINAL_COMMANDS = frozenset({"exec", "run", "debug", "attach"})
"""kubectl commands that connect the terminal to a container with ``-t``/``--tty`` (``attach`` also with ``-i``)."""


@dataclass(frozen=True)
class Interactive:
    """A program in a learner's line that needs a terminal of its own (see :func:`interactive_program`)."""

    kind: str
    """``full_screen`` (watch, top), ``editor`` (vi, nano), ``pager`` (less, more), ``kubectl_edit`` (``kubectl edit``,
    which starts an editor) or ``tty`` (``kubectl exec -t``, ``kubectl attach -i``, ...)."""
    program: str
    """The program as the learner should read it: ``watch``, ``vim``, ``kubectl edit``, ``kubectl exec -it``."""


def _boolean_flag(value: str) -> bool:
    """pflag's reading of ``--flag=value`` for a boolean flag (Go's ``strconv.ParseBool``); unreadable is true,
    since kubectl then refuses the line anyway."""
    return value not in ("0", "f", "F", "false", "FALSE", "False")


def _kubectl_interactive(arguments: Sequence[str]) -> Interactive | None:
    """Whether a kubectl invocation needs a terminal: ``edit`` (and ``apply edit-last-applied``) start an editor;
    ``exec``/``run``/``debug``/``attach`` with ``-t``/``--tty``, and ``attach`` with ``-i``/``--stdin``, connect the
    terminal to the container. Flags are read as :func:`tutor.kubectl_guard.refusal` reads them (pflag's short-flag
    groups ``-it``, ``--flag=false``); words after ``--`` belong to the container's program.

    Upstream: the ``-i``/``--stdin`` and ``-t``/``--tty`` flags of ``staging/src/k8s.io/kubectl/pkg/cmd/exec/exec.go``,
    ``attach/attach.go``, ``run/run.go`` and ``debug/debug.go``; ``edit/edit.go`` and ``apply/apply_edit_last_applied.go``
    run ``$KUBE_EDITOR``/``$EDITOR`` (``vi`` by default).
    """
    positional: list[str] = []
    flags: list[str] = []
    stdin = tty = False
    for word in kubectl_guard.scan(arguments):
        if word.kind == "long":
            if word.text in ("--stdin", "--tty"):
                on = _boolean_flag(word.value) if word.value is not None else True
                stdin, tty = (on, tty) if word.text == "--stdin" else (stdin, on)
                flags.append(word.text.removeprefix("--"))
        elif word.kind == "short":
            letters = word.text
            booleans = letters[: len(letters) - len(letters.lstrip(kubectl_guard.BOOLEAN_SHORTHANDS))]
            stdin = stdin or "i" in booleans
            tty = tty or "t" in booleans
            flags.extend(letter for letter in booleans if letter in "it")
        else:
            positional.append(word.text)
    if not positional:
        return None
    command = positional[0]
    if command == "edit" or (command == "apply" and positional[1:2] == ["edit-last-applied"]):
        return Interactive("kubectl_edit", " ".join(["kubectl", *positional[:2 if command == "apply" else 1]]))
    if command in _TERMINAL_COMMANDS and (tty or (command == "attach" and stdin)):
        letters = "".join(dict.fromkeys(flag for flag in flags if len(flag) == 1))
        named = " ".join(f"--{flag}" for flag in dict.fromkeys(flags) if len(flag) > 1)
        shown = " ".join(part for part in (f"-{letters}" if letters else "", named) if part)
        return Interactive("tty", f"kubectl {command} {shown}")
    return None


def _words_interactive(words: Sequence[str]) -> Interactive | None:
    """The interactive program a simple command runs, looking through prefixes (``sudo``, ``env``, ``time``...)."""
    index = 0
    while index < len(words) and _ASSIGNMENT.match(words[index]):
        index += 1
    after_prefix = False
    while index < len(words):
        word = words[index]
        name = os.path.basename(word)
        if name in _FULL_SCREEN:
            return Interactive("full_screen", name)
        if name in _EDITORS:
            return Interactive("editor", name)
        if name in _PAGERS:
            return Interactive("pager", name)
        if _is_kubectl(word):
            return _kubectl_interactive(words[index + 1:])
        if name in _PREFIX_WORDS:
            after_prefix = True
        elif not (after_prefix and (word.startswith("-") or _ASSIGNMENT.match(word) or word.isdigit())):
            return None  # the command is another program (its arguments are not commands)
        index += 1
    return None


def interactive_program(line: str) -> Interactive | None:
    """Find a program in a learner's line that needs a terminal of its own, so the console can refuse the line
    before any of it runs, with a pointer to what works instead.

    The line is read as :func:`check_command` reads it (shlex, posix, with shell operators): every simple command
    of the line (``kubectl get pods | less`` has two), looking through prefixes such as ``sudo``, ``env``, ``time``
    and ``VAR=value``, and the code inside ``$(...)``, backticks and ``bash -c``. Only the command word counts:
    ``echo vim`` and ``grep less notes.txt`` run, and so does ``kubectl exec POD -- env``.

    Args:
        line: the line as typed.

    Returns:
        The first such program, or None. A line shlex cannot parse (an open quote) is None: bash reports it.
    """
    try:
        commands, nested = _simple_commands(line)
    except ValueError:
        return None
    for words in commands:
        if found := _words_interactive(words):
            return found
        if os.path.basename(words[0]) in _CODE_RUNNERS - {"watch"}:
            nested.extend(word for word in words[1:] if any(space in word for space in " \t\n"))
    for code in nested:
        if found := interactive_program(code):
            return found
    return None


# --------------------------------------------------------------------------------------------------------------
# Completion with kubectl's own engine: `kubectl __complete ARGS... PARTIAL`, what its shell completion scripts call

COMPLETION_ERROR = 1
"""Cobra's ``ShellCompDirectiveError``: ignore the completions."""
COMPLETION_NO_SPACE = 2
"""``ShellCompDirectiveNoSpace``: no space after a single completion (``deployments/`` goes on)."""
COMPLETION_NO_FILE = 4
"""``ShellCompDirectiveNoFileComp``: no file names when there is no completion."""
COMPLETION_FILTER_FILE_EXT = 8
"""``ShellCompDirectiveFilterFileExt``: the lines are file extensions to complete file names with, not words."""
COMPLETION_FILTER_DIRS = 16
"""``ShellCompDirectiveFilterDirs``: complete directory names (a line, if any, is the directory to look in)."""
COMPLETION_KEEP_ORDER = 32
"""``ShellCompDirectiveKeepOrder``: list the completions in the order given, not sorted."""
_ACTIVE_HELP = "_activeHelp_ "
"""Cobra's ``activeHelpMarker``: such a line is a hint for the learner, not a completion."""
COMPLETION_TIMEOUT = 5.0
"""Seconds a completion may take (kubectl asks the cluster for names) before it is given up."""


@dataclass(frozen=True)
class Completions:
    """What ``kubectl __complete`` answered."""

    candidates: tuple[tuple[str, str], ...]
    """Each completion and its description (empty when it has none), in kubectl's order."""
    directive: int
    """Cobra's ``ShellCompDirective`` bits (:data:`COMPLETION_NO_SPACE`, ...)."""

    @property
    def words(self) -> tuple[str, ...]:
        """The completions to put on the command line: none for an error or a file filter."""
        if self.directive & (COMPLETION_ERROR | COMPLETION_FILTER_FILE_EXT | COMPLETION_FILTER_DIRS):
            return ()
        return tuple(value for value, _ in self.candidates)


def parse_completions(output: str) -> Completions:
    """Read the standard output of ``kubectl __complete``.

    Cobra prints one completion a line, each optionally followed by a tab and its description, and as the last
    line ``:<directive>`` (``spf13/cobra`` ``completions.go``, ``initCompleteCmd``: "The directive integer must be
    that last character following a single colon"); it writes its debug line ``Completion ended with directive``
    to stderr, which is not read here. ActiveHelp lines (``_activeHelp_ ...``, ``active_help.go``) are hints, not
    completions, and are dropped.

    Args:
        output: the command's standard output.

    Returns:
        The completions; without a directive line the output is not cobra's, which reads as an error.
    """
    lines = output.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or not re.fullmatch(r":[0-9]+", lines[-1].strip()):
        return Completions((), COMPLETION_ERROR)
    directive = int(lines.pop().strip()[1:])
    candidates: list[tuple[str, str]] = []
    for line in lines:
        if not line.strip() or line.startswith(_ACTIVE_HELP):
            continue
        value, _, description = line.partition("\t")
        if value.strip():
            candidates.append((value.strip(), description.strip()))
    return Completions(tuple(dict.fromkeys(candidates)), directive)


def kubectl_completion_args(line: str) -> list[str] | None:
    """The arguments to give ``kubectl __complete`` for the word at the end of ``line`` (the text before the cursor).

    The last simple command of the line must run kubectl (as :func:`check_command` finds it: after ``;``, ``|``,
    ``$(``, ``VAR=value``, ``sudo``, ``watch``...); its words after ``kubectl`` are returned with the word being
    completed last: ``""`` when the line ends in a blank (``kubectl get `` gives ``["get", ""]``).

    Args:
        line: the command line up to the cursor.

    Returns:
        The arguments, or None when the word is not an argument of kubectl (another program, the word ``kubectl``
        itself, an open quote).
    """
    try:
        tokens = _lex(line)
    except ValueError:
        return None
    words: list[str] = []
    skip_next = False
    for token in tokens:
        if token and all(char in _OPERATOR_CHARS for char in token):
            if "(" in token or not ("<" in token or ">" in token):
                words = []
            else:
                skip_next = True
            continue
        if skip_next:
            skip_next = False
            continue
        words.append(token)
    if not words or skip_next:
        return None
    ends_in_blank = line[-1:] in (" ", "\t") and not line.endswith(("\\ ", "\\\t"))
    if ends_in_blank:
        words.append("")
    arguments = _kubectl_arguments(words)
    if not arguments:
        return None
    return arguments


async def kubectl_completions(arguments: Sequence[str], env: Mapping[str, str], *,
                              timeout: float = COMPLETION_TIMEOUT) -> Completions:
    """Ask kubectl's own completion engine: ``kubectl __complete ARGS... PARTIAL``, as its shell completion scripts
    do. It completes commands, flags, flag values, resource types and the names of objects in the cluster.

    kubectl is found on ``env``'s PATH, so the learner's console environment reaches it through the kubectl guard
    with kube-tutor's own kubeconfig; ActiveHelp is turned off (``KUBECTL_ACTIVE_HELP=0``).

    Args:
        arguments: from :func:`kubectl_completion_args`, the word to complete last.
        env: the environment the console runs commands in.
        timeout: seconds before kubectl is stopped.

    Returns:
        The completions; an error (:data:`COMPLETION_ERROR`) when kubectl failed.

    Raises:
        ShellError: kubectl is missing or did not answer in time.
    """
    done = await run_async(["kubectl", "__complete", *arguments], {**env, "KUBECTL_ACTIVE_HELP": "0"},
                           timeout=timeout)
    if done.returncode != 0:
        return Completions((), COMPLETION_ERROR)
    found = parse_completions(done.stdout)
    partial = arguments[-1] if arguments else ""
    if partial.startswith("-") and "=" in partial:
        # `--output=ya` is answered with `yaml`: bash splits the word at `=` (COMP_WORDBREAKS); put the flag back
        flag = partial[: partial.index("=") + 1]
        found = Completions(tuple((value if value.startswith(flag) else flag + value, description)
                                  for value, description in found.candidates), found.directive)
    return found


def path_completions(partial: str, cwd: str | os.PathLike[str], *, directories_only: bool = False,
                     extensions: Iterable[str] = ()) -> list[str]:
    """File names that complete ``partial`` (relative to ``cwd``, ``~/`` expanded), as a shell completes them.

    Directories end in ``/``; hidden entries only when ``partial``'s last part starts with ``.``.

    Args:
        partial: the word typed so far.
        cwd: the console's working directory.
        directories_only: only directories (cobra's ``ShellCompDirectiveFilterDirs``).
        extensions: only files with one of these extensions (``ShellCompDirectiveFilterFileExt``), and directories.

    Returns:
        The completed words, sorted; empty when the directory cannot be read.
    """
    head, _, stem = partial.rpartition("/")
    prefix = head + "/" if "/" in partial else ""
    base = Path(os.path.expanduser(prefix or ".") if prefix.startswith("~") else (prefix or "."))
    directory = base if base.is_absolute() else Path(cwd) / base
    suffixes = tuple(f".{extension.lstrip('.')}" for extension in extensions)
    found: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    for entry in entries:
        if not entry.name.startswith(stem) or (entry.name.startswith(".") and not stem.startswith(".")):
            continue
        try:
            is_dir = entry.is_dir()
        except OSError:
            continue
        if is_dir:
            found.append(f"{prefix}{entry.name}/")
        elif not directories_only and (not suffixes or entry.name.endswith(suffixes)):
            found.append(f"{prefix}{entry.name}")
    return sorted(found)


# --------------------------------------------------------------------------------------------------------------
# Process groups

_GROUP_POLL = 0.02
_EXIT_POLL = 0.05


def _signal_group(pgid: int, signum: int) -> bool:
    """Send a signal to a process group; False if the group no longer exists."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # the id now belongs to somebody else's group
    return True


def _group_exists(pgid: int) -> bool:
    return _signal_group(pgid, 0)


async def _wait_group_gone(pgid: int, timeout: float) -> bool:
    """Wait until no process of the group is left (zombies included); False after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while _group_exists(pgid):
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(_GROUP_POLL)
    return True


async def _end_group(pgid: int, steps: Sequence[tuple[int, float]]) -> None:
    """Signal a process group step by step until it is gone.

    Args:
        pgid: the process group.
        steps: (signal, seconds to wait for the group to go) pairs, tried in order; the last should be SIGKILL.
    """
    try:
        for signum, grace in steps:
            if not _signal_group(pgid, signum) or await _wait_group_gone(pgid, grace):
                return
    except asyncio.CancelledError:
        _signal_group(pgid, signal.SIGKILL)
        raise


_INTERRUPT_STEPS = ((signal.SIGINT, 0.5), (signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0))
_TERMINATE_STEPS = ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0))
_HANGUP_STEPS = ((signal.SIGHUP, 0.5), (signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0))


async def _wait_exit(process: asyncio.subprocess.Process) -> int:
    """Wait until the process itself has exited and return its return code.

    ``Process.wait()`` also waits until every pipe is closed, which a background grandchild holding the
    pipe (``sleep 30 &``) delays indefinitely; the return code is known as soon as the child is reaped.
    """
    waiting = asyncio.ensure_future(process.wait())
    try:
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=_EXIT_POLL)
            if done:
                return waiting.result()
            if process.returncode is not None:
                return process.returncode
    finally:
        waiting.cancel()


def _exit_status(returncode: int) -> int:
    """A shell-style exit status: 128 + N for a process killed by signal N."""
    return 128 - returncode if returncode < 0 else returncode


def _text(data: bytes) -> str:
    """Decode output the way ``subprocess.run(text=True)`` presents it: universal newlines."""
    return data.decode("utf-8", errors="replace").replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------------------------------------------
# The learner's shell session

# One line, so that bash's messages about the learner's line read as they would for `bash -c LINE`.
# The EXIT trap records the end state even after `exit` or `set -e`; `env -0` is found through the default PATH
# (`command -p`), so a learner's `export PATH=...` cannot hide it.
_WRAPPER = (
    '__kt_line=$KUBE_TUTOR_LINE; __kt_state=$KUBE_TUTOR_STATE; '
    'if [ -n "${KUBE_TUTOR_BASH_ENV+set}" ]; then builtin export BASH_ENV=$KUBE_TUTOR_BASH_ENV; fi; '
    'builtin unset KUBE_TUTOR_LINE KUBE_TUTOR_STATE KUBE_TUTOR_BASH_ENV; '
    '__kt_save() { builtin set +eu; '
    '{ builtin pwd; builtin printf "\\0"; builtin command -p env -0; } >"$__kt_state" 2>/dev/null; }; '
    'builtin trap __kt_save EXIT; '
    'builtin eval "$__kt_line"'
)
_SHELL_MANAGED = frozenset({"PWD", "OLDPWD", "SHLVL", "_"})
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LEFTOVER_GRACE = 0.2
_READ_SIZE = 65536


async def _pump(stream: asyncio.StreamReader, on_output: Callable[[str], None]) -> None:
    """Pass a stream's bytes to ``on_output`` as text as soon as they arrive, until end of file."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while True:
        chunk = await stream.read(_READ_SIZE)
        text = decoder.decode(chunk, final=not chunk)
        if text:
            on_output(text)
        if not chunk:
            return


class Session:
    """A learner's shell session: one terminal's worth of state over many commands.

    Each command runs in a fresh ``bash --noprofile --norc -c`` (non-interactive, no rc files), but exported
    variables and the working directory persist from one command to the next, like one terminal. What does
    not persist: shell variables that were not exported (``FOO=1`` alone), functions that were not exported
    with ``export -f``, aliases, ``set`` options, traps and background jobs' job-control state. The end
    state is recorded by an EXIT trap, so ``exit 3`` and ``set -e`` failures still keep it; a line that
    replaces the EXIT trap, ``exec``s another program or is cancelled leaves the state as it was. A pinned
    variable is restored only when the line ends: within the line, ``export KUBECONFIG=...`` or a
    ``KUBECONFIG=... kubectl`` prefix reaches the programs the line runs; kubectl itself, found through the kubectl
    guard that ``tutor.lesson.runtime.backend_env`` puts first on PATH, keeps kube-tutor's KUBECONFIG and KUBERC.

    Attributes:
        env: the current environment: the base environment plus what the learner exported.
        cwd: the current working directory.
        history: every line run (refused ones too; not blank ones), oldest first.
    """

    def __init__(self, env: Mapping[str, str], cwd: str | os.PathLike[str], *,
                 pinned: Iterable[str] = ("KUBECONFIG", "KUBERC", "KUBECACHEDIR")) -> None:
        """Start a session.

        Args:
            env: the base environment (copied).
            cwd: the starting working directory.
            pinned: variables restored to their base values (or unset again) after every command.
        """
        self._base = dict(env)
        self.env: dict[str, str] = dict(env)
        self.cwd = Path(cwd).absolute()
        self._base_cwd = self.cwd
        self.history: list[str] = []
        self._pinned = tuple(pinned)
        self._bash = shutil.which("bash", path=self._base.get("PATH")) or shutil.which("bash") or "/bin/bash"
        self._running = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._process: asyncio.subprocess.Process | None = None
        self._cancel_requested = False
        self._cancel_task: asyncio.Task[None] | None = None
        self._background_groups: set[int] = set()
        self._background_readers: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        """True while a command runs."""
        return self._running

    def exported(self) -> dict[str, str]:
        """Variables the learner set or changed relative to the base environment, e.g. ``{"NODE_PORT": "31234"}``.

        Variables bash manages itself (PWD, OLDPWD, SHLVL, _), exported functions (``BASH_FUNC_*``) and pinned
        variables are left out; variables the learner unset do not show (a dict of values cannot say "unset").
        """
        hidden = _SHELL_MANAGED | set(self._pinned)
        return {name: value for name, value in self.env.items()
                if name not in hidden and not name.startswith("BASH_FUNC_") and self._base.get(name) != value}

    def restore(self, variables: Mapping[str, str], history: Iterable[str] = ()) -> None:
        """Bring back what an earlier session of the same lesson left: its exported variables and its history.

        Pinned variables, ``PATH`` (it holds this installation's kubectl guard) and the variables bash manages
        are not restored; neither are names that are not shell identifiers or values with a NUL character.

        Args:
            variables: as :meth:`exported` returned them.
            history: lines run, oldest first; they come before this session's own.
        """
        hidden = _SHELL_MANAGED | set(self._pinned) | {"PATH"}
        for name, value in variables.items():
            if (name not in hidden and not name.startswith("BASH_FUNC_") and _IDENTIFIER.fullmatch(name)
                    and "\0" not in value):
                self.env[name] = value
        self.history[:0] = [line for line in history if line.strip()]

    async def run(self, line: str, on_output: Callable[[str], None]) -> int:
        """Run one line in bash, streaming its output.

        Standard input is /dev/null; stdout and stderr share one pipe, so they arrive merged in order, as
        text chunks (UTF-8, undecodable bytes replaced) delivered as soon as they are written, partial lines
        included. The command runs in its own process group, so :meth:`cancel` reaches every process of a
        pipeline. Output a background job (``cmd &``) writes after the line ends still goes to ``on_output``,
        like a terminal; :meth:`close` ends such jobs.

        Afterwards :attr:`env` and :attr:`cwd` reflect the command's end state (``export``, ``unset``, ``cd``);
        pinned variables are put back to their base values, with one line to ``on_output`` for each one the
        command changed. A line refused by :func:`check_command` does not run: ``on_output`` gets the refusal
        and a newline.

        Args:
            line: the shell line as typed; passed to bash through the environment, never interpolated.
            on_output: called with each chunk of output.

        Returns:
            The exit status: bash's (1 for ``false``, 127 for a missing command, 128 + N after signal N),
            2 for a refused line, 130 after :meth:`cancel`, 0 for a blank line.

        Raises:
            RuntimeError: a command is already running in this session.
            ShellError: bash itself cannot be started.
        """
        state_path = self._begin(line, on_output)
        if isinstance(state_path, int):
            return state_path
        self._loop = asyncio.get_running_loop()
        self._cancel_task = None
        try:
            return await self._run(line, on_output, state_path)
        finally:
            self._running = False
            self._process = None
            self._cancel_task = None
            state_path.unlink(missing_ok=True)

    def _begin(self, line: str, say: Callable[[str], None]) -> Path | int:
        """What :meth:`run` and :meth:`run_attached` do before the line runs: the exit status of a line that does
        not run (0 blank, 2 refused, the refusal said), or the file the line's end state goes to (the session is
        then running).

        Raises:
            RuntimeError: a command is already running in this session.
        """
        if self._running:
            raise RuntimeError("a command is already running in this session")
        if not line.strip():
            return 0
        self.history.append(line)
        refusal = check_command(line)
        if refusal is not None:
            say(refusal + "\n")
            return 2
        self._running = True
        self._cancel_requested = False
        descriptor, state_name = tempfile.mkstemp(prefix="kube-tutor-state-")
        os.close(descriptor)
        return Path(state_name)

    def _child_env(self, line: str, state_path: Path) -> dict[str, str]:
        """The environment of the bash that runs ``line`` through :data:`_WRAPPER`."""
        child_env = {name: value for name, value in self.env.items() if name != "BASH_ENV"}
        if "BASH_ENV" in self.env:
            child_env["KUBE_TUTOR_BASH_ENV"] = self.env["BASH_ENV"]
        child_env["KUBE_TUTOR_LINE"] = line.replace("\0", "")  # bash cannot hold a NUL character anyway
        child_env["KUBE_TUTOR_STATE"] = str(state_path)
        return child_env

    async def _run(self, line: str, on_output: Callable[[str], None], state_path: Path) -> int:
        cwd = self._usable_cwd(on_output)
        child_env = self._child_env(line, state_path)
        try:
            process = await asyncio.create_subprocess_exec(
                self._bash, "--noprofile", "--norc", "-c", _WRAPPER, "bash", stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=child_env, cwd=cwd, start_new_session=True)
        except FileNotFoundError as error:
            raise ShellError(f"{self._bash}: command not found") from error
        self._process = process
        pgid = process.pid
        if self._cancel_requested:
            self._start_cancel()
        assert process.stdout is not None
        reader = asyncio.create_task(_pump(process.stdout, on_output))
        waiter = asyncio.create_task(_wait_exit(process))
        try:
            await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
            if reader.done() and reader.exception() is not None:
                _signal_group(pgid, signal.SIGKILL)
                await waiter
                reader.result()  # re-raise what on_output raised
            returncode = await waiter
            if self._cancel_task is not None:
                await self._cancel_task
            done, _ = await asyncio.wait({reader}, timeout=_LEFTOVER_GRACE)
        except BaseException:
            _signal_group(pgid, signal.SIGKILL)
            reader.cancel()
            waiter.cancel()
            raise
        if not done:
            self._background_readers.add(reader)  # a background job still holds the pipe: keep forwarding
            reader.add_done_callback(self._background_readers.discard)
        else:
            reader.result()
        if self._cancel_requested:
            return 130
        if _group_exists(pgid):
            self._background_groups.add(pgid)
        self._apply_state(state_path, on_output)
        return _exit_status(returncode)

    def run_attached(self, line: str, on_output: Callable[[str], None], *, terminal: tuple[int, int] = (0, 1),
                     on_notice: Callable[[str], None] | None = None) -> int:
        """Run one line attached to a real terminal (``kubectl exec -ti POD -- bash``, ``vi``), blocking until it
        ends: the twin of :meth:`run` for a line that needs a terminal, called while the TUI is suspended.

        The line runs in the same bash wrapper as :meth:`run`, with the same state handling (exported variables
        and the working directory kept, pinned variables restored, :attr:`history` appended, :func:`check_command`
        refusing the line before any of it runs), but its stdin, stdout and stderr are the slave side of a new pty,
        its controlling terminal in a session of its own. :func:`attach_terminal` relays the bytes between that pty
        and ``terminal`` (raw mode, the window size followed, Ctrl+C reaching the program through the pty) and
        passes everything the program shows to ``on_output`` (:func:`clean_transcript` makes text of it for
        checks). A process the line leaves behind in its group (``nohup cmd &``) is ended by :meth:`close`.

        Args:
            line: the shell line as typed.
            on_output: called with each chunk the program wrote to its terminal (UTF-8, escape codes kept).
            terminal: the real terminal's (input, output) file descriptors; tests hand in a pty pair.
            on_notice: kube-tutor's own lines (the refusal, a restored pinned variable, a vanished directory);
                by default ``on_output``.

        Returns:
            The exit status as :meth:`run` gives it (2 for a refused line, 128 + N after signal N).

        Raises:
            RuntimeError: a command is already running in this session.
            ShellError: bash itself cannot be started.
        """
        notice = on_notice or on_output
        state_path = self._begin(line, notice)
        if isinstance(state_path, int):
            return state_path
        try:
            cwd = self._usable_cwd(notice)
            returncode, pgid = attach_terminal(
                [self._bash, "--noprofile", "--norc", "-c", _WRAPPER, "bash"], env=self._child_env(line, state_path),
                cwd=cwd, on_output=on_output, terminal=terminal)
            if _group_exists(pgid):
                self._background_groups.add(pgid)
            self._apply_state(state_path, notice)
            return _exit_status(returncode)
        finally:
            self._running = False
            state_path.unlink(missing_ok=True)

    def _usable_cwd(self, on_output: Callable[[str], None]) -> Path:
        if self.cwd.is_dir():
            return self.cwd
        fallback = next((path for path in (self._base_cwd, Path.home(), Path("/")) if path.is_dir()), Path("/"))
        on_output(f"kube-tutor: the directory {self.cwd} no longer exists; running in {fallback}\n")
        self.cwd = fallback
        if "PWD" in self.env:
            self.env["PWD"] = str(fallback)
        return fallback

    def _apply_state(self, state_path: Path, on_output: Callable[[str], None]) -> None:
        """Take over the environment and directory the command ended with, then restore pinned variables."""
        try:
            data = state_path.read_bytes()
        except OSError:
            return
        head, separator, body = data.partition(b"\0")
        if not separator:
            return  # the EXIT trap did not run (exec, replaced trap): keep the previous state
        new_env: dict[str, str] = {}
        for entry in body.split(b"\0"):
            raw_name, equals, raw_value = entry.partition(b"=")
            if equals and raw_name:
                new_env[os.fsdecode(raw_name)] = os.fsdecode(raw_value)
        for managed in ("_", "SHLVL"):
            new_env.pop(managed, None)
            if managed in self.env:
                new_env[managed] = self.env[managed]
        directory = Path(os.fsdecode(head.removesuffix(b"\n")))
        if directory.is_absolute() and directory.is_dir():
            self.cwd = directory
        if "PWD" in new_env:
            new_env["PWD"] = str(self.cwd)
        for name in self._pinned:
            base = self._base.get(name)
            if new_env.get(name) == base:
                continue
            if base is None:
                new_env.pop(name, None)
            else:
                new_env[name] = base
            reason = PINNED_REASONS.get(name, "kube-tutor keeps it fixed during the lesson")
            on_output(f"kube-tutor: restored {name}, which your command changed: {reason}.\n")
        self.env = new_env

    def cancel(self) -> None:
        """Interrupt the running command, like Ctrl+C in a terminal.

        SIGINT goes to the command's process group; if the group is still there after 0.5 s, SIGTERM; after
        another 2 s, SIGKILL. :meth:`run` then returns 130 once the group is gone. No-op when nothing runs.
        Safe to call from another thread.
        """
        loop = self._loop
        if loop is None or not self._running:
            return
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            self._request_cancel()
        else:
            loop.call_soon_threadsafe(self._request_cancel)

    def _request_cancel(self) -> None:
        if not self._running:
            return
        self._cancel_requested = True
        if self._process is not None:
            self._start_cancel()

    def _start_cancel(self) -> None:
        if self._cancel_task is None and self._process is not None:
            self._cancel_task = asyncio.get_running_loop().create_task(
                _end_group(self._process.pid, _INTERRUPT_STEPS))

    async def close(self) -> None:
        """End the session: cancel a running command and end background jobs left by earlier lines.

        Background process groups get SIGHUP (as when a terminal closes), then SIGTERM and SIGKILL.
        """
        self.cancel()
        groups, self._background_groups = self._background_groups, set()
        await asyncio.gather(*(_end_group(pgid, _HANGUP_STEPS) for pgid in groups))
        readers = set(self._background_readers)
        if readers:
            _, pending = await asyncio.wait(readers, timeout=1.0)
            for reader in pending:
                reader.cancel()


# --------------------------------------------------------------------------------------------------------------
# Async helpers for kube-tutor's own commands

_LINE_LIMIT = 16 * 1024 * 1024


def _die_with_parent() -> list[str]:
    """util-linux's ``setpriv --pdeathsig TERM``, where it is: the kernel sends the long-lived child SIGTERM when
    the thread that started it ends (``PR_SET_PDEATHSIG``, kept across ``execve``), so a TUI killed with SIGKILL
    leaves no ``kubectl proxy`` behind; Python's ``preexec_fn`` could do it too, but is unsafe with threads."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", "--"] if setpriv else []


async def stream_lines(argv: Sequence[str | os.PathLike[str]], env: Mapping[str, str]) -> AsyncIterator[str]:
    """Run a long-lived command and yield its stdout lines as they arrive.

    The command runs in its own process group with stdin from /dev/null. Closing the iterator (``aclose()``,
    breaking out of ``async for`` once the generator is finalised, or cancelling the task that iterates)
    terminates the group: SIGTERM, then SIGKILL after 2 s; the process is always reaped.

    Args:
        argv: the program and its arguments (no shell), e.g. ``kubectl get pods -w -o json``.
        env: the complete environment.

    Yields:
        Each line of stdout without its line ending (UTF-8, undecodable bytes replaced); a last line without
        a newline is yielded too.

    Raises:
        ShellError: the program is missing, a line is longer than 16 MiB, or the program exited non-zero
            (the message is the last non-blank line it wrote to stderr, else its exit status).
    """
    args = [os.fspath(a) for a in argv]
    if shutil.which(args[0], path=env.get("PATH")) is None and not Path(args[0]).is_file():
        raise ShellError(f"{args[0]}: command not found")
    try:
        process = await asyncio.create_subprocess_exec(
            *_die_with_parent(), *args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=dict(env), start_new_session=True, limit=_LINE_LIMIT)
    except FileNotFoundError as error:
        raise ShellError(f"{args[0]}: command not found") from error
    assert process.stdout is not None and process.stderr is not None
    stderr_lines: deque[str] = deque(maxlen=20)

    def keep(raw: bytes) -> None:
        text = raw.decode("utf-8", errors="replace").strip()
        if text:
            stderr_lines.append(text)

    async def keep_stderr(stream: asyncio.StreamReader) -> None:
        pending = b""
        while chunk := await stream.read(_READ_SIZE):
            *complete, pending = (pending + chunk).split(b"\n")
            for raw in complete:
                keep(raw)
            pending = pending[-_READ_SIZE:]
        keep(pending)

    stderr_task = asyncio.create_task(keep_stderr(process.stderr))
    finished = False
    try:
        while True:
            try:
                raw = await process.stdout.readline()
            except ValueError as error:  # asyncio reports an overlong line as ValueError
                raise ShellError(f"{args[0]}: output line longer than {_LINE_LIMIT} bytes") from error
            if not raw:
                break
            text = raw.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")
            yield text
        returncode = await _wait_exit(process)
        finished = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(stderr_task), 1.0)
        if returncode != 0:
            raise ShellError(stderr_lines[-1] if stderr_lines
                             else f"{args[0]} exited with status {_exit_status(returncode)}")
    finally:
        if not finished:
            try:
                await _end_group(process.pid, _TERMINATE_STEPS)
                await _wait_exit(process)
            except BaseException:
                _signal_group(process.pid, signal.SIGKILL)
                raise
        stderr_task.cancel()


async def run_async(argv: Sequence[str | os.PathLike[str]], env: Mapping[str, str] | None = None, *,
                    timeout: float | None = 60, input_text: str | None = None) -> Result:
    """Run a command to completion and capture its output: the awaitable twin of :func:`run`.

    The command runs in its own process group, so a timeout (or cancelling the awaiting task) kills the
    whole group, children included. Output is decoded as UTF-8 (undecodable bytes replaced) with universal
    newlines.

    Args:
        argv: the program and its arguments (no shell).
        env: the complete environment (None: inherit).
        timeout: seconds before the command is killed (None: no limit).
        input_text: text for standard input (None: /dev/null).

    Returns:
        The exit code and both outputs as text.

    Raises:
        ShellError: the program is missing or timed out.
    """
    args = [os.fspath(a) for a in argv]
    try:
        process = await asyncio.create_subprocess_exec(
            *args, stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env) if env is not None else None,
            start_new_session=True)
    except FileNotFoundError as error:
        raise ShellError(f"{args[0]}: command not found") from error
    data = input_text.encode("utf-8") if input_text is not None else None
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(data), timeout)
    except TimeoutError as error:
        _signal_group(process.pid, signal.SIGKILL)
        await _wait_exit(process)
        raise ShellError(f"{' '.join(args)}: no answer after {timeout:g} s") from error
    except BaseException:
        _signal_group(process.pid, signal.SIGKILL)
        raise
    assert process.returncode is not None
    return Result(tuple(args), process.returncode, _text(stdout), _text(stderr))


def interactive(argv: Sequence[str | os.PathLike[str]], *, env: Mapping[str, str] | None = None,
                cwd: str | os.PathLike[str] | None = None) -> int:
    """Run a program attached to this terminal (the learner's ``$SHELL`` while the TUI is suspended).

    Returns:
        Its exit code; 127 when it cannot be started.
    """
    try:
        return subprocess.call([os.fspath(a) for a in argv], env=dict(env) if env is not None else None, cwd=cwd)
    except OSError:
        return 127


# --------------------------------------------------------------------------------------------------------------
# A program on a pty of its own, relayed to the real terminal and recorded

_DRAIN_GRACE = 0.2
"""Seconds of quiet on the pty, once the program has exited, before the relay stops (the kernel hands bytes
written to the slave over to the master a moment later; a background job may still hold the slave)."""
_DRAIN_LIMIT = 2.0
"""Seconds the relay goes on after the program exited, at most (a background job that keeps writing)."""


def _window_size(source: int, target: int) -> None:
    """Copy a terminal's window size to another (the pty's master); a source that is no terminal is skipped."""
    import fcntl
    import termios

    with contextlib.suppress(OSError):
        size = fcntl.ioctl(source, termios.TIOCGWINSZ, b"\0" * 8)
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)


def _write_all(fd: int, data: bytes) -> bool:
    """Write all of ``data`` to a (possibly non-blocking) descriptor; False when it has gone."""
    import select

    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            select.select([], [fd], [])
            continue
        except OSError:
            return False
        view = view[written:]
    return True


def attach_terminal(argv: Sequence[str | os.PathLike[str]], *, env: Mapping[str, str],
                    cwd: str | os.PathLike[str], on_output: Callable[[str], None],
                    terminal: tuple[int, int] = (0, 1)) -> tuple[int, int]:
    """Run a program on a new pty relayed to a real terminal, recording what it shows; block until it exits.

    The program gets the pty's slave as stdin, stdout, stderr and controlling terminal, in a session (and process
    group) of its own; the slave starts with the real terminal's settings. For the run, the real terminal is in
    raw mode, so every key goes to the program: Ctrl+C reaches it as the pty's own interrupt character (the pty's
    line discipline signals its foreground process group), never kube-tutor. The real terminal's settings are
    restored in every case (an exception in ``on_output`` included). The window size is copied at the start and
    on SIGWINCH (when called on the main thread, where Python signal handlers live).

    Bytes from the program go to the terminal untouched and, decoded as UTF-8 (undecodable bytes replaced), to
    ``on_output``. The relay stops once the program has exited and the pty has been quiet for
    :data:`_DRAIN_GRACE` seconds (or after :data:`_DRAIN_LIMIT` seconds), or when every holder of the slave has
    closed it.

    Args:
        argv: the program and its arguments (no shell).
        env: its complete environment.
        cwd: its working directory.
        on_output: called with each chunk of what the program shows.
        terminal: the real terminal's (input, output) file descriptors.

    Returns:
        The program's return code (negative: killed by that signal) and its process group id.

    Raises:
        ShellError: the program cannot be started.
    """
    import pty
    import termios
    import threading
    import tty

    term_in, term_out = terminal
    saved = termios.tcgetattr(term_in) if os.isatty(term_in) else None
    master, slave = pty.openpty()
    try:
        if saved is not None:
            termios.tcsetattr(slave, termios.TCSANOW, saved)
        _window_size(term_out if os.isatty(term_out) else term_in, master)
        try:
            process = subprocess.Popen([os.fspath(a) for a in argv], stdin=slave, stdout=slave, stderr=slave,
                                       env=dict(env), cwd=cwd, start_new_session=True,
                                       preexec_fn=_controlling_terminal)
        except OSError as error:
            raise ShellError(f"{argv[0]}: cannot run it ({error.strerror or error})") from error
    except BaseException:
        os.close(master)
        raise
    finally:
        os.close(slave)
    previous_winch: Any = None
    on_main_thread = threading.current_thread() is threading.main_thread()
    try:
        if on_main_thread:
            previous_winch = signal.signal(
                signal.SIGWINCH, lambda _signum, _frame: _window_size(term_out if os.isatty(term_out) else term_in,
                                                                      master))
        if saved is not None:
            tty.setraw(term_in, termios.TCSANOW)  # TCSANOW: keys typed ahead are not thrown away
        _relay(process, master, term_in, term_out, on_output)
    except BaseException:
        _signal_group(process.pid, signal.SIGKILL)
        process.wait()
        raise
    finally:
        if saved is not None:
            with contextlib.suppress(termios.error):
                termios.tcsetattr(term_in, termios.TCSADRAIN, saved)
        if on_main_thread:
            signal.signal(signal.SIGWINCH, previous_winch if previous_winch is not None else signal.SIG_DFL)
        os.close(master)
    return process.wait(), process.pid


def _relay(process: subprocess.Popen[bytes], master: int, term_in: int, term_out: int,
           on_output: Callable[[str], None]) -> None:
    """Copy terminal→master and master→terminal (and ``on_output``) until the program is done with the pty."""
    import select

    os.set_blocking(master, False)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = b""  # keys not yet taken by the pty (its input queue is full)
    input_open = True
    drain_end: float | None = None
    while True:
        if drain_end is None and process.poll() is not None:
            drain_end = time.monotonic() + _DRAIN_LIMIT
        readers = [master] + ([term_in] if input_open and drain_end is None else [])
        writers = [master] if pending and drain_end is None else []
        timeout = _EXIT_POLL if drain_end is None else min(_DRAIN_GRACE, max(0.0, drain_end - time.monotonic()))
        readable, writable, _ = select.select(readers, writers, [], timeout)
        if master in writable:
            try:
                written = os.write(master, pending)
            except BlockingIOError:
                written = 0
            except OSError:
                written = len(pending)  # the pty has gone: the keys have nowhere to go
            pending = pending[written:]
        if term_in in readable:
            keys: bytes | None
            try:
                keys = os.read(term_in, _READ_SIZE)
            except BlockingIOError:
                keys = None
            except OSError:
                keys = b""
            if keys:
                pending += keys
            elif keys is not None:
                input_open = False  # the terminal's input ended: the program goes on without keys
        if master in readable:
            try:
                data: bytes | None = os.read(master, _READ_SIZE)
            except BlockingIOError:
                data = None
            except OSError:  # EIO: every holder of the slave has closed it
                data = b""
            if data == b"":
                break
            if data:
                _write_all(term_out, data)
                if text := decoder.decode(data):
                    on_output(text)
                continue
        if drain_end is not None and (not readable or time.monotonic() >= drain_end):
            break
    if tail := decoder.decode(b"", final=True):
        on_output(tail)


_TERMINAL_CODES = re.compile(
    r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC: a window title, a hyperlink (ended by BEL or ESC \\)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS, SOS, PM, APC strings
    r"|\x1b\[[0-?]*[ -/]*[@-~]"  # CSI: colours, cursor movement, bracketed paste, erasing
    r"|\x1b[ -/]*[0-~]"  # the other escapes: ESC =, ESC > (keypad), ESC ( B (character sets), ESC 7/8
)
_ERASED = re.compile(r"[^\n\x08]\x08")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean_transcript(transcript: str) -> str:
    """What a recorded terminal transcript says, as text for checks: the escape sequences (CSI such as colours and
    cursor moves, OSC such as window titles, and the other ``ESC`` sequences) removed, ``\\r`` removed (a pty ends
    lines with ``\\r\\n``), a character followed by a backspace removed with it (line editing), and the other
    control characters (BEL...) removed; newlines and tabs stay. A full-screen program's screen is not rebuilt:
    its text stays, in the order it was drawn.
    """
    text = _TERMINAL_CODES.sub("", transcript).replace("\r", "")
    while True:
        erased = _ERASED.sub("", text)
        if erased == text:
            break
        text = erased
    return _CONTROLS.sub("", text)


# --------------------------------------------------------------------------------------------------------------
# The practice cluster's container runtime


class _Stream:
    """One output of a container process, read chunk by chunk (``b""`` at its end)."""

    def __init__(self, reader: asyncio.StreamReader | None) -> None:
        self._reader = reader

    async def read(self) -> bytes:
        if self._reader is None:
            return b""
        try:
            return await self._reader.read(_READ_SIZE)
        except (ConnectionError, OSError):
            return b""


class _PipeProcess:
    """A container process on pipes (``kubectl exec`` without ``-t``, a container's main process)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._stdout = _Stream(process.stdout)
        self._stderr = _Stream(process.stderr)

    async def write(self, data: bytes) -> None:
        if self._process.stdin is None:
            return
        try:
            self._process.stdin.write(data)
            await self._process.stdin.drain()
        except (ConnectionError, OSError):
            pass  # the process closed its stdin: what is left is dropped, as a broken pipe

    def close_stdin(self) -> None:
        if self._process.stdin is not None:
            with contextlib.suppress(OSError):
                self._process.stdin.close()

    async def read_stdout(self) -> bytes:
        return await self._stdout.read()

    async def read_stderr(self) -> bytes:
        return await self._stderr.read()

    async def wait(self) -> int:
        return _exit_status(await _wait_exit(self._process))

    def resize(self, cols: int, rows: int) -> None:
        return None

    def signal(self, signum: int) -> None:
        _signal_group(self._process.pid, signum)

    def kill(self) -> None:
        _signal_group(self._process.pid, signal.SIGKILL)


class _PtyProcess(_PipeProcess):
    """A container process on a terminal of its own (``kubectl exec -t``): its controlling terminal, so Ctrl+C
    typed by the learner (a ``\\x03`` on stdin) interrupts its foreground job, and a resize reaches it."""

    def __init__(self, process: asyncio.subprocess.Process, master: int) -> None:
        super().__init__(process)
        self._master = master
        self._chunks: asyncio.Queue[bytes] = asyncio.Queue()
        self._loop = asyncio.get_running_loop()
        self._loop.add_reader(master, self._readable)
        self._closed = False

    def _readable(self) -> None:
        try:
            data = os.read(self._master, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: every holder of the terminal's other end has gone
            data = b""
        if not data:
            self._close_master()
        self._chunks.put_nowait(data)

    def _close_master(self) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._master)
            os.close(self._master)

    async def write(self, data: bytes) -> None:
        view = memoryview(data)
        while view and not self._closed:
            try:
                written = os.write(self._master, view)
            except BlockingIOError:
                ready: asyncio.Future[None] = self._loop.create_future()
                self._loop.add_writer(self._master, _resolve, ready)
                try:
                    await ready
                finally:
                    self._loop.remove_writer(self._master)
                continue
            except OSError:
                return
            view = view[written:]

    def close_stdin(self) -> None:
        import termios

        if not self._closed:
            with contextlib.suppress(OSError):
                os.write(self._master, bytes([termios.tcgetattr(self._master)[6][termios.VEOF][0]]))

    async def read_stdout(self) -> bytes:
        if self._closed and self._chunks.empty():
            return b""
        return await self._chunks.get()

    async def read_stderr(self) -> bytes:
        return b""

    def resize(self, cols: int, rows: int) -> None:
        import fcntl
        import struct
        import termios

        if not self._closed and cols > 0 and rows > 0:
            with contextlib.suppress(OSError):
                fcntl.ioctl(self._master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    async def wait(self) -> int:
        code = await super().wait()
        return code


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _controlling_terminal() -> None:
    """In the child, after ``setsid``: make its stdin (the terminal) the session's controlling terminal."""
    import fcntl
    import termios

    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class ContainerShell:
    """The practice cluster's container runtime: runs a container's processes as the learner's own processes.

    ``start`` runs a program of a container (``kubectl exec``, or a container's command) with exactly the
    environment the kubelet computed, in the container's directory, in a process group of its own, on a
    terminal of its own with ``tty``. Without ``sandbox`` it is no sandbox: the program can do whatever the
    learner's console can (``cd /`` leaves the container's directory). Every process starts in :meth:`command`;
    with ``sandbox`` (a workshop's practice cluster, ``python -m tutor.practice_server serve DIR --sandbox``:
    attendees reach these processes with ``kubectl exec``) it runs in bubblewrap like a seat (see
    :func:`sandbox_argv`): the host read-only, the container's directory its only writable one, HOME and
    ``sandbox.hidden`` (the cluster's state) hidden.
    """

    def __init__(self, sandbox: ContainerSandbox | None = None) -> None:
        self.sandbox = sandbox

    def command(self, argv: Sequence[str], *, root: Path, tty: bool = False) -> list[str]:
        """The command line that runs ``argv`` for the container whose directory is ``root``."""
        if self.sandbox is None:
            return list(argv)
        hidden = [Path(os.environ.get("HOME") or Path.home()), *self.sandbox.hidden]
        options = _bwrap_options(root, hidden, None, limits=self.sandbox.limits, new_session=not tty,
                                 environ=os.environ)
        return [bwrap_path() or "bwrap", *options, "--", *_limits_argv(self.sandbox.limits), *argv]

    async def start(self, argv: Sequence[str], *, root: Path, env: Mapping[str, str], cwd: Path, tty: bool,
                    stdin: bool) -> ContainerProcess:
        command = self.command(argv, root=root, tty=tty)
        if not tty:
            try:
                process = await asyncio.create_subprocess_exec(
                    *command, stdin=subprocess.PIPE if stdin else subprocess.DEVNULL, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, env=dict(env), cwd=cwd, start_new_session=True)
            except OSError as error:
                raise RuntimeUnavailable(f"exec: {argv[0]!r}: {error.strerror or error}") from error
            return _PipeProcess(process)
        import pty

        master, slave = pty.openpty()
        os.set_blocking(master, False)
        try:
            process = await asyncio.create_subprocess_exec(
                *command, stdin=slave, stdout=slave, stderr=slave, env=dict(env), cwd=cwd, start_new_session=True,
                preexec_fn=_controlling_terminal)
        except OSError as error:
            os.close(master)
            raise RuntimeUnavailable(f"exec: {argv[0]!r}: {error.strerror or error}") from error
        finally:
            os.close(slave)
        return _PtyProcess(process, master)


# --------------------------------------------------------------------------------------------------------------
# The workshop sandbox: every process of a workshop seat (its TUI, its console, `kubectl exec` into the practice
# cluster's containers) runs under bubblewrap, because attendees are not the machine's owner.
#
# What it does (bubblewrap(1), `bwrap --help` of 0.8.0): a new user, pid, ipc and uts namespace (not the network:
# the cluster and the workshop are on 127.0.0.1), the whole host filesystem read-only (`--ro-bind / /`), a fresh
# /dev, /proc (of the new pid namespace: other seats' processes are not there) and a size-limited /tmp; tmpfs over
# the instructor's HOME, kube-tutor's state directory (the practice cluster's CA key and admin kubeconfig) and the
# workshop root (every seat's files); /dev/null over each file of the instructor's $KUBECONFIG; what is needed to
# run kube-tutor, when it lies inside a hidden directory, bound back read-only; then the seat's own directory
# read-write. `--cap-drop ALL`: bubblewrap started by root keeps every capability in the sandbox by default, and
# with CAP_SYS_ADMIN a process could `umount` the tmpfs and see what it hides (tested).
# `--disable-userns`: no nested user namespace, the other way to regain capabilities over those mounts.
# `--clearenv`: the instructor's environment (tokens, KUBECONFIG) does not leak in; the sandbox gets exactly ``env``.
#
# Limits (prlimit(1) of util-linux, run inside the sandbox): RLIMIT_NPROC counts the processes (and threads) of
# a real uid; since Linux 5.14 that count is kept per user namespace (kernel/ucount.c), so inside a seat's own
# user namespace it counts that seat's processes only. The kernel does not apply RLIMIT_NPROC to root
# (kernel/fork.c: `p->real_cred->user != INIT_USER`), so run a workshop as an ordinary user. RLIMIT_AS bounds each
# process's address space (kubectl, a Go program, reserves about 1 GiB of it before doing anything), RLIMIT_FSIZE
# the size of a file it writes. A total per seat needs a cgroup: where the user's systemd manager runs on cgroup v2
# with the memory controller delegated (Debian 12, Ubuntu 22.04, Fedora), each seat runs in a transient scope of
# its own, `systemd-run --user --scope -p MemoryMax= -p MemorySwapMax=0 -p TasksMax=` (systemd's src/run/run.c
# parses its options with "+", so the first non-option, bwrap, ends them: no "--"), which bounds everything the
# seat's processes use, its /tmp included (a tmpfs's pages are charged to the cgroup that writes them). Elsewhere
# the seat's bound is processes x address space, and its /tmp is a tmpfs of a fixed size (`seat_scope_ok` says
# which, for `workshop serve` and `doctor`).

SANDBOX_NPROC = 256
"""Processes and threads a seat may have at once (RLIMIT_NPROC in its user namespace)."""
SANDBOX_ADDRESS_SPACE = 4 * 1024**3
"""RLIMIT_AS of every process of a seat: kubectl needs about 1 GiB of address space to start."""
SANDBOX_FILE_SIZE = 1024**3
"""RLIMIT_FSIZE: the largest file a seat's process may write."""
SANDBOX_TMP_SIZE = 64 * 1024**2
"""Size of a seat's private /tmp (a tmpfs: memory)."""
SANDBOX_MEMORY = 1024**3
"""A seat's total memory (its scope's MemoryMax), where systemd can make one: its TUI (~90 MB), its kubectl
(~40 MB each), its /tmp, with room to spare."""
CGROUP_ROOT = Path("/sys/fs/cgroup")
"""Where the unified (v2) cgroup hierarchy is mounted."""

TEXTUAL_SERVE_ENV = ("TEXTUAL_DRIVER", "TEXTUAL_FPS", "TEXTUAL_COLOR_SYSTEM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION",
                     "COLUMNS", "ROWS", "TEXTUAL", "TEXTUAL_LOG")
"""What textual-serve puts in the environment of the app it starts (textual_serve/app_service.py,
``AppService._build_environment``): the seat command passes these through into the sandbox when they are set."""

_SANDBOX_PROBE_TIMEOUT = 15.0
_SAFE_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "LC_MESSAGES", "TERM", "TZ", "COLORTERM", "NO_COLOR",
             "KUBE_TUTOR_LESSONS_DIR", "KUBE_TUTOR_TIME_SCALE")
"""What a seat inherits of the environment that starts it: nothing that names a credential or a file."""


@dataclass(frozen=True)
class SandboxLimits:
    """The limits of one sandbox (see the comment above :data:`SANDBOX_NPROC`)."""

    processes: int = SANDBOX_NPROC
    address_space: int = SANDBOX_ADDRESS_SPACE
    file_size: int = SANDBOX_FILE_SIZE
    tmp_size: int = SANDBOX_TMP_SIZE
    memory: int = SANDBOX_MEMORY


def bwrap_path() -> str | None:
    """bubblewrap's ``bwrap`` on PATH (Debian package ``bubblewrap``), or None."""
    return shutil.which("bwrap")


def prlimit_path() -> str | None:
    """util-linux's ``prlimit`` on PATH, or None."""
    return shutil.which("prlimit")


def systemd_run_path() -> str | None:
    """systemd's ``systemd-run`` on PATH, or None."""
    return shutil.which("systemd-run")


def _scope_argv(systemd_run: str, limits: SandboxLimits) -> list[str]:
    return [systemd_run, "--user", "--scope", "--quiet", "--collect", "-p", f"MemoryMax={limits.memory}",
            "-p", "MemorySwapMax=0", "-p", f"TasksMax={limits.processes}"]


def seat_scope_ok(limits: SandboxLimits = SandboxLimits()) -> tuple[bool, str]:
    """Whether each seat can run in a systemd scope of its own that bounds its memory and tasks in total, and a
    one-line reason (what bounds a seat instead when it cannot). Looked at once per ``systemd-run`` found."""
    systemd_run = systemd_run_path()
    if systemd_run is None:
        return False, ("no `systemd-run` here: a seat's memory is bounded per process "
                       f"({limits.address_space // 1024**3} GiB of address space each), not in total")
    return _scope_probe(systemd_run, limits, str(CGROUP_ROOT))


@functools.lru_cache(maxsize=8)
def _scope_probe(systemd_run: str, limits: SandboxLimits, cgroup_root: str) -> tuple[bool, str]:
    # The scope's own memory.max, read from inside it: a scope made where the memory controller is not delegated
    # (cgroup v1, or v2 without delegation) starts, but bounds nothing.
    own = f'"{cgroup_root}$(sed -n "s/^0:://p" /proc/self/cgroup)/memory.max"'
    probe = [*_scope_argv(systemd_run, limits), "/bin/sh", "-c", f"cat {own}"]
    per_process = (f"a seat's memory is bounded per process ({limits.address_space // 1024**3} GiB of address "
                   "space each), not in total")
    try:
        done = run(probe, timeout=_SANDBOX_PROBE_TIMEOUT)
    except ShellError as error:
        return False, f"systemd-run did not run ({error}): {per_process}"
    if done.returncode != 0:
        why = _first_nonblank(done.stderr or done.stdout) or f"exit {done.returncode}"
        return False, f"no systemd user manager to make a seat's scope ({why}): {per_process}"
    if done.stdout.strip() != str(limits.memory):
        return False, (f"the user's systemd scopes do not bound memory (no cgroup v2 memory controller delegated "
                       f"to the user): {per_process}")
    return True, (f"each seat runs in a systemd scope of its own: {limits.memory // 1024**2} MiB of memory and "
                  f"{limits.processes} tasks in total")


def userns_diagnosis(stderr: str, sysctl: Path = Path("/proc/sys")) -> str:
    """Why ``bwrap --unshare-user`` failed, in one line with the fix, from its error and the kernel's settings.

    The knobs, in the order a kernel applies them: Debian's and Ubuntu's old patch
    ``kernel.unprivileged_userns_clone`` (0: only root may create user namespaces), ``user.max_user_namespaces``
    (0: nobody may), Ubuntu 23.10+'s AppArmor ``kernel.apparmor_restrict_unprivileged_userns`` (1: only programs
    with a profile allowing it). Else a container's seccomp profile (Docker's default refuses ``clone`` with
    CLONE_NEWUSER) is the usual cause.
    """
    error = _first_nonblank(stderr) or "no error text"

    def knob(name: str) -> int | None:
        try:
            return int((sysctl / name).read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            return None

    if knob("kernel/unprivileged_userns_clone") == 0:
        why = ("unprivileged user namespaces are off (kernel.unprivileged_userns_clone = 0): "
               "sudo sysctl -w kernel.unprivileged_userns_clone=1 (and set it in /etc/sysctl.d/ to keep it)")
    elif knob("user/max_user_namespaces") == 0:
        why = ("user namespaces are off (user.max_user_namespaces = 0): sudo sysctl -w user.max_user_namespaces=15000 "
               "(and set it in /etc/sysctl.d/ to keep it)")
    elif knob("kernel/apparmor_restrict_unprivileged_userns") == 1:
        why = ("AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1): "
               "install the AppArmor profile that allows bwrap (Ubuntu: the bwrap-userns-restrict profile of the "
               "apparmor package, `sudo apparmor_parser -r /etc/apparmor.d/bwrap-userns-restrict`) or sudo sysctl -w "
               "kernel.apparmor_restrict_unprivileged_userns=0")
    elif Path("/.dockerenv").exists() or Path("/run/.containerenv").exists():
        why = ("this runs in a container whose seccomp profile forbids new namespaces: run the workshop on the host, "
               "or start the container with --security-opt seccomp=unconfined")
    else:
        why = "user namespaces are not available to this user on this kernel"
    return f"bubblewrap cannot create a sandbox ({error}): {why}"


def _first_nonblank(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def sandbox_ok() -> tuple[bool, str]:
    """Whether a workshop seat can be sandboxed here, and a one-line reason (the fix when it cannot).

    Really starts ``bwrap`` with the namespaces and options :func:`sandbox_argv` uses and runs ``true`` in it.
    """
    bwrap = bwrap_path()
    if bwrap is None:
        return False, ("bubblewrap is not installed (no `bwrap` on PATH): sudo apt-get install bubblewrap "
                       "(Fedora: sudo dnf install bubblewrap)")
    prlimit = prlimit_path()
    if prlimit is None:
        return False, "util-linux's `prlimit` is not on PATH: install util-linux (it sets a seat's limits)"
    probe = [bwrap, *_BWRAP_NAMESPACES, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
             "--", prlimit, f"--nproc={SANDBOX_NPROC}", "--", "true"]
    try:
        done = run(probe, timeout=_SANDBOX_PROBE_TIMEOUT)
    except ShellError as error:
        return False, f"bubblewrap ({bwrap}) did not run: {error}"
    if done.returncode != 0:
        return False, userns_diagnosis(done.stderr or done.stdout)
    try:
        version = run([bwrap, "--version"], timeout=_SANDBOX_PROBE_TIMEOUT).stdout.strip()
    except ShellError:
        version = "bubblewrap"
    return True, f"{version or 'bubblewrap'} ({bwrap}) makes sandboxes here: user namespaces work"


_BWRAP_NAMESPACES = ("--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--disable-userns",
                     "--cap-drop", "ALL", "--die-with-parent")


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _runtime_paths() -> list[Path]:
    """What running kube-tutor needs to read: its interpreter and packages, the bundled kubectl, the lessons."""
    import tutor
    from tutor import paths

    needed = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix), Path(sys.executable).parent,
              Path(tutor.__file__).resolve().parent.parent, paths.lessons_dir()}
    try:
        needed.add(paths.kubectl().parent)
    except FileNotFoundError:
        pass
    return sorted({path.resolve() for path in needed})


def _kubeconfig_files(environ: Mapping[str, str]) -> list[Path]:
    listed = [Path(item).expanduser() for item in environ.get("KUBECONFIG", "").split(os.pathsep) if item]
    home = environ.get("HOME")
    if home:
        listed.append(Path(home) / ".kube" / "config")
    return [path.resolve() for path in listed if path.is_file()]


def _bwrap_options(own: Path, hidden: Sequence[Path], env: Mapping[str, str] | None, *, limits: SandboxLimits,
                   new_session: bool, environ: Mapping[str, str]) -> list[str]:
    """bwrap's options (everything before ``--``) for a sandbox whose one writable directory is ``own``; ``env``:
    the sandbox's complete environment (None: the environment bwrap is started with)."""
    own = own.resolve()
    hide = sorted({path.resolve() for path in hidden if path.resolve().is_dir() and path.resolve() != Path("/")},
                  key=lambda path: len(path.parts))
    options = [*_BWRAP_NAMESPACES, *(["--new-session"] if new_session else []),
               "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
               "--size", str(limits.tmp_size), "--perms", "1777", "--tmpfs", "/tmp"]
    for directory in hide:
        options += ["--perms", "0700", "--tmpfs", str(directory)]
    # Bind back what kube-tutor needs to run when it lies inside a hidden directory (a venv under HOME) ...
    # (the private /tmp hides one installed under /tmp too: a CI checkout, a throwaway venv)
    kept = [path for path in _runtime_paths()
            if path.exists() and any(_inside(path, directory) for directory in [*hide, Path("/tmp")])
            and not _inside(path, own)]
    for path in kept:
        options += ["--ro-bind", str(path), str(path)]
    # ... then hide again what such a path would have brought back (a state directory inside a checkout).
    for directory in hide:
        if any(_inside(directory, path) and directory != path for path in kept):
            options += ["--perms", "0700", "--tmpfs", str(directory)]
    for file in _kubeconfig_files(environ):
        visible = not any(_inside(file, directory) for directory in hide) or any(_inside(file, path) for path in kept)
        if visible and not _inside(file, own):
            options += ["--ro-bind", "/dev/null", str(file)]
    options += ["--bind", str(own), str(own)]
    # The tmpfs over a hidden directory holds the mount points of what was bound in it; read-only, it can hold no
    # attendee's files (memory). --remount-ro is not recursive: the seat's own directory stays writable.
    for directory in hide:
        if not _inside(directory, own):
            options += ["--remount-ro", str(directory)]
    if env is not None:
        options.append("--clearenv")
        for name, value in env.items():
            options += ["--setenv", name, value]
    return options


def _limits_argv(limits: SandboxLimits) -> list[str]:
    prlimit = prlimit_path() or "prlimit"
    return [prlimit, f"--nproc={limits.processes}", f"--as={limits.address_space}",
            f"--fsize={limits.file_size}", "--core=0", "--"]


def sandbox_argv(seat_dir: Path, workshop_root: Path, argv: Sequence[str | os.PathLike[str]],
                 env: Mapping[str, str], *, state: Path | None = None, limits: SandboxLimits = SandboxLimits(),
                 new_session: bool = True) -> list[str]:
    """The command line that runs ``argv`` in the sandbox of the seat whose directory is ``seat_dir``.

    Args:
        seat_dir: the seat's own directory, the only one it can write (``<root>/seats/<seat>``).
        workshop_root: the workshop root, hidden with every other seat in it.
        argv: the program (an absolute path: the sandbox's PATH is ``env``'s) and its arguments.
        env: the sandbox's complete environment (nothing else is inherited); ``HOME`` is set to
            ``<seat_dir>/home`` and ``TMPDIR`` to ``/tmp`` unless ``env`` says otherwise.
        state: kube-tutor's state directory of the instructor, hidden (default: the workshop root's parent,
            ``<state>/workshop``).
        limits: processes, address space, file size, /tmp size.
        new_session: ``setsid`` in the sandbox, so it cannot push input into the terminal that started it
            (TIOCSTI); off only for a process given a terminal of its own.
    """
    seat_dir = Path(seat_dir)
    bwrap = bwrap_path() or "bwrap"
    environ = os.environ
    hidden = [Path(environ.get("HOME") or Path.home()), state if state is not None else workshop_root.parent,
              workshop_root]
    full_env = {"HOME": str(seat_dir / "home"), "TMPDIR": "/tmp", **env}
    options = _bwrap_options(seat_dir, hidden, full_env, limits=limits, new_session=new_session, environ=environ)
    start = Path(full_env["HOME"]) if Path(full_env["HOME"]).is_dir() else seat_dir
    systemd_run = systemd_run_path()
    scope = _scope_argv(systemd_run, limits) if systemd_run and seat_scope_ok(limits)[0] else []
    return [*scope, bwrap, *options, "--chdir", str(start.resolve()), "--", *_limits_argv(limits),
            *[os.fspath(a) for a in argv]]


@dataclass(frozen=True)
class SeatCommand:
    """The command that runs a seat's TUI: ``argv`` to run it directly, ``line`` for textual-serve (a shell line
    that passes textual-serve's variables of :data:`TEXTUAL_SERVE_ENV` through into the sandbox)."""

    argv: list[str]
    line: str
    sandboxed: bool


def seat_env(seat_dir: Path, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a seat's TUI starts with: the safe part of ``environ`` (see ``_SAFE_ENV``), its own HOME."""
    environ = os.environ if environ is None else environ
    env = {name: environ[name] for name in _SAFE_ENV if name in environ}
    env.setdefault("PATH", os.defpath)
    env.setdefault("LANG", "C.UTF-8")
    env.update(HOME=str(seat_dir / "home"), TMPDIR="/tmp", KUBERC="off")
    return env


def seat_command(workshop_root: Path, seat: str, *, lang: str, lesson: str | None = None,
                 sandbox: bool = True, limits: SandboxLimits = SandboxLimits(),
                 environ: Mapping[str, str] | None = None) -> SeatCommand:
    """The command line of seat ``seat``'s TUI: ``kube-tutor start --state-dir <seat>/state --backend existing
    --kubeconfig <seat>/kubeconfig --own-credentials --namespace <seat> --lang L [LESSON] --workshop <root> --seat
    <seat>`` (``python -m tutor`` of this installation),
    in the seat's sandbox unless ``sandbox`` is False (a workshop bound to 127.0.0.1 where bubblewrap cannot run).

    The seat's directory is ``<workshop_root>/seats/<seat>``; its ``home`` and ``state`` are created (0700) here.
    """
    from tutor.kube.files import private_dir

    root = Path(workshop_root).resolve()
    seat_dir = root / "seats" / seat
    for directory in (seat_dir, seat_dir / "home", seat_dir / "state"):
        private_dir(directory)
    tui = python_module("tutor", "start", "--state-dir", seat_dir / "state", "--backend", "existing",
                        "--kubeconfig", seat_dir / "kubeconfig", "--own-credentials", "--namespace", seat,
                        "--lang", lang, *([lesson] if lesson else []), "--workshop", root, "--seat", seat)
    env = seat_env(seat_dir, environ)
    if not sandbox:
        passed = " ".join(f'${{{name}+{name}="${name}"}}' for name in TEXTUAL_SERVE_ENV)
        line = f"exec env -i {shlex.join(f'{k}={v}' for k, v in env.items())} {passed} {shlex.join(tui)}"
        return SeatCommand(["env", "-i", *(f"{k}={v}" for k, v in env.items()), *tui], line, False)
    argv = sandbox_argv(seat_dir, root, tui, env, limits=limits)
    return SeatCommand(argv, sandbox_line(argv), True)


def sandbox_line(argv: Sequence[str], passthrough: Sequence[str] = TEXTUAL_SERVE_ENV) -> str:
    """A :func:`sandbox_argv` command as one ``sh`` line (textual-serve runs its command with
    ``create_subprocess_shell``) that also sets, inside the sandbox, each variable of ``passthrough`` that is set
    in the environment the line runs in (``${NAME+...}``: nothing when it is unset)."""
    split = list(argv).index("--")
    for name in passthrough:
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not an environment variable's name: {name!r}")
    passed = " ".join(f'${{{name}+--setenv}} ${{{name}+{name}}} ${{{name}+"${name}"}}' for name in passthrough)
    return f"exec {shlex.join(argv[:split])} {passed} {shlex.join(argv[split:])}"


@dataclass(frozen=True)
class ContainerSandbox:
    """How :class:`ContainerShell` sandboxes a container's processes: what it hides besides HOME (the practice
    cluster's directory and kube-tutor's state directory) and the limits."""

    hidden: tuple[Path, ...]
    limits: SandboxLimits = SandboxLimits()
# ----------------------------------------------------------------------------------------------------------------
# Workshop: the Textual app a browser drives through textual-serve (tutor/workshop/web.py)


async def open_app_process(argv: Sequence[str], env: Mapping[str, str], *,
                           cwd: str | os.PathLike[str] | None = None) -> asyncio.subprocess.Process:
    """Start a Textual app for textual-serve: stdin, stdout and stderr are pipes (textual's web driver speaks its
    packet protocol on them: ``textual_serve/app_service.py``), in a session of its own so :func:`end_app_process`
    ends the app and whatever it started. Exec'd directly (no shell: the argv needs no quoting).

    Raises:
        OSError: the program cannot be started.
    """
    return await asyncio.create_subprocess_exec(
        *argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env), cwd=cwd,
        start_new_session=True)


async def end_app_process(process: asyncio.subprocess.Process, *, grace: float = 10.0) -> None:
    """Wait up to ``grace`` seconds for an app told to quit, then end its process group (SIGTERM, SIGKILL)."""
    try:
        await asyncio.wait_for(_wait_exit(process), grace)
    except TimeoutError:
        pass
    await _end_group(process.pid, _TERMINATE_STEPS)
