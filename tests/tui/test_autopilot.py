"""``kube-tutor demo``: the autopilot plays the seed lesson in the TUI against the practice cluster (real kubectl)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Input

from tests.tui.test_lesson_play import console_text, until
from tutor.backends.practice import PracticeBackend
from tutor.lesson import Lesson, find_lesson, load_lesson
from tutor.lesson.progress import Progress
from tutor.tui.autopilot import DemoApp, Narration
from tutor.tui.screens.end import EndScreen
from tutor.tui.screens.intro import IntroScreen
from tutor.tui.screens.lesson import LessonScreen


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PracticeBackend]:
    backend = PracticeBackend(tmp_path_factory.mktemp("demo-state"), time_scale=20)
    backend.up()
    yield backend
    backend.down()


@pytest.fixture
def lesson() -> Lesson:
    return load_lesson(find_lesson("rolling-update"))


def demo(lesson: Lesson, backend: PracticeBackend, state: Path, *, pause: bool) -> DemoApp:
    return DemoApp(lesson, backend, state, lang="en", cwd=state, named=True, pause=pause, cps=400, hold=0,
                   rng=random.Random(1))


def narration(app: DemoApp) -> str:
    found = app.screen.query(Narration)
    return str(found.first().render()) if found else ""


async def test_no_pause_plays_the_lesson_to_its_end_screen_with_no_key_pressed(
        backend: PracticeBackend, lesson: Lesson, tmp_path: Path) -> None:
    app = demo(lesson, backend, tmp_path, pause=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.autopilot.mode == "done", timeout=240, message="the demo's end")
    assert app.autopilot.finished == ["rolling-update"]  # it reached the end screen
    assert app.autopilot.stops == 0
    progress = Progress.load(tmp_path, "rolling-update", "practice")
    assert all(progress.step(step.id).passed for step in lesson.steps)
    # It typed what the steps suggest, through the console (the recap records them as the learner's).
    ran = progress.lines("update")
    assert ran[-2:] == [lesson.step("update").commands[-2], "kubectl get pods"]
    assert "kubectl get events" in progress.lines("break")  # the solution's line the text does not suggest


async def test_it_stops_at_each_boundary_and_narration_point_until_a_key(
        backend: PracticeBackend, lesson: Lesson, tmp_path: Path) -> None:
    app = demo(lesson, backend, tmp_path, pause=True)
    stops: list[tuple[int, str]] = []
    async with app.run_test(size=(120, 40)) as pilot:
        # A first visit opens on the lesson's introduction: it waits for any key (the autopilot waits for it).
        await until(pilot, lambda: isinstance(app.screen, IntroScreen), timeout=60, message="the introduction")
        await pilot.press("space")  # the introduction's key, never the autopilot's
        await until(pilot, lambda: isinstance(app.screen, LessonScreen), message="the lesson after the introduction")
        while not isinstance(app.screen, EndScreen):
            await until(pilot, lambda: app.autopilot.mode == "waiting" or isinstance(app.screen, EndScreen),
                        timeout=90, message="the next stop")
            if isinstance(app.screen, EndScreen):
                break
            screen = app.screen
            assert isinstance(screen, LessonScreen)
            stops.append((screen.index, narration(app)))
            count = app.autopilot.stops
            assert not screen.console.running and screen.console.query_one(Input).value == ""  # it does nothing
            await pilot.press("space")
            await until(pilot, lambda c=count: app.autopilot.mode != "waiting" or app.autopilot.stops > c,
                        message="going on")
        await pilot.press("ctrl+q")
    steps = lesson.steps
    assert [index for index, _ in stops] == [0, 0, 1, 2, 2, 3, 3]
    said = [text for _, text in stops]
    assert steps[0].say is not None and steps[0].say.en in said[0]
    assert steps[0].pauses[0].say is not None and steps[0].pauses[0].say.en in said[1]
    assert steps[2].pauses[0].say is not None and steps[2].pauses[0].say.en in said[4]
    assert "Every step has passed" in said[6]
    assert all("Space or Enter goes on" in text for text in said)


async def test_the_presenter_takes_over_mid_step_and_hands_back(
        backend: PracticeBackend, lesson: Lesson, tmp_path: Path) -> None:
    app = DemoApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path, named=True, pause=False, cps=20, hold=0,
                  rng=random.Random(2))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LessonScreen)  # (its console may not be composed yet)
                    and any(len(field.value) >= 3 for field in app.screen.query(Input)), timeout=60,
                    message="the autopilot typing")
        screen = app.screen
        assert isinstance(screen, LessonScreen)
        field = screen.console.query_one(Input)
        await pilot.press("backspace")  # the presenter's key: it goes to the console, and the autopilot stops
        assert app.autopilot.mode == "presenter"
        assert "You have the keyboard" in narration(app)
        typed = field.value
        await pilot.pause(0.5)  # nothing may be typed meanwhile (noqa: sleep-ok)
        assert field.value == typed
        field.value = ""
        await pilot.press(*"kubectl get pods", "enter")
        await until(pilot, lambda: "kubectl get pods" in screen.progress.lines("update") and not screen.console.running,
                    message="the presenter's command")
        assert screen.index == 0 and not screen.progress.step("update").passed  # the autopilot waited
        await pilot.press("f12")  # hand back: it types the step's lines from where it was, and the step passes
        assert app.autopilot.mode == "playing"
        await until(pilot, lambda: screen.progress.step("update").passed, timeout=90, message="the step passed")
        assert "image updated" in console_text(app)
        await pilot.press("ctrl+q")


async def test_a_course_kiosk_plays_each_lesson_in_turn_and_goes_round_again(
        backend: PracticeBackend, tmp_path: Path) -> None:
    """``kube-tutor demo --course --no-pause --loop``: every lesson of the course in order, then the first again
    with its progress reset (a stand at a conference), without a key pressed."""
    course = [load_lesson(find_lesson(name)) for name in ("create-cluster", "deploy-your-app")]
    app = DemoApp(course[0], backend, tmp_path, lang="en", cwd=tmp_path, choices=course, named=True, pause=False, cps=400,
                  hold=0, loop=True, course_demo=True, rng=random.Random(3))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: app.autopilot.finished == ["create-cluster", "deploy-your-app"]
                    and app.lesson.id == "create-cluster" and isinstance(app.screen, LessonScreen),
                    timeout=200, message="both lessons played, then the first again")
        assert app.autopilot.mode != "done"  # a kiosk does not quit
        await until(pilot, lambda: len(app.autopilot.finished) == 3, timeout=80, message="the second round's first")
        assert app.autopilot.finished[2] == "create-cluster"
        await pilot.press("ctrl+q")
