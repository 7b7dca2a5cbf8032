"""The lesson screen says when the cluster stops saving changes (its storage fails) and when it saves again.

The backend is the fake of ``tests.tui.fakes`` whose ``storage_failure()`` answers what the test sets, as the
practice backend answers from the server's ``/readyz/etcd``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.fakes import FakeBackend, make_app
from tests.tui.pilot import console_text, lesson_screen, squeeze, until
from tutor.tui.screens import lesson as lesson_module
from tutor.tui.text import t

REASON = "cannot write /state/practice/state.db: attempt to write a readonly database"




def status_bar(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#status").render())








@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_a_storage_failure_shows_in_the_status_bar_and_the_console_until_it_saves_again(
        tmp_path: Path, lang: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lesson_module, "STORAGE_POLL", 0.02)
    app = make_app("start_state", lang, tmp_path)
    backend = app.backend
    assert isinstance(backend, FakeBackend)
    backend.storage_error = REASON
    async with app.run_test(size=(120, 40)) as pilot:
        await lesson_screen(pilot)
        await until(pilot, lambda: t("not_saving", lang) in status_bar(pilot), "the status bar to say it")
        assert t("connected", lang) not in status_bar(pilot)
        assert squeeze(t("storage_failed", lang, error=REASON)) in console_text(pilot)

        backend.storage_error = ""
        await until(pilot, lambda: t("connected", lang) in status_bar(pilot), "the status bar to recover")
        assert t("not_saving", lang) not in status_bar(pilot)
        assert squeeze(t("storage_back", lang)) in console_text(pilot)
        assert console_text(pilot).count(squeeze(t("storage_failed", lang, error=REASON))) == 1  # said once, not per poll


async def test_a_cluster_that_saves_changes_nothing_on_screen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lesson_module, "STORAGE_POLL", 0.02)
    app = make_app("start_state", "en", tmp_path)
    backend = app.backend
    assert isinstance(backend, FakeBackend)
    async with app.run_test(size=(120, 40)) as pilot:
        await lesson_screen(pilot)
        await until(pilot, lambda: backend.storage_asked >= 3, "the screen to ask the backend a few times")
        assert t("connected", "en") in status_bar(pilot)
        text = console_text(pilot)
        assert squeeze(t("storage_back", "en")) not in text and "save" not in text


async def test_a_backend_that_cannot_tell_does_not_crash_the_screen(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lesson_module, "STORAGE_POLL", 0.02)
    app = make_app("start_state", "en", tmp_path)
    backend = app.backend
    assert isinstance(backend, FakeBackend)
    asked: list[int] = []

    def broken() -> str:
        asked.append(1)
        raise OSError("no answer")

    monkeypatch.setattr(backend, "storage_failure", broken)
    async with app.run_test(size=(120, 40)) as pilot:
        await lesson_screen(pilot)
        await until(pilot, lambda: len(asked) >= 3, "the screen to keep asking")
        assert t("connected", "en") in status_bar(pilot)
        assert app.is_running
