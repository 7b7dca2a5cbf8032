"""Provides the workshop on disk: its record, codes, seats, who sits where, and what the instructor writes.

Layout (every directory 0700, every file 0600; see ``docs/architecture.md``)::

    <state>/workshop/
      workshop.json        the workshop: codes, lesson or course, language, seat count, backend, URL
      broadcast.json       the instructor's latest message to every seat
      seats/<seat>/        seat.json + kubeconfig (tutor.backends.seats.prepare_seat: the seat's token only)
        attendee.json      who sits there (display name, sha256 of the browser's cookie); absent: free
        state/             the seat TUI's --state-dir (progress, console history, variables)
        home/              the seat's HOME
        control.json       the instructor's latest action for the seat (reset the step or the lesson)
        activity.json      what the seat's TUI last reported (lesson, step, checks, last command ...)

The web server is one process (asyncio), but ``kube-tutor workshop reset`` and friends run beside it: every
change of a shared file is an atomic replace, and taking a seat holds an ``flock`` on the workshop's lock file.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from tutor import shell
from tutor.backends.seats import (
    DEFAULT_LIFETIME,
    Seat,
    class_budget,
    nodes_room,
    prepare_seat,
    seat_names,
)
from tutor.kube.files import atomic_write, private_dir
from tutor.workshop import seat as seat_files
from tutor.workshop import status

ROOT_NAME = "workshop"
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
"""Workshop codes are read aloud and typed from a slide: no 0/o, 1/l/i."""
NAME_LIMIT = 40
BROADCAST_LIMIT = 280
COOKIE = "kt_seat"
INSTRUCTOR_COOKIE = "kt_instructor"
CONTROL_ACTIONS = ("reset-step", "reset-lesson")


class WorkshopError(Exception):
    """One line: what is wrong and what to do."""


class WorkshopFull(WorkshopError):
    """Every seat is taken."""


def now_iso() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def workshop_root(state: Path) -> Path:
    """The workshop of a state directory: ``<state>/workshop``."""
    return state / ROOT_NAME


def new_code(length: int = 8) -> str:
    """A code people can type from a slide: ``length`` letters and digits without look-alikes."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normal_code(text: str) -> str:
    """A typed code as it is compared: spaces and dashes dropped, lower case."""
    return re.sub(r"[\s-]+", "", text).lower()


def code_matches(given: str, expected: str) -> bool:
    """Whether a typed code is the workshop's (constant time, case and spaces ignored)."""
    return bool(expected) and hmac.compare_digest(normal_code(given).encode(), normal_code(expected).encode())


def valid_code(code: str) -> str:
    """A code the instructor chose, checked: 4-32 letters, digits or dashes.

    Raises:
        WorkshopError: it is not.
    """
    if not re.fullmatch(r"[A-Za-z0-9-]{4,32}", code):
        raise WorkshopError(f"a workshop code is 4-32 letters, digits or '-', not {code!r}")
    return code


def hash_cookie(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


def new_cookie() -> str:
    return secrets.token_urlsafe(32)


def clean_name(name: str) -> str:
    """A display name as the dashboard shows it: one line, control characters dropped, at most 40 characters.

    Raises:
        WorkshopError: nothing is left.
    """
    kept = "".join(" " if char.isspace() else char for char in name
                   if char.isspace() or not unicodedata.category(char).startswith("C"))
    kept = " ".join(kept.split())[:NAME_LIMIT]
    if not kept:
        raise WorkshopError("a display name is needed")
    return kept


def is_loopback(host: str) -> bool:
    """Whether ``host`` only listens on this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sandbox_status() -> tuple[bool, str]:
    """Whether seats can run sandboxed here (``tutor.shell.sandbox_ok``), and why not."""
    return shell.sandbox_ok()


@dataclass
class Attendee:
    name: str
    cookie: str
    """sha256 hex of the browser's cookie (the cookie itself is never stored)."""
    joined_at: str
    lang: str | None = None
    """The language the attendee chose on the join page (None: the workshop's)."""


@dataclass
class Workshop:
    """A workshop's record (``workshop.json``) and where it lives."""

    root: Path
    join_code: str
    instructor_code: str
    lesson: str | None
    course: bool
    lang: str
    seats: int
    backend: str
    created_at: str
    url: str = ""
    stuck_minutes: float = 5
    admin_kubeconfig: str = ""
    """The kubeconfig that prepared the seats (the instructor's: never inside a seat's reach)."""

    @property
    def record(self) -> Path:
        return self.root / "workshop.json"

    def seat_names(self) -> list[str]:
        return list(seat_names(self.seats))

    def seat_dir(self, seat: str) -> Path:
        """The directory of a seat of this workshop.

        Raises:
            WorkshopError: no such seat.
        """
        if seat not in self.seat_names():
            raise WorkshopError(f"no seat {seat!r} in this workshop (seats: {', '.join(self.seat_names())})")
        return self.root / "seats" / seat

    def save(self) -> None:
        data = {key: value for key, value in asdict(self).items() if key != "root"}
        private_dir(self.root)
        atomic_write(self.record, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())

    @classmethod
    def load(cls, root: Path) -> Workshop:
        """The workshop recorded in ``root``.

        Raises:
            WorkshopError: none there, or the record cannot be read.
        """
        try:
            data = json.loads((root / "workshop.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WorkshopError(f"no workshop in {root}: start one with `kube-tutor workshop serve`") from None
        except (OSError, ValueError) as error:
            raise WorkshopError(f"cannot read {root / 'workshop.json'}: {error}") from None
        try:
            return cls(root=root, join_code=str(data["join_code"]), instructor_code=str(data["instructor_code"]),
                       lesson=data.get("lesson"), course=bool(data.get("course")), lang=str(data.get("lang", "en")),
                       seats=int(data["seats"]), backend=str(data.get("backend", "practice")),
                       created_at=str(data.get("created_at", "")), url=str(data.get("url", "")),
                       stuck_minutes=float(data.get("stuck_minutes", 5)),
                       admin_kubeconfig=str(data.get("admin_kubeconfig", "")))
        except (KeyError, TypeError, ValueError) as error:
            raise WorkshopError(f"{root / 'workshop.json'} is not a workshop record ({error})") from None


def create_workshop(root: Path, *, seats: int, lesson: str | None, lang: str, backend: str = "practice",
                    join_code: str | None = None, instructor_code: str | None = None,
                    stuck_minutes: float = 5, admin_kubeconfig: str = "") -> Workshop:
    """Write (or update) the workshop of ``root``: a workshop started again keeps its codes (unless new ones are
    given) and its attendees, so browsers that joined before find their seats again.

    Raises:
        WorkshopError: a seat count below 1, or a code that is not one.
    """
    if seats < 1:
        raise WorkshopError(f"a workshop needs at least 1 seat, not {seats}")
    try:
        previous: Workshop | None = Workshop.load(root)
    except WorkshopError:
        previous = None
    join = valid_code(join_code) if join_code else (previous.join_code if previous else new_code())
    instructor = (valid_code(instructor_code) if instructor_code
                  else previous.instructor_code if previous else new_code(10))
    if code_matches(join, instructor):
        raise WorkshopError("the instructor code must differ from the join code")
    workshop = Workshop(root=root, join_code=join, instructor_code=instructor, lesson=lesson, course=lesson is None,
                        lang=lang, seats=seats, backend=backend,
                        created_at=previous.created_at if previous else now_iso(), url="",
                        stuck_minutes=stuck_minutes, admin_kubeconfig=admin_kubeconfig)
    workshop.save()
    private_dir(root / "seats")
    return workshop


def prepare_seats(workshop: Workshop, admin_kubeconfig: Path, *, context: str | None = None,
                  lifetime: int = DEFAULT_LIFETIME, on_seat: Callable[[str], None] | None = None) -> list[Seat]:
    """Make every seat on the cluster (namespace, account, budget, token-only kubeconfig) and its directories.

    Raises:
        BackendError: kubectl's one line (forbidden, unreachable).
    """
    made = []
    cpu, memory = nodes_room(admin_kubeconfig, context=context)
    budget = class_budget(workshop.seats, cpu, memory)  # every seat's pods fit the nodes at once
    for name in workshop.seat_names():
        directory = private_dir(workshop.seat_dir(name))
        private_dir(directory / "state")
        private_dir(directory / "home")
        if on_seat is not None:
            on_seat(name)
        made.append(prepare_seat(admin_kubeconfig, name, directory, lifetime=lifetime, context=context,
                                 budget=budget))
    return made


@contextmanager
def _locked(workshop: Workshop) -> Iterator[None]:
    private_dir(workshop.root)
    descriptor = os.open(workshop.root / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


_read_json = seat_files.read_json


def _write_json(path: Path, data: dict[str, Any]) -> None:
    private_dir(path.parent)
    seat_files.write_json(path, data)


def attendee(workshop: Workshop, seat: str) -> Attendee | None:
    """Who sits at ``seat`` (None: free)."""
    data = _read_json(workshop.seat_dir(seat) / "attendee.json")
    if data is None or not isinstance(data.get("cookie"), str):
        return None
    lang = data.get("lang")
    return Attendee(str(data.get("name", "")), data["cookie"], str(data.get("joined_at", "")),
                    lang if lang in ("ja", "en") else None)


def seat_for_cookie(workshop: Workshop, cookie: str | None) -> str | None:
    """The seat of the browser that holds ``cookie``, or None."""
    if not cookie:
        return None
    wanted = hash_cookie(cookie)
    for seat in workshop.seat_names():
        taken = attendee(workshop, seat)
        if taken is not None and hmac.compare_digest(taken.cookie, wanted):
            return seat
    return None


def join(workshop: Workshop, name: str, cookie: str, lang: str | None = None) -> str:
    """Give the browser with ``cookie`` a seat: its own when it has one (the name and language are updated), else
    the first free one. ``lang``: the language the attendee's TUI speaks (None: the workshop's).

    Raises:
        WorkshopError: no usable display name.
        WorkshopFull: every seat is taken.
    """
    display = clean_name(name)
    with _locked(workshop):
        seat = seat_for_cookie(workshop, cookie)
        if seat is None:
            seat = next((s for s in workshop.seat_names() if attendee(workshop, s) is None), None)
            if seat is None:
                raise WorkshopFull(f"all {workshop.seats} seats of this workshop are taken")
        current = attendee(workshop, seat)
        joined = current.joined_at if current is not None else now_iso()
        record: dict[str, Any] = {"name": display, "cookie": hash_cookie(cookie), "joined_at": joined}
        if lang in ("ja", "en"):
            record["lang"] = lang
        _write_json(workshop.seat_dir(seat) / "attendee.json", record)
    return seat


def free_seat(workshop: Workshop, seat: str) -> bool:
    """Let the seat go (its attendee's browser no longer reaches it); False when it was free."""
    with _locked(workshop):
        try:
            (workshop.seat_dir(seat) / "attendee.json").unlink()
        except FileNotFoundError:
            return False
    return True


def reset_seat(workshop: Workshop, seat: str, *, lesson: bool = False) -> int:
    """Ask the seat's TUI to reset its step (or its whole lesson): a new ``control.json``; its id."""
    path = workshop.seat_dir(seat) / "control.json"
    action: Literal["reset-step", "reset-lesson"] = "reset-lesson" if lesson else "reset-step"
    with _locked(workshop):
        private_dir(path.parent)
        return seat_files.write_control(workshop.root, seat, action).id


def broadcast(workshop: Workshop, text: str) -> int:
    """Send every seat a short message (the latest replaces the one before): ``broadcast.json`` in the workshop
    and a copy in each seat's directory (a sandboxed seat sees only its own); its id.

    Raises:
        WorkshopError: an empty message.
    """
    line = " ".join(text.split())[:BROADCAST_LIMIT]
    if not line:
        raise WorkshopError("a broadcast needs a message")
    with _locked(workshop):
        return seat_files.write_broadcast(workshop.root, line).id


def activity(workshop: Workshop, seat: str) -> dict[str, Any]:
    """What the seat's TUI last reported (``activity.json``; empty before it reported)."""
    return _read_json(workshop.seat_dir(seat) / "activity.json") or {}


def export_text(workshop: Workshop, fmt: str) -> str:
    """Every seat's progress as ``csv`` or ``json`` text."""
    shared = status.read_rows(workshop.root, stuck_minutes=workshop.stuck_minutes)
    return status.rows_csv(shared) if fmt == "csv" else status.rows_json(shared)


def export(workshop: Workshop, path: Path) -> str:
    """Write every seat's progress to ``path``: CSV for ``.csv``, JSON for ``.json``; the format written.

    Raises:
        WorkshopError: another suffix, or the file cannot be written.
    """
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("csv", "json"):
        raise WorkshopError(f"export writes .csv or .json files, not {path.name!r}")
    try:
        atomic_write(path, export_text(workshop, fmt).encode())
    except OSError as error:
        raise WorkshopError(f"cannot write {path}: {error.strerror or error}") from None
    return fmt


def seat_launch(workshop: Workshop, seat: str, *, sandboxed: bool,
                environ: dict[str, str] | None = None) -> tuple[list[str], dict[str, str]]:
    """How the web server starts a seat's TUI: (argv, environment), before textual-serve's variables
    (``TEXTUAL_DRIVER`` ...) are added to the environment.

    :func:`tutor.shell.seat_command` builds the line (in the seat's sandbox when ``sandboxed``); it clears the
    environment, so textual-serve's variables are passed in by the line, which runs under ``sh -c`` with only
    PATH and the locale. The language is the attendee's choice on the join page, else the workshop's.
    """
    base = dict(os.environ if environ is None else environ)
    taken = attendee(workshop, seat)
    made = shell.seat_command(workshop.root, seat, lang=(taken.lang if taken else None) or workshop.lang,
                              lesson=workshop.lesson, sandbox=sandboxed, environ=base)
    outer: dict[str, str] = {key: base[key] for key in ("PATH", "LANG", "LC_ALL") if key in base}
    return ["/bin/sh", "-c", made.line], outer


def seats_taken(workshop: Workshop) -> Sequence[str]:
    return [seat for seat in workshop.seat_names() if attendee(workshop, seat) is not None]
