"""Provides StartScreen: starts the backend and the lesson runtime, showing progress, then the lesson."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static

from tutor.tui.text import t

if TYPE_CHECKING:
    from tutor.tui.app import TutorApp


class StartScreen(Screen[None]):
    """Shown while the cluster starts; on failure says why and offers a retry."""

    BINDINGS = [Binding("r", "retry", "Retry", show=False)]

    def compose(self) -> ComposeResult:
        with Middle(), Center():
            yield Static("", id="start-status")

    @property
    def tutor(self) -> TutorApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        self.start()

    def _say(self, text: str) -> None:
        self.query_one("#start-status", Static).update(text)

    def action_retry(self) -> None:
        if not self.tutor.starting:
            self.start()

    @work(exclusive=True, group="start", exit_on_error=False)
    async def start(self) -> None:
        app = self.tutor
        app.starting = True
        try:
            self._say(t("starting", app.lang, backend=app.backend.name))
            status: Any = await self._backend_up()
            if status is not None:
                self._say(f"[b red]{t('start_failed', app.lang)}[/]\n\n{status}\n\n{t('retry', app.lang)}")
                return
            self._say(t("connecting", app.lang))
            failure = await app.open_lesson(self._say)
            if failure:
                self._say(f"[b red]{t('start_failed', app.lang)}[/]\n\n{failure}\n\n{t('retry', app.lang)}")
        finally:
            app.starting = False

    async def _backend_up(self) -> str | None:
        import asyncio

        from tutor.backends.base import BackendError

        def phase(line: str) -> None:  # each phase of the start (kind: docker, create, images...)
            self.app.call_from_thread(self._say, f"{t('starting', self.tutor.lang, backend=self.tutor.backend.name)}"
                                                 f"\n{line}")

        try:
            await asyncio.to_thread(self.tutor.backend.up, phase)
        except BackendError as error:
            return str(error)
        return None
