"""Provides the instructor's view of a workshop: one :class:`SeatRow` per seat (from ``attendee.json`` and
``activity.json``), the stuck rule, and the export of the rows as CSV and JSON (no textual here)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.kube.files import atomic_write
from tutor.workshop.seat import (
    ACTIVITY_FILE,
    Activity,
    CommandLine,
    parse_iso,
    read_activity_file,
    read_json,
    seat_dirs,
)

ATTENDEE_FILE = "attendee.json"
WORKSHOP_FILE = "workshop.json"
STUCK_MINUTES = 5.0
"""Minutes without progress, while the step's checks fail, after which a seat counts as stuck (``workshop.json``'s
``stuck_minutes`` overrides it)."""


@dataclass(frozen=True)
class SeatRow:
    """One seat as the instructor sees it. A free seat has no ``name``; a seat that has not opened a lesson yet has
    no ``lesson``."""

    seat: str
    name: str | None = None
    joined_at: str | None = None
    lesson: str | None = None
    lesson_title: str | None = None
    step: int | None = None
    steps: int | None = None
    step_id: str | None = None
    checks_passing: int = 0
    checks_total: int = 0
    minutes_on_step: float | None = None
    hints: int = 0
    solutions: int = 0
    last_command: str | None = None
    last_command_at: str | None = None
    last_command_age: float | None = None
    """Seconds since the last command finished."""
    last_exit: int | None = None
    finished: bool = False
    stuck: bool = False
    updated_at: str | None = None
    cluster: tuple[str, ...] = ()
    commands: tuple[CommandLine, ...] = ()

    @property
    def taken(self) -> bool:
        return self.name is not None


def is_stuck(activity: Activity, now: datetime, stuck_minutes: float) -> bool:
    """The stuck rule: a seat is stuck when its step's checks do not all hold (or none was counted yet), the lesson
    is not finished, and it has made no progress (a new step, more checks holding) for ``stuck_minutes``."""
    if activity.finished or (activity.checks_total and activity.checks_passing >= activity.checks_total):
        return False
    since = parse_iso(activity.progress_at) or parse_iso(activity.step_started_at)
    return since is not None and (now - since).total_seconds() >= stuck_minutes * 60


def seat_row(seat: str, attendee: dict[str, Any] | None, activity: Activity | None, *, now: datetime,
             stuck_minutes: float = STUCK_MINUTES) -> SeatRow:
    """The row of one seat.

    Args:
        seat: the seat's name.
        attendee: the parsed ``attendee.json`` (None: the seat is free).
        activity: the parsed ``activity.json`` (None: no lesson opened yet).
        now: the time to measure ages against.
        stuck_minutes: the stuck rule's minutes.
    """
    name = attendee.get("name") if attendee else None
    joined = attendee.get("joined_at") if attendee else None
    row = SeatRow(seat, name=str(name) if attendee is not None and name is not None else (seat if attendee else None),
                  joined_at=joined if isinstance(joined, str) else None)
    if activity is None or attendee is None:
        return row
    started = parse_iso(activity.step_started_at)
    ran = parse_iso(activity.last_command_at)
    return SeatRow(
        seat, name=row.name, joined_at=row.joined_at, lesson=activity.lesson, lesson_title=activity.lesson_title,
        step=activity.step, steps=activity.steps, step_id=activity.step_id, checks_passing=activity.checks_passing,
        checks_total=activity.checks_total,
        minutes_on_step=max(0.0, (now - started).total_seconds() / 60) if started else None,
        hints=activity.hints, solutions=activity.solutions, last_command=activity.last_command,
        last_command_at=activity.last_command_at,
        last_command_age=max(0.0, (now - ran).total_seconds()) if ran else None, last_exit=activity.last_exit,
        finished=activity.finished, stuck=is_stuck(activity, now, stuck_minutes), updated_at=activity.updated_at,
        cluster=tuple(activity.cluster), commands=tuple(activity.commands))


def workshop_stuck_minutes(root: Path) -> float:
    """The stuck rule's minutes of the workshop at ``root`` (``workshop.json``), else :data:`STUCK_MINUTES`."""
    value = (read_json(root / WORKSHOP_FILE) or {}).get("stuck_minutes")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 \
        else STUCK_MINUTES


def read_rows(root: Path, *, now: datetime | None = None, stuck_minutes: float | None = None) -> list[SeatRow]:
    """One row per seat of the workshop at ``root``, in seat order.

    Args:
        root: the workshop root (``<state>/workshop``).
        now: the time to measure ages against (default: now).
        stuck_minutes: the stuck rule's minutes (default: the workshop's, see :func:`workshop_stuck_minutes`).
    """
    now = now or datetime.now(UTC)
    minutes = stuck_minutes if stuck_minutes is not None else workshop_stuck_minutes(root)
    return [seat_row(directory.name, read_json(directory / ATTENDEE_FILE), read_activity_file(directory / ACTIVITY_FILE),
                     now=now, stuck_minutes=minutes) for directory in seat_dirs(root)]


def watched_files(root: Path) -> list[Path]:
    """The files whose changes change the rows (the dashboard watches their modification times)."""
    return [root / WORKSHOP_FILE] + [directory / name for directory in seat_dirs(root)
                                     for name in (ATTENDEE_FILE, ACTIVITY_FILE)]


# ---- export ------------------------------------------------------------------------------------------------

EXPORT_COLUMNS = ("seat", "name", "joined_at", "lesson", "step", "steps", "step_id", "checks_passing", "checks_total",
                  "minutes_on_step", "hints", "solutions", "finished", "stuck", "last_command", "last_command_at",
                  "last_exit", "updated_at")
"""The columns of the CSV export, in order (the JSON export has the same keys, plus the last commands)."""


def _record(row: SeatRow) -> dict[str, Any]:
    record: dict[str, Any] = {column: getattr(row, column) for column in EXPORT_COLUMNS}
    if row.minutes_on_step is not None:
        record["minutes_on_step"] = round(row.minutes_on_step, 1)
    return record


def rows_csv(rows: Sequence[SeatRow]) -> str:
    """The rows as CSV: a header of :data:`EXPORT_COLUMNS`, one line per seat (empty cells for what is unknown)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for row in rows:
        record = _record(row)
        writer.writerow(["" if record[c] is None else str(record[c]).lower() if isinstance(record[c], bool)
                         else record[c] for c in EXPORT_COLUMNS])
    return out.getvalue()


def rows_json(rows: Sequence[SeatRow], *, exported_at: datetime | None = None) -> str:
    """The rows as JSON: ``{"exported_at", "seats": [{column: value, ..., "commands": [...]}]}``."""
    seats = [{**_record(row), "commands": [{"line": c.line, "at": c.at, "exit": c.exit} for c in row.commands]}
             for row in rows]
    stamp = (exported_at or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return json.dumps({"exported_at": stamp, "seats": seats}, indent=2, ensure_ascii=False) + "\n"


def export_rows(rows: Sequence[SeatRow], path: Path, *, exported_at: datetime | None = None) -> list[Path]:
    """Write the rows as CSV and JSON.

    Args:
        rows: the rows (:func:`read_rows`).
        path: ``x.csv`` writes CSV only, ``x.json`` JSON only; any other name ``x`` writes both ``x.csv`` and
            ``x.json`` (a directory: ``progress.csv`` and ``progress.json`` in it).

    Returns:
        The files written.
    """
    if path.is_dir():
        path = path / "progress"
    targets = {".csv": [path], ".json": [path]}.get(path.suffix.lower()) or [path.with_name(path.name + ".csv"),
                                                                              path.with_name(path.name + ".json")]
    for target in targets:
        text = rows_csv(rows) if target.suffix.lower() == ".csv" else rows_json(rows, exported_at=exported_at)
        atomic_write(target, text.encode())
    return targets


def export_progress(root: Path, path: Path, *, now: datetime | None = None) -> list[Path]:
    """Export the workshop at ``root`` (:func:`read_rows` then :func:`export_rows`): what ``kube-tutor workshop
    export FILE`` and the dashboard's ``e`` call."""
    return export_rows(read_rows(root, now=now), path, exported_at=now)
