"""tutor.shell's attached runs: a learner line on a pty of its own, relayed to a real terminal and recorded.

The "real terminal" is a pty pair made here: the session gets its slave side as (input, output), and the test plays
the learner on its master side from a thread (typing, reading what the terminal shows, with deadlines), while the
attached run blocks the main thread as it blocks the TUI's event loop (and SIGWINCH handlers live on the main thread).
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import shlex
import signal
import struct
import sys
import termios
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tutor.lesson.runtime import RecordingSession
from tutor.shell import Session, clean_transcript

DEADLINE = 10.0


@dataclass
class Terminal:
    """The learner's terminal: ``master`` is where the learner types and reads; ``slave`` is handed to the session."""

    master: int
    slave: int
    seen: bytearray = field(default_factory=bytearray)

    def expect(self, needle: bytes, deadline: float = DEADLINE) -> None:
        """Read what the terminal shows until ``needle`` appears; fail after ``deadline`` seconds."""
        end = time.monotonic() + deadline
        while needle not in self.seen:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {needle!r}; the terminal shows {bytes(self.seen)!r}")
            readable, _, _ = select.select([self.master], [], [], remaining)
            if readable:
                self.read_some()

    def read_some(self) -> None:
        try:
            self.seen += os.read(self.master, 65536)
        except OSError:
            pass

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def drain(self) -> None:
        """Take what is left to read (after the run)."""
        while select.select([self.master], [], [], 0)[0]:
            before = len(self.seen)
            self.read_some()
            if len(self.seen) == before:
                return

    @property
    def fds(self) -> tuple[int, int]:
        return self.slave, self.slave


@pytest.fixture
def terminal() -> Iterator[Terminal]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    yield Terminal(master, slave)
    os.close(master)
    os.close(slave)


@pytest.fixture
def session(tmp_path: Path) -> Session:
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "LANG": "C.UTF-8", "TERM": "xterm"}
    return Session(env, tmp_path)


def attached(session: Session, line: str, terminal: Terminal, learner: Callable[[Terminal], None]) -> tuple[int, str]:
    """Run ``line`` attached to ``terminal`` on this (the main) thread while ``learner`` plays it from another.

    If the learner fails, it sends Ctrl+C and Ctrl+D so the line ends, and its failure is raised here.

    Returns:
        The exit status and everything ``on_output`` was given.
    """
    failure: list[BaseException] = []

    def play() -> None:
        try:
            learner(terminal)
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            failure.append(error)
            terminal.type(b"\x03\x04")

    chunks: list[str] = []
    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    code = session.run_attached(line, chunks.append, terminal=terminal.fds)
    thread.join(DEADLINE)
    terminal.drain()
    if failure:
        raise failure[0]
    assert not thread.is_alive(), "the learner thread did not finish"
    return code, "".join(chunks)


def raw(fd: int) -> bool:
    attributes = termios.tcgetattr(fd)
    return not attributes[3] & (termios.ECHO | termios.ICANON | termios.ISIG)


def test_a_line_runs_on_a_terminal_of_its_own_and_keeps_the_session_state(session: Session,
                                                                          terminal: Terminal) -> None:
    before = termios.tcgetattr(terminal.slave)
    seen_raw: list[bool] = []
    line = 'test -t 0 && test -t 1 && echo "a terminal"; read -r NAME; export NAME; echo "hello $NAME"; (exit 3)'

    def learner(term: Terminal) -> None:
        term.expect(b"a terminal\r\n")  # the pty turns \n into \r\n, and the real terminal shows it untouched
        seen_raw.append(raw(term.slave))
        term.type(b"world\r")
        term.expect(b"hello world")

    code, transcript = attached(session, line, terminal, learner)
    assert code == 3
    assert seen_raw == [True]  # the real terminal was raw while the line ran
    assert termios.tcgetattr(terminal.slave) == before  # and is as it was again
    assert b"world\r\nhello world\r\n" in terminal.seen  # the pty's echo of the typed word, then the answer
    assert "hello world" in transcript and "\r\n" in transcript  # recorded as shown
    assert clean_transcript(transcript) == "a terminal\nworld\nhello world\n"
    assert session.env["NAME"] == "world"  # exported variables persist, as with Session.run
    assert session.history == [line]


async def test_the_exported_variable_reaches_the_next_line_run_normally(session: Session,
                                                                        terminal: Terminal) -> None:
    def learner(term: Terminal) -> None:
        term.expect(b"?")
        term.type(b"31234\r")

    code, _ = attached(session, 'printf "?"; read -r NODE_PORT; export NODE_PORT; cd /', terminal, learner)
    assert code == 0
    shown: list[str] = []
    assert await session.run("echo port=$NODE_PORT dir=$PWD", shown.append) == 0
    assert "".join(shown) == "port=31234 dir=/\n"
    assert session.cwd == Path("/")


def test_ctrl_c_reaches_the_program_through_the_pty(session: Session, terminal: Terminal) -> None:
    before = termios.tcgetattr(terminal.slave)

    def learner(term: Terminal) -> None:
        term.expect(b"sleeping")
        term.type(b"\x03")  # a byte on the raw terminal; the pty's line discipline makes it SIGINT

    # `sleeping` comes from the process that then becomes `sleep` (no fork after it that SIGINT could overtake)
    code, transcript = attached(session, "sh -c 'echo sleeping; exec sleep 60'; echo not-reached", terminal, learner)
    assert code == 130
    assert "not-reached" not in transcript
    assert termios.tcgetattr(terminal.slave) == before


def test_an_interactive_bash_is_played_line_by_line(session: Session, terminal: Terminal) -> None:
    def learner(term: Terminal) -> None:
        term.expect(b"$ ")
        term.type(b"echo inside-$((6 * 7))\r")
        term.expect(b"inside-42")
        term.type(b"exit 5\r")

    code, transcript = attached(session, "PS1='$ ' bash --noprofile --norc -i", terminal, learner)
    assert code == 5
    text = clean_transcript(transcript)
    assert "echo inside-$((6 * 7))\ninside-42\n" in text
    assert "\x1b" not in text and "\r" not in text


def test_the_window_size_is_copied_at_the_start_and_on_sigwinch(session: Session, terminal: Terminal) -> None:
    main = threading.main_thread().ident
    assert main is not None and threading.current_thread() is threading.main_thread()

    def learner(term: Terminal) -> None:
        term.expect(b"size 24 80")
        fcntl.ioctl(term.slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        signal.pthread_kill(main, signal.SIGWINCH)  # what the kernel sends when a real terminal is resized
        term.expect(b"size 40 100")  # the program's own SIGWINCH handler, once the size reached its pty
        term.type(b"\r")

    program = ("import os, signal, sys\n"
               "def show(*_):\n"
               "    print('size', *reversed(os.get_terminal_size()), flush=True)\n"
               "show()\n"
               "signal.signal(signal.SIGWINCH, show)\n"
               "sys.stdin.readline()\n")
    line = f"{shlex.quote(sys.executable)} -c {shlex.quote(program)}"
    code, _ = attached(session, line, terminal, learner)
    assert code == 0
    assert signal.getsignal(signal.SIGWINCH) in (signal.SIG_DFL, None)  # the handler is gone again


def test_a_refused_line_does_not_run_and_leaves_the_terminal_alone(session: Session, terminal: Terminal,
                                                                   tmp_path: Path) -> None:
    before = termios.tcgetattr(terminal.slave)
    output: list[str] = []
    notices: list[str] = []
    code = session.run_attached(f"kubectl --kubeconfig={tmp_path}/other exec -ti pod -- bash", output.append,
                                terminal=terminal.fds, on_notice=notices.append)
    assert code == 2
    assert output == []
    assert len(notices) == 1 and "--kubeconfig" in notices[0]
    assert termios.tcgetattr(terminal.slave) == before
    assert not select.select([terminal.master], [], [], 0)[0]  # nothing reached the terminal


def test_a_pinned_variable_is_restored_with_a_notice(tmp_path: Path, terminal: Terminal) -> None:
    session = Session({"PATH": os.environ["PATH"], "HOME": str(tmp_path), "KUBECONFIG": "/kt/config"}, tmp_path)
    notices: list[str] = []
    code = session.run_attached("export KUBECONFIG=/elsewhere", lambda _chunk: None, terminal=terminal.fds,
                                on_notice=notices.append)
    assert code == 0
    assert session.env["KUBECONFIG"] == "/kt/config"
    assert notices == [notices[0]] and "restored KUBECONFIG" in notices[0]


def test_the_recording_session_keeps_the_cleaned_transcript_for_checks(tmp_path: Path, terminal: Terminal) -> None:
    session = RecordingSession({"PATH": os.environ["PATH"], "HOME": str(tmp_path), "TERM": "xterm"}, tmp_path)

    def learner(term: Terminal) -> None:
        term.expect(b"$ ")
        term.type(b"printf '\\033[1mHello Kubernetes bootcamp!\\033[0m\\n'\r")
        term.expect(b"bootcamp!\x1b[0m")
        term.type(b"exit\r")

    code, transcript = attached(session, "PS1='$ ' bash --noprofile --norc -i", terminal, learner)
    assert code == 0
    assert "\x1b[1mHello Kubernetes bootcamp!\x1b[0m" in transcript  # the terminal got the colours
    [run] = session.commands
    assert run.line == "PS1='$ ' bash --noprofile --norc -i" and run.exit == 0
    assert "\nHello Kubernetes bootcamp!\n" in run.output
    assert "\x1b" not in run.output and "\r" not in run.output


@pytest.mark.parametrize(("shown", "text"), [
    ("\x1b[1;32mgreen\x1b[0m\r\n", "green\n"),
    ("\x1b]0;root@pod: /app\x07root@pod:/app# ls\r\n", "root@pod:/app# ls\n"),  # a window title (OSC ... BEL)
    ("\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\\r\n", "link\n"),  # a hyperlink (OSC ... ST)
    ("\x1b[?2004hprompt$ \x1b[?2004l\r", "prompt$ "),  # bracketed paste on and off
    ("abx\x08 \x08c\r\n", "abc\n"),  # a typed character erased
    ("\x1b(B\x1b=tab\there\x07\r\n", "tab\there\n"),
])
def test_clean_transcript(shown: str, text: str) -> None:
    assert clean_transcript(shown) == text
