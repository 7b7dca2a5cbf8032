"""The lesson screen's console as a shell (on the fakes of ``tests.tui.fakes``, no cluster): Tab completes and keeps
the focus, a key typed on a command block lands in the input, interactive programs are refused with a pointer where
the app cannot be suspended (headless, as in a browser), and quitting and resuming keeps the history and the exported variables.

``tests/tui/test_console_practice.py`` does the same with kubectl's own completion against a practice cluster.
"""

from __future__ import annotations

import json
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, RichLog

from tests.tui import pilot as waits
from tests.tui.fakes import NODE_PORT, make_app
from tutor import shell
from tutor.lesson.progress import ConsoleState, Progress
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.text import t
from tutor.tui.widgets.checklist import Checklist
from tutor.tui.widgets.console import Console
from tutor.tui.widgets.step_panel import CommandBlock

DEADLINE = 10.0
"""Seconds a condition may take (the fakes answer at once: this is only a guard)."""

EXPORT = "export NODE_PORT=$(kubectl get services/kubernetes-bootcamp -o go-template='{{(index .spec.ports 0).nodePort}}')"


@pytest.fixture(autouse=True)
def _steady(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cursor blink, no auto-advance."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(LessonScreen, "_tick", lambda self: None)


@pytest.fixture
def kubectl_engine(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """``kubectl __complete`` replaced by canned answers (no kubectl runs on the fakes); records the arguments."""
    asked: list[list[str]] = []
    answers: dict[tuple[str, ...], shell.Completions] = {
        ("get", "dep"): shell.Completions((("deployments.apps", ""),), shell.COMPLETION_NO_FILE),
        ("get", "deployments", "kub"): shell.Completions((("kubernetes-bootcamp", ""),), shell.COMPLETION_NO_FILE),
        ("rollout", ""): shell.Completions((("history", "View rollout history"), ("status", "Show the status"),
                                           ("undo", "Undo a previous rollout")), shell.COMPLETION_NO_FILE),
    }

    async def fake(arguments: Sequence[str], env: Mapping[str, str], *, timeout: float = 5.0) -> shell.Completions:
        asked.append(list(arguments))
        return answers.get(tuple(arguments), shell.Completions((), shell.COMPLETION_NO_FILE))

    monkeypatch.setattr(shell, "kubectl_completions", fake)
    return asked






async def until(pilot: Pilot[Any], condition: Callable[[], object], what: str) -> None:
    await waits.until(pilot, condition, what, detail=lambda: f"console:\n{console_text(pilot)}")


async def lesson_screen(pilot: Pilot[Any]) -> LessonScreen:
    return await waits.lesson_screen(pilot, input_focused=True)



def console_text(pilot: Pilot[Any]) -> str:
    if not isinstance(pilot.app.screen, LessonScreen):
        return ""
    return "\n".join(line.text.rstrip() for line in pilot.app.screen.query_one(Console).query_one(RichLog).lines)


def squeezed(text: str) -> str:
    """Text without blanks and line breaks: a long notice wraps at the console's width (Japanese anywhere)."""
    return "".join(text.split())


def field(pilot: Pilot[Any]) -> Input:
    return pilot.app.screen.query_one(Console).query_one(Input)


async def run_line(pilot: Pilot[Any], screen: LessonScreen, line: str) -> None:
    field(pilot).value = line
    await pilot.press("enter")
    await until(pilot, lambda: not screen.console.running and not any(
        worker.group == "shell" and not worker.is_finished for worker in pilot.app.workers), f"{line!r} to finish")


# ---- Tab ----


async def test_tab_completes_from_the_step_and_from_kubectl_and_never_leaves_the_input(
        tmp_path: Path, kubectl_engine: list[list[str]]) -> None:
    async with make_app("start_state", "en", tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        console_input = field(pilot)
        await pilot.press(*"kubectl set i", "tab")
        await until(pilot, lambda: console_input.value == "kubectl set image ", "the step's word `image`")
        assert pilot.app.focused is console_input
        console_input.value = ""
        await pilot.press(*"kubectl get dep", "tab")  # step: `deployments`; kubectl: `deployments.apps`
        await until(pilot, lambda: console_input.value == "kubectl get deployments", "their common prefix")
        await pilot.press(" ", *"kub", "tab")
        await until(pilot, lambda: console_input.value == "kubectl get deployments kubernetes-bootcamp ",
                    "a name from the cluster")
        assert ["get", "deployments", "kub"] in kubectl_engine
        console_input.value = ""
        await pilot.press(*"kubectl rollout ", "tab")
        await pilot.pause()
        await pilot.press("tab")
        await until(pilot, lambda: "history  View rollout history" in console_text(pilot), "the listing")
        assert "undo     Undo a previous rollout" in console_text(pilot)
        assert pilot.app.focused is console_input
        assert screen.runtime.session.history == []  # completing runs nothing in the learner's session


# ---- keys typed on a command block ----


async def test_a_printable_key_on_a_focused_command_block_lands_in_the_input(tmp_path: Path) -> None:
    async with make_app("start_state", "en", tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        block = screen.query(CommandBlock).first()
        block.focus()
        await pilot.pause()
        assert pilot.app.focused is block
        await pilot.press(*"kubectl get pods")
        await until(pilot, lambda: field(pilot).value == "kubectl get pods", "the keys in the input")
        assert pilot.app.focused is field(pilot)
        block.focus()
        await pilot.press("question_mark", "exclamation_mark")  # printable: typed, not the screen's keys
        await until(pilot, lambda: field(pilot).value == "kubectl get pods?!", "? and ! in the input")
        assert pilot.app.screen is screen  # no help screen, no shell


async def test_enter_on_a_block_runs_it_and_up_recalls_it_ctrl_c_copies_it(tmp_path: Path) -> None:
    async with make_app("start_state", "en", tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        block = next(b for b in screen.query(CommandBlock) if b.command == "kubectl get deployments")
        block.focus()
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert pilot.app.clipboard == "kubectl get deployments"
        assert pilot.app.focused is block
        await pilot.press("enter")
        await until(pilot, lambda: "kubectl get deployments" in screen.runtime.session.history, "the block to run")
        assert pilot.app.focused is field(pilot)
        await until(pilot, lambda: not screen.console.running, "the command to finish")
        await pilot.press("up")
        assert field(pilot).value == "kubectl get deployments"


# ---- interactive programs ----


@pytest.mark.parametrize("lang", ["en", "ja"])
@pytest.mark.parametrize(("line", "kind", "program", "pointer"), [
    ("watch kubectl get pods", "full_screen", "watch", {"en": "kubectl get pods -w", "ja": "kubectl get pods -w"}),
    ("vi notes.txt", "editor", "vi", {"en": "kube-tutor cluster env", "ja": "kube-tutor cluster env"}),
    ("kubectl edit deployment kubernetes-bootcamp", "kubectl_edit", "kubectl edit",
     {"en": "`kubectl set image`", "ja": "`kubectl set image`"}),
    ("kubectl get pods | less", "pager", "less", {"en": "PageUp/PageDown", "ja": "PageUp / PageDown"}),
    ("kubectl exec -it kubernetes-bootcamp-5c69669756-2kq8x -- sh", "tty", "kubectl exec -it",
     {"en": "without -i/-t", "ja": "-i / -t を付けなければ"}),
])
async def test_interactive_programs_are_refused_where_the_app_cannot_suspend_with_a_pointer(
        tmp_path: Path, lang: str, line: str, kind: str, program: str, pointer: dict[str, str]) -> None:
    async with make_app("start_state", lang, tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        await run_line(pilot, screen, line)
        expected = t(f"console.refused_{kind}", lang, program=program)
        assert pointer[lang] in expected
        await until(pilot, lambda: squeezed(expected) in squeezed(console_text(pilot)), "the one-line pointer")
        assert screen.runtime.session.history == []  # nothing ran
        assert screen.console.history == [line]  # but Up finds it, to fix it


async def test_a_command_that_only_looks_interactive_runs(tmp_path: Path) -> None:
    async with make_app("start_state", "en", tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        for line in ("kubectl exec kubernetes-bootcamp-5c69669756-2kq8x -- env", "echo vim less watch"):
            await run_line(pilot, screen, line)
        assert screen.runtime.session.history == ["kubectl exec kubernetes-bootcamp-5c69669756-2kq8x -- env",
                                                  "echo vim less watch"]
        assert "kube-tutor:" not in console_text(pilot)


# ---- quit and resume ----


async def test_resume_restores_history_and_node_port(tmp_path: Path) -> None:
    async with make_app("v2_done", "en", tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        assert screen.step.id == "verify"
        await run_line(pilot, screen, EXPORT)
        await run_line(pilot, screen, "curl localhost:$NODE_PORT")
        await until(pilot, lambda: screen.verdict is not None and "node-port" in screen.verdict.passed_ids,
                    "the NODE_PORT check")
        await pilot.press("ctrl+q")
    saved = ConsoleState.file_beside(Progress.file_for(tmp_path, "rolling-update", "practice"))
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600
    data = json.loads(saved.read_text())
    assert data["variables"] == {"NODE_PORT": str(NODE_PORT)}
    assert data["history"] == [EXPORT, "curl localhost:$NODE_PORT"]

    app = make_app("v2_done", "en", tmp_path)  # a new app and screen on the same state directory
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        assert screen.runtime.session.env["NODE_PORT"] == str(NODE_PORT)
        assert screen.runtime.session.history == [EXPORT, "curl localhost:$NODE_PORT"]
        await until(pilot, lambda: screen.verdict is not None and {"node-port", "curl-v2"} <= set(
            screen.verdict.passed_ids), "step 2's NODE_PORT checks to hold after the resume")
        assert "✓ The variable NODE_PORT holds the Service's NodePort" in screen.query_one(Checklist).plain()
        await pilot.press("up")
        assert field(pilot).value == "curl localhost:$NODE_PORT"
        await pilot.press("up")
        assert field(pilot).value == EXPORT
        await run_line(pilot, screen, "echo NODE_PORT=$NODE_PORT")
        await until(pilot, lambda: f"NODE_PORT={NODE_PORT}" in console_text(pilot), "$NODE_PORT in the console")
        await pilot.press("ctrl+q")


async def test_reset_forgets_the_saved_console(tmp_path: Path) -> None:
    async with make_app("v2_done", "en", tmp_path).run_test(size=(120, 40)) as pilot:
        screen = await lesson_screen(pilot)
        await run_line(pilot, screen, EXPORT)
        await pilot.press("ctrl+q")
    progress = Progress.load(tmp_path, "rolling-update", "practice")
    saved = ConsoleState.file_beside(progress.path)
    assert saved.exists()
    progress.reset()  # `kube-tutor reset`: the start state is made again, with a new NodePort
    assert not saved.exists()
    assert ConsoleState.load(progress).variables == {}


async def test_a_first_visit_does_not_restore_an_old_console(tmp_path: Path) -> None:
    progress = Progress.load(tmp_path, "rolling-update", "practice")
    ConsoleState(ConsoleState.file_beside(progress.path), ["kubectl get pods"], ["kubectl get pods"],
                 {"NODE_PORT": "1"}).save()
    app = make_app("start_state", "en", tmp_path)
    progress = Progress.load(tmp_path, "rolling-update", "practice")
    progress.current = None  # the lesson starts afresh: setup runs, the Service gets a new NodePort
    progress.save()
    async with app.run_test(size=(120, 40)) as pilot:
        from tutor.tui.screens.intro import IntroScreen

        await until(pilot, lambda: isinstance(app.screen, IntroScreen), "the intro of a first visit")
        await pilot.press("space")
        screen = await lesson_screen(pilot)
        assert "NODE_PORT" not in screen.runtime.session.env
        assert screen.console.history == []
        await pilot.press("ctrl+q")


def test_a_damaged_console_file_is_kept_aside(tmp_path: Path) -> None:
    progress = Progress.load(tmp_path, "rolling-update", "practice")
    path = ConsoleState.file_beside(progress.path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    assert ConsoleState.load(progress).history == []
    assert path.with_suffix(".broken").read_text() == "{not json"
    path.write_text(json.dumps({"history": ["a", 3], "commands": "x", "variables": {"A": "1", "B": 2}}))
    loaded = ConsoleState.load(progress)
    assert (loaded.history, loaded.commands, loaded.variables) == (["a"], [], {"A": "1"})
