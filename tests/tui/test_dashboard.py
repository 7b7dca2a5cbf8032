"""The workshop instructor's dashboard: rows from the seats' files (tutor.workshop.status), the stuck rule, the
CSV/JSON export, and the Textual screen (live rows, stuck rows standing out, a seat's detail, reset with a yes,
broadcast, export), with snapshots in ja and en.

The seats' files are written as a seat's TUI writes them (``WorkshopSeat.write_activity``); the clock is frozen, so
every age on screen is fixed.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from tests.tui.pilot import until
from tutor.tui.dashboard_app import DashboardApp
from tutor.tui.screens.dashboard import BroadcastScreen, ConfirmScreen, DashboardScreen
from tutor.tui.text import t
from tutor.workshop.seat import Activity, CommandLine, WorkshopSeat, now_iso, read_json, seat_dir, write_json
from tutor.workshop.status import (
    EXPORT_COLUMNS,
    STUCK_MINUTES,
    export_progress,
    is_stuck,
    read_rows,
    rows_csv,
    workshop_stuck_minutes,
)

NOW = datetime(2026, 1, 5, 10, 30, 0, tzinfo=UTC)
"""The frozen time of every test."""


def ago(minutes: float) -> str:
    return now_iso(NOW - timedelta(minutes=minutes))


def activity(step: int = 2, passing: int = 1, total: int = 3, *, on_step: float = 3, progress: float | None = None,
             command: str | None = "kubectl get pods", command_ago: float = 0.5, exit_code: int = 0,
             finished: bool = False, hints: int = 0, solutions: int = 0) -> Activity:
    """An activity of the rolling-update lesson: on ``step`` since ``on_step`` minutes, the last progress
    ``progress`` minutes ago (default: when the step began)."""
    commands = [CommandLine("kubectl get deployments", ago(command_ago + 1), 0)]
    if command is not None:
        commands.append(CommandLine(command, ago(command_ago), exit_code))
    return Activity(lesson="rolling-update", lesson_title="Updating your app", step=step, steps=4,
                    step_id=("update", "verify", "break", "rollback")[step - 1], checks_passing=passing,
                    checks_total=total, step_started_at=ago(on_step),
                    progress_at=ago(on_step if progress is None else progress), hints=hints, solutions=solutions,
                    last_command=command, last_command_at=ago(command_ago) if command else None,
                    last_exit=exit_code if command else None, finished=finished,
                    cluster=["deploy/kubernetes-bootcamp 4/4", "  v2  ● ● ● ●"], commands=commands)


def make_workshop(root: Path, seats: int = 4, *, lesson: str | None = "rolling-update",
                  stuck_minutes: float | None = None) -> Path:
    """A workshop root with ``seats`` seat directories and a workshop.json (as W-A's model writes them)."""
    data: dict[str, Any] = {"join_code": "KUBE42", "instructor_code": "secret-9", "lesson": lesson, "course": False,
                            "lang": "en", "seats": seats, "backend": "practice", "created_at": ago(60)}
    if stuck_minutes is not None:
        data["stuck_minutes"] = stuck_minutes
    write_json(root / "workshop.json", data)
    for index in range(1, seats + 1):
        seat_dir(root, f"seat-{index:02d}").mkdir(parents=True)
    return root


def join(root: Path, seat: str, name: str) -> None:
    write_json(seat_dir(root, seat) / "attendee.json", {"name": name, "cookie": "0" * 64, "joined_at": ago(20)})


def play(root: Path, seat: str, what: Activity) -> None:
    WorkshopSeat(root, seat).write_activity(what, now=NOW)


def classroom(root: Path) -> Path:
    """Four seats: Aiko on step 2 going fine, Ben stuck on step 3 (no progress for 9 min, checks failing), Chen
    finished, seat-04 free."""
    make_workshop(root)
    join(root, "seat-01", "Aiko")
    play(root, "seat-01", activity(2, 1, 3, on_step=2, hints=1))
    join(root, "seat-02", "Ben")
    play(root, "seat-02", activity(3, 0, 2, on_step=12, progress=9, command="kubectl describe pods",
                                   command_ago=7, exit_code=1, hints=2, solutions=1))
    join(root, "seat-03", "Chen")
    play(root, "seat-03", activity(4, 2, 2, on_step=1, finished=True, command="kubectl rollout undo deployments/x"))
    return root


# ---- rows and the stuck rule --------------------------------------------------------------------------------


def test_rows_read_attendee_and_activity_of_each_seat(tmp_path: Path) -> None:
    rows = read_rows(classroom(tmp_path), now=NOW)
    assert [row.seat for row in rows] == ["seat-01", "seat-02", "seat-03", "seat-04"]
    aiko, ben, chen, free = rows
    assert (aiko.name, aiko.lesson, aiko.step, aiko.steps, aiko.checks_passing, aiko.checks_total) == (
        "Aiko", "rolling-update", 2, 4, 1, 3)
    assert aiko.minutes_on_step == pytest.approx(2) and aiko.hints == 1 and not aiko.stuck
    assert ben.stuck and (ben.hints, ben.solutions, ben.last_exit) == (2, 1, 1)
    assert ben.last_command == "kubectl describe pods" and ben.last_command_age == pytest.approx(7 * 60)
    assert chen.finished and not chen.stuck
    assert not free.taken and free.lesson is None


@pytest.mark.parametrize(("passing", "total", "minutes", "finished", "stuck"), [
    (0, 2, STUCK_MINUTES, False, True),        # checks fail, no progress for the whole time: stuck
    (0, 2, STUCK_MINUTES - 0.5, False, False),  # not yet
    (2, 2, 30, False, False),                   # every check holds: waiting to move on is not being stuck
    (1, 2, 30, True, False),                    # the lesson is finished
    (0, 0, 30, False, True),                    # no verdict yet after 30 min counts as failing
])
def test_stuck_rule(passing: int, total: int, minutes: float, finished: bool, stuck: bool) -> None:
    what = activity(3, passing, total, on_step=minutes + 5, progress=minutes, finished=finished)
    assert is_stuck(what, NOW, STUCK_MINUTES) is stuck


def test_progress_is_measured_from_the_last_step_forward_not_the_start_of_the_step(tmp_path: Path) -> None:
    """On the step for 20 min but a check started holding 2 min ago: not stuck."""
    assert not is_stuck(activity(3, 1, 2, on_step=20, progress=2), NOW, STUCK_MINUTES)
    assert is_stuck(activity(3, 1, 2, on_step=20, progress=6), NOW, STUCK_MINUTES)


def test_the_workshop_sets_its_stuck_minutes(tmp_path: Path) -> None:
    root = make_workshop(tmp_path, 1, stuck_minutes=2)
    join(root, "seat-01", "Aiko")
    play(root, "seat-01", activity(2, 0, 3, on_step=3))
    assert workshop_stuck_minutes(root) == 2
    assert read_rows(root, now=NOW)[0].stuck
    assert not read_rows(root, now=NOW, stuck_minutes=10)[0].stuck


def test_a_damaged_activity_reads_as_not_started(tmp_path: Path) -> None:
    root = make_workshop(tmp_path, 2)
    join(root, "seat-01", "Aiko")
    (seat_dir(root, "seat-01") / "activity.json").write_text("{not json", encoding="utf-8")
    join(root, "seat-02", "Ben")
    write_json(seat_dir(root, "seat-02") / "activity.json", {"lesson": "x", "step": "two"})
    rows = read_rows(root, now=NOW)
    assert [(row.name, row.lesson) for row in rows] == [("Aiko", None), ("Ben", None)]


def test_export_writes_csv_and_json_of_every_seat(tmp_path: Path) -> None:
    root = classroom(tmp_path / "workshop")
    written = export_progress(root, tmp_path / "out" / "progress", now=NOW)
    assert [path.name for path in written] == ["progress.csv", "progress.json"]
    table = list(csv.DictReader(io.StringIO(written[0].read_text(encoding="utf-8"))))
    assert tuple(table[0]) == EXPORT_COLUMNS
    assert [(r["seat"], r["name"], r["step"], r["stuck"], r["finished"]) for r in table] == [
        ("seat-01", "Aiko", "2", "false", "false"), ("seat-02", "Ben", "3", "true", "false"),
        ("seat-03", "Chen", "4", "false", "true"), ("seat-04", "", "", "false", "false")]
    data = json.loads(written[1].read_text(encoding="utf-8"))
    assert data["exported_at"] == "2026-01-05T10:30:00Z"
    assert data["seats"][1]["commands"][-1] == {"line": "kubectl describe pods", "at": ago(7), "exit": 1}
    assert data["seats"][3]["name"] is None
    assert export_progress(root, tmp_path / "only.csv", now=NOW) == [tmp_path / "only.csv"]
    assert (written[0].stat().st_mode & 0o777) == 0o600


def test_csv_cells_keep_commas_and_quotes(tmp_path: Path) -> None:
    root = make_workshop(tmp_path, 1)
    join(root, "seat-01", 'Ann "the, admin"')
    play(root, "seat-01", activity(command="kubectl get pods -o jsonpath='{.items[*].metadata.name}',x"))
    table = list(csv.DictReader(io.StringIO(rows_csv(read_rows(root, now=NOW)))))
    assert table[0]["name"] == 'Ann "the, admin"'
    assert table[0]["last_command"] == "kubectl get pods -o jsonpath='{.items[*].metadata.name}',x"


# ---- the screen ---------------------------------------------------------------------------------------------


def dashboard(root: Path, lang: str = "en", **kwargs: Any) -> DashboardApp:
    return DashboardApp(root, lang=lang, clock=lambda: NOW, poll_seconds=0.05, **kwargs)


def screen_of(pilot: Pilot[Any]) -> DashboardScreen:
    app = pilot.app
    assert isinstance(app, DashboardApp)
    return app.dashboard


def cell(pilot: Pilot[Any], seat: str, column: str) -> Text:
    value = screen_of(pilot).table.get_cell(seat, column)
    assert isinstance(value, Text)
    return value


async def ready(pilot: Pilot[Any]) -> DashboardScreen:
    await until(pilot, lambda: pilot.app.screen is screen_of(pilot) and screen_of(pilot).table.row_count > 0,
                "the dashboard's rows")
    return screen_of(pilot)


async def test_rows_update_live_when_a_seat_moves_on(tmp_path: Path) -> None:
    root = classroom(tmp_path)
    async with dashboard(root).run_test(size=(120, 30)) as pilot:
        screen = await ready(pilot)
        assert cell(pilot, "seat-01", "step").plain == "2/4"
        reads = screen.reads
        await pilot.pause(0.2)
        assert screen.reads == reads  # no file changed: nothing read again
        play(root, "seat-01", activity(3, 0, 2, on_step=0, command="kubectl set image deployments/x"))
        await until(pilot, lambda: cell(pilot, "seat-01", "step").plain == "3/4", "seat-01's new step")
        assert cell(pilot, "seat-01", "command").plain == "kubectl set image deployments/x"
        join(root, "seat-04", "Dara")  # a new attendee takes the free seat
        await until(pilot, lambda: cell(pilot, "seat-04", "name").plain == "Dara", "Dara on seat-04")
        assert cell(pilot, "seat-04", "lesson").plain == t("dashboard.not_started", "en")


async def test_stuck_seats_stand_out(tmp_path: Path) -> None:
    root = classroom(tmp_path)
    async with dashboard(root).run_test(size=(120, 30)) as pilot:
        screen = await ready(pilot)
        ben = cell(pilot, "seat-02", "seat")
        assert ben.plain == "⚠ seat-02" and "red" in str(ben.style) and "bold" in str(ben.style)
        assert "red" not in str(cell(pilot, "seat-01", "seat").style)
        header = str(screen.query_one("#dashboard-header").render())
        assert "1 stuck" in header and "3/4 seats taken" in header and "KUBE42" in header
        assert "secret-9" not in header  # the instructor code is never shown
        # Ben's check starts holding: the row stops standing out.
        play(root, "seat-02", activity(3, 1, 2, on_step=12, progress=0))
        await until(pilot, lambda: cell(pilot, "seat-02", "seat").plain == "seat-02", "Ben no longer stuck")


async def test_selecting_a_seat_shows_its_cluster_and_last_commands(tmp_path: Path) -> None:
    root = classroom(tmp_path)
    async with dashboard(root).run_test(size=(120, 30)) as pilot:
        screen = await ready(pilot)
        await pilot.press("down")
        await until(pilot, lambda: screen.selected is not None and screen.selected.seat == "seat-02", "seat-02")
        shown = str(screen.query_one("#seat-detail").render())
        assert "v2  ● ● ● ●" in shown
        assert shown.index("$ kubectl describe pods") < shown.index("$ kubectl get deployments")  # newest first
        assert "exit 1" in shown
        await pilot.press("down", "down")
        await until(pilot, lambda: "seat-04 is free" in str(screen.query_one("#seat-detail").render()), "free seat")


async def test_what_a_seat_wrote_is_shown_as_plain_text(tmp_path: Path) -> None:
    """A seat writes its own activity.json: markup in it is shown, never interpreted."""
    root = make_workshop(tmp_path, 1)
    join(root, "seat-01", "[b]Eve[/b]")
    play(root, "seat-01", activity(command="echo [red]boom[/red]"))
    async with dashboard(root).run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        assert cell(pilot, "seat-01", "name").plain == "[b]Eve[/b]"
        assert cell(pilot, "seat-01", "command").plain == "echo [red]boom[/red]"


async def test_reset_asks_first_then_writes_the_seats_control(tmp_path: Path) -> None:
    root = classroom(tmp_path)
    control = seat_dir(root, "seat-02") / "control.json"
    async with dashboard(root).run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        await pilot.press("down", "r")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        assert "Reset step 3 of seat-02 (Ben)?" in str(pilot.app.screen.query_one("#confirm-question").render())
        await pilot.press("n")
        await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen), "the dashboard again")
        assert not control.exists()
        await pilot.press("r", "y")
        await until(pilot, control.exists, "control.json")
        assert read_json(control) == {"id": 1, "action": "reset-step", "at": "2026-01-05T10:30:00Z"}
        await pilot.press("R")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        await pilot.press("enter")
        await until(pilot, lambda: (read_json(control) or {}).get("id") == 2, "the second control")
        assert (read_json(control) or {})["action"] == "reset-lesson"
        assert not (seat_dir(root, "seat-01") / "control.json").exists()


async def test_a_free_seat_is_not_reset(tmp_path: Path) -> None:
    root = classroom(tmp_path)
    async with dashboard(root).run_test(size=(120, 30), notifications=True) as pilot:
        screen = await ready(pilot)
        screen.table.move_cursor(row=3)
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(pilot.app.screen, DashboardScreen)
        assert not (seat_dir(root, "seat-04") / "control.json").exists()
        assert [n.message for n in pilot.app._notifications] == [t("dashboard.free_seat", "en", seat="seat-04")]


async def test_broadcast_reaches_every_seat(tmp_path: Path) -> None:
    root = classroom(tmp_path)
    async with dashboard(root).run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        await pilot.press("b")
        await until(pilot, lambda: isinstance(pilot.app.screen, BroadcastScreen), "the message field")
        pilot.app.screen.query_one(Input).cursor_blink = False
        await pilot.press(*"Break: back at 11:00", "enter")
        await until(pilot, lambda: (root / "broadcast.json").exists(), "broadcast.json")
        expected = {"id": 1, "text": "Break: back at 11:00", "at": "2026-01-05T10:30:00Z"}
        assert read_json(root / "broadcast.json") == expected
        for seat in ("seat-01", "seat-02", "seat-03", "seat-04"):  # the sandboxed seat sees only its own directory
            assert read_json(seat_dir(root, seat) / "broadcast.json") == expected
        await pilot.press("b", "escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, DashboardScreen), "the dashboard again")
        assert (read_json(root / "broadcast.json") or {})["id"] == 1


async def test_export_key_writes_both_files(tmp_path: Path) -> None:
    root = classroom(tmp_path / "workshop")
    async with dashboard(root, export_to=tmp_path / "class").run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        await pilot.press("e")
        await until(pilot, lambda: (tmp_path / "class.json").exists(), "the export")
        assert (tmp_path / "class.csv").read_text(encoding="utf-8").startswith("seat,name,")


async def test_default_export_goes_to_the_workshop_root(tmp_path: Path) -> None:
    root = classroom(tmp_path)
    async with dashboard(root).run_test(size=(120, 30)) as pilot:
        await ready(pilot)
        await pilot.press("e")
        await until(pilot, lambda: (root / "progress-20260105-103000.csv").exists(), "the export")


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_snapshot_dashboard(snap_compare: Any, tmp_path: Path, lang: str) -> None:
    root = classroom(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await ready(pilot)
        await pilot.press("down")  # Ben, stuck: his cluster and commands below
        await until(pilot, lambda: screen.selected is not None and screen.selected.seat == "seat-02", "seat-02")
        await pilot.pause()

    assert snap_compare(dashboard(root, lang), terminal_size=(120, 30), run_before=run_before)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_snapshot_reset_question(snap_compare: Any, tmp_path: Path, lang: str) -> None:
    root = classroom(tmp_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await pilot.press("down", "R")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the question")
        await pilot.pause()

    assert snap_compare(dashboard(root, lang), terminal_size=(100, 24), run_before=run_before)


async def test_table_has_one_row_per_seat_in_order(tmp_path: Path) -> None:
    """The DataTable's row keys are the seats (the dashboard updates cells in place by them)."""
    root = classroom(tmp_path)
    async with dashboard(root).run_test(size=(120, 30)) as pilot:
        screen = await ready(pilot)
        table: DataTable[Text] = screen.table
        assert [str(key.value) for key in table.rows] == ["seat-01", "seat-02", "seat-03", "seat-04"]
