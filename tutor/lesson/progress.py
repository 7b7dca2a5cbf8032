"""Provides learner progress per lesson and backend, and what the learner's console held (history, exported
variables), both saved atomically in the state directory (files 0600)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.kube.files import atomic_write

COMMANDS_KEPT = 50
"""How many commands a step keeps (the newest)."""

SHOWN_CHARS = 200
"""How much of a command's last output line a step keeps."""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StepProgress:
    """What the learner has done in one step."""

    started_at: str | None = None
    passed_at: str | None = None
    conditions: list[str] = field(default_factory=list)
    """Ids of the conditions that held at the last evaluation."""
    commands: list[dict[str, Any]] = field(default_factory=list)
    """What the learner ran on this step, oldest first (at most :data:`COMMANDS_KEPT`): each ``line``, ``at`` (when
    it finished), ``exit`` (its exit status) and ``shown`` (the last line it printed, at most :data:`SHOWN_CHARS`
    characters). Forgotten on F5; the step history of the checks and the end screen's recap read it."""
    hints: int = 0
    """How often the learner opened the step's hint (a workshop's dashboard shows it; kept across reloads)."""
    solutions: int = 0
    """How often the learner opened the step's solution."""

    @property
    def passed(self) -> bool:
        return self.passed_at is not None


@dataclass
class Progress:
    """Progress in one lesson on one backend; ``save()`` after every change."""

    path: Path
    lesson: str
    backend: str
    current: str | None = None
    """The step the learner is on (None: the first)."""
    steps: dict[str, StepProgress] = field(default_factory=dict)
    updated_at: str | None = None

    @classmethod
    def file_for(cls, state: Path, lesson: str, backend: str) -> Path:
        return state / "progress" / lesson / f"{backend}.json"

    @classmethod
    def load(cls, state: Path, lesson: str, backend: str) -> Progress:
        """The saved progress, or a fresh one; a damaged file is kept aside as ``.broken``."""
        path = cls.file_for(state, lesson, backend)
        try:
            data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
            steps = {k: StepProgress(**v) for k, v in (data.get("steps") or {}).items()}
            return cls(path, lesson, backend, data.get("current"), steps, data.get("updated_at"))
        except FileNotFoundError:
            return cls(path, lesson, backend)
        except (OSError, ValueError, TypeError):
            path.replace(path.with_suffix(".broken"))
            return cls(path, lesson, backend)

    def step(self, step_id: str) -> StepProgress:
        return self.steps.setdefault(step_id, StepProgress())

    def start(self, step_id: str) -> None:
        self.current = step_id
        entry = self.step(step_id)
        if entry.started_at is None:
            entry.started_at = _now()
        self.save()

    def record(self, step_id: str, conditions: list[str], passed: bool) -> None:
        entry = self.step(step_id)
        entry.conditions = list(conditions)
        if passed and entry.passed_at is None:
            entry.passed_at = _now()
        self.save()

    def ran(self, step_id: str, line: str, exit_code: int, shown: str) -> None:
        """Record a command the learner ran on a step (and what it printed last)."""
        entry = self.step(step_id)
        entry.commands.append({"line": line, "at": _now(), "exit": exit_code, "shown": shown[:SHOWN_CHARS]})
        del entry.commands[:-COMMANDS_KEPT]
        self.save()

    def forget_commands(self, step_id: str) -> None:
        """Forget what the learner ran on a step (F5 puts the step back at its start)."""
        self.step(step_id).commands.clear()
        self.save()

    def opened(self, step_id: str, what: str) -> None:
        """Count an opened hint (``what="hints"``) or solution (``"solutions"``) of a step."""
        entry = self.step(step_id)
        setattr(entry, what, getattr(entry, what) + 1)
        self.save()

    def forget_step(self, step_id: str) -> None:
        """Forget a step's progress (a workshop's instructor resets it): it starts again now, nothing holds, nothing
        was run; the hints and solutions opened stay counted."""
        old = self.step(step_id)
        self.steps[step_id] = StepProgress(started_at=_now(), hints=old.hints, solutions=old.solutions)
        self.save()

    def lines(self, step_id: str) -> list[str]:
        """The command lines run on a step, oldest first."""
        return [str(command.get("line", "")) for command in self.step(step_id).commands]

    def complete(self, step_ids: Iterable[str]) -> bool:
        """Whether every one of these steps (a lesson's) has passed."""
        return all(step_id in self.steps and self.steps[step_id].passed for step_id in step_ids)

    def reset(self) -> None:
        """Forget the lesson's progress, what the console held (the start state is made anew, so a saved
        ``NODE_PORT`` would be stale) and the lesson's rollout timeline."""
        self.current = None
        self.steps.clear()
        self.save()
        ConsoleState.file_beside(self.path).unlink(missing_ok=True)
        self.path.with_name(f"{self.path.stem}.timeline.jsonl").unlink(missing_ok=True)  # tutor.tui.timeline's

    def save(self) -> None:
        self.updated_at = _now()
        data = {"lesson": self.lesson, "backend": self.backend, "current": self.current,
                "updated_at": self.updated_at, "steps": {k: asdict(v) for k, v in self.steps.items()}}
        atomic_write(self.path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


CONSOLE_LIMIT = 1000
"""How many lines of each history a saved console keeps (the newest)."""


@dataclass
class ConsoleState:
    """What the learner's console held in one lesson on one backend: restored when the lesson resumes, so Up
    finds the earlier commands and ``$NODE_PORT`` is still set. Saved beside the progress file
    (``progress/<lesson>/<backend>.console.json``)."""

    path: Path
    """The file it is saved in."""
    history: list[str] = field(default_factory=list)
    """The console's input history (Up and Down), oldest first."""
    commands: list[str] = field(default_factory=list)
    """Every line the shell session ran, oldest first: the ``history`` the lesson's checks read."""
    variables: dict[str, str] = field(default_factory=dict)
    """The variables the learner exported (``{"NODE_PORT": "31234"}``)."""
    runs: list[dict[str, Any]] = field(default_factory=list)
    """The last commands with their exit status and the end of their output (``{"line", "exit", "output"}``):
    the CEL ``commands`` a check reads (step 2 counts the learner's own ``curl`` from it)."""

    @classmethod
    def file_beside(cls, progress_file: Path) -> Path:
        """The console file that belongs to a progress file (``rolling-update/practice.json``)."""
        return progress_file.with_name(f"{progress_file.stem}.console.json")

    @classmethod
    def load(cls, progress: Progress) -> ConsoleState:
        """The saved console of a lesson's progress, or an empty one; a damaged file is kept aside as ``.broken``.

        Args:
            progress: The lesson's progress on its backend.

        Returns:
            The console state (lines that are not strings, and variables that are not string pairs, are dropped).
        """
        path = cls.file_beside(progress.path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except FileNotFoundError:
            return cls(path)
        except (OSError, ValueError):
            path.replace(path.with_suffix(".broken"))
            return cls(path)

        def lines(key: str) -> list[str]:
            value = data.get(key)
            return [line for line in value if isinstance(line, str)] if isinstance(value, list) else []

        variables = data.get("variables")
        runs = data.get("runs")
        return cls(path, lines("history"), lines("commands"),
                   {name: value for name, value in variables.items() if isinstance(value, str)}
                   if isinstance(variables, dict) else {},
                   [run for run in runs if isinstance(run, dict) and isinstance(run.get("line"), str)
                    and isinstance(run.get("exit"), int) and isinstance(run.get("output"), str)]
                   if isinstance(runs, list) else [])

    def save(self) -> None:
        """Write the file atomically (0600), keeping the newest :data:`CONSOLE_LIMIT` lines of each history."""
        data = {"history": self.history[-CONSOLE_LIMIT:], "commands": self.commands[-CONSOLE_LIMIT:],
                "variables": dict(sorted(self.variables.items())), "runs": self.runs, "updated_at": _now()}
        atomic_write(self.path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())


def _stamp(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


@dataclass(frozen=True)
class LessonStatus:
    """How far a learner is in one lesson, as the lesson picker shows it."""

    lesson: str
    state: str
    """``not_started``, ``in_progress`` or ``done``."""
    step: int
    """The step the learner is on, 1-based (0: not started; the last step's number when done)."""
    steps: int
    """How many steps the lesson has."""
    seconds: int
    """Time spent: each step from arriving at it to its passing (the step the learner is on: to the last save)."""
    updated_at: str | None
    """When the progress last changed (None: never)."""


def lesson_status(progress: Progress, step_ids: list[str]) -> LessonStatus:
    """The status of a lesson (its step ids, in order) from its progress."""
    total = len(step_ids)
    seconds = 0
    for step_id in step_ids:
        entry = progress.steps.get(step_id)
        if entry is None:
            continue
        begun = _stamp(entry.started_at)
        ended = _stamp(entry.passed_at) or (_stamp(progress.updated_at) if step_id == progress.current else None)
        if begun is not None and ended is not None:
            seconds += max(0, int((ended - begun).total_seconds()))
    if step_ids and progress.complete(step_ids):
        return LessonStatus(progress.lesson, "done", total, total, seconds, progress.updated_at)
    if progress.current is None and not progress.steps:
        return LessonStatus(progress.lesson, "not_started", 0, total, 0, progress.updated_at)
    step = step_ids.index(progress.current) + 1 if progress.current in step_ids else 1
    return LessonStatus(progress.lesson, "in_progress", step, total, seconds, progress.updated_at)


def resume_choice(statuses: list[LessonStatus]) -> str | None:
    """Where a learner resumes a course (the statuses of its lessons, in order): the lesson last touched when it
    is not done, else the first lesson not done after it (else the first not done at all); when every lesson is
    done, the last one touched. None for an empty course."""
    if not statuses:
        return None
    touched = [status for status in statuses if status.updated_at is not None]
    undone = [status for status in statuses if status.state != "done"]
    if touched:
        last = max(touched, key=lambda status: status.updated_at or "")
        if last.state != "done":
            return last.lesson
        after = statuses[statuses.index(last) + 1:]
        later = next((status for status in after if status.state != "done"), None)
        if later is not None:
            return later.lesson
        return undone[0].lesson if undone else last.lesson
    return undone[0].lesson if undone else statuses[0].lesson
