"""Provides the files a workshop seat and the instructor exchange, read and written (no textual here).

Layout (``<root>`` is the workshop root, ``<root>/seats/<seat>/`` a seat's own directory)::

    <root>/broadcast.json              {"id", "text", "at"}: the instructor's latest message to every seat
    <root>/seats/<seat>/broadcast.json the same message, copied into each seat's directory: a seat's TUI runs
                                       sandboxed and sees only its own directory (the workshop root is hidden)
    <root>/seats/<seat>/control.json   {"id", "action": "reset-step"|"reset-lesson", "at"}: written by the
                                       instructor; the seat's TUI acts on each new id once
    <root>/seats/<seat>/activity.json  what the seat is doing (:class:`Activity`), written by the seat's TUI at
                                       every change; the dashboard reads it with ``attendee.json``
    <root>/seats/<seat>/seen.json      {"control", "broadcast"}: the ids the seat's TUI has acted on, so a reload
                                       neither resets again nor repeats a message

Every file is written atomically (0600 in 0700 directories): a reader sees the old file or the new one. A file that
cannot be read or parsed reads as absent: the seat writes activity.json, so the instructor's side must not trust it
(the dashboard shows its strings as plain text).
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tutor.kube.files import atomic_write

Action = Literal["reset-step", "reset-lesson"]
ACTIONS: tuple[Action, ...] = ("reset-step", "reset-lesson")

SEATS_DIR = "seats"
ACTIVITY_FILE = "activity.json"
CONTROL_FILE = "control.json"
BROADCAST_FILE = "broadcast.json"
SEEN_FILE = "seen.json"

BROADCAST_CHARS = 280
"""The longest broadcast kept (a short message: longer text is cut here)."""
COMMANDS_SHOWN = 10
"""How many of a seat's last commands activity.json carries (the dashboard's detail pane lists them)."""
COMMAND_CHARS = 200
"""The longest command line activity.json keeps."""


def now_iso(now: datetime | None = None) -> str:
    """``now`` (default: the current time) as the ISO form every workshop file uses: UTC, seconds, ``Z``."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: object) -> datetime | None:
    """A timestamp of a workshop file (``2026-01-05T10:00:00Z``, or any ISO 8601 form), None if it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


READ_LIMIT = 1024 * 1024
"""The most bytes of a workshop file read: a seat writes its own files, the instructor's side reads them."""


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON object in ``path``; None when it is absent, unreadable, a symbolic link, over :data:`READ_LIMIT`
    bytes or not an object. A seat's sandbox can write its directory: a link it put there in place of a file must
    not have the instructor's side read one of the instructor's files."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None
            raw = file.read(READ_LIMIT + 1)
        if len(raw) > READ_LIMIT:
            return None
        data = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` atomically (0600; its directory made 0700 if missing)."""
    atomic_write(path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def seat_dir(root: Path, seat: str) -> Path:
    """A seat's own directory in the workshop ``root``."""
    return root / SEATS_DIR / seat


def seat_dirs(root: Path) -> list[Path]:
    """Every seat's directory of the workshop ``root``, in seat order (``seat-01`` first)."""
    try:
        return sorted(path for path in (root / SEATS_DIR).iterdir() if path.is_dir())
    except OSError:
        return []


@dataclass(frozen=True)
class CommandLine:
    """One command a seat ran: the line, when it finished, its exit status."""

    line: str
    at: str | None = None
    exit: int | None = None


@dataclass
class Activity:
    """What a seat is doing: ``activity.json``. Times are ISO strings (:func:`now_iso`)."""

    lesson: str
    lesson_title: str
    step: int
    """The step the seat is on, 1-based."""
    steps: int
    step_id: str
    checks_passing: int = 0
    checks_total: int = 0
    step_started_at: str | None = None
    progress_at: str | None = None
    """When the seat last moved forward: a new step, or more checks holding than before (the stuck rule reads it;
    an addition to the design's fields, falling back to ``step_started_at``)."""
    hints: int = 0
    """Hints opened in this lesson (kept in the lesson's progress: a reload does not reset the count)."""
    solutions: int = 0
    """Solutions opened in this lesson."""
    last_command: str | None = None
    last_command_at: str | None = None
    last_exit: int | None = None
    finished: bool = False
    updated_at: str | None = None
    cluster: list[str] = field(default_factory=list)
    """Short lines of the seat's cluster panel."""
    commands: list[CommandLine] = field(default_factory=list)
    """The last commands, oldest first (at most :data:`COMMANDS_SHOWN`; an addition to the design's fields)."""

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["commands"] = [asdict(command) for command in self.commands]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Activity | None:
        """The activity in a parsed ``activity.json``; None when a required field is missing or of the wrong type
        (fields of the wrong type that are optional read as their default)."""
        lesson, title, step_id = data.get("lesson"), data.get("lesson_title"), data.get("step_id")
        step, steps = data.get("step"), data.get("steps")
        if not (isinstance(lesson, str) and isinstance(step_id, str) and isinstance(step, int)
                and isinstance(steps, int)):
            return None
        values: dict[str, Any] = {}
        for spec in fields(cls):
            if spec.name in ("lesson", "lesson_title", "step", "steps", "step_id", "cluster", "commands"):
                continue
            value = data.get(spec.name)
            if spec.name in ("checks_passing", "checks_total", "hints", "solutions"):
                if _int(value):
                    values[spec.name] = value
            elif spec.name == "last_exit":
                values[spec.name] = value if _int(value) else None
            elif spec.name == "finished":
                values[spec.name] = value is True
            elif isinstance(value, str):
                values[spec.name] = value
        cluster = data.get("cluster")
        lines = [line for line in cluster if isinstance(line, str)] if isinstance(cluster, list) else []
        ran = data.get("commands")
        commands = [CommandLine(entry["line"], entry.get("at") if isinstance(entry.get("at"), str) else None,
                                entry.get("exit") if _int(entry.get("exit")) else None)
                    for entry in (ran if isinstance(ran, list) else [])
                    if isinstance(entry, dict) and isinstance(entry.get("line"), str)]
        return cls(lesson, title if isinstance(title, str) else lesson, step, steps, step_id, cluster=lines,
                   commands=commands, **values)


def _int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class Control:
    """An instructor's action for one seat: ``control.json``."""

    id: int
    action: Action
    at: str


@dataclass(frozen=True)
class Broadcast:
    """The instructor's latest message to every seat: ``broadcast.json``."""

    id: int
    text: str
    at: str


def _control(data: dict[str, Any] | None) -> Control | None:
    if data is None or not _int(data.get("id")) or data.get("action") not in ACTIONS:
        return None
    at = data.get("at")
    return Control(data["id"], data["action"], at if isinstance(at, str) else "")


def _broadcast(data: dict[str, Any] | None) -> Broadcast | None:
    if data is None or not _int(data.get("id")) or not isinstance(data.get("text"), str):
        return None
    at = data.get("at")
    return Broadcast(data["id"], data["text"], at if isinstance(at, str) else "")


# ---- the instructor's side: writers ------------------------------------------------------------------------


def write_control(root: Path, seat: str, action: Action, *, now: datetime | None = None) -> Control:
    """Ask a seat to reset its step or its lesson: a new ``control.json`` with the next id.

    Args:
        root: the workshop root.
        seat: the seat's name (``seat-01``); its directory must exist.
        action: ``reset-step`` or ``reset-lesson``.

    Returns:
        The control written.

    Raises:
        ValueError: an unknown action.
        FileNotFoundError: no such seat.
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown seat action {action!r} (one of {', '.join(ACTIONS)})")
    directory = seat_dir(root, seat)
    if not directory.is_dir():
        raise FileNotFoundError(f"no seat {seat!r} in the workshop at {root}")
    previous = _control(read_json(directory / CONTROL_FILE))
    control = Control((previous.id if previous else 0) + 1, action, now_iso(now))
    write_json(directory / CONTROL_FILE, asdict(control))
    return control


def write_broadcast(root: Path, text: str, *, now: datetime | None = None) -> Broadcast:
    """Send a short message to every seat: ``<root>/broadcast.json`` and a copy in each seat's directory.

    Args:
        root: the workshop root.
        text: the message (blanks squeezed; cut at :data:`BROADCAST_CHARS`).

    Returns:
        The broadcast written (its id one more than the last one's).

    Raises:
        ValueError: an empty message.
    """
    words = " ".join(text.split())[:BROADCAST_CHARS]
    if not words:
        raise ValueError("an empty broadcast message")
    previous = read_broadcast_file(root / BROADCAST_FILE)
    message = Broadcast((previous.id if previous else 0) + 1, words, now_iso(now))
    write_json(root / BROADCAST_FILE, asdict(message))
    for directory in seat_dirs(root):
        write_json(directory / BROADCAST_FILE, asdict(message))
    return message


def read_broadcast_file(path: Path) -> Broadcast | None:
    """The broadcast in ``path``, None when there is none (or it is damaged)."""
    return _broadcast(read_json(path))


def read_activity_file(path: Path) -> Activity | None:
    """The activity in ``path``, None when there is none (or it is damaged)."""
    data = read_json(path)
    return Activity.from_json(data) if data is not None else None


# ---- the seat's side -------------------------------------------------------------------------------------


class WorkshopSeat:
    """A seat of a workshop, as its lesson TUI sees it: writes its activity, reads the instructor's controls and
    broadcasts (each new one once, also across reloads: the ids acted on are kept in ``seen.json``).

    Only the seat's own directory is touched (inside the sandbox nothing else of the workshop is visible); the
    workshop's ``broadcast.json`` is read only where the seat's copy is missing.
    """

    def __init__(self, root: Path, seat: str) -> None:
        """Args:
            root: the workshop root (``<state>/workshop``).
            seat: the seat's name (``seat-01``).
        """
        self.root = root
        self.seat = seat
        self.dir = seat_dir(root, seat)
        seen = read_json(self.dir / SEEN_FILE) or {}
        control, broadcast = seen.get("control"), seen.get("broadcast")
        self._seen_control: int = control if isinstance(control, int) else 0
        self._seen_broadcast: int = broadcast if isinstance(broadcast, int) else 0
        self._last_written: dict[str, Any] | None = None

    @property
    def activity_path(self) -> Path:
        return self.dir / ACTIVITY_FILE

    def write_activity(self, activity: Activity, *, now: datetime | None = None) -> bool:
        """Write ``activity.json`` when it changed (``updated_at`` is set here).

        Returns:
            Whether the file was written (False: nothing changed since the last write).
        """
        data = activity.as_json()
        data.pop("updated_at", None)
        if data == self._last_written:
            return False
        self._last_written = dict(data)
        activity.updated_at = now_iso(now)
        write_json(self.activity_path, activity.as_json())
        return True

    def read_control(self) -> Control | None:
        """The instructor's newest action for this seat when it was not acted on yet (then it counts as acted on),
        else None."""
        control = _control(read_json(self.dir / CONTROL_FILE))
        if control is None or control.id <= self._seen_control:
            return None
        self._seen_control = control.id
        self._save_seen()
        return control

    def read_broadcast(self) -> Broadcast | None:
        """The instructor's newest message when this seat has not shown it yet (then it counts as shown), else
        None."""
        message = read_broadcast_file(self.dir / BROADCAST_FILE) or read_broadcast_file(self.root / BROADCAST_FILE)
        if message is None or message.id <= self._seen_broadcast:
            return None
        self._seen_broadcast = message.id
        self._save_seen()
        return message

    def _save_seen(self) -> None:
        """Keep the ids acted on (a seat that cannot write it still acts on each id once while it runs)."""
        with contextlib.suppress(OSError):
            write_json(self.dir / SEEN_FILE, {"control": self._seen_control, "broadcast": self._seen_broadcast})
