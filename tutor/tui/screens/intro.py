"""Provides IntroScreen: the lesson's beginning: what it is about, where the cluster starts, its steps."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor.lesson import Lesson
from tutor.tui.prose import markdown
from tutor.tui.screens.help import HelpScreen
from tutor.tui.text import t

SCROLL_KEYS = frozenset({"up", "down", "pageup", "pagedown", "home", "end"})
"""Keys that scroll a long introduction instead of closing it."""


def step_list(lesson: Lesson, lang: str) -> Table:
    """The steps, numbered, each title wrapping under itself (a hanging indent)."""
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(no_wrap=True, justify="right")
    grid.add_column(overflow="fold")
    for number, step in enumerate(lesson.steps, 1):
        grid.add_row(f"{number}.", step.title.get(lang))
    return grid


class IntroScreen(ModalScreen[None]):
    """Shown over the lesson on a first visit and with F7: the description and the start state, wrapped;
    any key (but those that scroll it) closes it."""

    DEFAULT_CSS: ClassVar[str] = """
    IntroScreen { align: center middle; }
    IntroScreen > VerticalScroll { width: 100%; max-width: 88; height: auto; max-height: 100%;
        border: round $primary; background: $surface; padding: 0 1; }
    IntroScreen .intro--title { text-style: bold; color: $accent; margin-bottom: 1; }
    IntroScreen .intro--heading { text-style: bold; margin-top: 1; }
    IntroScreen .intro--keys { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, lesson: Lesson, lang: str, *, on_typed: Callable[[str], None] | None = None) -> None:
        """``on_typed`` gets the characters typed after the key that closed it, while it is still leaving (typing
        right after the key that begins the lesson): they belong to the console, not to a screen on its way out."""
        super().__init__()
        self.lesson = lesson
        self.lang = lang
        self.on_typed = on_typed
        self._leaving = False

    def compose(self) -> ComposeResult:
        lang = self.lang
        with VerticalScroll():
            yield Static(Text(self.lesson.title.get(lang)), classes="intro--title")
            yield Static(markdown(self.lesson.description.get(lang)), id="intro-description")
            yield Static(t("intro.start", lang), classes="intro--heading")
            yield Static(markdown(self.lesson.setup.text.get(lang)), id="intro-start")
            yield Static(t("intro.steps", lang), classes="intro--heading")
            yield Static(step_list(self.lesson, lang), id="intro-steps")
            yield Static(t("intro.keys", lang), classes="intro--keys")

    def on_key(self, event: events.Key) -> None:
        if event.key in SCROLL_KEYS:
            return
        event.stop()
        event.prevent_default()
        if not self.leave():
            if self.on_typed is not None and event.is_printable and event.character:
                self.on_typed(event.character)
            return
        if event.key in ("f1", "question_mark"):  # the key line offers F1: it closes this and shows the keys
            self.app.push_screen(HelpScreen(self.lang))

    def on_click(self) -> None:
        self.leave()

    def leave(self) -> bool:
        """Close the introduction once: keys that arrived with the first (a paste, fast typing in a browser
        terminal) find it leaving already; a second dismiss would pop the screen under it. False when leaving."""
        if self._leaving:
            return False
        self._leaving = True
        self.dismiss()
        return True
