"""The cluster's life cycle said out loud on the lesson screen: a dead cluster greys the panel and the checklist,
offers Ctrl+R, F5 says one line; a time scale other than 1 is in the status bar."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tui.fakes import FakeBackend, FakeWatch, make_app
from tests.tui.pilot import console_text, lesson_screen, squeeze, until
from tutor.tui.text import t


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_a_dead_cluster_greys_out_offers_a_restart_and_f5_says_one_line(tmp_path: Path, lang: str) -> None:
    app = make_app("start_state", lang, tmp_path)
    backend = app.backend
    assert isinstance(backend, FakeBackend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        watch = screen.runtime.watch
        assert isinstance(watch, FakeWatch)
        watch.error = "The connection to the server 127.0.0.1:42429 was refused"
        watch.notify()
        await until(pilot, lambda: screen.has_class("-disconnected"), "the screen to grey out")
        hint = t("cluster.restart_hint", lang, command=f"kube-tutor --state-dir {tmp_path} cluster up")
        await until(pilot, lambda: squeeze(hint) in console_text(pilot), "the restart hint with --state-dir")
        ups = backend.ups
        await pilot.press("f5")
        await until(pilot, lambda: squeeze(t("cluster.down_reset", lang)) in console_text(pilot), "F5's one line")
        assert squeeze(t("resetting", lang)) not in console_text(pilot), "no reset is attempted"
        await pilot.press("ctrl+r")
        await until(pilot, lambda: backend.ups > ups, "Ctrl+R to start the cluster")
        await until(pilot, lambda: squeeze(t("cluster.running", lang)) in console_text(pilot), "the restart said")
        watch.error = None
        watch.notify()
        await until(pilot, lambda: not screen.has_class("-disconnected"), "the screen to come back")


async def test_the_status_bar_shows_a_time_scale_other_than_one(tmp_path: Path) -> None:
    app = make_app("start_state", "en", tmp_path)
    backend = app.backend
    assert isinstance(backend, FakeBackend)
    backend.time_scale = 10.0
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        assert t("time_scale", "en", scale="10") in str(screen.query_one("#status").render())
