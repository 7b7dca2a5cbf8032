"""The course in the TUI: the picker lists the lessons in the course order with each one's progress (ja and
en), a first start opens on it, the end of a lesson offers the next one (N) and the picker (L).

The app runs on the fakes of ``tests.tui.fakes``; a lesson opened after another gets a fake runtime too."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path
from typing import Any, ClassVar

import pytest
from rich.console import Console
from textual.app import App
from textual.widgets import Input, OptionList

from tests.tui.fakes import STATES, FakeBackend, FakeRuntime, realize, rolling_update_lesson
from tests.tui.pilot import until
from tests.tui.test_flow import FlowSession, finished_progress
from tutor.lesson import Lesson, Text, load_lesson
from tutor.lesson.progress import Progress, lesson_status
from tutor.tui.app import TutorApp
from tutor.tui.screens.end import EndScreen
from tutor.tui.screens.intro import IntroScreen
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.screens.picker import LessonPicker

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "data" / "lessons"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setenv("KUBE_TUTOR_STATE_DIR", str(tmp_path))  # the recap names no --state-dir


def fixture(path: Path) -> Lesson:
    """A fixture lesson whose start state the fake cluster (the seed lesson's) always satisfies."""
    lesson = load_lesson(path)
    return dataclasses.replace(lesson, setup=dataclasses.replace(lesson.setup, ready=()))


def course() -> list[Lesson]:
    """Three lessons in course order: two fixtures, then the seed lesson."""
    return [fixture(FIXTURE / "course" / "1-create.yaml"), fixture(FIXTURE / "scale-your-app.yaml"),
            rolling_update_lesson()]


def write(state: Path, lesson: str, current: str | None, updated_at: str, steps: dict[str, Any]) -> None:
    """A progress file with fixed times (Progress.save would stamp the time of the test)."""
    file = Progress.file_for(state, lesson, FakeBackend.name)
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps({"lesson": lesson, "backend": FakeBackend.name, "current": current,
                                "updated_at": updated_at, "steps": steps}))


def mixed_progress(state: Path) -> None:
    """make-web done in 1 min 05 s; scaling on step 2 of 2 after 3 min 20 s; rolling-update not started."""
    write(state, "make-web", "create", "2026-01-05T10:01:05Z",
          {"create": {"started_at": "2026-01-05T10:00:00Z", "passed_at": "2026-01-05T10:01:05Z"}})
    scaling = load_lesson(FIXTURE / "scale-your-app.yaml")
    first, second = scaling.steps[0].id, scaling.steps[1].id
    write(state, "scaling", second, "2026-01-05T10:05:30Z",
          {first: {"started_at": "2026-01-05T10:02:00Z", "passed_at": "2026-01-05T10:04:00Z"},
           second: {"started_at": "2026-01-05T10:04:10Z"}})


def picker_lines(picker: LessonPicker) -> list[str]:
    options = picker.query_one(OptionList)
    return [str(options.get_option_at_index(index).prompt).splitlines()[0] for index in range(options.option_count)]


def app_for(tmp_path: Path, lessons: list[Lesson], lesson: Lesson, lang: str = "en") -> TutorApp:
    """A TutorApp over the course ``lessons`` on fakes: every lesson opened gets a fake runtime (v1 running)."""

    def make_runtime(opened: Lesson) -> FakeRuntime:
        runtime = FakeRuntime(opened, realize(STATES["start_state"][1]()), cwd=tmp_path)
        runtime.session = FlowSession(runtime.watch, tmp_path)
        return runtime

    return TutorApp(lesson, FakeBackend(), tmp_path, lang=lang, cwd=tmp_path, choices=lessons,  # type: ignore[arg-type]
                    course=Text(ja="Kubernetes の基本", en="Kubernetes Basics"),
                    make_runtime=make_runtime)  # type: ignore[arg-type]


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", ["1. Create web  ✓ done · 1 min 05 s spent",
            "2. Scaling your app (changing the number of replicas)  step 2 of 2 · 3 min 20 s spent",
            "3. Updating your app (rolling updates)  not started"]),
    ("ja", ["1. web を作る  ✓ 完了 · 1 分 05 秒",
            "2. アプリのスケール（レプリカ数を変える）  ステップ 2/2 · 3 分 20 秒",
            "3. アプリケーションの更新（ローリングアップデート）  未着手"]),
])
async def test_the_picker_shows_the_course_in_order_with_progress(tmp_path: Path, lang: str,
                                                                  expected: list[str]) -> None:
    lessons = course()
    mixed_progress(tmp_path)
    statuses = {lesson.id: lesson_status(Progress.load(tmp_path, lesson.id, "practice"),
                                         [step.id for step in lesson.steps]) for lesson in lessons}

    class PickerApp(App[None]):
        def on_mount(self) -> None:
            self.push_screen(LessonPicker(lessons, lang, statuses=statuses, highlight="scaling"))

    app = PickerApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LessonPicker), "the picker")
        picker = app.screen
        assert isinstance(picker, LessonPicker)
        assert picker_lines(picker) == expected
        assert picker.query_one(OptionList).highlighted == 1  # where the learner resumes


async def test_a_first_start_opens_the_picker_on_the_first_lesson_and_enter_opens_it(tmp_path: Path) -> None:
    lessons = course()
    app = app_for(tmp_path, lessons, lessons[0])
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LessonPicker), "the picker")
        assert app.screen.query_one(OptionList).highlighted == 0
        await pilot.press("down", "enter")
        await until(pilot, lambda: isinstance(app.screen, IntroScreen | LessonScreen), "the second lesson",
                    detail=lambda: f"{app.screen_stack} {app.screen.query('#start-status').first().render().plain if app.screen.query('#start-status') else ''}")
        assert app.lesson.id == "scaling"
        await pilot.press("ctrl+q")


async def test_with_progress_the_app_opens_the_lesson_it_is_given(tmp_path: Path) -> None:
    lessons = course()
    mixed_progress(tmp_path)
    app = app_for(tmp_path, lessons, lessons[1])  # the CLI resumes on the lesson last touched
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LessonScreen), "the lesson")
        assert app.lesson.id == "scaling" and app.screen.index == 1  # step 2 of 2, no picker first
        await pilot.press("ctrl+q")


async def test_a_named_lesson_opens_at_once_even_on_a_first_start(tmp_path: Path) -> None:
    """`kube-tutor scaling` with no progress anywhere: that lesson, not the picker (which F9 still opens)."""
    lessons = course()
    app = app_for(tmp_path, lessons, lessons[1])
    app.named = True
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, IntroScreen | LessonScreen), "the named lesson")
        assert app.lesson.id == "scaling" and app.next_lesson() is lessons[2]
        await pilot.press("ctrl+q")


async def test_f9_opens_the_picker_from_inside_a_lesson(tmp_path: Path) -> None:
    """F9 (listed in F1's help, with the end screen's N and L): the picker over the lesson; Esc, or picking the
    lesson in use, comes back to it as it was; another lesson opens that one."""
    from tutor.tui.screens.help import HelpScreen

    lessons = course()
    mixed_progress(tmp_path)
    app = app_for(tmp_path, lessons, lessons[1])
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LessonScreen), "the lesson")
        lesson_screen = app.screen
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        help_text = str(app.screen.query_one("#help-text").render())
        assert "F9" in help_text and "the lessons of the course (Esc comes back to this lesson)" in help_text
        assert "N / L" in help_text and "on the lesson's end screen: the next lesson / the lessons of the course" \
            in help_text
        await pilot.press("escape")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, LessonPicker), "the picker")
        assert app.screen.query_one(OptionList).highlighted == 1  # the lesson in use
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is lesson_screen, "back to the lesson")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, LessonPicker), "the picker again")
        await pilot.press("enter")  # the lesson in use: carry on
        await until(pilot, lambda: app.screen is lesson_screen, "the same lesson, not reopened")
        await pilot.press("f9")
        await until(pilot, lambda: isinstance(app.screen, LessonPicker), "the picker a third time")
        await pilot.press("up", "enter")
        await until(pilot, lambda: app.lesson.id == lessons[0].id
                    and isinstance(app.screen, IntroScreen | LessonScreen | EndScreen), "the other lesson (done: its recap)",
                    detail=lambda: f"{app.lesson.id} {app.screen_stack}")
        await pilot.press("ctrl+q")


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_finishing_a_lesson_offers_the_next_one(tmp_path: Path, lang: str) -> None:
    seed = rolling_update_lesson()
    after = dataclasses.replace(seed, id="after-the-seed", title=Text(ja="次のレッスン", en="The lesson after"))
    finished_progress(tmp_path, seed)
    app = app_for(tmp_path, [seed, after], seed, lang)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, EndScreen), "the recap")
        end = app.screen
        assert isinstance(end, EndScreen) and end.next_lesson is after
        console = Console(width=100, record=True, file=io.StringIO())
        console.print(end.next_table())
        shown = console.export_text()
        said = {"en": "next lesson: The lesson after", "ja": "次のレッスン: 次のレッスン"}[lang]
        assert said in shown
        await pilot.press("n")
        await until(pilot, lambda: app.lesson.id == "after-the-seed"
                    and isinstance(app.screen, IntroScreen | LessonScreen), "the next lesson")
        assert Progress.load(tmp_path, "after-the-seed", "practice").current is not None  # a first visit began
        assert [type(screen).__name__ for screen in app.screen_stack][1:2] == ["LessonScreen"]
        await pilot.press("ctrl+q")


async def test_the_last_lesson_offers_no_next_one_but_the_picker(tmp_path: Path) -> None:
    seed = rolling_update_lesson()
    before = dataclasses.replace(seed, id="before-the-seed", title=Text(ja="前のレッスン", en="The lesson before"))
    finished_progress(tmp_path, seed)
    app = app_for(tmp_path, [before, seed], seed)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, EndScreen), "the recap")
        assert app.screen.next_lesson is None  # type: ignore[attr-defined]
        await pilot.press("n")  # nothing to open
        assert isinstance(app.screen, EndScreen)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, LessonPicker), "the picker")
        assert picker_lines(app.screen)[1].startswith("2. Updating your app (rolling updates)  ✓ done · 7 min 00 s spent")  # the steps' own times
        assert app.screen.query_one(OptionList).highlighted == 1  # the lesson in use
        await pilot.press("escape")  # back to the lesson
        await until(pilot, lambda: isinstance(app.screen, LessonScreen), "the lesson again")
        await pilot.press("ctrl+q")


class _PickerApp(App[None]):
    CSS_PATH: ClassVar[Any] = TutorApp.CSS_PATH

    def __init__(self, lessons: list[Lesson], lang: str, state: Path) -> None:
        super().__init__()
        self.lessons, self.lang, self.state = lessons, lang, state

    def on_mount(self) -> None:
        statuses = {lesson.id: lesson_status(Progress.load(self.state, lesson.id, "practice"),
                                             [step.id for step in lesson.steps]) for lesson in self.lessons}
        self.push_screen(LessonPicker(self.lessons, self.lang, statuses=statuses, highlight="scaling",
                                      course={"ja": "Kubernetes の基本", "en": "Kubernetes Basics"}[self.lang]))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_picker_snapshot_with_mixed_progress(snap_compare: Any, tmp_path: Path, lang: str) -> None:
    mixed_progress(tmp_path)
    assert snap_compare(_PickerApp(course(), lang, tmp_path), terminal_size=(100, 24))
