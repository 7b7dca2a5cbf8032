"""Provides LessonScreen: step text, console, live checklist and cluster panel (the coordinator)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from tutor import paths, shell
from tutor.backends import lifecycle
from tutor.lesson.checks import StepMonitor, StepVerdict
from tutor.lesson.progress import ConsoleState
from tutor.tui.clock import CLOCK_POLL, clock_badge, read_clock, toggle_clock
from tutor.tui.prose import Prose, banner_prose, markdown, text_block
from tutor.tui.screens.end import EndChoice, EndScreen
from tutor.tui.screens.help import HelpScreen
from tutor.tui.screens.intro import IntroScreen
from tutor.tui.seat_mode import POLL_SECONDS, SeatMode
from tutor.tui.text import localize_bindings, start_failure, t
from tutor.tui.timeline import Timeline
from tutor.tui.widgets.checklist import Checklist
from tutor.tui.widgets.cluster_panel import ClusterPanel
from tutor.tui.widgets.console import Console, raw_words
from tutor.tui.widgets.step_panel import CommandBlock, StepPanel

if TYPE_CHECKING:
    from pathlib import Path

    from textual.widget import Widget

    from tutor.backends.base import Backend, ClockState
    from tutor.lesson import Lesson, Step
    from tutor.lesson.progress import Progress
    from tutor.lesson.runtime import LessonRuntime
    from tutor.workshop.seat import Broadcast, Control, WorkshopSeat

ADVANCE_SECONDS = 5
"""Seconds between a step passing and the next step (counted only while no command runs in the console)."""
SHORT_HEIGHT = 30
"""Below this many rows the checklist starts folded to one line (F4 unfolds it) and the layout tightens."""
NARROW_WIDTH = 110
"""Below this many columns the outline is hidden and the cluster panel narrower."""
STORAGE_POLL = 5.0
"""Seconds between two questions to the backend whether the cluster still saves changes."""
BROADCAST_SECONDS = 120
"""Seconds a workshop instructor's message stays at the top of the lesson screen (the console keeps it)."""


_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_TELLING = (re.compile(r"not found", re.IGNORECASE), re.compile(r"\b(error|failed)\b", re.IGNORECASE))
"""What makes an output line worth recalling, most telling first: why something failed, then that it did."""
GIST_CHARS = 160
"""The longest gist; a longer line keeps its beginning and its end (where kubectl says why)."""
ATTACHED_SHOWN = 8192
"""Characters of a container session's transcript (``kubectl exec -ti``) written into the console when it ends."""


class OutputTail:
    """The end of a command's output: enough to say what it showed (the recap's "→ ..." line)."""

    def __init__(self, keep: int = 8192) -> None:
        self.keep = keep
        self.text = ""

    def add(self, chunk: str) -> None:
        self.text = (self.text + chunk)[-self.keep:]

    def gist(self) -> str:
        """The line that tells most: the last that says why something failed (``not found``), else the last
        that says it failed, else the last line; without colours, blanks squeezed, at most :data:`GIST_CHARS`."""
        lines = [" ".join(line.split()) for line in _ANSI.sub("", self.text).splitlines()]
        lines = [line for line in lines if line]
        if not lines:
            return ""
        chosen = lines[-1]
        for telling in _TELLING:
            found = [line for line in lines if telling.search(line)]
            if found:
                chosen = found[-1]
                break
        if len(chosen) > GIST_CHARS:
            half = (GIST_CHARS - 3) // 2
            chosen = f"{chosen[:half]} … {chosen[-half:]}"
        return chosen


class LessonScreen(Screen[None]):
    """Coordinates the lesson: widgets post messages up, this screen runs workers and sets attributes down."""

    BINDINGS = [
        Binding("ctrl+n", "next_step", "Next"),
        Binding("ctrl+b", "previous_step", "Back"),
        Binding("f2", "hint", "Hint"),
        Binding("f3", "solution", "Solution"),
        Binding("f5", "reset_step", "Reset step"),
        Binding("f4", "toggle_checklist", "Checks", show=False),
        Binding("f6", "toggle_console", "Console", show=False),
        Binding("f7", "intro", "Intro", show=False),
        Binding("ctrl+up", "scroll_lesson(-3)", "Scroll up", show=False),
        Binding("ctrl+down", "scroll_lesson(3)", "Scroll down", show=False),
        Binding("f8", "events", "Events", show=False),
        Binding("f9", "lessons", "Lessons", show=False),
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("exclamation_mark", "shell", "Shell", show=False),
        Binding("escape", "stay", "Stay", show=False),
        Binding("ctrl+r", "restart_cluster", "Restart cluster", show=False),
        Binding("f10", "pause_clock", "Pause clock", show=False),
        Binding("ctrl+t", "timeline", "Timeline", show=False),
    ]

    def __init__(self, lesson: Lesson, runtime: LessonRuntime, progress: Progress, *, backend: Backend,
                 lang: str, intro: bool = False, state: Path | None = None, next_lesson: Lesson | None = None,
                 on_end_choice: Callable[[EndChoice], object] | None = None,
                 workshop: WorkshopSeat | None = None) -> None:
        """Args:
            intro: show the lesson's introduction first (a first visit).
            state: the state directory in use (the end screen names it in the commands it suggests).
            next_lesson: the next lesson of the course (the end screen offers it).
            on_end_choice: what to do with the end screen's choice of another lesson or the picker (None: the end
                screen offers neither).
            workshop: the workshop seat this lesson runs in (seat mode: :mod:`tutor.tui.seat_mode`), or None.
        """
        super().__init__()
        self.next_lesson = next_lesson
        self.on_end_choice = on_end_choice
        localize_bindings(self, lang)
        self.lesson = lesson
        self.runtime = runtime
        self.progress = progress
        self.backend = backend
        self.lang = lang
        self.index = 0
        if progress.current:
            with contextlib.suppress(KeyError):
                self.index = lesson.index(progress.current)
        self.verdict: StepVerdict | None = None
        self.monitor: StepMonitor | None = None
        self._advance: Timer | None = None
        self._countdown = 0
        self._cluster_error: str | None = None
        self._storage_error = ""
        """Why the cluster does not save changes (``Backend.storage_failure``); empty while it saves."""
        self._hint_shown = False
        self._solution_shown = False
        self._intro = intro
        self.state = state
        self._checklist_folded: bool | None = None
        """The learner's choice with F4 (None: folded on a short terminal, unfolded on a tall one)."""
        self._to_the_end = False
        """The countdown after the last step leads to the end screen, not to a next step."""
        self._resumed = progress.current is not None
        """The lesson resumes (no setup ran): what the console held last time comes back."""
        self.seat_mode: SeatMode | None = None
        """Seat mode (a workshop seat): reports to the instructor, acts on their resets, shows their messages."""
        if workshop is not None:
            self.seat_mode = SeatMode(workshop)
        self._pending_control: Control | None = None
        """An instructor's reset that waits for the running command to stop."""
        self._control_cancelled = False
        self._broadcast_timer: Timer | None = None
        self.timeline = Timeline.load(Timeline.file_beside(progress.path),
                                      images=(*lesson.images, *lesson.absent_images))
        """The lesson's rollout timeline (Ctrl+T, the end screen): recorded from the cluster watch, kept on a resume."""
        if not self._resumed:
            self.timeline.clear()  # the lesson starts again from its start state: so does its timeline

    # ---- layout --------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static("", id="status")
        yield Static("", id="broadcast")
        with Horizontal(id="main"):
            yield Static("", id="outline")
            with VerticalScroll(id="lesson"):
                # What is still missing comes first; the explanation follows.
                yield Static("", id="banner")
                yield Checklist(self.lang, id="checklist")
                yield StepPanel(id="step")
                yield Static("", id="hint")
                yield Vertical(id="solution")
            yield ClusterPanel(lang=self.lang, id="cluster", images=(*self.lesson.images, *self.lesson.absent_images))
        yield Console(lang=self.lang, id="console")
        yield Footer()

    @property
    def step(self) -> Step:
        return self.lesson.steps[self.index]

    @property
    def console(self) -> Console:
        return self.query_one(Console)

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """Small terminals (80x24) hide the outline, shrink the side panes and fold the checklist to one line."""
        self.set_class(self.size.width < NARROW_WIDTH, "-narrow")
        self.set_class(self.size.height < SHORT_HEIGHT, "-short")
        folded = self._checklist_folded
        self.query_one(Checklist).fold(self.size.height < SHORT_HEIGHT if folded is None else folded)

    async def on_mount(self) -> None:
        self._fit()
        self.query_one("#banner").display = False
        self.query_one("#broadcast").display = False
        self.query_one("#hint").display = False
        self.query_one("#solution").display = False
        self.console.notice(t("welcome", self.lang))
        if self._resumed:
            self.restore_console()
        self.console.focus_input()
        self.console.border_title = t("console_maximize", self.lang)
        await self.show_step()
        # Start watching once the screen has been drawn: six kubectl processes compete for the CPU.
        self.call_after_refresh(self.watch_cluster)
        self.call_after_refresh(self.watch_storage)
        self.call_after_refresh(self.watch_clock)
        if self.progress.complete(step.id for step in self.lesson.steps):
            self.call_after_refresh(self.action_recap)  # a finished lesson reopens on its recap
        elif self._intro:
            self.call_after_refresh(self.action_intro)
        if self.seat_mode is not None:
            self.set_interval(POLL_SECONDS, self.workshop_poll)
            self.call_after_refresh(self.workshop_poll)

    # ---- steps ---------------------------------------------------------------------------------
    async def show_step(self) -> None:
        step = self.step
        self._cancel_advance()
        self.verdict = None
        title = f"{self.index + 1}. {step.title.get(self.lang)}"
        await self.query_one(StepPanel).show(title, step.text.get(self.lang), step.commands, lang=self.lang)
        self.query_one(Checklist).show(None, expect_failure=step.expect == "failure")
        self.runtime.begin_step(self.progress.lines(step.id))  # what the learner ran here before counts
        self.query_one("#banner").display = False
        self._hint_shown = self._solution_shown = False
        self.query_one("#hint").display = False
        solution = self.query_one("#solution", Vertical)
        await solution.remove_children()
        solution.display = False
        self.console.set_suggestions(list(dict.fromkeys([*step.commands, *step.solution])))
        self.query_one("#lesson", VerticalScroll).scroll_home(animate=False)
        self.progress.start(step.id)
        self.refresh_chrome()
        self.monitor_step()
        self.report()

    def refresh_chrome(self) -> None:
        """The status bar and the outline."""
        n, total = self.index + 1, len(self.lesson.steps)
        if self._cluster_error is not None:
            dot, health = "[red]●[/]", t("unreachable", self.lang)
        elif self._storage_error:
            dot, health = "[red]●[/]", f"[b]{t('not_saving', self.lang)}[/b]"
        else:
            dot, health = "[green]●[/]", t("connected", self.lang)
        scale = float(getattr(self.backend, "time_scale", 1.0) or 1.0)
        if scale != 1.0:
            health += " · [b yellow]" + t("time_scale", self.lang, scale=f"{scale:g}") + "[/]"
        health += clock_badge(self._clock, self.lang)
        self.set_class(self._cluster_error is not None, "-disconnected")
        # Most important first: a narrow terminal cuts the end (the lesson title), never the step.
        self.query_one("#status", Static).update(
            f"[b]{t('step_of', self.lang, n=n, total=total)}[/b] · {self.backend.name} {dot} {health} · "
            f"kube-tutor · {self.lesson.title.get(self.lang)}"
            + (f" · {self.seat_mode.seat.seat}" if self.seat_mode is not None else ""))
        # A grid: a title that wraps continues under itself, not under its mark (a hanging indent).
        steps = Table.grid(padding=(0, 1, 0, 0))
        steps.add_column(no_wrap=True)
        steps.add_column(overflow="fold")
        for i, step in enumerate(self.lesson.steps):
            passed = self.progress.step(step.id).passed
            mark = "✓" if passed else ("▶" if i == self.index else "·")
            style = "bold" if i == self.index else ("green" if passed else "dim")
            steps.add_row(Text(f"{mark} {i + 1}.", style=style), Text(step.title.get(self.lang), style=style))
        self.query_one("#outline", Static).update(Group(Text(t("outline", self.lang), style="bold"), steps))

    @work(exclusive=True, group="checks", exit_on_error=False)
    async def monitor_step(self) -> None:
        step = self.step
        await self.runtime.watch.wait_synced(15)
        event = self.runtime.watch.subscribe()
        self.monitor = StepMonitor(step.id, step.checks, event, self.runtime.context, self.apply_verdict,
                                   run_probe=self.runtime.run_probe)
        try:
            await self.monitor.run()
        finally:
            self.runtime.watch.unsubscribe(event)

    def apply_verdict(self, verdict: StepVerdict) -> None:
        if verdict.step_id != self.step.id:
            return
        first_pass = verdict.passed and not self.progress.step(verdict.step_id).passed
        self.verdict = verdict
        self.query_one(Checklist).show(verdict, expect_failure=self.step.expect == "failure")
        self.progress.record(verdict.step_id, verdict.passed_ids, verdict.passed)
        if first_pass:
            self.step_passed()
        self.refresh_chrome()
        self.report()

    def step_passed(self) -> None:
        """Say so; then, gently, move on: never from a deliberate failure (its point is looking at it), never
        while a command runs, never when the lesson turned it off."""
        step = self.step
        said = step.passed.get(self.lang) if step.passed else ""
        last = self.index == len(self.lesson.steps) - 1
        self.console.notice(t("passed", self.lang) + (f" {said}" if said else ""))
        self.query_one("#lesson", VerticalScroll).scroll_home(animate=False)
        self._to_the_end = last
        if last:
            self.refresh_chrome()
            if not self.lesson.auto_advance:
                self._say_passed(t("lesson_done", self.lang) + " " + t("recap_key", self.lang))
                return
        elif step.expect == "failure":
            self._say_passed(t("failure_stays", self.lang))
            return
        elif not self.lesson.auto_advance:
            self._say_passed(t("advance_off", self.lang))
            return
        self._countdown = ADVANCE_SECONDS
        self._say_countdown()
        self._advance = self.set_interval(1, self._tick)

    def _say_passed(self, then: str) -> None:
        """The banner: passed, the step's own words, then what happens next."""
        banner = self.query_one("#banner", Static)
        said = self.step.passed.get(self.lang) if self.step.passed else ""
        banner.update(banner_prose(t("passed", self.lang), said, then))
        banner.display = True

    def _say_countdown(self) -> None:
        if self.console.running:
            then = t("next_after_command", self.lang)
        elif self._to_the_end:
            then = t("lesson_done", self.lang) + " " + t("recap_in", self.lang, seconds=self._countdown)
        else:
            then = t("next_in", self.lang, seconds=self._countdown)
        self._say_passed(then)

    def _tick(self) -> None:
        if self.console.running:
            # Never interrupt a command: count again from the start once it has finished.
            self._countdown = ADVANCE_SECONDS
        else:
            self._countdown -= 1
        if self._countdown <= 0:
            self._cancel_advance()
            if self._to_the_end:
                self._say_passed(t("lesson_done", self.lang) + " " + t("recap_key", self.lang))
                self.action_recap()
            else:
                self.run_worker(self.go(self.index + 1), group="navigate", exclusive=True)
            return
        self._say_countdown()

    def _cancel_advance(self) -> None:
        if self._advance is not None:
            self._advance.stop()
            self._advance = None

    async def go(self, index: int) -> None:
        if not 0 <= index < len(self.lesson.steps) or index == self.index:
            return
        self.index = index
        await self.show_step()

    # ---- actions ------------------------------------------------------------------------------
    async def action_next_step(self) -> None:
        if self.index >= len(self.lesson.steps) - 1:
            if self.progress.complete(step.id for step in self.lesson.steps):
                self.action_recap()  # after the last step comes the end
            else:
                self.notify(t("last_step", self.lang))
            return
        if not self.progress.step(self.step.id).passed:
            # Skipping is allowed, and said: the next step's checks read a cluster that is not where it starts.
            self.console.notice(t("skipped", self.lang, n=self.index + 1, title=self.step.title.get(self.lang),
                                  next=self.index + 2), severity="error")
        await self.go(self.index + 1)

    async def action_previous_step(self) -> None:
        if self.index == 0:
            self.notify(t("first_step", self.lang))
            return
        await self.go(self.index - 1)

    def action_stay(self) -> None:
        if self._advance is not None:
            self._cancel_advance()
            self._say_passed(t("recap_key", self.lang) if self._to_the_end else t("stay", self.lang))

    def _reveal(self, widget: Widget) -> None:
        """Scroll the lesson pane to a box that has just been shown: after the next refresh, once it has a
        place in the layout (scrolling in the same tick scrolls to where it was: nowhere)."""
        pane = self.query_one("#lesson", VerticalScroll)
        self.call_after_refresh(pane.scroll_to_widget, widget, animate=False, top=True)

    async def action_hint(self) -> None:
        hint = self.query_one("#hint", Static)
        self._hint_shown = not self._hint_shown
        if self._hint_shown:
            hint.update(markdown(f"**{t('hint', self.lang)}**: {self.step.hint.get(self.lang)}"))
        hint.display = self._hint_shown
        if self._hint_shown:
            self._reveal(hint)
            self.progress.opened(self.step.id, "hints")
            self.report()

    async def action_solution(self) -> None:
        box = self.query_one("#solution", Vertical)
        self._solution_shown = not self._solution_shown
        await box.remove_children()
        if self._solution_shown:
            await box.mount_all([Static(Prose([text_block(t("solution", self.lang), style="bold")])),
                                 *(CommandBlock(c) for c in self.step.solution)])
        box.display = self._solution_shown
        if self._solution_shown:
            self._reveal(box)
            self.progress.opened(self.step.id, "solutions")
            self.report()

    def action_toggle_checklist(self) -> None:
        """F4: the whole checklist, or its one-line summary."""
        checklist = self.query_one(Checklist)
        self._checklist_folded = not checklist.folded
        checklist.fold(self._checklist_folded)
        if not self._checklist_folded:
            self._reveal(checklist)

    def action_scroll_lesson(self, lines: int) -> None:
        """Ctrl+↑/↓: scroll the lesson text without leaving the console."""
        self.query_one("#lesson", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_toggle_console(self) -> None:
        """F6: the console takes the whole screen (status bar and keys stay), or goes back."""
        big = not self.has_class("-console-max")
        self.set_class(big, "-console-max")
        self.console.border_title = t("console_restore" if big else "console_maximize", self.lang)
        self.console.focus_input()

    def action_intro(self) -> None:
        """F7: the lesson's introduction (what it is about, where it starts, its steps)."""
        if not isinstance(self.app.screen, IntroScreen):
            self.app.push_screen(IntroScreen(self.lesson, self.lang, on_typed=self.console.type_text))

    def action_recap(self) -> None:
        """The end screen: each step with its time and the commands that mattered."""
        if not isinstance(self.app.screen, EndScreen):
            self.app.push_screen(EndScreen(self.lesson, self.progress, self.lang, state=self.state,
                                           next_lesson=self.next_lesson if self.on_end_choice else None,
                                           course=self.on_end_choice is not None), self._end_choice)

    def _end_choice(self, choice: EndChoice) -> None:
        """The end screen closed: back to the lesson, or on to the lesson (or the picker) chosen there."""
        if choice is not None and self.on_end_choice is not None:
            self.on_end_choice(choice)

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(self.lang))

    def action_lessons(self) -> None:
        """F9: the course's lesson picker over this lesson (Esc comes back; a lesson course only)."""
        if self.on_end_choice is not None:
            self.on_end_choice("lessons")

    def action_events(self) -> None:
        """The lesson's warnings, newest first, each explained (tutor.tui.screens.events)."""
        from tutor.tui.screens.events import EventsScreen

        self.app.push_screen(EventsScreen(self.runtime.watch, self.lang,
                                          lesson_images=(*self.lesson.images, *self.lesson.absent_images),
                                          time_scale=float(getattr(self.backend, "time_scale", 1.0) or 1.0)))

    def action_timeline(self) -> None:
        """Ctrl+T: the rollout timeline of the lesson so far (tutor.tui.screens.timeline)."""
        from tutor.tui.screens.timeline import TimelineScreen

        if not isinstance(self.app.screen, TimelineScreen):
            self.app.push_screen(TimelineScreen(self.timeline, self.lang, title=self.lesson.title.get(self.lang)))

    def action_shell(self) -> None:
        self.open_shell()

    def action_reset_step(self) -> None:
        if self._cluster_error is not None:  # every setup command would fail the same way: say it once
            self.console.notice(t("cluster.down_reset", self.lang), severity="error")
            return
        self.reset_step()

    def action_restart_cluster(self) -> None:
        self.restart_cluster()

    @work(exclusive=True, group="restart", exit_on_error=False)
    async def restart_cluster(self) -> None:
        """Ctrl+R: ``backend.up()`` (reuses a cluster that answers; starts a stopped one; says what it did)."""
        from tutor.backends.base import BackendError

        console = self.console
        console.notice(t("cluster.restarting", self.lang))

        def say(line: str) -> None:
            self.app.call_from_thread(console.notice, line)

        try:
            await asyncio.to_thread(self.backend.up, say)
        except BackendError as error:
            console.notice(t("cluster.restart_failed", self.lang, error=error), severity="error")
            return
        console.notice(t("cluster.running", self.lang))
        self.refresh_chrome()

    # ---- the console --------------------------------------------------------------------------
    @on(Console.Submitted)
    def on_console_submitted(self, event: Console.Submitted) -> None:
        self.submit(event.line, echoed=True)

    @on(CommandBlock.Run)
    def on_command_run(self, event: CommandBlock.Run) -> None:
        self.console.remember(event.command)
        self.submit(event.command, echoed=False)
        self.console.focus_input()

    @on(CommandBlock.Copy)
    def on_command_copy(self, event: CommandBlock.Copy) -> None:
        if self.console.running:  # Ctrl+C stops a running command wherever the focus is
            self.console.interrupt()
            return
        self.app.copy_to_clipboard(event.command)
        self.notify(t("copied", self.lang, command=event.command))

    @on(CommandBlock.Typed)
    def on_command_typed(self, event: CommandBlock.Typed) -> None:
        """A key typed on a command block goes to the console, as if typed there."""
        self.console.type_text(event.text)

    @on(Console.CancelRequested)
    def on_console_cancel(self) -> None:
        self.runtime.session.cancel()

    def submit(self, line: str, *, echoed: bool) -> None:
        if self.console.running:
            self.console.notice(t("busy", self.lang), severity="error")
            return
        stripped = line.strip()
        if stripped == "clear":
            self.console.clear()
            self.save_console()
            return
        if stripped == "!":
            self.save_console()
            self.open_shell()
            return
        self.timeline.command(stripped, self.step.id)
        if not echoed:
            self.console.write(f"\x1b[1m$ {line}\x1b[0m\n")
        if (found := shell.interactive_program(line)) is not None and shell.check_command(line) is None:
            if not self.run_attached(line, found):  # no terminal to give it here (a browser, a test)
                self.console.notice(t(f"console.refused_{found.kind}", self.lang, program=found.program),
                                    severity="error")
                self.save_console()
            return
        self.run_command(line)

    def run_attached(self, line: str, found: shell.Interactive) -> bool:
        """Run a line that needs a terminal (``kubectl exec -ti POD -- bash``, ``vi``, ``watch``) in the real
        terminal, as ``!`` runs the learner's shell: the TUI is suspended until the program ends, the line runs on a
        pty of its own (:meth:`tutor.shell.Session.run_attached`), and what it showed is recorded for the checks.
        Blocks the event loop meanwhile. Afterwards the console says how it ended and the checks run again.

        Returns:
            False, with nothing run, where the app cannot be suspended (textual-serve in a browser, a headless test).
        """
        session = self.runtime.session
        terminal: tuple[int, int] = getattr(self.app, "terminal", (0, 1))
        step_id = self.step.id
        tail = OutputTail()
        notices: list[str] = []
        code = 1
        self.save_console()
        try:
            with self.app.suspend():
                try:  # nothing may escape: suspend() resumes the app only when its body returns
                    os.write(terminal[1], f"{t('console.attached', self.lang, program=found.program)}\r\n".encode())
                    code = session.run_attached(line, tail.add, terminal=terminal, on_notice=notices.append)
                except (OSError, shell.ShellError) as error:
                    notices.append(f"kube-tutor: {error}")
        except SuspendNotSupported:
            return False
        if found.kind == "tty":  # a container's session: what it said stays readable in the console (not a screen)
            shown = shell.clean_transcript(tail.text)[-ATTACHED_SHOWN:].rstrip("\n")
            if shown:
                self.console.write(shown + "\n")
        for text in notices:
            self.console.notice(text.strip())
        self.console.notice(t("console.attached_done", self.lang, program=found.program, code=code),
                            severity="information" if code == 0 else "error")
        gist = OutputTail()
        gist.add(shell.clean_transcript(tail.text))
        self.progress.ran(step_id, line, code, gist.gist())  # the recap and a resumed step_history
        self.save_console()
        self.ran(line, code)
        if self.monitor is not None:
            self.monitor.poke.set()
        return True

    @work(group="shell", exit_on_error=False)
    async def run_command(self, line: str) -> None:
        console = self.console
        console.running = True
        step_id = self.step.id
        tail = OutputTail()
        code = 1

        def write(text: str) -> None:
            tail.add(text)
            console.write(text)

        try:
            code = await self.runtime.session.run(line, write)
        finally:
            console.finish(code)
            console.running = False
            self.progress.ran(step_id, line, code, tail.gist())  # the recap and a resumed step_history
            self.save_console()
            self.ran(line, code)
            if self.monitor is not None:
                self.monitor.poke.set()

    # ---- the console's history, variables and completion -------------------------------------------------
    def restore_console(self) -> None:
        """Bring back the history (Up) and the exported variables of the last time this lesson ran."""
        saved = ConsoleState.load(self.progress)
        self.console.load_history(saved.history)
        self.runtime.session.restore(saved.variables, saved.commands)
        self.runtime.restore_runs(saved.runs)

    def save_console(self) -> None:
        """Save the history and the exported variables, for the next start of this lesson (quit and resume)."""
        saved = ConsoleState(ConsoleState.file_beside(self.progress.path), self.console.history,
                             list(self.runtime.session.history), self.runtime.session.exported(),
                             self.runtime.saved_runs())
        try:
            saved.save()
        except OSError as error:
            self.console.notice(t("console.not_saved", self.lang, error=error.strerror or error), severity="error")

    @on(Console.CompletionRequested)
    def on_console_completion(self, event: Console.CompletionRequested) -> None:
        self.complete_line(event.line)

    @work(exclusive=True, group="complete", exit_on_error=False)
    async def complete_line(self, line: str) -> None:
        """Complete the word at the end of ``line``: kubectl's own completion engine for kubectl's arguments,
        file names where kubectl (or any other program) takes a file; the console adds the step's words."""
        session = self.runtime.session
        arguments = shell.kubectl_completion_args(line)
        words = raw_words(line)
        candidates: list[tuple[str, str]] = []
        no_space = keep_order = False
        files: list[str] | None = None
        if arguments is not None:
            try:
                found = await shell.kubectl_completions(arguments, session.env)
            except shell.ShellError:
                found = shell.Completions((), shell.COMPLETION_ERROR)
            candidates = list(found.candidates) if found.words else []
            no_space = bool(found.directive & shell.COMPLETION_NO_SPACE)
            keep_order = bool(found.directive & shell.COMPLETION_KEEP_ORDER)
            if not candidates and not found.directive & (shell.COMPLETION_ERROR | shell.COMPLETION_NO_FILE):
                filtered = found.directive & shell.COMPLETION_FILTER_FILE_EXT
                files = shell.path_completions(words[-1][1], session.cwd,
                                               extensions=[value for value, _ in found.candidates] if filtered else [],
                                               directories_only=bool(found.directive & shell.COMPLETION_FILTER_DIRS))
        elif len(words) > 1:  # another program's argument: a file name, as bash completes it
            files = shell.path_completions(words[-1][1], session.cwd)
        if files is not None:
            candidates, no_space = [(name, "") for name in files], False
        self.console.complete(line, candidates, no_space=no_space, keep_order=keep_order)

    def open_shell(self) -> None:
        env = dict(self.runtime.session.env)
        env["PS1"] = "(kube-tutor) \\w $ "
        try:
            with self.app.suspend():
                print("kube-tutor: your shell, with the lesson's KUBECONFIG and kubectl. `exit` returns.")
                shell.interactive([os.environ.get("SHELL") or "/bin/bash"], env=env, cwd=self.runtime.session.cwd)
        except SuspendNotSupported:
            self.console.notice(t("no_suspend", self.lang), severity="error")
            return
        self.console.notice(t("back_from_shell", self.lang))
        if self.monitor is not None:
            self.monitor.poke.set()

    @work(exclusive=True, group="reset", exit_on_error=False)
    async def reset_step(self) -> None:
        console = self.console
        if console.running:
            console.notice(t("busy", self.lang), severity="error")
            return
        console.running = True
        console.notice(t("resetting", self.lang))
        n = self.index + 1
        console.notice(t("reset_undoes", self.lang, n=n) if n == 1 else
                       t("reset_undoes_replays", self.lang, n=n, last=n - 1))
        try:
            outcome = await lifecycle.reach_start_state(self.runtime, self.backend,
                                                        steps_before=self.lesson.steps[: self.index])
            self.progress.forget_commands(self.step.id)
            self.runtime.begin_step()  # what was looked at before F5 looked at another cluster
            if outcome.ok:
                console.notice(t("reset_done", self.lang))
            else:
                console.notice(t("reset_failed", self.lang, error=start_failure(outcome, self.lang)), severity="error")
        finally:
            console.running = False
            if self.monitor is not None:
                self.monitor.poke.set()
            self.report()

    # ---- a workshop seat ---------------------------------------------------------------------------------
    def report(self) -> None:
        """Seat mode: tell the instructor what changed (activity.json is written only when something did)."""
        if self.seat_mode is not None and self.is_mounted:
            failed_before = self.seat_mode.write_error is not None
            if not self.seat_mode.report(self) and not failed_before:
                self.console.notice(t("workshop.not_reported", self.lang, error=self.seat_mode.write_error),
                                    severity="error")

    def cluster_lines(self) -> list[str]:
        """The cluster panel's lines as plain text (seat mode shows them to the instructor)."""
        panels = self.query(ClusterPanel)
        return panels.first().plain_text.splitlines() if panels else []

    def ran(self, line: str, code: int) -> None:
        """Seat mode: a command finished (the instructor sees the last ones)."""
        if self.seat_mode is not None:
            self.seat_mode.ran(line, code)
            self.report()

    def workshop_poll(self) -> None:
        """Seat mode, every second: the instructor's messages and resets, and the cluster panel's changes."""
        if self.seat_mode is None:
            return
        control, message = self.seat_mode.poll()
        if message is not None:
            self.show_broadcast(message)
        if control is not None:
            self._pending_control, self._control_cancelled = control, False
        pending = self._pending_control
        if pending is not None:
            if self.console.running:  # the reset waits for the command; a learner's command is stopped once
                if not self._control_cancelled:
                    self._control_cancelled = True
                    self.runtime.session.cancel()
            else:
                self._pending_control = None
                self.run_worker(self.apply_control(pending), group="workshop", exclusive=True, exit_on_error=False)
        self.report()

    def show_broadcast(self, message: Broadcast) -> None:
        """The instructor's message: at the top of the screen for :data:`BROADCAST_SECONDS`, and in the console."""
        said = t("workshop.broadcast", self.lang, text=message.text)
        banner = self.query_one("#broadcast", Static)
        banner.update(Text(said))  # plain text: the instructor's words are never markup
        banner.display = True
        self.console.notice(said)
        if self._broadcast_timer is not None:
            self._broadcast_timer.stop()
        self._broadcast_timer = self.set_timer(BROADCAST_SECONDS, self.hide_broadcast)

    def hide_broadcast(self) -> None:
        self.query_one("#broadcast").display = False

    async def apply_control(self, control: Control) -> None:
        """The instructor reset this seat: the step (its progress forgotten, the cluster back at its start) or the
        lesson (back to step 1, all progress forgotten, the cluster in the lesson's start state)."""
        while self.app.screen is not self and isinstance(self.app.screen, EndScreen | IntroScreen | HelpScreen):
            await self.app.pop_screen()
        if control.action == "reset-lesson":
            self.console.notice(t("workshop.reset_lesson", self.lang), severity="error")
            self.progress.reset()
            self.index = 0
        else:
            self.console.notice(t("workshop.reset_step", self.lang, n=self.index + 1), severity="error")
            self.progress.forget_step(self.step.id)
        await self.show_step()
        self.reset_step()

    # ---- the cluster --------------------------------------------------------------------------
    @work(exclusive=True, group="storage", exit_on_error=False)
    async def watch_storage(self) -> None:
        """Ask the backend every :data:`STORAGE_POLL` seconds whether the cluster saves changes; say when that
        changes (the status bar, and one line in the console)."""
        while True:
            try:
                reason = await asyncio.to_thread(self.backend.storage_failure)  # it blocks on a request
            except Exception:  # noqa: BLE001 - cannot tell now: keep what was last known
                reason = self._storage_error
            if reason != self._storage_error:
                if reason:
                    self.console.notice(t("storage_failed", self.lang, error=reason), severity="error")
                else:
                    self.console.notice(t("storage_back", self.lang))
                self._storage_error = reason
                self.refresh_chrome()
            await asyncio.sleep(STORAGE_POLL)  # pacing of a poll, not a synchronisation (noqa: sleep-ok)

    @work(exclusive=True, group="cluster", exit_on_error=False)
    async def watch_cluster(self) -> None:
        watch = self.runtime.watch
        await self.runtime.start(sync_timeout=0)  # after the screen is up: kubectl competes for the CPU
        self.run_worker(self.timeline.follow(watch), group="timeline", exclusive=True, exit_on_error=False)
        event = watch.subscribe()
        panel = self.query_one(ClusterPanel)
        try:
            while True:
                panel.update_snapshot(watch.snapshot() if watch.synced else {})
                if watch.error != self._cluster_error:
                    if watch.error and not self._cluster_error:
                        self.console.notice(t("cluster_down", self.lang, error=watch.error), severity="error")
                        state = getattr(self.app, "state", None)
                        command = f"{paths.command(state) if state is not None else 'kube-tutor'} cluster up"
                        self.console.notice(t("cluster.restart_hint", self.lang, command=command))
                    elif self._cluster_error and not watch.error:
                        self.console.notice(t("cluster_back", self.lang))
                    self._cluster_error = watch.error
                    panel.set_error(watch.error)
                    self.refresh_chrome()
                await event.wait()
                event.clear()
                await asyncio.sleep(0.05)  # coalesce bursts of watch events into one repaint
        finally:
            watch.unsubscribe(event)

    # ---- the practice cluster's clock (F10) ----------------------------------------------------
    _clock: ClockState | None = None
    """The cluster's clock as last seen (None: no clock that can be paused, or not known yet)."""
    _clock_toggles = 0
    """F10 presses so far: a look at the clock begun before one is stale."""

    def action_pause_clock(self) -> None:
        """Pause the practice cluster's clock, or resume it; the status bar shows a paused one."""
        self._toggle_clock()

    @work(exclusive=True, group="clock", exit_on_error=False)
    async def _toggle_clock(self) -> None:
        self._clock_toggles += 1
        self._clock, line, failed = await toggle_clock(self.backend, self._clock, self.lang)
        self.console.notice(line, severity="error" if failed else "information")
        self.refresh_chrome()

    @work(exclusive=True, group="clock-watch", exit_on_error=False)
    async def watch_clock(self) -> None:
        """Look at the clock every :data:`~tutor.tui.clock.CLOCK_POLL` seconds (``kube-tutor cluster pause``
        from another terminal shows too); only the practice backend has one."""
        while self.backend.name == "practice":
            toggles = self._clock_toggles
            clock = await read_clock(self.backend)
            if clock != self._clock and toggles == self._clock_toggles:
                self._clock = clock
                self.refresh_chrome()
            await asyncio.sleep(CLOCK_POLL)  # pacing of a poll, not a synchronisation (noqa: sleep-ok)
