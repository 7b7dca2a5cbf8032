"""Provides learner progress per lesson and backend, saved atomically in the state directory."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.kube.files import atomic_write


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class StepProgress:
    """What the learner has done in one step."""

    started_at: str | None = None
    passed_at: str | None = None
    conditions: list[str] = field(default_factory=list)
    """Ids of the conditions that held at the last evaluation."""

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

    def reset(self) -> None:
        self.current = None
        self.steps.clear()
        self.save()

    def save(self) -> None:
        self.updated_at = _now()
        data = {"lesson": self.lesson, "backend": self.backend, "current": self.current,
                "updated_at": self.updated_at, "steps": {k: asdict(v) for k, v in self.steps.items()}}
        atomic_write(self.path, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode())
