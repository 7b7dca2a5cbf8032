"""A console line that needs a terminal, played through the TUI: `kubectl exec -ti $POD -- bash` runs attached to a
terminal with the app suspended, the learner runs `curl localhost:8080` inside the container (the practice cluster,
the real kubectl), and the step's check reads the transcript through `commands`.

Headless Textual cannot suspend, so the app gets a headless driver that can (suspend and resume do nothing) and a
pty pair as its terminal (``TutorApp.terminal``). The attached run blocks the app's event loop, as it does in a
real terminal, so the learner types into the pty's master from a thread.
"""

from __future__ import annotations

import os
import pty
import select
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.drivers import headless_driver

from tests.tui.test_lesson_play import backend, console_text, lesson_ready, type_command, until
from tutor.backends.practice import PracticeBackend
from tutor.lesson import load_lesson
from tutor.tui.app import TutorApp

__all__ = ["backend"]  # the module-scoped practice cluster fixture, shared with test_lesson_play

LESSON = Path(__file__).parent.parent / "data" / "attached" / "exec-bash.yaml"
DEADLINE = 30.0


class SuspendableHeadlessDriver(headless_driver.HeadlessDriver):
    """A headless driver that says it can suspend, as a real terminal's driver does; suspending does nothing."""

    @property
    def can_suspend(self) -> bool:
        return True

    def suspend_application_mode(self) -> None:
        return None

    def resume_application_mode(self) -> None:
        return None


@pytest.fixture
def suspendable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(headless_driver, "HeadlessDriver", SuspendableHeadlessDriver)  # what run_test() imports


class Learner:
    """Plays the learner at the terminal's master side, on a thread: waits for text (with a deadline), types keys."""

    def __init__(self, master: int) -> None:
        self.master = master
        self.seen = bytearray()
        self.failure: BaseException | None = None

    def expect(self, needle: bytes) -> None:
        end = time.monotonic() + DEADLINE
        while needle not in self.seen:
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out waiting for {needle!r}; the terminal shows {bytes(self.seen)!r}")
            if select.select([self.master], [], [], remaining)[0]:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:
                    pass

    def type(self, keys: bytes) -> None:
        os.write(self.master, keys)

    def play(self) -> None:
        try:
            self.expect(b"the lesson comes back when it ends")
            self.expect(b"# ")  # the container's bash prompt
            self.type(b"cat server.js | head -3\r")
            self.expect(b"require('http')")
            self.type(b"curl localhost:8080\r")
            self.expect(b"Hello Kubernetes bootcamp!")
            self.type(b"exit\r")
        except BaseException as error:  # noqa: BLE001 - raised again by the test
            self.failure = error
            self.type(b"\x03\x04exit\r")  # end the attached run so the app goes on


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    master, slave = pty.openpty()
    yield master, slave
    os.close(master)
    os.close(slave)


async def test_exec_ti_bash_runs_attached_and_the_check_reads_the_transcript(
        backend: PracticeBackend, suspendable: None, terminal: tuple[int, int], tmp_path: Path) -> None:
    master, slave = terminal
    app = TutorApp(load_lesson(LESSON), backend, tmp_path, lang="en", cwd=tmp_path)
    app.terminal = (slave, slave)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_ready(pilot, app)
        assert screen.step.id == "inside"
        await type_command(pilot, "export POD=$(kubectl get pods -l app=kubernetes-bootcamp -o name | head -1)")
        await until(pilot, lambda: screen.runtime.session.env.get("POD", "").startswith("pod/"), message="$POD")
        learner = Learner(master)
        thread = threading.Thread(target=learner.play, daemon=True)
        thread.start()
        await type_command(pilot, "kubectl exec -ti $POD -- bash")  # blocks the app until the learner exits
        thread.join(DEADLINE)
        if learner.failure is not None:
            raise learner.failure
        await until(pilot, lambda: "`kubectl exec -ti` ended (exit status 0)" in console_text(app),
                    message="the summary line")
        await until(pilot, lambda: screen.verdict is not None and "curl-inside" in screen.verdict.passed_ids,
                    message="the check reading the transcript")
        [run] = [run for run in screen.runtime.session.commands if run.line.startswith("kubectl exec")]
        assert run.exit == 0
        assert "Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-" in run.output
        assert "\x1b" not in run.output and "\r" not in run.output
        assert screen.runtime.session.history[-1] == "kubectl exec -ti $POD -- bash"
        await pilot.press("ctrl+q")
