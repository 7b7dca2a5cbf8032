"""The course's two steps that outlive a plain console line, played through the TUI on the practice cluster with
the real kubectl: module 3's `kubectl exec -ti $POD_NAME -- bash` runs attached to a terminal with the app
suspended, the learner runs `cat server.js` and `curl http://localhost:8080` inside the container, and the step's
checks read the transcript through `commands`; module 2's `kubectl proxy &` keeps serving across steps and stops
when the lesson ends.

Headless Textual cannot suspend, so the app gets a headless driver that can (suspend and resume do nothing) and a
pty pair as its terminal (``TutorApp.terminal``). The attached run blocks the app's event loop, as it does in a
real terminal, so the learner types into the pty's master from a thread.
"""

from __future__ import annotations

import asyncio
import os
import pty
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.drivers import headless_driver

from tests.test_shell_attached import Terminal
from tests.tui.test_lesson_play import backend, console_text, lesson_ready, type_command, until
from tutor import paths
from tutor.backends.practice import PracticeBackend
from tutor.lesson import load_lesson
from tutor.lesson.progress import Progress
from tutor.tui.app import TutorApp
from tutor.tui.widgets.step_panel import CommandBlock, ContainerLine

__all__ = ["backend"]  # the module-scoped practice cluster fixture, shared with test_lesson_play

LESSONS = Path(__file__).parent.parent.parent / "lessons"
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


class Learner(Terminal):
    """Plays the learner at the terminal's master side, on a thread (``Terminal``: waits for text with a deadline,
    types keys); a failure is kept for the test to raise."""

    failure: BaseException | None = None

    def play(self) -> None:
        try:
            self.expect(b"the lesson comes back when it ends", DEADLINE)
            self.expect(b"# ", DEADLINE)  # the container's bash prompt
            self.type(b"cat server.js\r")
            self.expect(b"http.createServer", DEADLINE)
            self.type(b"curl http://localhost:8080\r")
            self.expect(b"Hello Kubernetes bootcamp!", DEADLINE)
            self.type(b"exit\r")
        except BaseException as error:  # noqa: BLE001 - raised again by the test
            self.failure = error
            self.type(b"\x03\x04exit\r")  # end the attached run so the app goes on


def start_state(backend: PracticeBackend) -> None:
    """Put the cluster where the earlier steps of modules 2 and 3 leave it (what a learner resuming there has):
    one pod of the v1 app."""
    env = {**os.environ, **backend.env()}
    kubectl = str(paths.kubectl())
    subprocess.run([kubectl, "delete", "deployments,services", "-l", "app=kubernetes-bootcamp", "--wait=false"],
                   env=env, check=True, capture_output=True)
    subprocess.run([kubectl, "create", "deployment", "kubernetes-bootcamp",
                    "--image=gcr.io/google-samples/kubernetes-bootcamp:v1"], env=env, check=True, capture_output=True)
    subprocess.run([kubectl, "rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=60s"], env=env,
                   check=True, capture_output=True)


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    master, slave = pty.openpty()
    yield master, slave
    os.close(master)
    os.close(slave)


async def test_module_3_exec_ti_bash_runs_attached_and_the_checks_read_the_transcript(
        backend: PracticeBackend, suspendable: None, terminal: tuple[int, int], tmp_path: Path) -> None:
    master, slave = terminal
    start_state(backend)
    Progress.load(tmp_path, "explore-your-app", "practice").start("exec-bash")  # resumed there: no setup runs
    app = TutorApp(load_lesson(LESSONS / "explore-your-app.yaml"), backend, tmp_path, lang="en", cwd=tmp_path)
    app.terminal = (slave, slave)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_ready(pilot, app)
        assert screen.step.id == "exec-bash"
        # The lines typed inside the container are shown with its prompt, not as console commands.
        shown = [block.command for block in screen.query(CommandBlock)]
        assert "kubectl exec -ti $POD_NAME -- bash" in shown and "cat server.js" not in shown
        assert "cat server.js" in [line.command for line in screen.query(ContainerLine)]
        await type_command(pilot, "export POD_NAME=$(kubectl get pods -l app=kubernetes-bootcamp -o name | head -1)")
        await until(pilot, lambda: screen.runtime.session.env.get("POD_NAME", "").startswith("pod/"),
                    message="$POD_NAME")
        learner = Learner(master, slave)
        thread = threading.Thread(target=learner.play, daemon=True)
        thread.start()
        await type_command(pilot, "kubectl exec -ti $POD_NAME -- bash")  # blocks the app until the learner exits
        thread.join(DEADLINE)
        if learner.failure is not None:
            raise learner.failure
        await until(pilot, lambda: "`kubectl exec -ti` ended (exit status 0)" in console_text(app),
                    message="the summary line")
        await until(pilot, lambda: "app-answers-inside" in Progress.load(tmp_path, "explore-your-app", "practice")
                    .step("exec-bash").conditions or app.screen is not screen,
                    message="the checks reading the transcript")
        [run] = [run for run in screen.runtime.session.commands if run.line.startswith("kubectl exec")]
        assert run.exit == 0
        assert "Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-" in run.output
        assert "http.createServer" in run.output
        assert "\x1b" not in run.output and "\r" not in run.output
        assert screen.runtime.session.history[-1] == "kubectl exec -ti $POD_NAME -- bash"
        await pilot.press("ctrl+q")
    assert Progress.load(tmp_path, "explore-your-app", "practice").step("exec-bash").passed


def _proxy_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 8001), timeout=1.0):
            return True
    except OSError:
        return False


async def test_module_2_kubectl_proxy_in_the_background_serves_across_steps_and_stops_with_the_lesson(
        backend: PracticeBackend, tmp_path: Path) -> None:
    if _proxy_answers():
        pytest.skip("something on this machine already listens on 127.0.0.1:8001 (kubectl proxy's port)")
    start_state(backend)
    Progress.load(tmp_path, "deploy-your-app", "practice").start("proxy")
    app = TutorApp(load_lesson(LESSONS / "deploy-your-app.yaml"), backend, tmp_path, lang="en", cwd=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_ready(pilot, app)
        assert screen.step.id == "proxy"
        await type_command(pilot, "kubectl proxy &")
        await until(pilot, lambda: "Starting to serve on 127.0.0.1:8001" in console_text(app), message="the proxy")
        await type_command(pilot, "curl http://localhost:8001/version")
        await until(pilot, lambda: screen.step.id == "pod-proxy", message="the proxy step passing")
        # The next step goes through the same proxy, still running.
        await type_command(pilot, "export POD_NAME=$(kubectl get pods -o go-template --template "
                                  "'{{range .items}}{{.metadata.name}}{{\"\\n\"}}{{end}}')")
        await until(pilot, lambda: screen.runtime.session.env.get("POD_NAME", "").startswith("kubernetes-bootcamp-"),
                    message="$POD_NAME")
        await type_command(pilot, "curl http://localhost:8001/api/v1/namespaces/default/pods/$POD_NAME:8080/proxy/")
        await until(pilot, lambda: "Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-"
                    in console_text(app), message="the app through the pod proxy")
        assert _proxy_answers()
        await pilot.press("ctrl+q")
    deadline = time.monotonic() + DEADLINE
    while _proxy_answers():  # the lesson's end stops its background jobs
        assert time.monotonic() < deadline, "kubectl proxy still listens after the lesson ended"
        await asyncio.sleep(0.05)  # polling a condition with a deadline (noqa: sleep-ok)
