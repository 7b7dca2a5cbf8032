"""Provides HelpScreen: every key of the lesson screen."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor.tui.prose import Block, Prose, text_block
from tutor.tui.text import t

KEYS = [
    ('Enter', 'help.key00'),
    ('Tab', 'help.tab'),
    ('↑ / ↓', 'help.key01'),
    ('→ / End', 'help.key02'),
    ('Ctrl+C', 'help.key03'),
    ('clear', 'help.key04'),
    ('Shift+Tab', 'help.key05'),
    ('Ctrl+C', 'help.key06'),
    ('Ctrl+N / Ctrl+B', 'help.key07'),
    ('Esc', 'help.key08'),
    ('F2', 'help.key09'),
    ('F3', 'help.key10'),
    ('F5', 'help.key11'),
    ('Ctrl+R', 'help.restart'),
    ('F4', 'help.key15'),
    ('F6', 'help.key16'),
    ('F7', 'help.key17'),
    ('Ctrl+↑ / Ctrl+↓', 'help.key18'),
    ('F8', 'help.events'),
    ('F9', 'help.lessons'),
    ('Ctrl+T', 'help.timeline'),
    ('N / L', 'help.end_keys'),
    ('!', 'help.key12'),
    ('F1 / ?', 'help.key13'),
    ('Ctrl+Q', 'help.key14'),
    ('F10', 'help.clock'),
    ('F12', 'help.handback'),
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
        column = max(Content(key).cell_length for key, _ in KEYS) + 2
        blocks = [text_block(t("help.title", self.lang), style="bold")]
        for number, (key, text) in enumerate(KEYS):
            # each key in a column of its own, what it does wrapped beside it
            blocks.append(Block(Content(t(text, self.lang)), first=Content.styled(key, "bold").pad_right(
                column - Content(key).cell_length), space_before=number == 0))
        blocks.append(text_block(t("help.close", self.lang), space_before=True))
        with VerticalScroll():
            yield Static(Prose(blocks), id="help-text")
