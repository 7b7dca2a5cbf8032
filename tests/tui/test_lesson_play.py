"""The whole lesson played through the TUI (typing, keys) against the practice cluster and the real kubectl."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tutor.backends.practice import PracticeBackend
from tutor.lesson import Lesson, find_lesson, load_lesson
from tutor.lesson.progress import Progress
from tutor.tui.app import TutorApp
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.widgets.checklist import Checklist
from tutor.tui.widgets.cluster_panel import ClusterPanel
from tutor.tui.widgets.console import Console


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PracticeBackend]:
    state = tmp_path_factory.mktemp("tui-state")
    backend = PracticeBackend(state, time_scale=20)
    backend.up()
    yield backend
    backend.down()


@pytest.fixture
def lesson() -> Lesson:
    return load_lesson(find_lesson("rolling-update"))


async def until(pilot, condition: Callable[[], object], *, timeout: float = 45, message: str = "") -> None:  # noqa: ANN001
    """Let the app run until ``condition()`` holds; fail at the deadline."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {message}; console:\n{console_text(pilot.app)[-1500:]}")
        await pilot.pause(0.05)


async def lesson_ready(pilot, app: TutorApp) -> LessonScreen:  # noqa: ANN001
    """Wait until the lesson screen shows a verdict and the console has focus (typing goes there)."""
    from textual.widgets import Input

    from tutor.tui.screens.intro import IntroScreen

    def ready() -> bool:
        if isinstance(app.screen, IntroScreen):  # a first visit begins with the lesson's introduction
            app.screen.dismiss()
            return False
        return (isinstance(app.screen, LessonScreen) and isinstance(app.focused, Input)
                and app.screen.query_one(Checklist).verdict is not None)

    await until(pilot, ready, message="the lesson screen")
    return app.screen  # type: ignore[return-value]


def console_text(app: TutorApp) -> str:
    """The console's lines; on another screen (the introduction, the end), which one it is."""
    if not app.screen.query(Console):
        return f"(no console: the screen is {type(app.screen).__name__})"
    log = app.screen.query_one(Console).query_one("RichLog")
    return "\n".join(line.text for line in log.lines)  # type: ignore[attr-defined]


async def type_command(pilot, command: str) -> None:  # noqa: ANN001
    await pilot.press(*command)
    await pilot.press("enter")


async def test_the_whole_lesson_through_the_ui(backend: PracticeBackend, lesson: Lesson, tmp_path: Path) -> None:
    app = TutorApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_ready(pilot, app)
        checklist = screen.query_one(Checklist)
        panel = screen.query_one(ClusterPanel)
        assert screen.index == 0
        assert ("○ The Deployment's image is gcr.io/google-samples/kubernetes-bootcamp:v1, not "
                "jocatalin/kubernetes-bootcamp:v2" in checklist.plain())
        assert app.focused is not None and app.focused.id is None and isinstance(app.focused.parent.parent, Console)

        # Step 1: typed into the console.
        await type_command(pilot, "kubectl set image deployments/kubernetes-bootcamp "
                                  "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v2")
        await until(pilot, lambda: screen.progress.step("update").passed, message="step 1 passed")
        assert "deployment.apps/kubernetes-bootcamp image updated" in console_text(app)
        assert "✓ The Deployment's image is jocatalin/kubernetes-bootcamp:v2" in checklist.plain()
        assert screen.query_one("#banner").display
        await pilot.press("escape")  # stay and look
        await pilot.press("ctrl+n")
        await until(pilot, lambda: screen.index == 1, message="step 2")

        # Step 2: a suggested command run with Enter from its block, the rest typed.
        await until(pilot, lambda: checklist.verdict is not None and checklist.verdict.step_id == "verify",
                    message="step 2's verdict")
        assert "○ Store the NodePort in a variable with export NODE_PORT=$(...)" in checklist.plain()
        blocks = screen.query_one("#step").command_blocks()
        export = next(b for b in blocks if b.command.startswith("export NODE_PORT"))
        export.focus()
        await pilot.press("enter")
        await until(pilot, lambda: "NODE_PORT" in screen.runtime.session.exported(), message="NODE_PORT exported")
        await until(pilot, lambda: not screen.console.running, message="the export finished")
        await type_command(pilot, "kubectl rollout status deployments/kubernetes-bootcamp")
        await until(pilot, lambda: 'deployment "kubernetes-bootcamp" successfully rolled out' in console_text(app),
                    message="the rollout finished")
        await until(pilot, lambda: not screen.console.running, message="rollout status finished")
        # The check counts the learner's own curl (no probe of its own takes a turn of the round robin).
        await type_command(pilot, "curl localhost:$NODE_PORT")
        await until(pilot, lambda: "v=2" in console_text(app), message="curl answered v=2")
        assert "% Total" not in console_text(app)  # no progress meter, as in a terminal
        await until(pilot, lambda: screen.progress.step("verify").passed, message="step 2 passed")
        assert "✓ Your curl localhost:$NODE_PORT was answered by the v2 app (v=2)" in checklist.plain()
        # The banner moves on by itself after its countdown.
        await until(pilot, lambda: screen.index == 2, timeout=15, message="the automatic move to step 3")

        # Step 3: the deliberate failure; the cluster panel shows the stall.
        await type_command(pilot, "kubectl set image deployments/kubernetes-bootcamp "
                                  "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v10")
        # The failure comes, for the right reason; the step waits until the learner has looked at the events.
        await until(pilot, lambda: checklist.verdict is not None and checklist.verdict.step_id == "break"
                    and [r.id for r in checklist.verdict.results if not r.passed] == ["looked-at-the-reason"],
                    message="the v10 stall")
        assert "Checks (this failure is intended)" in checklist.plain()
        assert "✓ The 2 new pods are stuck in ErrImagePull / ImagePullBackOff" in checklist.plain()
        assert not screen.progress.step("break").passed
        await until(pilot, lambda: not screen.console.running, message="set image finished")
        await type_command(pilot, "kubectl get events --field-selector type=Warning")
        await until(pilot, lambda: screen.progress.step("break").passed, message="the events looked at")
        assert not screen.console.running  # it counts once its output is there
        assert 'Failedtopullimage"jocatalin/kubernetes-bootcamp:v10"' in "".join(console_text(app).split())
        assert screen._advance is None  # a deliberate failure never moves on by itself

        def stalled() -> bool:
            groups = {g.image: g for g in panel.groups}
            return ("v10" in groups and "v2" in groups
                    and sorted(p.status for p in groups["v10"].pods) in (
                        ["ErrImagePull", "ErrImagePull"], ["ErrImagePull", "ImagePullBackOff"],
                        ["ImagePullBackOff", "ImagePullBackOff"])
                    and [p.status for p in groups["v2"].pods if p.status != "Terminating"] == ["Running"] * 3)

        await until(pilot, stalled, message="the cluster panel showing the stall")
        await type_command(pilot, "kubectl get deployments")
        await until(pilot, lambda: "kubernetes-bootcamp   3/4     2            3" in console_text(app),
                    message="get deployments 3/4")
        await until(pilot, lambda: not screen.console.running, message="finished")
        await pilot.press("escape", "ctrl+n")
        await until(pilot, lambda: screen.index == 3, message="step 4")

        # Step 4: roll back.
        await type_command(pilot, "kubectl rollout undo deployments/kubernetes-bootcamp")
        await until(pilot, lambda: checklist.verdict is not None and checklist.verdict.step_id == "rollback"
                    and [r.id for r in checklist.verdict.results if not r.passed] == ["looked-at-the-revisions"],
                    message="rolled back")
        await until(pilot, lambda: not screen.console.running, message="undo finished")
        await type_command(pilot, "kubectl rollout history deployments/kubernetes-bootcamp")
        await until(pilot, lambda: screen.progress.step("rollback").passed, message="the revisions looked at")
        assert "You finished the lesson" in str(screen.query_one("#banner").render())
        assert all(Progress.load(tmp_path, "rolling-update", "practice").step(s.id).passed for s in lesson.steps)

        # Nothing but the learner takes turns of the NodePort's round robin: four curls, four pods (ux-audit 20: a
        # check's probe took every other turn, so the learner's curls alternated between two pods).
        assert not any(check.probe for step in lesson.steps for check in step.checks)
        from tutor.tui.screens.end import EndScreen

        await until(pilot, lambda: isinstance(app.screen, EndScreen), message="the end screen after the last step")
        await pilot.press("escape")  # back to the lesson's console
        await until(pilot, lambda: app.screen is screen, message="the lesson screen again")
        for number in range(1, 5):
            await type_command(pilot, "curl localhost:$NODE_PORT")
            await until(pilot, lambda n=number: console_text(app).count("Running on:") >= n + 1
                        and not screen.console.running, message=f"curl {number}")
        answers = [line for line in console_text(app).splitlines() if "Running on:" in line][-4:]
        assert len({line.split("Running on: ")[1].split()[0] for line in answers}) == 4, answers
        await pilot.press("ctrl+q")


async def test_console_cancel_clear_errors_and_refusals(backend: PracticeBackend, lesson: Lesson,
                                                        tmp_path: Path) -> None:
    progress = Progress.load(tmp_path, "rolling-update", "practice")
    progress.start("update")  # resume: no setup
    app = TutorApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lesson_ready(pilot, app)
        await type_command(pilot, "kubectl get pods -w")
        await until(pilot, lambda: screen.console.running and "NAME" in console_text(app), message="a watch")
        await pilot.press("ctrl+c")
        await until(pilot, lambda: not screen.console.running, message="the cancelled watch")
        assert "^C" in console_text(app).splitlines()  # as a shell shows it, without "exit status 130"
        assert "exit status 130" not in console_text(app)
        await type_command(pilot, "kubectl get deployment nope")
        await until(pilot, lambda: 'deployments.apps "nope" not found' in console_text(app), message="an error")
        assert 'Error from server (NotFound): deployments.apps "nope" not found' in console_text(app)
        await until(pilot, lambda: not screen.console.running, message="finished")
        await type_command(pilot, "kubectl --context prod get pods")
        await until(pilot, lambda: "kube-tutor: refused: `--context`" in console_text(app), message="a refusal")
        await until(pilot, lambda: not screen.console.running, message="finished")
        await type_command(pilot, "clear")
        await until(pilot, lambda: "refused" not in console_text(app), message="cleared")
        await pilot.press("ctrl+q")


async def test_quit_and_resume_at_the_same_step(backend: PracticeBackend, lesson: Lesson, tmp_path: Path) -> None:
    progress = Progress.load(tmp_path, "rolling-update", "practice")
    progress.start("break")
    app = TutorApp(lesson, backend, tmp_path, lang="ja", cwd=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lesson_ready(pilot, app)
        await until(pilot, lambda: "ステップ 3/4" in str(screen.query_one("#status").content), message="status")
        assert screen.index == 2
        await pilot.press("f1")
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", message="help")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is screen, message="help closed")
        await pilot.press("ctrl+b")
        await until(pilot, lambda: screen.index == 1, message="back to step 2")
        await pilot.press("ctrl+q")
    assert Progress.load(tmp_path, "rolling-update", "practice").current == "verify"


async def test_suspending_is_refused_headless_and_the_app_keeps_running(backend: PracticeBackend, lesson: Lesson,
                                                                          tmp_path: Path) -> None:
    Progress.load(tmp_path, "rolling-update", "practice").start("update")
    app = TutorApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await lesson_ready(pilot, app)
        await type_command(pilot, "!")
        await until(pilot, lambda: "Cannot switch to a shell here" in console_text(app), message="the notice")
        assert isinstance(app.screen, LessonScreen)
        await pilot.press("ctrl+q")


async def test_a_cluster_that_dies_mid_lesson_is_reported_and_the_app_recovers(lesson: Lesson,
                                                                               tmp_path: Path) -> None:
    backend = PracticeBackend(tmp_path / "dying", time_scale=20)
    app = TutorApp(lesson, backend, tmp_path / "dying", lang="en", cwd=tmp_path)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            screen = await lesson_ready(pilot, app)
            await pilot.pause()
            await asyncio.to_thread(backend.down)  # never block the app's loop from the test
            await until(pilot, lambda: "The cluster is not answering" in console_text(app), message="the notice")
            said = "".join(console_text(app).split())  # the console wraps long lines
            assert "".join(f"kube-tutor --state-dir {tmp_path / 'dying'} cluster up".split()) in said
            assert "not answering" in str(screen.query_one("#status").content)
            assert isinstance(app.screen, LessonScreen)
            await type_command(pilot, "kubectl get pods")  # kubectl's own error, the app keeps going
            await until(pilot, lambda: "exit status 1" in console_text(app), message="kubectl's error")
            assert "The connection to the server 127.0.0.1:" in console_text(app)
            await asyncio.to_thread(backend.up)
            await until(pilot, lambda: "Reconnected to the cluster." in console_text(app), message="reconnected")
            assert "connected" in str(screen.query_one("#status").content)
    finally:
        backend.down()


async def test_hint_solution_and_reset_step(backend: PracticeBackend, lesson: Lesson, tmp_path: Path) -> None:
    Progress.load(tmp_path, "rolling-update", "practice").start("verify")
    app = TutorApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_ready(pilot, app)
        await pilot.press("f2")
        await until(pilot, lambda: screen.query_one("#hint").display, message="the hint")
        await pilot.press("f3")
        await until(pilot, lambda: len(screen.query_one("#solution").query("CommandBlock")) == 3, message="solution")
        await pilot.press("f5")
        await until(pilot, lambda: "The cluster is back at the start of this step." in console_text(app),
                    timeout=60, message="the reset")
        # Back at the start of step 2: v2 rolled out by step 1's solution.
        deployment = screen.runtime.context()["deployment"]["kubernetes-bootcamp"]
        assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "jocatalin/kubernetes-bootcamp:v2"
        await pilot.press("ctrl+q")


async def test_a_lesson_picker_when_several_lessons_exist(lesson: Lesson, tmp_path: Path) -> None:
    from dataclasses import replace

    from tests.tui.fakes import FakeBackend
    from tutor.lesson import Text
    from tutor.tui.screens.picker import LessonPicker
    from tutor.tui.screens.start import StartScreen

    other = replace(lesson, id="other", title=Text(ja="別のレッスン", en="Another lesson"))
    app = TutorApp(lesson, FakeBackend(), tmp_path, lang="en", choices=[lesson, other])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LessonPicker), message="the picker")
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, StartScreen) or app.lesson.id == "other",
                    message="the choice")
        assert app.lesson.id == "other"
        await pilot.press("ctrl+q")
