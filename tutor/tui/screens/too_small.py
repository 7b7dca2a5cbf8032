"""Provides TooSmallScreen: a terminal below 80x24 is told so, in words, until it grows."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.events import Resize
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor.tui.text import t

MIN_SIZE = (80, 24)
"""The smallest terminal (columns, rows) the lesson is laid out for."""


class TooSmallScreen(ModalScreen[None]):
    """Covers the app while the terminal is smaller than :data:`MIN_SIZE`; the app pops it when it grows
    (``TutorApp.on_resize``). Ctrl+Q still quits (an app binding with priority)."""

    def __init__(self, lang: str, minimum: tuple[int, int] = MIN_SIZE) -> None:
        super().__init__()
        self.lang = lang
        self.minimum = minimum
        self._leaving = False

    def fits(self) -> bool:
        """Whether the terminal is big enough now."""
        width, height = self.app.size
        return width >= self.minimum[0] and height >= self.minimum[1]

    def leave(self) -> None:
        """Close the notice (once, however many resizes and resumes ask)."""
        if not self._leaving and self.app.screen is self:
            self._leaving = True
            self.dismiss()

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static("", id="too-small")

    def on_mount(self) -> None:
        self._say()

    def on_resize(self, event: Resize) -> None:
        self._say()

    def on_screen_resume(self) -> None:
        # Uncovered after the terminal grew while another screen was above this one.
        if self.fits():
            self.leave()
        else:
            self._say()

    def _say(self) -> None:
        width, height = self.app.size
        self.query_one("#too-small", Static).update(
            t("too_small", self.lang, width=self.minimum[0], height=self.minimum[1], now=f"{width}x{height}"))
