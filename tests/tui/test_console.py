"""Tests of the Console widget: submitting, history, suggestions, Ctrl+C, streamed output, snapshots."""

from __future__ import annotations

from typing import ClassVar

import pytest
from rich.style import Style
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input, Label, RichLog

from tutor.tui.widgets import Console
from tutor.tui.widgets.console import OUTPUT_LIMIT

SET_IMAGE = "kubectl set image deployment/web web=nginx:1.27"


class ConsoleApp(App[None]):
    """A tiny app holding one console; it records what the console posts."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+c", "app_interrupt", "App-level Ctrl+C", priority=True),
    ]

    def __init__(self, lang: str = "en") -> None:
        super().__init__()
        self.lang = lang
        self.messages: list[Message] = []
        self.app_interrupts = 0
        self.raw_inputs: list[Input.Submitted] = []

    def compose(self) -> ComposeResult:
        yield Console(self.lang, id="console")

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = False  # a blinking cursor makes snapshots flaky

    def on_console_submitted(self, message: Console.Submitted) -> None:
        self.messages.append(message)

    def on_console_cancel_requested(self, message: Console.CancelRequested) -> None:
        self.messages.append(message)

    def on_input_submitted(self, message: Input.Submitted) -> None:
        self.raw_inputs.append(message)

    def action_app_interrupt(self) -> None:
        self.app_interrupts += 1


def console_of(app: App[None]) -> Console:
    return app.query_one(Console)


def output_lines(app: App[None]) -> list[str]:
    """The plain text of every line in the console's output log."""
    return [strip.text.rstrip() for strip in app.query_one(Console).query_one(RichLog).lines]


def styles_of_line(app: App[None], text: str) -> list[Style]:
    """The styles of the segments of the first output line that starts with the text."""
    for strip in app.query_one(Console).query_one(RichLog).lines:
        if strip.text.startswith(text):
            return [segment.style for segment in strip if segment.text.strip() and segment.style]
    raise AssertionError(f"no output line starts with {text!r}: {output_lines(app)}")


# ---- submitting ----


async def test_enter_posts_submitted_echoes_and_clears_the_input() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        await pilot.press(*"kubectl get pods", "enter")
        await pilot.pause()
        console = console_of(app)
        assert [(type(m), m.line) for m in app.messages] == [(Console.Submitted, "kubectl get pods")]
        assert app.messages[0].control is console
        assert app.query_one(Input).value == ""
        assert output_lines(app) == ["$ kubectl get pods"]
        assert all(style.bold for style in styles_of_line(app, "$ kubectl"))
        assert console.history == ["kubectl get pods"]


async def test_the_message_hook_sees_one_submitted_and_no_raw_input_submitted() -> None:
    seen: list[Message] = []
    app = ConsoleApp()
    async with app.run_test(message_hook=seen.append) as pilot:
        await pilot.press(*"  kubectl get deploy  ", "enter")
        await pilot.pause()
    # the hook sees the message at every stop of its bubbling: console, screen, app
    submitted = {id(m): m for m in seen if isinstance(m, Console.Submitted)}
    assert [m.line for m in submitted.values()] == ["kubectl get deploy"]
    assert app.raw_inputs == []  # the console stops the Input's own message: owners see Console.Submitted


async def test_blank_lines_are_not_submitted() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        await pilot.press("enter", *"   ", "enter")
        await pilot.pause()
        assert app.messages == []
        assert output_lines(app) == []
        assert console_of(app).history == []


# ---- history ----


async def test_up_and_down_walk_the_history_and_restore_the_draft() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        field = app.query_one(Input)
        for line in ["kubectl get pods", "kubectl get deploy", "kubectl get deploy"]:
            field.value = line
            await pilot.press("enter")
        await pilot.pause()
        console = console_of(app)
        assert console.history == ["kubectl get pods", "kubectl get deploy"]  # no repeats in a row
        await pilot.press(*"kubectl ro")
        await pilot.press("up")
        assert field.value == "kubectl get deploy"
        assert field.cursor_position == len(field.value)
        await pilot.press("up")
        assert field.value == "kubectl get pods"
        await pilot.press("up")  # nothing older: stays
        assert field.value == "kubectl get pods"
        await pilot.press("down")
        assert field.value == "kubectl get deploy"
        await pilot.press("down")  # past the newest: the draft comes back
        assert field.value == "kubectl ro"
        await pilot.press("down")
        assert field.value == "kubectl ro"


async def test_load_history_restores_lines_for_up() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        console.load_history(
            ["kubectl get pods\n", "", "kubectl get pods", "kubectl rollout status deploy/web"]
        )
        assert console.history == ["kubectl get pods", "kubectl rollout status deploy/web"]
        await pilot.press("up", "up")
        assert app.query_one(Input).value == "kubectl get pods"
        console.history.append("not stored")  # a copy: the console's history is unchanged
        assert console.history == ["kubectl get pods", "kubectl rollout status deploy/web"]


# ---- suggestions, prefill, focus ----


async def test_a_suggestion_is_accepted_with_right_and_end() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        console.set_suggestions([SET_IMAGE, "kubectl rollout status deployment/web"])
        field = app.query_one(Input)
        await pilot.press(*"kubectl set i")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("right")
        assert field.value == SET_IMAGE
        field.value = ""
        await pilot.press(*"kubectl rollout s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("end")
        assert field.value == "kubectl rollout status deployment/web"


async def test_suggestions_are_case_sensitive() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console_of(app).set_suggestions([SET_IMAGE])
        await pilot.press(*"Kubectl set i")
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("right")
        assert app.query_one(Input).value == "Kubectl set i"


async def test_prefill_puts_the_command_in_the_focused_input_without_running_it() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        app.set_focus(None)
        console_of(app).prefill(SET_IMAGE)
        await pilot.pause()
        field = app.query_one(Input)
        assert field.value == SET_IMAGE
        assert field.cursor_position == len(SET_IMAGE)
        assert app.focused is field
        assert app.messages == []
        app.set_focus(None)
        console_of(app).focus_input()
        await pilot.pause()
        assert app.focused is field


# ---- running state and Ctrl+C ----


async def test_enter_while_running_shows_a_hint_and_keeps_the_line() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        state = console.query_one(".console--state", Label)
        assert not state.display
        console.running = True
        await pilot.pause()
        assert state.display
        assert "running… Ctrl+C cancels" in str(state.render())
        await pilot.press(*"kubectl get pods", "enter")
        await pilot.pause()
        assert app.messages == []
        assert app.query_one(Input).value == "kubectl get pods"
        assert output_lines(app) == ["a command is still running (Ctrl+C cancels it)"]
        console.running = False
        await pilot.press("enter")
        await pilot.pause()
        assert [m.line for m in app.messages if isinstance(m, Console.Submitted)] == ["kubectl get pods"]
        assert not state.display


async def test_ctrl_c_while_running_requests_cancel_and_beats_app_bindings() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        console.running = True
        await pilot.press(*"kubectl get", "ctrl+c")
        await pilot.pause()
        assert [type(m) for m in app.messages] == [Console.CancelRequested]
        assert app.messages[0].control is console
        assert app.query_one(Input).value == "kubectl get"  # only cancels, keeps the typed line
        assert app.app_interrupts == 0


async def test_ctrl_c_while_idle_clears_the_input() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        await pilot.press(*"kubectl get pods", "ctrl+c")
        await pilot.pause()
        assert app.query_one(Input).value == ""
        assert app.messages == []
        assert app.app_interrupts == 0


# ---- output ----


async def test_write_keeps_partial_lines_until_they_end_and_finish_flushes() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        console.write("NAME    READY   STATUS\nweb-7d4b9-x2")
        await pilot.pause()
        assert output_lines(app) == ["NAME    READY   STATUS"]
        console.write("kq   1/1     Run")
        console.write("ning\nweb-7d4b9-")
        await pilot.pause()
        assert output_lines(app) == ["NAME    READY   STATUS", "web-7d4b9-x2kq   1/1     Running"]
        console.write("9zt  0/1     Pending")
        console.finish(0)
        await pilot.pause()
        assert output_lines(app)[-1] == "web-7d4b9-9zt  0/1     Pending"
        assert len(output_lines(app)) == 3  # exit status 0 is not reported


async def test_finish_reports_a_failure_as_a_dim_exit_status_line() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        console.write('Error from server (NotFound): deployments.apps "wbe" not found\n')
        console.finish(1)
        await pilot.pause()
        assert output_lines(app) == [
            'Error from server (NotFound): deployments.apps "wbe" not found',
            "exit status 1",
        ]
        assert all(style.dim for style in styles_of_line(app, "exit status"))


async def test_ansi_colours_render_as_styles_not_escape_codes() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        console.write("\x1b[1mNAME\x1b[0m  \x1b[32mRunning\x1b[0m\n\x1b[31mfai")
        console.write("led\x1b[0m\r\n")
        await pilot.pause()
        assert output_lines(app) == ["NAME  Running", "failed"]
        assert "\x1b" not in "".join(output_lines(app))
        assert any(
            style.color is not None and style.color.number == 2 for style in styles_of_line(app, "NAME")
        )
        assert any(
            style.color is not None and style.color.number == 1 for style in styles_of_line(app, "failed")
        )


async def test_a_carriage_return_keeps_what_was_drawn_last() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console_of(app).write("waiting 1/3\rwaiting 2/3\rwaiting 3/3\nbell\x07 done\n")
        await pilot.pause()
        assert output_lines(app) == ["waiting 3/3", "bell done"]


async def test_notice_styles_information_and_error_differently() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        console.notice("step passed")
        console.notice("refused: --kubeconfig would leave the practice cluster", severity="error")
        await pilot.pause()
        assert output_lines(app) == ["step passed", "refused: --kubeconfig would leave the practice cluster"]
        information = styles_of_line(app, "step passed")
        error = styles_of_line(app, "refused")
        assert information and error
        assert information[0].color != error[0].color


async def test_clear_empties_the_output() -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        console.write("one\ntwo\n")
        await pilot.pause()
        console.clear()
        await pilot.pause()
        assert output_lines(app) == []
        console.write("three\n")
        await pilot.pause()
        assert output_lines(app) == ["three"]


async def test_output_written_before_mount_is_kept_in_order() -> None:
    class EarlyApp(ConsoleApp):
        def compose(self) -> ComposeResult:
            console = Console(id="console")
            console.notice("cluster ready")
            console.write("first\nsec")
            yield console

    app = EarlyApp()
    async with app.run_test() as pilot:
        console_of(app).write("ond\n")
        await pilot.pause()
        assert output_lines(app) == ["cluster ready", "first", "second"]


async def test_long_and_wide_lines_wrap_to_the_width_of_the_log() -> None:
    app = ConsoleApp()
    async with app.run_test(size=(40, 12)) as pilot:
        console = console_of(app)
        log = console.query_one(RichLog)
        console.write("x" * 100 + "\n")
        console.write("ポッドの準備ができるまで待っています。" * 3 + "\n")
        await pilot.pause()
        width = log.scrollable_content_region.width
        assert all(strip.cell_length <= width for strip in log.lines)
        assert "".join(output_lines(app)) == "x" * 100 + "ポッドの準備ができるまで待っています。" * 3
        assert len(log.lines) > 3
        assert log.max_scroll_x == 0


async def test_a_long_stream_of_small_chunks_is_capped_and_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    app = ConsoleApp()
    async with app.run_test() as pilot:
        console = console_of(app)
        log = console.query_one(RichLog)
        log_writes: list[object] = []
        original_write = log.write

        def counting_write(content: object, *args: object, **kwargs: object) -> RichLog:
            log_writes.append(content)
            return original_write(content, *args, **kwargs)

        monkeypatch.setattr(log, "write", counting_write)
        total = OUTPUT_LIMIT + 1000
        for number in range(total):
            console.write(f"web-{number} 0/1 Pending")
            console.write("\n")
        await pilot.pause()
        lines = output_lines(app)
        assert len(lines) == OUTPUT_LIMIT
        assert lines[0] == f"web-{total - OUTPUT_LIMIT} 0/1 Pending"
        assert lines[-1] == f"web-{total - 1} 0/1 Pending"
        assert len(log_writes) == 1  # the whole burst went to the log in one write
        assert log.scroll_y == log.max_scroll_y  # follows the end


# ---- language ----


async def test_japanese_texts() -> None:
    app = ConsoleApp(lang="ja")
    async with app.run_test() as pilot:
        console = console_of(app)
        assert app.query_one(Input).placeholder == "コマンドを入力（例: kubectl get pods）"
        console.running = True
        await pilot.pause()
        assert "実行中… Ctrl+C で中断" in str(console.query_one(".console--state", Label).render())
        console.lang = "en"
        assert app.query_one(Input).placeholder == "kubectl get pods"


# ---- snapshots ----


async def fill_for_snapshot(pilot: Pilot[None], lang: str) -> None:
    """Output of a few commands, then a half-typed command (en) or a running watch (ja)."""
    console = pilot.app.query_one(Console)
    console.set_suggestions([SET_IMAGE])
    await pilot.press(*"kubectl get pods", "enter")
    console.write("NAME                   READY   STATUS    RESTARTS   AGE\n")
    console.write("web-7d4b9c8f6d-2xkqz   1/1     Running   0          2m\n")
    console.write("web-7d4b9c8f6d-9ztlm   1/1     \x1b[32mRunning\x1b[0m   0          2m\n")
    console.finish(0)
    await pilot.press(*"kubectl rollout status deploy/wbe", "enter")
    console.write('Error from server (NotFound): deployments.apps "wbe" not found\n')
    console.finish(1)
    if lang == "en":
        console.notice("Step 1 passed: the deployment has 2 ready pods")
        await pilot.press(*"kubectl set i")
        await pilot.app.workers.wait_for_complete()
    else:
        console.notice("ステップ 1 完了：Deployment の Pod が 2 つ Ready になりました")
        await pilot.press(*"kubectl get pods -w", "enter")
        console.running = True
        console.write("web-5f8c7b9d4-qq7rx   0/1     ContainerCreating   0          1s\n")
    await pilot.pause()


def test_snapshot_console_en(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await fill_for_snapshot(pilot, "en")

    assert snap_compare(ConsoleApp("en"), terminal_size=(80, 12), run_before=run_before)


def test_snapshot_console_ja(snap_compare) -> None:
    async def run_before(pilot: Pilot[None]) -> None:
        await fill_for_snapshot(pilot, "ja")

    assert snap_compare(ConsoleApp("ja"), terminal_size=(80, 12), run_before=run_before)
