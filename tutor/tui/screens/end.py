"""Provides EndScreen: the lesson's end: each step with its time, the commands that mattered and what they
showed, and what to do next (replay, clean up)."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tutor import paths
from tutor.lesson import Lesson, Step
from tutor.lesson.checks import build_context, evaluate
from tutor.lesson.progress import Progress
from tutor.tui.text import localize_bindings, t
from tutor.tui.timeline import Timeline

MAX_COMMANDS = 6
"""The most commands the recap shows for one step (the last ones that mattered)."""


@dataclass(frozen=True)
class Ran:
    """A command of the recap: what the learner typed and the last line it printed."""

    line: str
    shown: str


@dataclass(frozen=True)
class StepRecap:
    """One step of the recap."""

    number: int
    title: str
    passed: bool
    seconds: int | None
    """From arriving at the step to its passing (None when it did not pass, or a time is missing)."""
    commands: tuple[Ran, ...]


def _time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        return None


def _seconds(start: str | None, end: str | None) -> int | None:
    begun, done = _time(start), _time(end)
    if begun is None or done is None:
        return None
    return max(0, int((done - begun).total_seconds()))


def duration(seconds: int, lang: str) -> str:
    """``1 min 05 s`` (``end.minutes``), ``12 s`` under a minute (``end.seconds``); hours count as minutes."""
    minutes, rest = divmod(seconds, 60)
    if minutes:
        return t("end.minutes", lang, minutes=minutes, seconds=f"{rest:02d}")
    return t("end.seconds", lang, seconds=rest)


_WORD_BREAK = re.compile(r"[=/$:'\"({]")


def signature(line: str) -> tuple[str, ...]:
    """What a command does, without its arguments: its first words, up to the first that names something
    (``kubectl set image``, ``kubectl rollout undo``, ``curl``, ``export``)."""
    try:
        words = shlex.split(line)
    except ValueError:
        words = line.split()
    kept: list[str] = []
    for word in words[:3]:
        if _WORD_BREAK.search(word) or word.startswith("-"):
            break
        kept.append(word)
    return tuple(kept)


def _history_check_holds(step: Step, line: str) -> bool:
    """Whether the line alone satisfies one of the step's checks that read the learner's commands (evaluated
    on an empty cluster, so a check that also needs objects does not count)."""
    context = build_context({}, history=[line], step_history=[line])
    return any("history" in check.cel and evaluate(check, context).passed for check in step.checks)


def commands_that_mattered(step: Step, ran: Iterable[dict[str, Any]]) -> tuple[Ran, ...]:
    """The step's commands worth recalling: those that succeeded and do what one of the solution's commands
    does, or satisfy one of the step's checks on the commands run (looking at the events). The latest run of
    each line, in the order they were run; at most :data:`MAX_COMMANDS`."""
    wanted = {signature(command) for command in step.solution} - {()}
    latest: dict[str, Ran] = {}
    for record in ran:
        line = " ".join(str(record.get("line", "")).split())
        if not line or record.get("exit") != 0:
            continue
        if signature(line) in wanted or _history_check_holds(step, line):
            latest.pop(line, None)  # re-insert: the order is the last run's
            latest[line] = Ran(line, str(record.get("shown") or ""))
    return tuple(latest.values())[-MAX_COMMANDS:]


def recap(lesson: Lesson, progress: Progress, lang: str) -> list[StepRecap]:
    """Every step of the lesson, as the recap shows it."""
    steps = []
    for number, step in enumerate(lesson.steps, 1):
        entry = progress.steps.get(step.id)
        passed = entry is not None and entry.passed
        seconds = _seconds(entry.started_at, entry.passed_at) if entry is not None and passed else None
        ran = commands_that_mattered(step, entry.commands if entry is not None else ())
        steps.append(StepRecap(number, step.title.get(lang), passed, seconds, ran))
    return steps


def total_seconds(lesson: Lesson, progress: Progress) -> int | None:
    """From arriving at the first step to the last step passing."""
    first = progress.steps.get(lesson.steps[0].id)
    last = progress.steps.get(lesson.steps[-1].id)
    if first is None or last is None:
        return None
    return _seconds(first.started_at, last.passed_at)


def state_flag(state: Path | None) -> str:
    """`` --state-dir DIR`` when the state directory is not the default one, else nothing."""
    if state is None:
        return ""
    try:
        default = paths.state_dir()
    except Exception:  # noqa: BLE001 - no default to compare with: name the one in use
        default = None
    if default is not None and Path(state).resolve() == Path(default).resolve():
        return ""
    return f" --state-dir {shlex.quote(str(state))}"


EndChoice = Lesson | str | None
"""What the learner chose on the end screen: the next lesson, ``"lessons"`` (the picker), or None (back)."""


class EndScreen(ModalScreen[EndChoice]):
    """Over the lesson once its last step passed (and when a finished lesson is opened again): the recap.

    Esc, Enter or q go back to the lesson; N opens the next lesson of the course, L the lesson picker; Ctrl+Q
    quits.
    """

    DEFAULT_CSS: ClassVar[str] = """
    EndScreen { align: center middle; }
    EndScreen > Vertical { width: 100%; max-width: 100; height: auto; max-height: 100%;
        border: round $success; background: $surface; padding: 0 1; }
    EndScreen #end-scroll { height: auto; }
    EndScreen .end--title { text-style: bold; color: $success; }
    EndScreen .end--lesson { text-style: bold; }
    EndScreen .end--heading { text-style: bold; margin-top: 1; }
    EndScreen .end--keys { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Back to the lesson"),
                Binding("n", "next_lesson", "Next lesson", show=False),
                Binding("l", "lessons", "Lessons", show=False),
                Binding("t", "timeline", "Timeline", show=False)]

    def __init__(self, lesson: Lesson, progress: Progress, lang: str, *, state: Path | None = None,
                 next_lesson: Lesson | None = None, course: bool = False, timeline: Timeline | None = None) -> None:
        """Args:
            next_lesson: the lesson after this one in the course (N opens it).
            course: there is a course to pick from (L opens the lesson picker).
            timeline: the lesson's rollout timeline (T opens it); by default the one recorded beside the progress.
        """
        super().__init__()
        localize_bindings(self, lang)
        self.next_lesson = next_lesson
        self.course = course
        self.lesson = lesson
        self.progress = progress
        self.lang = lang
        self.state = state
        self.steps = recap(lesson, progress, lang)
        self.timeline = timeline if timeline is not None else Timeline.load(
            Timeline.file_beside(progress.path), images=(*lesson.images, *lesson.absent_images))

    def compose(self) -> ComposeResult:
        lang = self.lang
        title = self.lesson.title.get(lang)
        total = total_seconds(self.lesson, self.progress)
        finished = all(step.passed for step in self.steps)
        if not finished:
            heading = t("end.title_unfinished", lang)
        elif total is None:
            heading = t("end.title", lang)
        else:
            heading = t("end.title_time", lang, time=duration(total, lang))
        with Vertical():
            yield Static(Text(heading), classes="end--title")
            yield Static(Text(title, overflow="ellipsis", no_wrap=True), classes="end--lesson")
            with VerticalScroll(id="end-scroll"):  # the steps scroll; what next and the keys always show
                yield Static(t("end.steps", lang), classes="end--heading")
                yield Static(self.step_table(), id="end-steps")
                summary = self.timeline_summary()
                if summary is not None:  # a lesson without a rollout has no timeline to offer
                    yield Static(t("timeline.title", lang), classes="end--heading")
                    yield Static(summary, id="end-timeline")
            yield Static(t("end.next", lang), classes="end--heading")
            yield Static(self.next_table(), id="end-next")
            yield Static(t("end.keys", lang), classes="end--keys")

    def on_mount(self) -> None:
        self._fit()

    def action_next_lesson(self) -> None:
        if self.next_lesson is not None:
            self.dismiss(self.next_lesson)

    def action_lessons(self) -> None:
        if self.course:
            self.dismiss("lessons")

    def action_timeline(self) -> None:
        """T: the lesson's rollout timeline, the whole lesson (Esc comes back here)."""
        from tutor.tui.screens.timeline import TimelineScreen

        self.app.push_screen(TimelineScreen(self.timeline, self.lang, title=self.lesson.title.get(self.lang)))

    def timeline_summary(self) -> Text | None:
        """The bounds the rollouts kept (most pods, fewest available, while more than one revision had pods), and
        the key to the timeline; None when no rollout was recorded."""
        updating = [sample for sample in self.timeline.samples if sample.updating]
        if not updating:
            return None
        said = t("timeline.summary", self.lang, most=max(s.total for s in updating),
                 max=max(s.max_pods for s in updating), fewest=min(s.available for s in updating),
                 min=min(s.min_available for s in updating))
        return Text.assemble(said, "\n", (t("timeline.end_key", self.lang), "bold"))

    def on_resize(self) -> None:
        self._fit()

    def _fit(self) -> None:
        """The steps get the rows the title, what next and the keys leave (borders and margins included)."""
        fixed = 2 + 2 + 1 + 1 + 4 + 2  # border, title and lesson, heading margin, heading, two commands, keys
        fixed += 2 * ((self.next_lesson is not None) + self.course)  # and what N and L open
        for scroll in self.query("#end-scroll"):  # none yet on a resize before the screen is composed
            scroll.styles.max_height = max(4, self.size.height - fixed)

    def step_table(self) -> RenderableType:
        grid = Table.grid(padding=(0, 1, 0, 0), expand=True)
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        grid.add_column(no_wrap=True, justify="right")
        for step in self.steps:
            mark = Text("✓", style="bold green") if step.passed else Text("○", style="bold yellow")
            time = duration(step.seconds, self.lang) if step.seconds is not None else (
                "" if step.passed else t("end.not_passed", self.lang))
            grid.add_row(Text.assemble(mark, f" {step.number}."), Text(step.title, style="bold"),
                         Text(time, style="dim"))
            for ran in step.commands:
                lines: list[RenderableType] = [Text(f"$ {ran.line}")]
                if ran.shown:
                    lines.append(Text(f"→ {ran.shown}", style="dim"))
                grid.add_row("", Group(*lines), "")
        return grid

    def next_table(self) -> RenderableType:
        """Each command on its line, what it does under it (a state directory's path can be long)."""
        flag = state_flag(self.state)
        lines: list[RenderableType] = []
        if self.next_lesson is not None:
            lines.append(Text(t("end.next_key", self.lang), style="bold"))
            lines.append(Text("  " + t("end.next_lesson", self.lang, title=self.next_lesson.title.get(self.lang)),
                              style="dim"))
        if self.course:
            lines.append(Text(t("end.lessons_key", self.lang), style="bold"))
            lines.append(Text("  " + t("end.lessons", self.lang), style="dim"))
        for command, does in ((f"kube-tutor reset {self.lesson.id}{flag}", "end.reset"),
                              (f"kube-tutor cluster down{flag}", "end.down")):
            lines.append(Text(command, style="bold"))
            lines.append(Text("  " + t(does, self.lang), style="dim"))
        return Group(*lines)

    def plain(self) -> str:
        """The recap's steps as plain text (for tests and screen readers)."""
        lines = []
        for step in self.steps:
            lines.append(f"{'✓' if step.passed else '○'} {step.number}. {step.title}")
            lines += [f"  $ {ran.line}" + (f"\n    → {ran.shown}" if ran.shown else "") for ran in step.commands]
        return "\n".join(lines)

