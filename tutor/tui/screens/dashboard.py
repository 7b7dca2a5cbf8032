"""Provides DashboardScreen: the workshop instructor's view, one row per seat, live; and its two dialogs.

Rows come from :func:`tutor.workshop.status.read_rows` (``attendee.json`` + ``activity.json`` of each seat). The
screen looks at the files' modification times every :data:`POLL_SECONDS` and reads them again only when one
changed (and every :data:`AGE_SECONDS`, since the minutes on a step and the stuck rule move with the clock).
Everything a seat wrote is shown as plain text (a seat writes its own activity.json: no markup from it is honoured).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Footer, Input, Static

from tutor.tui.text import localize_bindings, t
from tutor.workshop.seat import Action, read_json, write_broadcast, write_control
from tutor.workshop.status import WORKSHOP_FILE, SeatRow, export_progress, read_rows, watched_files

POLL_SECONDS = 0.5
"""Seconds between two looks at the seats' files (their modification times only)."""
AGE_SECONDS = 15.0
"""Seconds after which the rows are read again even if no file changed (ages and the stuck rule move on)."""

COLUMNS = ("seat", "name", "lesson", "step", "checks", "minutes", "help", "command", "ago")
STUCK_STYLE = "bold red"
FREE_STYLE = "dim"
DONE_STYLE = "green"


def _ago(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return ""
    if seconds < 60:
        return t("dashboard.seconds_ago", lang, n=int(seconds))
    return t("dashboard.minutes_ago", lang, n=int(seconds // 60))


def row_cells(row: SeatRow, lang: str) -> list[Text]:
    """The cells of one seat's row, styled: a stuck seat red and bold, a free one dim, a finished one green."""
    if not row.taken:
        cells = [row.seat, t("dashboard.free", lang), "", "", "", "", "", "", ""]
        return [Text(cell, style=FREE_STYLE) for cell in cells]
    if row.lesson is None:
        cells = [row.seat, row.name or "", t("dashboard.not_started", lang), "", "", "", "", "", ""]
        return [Text(cell) for cell in cells]
    if row.finished:
        step = t("dashboard.done", lang)
    else:
        step = f"{row.step}/{row.steps}"
    command = row.last_command or ""
    if row.last_exit not in (None, 0):
        command += f"  ✗{row.last_exit}"
    cells = [("⚠ " if row.stuck else "") + row.seat, row.name or "", row.lesson, step,
             f"{row.checks_passing}/{row.checks_total}",
             f"{row.minutes_on_step:.0f}" if row.minutes_on_step is not None else "",
             f"{row.hints}/{row.solutions}", command, _ago(row.last_command_age, lang)]
    style = STUCK_STYLE if row.stuck else DONE_STYLE if row.finished else ""
    return [Text(cell, style=style, no_wrap=True, overflow="ellipsis") for cell in cells]


def detail(row: SeatRow | None, lang: str) -> Text:
    """The selected seat: who, where, its cluster panel and its last commands (plain text)."""
    if row is None:
        return Text(t("dashboard.detail_empty", lang), style="dim")
    if not row.taken:
        return Text(t("dashboard.detail_free", lang, seat=row.seat), style="dim")
    if row.lesson is None:
        return Text(t("dashboard.detail_waiting", lang, name=row.name or row.seat))
    head = Text(f"{row.seat} · {row.name} · {row.lesson_title or row.lesson} · {row.step}/{row.steps}",
                style="bold")
    if row.stuck:
        head.append(f"  {t('dashboard.stuck', lang)}", style=STUCK_STYLE)
    parts: list[Text] = [head, Text(t("dashboard.cluster", lang), style="bold underline")]
    parts += [Text(line) for line in row.cluster] or [Text("—", style="dim")]
    parts.append(Text(t("dashboard.commands", lang), style="bold underline"))
    if not row.commands:
        parts.append(Text(t("dashboard.no_commands", lang), style="dim"))
    for command in reversed(row.commands):  # the newest first
        line = Text(f"$ {command.line}")
        if command.exit is not None:
            line.append(f"  ({t('dashboard.exit', lang, code=command.exit)})",
                        style="dim" if command.exit == 0 else "red")
        parts.append(line)
    return Text("\n").join(parts)


class ConfirmScreen(ModalScreen[bool]):
    """A yes/no question (y or Enter: yes; n or Esc: no)."""

    BINDINGS = [Binding("y,enter", "answer(True)", "Yes"), Binding("n,escape", "answer(False)", "No")]

    def __init__(self, question: str, lang: str) -> None:
        super().__init__()
        self.question = question
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Static(Text(self.question), id="confirm-question")
            yield Static(t("dashboard.confirm_keys", self.lang), id="confirm-keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class BroadcastScreen(ModalScreen[str | None]):
    """Asks for a message to every seat (Enter sends it, Esc cancels)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="broadcast-box"):
            yield Static(t("dashboard.broadcast_prompt", self.lang))
            yield Input(id="broadcast-input", max_length=280)

    @on(Input.Submitted)
    def send(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class DashboardScreen(Screen[None]):
    """One row per seat (stuck seats stand out), the selected seat's cluster and commands below; reset a seat's
    step or lesson (after a yes), broadcast a message, export the rows."""

    BINDINGS = [
        Binding("r", "seat_reset_step", "Reset step"),
        Binding("R", "seat_reset_lesson", "Reset lesson"),
        Binding("b", "broadcast", "Broadcast"),
        Binding("e", "export", "Export"),
        Binding("q", "app.quit", "Quit"),
    ]

    def __init__(self, root: Path, *, lang: str = "en", stuck_minutes: float | None = None,
                 clock: Callable[[], datetime] | None = None, export_to: Path | None = None,
                 poll_seconds: float = POLL_SECONDS) -> None:
        """Args:
            root: the workshop root (``<state>/workshop``).
            stuck_minutes: the stuck rule's minutes (default: ``workshop.json``'s, else 5).
            clock: the time now (tests freeze it).
            export_to: where ``e`` exports (:func:`tutor.workshop.status.export_rows`'s ``path``); default
                ``<root>/progress-<time>`` (a ``.csv`` and a ``.json``).
            poll_seconds: seconds between two looks at the files' modification times.
        """
        super().__init__()
        localize_bindings(self, lang)
        self.root = root
        self.lang = lang
        self.stuck_minutes = stuck_minutes
        self.clock = clock or (lambda: datetime.now(UTC))
        self.export_to = export_to
        self.poll_seconds = poll_seconds
        self.rows: list[SeatRow] = []
        self._signature: tuple[tuple[str, int, int], ...] | None = None
        self._read_at = 0.0
        self.reads = 0
        """How often the rows were read (tests: no change, no read)."""

    def compose(self) -> ComposeResult:
        yield Static("", id="dashboard-header")
        table: DataTable[Text] = DataTable(id="seats", cursor_type="row", zebra_stripes=True)
        yield table
        yield Static("", id="seat-detail")
        yield Footer()

    @property
    def table(self) -> DataTable[Text]:
        return self.query_one("#seats", DataTable)

    def on_mount(self) -> None:
        for key in COLUMNS:
            self.table.add_column(t(f"dashboard.col_{key}", self.lang), key=key)
        self.refresh_rows(force=True)
        self.set_interval(self.poll_seconds, self.refresh_rows)
        self.table.focus()

    # ---- live rows --------------------------------------------------------------------------------------
    def signature(self) -> tuple[tuple[str, int, int], ...]:
        """The watched files with their modification times and sizes (absent files: zeros)."""
        found = []
        for path in watched_files(self.root):
            try:
                stat = path.stat()
                found.append((str(path), stat.st_mtime_ns, stat.st_size))
            except OSError:
                found.append((str(path), 0, 0))
        return tuple(found)

    def refresh_rows(self, force: bool = False) -> None:
        """Read the rows again when a seat's file changed, or when :data:`AGE_SECONDS` passed; then show them."""
        signature = self.signature()
        now = self.clock()
        stale = now.timestamp() - self._read_at >= AGE_SECONDS
        if not force and signature == self._signature and not stale:
            return
        self._signature = signature
        self._read_at = now.timestamp()
        self.rows = read_rows(self.root, now=now, stuck_minutes=self.stuck_minutes)
        self.reads += 1
        self.show_rows()

    def show_rows(self) -> None:
        table = self.table
        keys = [str(key.value) for key in table.rows]
        seats = [row.seat for row in self.rows]
        if keys != seats:
            cursor = table.cursor_row
            table.clear()
            for row in self.rows:
                table.add_row(*row_cells(row, self.lang), key=row.seat)
            if self.rows:
                table.move_cursor(row=min(cursor, len(self.rows) - 1))
        else:
            for row in self.rows:
                for key, cell in zip(COLUMNS, row_cells(row, self.lang), strict=True):
                    table.update_cell(row.seat, key, cell)
        self.show_header()
        self.show_detail()

    def show_header(self) -> None:
        workshop = read_json(self.root / WORKSHOP_FILE) or {}
        lesson = workshop.get("lesson")
        what = str(lesson) if isinstance(lesson, str) and lesson else t("dashboard.course", self.lang)
        taken = sum(1 for row in self.rows if row.taken)
        stuck = sum(1 for row in self.rows if row.stuck)
        header = Text(f"{t('dashboard.title', self.lang)} · {what} · ", style="bold")
        header.append(t("dashboard.taken", self.lang, taken=taken, seats=len(self.rows)), style="bold")
        header.append(" · ")
        header.append(t("dashboard.stuck_count", self.lang, stuck=stuck), style=STUCK_STYLE if stuck else "bold")
        code = workshop.get("join_code")
        if isinstance(code, str) and code:
            header.append(f" · {t('dashboard.join_code', self.lang, code=code)}")
        if not self.rows:
            header.append(f" · {t('dashboard.no_seats', self.lang)}")
        self.query_one("#dashboard-header", Static).update(header)

    @property
    def selected(self) -> SeatRow | None:
        """The seat under the table's cursor."""
        index = self.table.cursor_row
        return self.rows[index] if self.rows and 0 <= index < len(self.rows) else None

    def show_detail(self) -> None:
        row = self.selected
        box = self.query_one("#seat-detail", Static)
        box.update(detail(row, self.lang))
        box.border_title = f"{row.seat}" + (f" · {row.name}" if row and row.name else "") if row else ""

    @on(DataTable.RowHighlighted)
    def on_row_highlighted(self) -> None:
        self.show_detail()

    # ---- actions ----------------------------------------------------------------------------------------
    def action_seat_reset_step(self) -> None:
        self._ask_reset("reset-step")

    def action_seat_reset_lesson(self) -> None:
        self._ask_reset("reset-lesson")

    def _ask_reset(self, action: Action) -> None:
        row = self.selected
        if row is None:
            return
        if not row.taken:
            self.notify(t("dashboard.free_seat", self.lang, seat=row.seat), severity="warning")
            return
        question = (t("dashboard.confirm_step", self.lang, seat=row.seat, name=row.name, n=row.step or 1)
                    if action == "reset-step" else
                    t("dashboard.confirm_lesson", self.lang, seat=row.seat, name=row.name))

        def answered(yes: bool | None) -> None:
            if yes:
                self.reset_seat(row.seat, action)

        self.app.push_screen(ConfirmScreen(question, self.lang), answered)

    def reset_seat(self, seat: str, action: Action) -> None:
        """Tell a seat to reset its step or lesson (its TUI acts on it within a second)."""
        try:
            write_control(self.root, seat, action, now=self.clock())
        except (OSError, ValueError) as error:
            self.notify(t("dashboard.failed", self.lang, error=error), severity="error")
            return
        self.notify(t("dashboard.reset_sent", self.lang, seat=seat))

    def action_broadcast(self) -> None:
        def send(text: str | None) -> None:
            if text:
                self.broadcast(text)

        self.app.push_screen(BroadcastScreen(self.lang), send)

    def broadcast(self, text: str) -> None:
        """Send ``text`` to every seat."""
        try:
            message = write_broadcast(self.root, text, now=self.clock())
        except (OSError, ValueError) as error:
            self.notify(t("dashboard.failed", self.lang, error=error), severity="error")
            return
        self.notify(t("dashboard.broadcast_sent", self.lang, text=message.text))

    def action_export(self) -> None:
        """Write the rows as CSV and JSON (``export_to``, else ``<root>/progress-<time>.csv|.json``)."""
        target = self.export_to or self.root / f"progress-{self.clock().astimezone(UTC):%Y%m%d-%H%M%S}"
        try:
            written = export_progress(self.root, target, now=self.clock())
        except OSError as error:
            self.notify(t("dashboard.failed", self.lang, error=error.strerror or error), severity="error")
            return
        self.notify(t("dashboard.exported", self.lang, files=", ".join(str(path) for path in written)))
