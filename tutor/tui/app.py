"""Provides TutorApp: the kube-tutor TUI (a backend and a lesson are injected; the app never picks them)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.screen import Screen

from tutor.backends import lifecycle
from tutor.backends.base import Backend
from tutor.lesson import Lesson, Text
from tutor.lesson.progress import LessonStatus, Progress, lesson_status, resume_choice
from tutor.lesson.runtime import LessonRuntime, backend_env
from tutor.tui.screens.end import EndChoice
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.screens.start import StartScreen
from tutor.tui.screens.too_small import MIN_SIZE, TooSmallScreen
from tutor.tui.text import localize_bindings, localize_command, start_failure, t
from tutor.workshop.seat import WorkshopSeat

HANGUP_SIGNALS = (signal.SIGHUP, signal.SIGTERM)


class TutorApp(App[None]):
    """Starts the backend (StartScreen), then runs the lesson (LessonScreen)."""

    CSS_PATH = Path(__file__).parent / "tutor.tcss"
    TITLE = "kube-tutor"
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, lesson: Lesson, backend: Backend, state: Path, *, lang: str = "en",
                 cwd: Path | None = None, runtime: LessonRuntime | None = None,
                 choices: list[Lesson] | None = None, course: Text | None = None,
                 make_runtime: Callable[[Lesson], LessonRuntime] | None = None, named: bool = False,
                 workshop: WorkshopSeat | None = None) -> None:
        """Args:
            runtime: an already built runtime (tests inject a fake); by default one is made for the backend.
            choices: the lessons of the course, in order. With several, the picker opens first when the learner
                has no progress in any of them; else ``lesson`` (where the learner resumes) opens at once. The
                end of a lesson offers the next one and the picker.
            course: the course's title (the picker's heading).
            make_runtime: makes the runtime of another lesson of the course (tests: a fake); by default a real one.
            named: the learner named ``lesson`` (``kube-tutor explore-your-app``): it opens at once, never the
                picker first; the course still offers the next lesson at its end and F9's picker.
            workshop: the workshop seat this app is (``--workshop ROOT --seat SEAT``): seat mode reports the
                learner's activity to the instructor and carries out the instructor's resets and messages.
        """
        super().__init__()
        localize_bindings(self, lang)
        self.choices = choices or []
        self.course = course
        self.named = named
        self.make_runtime = make_runtime
        self.lesson = lesson
        self.backend = backend
        self.state = state
        self.lang = lang
        self.cwd = cwd
        self.runtime: LessonRuntime | None = runtime
        self._signals: list[tuple[int, Any]] = []
        self.terminal: tuple[int, int] = (0, 1)
        """The real terminal's (input, output) file descriptors, handed to a console line that runs attached to it
        (``kubectl exec -ti``) while the app is suspended; tests give a pty pair."""
        self.workshop = workshop
        self.lesson_shown = False
        """True once the lesson screen was shown (the CLI then says what quitting left behind)."""

    def statuses(self) -> dict[str, LessonStatus]:
        """The learner's progress in each lesson of the course on this backend, by lesson id."""
        return {lesson.id: lesson_status(Progress.load(self.state, lesson.id, self.backend.name),
                                         [step.id for step in lesson.steps]) for lesson in self.choices}

    def on_mount(self) -> None:
        self._end_on_hangup()
        if (len(self.choices) > 1 and not self.named
                and all(status.updated_at is None for status in self.statuses().values())):
            self.show_picker(closable=False)  # a first start: the course, from its first lesson
        else:
            self.push_screen(StartScreen(self.backend, self.lang, self.open_lesson))

    def show_picker(self, *, closable: bool) -> None:
        """The lesson picker, with each lesson's progress, its cursor on the lesson in use."""
        from tutor.tui.screens.picker import LessonPicker

        statuses = self.statuses()
        ids = [lesson.id for lesson in self.choices]
        highlight = self.lesson.id if closable else resume_choice([statuses[i] for i in ids])
        self.push_screen(LessonPicker(self.choices, self.lang, statuses=statuses, highlight=highlight,
                                      course=self.course.get(self.lang) if self.course else None,
                                      closable=closable), self._picked)

    def _picked(self, lesson: Lesson | None) -> None:
        if lesson is not None and lesson.id == self.lesson.id and isinstance(self.screen, LessonScreen):
            return  # the lesson in use, picked from over it: carry on where it was
        if lesson is not None:
            self.run_worker(self.switch_lesson(lesson), group="switch", exclusive=True)

    def next_lesson(self) -> Lesson | None:
        """The lesson after the one in use, in the course."""
        ids = [lesson.id for lesson in self.choices]
        if self.lesson.id not in ids:
            return None
        index = ids.index(self.lesson.id) + 1
        return self.choices[index] if index < len(self.choices) else None

    def end_choice(self, choice: EndChoice) -> None:
        """The end screen's choice: another lesson (the next one), or the picker."""
        if isinstance(choice, Lesson):
            self.run_worker(self.switch_lesson(choice), group="switch", exclusive=True)
        elif choice == "lessons":
            self.show_picker(closable=True)

    async def switch_lesson(self, lesson: Lesson) -> None:
        """Leave the lesson in use (its runtime stops; its progress is saved) and open another one, from the
        start screen: a first visit builds its start state, a resumed one continues."""
        await self.shutdown()
        self.lesson = lesson
        self.runtime = self.make_runtime(lesson) if self.make_runtime is not None else None
        while len(self.screen_stack) > 1:
            await self.pop_screen()
        await self.push_screen(StartScreen(self.backend, self.lang, self.open_lesson))

    async def open_lesson(self, say: Callable[[str], object] | None = None) -> str | None:
        """Called by StartScreen once the backend is up; returns an error to show, or None."""
        if self.runtime is None and self.make_runtime is not None:
            self.runtime = self.make_runtime(self.lesson)
        if self.runtime is None:
            self.runtime = LessonRuntime(self.lesson, backend_env(self.backend.env()), self.backend.namespace,
                                         cwd=self.cwd)
        progress = Progress.load(self.state, self.lesson.id, self.backend.name)
        first_visit = progress.current is None
        if first_visit:
            # A first visit: put the cluster in the lesson's start state (the intro then says what it is).
            await self.runtime.start()
            if say is not None:
                say(t("setting_up", self.lang))
            outcome = await lifecycle.reach_start_state(self.runtime, self.backend)
            if not outcome.ok:
                return start_failure(outcome, self.lang)
        else:
            # Resuming needs no wait: the screen shows first and starts the watch (LessonScreen.on_mount).
            failure = await lifecycle.reattach(self.backend)
            if failure is not None:
                return failure
        # Switch from the app, not from StartScreen's worker (the switch removes that screen and its workers).
        self.call_later(self.show_lesson, progress, first_visit)
        return None

    def show_lesson(self, progress: Progress, intro: bool = False) -> None:
        assert self.runtime is not None
        self.lesson_shown = True
        notice = self.screen
        small = isinstance(notice, TooSmallScreen)
        if isinstance(notice, TooSmallScreen):  # the notice stays on top: the lesson replaces the start screen
            notice.leave()
        course = len(self.choices) > 1
        self.switch_screen(LessonScreen(self.lesson, self.runtime, progress, backend=self.backend,
                                        lang=self.lang, intro=intro, state=self.state,
                                        next_lesson=self.next_lesson() if course else None,
                                        on_end_choice=self.end_choice if course else None,
                                        workshop=self.workshop))
        if small:
            self.push_screen(TooSmallScreen(self.lang, MIN_SIZE))

    def on_resize(self, event: events.Resize) -> None:
        """Below 80x24 the lesson does not fit: say so over whatever screen is up, until the terminal grows."""
        small = event.size.width < MIN_SIZE[0] or event.size.height < MIN_SIZE[1]
        if small and not isinstance(self.screen, TooSmallScreen):
            self.push_screen(TooSmallScreen(self.lang, MIN_SIZE))
        elif not small and isinstance(self.screen, TooSmallScreen):
            self.screen.leave()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's commands of the command palette, in the learner's language."""
        for command in super().get_system_commands(screen):
            yield localize_command(command, self.lang)

    def action_command_palette(self) -> None:
        """Textual's command palette, its search field saying what it is in the learner's language."""
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(CommandPalette(placeholder=t("palette.search", self.lang), id="--command-palette"))

    async def action_quit(self) -> None:
        await self.shutdown()
        self.exit()

    async def shutdown(self) -> None:
        """Stop the watch and the console's processes; progress is saved as it changes."""
        if self.runtime is not None:
            runtime, self.runtime = self.runtime, None
            with contextlib.suppress(Exception):  # quitting must never hang on a cluster that went away
                await asyncio.wait_for(runtime.stop(), 5)

    def _end_on_hangup(self) -> None:
        """A closed terminal (SIGHUP) or a ``kill`` (SIGTERM) ends the app as ``Ctrl+Q`` does, so the console's
        background jobs (``kubectl proxy &``) end with it instead of living on, holding their ports."""
        loop = asyncio.get_running_loop()
        for number in HANGUP_SIGNALS:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):  # not the main thread
                before = signal.getsignal(number)
                loop.add_signal_handler(number, self.exit)
                self._signals.append((number, before))

    async def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for number, before in self._signals:
            loop.remove_signal_handler(number)
            with contextlib.suppress(TypeError, ValueError):
                signal.signal(number, before)  # as it was before the app (None: not set from Python)
        self._signals.clear()
        await self.shutdown()
