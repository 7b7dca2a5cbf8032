"""The teaching flow (issue 10): no step leaves before its point is seen, the layout fits 80x24 and grows,
the lesson has a beginning (the intro) and an end (the recap).

The app runs on the fakes of ``tests.tui.fakes`` (a fixed cluster state, canned command output); nothing waits on
the clock: the auto-advance countdown is driven by calling its tick, never by waiting for it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widget import Widget
from textual.widgets import Input

from tests.tui.fakes import (
    DEPLOY,
    STATES,
    FakeBackend,
    FakeRuntime,
    FakeSession,
    realize,
    rolling_update_lesson,
    write_progress,
)
from tests.tui.pilot import until
from tutor.lesson import Lesson
from tutor.lesson.progress import Progress
from tutor.tui.app import TutorApp
from tutor.tui.screens import lesson as lesson_module
from tutor.tui.screens.end import EndScreen, commands_that_mattered, duration, signature
from tutor.tui.screens.intro import IntroScreen
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.screens.too_small import TooSmallScreen
from tutor.tui.text import t
from tutor.tui.widgets.checklist import Checklist
from tutor.tui.widgets.console import Console
from tutor.tui.widgets.step_panel import CommandBlock, StepText

DEADLINE = 10.0
"""Seconds a condition may take before a test fails (the fakes answer at once: this is only a guard)."""

V10_SET = f"kubectl set image deployments/{DEPLOY} {DEPLOY}=jocatalin/kubernetes-bootcamp:v10"
EVENTS = f"""LAST SEEN   TYPE      REASON   OBJECT                               MESSAGE
2s          Warning   Failed   pod/{DEPLOY}-6d4fb9c5dk-7mx2p   Failed to pull image "jocatalin/kubernetes-bootcamp:v10": not found
"""
HISTORY = """REVISION  CHANGE-CAUSE
1         <none>
3         <none>
4         <none>
"""


class FlowSession(FakeSession):
    """The fake session, with canned output for the commands the flow's steps ask for besides the seed's."""

    def _answer(self, line: str, on_output: Callable[[str], None]) -> int:
        if line in ("kubectl get events", "kubectl events --types=Warning"):
            on_output(EVENTS)
            return 0
        if line.startswith("kubectl rollout history"):
            on_output(f"deployment.apps/{DEPLOY}\n{HISTORY}")
            return 0
        return super()._answer(line, on_output)


def flow_app(state_name: str, lang: str, tmp_path: Path, *, lesson: Lesson | None = None,
             progress: bool = True) -> TutorApp:
    """``make_app`` with :class:`FlowSession`; ``progress=False`` makes it a first visit (setup, then the intro)."""
    step_id, state = STATES[state_name]
    lesson = lesson or rolling_update_lesson()
    if progress:
        write_progress(tmp_path, lesson, step_id)
    runtime = FakeRuntime(lesson, realize(state()), cwd=tmp_path)
    runtime.session = FlowSession(runtime.watch, tmp_path)
    return TutorApp(lesson, FakeBackend(), tmp_path, lang=lang, cwd=tmp_path, runtime=runtime)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setenv("KUBE_TUTOR_STATE_DIR", str(tmp_path))  # the recap names no --state-dir




async def lesson_on(pilot: Pilot[Any], step_id: str) -> LessonScreen:
    """The lesson screen on ``step_id`` with its first verdict."""

    def ready() -> bool:
        screen = pilot.app.screen
        return isinstance(screen, LessonScreen) and screen.step.id == step_id and screen.verdict is not None

    await until(pilot, ready, f"the lesson screen on {step_id!r}")
    screen = pilot.app.screen
    assert isinstance(screen, LessonScreen)
    await pilot.pause()
    return screen


async def run(pilot: Pilot[Any], screen: LessonScreen, *commands: str) -> None:
    """Type each command and wait until it has finished and the checks have seen it."""
    session = screen.runtime.session
    for command in commands:
        count = len(session.history)
        await pilot.press(*command, "enter")
        await until(pilot, lambda n=count: len(session.history) == n + 1 and not screen.console.running,
                    f"`{command}` to finish")
        verdict = screen.verdict
        await until(pilot, lambda v=verdict: screen.verdict is not v or screen.monitor is None
                    or screen.monitor.last is screen.verdict, "the checks after the command")
        await pilot.pause()


def console_text(screen: LessonScreen) -> str:
    log = screen.query_one(Console).query_one("RichLog")
    return "".join("".join(line.text.split()) for line in log.lines)  # type: ignore[attr-defined]


def squeeze(text: str) -> str:
    return "".join(text.split())


def visible(widget: Widget, pane: Widget) -> bool:
    """Whether the widget lies wholly inside the pane's visible region (nothing cut at the top or bottom)."""
    return pane.content_region.contains_region(widget.region) and widget.region.height > 0


def banner_text(screen: LessonScreen) -> str:
    return str(screen.query_one("#banner").render())


# ---- 1. no step leaves before its point is seen ----


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_the_v10_step_stays_until_the_learner_looked_at_the_events(tmp_path: Path, lang: str) -> None:
    app = flow_app("v10_stall", lang, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "break")
        # The failure is there and for the right reason, but nobody has looked at it yet.
        assert screen.verdict is not None and not screen.verdict.passed
        assert [r.id for r in screen.verdict.results if not r.passed] == ["looked-at-the-reason"]
        await run(pilot, screen, "kubectl get pods", "kubectl get deployments")
        assert not screen.progress.step("break").passed
        await run(pilot, screen, "kubectl get events")
        await until(pilot, lambda: screen.progress.step("break").passed, "the step to pass")
        # Passed, and it stays: no countdown, the banner says Ctrl+N moves on.
        assert screen._advance is None
        assert squeeze(t("failure_stays", lang)) in squeeze(banner_text(screen))
        assert screen.index == 2
        await pilot.press("ctrl+n")
        await lesson_on(pilot, "rollback")


async def test_the_last_step_needs_the_revision_history_and_then_shows_the_recap(tmp_path: Path) -> None:
    app = flow_app("rolled_back", "en", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "rollback")
        await run(pilot, screen, f"kubectl rollout undo deployments/{DEPLOY}")
        assert not screen.progress.step("rollback").passed  # `rollout undo` alone is not the end
        await run(pilot, screen, f"kubectl rollout history deployments/{DEPLOY}")
        await until(pilot, lambda: screen.progress.step("rollback").passed, "the last step to pass")
        assert t("lesson_done", "en") in banner_text(screen)
        assert screen._advance is not None  # the recap follows after the countdown...
        screen._cancel_advance()
        screen._countdown = 1
        screen._tick()  # ...which ends here
        await until(pilot, lambda: isinstance(app.screen, EndScreen), "the end screen")


async def test_auto_advance_waits_for_a_running_command(tmp_path: Path) -> None:
    app = flow_app("start_state", "en", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "update")
        snapshot = realize(STATES["v2_done"][1]())
        assert isinstance(screen.runtime, FakeRuntime)
        screen.runtime.watch.set_snapshot(snapshot)
        await until(pilot, lambda: screen.progress.step("update").passed, "step 1 to pass")
        assert screen._advance is not None
        screen._cancel_advance()  # the test ticks the countdown itself
        screen.console.running = True  # a command runs: the countdown never reaches 0
        for _ in range(3 * lesson_module.ADVANCE_SECONDS):
            screen._tick()
        await pilot.pause()
        assert screen.index == 0
        assert squeeze(t("next_after_command", "en")) in squeeze(banner_text(screen))
        screen.console.running = False  # finished: the whole countdown, then the next step
        for _ in range(lesson_module.ADVANCE_SECONDS - 1):
            screen._tick()
        assert screen.index == 0
        screen._tick()
        await lesson_on(pilot, "verify")


async def test_a_lesson_may_turn_auto_advance_off(tmp_path: Path) -> None:
    lesson = dataclasses.replace(rolling_update_lesson(), auto_advance=False)
    app = flow_app("start_state", "ja", tmp_path, lesson=lesson)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "update")
        assert isinstance(screen.runtime, FakeRuntime)
        screen.runtime.watch.set_snapshot(realize(STATES["v2_done"][1]()))
        await until(pilot, lambda: screen.progress.step("update").passed, "step 1 to pass")
        assert screen._advance is None
        assert squeeze(t("advance_off", "ja")) in squeeze(banner_text(screen))


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_skipping_an_unfinished_step_is_said_and_step_two_is_not_complete_on_v1(tmp_path: Path,
                                                                                      lang: str) -> None:
    app = flow_app("start_state", lang, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "update")
        await pilot.press("ctrl+n")
        screen = await lesson_on(pilot, "verify")
        title = screen.lesson.steps[0].title.get(lang)
        assert squeeze(t("skipped", lang, n=1, title=title, next=2)) in console_text(screen)
        assert screen.verdict is not None
        complete = next(r for r in screen.verdict.results if r.id == "rollout-complete")
        assert not complete.passed  # the v1 Deployment is complete, but it is not the v2 rollout
        assert "✓" not in screen.query_one(Checklist).plain().split("\n", 1)[1]


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_f5_says_what_it_undoes_and_forgets_what_was_looked_at(tmp_path: Path, lang: str) -> None:
    app = flow_app("v10_stall", lang, tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "break")
        await run(pilot, screen, "kubectl get events")
        assert screen.runtime.step_history == ["kubectl get events"]
        await pilot.press("f5")
        await until(pilot, lambda: squeeze(t("reset_undoes_replays", lang, n=3, last=2)) in console_text(screen),
                    "the F5 notice")
        await until(pilot, lambda: not screen.console.running, "the reset to finish")
        assert screen.runtime.step_history == []
        assert Progress.load(tmp_path, "rolling-update", "practice").lines("break") == []


async def test_what_was_looked_at_survives_quit_and_resume(tmp_path: Path) -> None:
    app = flow_app("v10_stall", "en", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "break")
        await run(pilot, screen, "kubectl get events")
        assert Progress.load(tmp_path, "rolling-update", "practice").lines("break") == ["kubectl get events"]
    lesson = rolling_update_lesson()
    runtime = FakeRuntime(lesson, realize(STATES["v10_stall"][1]()), cwd=tmp_path)
    again = TutorApp(lesson, FakeBackend(), tmp_path, lang="en", cwd=tmp_path, runtime=runtime)  # type: ignore[arg-type]
    async with again.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "break")
        assert screen.runtime.step_history == ["kubectl get events"]
        assert screen.verdict is not None and screen.verdict.passed


# ---- 3. a layout that fits 80x24 and grows ----


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("step_id", ["update", "verify", "break", "rollback"])
async def test_at_80x24_the_first_paragraph_and_command_are_visible_on_arrival(tmp_path: Path, lang: str,
                                                                              step_id: str) -> None:
    state = next(name for name, (step, _) in STATES.items() if step == step_id)
    app = flow_app(state, lang, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await lesson_on(pilot, step_id)
        pane = screen.query_one("#lesson")
        checklist = screen.query_one(Checklist)
        assert checklist.folded and checklist.region.height == 1  # one line: what holds, what is missing
        first_text = screen.query_one("#step-body").query(StepText).first()
        first_block = screen.query_one("#step-body").query(CommandBlock).first()
        assert visible(first_text, pane), (first_text.region, pane.content_region)
        assert visible(first_block, pane), (first_block.region, pane.content_region)
        await pilot.press("f4")  # unfolded on request
        await until(pilot, lambda: not checklist.folded and checklist.region.height > 3, "the whole checklist")
        assert pane.content_region.contains_point(checklist.region.offset)  # it starts on screen


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_f2_and_f3_show_their_box_on_screen_at_once(tmp_path: Path, lang: str, size: tuple[int, int]) -> None:
    app = flow_app("start_state", lang, tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await lesson_on(pilot, "update")
        pane = screen.query_one("#lesson")
        hint = screen.query_one("#hint")
        await pilot.press("f2")
        await until(pilot, lambda: hint.region.height > 0 and pane.content_region.contains_region(hint.region),
                    "the hint box in the visible region")
        await pilot.press("f3")
        box = screen.query_one("#solution")
        await until(pilot, lambda: box.region.height > 2 and pane.content_region.contains_region(box.region),
                    "the solution box in the visible region")


@pytest.mark.parametrize(("size", "rows"), [((80, 24), 7), ((120, 40), 12), ((160, 50), 16)])
async def test_the_console_grows_with_the_terminal_and_f6_maximizes_it(tmp_path: Path, size: tuple[int, int],
                                                                       rows: int) -> None:
    app = flow_app("start_state", "en", tmp_path)
    async with app.run_test(size=size) as pilot:
        screen = await lesson_on(pilot, "update")
        console = screen.console
        assert console.region.height >= rows
        await pilot.press("f6")
        await until(pilot, lambda: console.region.height == size[1] - 2, "the console to fill the screen")
        assert not screen.query_one("#main").display
        assert console.query_one(Input).has_focus
        await pilot.press("f6")
        await until(pilot, lambda: screen.query_one("#main").region.height > 0, "the lesson back")


async def test_the_outline_wraps_with_a_hanging_indent(tmp_path: Path) -> None:
    app = flow_app("v10_stall", "en", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "break")
        lines = [line.text.rstrip() for line in screen.query_one("#outline").render_lines(
            screen.query_one("#outline").region.reset_offset)]  # type: ignore[attr-defined]
        start = next(i for i, line in enumerate(lines) if "3. An update that" in line)
        indent = lines[start].index("An update")
        assert lines[start + 1].startswith(" " * indent) and lines[start + 1].strip()  # continues under the title


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_below_80x24_a_notice_says_what_is_needed(tmp_path: Path, lang: str) -> None:
    app = flow_app("start_state", lang, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await lesson_on(pilot, "update")
        await pilot.resize_terminal(60, 20)
        await until(pilot, lambda: isinstance(app.screen, TooSmallScreen), "the notice")
        shown = str(app.screen.query_one("#too-small").render())
        assert shown == t("too_small", lang, width=80, height=24, now="60x20")
        await pilot.resize_terminal(100, 30)
        await until(pilot, lambda: isinstance(app.screen, LessonScreen), "the lesson back")


# ---- 6. a beginning and an end ----


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_a_first_visit_opens_on_the_intro_with_the_start_state(tmp_path: Path, lang: str) -> None:
    app = flow_app("start_state", lang, tmp_path, progress=False)
    lesson = app.lesson
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, IntroScreen) and bool(app.screen.query("#intro-start")),
                    "the intro, composed")
        intro = app.screen
        start = str(intro.query_one("#intro-start").render())
        assert squeeze(start) == squeeze(lesson.setup.text.get(lang).replace("`", ""))
        description = str(intro.query_one("#intro-description").render())
        assert squeeze(description) == squeeze(lesson.description.get(lang).replace("`", ""))
        await pilot.press("space")  # any key
        screen = await lesson_on(pilot, "update")
        assert screen.console.query_one(Input).has_focus
        await pilot.press("f7")  # and again
        await until(pilot, lambda: isinstance(app.screen, IntroScreen), "the intro again")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, LessonScreen), "the lesson")


async def test_a_resumed_lesson_opens_without_the_intro(tmp_path: Path) -> None:
    app = flow_app("v2_done", "en", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await lesson_on(pilot, "verify")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)


def finished_progress(tmp_path: Path, lesson: Lesson) -> Progress:
    """Every step passed, at fixed times, with the commands a learner ran."""
    progress = write_progress(tmp_path, lesson, "rollback")
    times = {"update": ("10:00:00", "10:01:05"), "verify": ("10:01:10", "10:03:40"),
             "break": ("10:03:45", "10:06:00"), "rollback": ("10:06:05", "10:07:15")}
    ran = {
        "update": [("kubectl get pods", 0, "kubernetes-bootcamp-5c69669756-qq7rx 1/1 Running 0 9s"),
                   ("kubectl set image deployments/kubernetes-bootcamp kubernetes-bootcamp=jocatalin/kubernetes"
                    "-bootcamp:v2", 0, "deployment.apps/kubernetes-bootcamp image updated")],
        "verify": [("export NODE_PORT=$(kubectl get services/kubernetes-bootcamp -o go-template='{{(index "
                    ".spec.ports 0).nodePort}}')", 0, ""),
                   ("curl localhost:$NODE_PORT", 0,
                    "Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-7c6644499c-bx4wq | v=2"),
                   ("kubectl rollout status deployments/kubernetes-bootcamp", 0,
                    'deployment "kubernetes-bootcamp" successfully rolled out')],
        "break": [(V10_SET, 0, "deployment.apps/kubernetes-bootcamp image updated"),
                  ("kubectl get evnets", 1, 'error: the server doesn\'t have a resource type "evnets"'),
                  ("kubectl get events", 0, 'Failed to pull image "jocatalin/kubernetes-bootcamp:v10": not found')],
        "rollback": [("kubectl rollout undo deployments/kubernetes-bootcamp", 0,
                      "deployment.apps/kubernetes-bootcamp rolled back"),
                     ("kubectl rollout history deployments/kubernetes-bootcamp", 0, "4 <none>")],
    }
    for step in lesson.steps:
        entry = progress.step(step.id)
        start, end = times[step.id]
        entry.started_at, entry.passed_at = f"2026-01-05T{start}Z", f"2026-01-05T{end}Z"
        entry.commands = [{"line": line, "at": entry.passed_at, "exit": code, "shown": shown}
                          for line, code, shown in ran[step.id]]
    progress.save()
    return progress


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_a_finished_lesson_reopens_on_the_recap_listing_every_step(tmp_path: Path, lang: str) -> None:
    lesson = rolling_update_lesson()
    finished_progress(tmp_path, lesson)
    app = flow_app("rolled_back", lang, tmp_path, progress=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, EndScreen), "the recap")
        end = app.screen
        assert isinstance(end, EndScreen)
        plain = end.plain()
        for number, step in enumerate(lesson.steps, 1):
            assert f"✓ {number}. {step.title.get(lang)}" in plain
        assert "$ kubectl get events\n    → Failed to pull image" in plain
        assert "kubectl get evnets" not in plain  # failed commands did not matter
        assert "kubectl get pods" not in plain  # looking around is not what the step was about
        assert [step.seconds for step in end.steps] == [65, 150, 135, 70]
        await pilot.press("escape")
        screen = await lesson_on(pilot, "rollback")
        await pilot.press("ctrl+n")  # after the last step: the end again
        await until(pilot, lambda: isinstance(app.screen, EndScreen), "the recap again")
        assert screen.index == 3


def test_what_a_command_does_without_its_arguments() -> None:
    assert signature("kubectl set image deployments/x x=y:v2") == ("kubectl", "set", "image")
    assert signature("kubectl rollout undo deployments/x") == ("kubectl", "rollout", "undo")
    assert signature("curl localhost:$NODE_PORT") == ("curl",)
    assert signature("export NODE_PORT=$(kubectl get services/x)") == ("export",)
    assert signature("kubectl get events --field-selector type=Warning") == ("kubectl", "get", "events")
    assert signature("echo 'unterminated") == ("echo",)


def test_the_recap_keeps_the_last_run_of_each_command_that_mattered() -> None:
    step = rolling_update_lesson().step("break")
    ran = [{"line": "kubectl get events", "exit": 0, "shown": "old"},
           {"line": V10_SET, "exit": 0, "shown": "updated"},
           {"line": "kubectl describe pods", "exit": 0, "shown": "x"},
           {"line": "kubectl  get events", "exit": 0, "shown": "new"}]
    got = commands_that_mattered(step, ran)
    assert [(r.line, r.shown) for r in got] == [(V10_SET, "updated"), ("kubectl get events", "new")]


@pytest.mark.parametrize(("seconds", "en", "ja"), [(0, "0 s", "0 秒"), (59, "59 s", "59 秒"),
                                                   (65, "1 min 05 s", "1 分 05 秒"), (3600, "60 min 00 s", "60 分 00 秒")])
def test_durations(seconds: int, en: str, ja: str) -> None:
    assert duration(seconds, "en") == en and duration(seconds, "ja") == ja


def test_the_gist_of_a_commands_output_is_the_line_that_says_why() -> None:
    from tutor.tui.screens.lesson import GIST_CHARS, OutputTail

    tail = OutputTail()
    tail.add("\x1b[1mNAME\x1b[0m   READY\nweb-1  1/1\n")
    assert tail.gist() == "web-1 1/1"  # nothing failed: the last line
    tail = OutputTail()
    tail.add('4s  Warning  Failed  pod/x  Failed to pull image "v10": rpc error: code = NotFound desc = ' + "y" * 200
             + ': not found\n1s  Warning  Failed  pod/x  Error: ImagePullBackOff\n')
    gist = tail.gist()
    assert gist.startswith('4s Warning Failed pod/x Failed to pull image "v10"') and gist.endswith(": not found")
    assert len(gist) <= GIST_CHARS
    tail = OutputTail()
    tail.add("error: timed out waiting for the condition\n")
    assert tail.gist() == "error: timed out waiting for the condition"
    assert OutputTail().gist() == ""


async def test_a_terminal_too_small_from_the_start_keeps_its_notice_until_it_grows(tmp_path: Path) -> None:
    app = flow_app("start_state", "en", tmp_path, progress=False)
    async with app.run_test(size=(60, 20)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TooSmallScreen)
                    and any(isinstance(s, LessonScreen) for s in app.screen_stack), "the lesson under the notice")
        await pilot.resize_terminal(80, 24)
        await until(pilot, lambda: isinstance(app.screen, IntroScreen), "the intro once it fits")
        await pilot.press("f1")  # the intro offers F1: it closes and shows the keys
        await until(pilot, lambda: type(app.screen).__name__ == "HelpScreen", "the keys")
