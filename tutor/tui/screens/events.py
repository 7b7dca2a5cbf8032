"""Provides EventsScreen: the lesson's warnings (and scaling, stopping, back-off), newest first, each explained.

It reads the cluster watch the lesson screen already runs (``ClusterWatch``: a watch of core/v1 events next to the
objects, the same on the practice cluster, kind and an existing cluster), keeps only events about objects that still
exist, and says what each one means (:mod:`tutor.tui.explain`). It follows the cluster while it is open, and the
"next try in ~N s" of a back-off counts down.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar, Protocol

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.geometry import Size
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from tutor.tui.explain import ExplainedEvent, lesson_events
from tutor.tui.text import localize_bindings, t

__all__ = ["EventsScreen", "render_events"]

TICK_SECONDS = 1.0
"""How often ages and the back-off countdown are brought up to date while nothing else changes."""


class Watch(Protocol):
    """What the view needs of ``tutor.backends.watch.ClusterWatch``."""

    @property
    def synced(self) -> bool: ...

    def snapshot(self) -> dict[str, list[dict[str, Any]]]: ...

    def subscribe(self) -> asyncio.Event: ...

    def unsubscribe(self, event: asyncio.Event) -> None: ...


def _now() -> datetime:
    return datetime.now(UTC)


def _hang(content: Content, width: int, first: str, rest: str) -> list[Content]:
    """``content`` wrapped to ``width`` cells after a first-line prefix, later lines under the text (a hanging
    indent)."""
    room = max(8, width - Content(first).cell_length)
    lines = content.wrap(room) or [Content("")]
    return [Content.assemble(first if i == 0 else rest, line) for i, line in enumerate(lines)]


def _entry(event: ExplainedEvent, lang: str, width: int) -> list[Content]:
    warning = event.type == "Warning"
    mark_style = "$text-error" if warning else ("$text-warning" if event.reason == "BackOff" else "$text-muted")
    when = t("events.ago", lang, age=event.age) if event.age else ""
    times = f" · {t('events.times', lang, count=event.count)}" if event.count > 1 else ""
    head = Content.assemble((event.reason, "bold"), f" · {event.object}",
                            (f" · {when}{times}" if when or times else "", "$text-muted"))
    lines = _hang(head, width, "", "  ")
    lines[0] = Content.assemble(("▲ " if warning else "● ", mark_style), lines[0])
    lines[1:] = [Content.assemble("  ", line) for line in lines[1:]]
    lines += _hang(Content.styled(event.message, "$foreground-muted"), width, "  ", "  ")
    notes = [event.explanation] if event.explanation else []
    if event.combined:
        notes.append(t("explain.combined", lang))
    if event.capped:
        notes.append(t("explain.capped", lang))
    for note in notes:
        lines += [line.stylize("$text-accent") for line in _hang(Content(note), width, "  → ", "    ")]
    return lines


def render_events(events: Sequence[ExplainedEvent] | None, lang: str, width: int = 10_000) -> list[Content]:
    """The view's lines at ``width`` cells: each event (kind, reason, object, age, count), its message, and what it
    means, with hanging indents; one blank line between events.

    Args:
        events: From :func:`tutor.tui.explain.lesson_events`; None until the cluster has answered.
        lang: ``"ja"`` or ``"en"``.
        width: Cells per line (the default leaves every event on as few lines as it has parts).

    Returns:
        The lines.
    """
    if events is None:
        return _hang(Content.styled(t("panel.waiting", lang), "$foreground-muted"), width, "", "")
    if not events:
        return _hang(Content.styled(t("events.none", lang), "$foreground-muted"), width, "", "")
    lines: list[Content] = []
    for index, event in enumerate(events):
        if index:
            lines.append(Content(""))
        lines += _entry(event, lang, width)
    return lines


class _EventList(Widget):
    """The events, laid out for the width they get."""

    def __init__(self, lang: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__(id=id)
        self.lang = lang
        self.events: list[ExplainedEvent] | None = None

    def render(self) -> Content:
        return Content("\n").join(render_events(self.events, self.lang, self.size.width))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(render_events(self.events, self.lang, width))


class EventsScreen(ModalScreen[None]):
    """The lesson's events, explained; Esc, q or F8 closes it."""

    DEFAULT_CSS = """
    EventsScreen { align: center middle; }
    EventsScreen > #events-box {
        width: 100%; max-width: 120; height: 100%; max-height: 40;
        border: round $primary; border-title-style: bold; background: $surface; padding: 0 1;
        & > #events-intro { color: $text-muted; margin-bottom: 1; }
        & > #events-scroll { height: 1fr; scrollbar-size-vertical: 1; }
        & > #events-scroll > #events-list { height: auto; }
        & > #events-kubectl { color: $text-muted; border-top: hkey $panel; }
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f8", "dismiss", "Close"),
        Binding("up", "scroll('up')", "Scroll up", show=False),
        Binding("down", "scroll('down')", "Scroll down", show=False),
        Binding("pageup", "scroll('page_up')", "Page up", show=False),
        Binding("pagedown", "scroll('page_down')", "Page down", show=False),
        Binding("home", "scroll('home')", "Top", show=False),
        Binding("end", "scroll('end')", "Bottom", show=False),
    ]

    clock: ClassVar[Callable[[], datetime]] = staticmethod(_now)
    """Where the view reads the time (a test freezes it)."""

    def __init__(self, watch: Watch, lang: str, *, lesson_images: Sequence[str] = (), time_scale: float = 1.0) -> None:
        """Open the view on a cluster watch.

        Args:
            watch: The lesson's cluster watch (``LessonRuntime.watch``).
            lang: ``"ja"`` or ``"en"``.
            lesson_images: The lesson's images, to label ReplicaSets as the cluster panel does.
            time_scale: How much faster than real time the cluster runs (for the back-off's next try).
        """
        super().__init__()
        localize_bindings(self, lang)
        self.cluster = watch
        """The lesson's cluster watch."""
        self.lang = lang
        self.lesson_images = tuple(lesson_images)
        self.time_scale = time_scale
        self.events: list[ExplainedEvent] | None = None
        """The events shown, None until the cluster has answered."""

    def compose(self) -> ComposeResult:
        box = Vertical(id="events-box")
        box.border_title = t("events.title", self.lang)
        with box:
            yield Static(t("events.intro", self.lang), id="events-intro")
            with VerticalScroll(id="events-scroll", can_focus=False):
                yield _EventList(self.lang, id="events-list")
            yield Static(t("events.kubectl", self.lang), id="events-kubectl", markup=False)

    def on_mount(self) -> None:
        self.refresh_events()
        self.follow()
        self.set_interval(TICK_SECONDS, self.refresh_events)

    def refresh_events(self) -> None:
        """Read the watch's snapshot again and show it."""
        snapshot: Mapping[str, Sequence[Mapping[str, Any]]] = self.cluster.snapshot() if self.cluster.synced else {}
        events = None if not snapshot else lesson_events(
            snapshot, now=type(self).clock(), lang=self.lang, time_scale=self.time_scale,
            lesson_images=self.lesson_images)
        if events == self.events:
            return
        self.events = events
        listing = self.query_one(_EventList)
        listing.events = events
        listing.refresh(layout=True)

    @work(exclusive=True, group="events", exit_on_error=False)
    async def follow(self) -> None:
        """Show each change of the cluster as it comes."""
        changed = self.cluster.subscribe()
        try:
            while True:
                await changed.wait()
                changed.clear()
                self.refresh_events()
        finally:
            self.cluster.unsubscribe(changed)

    def action_scroll(self, where: str) -> None:
        box = self.query_one("#events-scroll", VerticalScroll)
        {"up": box.scroll_up, "down": box.scroll_down, "page_up": box.scroll_page_up,
         "page_down": box.scroll_page_down, "home": box.scroll_home, "end": box.scroll_end}[where](animate=False)

    @property
    def plain_text(self) -> str:
        """What the list shows now, as plain text (one line per part of an event, not wrapped)."""
        return "\n".join(line.plain for line in render_events(self.events, self.lang))
