"""Provides StartScreen: starts the backend and the lesson runtime, showing progress, then the lesson."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from rich.markup import escape
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static

from tutor.backends.base import Backend, BackendError
from tutor.tui.text import t

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

    def _say(self, text: str) -> None:
        self.query_one("#start-status", Static).update(text)

    def action_retry(self) -> None:
        if not self.starting:
            self.start()

    def _failed(self, detail: str) -> None:
        self._say(f"[b red]{t('start_failed', self.lang)}[/]\n\n{escape(detail)}\n\n{t('retry', self.lang)}")

    @work(exclusive=True, group="start", exit_on_error=False)
    async def start(self) -> None:
        self.starting = True
        try:
            self._say(t("starting", self.lang, backend=self.backend.name))
            failure = await self._backend_up()
            if failure is not None:
                self._failed(failure)
                return
            self._say(t("connecting", self.lang))
            failure = await self.open_lesson(self._say)
            if failure:
                self._failed(failure)
        finally:
            self.starting = False

    async def _backend_up(self) -> str | None:
        starting = t("starting", self.lang, backend=self.backend.name)

        def phase(line: str) -> None:  # each phase of the start (kind: docker, create, images...)
            self.app.call_from_thread(self._say, f"{starting}\n{line}")

        try:
            await asyncio.to_thread(self.backend.up, phase)
        except BackendError as error:
            return str(error)
        return None
