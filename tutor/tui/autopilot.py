"""Provides DemoApp and Autopilot: ``kube-tutor demo``, the lesson played by itself for an audience.

The autopilot plays :func:`tutor.lesson.demo.plan_step`'s beats on the lesson screen, through the same paths a
learner's keys take: each command typed into the console's input one character at a time (at a human speed,
jittered) and submitted as Enter submits it, so the console, the checks and the recap see a learner. It waits for
the command to finish and for the step's checks to pass (each with a deadline), and stops where the lesson marks a
narration point (``say``/``pause``, docs/lesson-format.md) and at every step's beginning, until the presenter presses
Space or Enter. Typing anything takes the keyboard over (the autopilot stops typing; the key goes to the console);
F12 hands it back (and takes it over without typing). ``--no-pause`` stops nowhere.

Keys reach the autopilot before anything else: Textual's ``App.on_event`` receives every key from the driver before
forwarding it to the focused widget (textual/app.py, ``App.on_event``: ``_check_bindings(priority=True)``, then
``forward_target._forward_event``), so :meth:`DemoApp.on_event` sees the presenter's keys, and the autopilot's own
typing (which posts no key events) never counts as the presenter's.

``--record FILE.cast``: Textual writes every frame through its driver's ``write`` (``App._display`` calls
``self._driver.write(terminal_sequence)``; the driver class comes from ``App.get_driver_class``), so DemoApp's driver
is the platform's own with ``write`` also handing the data to a :class:`tutor.cast.CastWriter`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import events
from textual.widgets import Input, Static

from tutor.lesson.demo import DEFAULT_CPS, Beat, plan_step, typing_delays
from tutor.lesson.progress import Progress
from tutor.tui.app import TutorApp
from tutor.tui.screens.end import EndScreen
from tutor.tui.screens.intro import IntroScreen
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.text import t

if TYPE_CHECKING:
    from textual.driver import Driver

    from tutor.cast import CastWriter
    from tutor.lesson.model import Step

__all__ = ["HANDBACK_KEY", "Autopilot", "DemoApp", "Narration"]

HANDBACK_KEY = "f12"
"""Takes the keyboard from the autopilot, and hands it back."""
TYPING_KEYS = frozenset({"backspace", "delete", "enter", "tab", "up", "down", "left", "right", "home", "end",
                         "ctrl+c", "ctrl+u", "ctrl+w", "ctrl+a", "ctrl+e", "ctrl+k"})
"""Keys that, besides printable ones, mean the presenter is typing in the console."""
POLL = 0.1
"""Seconds between two looks at a condition the autopilot waits for (always with a deadline)."""
SOLUTION_AFTER = 15.0
"""Seconds (of the cluster's clock) a step may take to pass after its commands before the autopilot types its
solution."""
COMMAND_DEADLINE = 120.0
"""Seconds a typed command may run before the autopilot stops it (Ctrl+C) and goes on."""


class _TakenOver(Exception):
    """The presenter took the keyboard in the middle of a beat."""


class Narration(Static):
    """The presenter's words and the autopilot's state, above the lesson screen."""

    DEFAULT_CSS = """
    Narration {
        dock: top;
        height: auto;
        max-height: 6;
        padding: 0 1;
        background: $primary-darken-2;
        color: $text;
    }
    """


class Autopilot:
    """Plays the lesson in the app's screens; its :meth:`on_key` is given every key first."""

    def __init__(self, app: DemoApp, *, pause: bool = True, cps: float = DEFAULT_CPS, hold: float = 3.0,
                 loop: bool = False, rng: random.Random | None = None) -> None:
        """Args:
            pause: stop at step beginnings and narration points until Space/Enter (False: ``--no-pause``).
            cps: the mean typing speed, characters a second.
            hold: seconds a text or a passed step stays before going on where the autopilot does not stop.
            loop: after the last lesson's end screen, start again from the first (a kiosk); else under
                ``--no-pause`` the demo ends (the app exits) after the end screen.
            rng: the typing jitter's source.
        """
        self.app = app
        self.pause = pause
        self.cps = cps
        self.hold = hold
        self.loop = loop
        self.rng = rng or random.Random()  # noqa: S311 - pacing, not security
        self.mode = "playing"
        """``playing``, ``waiting`` (at a stop, for Space/Enter), ``presenter`` (taken over) or ``done``."""
        self.stops = 0
        """How many times the autopilot has stopped for the presenter (tests count boundaries)."""
        self._release = asyncio.Event()
        self._handback = asyncio.Event()
        self._said = ""
        self._ended: set[str] = set()
        self.finished: list[str] = []
        """The lessons whose end screen the autopilot has reached, in order (tests, a kiosk's count)."""

    # ---- the presenter's keys ----------------------------------------------------------------------
    def on_key(self, event: events.Key) -> bool:
        """Look at a key before the app does; True when the autopilot consumed it."""
        if self.mode == "done":
            return False
        if event.key == HANDBACK_KEY:
            if self.mode == "presenter":
                self.hand_back()
            else:
                self.take_over()
            return True
        if self.mode == "waiting" and event.key in ("space", "enter") and isinstance(self.app.screen, LessonScreen):
            self._release.set()
            return True
        if (self.mode in ("playing", "waiting") and isinstance(self.app.screen, LessonScreen)
                and (event.is_printable or event.key in TYPING_KEYS)):
            self.take_over()
        return False

    def take_over(self) -> None:
        """The presenter has the keyboard: the autopilot stops where it is (a stop counts as gone on)."""
        self.mode = "presenter"
        self._release.set()
        self._show()

    def hand_back(self) -> None:
        """The autopilot goes on from the beat it was in (a command the presenter ran meanwhile is not typed again)."""
        self.mode = "playing"
        self._handback.set()
        self._show()

    # ---- the narration bar ---------------------------------------------------------------------------
    def _show(self, said: str | None = None) -> None:
        if said is not None:
            self._said = said
        screen = self.app.screen
        if not isinstance(screen, LessonScreen):
            return
        lang = self.app.lang
        state = {"playing": t("demo.playing", lang) + " · " + t("demo.take_over", lang, handback="F12"),
                 "waiting": t("demo.waiting", lang),
                 "presenter": t("demo.presenter", lang, handback="F12"),
                 "done": t("demo.done", lang)}[self.mode]
        step = screen.step
        head = t("demo.step", lang, n=screen.index + 1, total=len(screen.lesson.steps), title=step.title.get(lang))
        text = f"[b]{state}[/b] · {head}"
        if self._said:
            text += "\n[b]" + self._said.replace("[", r"\[") + "[/b]"
        found = screen.query(Narration)
        if found:
            found.first().update(text)
        else:
            screen.mount(Narration(text, id="narration"))

    # ---- waiting ----------------------------------------------------------------------------------------
    async def _gate(self) -> None:
        """Wait while the presenter has the keyboard."""
        while self.mode == "presenter":
            self._handback.clear()
            await self._handback.wait()

    async def _until(self, condition: Callable[[], object], deadline: float) -> bool:
        """Poll ``condition`` until it holds (True) or ``deadline`` seconds pass (False).

        Raises:
            _TakenOver: the presenter took the keyboard meanwhile.
        """
        loop = asyncio.get_running_loop()
        end = loop.time() + deadline
        while not condition():
            if self.mode == "presenter":
                raise _TakenOver
            if loop.time() > end:
                return False
            await asyncio.sleep(POLL)  # a poll with a deadline (noqa: sleep-ok)
        return True

    async def _stop(self, said: str, *, stop: bool) -> None:
        """Show ``said``; with ``stop`` (and pausing) wait for Space/Enter, else let it be read for ``hold`` s."""
        if self.mode == "presenter":
            return
        self._show(said)
        if stop and self.pause:
            self.stops += 1
            self._release.clear()
            self.mode = "waiting"
            self._show()
            await self._release.wait()
            if self.mode == "waiting":
                self.mode = "playing"
            self._show()
        elif self.hold > 0 and said:
            await asyncio.sleep(self.hold)  # the audience reads it (noqa: sleep-ok)

    # ---- playing -------------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Play until the demo ends (or forever with ``loop``)."""
        while self.mode != "done":
            await self._gate()
            screen = self.app.screen

            def gone(shown: object = screen) -> bool:
                return self.app.screen is not shown

            if isinstance(screen, IntroScreen):
                await self._past_intro(screen)
                await self._until(gone, 3600)
            elif isinstance(screen, EndScreen):
                await self._at_the_end(screen)
            elif isinstance(screen, LessonScreen) and screen.verdict is not None:
                if screen.progress.complete(step.id for step in screen.lesson.steps):
                    if screen.lesson.id not in self._ended:
                        screen.action_recap()
                    await self._until(gone, 3600)
                    continue
                try:
                    await self.play_step(screen, screen.index)
                except _TakenOver:
                    continue
            else:  # the start screen, the help, the events view: wait for the lesson
                await asyncio.sleep(POLL)  # (noqa: sleep-ok)

    async def _past_intro(self, intro: IntroScreen) -> None:
        """The lesson's introduction: under ``--no-pause`` read for ``2 * hold`` s, then closed; else the presenter's
        key closes it (any key: the introduction's own)."""
        if not self.pause:
            await asyncio.sleep(self.hold * 2)  # the audience reads the introduction (noqa: sleep-ok)
            # Closed once it is the active screen (it may not be yet, under load), and once only: a key may be
            # closing it already (a second dismiss would pop the lesson under it).
            while intro in self.app.screen_stack:
                if self.app.screen is intro and intro.leave():
                    break
                await asyncio.sleep(POLL)  # (noqa: sleep-ok)

    async def _lesson_on_top(self, screen: LessonScreen) -> None:
        """Wait while a screen is over the lesson (the introduction, F1, F8), or until the lesson screen is gone."""
        while self.app.screen is not screen and screen in self.app.screen_stack:
            top = self.app.screen
            if isinstance(top, IntroScreen):
                await self._past_intro(top)
            await self._until(lambda top=top: self.app.screen is not top, 24 * 3600)  # type: ignore[misc]

    async def play_step(self, screen: LessonScreen, index: int) -> None:
        """Play one step's beats, then move on to the next step (or to the end screen after the last)."""
        step = screen.lesson.steps[index]
        lang = self.app.lang
        beats = plan_step(step)
        position = 0
        ran_before: dict[int, int] = {}
        while position < len(beats):
            await self._gate()
            # A screen over the lesson (the introduction, F1, F8): wait until it is gone.
            await self._lesson_on_top(screen)
            if self.app.screen is not screen or screen.index != index:
                return  # the presenter went elsewhere: start from where they are
            beat = beats[position]
            try:
                if beat.kind == "say":
                    if position == 0 and self.app.recorder is not None:
                        self.app.recorder.marker(f"{index + 1}. {step.title.get(lang)}")
                    await self._stop(beat.say.get(lang) if beat.say else "", stop=beat.stop)
                elif beat.kind == "type":
                    ran_before.setdefault(position, screen.progress.lines(step.id).count(beat.line))
                    await self._type(screen, step, beat, ran_before[position])
                else:
                    await self._checks(screen, step, index)
            except _TakenOver:
                continue
            position += 1
        if index == len(screen.lesson.steps) - 1:
            await self._stop(t("demo.to_the_end", lang), stop=True)
            await self._gate()
            self._ended.add(screen.lesson.id)
            self._show("")
            screen.action_recap()
            await self._until(lambda: isinstance(self.app.screen, EndScreen), 30)
        else:
            if self.hold > 0:
                await asyncio.sleep(self.hold)  # the "passed" banner is read (noqa: sleep-ok)
            await self._gate()
            if screen.index == index and self.app.screen is screen:
                self._show("")
                await screen.go(index + 1)

    async def _type(self, screen: LessonScreen, step: Step, beat: Beat, ran_before: int) -> None:
        """Type ``beat.line`` into the console, submit it and wait for it to finish."""
        console = screen.console
        if screen.progress.lines(step.id).count(beat.line) > ran_before:
            return  # the presenter ran it while they had the keyboard
        await self._until(lambda: not console.running, COMMAND_DEADLINE)
        field = console.query_one(Input)
        field.value = ""
        console.focus_input()
        for char, delay in zip(beat.line, typing_delays(beat.line, self.cps, self.rng), strict=True):
            await asyncio.sleep(delay)  # a person's typing (noqa: sleep-ok)
            if self.mode == "presenter":
                raise _TakenOver
            console.type_text(char)
        before = len(screen.progress.lines(step.id))
        await field.action_submit()
        if not await self._until(lambda: len(screen.progress.lines(step.id)) > before and not console.running,
                                 COMMAND_DEADLINE):
            console.notice(t("demo.command_late", self.app.lang, seconds=f"{COMMAND_DEADLINE:g}", line=beat.line),
                           severity="error")
            console.interrupt()
            await self._until(lambda: not console.running, 10)

    async def _checks(self, screen: LessonScreen, step: Step, index: int) -> None:
        """Wait for the step to pass (its ``timeout``, longer on a slowed-down cluster)."""
        scale = float(getattr(self.app.backend, "time_scale", 1.0) or 1.0)
        deadline = step.timeout / min(scale, 1.0)
        if await self._until(lambda: screen.progress.step(step.id).passed, min(deadline, SOLUTION_AFTER / scale)):
            return
        for line in step.solution:  # what the text typed did not do it (a curl before the rollout ended): as verify
            ran = screen.progress.lines(step.id).count(line)
            await self._type(screen, step, Beat("type", line=line), ran)
        if await self._until(lambda: screen.progress.step(step.id).passed, deadline):
            return
        screen.console.notice(t("demo.checks_late", self.app.lang, seconds=f"{deadline:g}", n=index + 1,
                                handback="F12"), severity="error")
        if self.pause:
            self.take_over()
            raise _TakenOver

    async def _at_the_end(self, screen: EndScreen) -> None:
        """The end screen: under ``--no-pause`` on to the next lesson of a course, around again with ``loop``, or
        the end of the demo; when pausing, the presenter chooses there."""
        self.finished.append(self.app.lesson.id)
        if self.pause:
            await self._until(lambda: self.app.screen is not screen, 24 * 3600)
            return
        if self.hold > 0:
            await asyncio.sleep(self.hold * 2)  # the audience reads the summary (noqa: sleep-ok)
        following = self.app.next_lesson() if self.app.choices else None
        if following is not None and self.app.course_demo:
            self.app.end_choice(following)
        elif self.loop:
            first = self.app.choices[0] if self.app.course_demo and self.app.choices else self.app.lesson
            for lesson in (self.app.choices if self.app.course_demo else [self.app.lesson]):
                Progress.load(self.app.state, lesson.id, self.app.backend.name).reset()
            self._ended.clear()
            self.app.run_worker(self.app.switch_lesson(first), group="switch", exclusive=True)
        else:
            self.mode = "done"
            await self.app.action_quit()
            return
        await self._until(lambda: self.app.screen is not screen, 60)


def _recording_driver(base: type[Driver], recorder: CastWriter) -> type[Driver]:
    """The platform's driver class, its ``write`` also recording what it writes."""
    def write(self: Driver, data: str) -> None:
        recorder.output(data)
        base.write(self, data)

    return type(f"Recording{base.__name__}", (base,), {"write": write})


class DemoApp(TutorApp):
    """The TUI with an :class:`Autopilot` playing it (``kube-tutor demo``)."""

    def __init__(self, *args: Any, pause: bool = True, cps: float = DEFAULT_CPS, hold: float = 3.0,
                 loop: bool = False, recorder: CastWriter | None = None, course_demo: bool = False,
                 rng: random.Random | None = None, **kwargs: Any) -> None:
        """Args and keywords as :class:`TutorApp`, and:
            pause, cps, hold, loop, rng: the :class:`Autopilot`'s.
            recorder: where to record what the terminal shows (``--record``), or None.
            course_demo: play every lesson of the course in turn (``--course``).
        """
        self.recorder = recorder  # before TutorApp: App.__init__ asks get_driver_class
        self.course_demo = course_demo
        super().__init__(*args, **kwargs)
        self.autopilot = Autopilot(self, pause=pause, cps=cps, hold=hold, loop=loop, rng=rng)

    def get_driver_class(self) -> type[Driver]:
        base = super().get_driver_class()
        return base if self.recorder is None else _recording_driver(base, self.recorder)

    # Textual calls the ``on_mount``/``on_resize`` of every class of the MRO (MessagePump._get_dispatch_methods):
    # TutorApp's run too, so these do not call super().
    def on_mount(self) -> None:
        self.run_worker(self.autopilot.run(), group="autopilot", exit_on_error=False)

    async def on_event(self, event: events.Event) -> None:
        if (isinstance(event, events.Key) and not event.is_forwarded and self.autopilot.on_key(event)):
            return
        await super().on_event(event)

    def on_resize(self, event: events.Resize) -> None:
        if self.recorder is not None:
            self.recorder.resize(event.size.width, event.size.height)



def terminal_size() -> tuple[int, int]:
    """The terminal's size now (columns, rows), for a recording's header."""
    import shutil

    size = shutil.get_terminal_size()
    return size.columns, size.lines
