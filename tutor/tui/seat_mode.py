"""Provides SeatMode: what the lesson screen does as one seat of a workshop (``TutorApp(workshop=WorkshopSeat(...))``).

It reports the seat's activity to the instructor (``activity.json``, written whenever it changes: the step, the
checks, a command, a hint or solution opened, the cluster panel), shows the instructor's broadcasts, and carries out
the instructor's resets (``control.json``), polled every :data:`POLL_SECONDS`.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from tutor.workshop.seat import (
    COMMAND_CHARS,
    COMMANDS_SHOWN,
    Activity,
    Broadcast,
    CommandLine,
    Control,
    WorkshopSeat,
    now_iso,
    read_activity_file,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from tutor.lesson import Lesson
    from tutor.lesson.checks import StepVerdict
    from tutor.lesson.progress import Progress

POLL_SECONDS = 1.0
"""Seconds between two looks at the instructor's files (a reset or a message shows within this)."""
CLUSTER_LINES = 12
"""How many lines of the cluster panel the instructor sees."""


class LessonView(Protocol):
    """What seat mode reads of the lesson screen."""

    lesson: Lesson
    progress: Progress
    index: int
    lang: str
    verdict: StepVerdict | None

    def cluster_lines(self) -> list[str]:
        """The cluster panel's lines as plain text."""
        ...


class SeatMode:
    """The workshop side of one lesson screen: the screen calls :meth:`report` after each change, :meth:`ran` after
    each command, and :meth:`poll` on a timer."""

    def __init__(self, seat: WorkshopSeat, *, clock: Callable[[], datetime] | None = None) -> None:
        self.seat = seat
        self.clock = clock or (lambda: datetime.now(UTC))
        previous = read_activity_file(seat.activity_path)
        self._commands: list[CommandLine] = list(previous.commands) if previous else []
        """The last commands, kept over steps and reloads (the previous activity.json seeds them)."""
        self._previous = previous
        self._mark: tuple[str, str, int] | None = None
        """(lesson, step, checks holding) at the last report: progress is a new step or more checks holding."""
        self._progress_at: str | None = None
        self.write_error: str | None = None
        """Why activity.json could not be written last time (None: it was)."""

    def ran(self, line: str, code: int) -> None:
        """A command finished in the console."""
        self._commands.append(CommandLine(line[:COMMAND_CHARS], now_iso(self.clock()), code))
        del self._commands[:-COMMANDS_SHOWN]

    def activity(self, screen: LessonView) -> Activity:
        """The seat's activity as the lesson screen shows it now."""
        lesson, progress = screen.lesson, screen.progress
        step = lesson.steps[screen.index]
        verdict = screen.verdict
        passing = len(verdict.passed_ids) if verdict is not None else 0
        entry = progress.step(step.id)
        mark = (lesson.id, step.id, passing)
        if self._mark is None:  # the first report of this run: a reload on the same step made no progress since
            same = self._previous is not None and (self._previous.lesson, self._previous.step_id) == mark[:2]
            self._progress_at = (self._previous.progress_at if same and self._previous else None) \
                or now_iso(self.clock())
        elif mark[:2] != self._mark[:2] or passing > self._mark[2]:
            self._progress_at = now_iso(self.clock())
        self._mark = mark
        last = self._commands[-1] if self._commands else None
        cluster = [line.rstrip() for line in screen.cluster_lines()][:CLUSTER_LINES]
        return Activity(
            lesson=lesson.id, lesson_title=lesson.title.get(screen.lang), step=screen.index + 1,
            steps=len(lesson.steps), step_id=step.id, checks_passing=passing, checks_total=len(step.checks),
            step_started_at=entry.started_at, progress_at=self._progress_at,
            hints=sum(s.hints for s in progress.steps.values()),
            solutions=sum(s.solutions for s in progress.steps.values()),
            last_command=last.line if last else None, last_command_at=last.at if last else None,
            last_exit=last.exit if last else None,
            finished=progress.complete(s.id for s in lesson.steps), cluster=cluster,
            commands=[replace(command) for command in self._commands])

    def report(self, screen: LessonView) -> bool:
        """Write activity.json when the seat's activity changed.

        Returns:
            False when it could not be written (:attr:`write_error` says why; the lesson goes on regardless).
        """
        try:
            self.seat.write_activity(self.activity(screen), now=self.clock())
        except OSError as error:
            self.write_error = str(error.strerror or error)
            return False
        self.write_error = None
        return True

    def poll(self) -> tuple[Control | None, Broadcast | None]:
        """The instructor's new action for this seat and new message, each None when there is none."""
        try:
            return self.seat.read_control(), self.seat.read_broadcast()
        except OSError:
            return None, None  # seen.json could not be written: try again at the next poll
