"""Waiting on the app in Pilot tests: conditions with deadlines (never sleeps), and what the console shows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input

from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.widgets.console import Console

DEADLINE = 10.0


async def until(pilot: Pilot[Any], condition: Callable[[], object], what: str, *, deadline: float = DEADLINE,
                detail: Callable[[], str] | None = None) -> None:
    """Let the app run until ``condition()`` holds; fail after ``deadline`` seconds (saying ``detail()`` too)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline
    while not condition():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}" + (f"; {detail()}" if detail else ""))
        await pilot.pause(0.02)


async def lesson_screen(pilot: Pilot[Any], *, input_focused: bool = False) -> LessonScreen:
    """Wait for the lesson screen with its first verdict (composed and mounted; with ``input_focused``, the
    console's input has the focus too)."""
    app = pilot.app
    await until(pilot, lambda: isinstance(app.screen, LessonScreen) and app.screen.verdict is not None
                and (not input_focused or isinstance(app.focused, Input)), "the lesson screen")
    assert isinstance(app.screen, LessonScreen)
    return app.screen


def squeeze(text: str) -> str:
    """``text`` without whitespace (the console wraps long lines)."""
    return "".join(text.split())


def console_text(pilot: Pilot[Any]) -> str:
    """The console's text without whitespace."""
    log = pilot.app.screen.query_one(Console).query_one("RichLog")
    return squeeze("".join(line.text for line in log.lines))  # type: ignore[attr-defined]
