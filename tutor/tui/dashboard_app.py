"""Provides DashboardApp: the workshop instructor's dashboard (``kube-tutor workshop status``), in a terminal or,
through textual-serve, in the instructor's browser."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from textual.app import App
from textual.binding import Binding

from tutor.tui.screens.dashboard import POLL_SECONDS, DashboardScreen
from tutor.tui.text import localize_bindings


class DashboardApp(App[None]):
    """One screen: :class:`tutor.tui.screens.dashboard.DashboardScreen` over the workshop at ``root``."""

    CSS_PATH = Path(__file__).parent / "tutor.tcss"
    TITLE = "kube-tutor workshop"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True, show=False)]

    def __init__(self, root: Path, *, lang: str = "en", stuck_minutes: float | None = None,
                 clock: Callable[[], datetime] | None = None, export_to: Path | None = None,
                 poll_seconds: float = POLL_SECONDS) -> None:
        """Args:
            root: the workshop root (``<state>/workshop``: ``workshop.json``, ``seats/``).
            lang: ``ja`` or ``en``.
            stuck_minutes: minutes without progress while the checks fail after which a seat is stuck (default:
                ``workshop.json``'s ``stuck_minutes``, else 5).
            clock: the time now (tests freeze it; default: the real clock).
            export_to: where ``e`` writes the export (default: ``<root>/progress-<time>.csv`` and ``.json``).
            poll_seconds: seconds between two looks at the seats' files.
        """
        super().__init__()
        localize_bindings(self, lang)
        self.root = root
        self.lang = lang
        self.dashboard = DashboardScreen(root, lang=lang, stuck_minutes=stuck_minutes, clock=clock,
                                         export_to=export_to, poll_seconds=poll_seconds)

    def on_mount(self) -> None:
        self.push_screen(self.dashboard)
