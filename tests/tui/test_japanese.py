"""Japanese as a Japanese reader expects it (issue 10, item 8), on the running TUI (fakes, Pilot).

- the step text, as the 80x24 screen shows it, breaks by the rules of tutor.tui.linebreak and fills its lines;
- every word of the Japanese screens is Japanese: the start screen and its phases, the footer, the help, the
  command palette; the command line's words (tutor.text) exist in both languages.
"""

from __future__ import annotations

import re
import string
import threading
from pathlib import Path
from typing import Any

import pytest
from rich.cells import cell_len
from textual.geometry import Region
from textual.widgets import Static

from tests.tui.fakes import STATES, FakeBackend, FakeRuntime, rolling_update_lesson
from tests.tui.pilot import until
from tests.tui.test_snapshots import open_lesson, scroll_into_view
from tutor.backends.base import BackendError
from tutor.text import TEXTS as CLI_TEXTS
from tutor.text import Phrase, said
from tutor.tui.app import TutorApp
from tutor.tui.linebreak import NO_START, is_cjk, phrase_slack
from tutor.tui.prose import Prose
from tutor.tui.screens.help import KEYS, HelpScreen
from tutor.tui.screens.start import StartScreen
from tutor.tui.text import TEXTS, t
from tutor.tui.widgets.step_panel import StepText

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
COUNTER = re.compile(r"^(?:つ|個|秒|分|回|件|台|本|人|レプリカ)")


def rendered(widget: Static) -> list[str]:
    """The lines of a widget as the screen shows them."""
    size = widget.size
    return [strip.text.rstrip() for strip in widget.render_lines(Region(0, 0, size.width, size.height))]


@pytest.mark.parametrize("state", list(STATES))
async def test_the_step_text_at_80x24_breaks_as_a_japanese_reader_expects(tmp_path: Path, state: str) -> None:
    from tests.tui.fakes import make_app

    app = make_app(state, "ja", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_lesson(pilot, STATES[state][0])
        texts = list(screen.query(StepText))
        assert texts
        for widget in texts:
            await scroll_into_view(pilot, widget)
            width = widget.size.width
            prose = widget.visual
            assert isinstance(prose, Prose)
            lines = rendered(widget)
            paragraphs = [paragraph.splitlines() for paragraph in "\n".join(lines).split("\n\n")]
            # nothing lost: the lines are the text
            assert "".join(lines).replace(" ", "") == prose.plain.replace(" ", "").replace("\n", "")
            for paragraph in paragraphs:
                for line, following in zip(paragraph, paragraph[1:], strict=False):
                    assert cell_len(line) <= width, line
                    assert following[:1] not in NO_START, (line, following)
                    assert not (line[-1:].isdigit() and COUNTER.match(following)), (line, following)
                    if is_cjk(following[0]):
                        # a Japanese character could have come up: the line is full but for a phrase's end or
                        # a character kept off the next line's start (Textual's wrapping left 16 cells empty)
                        assert cell_len(line) >= width - phrase_slack(width) - 4, (width, line, following)


class SlowBackend(FakeBackend):
    """A backend whose ``up`` says a phase, then waits until the test lets it go on (or fails, if told)."""

    def __init__(self, failure: str | None = None) -> None:
        super().__init__()
        self.phase_said = threading.Event()
        self.go_on = threading.Event()
        self.failure = failure

    def up(self, on_status: Any = None) -> None:
        on_status(Phrase("practice.starting"))
        self.phase_said.set()
        self.go_on.wait(30)
        if self.failure:
            raise BackendError(self.failure)


def start_app(tmp_path: Path, backend: FakeBackend, lang: str) -> TutorApp:
    lesson = rolling_update_lesson()
    runtime = FakeRuntime(lesson, {}, cwd=tmp_path)
    return TutorApp(lesson, backend, tmp_path, lang=lang, cwd=tmp_path, runtime=runtime)  # type: ignore[arg-type]


def start_status(app: TutorApp) -> str:
    return str(app.screen.query_one("#start-status", Static).content)


async def test_the_start_screen_says_the_backends_phase_in_japanese(tmp_path: Path) -> None:
    backend = SlowBackend()
    app = start_app(tmp_path, backend, "ja")
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, StartScreen) and "練習用" in start_status(app),
                    "the phase on the start screen")
        assert start_status(app) == "practice クラスターを準備しています…\n練習用クラスターを起動しています"
        backend.go_on.set()


async def test_a_failed_start_is_said_in_japanese_and_wrapped(tmp_path: Path) -> None:
    failure = ("the practice cluster did not start (log: /tmp/state/practice/cluster.log): "
               "OSError: [Errno 98] address already in use")
    backend = SlowBackend(failure)
    app = start_app(tmp_path, backend, "ja")
    async with app.run_test(size=(80, 24)) as pilot:
        backend.go_on.set()
        await until(pilot, lambda: isinstance(app.screen, StartScreen) and "r:" in start_status(app),
                    "the failure on the start screen")
        status = app.screen.query_one("#start-status", Static)
        assert start_status(app) == f"クラスターを起動できませんでした\n\n{failure}\n\nr: もう一度試す · Ctrl+Q: 終了"
        assert app.screen.region.contains_region(status.region)  # it fits the 80-column screen (smaller ones get the too-small notice)
        assert all(cell_len(line) <= status.size.width for line in rendered(status))


async def test_the_footer_help_and_palette_are_japanese(tmp_path: Path) -> None:
    from tests.tui.fakes import make_app

    app = make_app("start_state", "ja", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_lesson(pilot, "update")
        footer = [binding.description for _, binding, enabled, _ in screen.active_bindings.values()
                  if binding.show and enabled]
        assert footer and all(JAPANESE.search(label) for label in footer), footer
        palette = app._bindings.get_bindings_for_key("ctrl+p")[0]
        assert palette.description == "操作"
        commands = list(app.get_system_commands(screen))
        # the console's input has the focus, so it can be maximized
        assert [command.title for command in commands] == ["テーマ", "終了", "キー", "最大化", "スクリーンショット"]
        assert all(JAPANESE.search(command.help) for command in commands)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        lines = str(app.screen.query_one("#help-text", Static).content).splitlines()
        assert len([line for line in lines if line]) == len(KEYS) + 2
        assert all(JAPANESE.search(line) for line in lines if line), lines


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(CLI_TEXTS))
def test_every_command_line_text_exists_in_both_languages(key: str) -> None:
    entry = CLI_TEXTS[key]
    assert set(entry) == {"ja", "en"}
    assert entry["ja"].strip() and entry["en"].strip()
    assert placeholders(entry["ja"]) == placeholders(entry["en"])
    assert not JAPANESE.search(entry["en"])


def test_one_lookup_two_tables_no_key_in_both() -> None:
    assert not set(TEXTS) & set(CLI_TEXTS)
    # the TUI's lookup finds the command line's texts too
    assert t("kind.pulling", "ja", image="nginx") == "nginx を取得しています"


def test_a_phrase_is_its_english_line_and_can_be_said_in_japanese() -> None:
    phrase = Phrase("practice.answered", pid=42, seconds="3")
    assert phrase == "the practice cluster (process 42) answered after 3 s; reusing it"
    assert said(phrase, "ja") == "練習用クラスター（プロセス 42）が 3 秒後に応答しました。そのまま使います"
    assert said("a plain line", "ja") == "a plain line"
    nested = Phrase("choice.using", name="practice", reason=Phrase("choice.no_docker"))
    assert said(nested, "ja") == "practice バックエンドを使います（Docker がインストールされていないので、練習用クラスターを使います）"
    assert nested == "using the practice backend (Docker is not installed, so the practice cluster is used)"
