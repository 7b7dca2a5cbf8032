"""Snapshot tests of the whole TUI: the lesson screen in each step's state, in ja and en, at 80x24, 120x40 and
160x50; the intro and the end screen.

The app runs on the fakes of ``tests.tui.fakes`` (a fixed cluster state, canned command output), so every
screen is the same on every run: fixed pod names, no ages, no clock, the cursor does not blink, and the
passed step's 5 s countdown never ticks. Besides the snapshots, a few Pilot checks say in words what must
stay visible on a small (80x24) terminal.

Update the snapshots with ``pytest tests/tui/test_snapshots.py --snapshot-update`` only after looking at
``snapshot_report.html``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input

from tests.tui.fakes import STATES, FakeRuntime, make_app, rolling_update_lesson
from tests.tui.pilot import until
from tests.tui.test_flow import finished_progress, flow_app  # the fakes, with `get events`, `rollout history`
from tutor.tui.screens.end import EndScreen
from tutor.tui.screens.help import HelpScreen
from tutor.tui.screens.intro import IntroScreen
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.widgets.checklist import Checklist
from tutor.tui.widgets.cluster_panel import ClusterPanel

DEADLINE = 10.0
"""Seconds a condition may take before a test fails (the fakes answer at once: this is only a guard)."""

SIZES = {"80x24": (80, 24), "120x40": (120, 40), "160x50": (160, 50)}

CASES = {
    # name: (cluster state, what the learner typed in the console)
    "step1-todo": ("start_state", ()),
    "step2-in-progress": ("v2_done", ("kubectl get pods",)),
    "step3-passed": ("v10_stall", ("kubectl get events",)),
    "step4-lesson-done": ("rolled_back", ("kubectl rollout history deployments/kubernetes-bootcamp",)),
}
"""One lesson-screen state per step: step 1 not done yet, step 2 half done (NODE_PORT not exported), the
break step passed once the events were looked at (it stays), the rollback passed once the revisions were looked at
(lesson complete; the countdown to the recap frozen)."""


@pytest.fixture(autouse=True)
def _frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing on screen may change with time: no cursor blink, no auto-advance countdown."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(LessonScreen, "_tick", lambda self: None)  # the banner keeps saying "in 5 s"




def lesson_screen(pilot: Pilot[Any]) -> LessonScreen:
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen), screen
    return screen


async def open_lesson(pilot: Pilot[Any], step_id: str) -> LessonScreen:
    """Wait for the lesson screen on ``step_id``, its checklist's first verdict and the cluster panel."""
    app = pilot.app

    def ready() -> bool:
        screen = app.screen
        return (isinstance(screen, LessonScreen) and screen.step.id == step_id and screen.verdict is not None
                and screen.query_one(Checklist).verdict is not None
                and screen.query_one(ClusterPanel).groups is not None)

    await until(pilot, ready, f"the lesson screen on step {step_id!r} with a verdict")
    screen = lesson_screen(pilot)
    for field in screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()
    return screen


async def type_commands(pilot: Pilot[Any], commands: tuple[str, ...]) -> None:
    """Type each command in the console and wait for its canned output."""
    screen = lesson_screen(pilot)
    session = screen.runtime.session
    for number, command in enumerate(commands, start=1):
        await pilot.press(*command, "enter")
        await until(pilot, lambda n=number: len(session.history) == n and not screen.console.running,
                    f"`{command}` to finish")
    await pilot.pause()


async def scroll_into_view(pilot: Pilot[Any], target: Widget) -> None:
    """Scroll the lesson pane so ``target`` starts at its top (or shows whole, at the end of the pane)."""
    pane = lesson_screen(pilot).query_one("#lesson")

    def shown() -> bool:
        region, view = target.region, pane.content_region
        return region.y >= view.y and (region.y <= view.y + 1 or region.bottom <= view.bottom)

    await pilot.pause()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not shown():
        if loop.time() > deadline:
            raise AssertionError(f"could not scroll {target} into view")
        pane.scroll_to_widget(target, animate=False, top=True)
        await pilot.pause()


def verdict_view(step_id: str, commands: tuple[str, ...]) -> Callable[[Pilot[Any]], Awaitable[None]]:
    """A ``run_before``: open the lesson on ``step_id``, run ``commands``, show the banner or the checklist."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await open_lesson(pilot, step_id)
        await type_commands(pilot, commands)
        banner = screen.query_one("#banner")
        await scroll_into_view(pilot, banner if banner.display else screen.query_one(Checklist))

    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("case", CASES)
def test_lesson_screen(snap_compare: Any, tmp_path: Path, case: str, lang: str, size: str) -> None:
    state, commands = CASES[case]
    step_id = STATES[state][0]
    app = flow_app(state, lang, tmp_path)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=verdict_view(step_id, commands))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_help_screen(snap_compare: Any, tmp_path: Path, lang: str) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_lesson(pilot, "update")
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(pilot.app.screen, HelpScreen), "the help screen")
        await pilot.pause()

    assert snap_compare(make_app("start_state", lang, tmp_path), terminal_size=(80, 24), run_before=run_before)


# ---- what must stay visible at 80x24, in words ----


STATUS_START = {"ja": "ステップ {n}/4", "en": "Step {n}/4"}


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("case", CASES)
async def test_what_80x24_shows(tmp_path: Path, case: str, lang: str) -> None:
    state, _ = CASES[case]
    step_id = STATES[state][0]
    app = make_app(state, lang, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_lesson(pilot, step_id)
        n = screen.index + 1
        status = str(screen.query_one("#status").render())
        assert status.startswith(STATUS_START[lang].format(n=n)), status
        pane = screen.query_one("#lesson")
        # The checklist (what is still missing) comes first in the pane; the titled explanation follows it.
        checklist = screen.query_one(Checklist)
        banner = screen.query_one("#banner")
        first = banner if banner.display else checklist  # a passed step shows its banner first
        assert pane.scroll_y == 0 and pane.content_region.overlaps(first.region)
        title = screen.query_one("#step-title")
        assert str(title.render()) == f"{n}. {screen.step.title.get(lang)}"
        prompt = screen.console.query_one(Input)
        assert prompt.region.height == 1 and screen.region.contains_region(prompt.region)
        panel = screen.query_one(ClusterPanel)
        assert isinstance(screen.runtime, FakeRuntime)
        pods = screen.runtime.watch.snapshot()["pods"]
        shown = panel.plain_text.splitlines()
        assert sum(1 for line in shown if "●" in line) == len(pods)
        assert panel.region.height >= len(shown)  # every pod line fits without scrolling the panel
        await scroll_into_view(pilot, title)
        assert pane.content_region.overlaps(title.region)


# ---- the beginning and the end ----


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_intro_screen(snap_compare: Any, tmp_path: Path, lang: str) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: isinstance(pilot.app.screen, IntroScreen), "the intro")
        await pilot.pause()

    app = flow_app("start_state", lang, tmp_path, progress=False)  # a first visit
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


@pytest.mark.parametrize("size", ["80x24", "120x40"])
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_end_screen(snap_compare: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, lang: str, size: str) -> None:
    from tests.tui.test_flow import flow_app

    monkeypatch.setenv("KUBE_TUTOR_STATE_DIR", str(tmp_path))  # the default state dir: no --state-dir to show
    finished_progress(tmp_path, rolling_update_lesson())

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: isinstance(pilot.app.screen, EndScreen), "the end screen")
        for field in pilot.app.query(Input):
            field.cursor_blink = False
        await pilot.pause()

    app = flow_app("rolled_back", lang, tmp_path, progress=False)  # a finished lesson reopens on its recap
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)
