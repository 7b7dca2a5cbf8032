"""Keys that arrive together on the introduction (a browser terminal sends a paste, or fast typing, in one packet):
the first begins the lesson, the others do not close the introduction a second time (Textual's ScreenStackError
crashed the TUI: seen with `kube-tutor workshop serve`), and what is typed after the first lands in the console
(an attendee who presses Enter and types at once lost the first letter of `kubectl`: a browser test under load)."""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.widgets import Input

from tests.tui.test_flow import flow_app, lesson_on, until
from tutor.tui.screens.intro import IntroScreen


async def test_keys_in_one_burst_on_the_introduction_begin_the_lesson_once(tmp_path: Path) -> None:
    app = flow_app("start_state", "en", tmp_path, progress=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, IntroScreen), "the intro")
        intro = app.screen
        for key in "kub":  # posted before the first is handled, as the web driver delivers a packet
            intro.post_message(events.Key(key, key))
        screen = await lesson_on(pilot, "update")
        assert app.return_code is None and app._exception is None
        field = screen.console.query_one(Input)
        assert field.value == "ub"  # "k" began the lesson; the rest was typing
        await pilot.press(*"ectl")
        assert field.value == "ubectl" and app.focused is field
