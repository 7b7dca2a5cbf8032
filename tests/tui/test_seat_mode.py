"""Seat mode: the lesson TUI as one seat of a workshop (``TutorApp(workshop=WorkshopSeat(root, seat))``).

It writes activity.json at every change (step, checks, commands, hints and solutions opened, which survive a
reload), shows the instructor's broadcasts, and carries out the instructor's resets (control.json), each once. The
seat's files are the ones the dashboard reads (tutor.workshop.status.read_rows sees what the seat wrote). Runs on the
fakes of tests.tui.fakes (no cluster); snapshots in ja and en.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.tui.fakes import STATES, FakeBackend, FakeRuntime, realize, rolling_update_lesson, write_progress
from tests.tui.pilot import until
from tests.tui.test_flow import FlowSession, console_text, lesson_on, run, squeeze
from tutor.lesson.progress import Progress
from tutor.tui.app import TutorApp
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.text import t
from tutor.workshop.seat import (
    Activity,
    CommandLine,
    WorkshopSeat,
    read_activity_file,
    read_json,
    seat_dir,
    write_broadcast,
    write_control,
    write_json,
)
from tutor.workshop.status import read_rows

SEAT = "seat-01"


@pytest.fixture(autouse=True)
def _quiet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(LessonScreen, "_tick", lambda self: None)  # no auto-advance: the step stays put
    monkeypatch.setenv("KUBE_TUTOR_STATE_DIR", str(tmp_path))


def workshop(tmp_path: Path) -> Path:
    """A workshop root with two seats, seat-01 taken by Aiko."""
    root = tmp_path / "workshop"
    write_json(root / "workshop.json", {"join_code": "KUBE42", "lesson": "rolling-update", "seats": 2,
                                        "stuck_minutes": 5})
    for seat in ("seat-01", "seat-02"):
        seat_dir(root, seat).mkdir(parents=True)
    write_json(seat_dir(root, SEAT) / "attendee.json", {"name": "Aiko", "cookie": "0" * 64,
                                                        "joined_at": "2026-01-05T10:00:00Z"})
    return root


def seat_app(state_name: str, lang: str, tmp_path: Path, root: Path, *, progress: bool = True) -> TutorApp:
    """The lesson app of seat-01 on the fakes (its --state is ``tmp_path/state``), opening on ``state_name``'s step."""
    step_id, state = STATES[state_name]
    lesson = rolling_update_lesson()
    home = tmp_path / "state"
    if progress:
        write_progress(home, lesson, step_id)
    runtime = FakeRuntime(lesson, realize(state()), cwd=tmp_path)
    runtime.session = FlowSession(runtime.watch, tmp_path)
    return TutorApp(lesson, FakeBackend(), home, lang=lang, cwd=tmp_path, runtime=runtime,  # type: ignore[arg-type]
                    workshop=WorkshopSeat(root, SEAT))




def activity(root: Path) -> Activity | None:
    return read_activity_file(seat_dir(root, SEAT) / "activity.json")


# ---- the seat's files, without the TUI ------------------------------------------------------------------------


def test_a_control_is_acted_on_once_even_across_reloads(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    seat = WorkshopSeat(root, SEAT)
    assert seat.read_control() is None
    first = write_control(root, SEAT, "reset-step")
    assert (first.id, first.action) == (1, "reset-step")
    assert seat.read_control() == first
    assert seat.read_control() is None
    assert WorkshopSeat(root, SEAT).read_control() is None  # a reload: seen.json remembers
    second = write_control(root, SEAT, "reset-lesson")
    assert second.id == 2 and WorkshopSeat(root, SEAT).read_control() == second
    with pytest.raises(ValueError, match="unknown seat action"):
        write_control(root, SEAT, "reboot")  # type: ignore[arg-type]
    with pytest.raises(FileNotFoundError, match="no seat 'seat-09'"):
        write_control(root, "seat-09", "reset-step")


def test_a_broadcast_is_copied_into_every_seat_and_shown_once(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    seat = WorkshopSeat(root, SEAT)
    message = write_broadcast(root, "  Break:\n back at   11:00 ")
    assert message.text == "Break: back at 11:00" and message.id == 1
    assert read_json(seat_dir(root, "seat-02") / "broadcast.json") == read_json(root / "broadcast.json")
    assert seat.read_broadcast() == message
    assert seat.read_broadcast() is None
    assert WorkshopSeat(root, SEAT).read_broadcast() is None
    assert write_broadcast(root, "x" * 1000).text == "x" * 280
    with pytest.raises(ValueError, match="empty"):
        write_broadcast(root, " \n ")


def test_a_seat_without_its_copy_reads_the_workshops_broadcast(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    write_broadcast(root, "hello")
    (seat_dir(root, SEAT) / "broadcast.json").unlink()
    found = WorkshopSeat(root, SEAT).read_broadcast()
    assert found is not None and found.text == "hello"


def test_activity_is_written_only_when_it_changed(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    seat = WorkshopSeat(root, SEAT)
    what = Activity("rolling-update", "Updating your app", 1, 4, "update", 0, 2,
                    commands=[CommandLine("kubectl get pods", "2026-01-05T10:00:00Z", 0)])
    assert seat.write_activity(what)
    assert not seat.write_activity(Activity(**{**what.__dict__}))
    what.checks_passing = 1
    assert seat.write_activity(what)
    read = activity(root)
    assert read is not None and read.checks_passing == 1 and read.commands == what.commands
    assert read.updated_at is not None
    assert (seat.activity_path.stat().st_mode & 0o777) == 0o600


# ---- the seat's TUI ---------------------------------------------------------------------------------------------


async def test_the_lesson_reports_its_step_and_checks(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    async with seat_app("v2_done", "en", tmp_path, root).run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "verify")
        await until(pilot, lambda: (a := activity(root)) is not None and a.step_id == "verify"
                    and a.checks_passing == len(screen.verdict.passed_ids if screen.verdict else ()),
                    "activity.json on step 2")
        found = activity(root)
        assert found is not None
        assert (found.lesson, found.step, found.steps, found.checks_total) == (
            "rolling-update", 2, 4, len(screen.step.checks))
        assert found.lesson_title == screen.lesson.title.get("en")
        await until(pilot, lambda: any("●" in line for line in (activity(root) or found).cluster),
                    "the cluster panel's lines (within a poll)")
        assert SEAT in str(screen.query_one("#status").render())
        row = read_rows(root)[0]  # what the dashboard makes of it
        assert (row.name, row.step, row.steps, row.step_id) == ("Aiko", 2, 4, "verify")


async def test_commands_hints_and_solutions_are_reported_and_survive_a_reload(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    async with seat_app("v2_done", "en", tmp_path, root).run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "verify")
        await run(pilot, screen, "kubectl get pods", "curl localhost:$NODE_PORT")
        await until(pilot, lambda: (a := activity(root)) is not None and a.last_command == "curl localhost:$NODE_PORT",
                    "the last command in activity.json")
        found = activity(root)
        assert found is not None and found.last_exit == 3
        assert [c.line for c in found.commands] == ["kubectl get pods", "curl localhost:$NODE_PORT"]
        await pilot.press("f2")
        await until(pilot, lambda: (a := activity(root)) is not None and a.hints == 1, "the hint counted")
        await pilot.press("f2")  # closing it is not opening it
        await pilot.press("f3")
        await until(pilot, lambda: (a := activity(root)) is not None and a.solutions == 1, "the solution counted")
        assert (activity(root) or found).hints == 1
    # A reload (the browser reconnects): the counts and the last commands come back.
    async with seat_app("v2_done", "en", tmp_path, root, progress=False).run_test(size=(120, 40)) as pilot:
        await lesson_on(pilot, "verify")
        await until(pilot, lambda: (a := activity(root)) is not None and a.updated_at is not None, "a report")
        found = activity(root)
        assert found is not None and (found.hints, found.solutions) == (1, 1)
        assert found.last_command == "curl localhost:$NODE_PORT"


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_a_broadcast_shows_at_the_top_and_in_the_console(tmp_path: Path, lang: str) -> None:
    root = workshop(tmp_path)
    async with seat_app("v2_done", lang, tmp_path, root).run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "verify")
        banner = screen.query_one("#broadcast", Static)
        assert not banner.display
        write_broadcast(root, "[b]Break[/b]: back at 11:00")
        said = t("workshop.broadcast", lang, text="[b]Break[/b]: back at 11:00")
        await until(pilot, lambda: banner.display, "the broadcast banner")
        assert str(banner.render()) == said  # the instructor's words as they are, never markup
        # the console's log writes once it has laid the line out: a refresh after the banner's
        await until(pilot, lambda: squeeze(said) in console_text(screen), "the broadcast in the console")


async def test_the_instructor_resets_the_step(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    async with seat_app("v10_stall", "en", tmp_path, root).run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "break")
        await run(pilot, screen, "kubectl get events")
        await until(pilot, lambda: screen.progress.step("break").passed, "step 3 passed")
        await until(pilot, lambda: (a := activity(root)) is not None and a.checks_passing == a.checks_total,
                    "the pass reported")
        write_control(root, SEAT, "reset-step")
        await until(pilot, lambda: not screen.progress.step("break").passed
                    and squeeze(t("workshop.reset_step", "en", n=3)) in console_text(screen), "the reset")
        await until(pilot, lambda: not screen.console.running, "the cluster reset to finish")
        assert screen.index == 2
        saved = Progress.load(tmp_path / "state", "rolling-update", "practice")
        assert not saved.step("break").passed and saved.step("break").commands == []
        assert saved.step("verify").passed  # only this step is forgotten
        await until(pilot, lambda: (a := activity(root)) is not None and a.step == 3
                    and a.checks_passing < a.checks_total, "the reset reported")


async def test_the_instructor_restarts_the_lesson_over_the_end_screen(tmp_path: Path) -> None:
    from tests.tui.test_flow import finished_progress
    from tutor.tui.screens.end import EndScreen

    root = workshop(tmp_path)
    finished_progress(tmp_path / "state", rolling_update_lesson())
    async with seat_app("rolled_back", "en", tmp_path, root, progress=False).run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(pilot.app.screen, EndScreen), "the end screen of a finished lesson")
        await until(pilot, lambda: (a := activity(root)) is not None and a.finished, "finished reported")
        write_control(root, SEAT, "reset-lesson")
        await until(pilot, lambda: isinstance(pilot.app.screen, LessonScreen) and pilot.app.screen.index == 0
                    and pilot.app.screen.progress.current == "update", "back on step 1")
        screen = pilot.app.screen
        assert isinstance(screen, LessonScreen)
        assert screen.progress.current == "update" and not screen.progress.step("rollback").passed
        await until(pilot, lambda: (a := activity(root)) is not None and a.step == 1 and not a.finished,
                    "step 1 reported")


class BlockingSession(FlowSession):
    """``watch kubectl get pods`` runs until cancelled (Ctrl+C, or the instructor's reset)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stop = asyncio.Event()

    async def run(self, line: str, on_output: Callable[[str], None]) -> int:
        if line != "sleep 600":
            return await super().run(line, on_output)
        self.history.append(line)
        self._running = True
        try:
            await self.stop.wait()
            return 130
        finally:
            self._running = False

    def cancel(self) -> None:
        super().cancel()
        self.stop.set()


async def test_a_reset_stops_the_running_command_first(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    app = seat_app("v2_done", "en", tmp_path, root)
    assert app.runtime is not None
    session = BlockingSession(app.runtime.watch, tmp_path)  # type: ignore[attr-defined]
    app.runtime.session = session  # type: ignore[misc]
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "verify")
        await pilot.press(*"sleep 600", "enter")
        await until(pilot, lambda: screen.console.running, "the command to run")
        write_control(root, SEAT, "reset-step")
        await until(pilot, lambda: session.cancelled == 1, "the command cancelled")
        await until(pilot, lambda: squeeze(t("workshop.reset_step", "en", n=2)) in console_text(screen), "the reset")
        await until(pilot, lambda: not screen.console.running, "the cluster reset to finish")
        assert session.cancelled == 1 and screen.index == 1


async def test_a_control_from_before_a_reload_is_not_applied_again(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    write_control(root, SEAT, "reset-lesson")
    WorkshopSeat(root, SEAT).read_control()  # the seat acted on it before the reload
    async with seat_app("v2_done", "en", tmp_path, root).run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "verify")
        await until(pilot, lambda: activity(root) is not None, "a report")
        await pilot.pause(0.1)
        assert screen.index == 1 and screen.progress.step("update").passed


async def test_without_a_workshop_nothing_is_written(tmp_path: Path) -> None:
    root = workshop(tmp_path)
    app = seat_app("v2_done", "en", tmp_path, root)
    app.workshop = None
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_on(pilot, "verify")
        assert screen.seat_mode is None and not screen.query_one("#broadcast").display
        assert SEAT not in str(screen.query_one("#status").render())
    assert activity(root) is None


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_snapshot_seat_with_a_broadcast(snap_compare: Any, tmp_path: Path, lang: str) -> None:
    root = workshop(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await lesson_on(pilot, "verify")
        for field in screen.query(Input):
            field.cursor_blink = False
        write_broadcast(root, "Break until 11:00 — then module 5")
        await until(pilot, lambda: screen.query_one("#broadcast").display, "the broadcast banner")
        await pilot.pause()

    assert snap_compare(seat_app("v2_done", lang, tmp_path, root), terminal_size=(100, 30), run_before=run_before)
