"""Provides HelpScreen: every key of the lesson screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor.tui.text import t

KEYS = [
    ('Enter', 'help.key00'),
    ('↑ / ↓', 'help.key01'),
    ('→ / End', 'help.key02'),
    ('Ctrl+C', 'help.key03'),
    ('clear', 'help.key04'),
    ('Tab / Shift+Tab', 'help.key05'),
    ('c', 'help.key06'),
    ('Ctrl+N / Ctrl+B', 'help.key07'),
    ('Esc', 'help.key08'),
    ('F2', 'help.key09'),
    ('F3', 'help.key10'),
    ('F5', 'help.key11'),
    ('F6', 'help.key15'),
    ('!', 'help.key12'),
    ('F1 / ?', 'help.key13'),
    ('Ctrl+Q', 'help.key14'),
]
"""Each key and the text (in :mod:`tutor.tui.text`) that says what it does."""


class HelpScreen(ModalScreen[None]):
    """Keys, in the learner's language; any of Esc, q, F1 or ? closes it."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 90; height: 90%; max-height: 22;
        border: round $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,f1,question_mark", "dismiss", "Close")]

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def compose(self) -> ComposeResult:
        lines = [f"[b]{t('help.title', self.lang)}[/b]", ""]
        for key, text in KEYS:
            lines.append(f"[b]{key}[/b]  {t(text, self.lang)}")
        lines += ["", t("help.close", self.lang)]
        with VerticalScroll():
            yield Static("\n".join(lines), id="help-text")
