"""Provides StartScreen: starts the backend and the lesson runtime, showing progress, then the lesson.

What it says is wrapped by :mod:`tutor.tui.linebreak` (:class:`~tutor.tui.prose.Prose`), in the learner's
language: the backend's phases (:class:`~tutor.text.Phrase`) too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static

from tutor.backends.base import Backend, BackendError
from tutor.text import said
from tutor.tui.prose import Block, Prose, markdown, text_block
from tutor.tui.text import t

MEASURE = 72
"""The widest line the start screen shows, in cells (it is narrower on a narrower terminal)."""

OpenLesson = Callable[[Callable[[str], object]], Awaitable[str | None]]
"""Opens the lesson once the backend is up (``TutorApp.open_lesson``); gets a way to say what happens, returns
an error to show, or None."""


class StartScreen(Screen[None]):
    """Shown while the cluster starts; on failure says why and offers a retry.

    Args:
        backend: the backend to bring up (in a thread: ``up`` blocks).
        lang: ``ja`` or ``en``.
        open_lesson: called once the backend is up.
    """

    DEFAULT_CSS = """
    StartScreen #start-status { max-width: 100%; }
    """
    BINDINGS = [Binding("r", "retry", "Retry", show=False)]

    def __init__(self, backend: Backend, lang: str, open_lesson: OpenLesson) -> None:
        super().__init__()
        self.backend = backend
        self.lang = lang
        self.open_lesson = open_lesson
        self.starting = False

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static("", id="start-status")

    def on_mount(self) -> None:
        self.start()

    def _say(self, *blocks: Block) -> None:
        self.query_one("#start-status", Static).update(Prose(blocks, measure=MEASURE))

    def _say_markdown(self, text: str) -> None:
        """Shows a lesson's text (its start state: Markdown)."""
        self._say(*markdown(text).blocks)

    def action_retry(self) -> None:
        if not self.starting:
            self.start()

    def _failed(self, detail: str) -> None:
        self._say(text_block(t("start_failed", self.lang), style="bold red"),
                  text_block(detail, space_before=True),
                  text_block(t("retry", self.lang), space_before=True))

    @work(exclusive=True, group="start", exit_on_error=False)
    async def start(self) -> None:
        self.starting = True
        try:
            self._say(text_block(t("starting", self.lang, backend=self.backend.name)))
            failure = await self._backend_up()
            if failure is not None:
                self._failed(failure)
                return
            self._say(text_block(t("connecting", self.lang)))
            failure = await self.open_lesson(self._say_markdown)
            if failure:
                self._failed(failure)
        finally:
            self.starting = False

    async def _backend_up(self) -> str | None:
        starting = t("starting", self.lang, backend=self.backend.name)

        def phase(line: str) -> None:  # each phase of the start (kind: docker, create, images...)
            self.app.call_from_thread(self._say, text_block(starting), text_block(said(line, self.lang), style="dim"))

        try:
            await asyncio.to_thread(self.backend.up, phase)
        except BackendError as error:
            return str(error)
        return None
