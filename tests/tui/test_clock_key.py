"""F10 pauses and resumes the practice cluster's clock from the lesson screen; the status bar says it is paused.

Against a real practice cluster (its ``/kube-tutor/clock``, through ``PracticeBackend``), and against the fake
backend, which has no clock, as kind and an existing cluster have none.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from tests.tui.fakes import make_app
from tests.tui.pilot import console_text, lesson_screen, squeeze, until
from tutor.backends.base import ClockState
from tutor.backends.practice import PracticeBackend
from tutor.lesson import Lesson, find_lesson, load_lesson
from tutor.lesson.progress import Progress
from tutor.lesson.runtime import backend_env
from tutor.lesson.verify import reset
from tutor.text import t as cli_text
from tutor.tui.app import TutorApp
from tutor.tui.screens import lesson as lesson_module
from tutor.tui.screens.help import KEYS
from tutor.tui.text import t

SLOW = 0.5


def status_bar(pilot: Pilot[Any]) -> str:
    return str(pilot.app.screen.query_one("#status").render())


@pytest.fixture(scope="module")
def lesson() -> Lesson:
    return load_lesson(find_lesson("rolling-update"))


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory, lesson: Lesson) -> Iterator[PracticeBackend]:
    """A practice cluster in slow motion, in the lesson's start state."""
    backend = PracticeBackend(tmp_path_factory.mktemp("clock-state"), time_scale=SLOW)
    backend.up()
    try:
        out = io.StringIO()
        assert asyncio.run(reset(lesson, backend_env(backend.env()), backend.namespace, backend=backend,
                                 out=out)) == 0, out.getvalue()
        yield backend
    finally:
        backend.down()


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_f10_pauses_and_resumes_the_clock_and_the_status_bar_says_so(
        backend: PracticeBackend, lesson: Lesson, tmp_path: Path, lang: str) -> None:
    Progress.load(tmp_path, lesson.id, backend.name).start("update")  # resume: no setup
    async with TutorApp(lesson, backend, tmp_path, lang=lang, cwd=tmp_path).run_test(size=(120, 40)) as pilot:
        await lesson_screen(pilot)
        assert t("time_scale", lang, scale="0.5") in status_bar(pilot)  # slow motion shows
        assert t("clock_paused", lang) not in status_bar(pilot)
        await pilot.press("f10")
        await until(pilot, lambda: t("clock_paused", lang) in status_bar(pilot), "the paused mark")
        assert backend.clock() == ClockState(True, SLOW)
        assert squeeze(t("clock_paused_notice", lang)) in console_text(pilot)
        await pilot.press("f10")
        await until(pilot, lambda: t("clock_paused", lang) not in status_bar(pilot), "the paused mark gone")
        assert backend.clock() == ClockState(False, SLOW)
        assert squeeze(t("clock_resumed_notice", lang)) in console_text(pilot)
        await pilot.press("ctrl+q")


async def test_a_clock_paused_from_the_command_line_shows_in_the_status_bar(
        backend: PracticeBackend, lesson: Lesson, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lesson_module, "CLOCK_POLL", 0.05)
    Progress.load(tmp_path, lesson.id, backend.name).start("update")
    async with TutorApp(lesson, backend, tmp_path, lang="en", cwd=tmp_path).run_test(size=(120, 40)) as pilot:
        await lesson_screen(pilot)
        try:
            backend.set_clock_paused(True)  # what `kube-tutor cluster pause` does, from another terminal
            await until(pilot, lambda: "⏸ paused" in status_bar(pilot), "the paused mark")
        finally:
            backend.set_clock_paused(False)
        await until(pilot, lambda: "⏸ paused" not in status_bar(pilot), "the paused mark gone")
        await pilot.press("ctrl+q")


@pytest.mark.parametrize("lang", ["en", "ja"])
async def test_f10_on_a_cluster_without_a_clock_says_so_in_one_line(tmp_path: Path, lang: str) -> None:
    app = make_app("start_state", lang, tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await lesson_screen(pilot)
        await pilot.press("f10")
        expected = squeeze(cli_text("clock.practice_only", lang, name="fake"))
        await until(pilot, lambda: expected in console_text(pilot), "the one-line refusal")
        assert t("clock_paused", lang) not in status_bar(pilot)


def test_f1_help_names_the_key() -> None:
    assert ("F10", "help.clock") in KEYS
