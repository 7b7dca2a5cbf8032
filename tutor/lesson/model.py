"""Provides the lesson model: a lesson, its setup, steps, checks and bilingual texts.

Plain frozen dataclasses; :mod:`tutor.lesson.loader` builds them from a lesson file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "CEL_NAMES",
    "CEL_OBJECT_TYPES",
    "CEL_TYPES",
    "LANGUAGES",
    "Check",
    "Lesson",
    "LessonError",
    "Pause",
    "Problem",
    "Setup",
    "Step",
    "Text",
]

LANGUAGES = ("ja", "en")
"""The languages every text is written in, in the order they are listed."""

CEL_TYPES: Mapping[str, str] = MappingProxyType({
    "deployments": "list(dyn)", "replicasets": "list(dyn)", "pods": "list(dyn)", "services": "list(dyn)",
    "endpoints": "list(dyn)", "events": "list(dyn)",
    "deployment": "map(string, dyn)", "replicaset": "map(string, dyn)", "service": "map(string, dyn)",
    "active_pods": "list(dyn)", "vars": "map(string, string)", "history": "list(string)",
    "step_history": "list(string)", "commands": "list(kube_tutor.Command)", "probe": "kube_tutor.Probe",
})
"""The names a check's expressions may use, each with its CEL type as CEL spells it (``kube-tutor lint`` checks
the expressions against them). Kubernetes objects are ``dyn``, as a ValidatingAdmissionPolicy's ``object`` is
(k8s.io/apiserver/pkg/admission/plugin/cel/compile.go); :func:`tutor.lesson.checks.build_context` builds the
values."""

CEL_OBJECT_TYPES: Mapping[str, Mapping[str, str]] = MappingProxyType({
    "kube_tutor.Probe": MappingProxyType({"exit": "int", "output": "string"}),
    "kube_tutor.Command": MappingProxyType({"line": "string", "exit": "int", "output": "string"}),
})
"""The fields of the object types of :data:`CEL_TYPES`: ``probe`` is the probe command's exit code and output;
each of ``commands`` is a command the learner ran, its exit status and the end of its output."""

CEL_NAMES = frozenset(CEL_TYPES)
"""The names a check's expressions may use (``probe`` only in a check that has a ``probe`` command)."""

DEFAULT_SETUP_TIMEOUT = 120.0
"""Seconds ``setup.ready`` may take when the lesson does not say."""

DEFAULT_STEP_TIMEOUT = 60.0
"""Seconds ``verify`` waits for a step's checks when the step does not say."""


NAMESPACE_PLACEHOLDER = "{namespace}"
"""Written in a lesson where a command needs the lesson's namespace by name; see :meth:`Lesson.in_namespace`."""


@dataclass(frozen=True)
class Problem:
    """One problem in a lesson file, printed as ``file:line: path: message``."""

    file: Path
    """The lesson file, as the caller named it (e.g. the relative ``lessons/x.yaml``)."""
    line: int
    """The 1-based line of the offending key or value."""
    path: str
    """Where in the lesson, e.g. ``steps[1].checks[0].cel``; ``(file)`` for the whole file."""
    message: str
    """What is wrong, in the author's words."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


class LessonError(Exception):
    """A lesson file is malformed; ``problems`` lists every problem found, one line each."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        """Every problem found in the file, in the order of their lines."""
        super().__init__("\n".join(str(problem) for problem in self.problems))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.problems,))


@dataclass(frozen=True)
class Text:
    """A text a learner reads, in Japanese and in English (Markdown where the format says so)."""

    ja: str
    """The Japanese text."""
    en: str
    """The English text."""

    def get(self, lang: str) -> str:
        """The text in one language.

        Args:
            lang: ``"ja"`` or ``"en"``.

        Returns:
            The text in that language.

        Raises:
            KeyError: ``lang`` is not one of :data:`LANGUAGES`.
        """
        if lang == "ja":
            return self.ja
        if lang == "en":
            return self.en
        raise KeyError(lang)


@dataclass(frozen=True)
class Check:
    """One condition, a CEL expression over the live objects of the lesson namespace."""

    id: str
    """Unique within its step (or within ``setup.ready``)."""
    cel: str
    """The CEL source; ``true`` when the condition holds."""
    text: Text
    """What the condition requires, in the learner's words."""
    missing: Text | None
    """Shown while the condition does not hold; ``{observed}`` is replaced by the observed value."""
    observed: str | None
    """CEL source whose value explains the current state, or ``None``."""
    probe: str | None
    """A shell command run before evaluating; its result is the CEL variable ``probe``."""
    program: Any = field(compare=False, repr=False)
    """The compiled ``cel`` program of :attr:`cel`."""
    observed_program: Any | None = field(compare=False, repr=False)
    """The compiled ``cel`` program of :attr:`observed`, or ``None``."""


@dataclass(frozen=True)
class Setup:
    """The start state a lesson begins from."""

    text: Text
    """What the start state is, in words."""
    commands: tuple[str, ...]
    """Shell commands that create the start state, run in order (idempotent)."""
    ready: tuple[Check, ...]
    """Conditions that hold once the start state is there (may be empty)."""
    timeout: float
    """Seconds ``ready`` may take."""


@dataclass(frozen=True)
class Pause:
    """A narration point inside a step (``pause: [{after: COMMAND, say: TEXT}]``): a demo's autopilot stops after
    running ``after`` and shows ``say`` until the presenter presses a key."""

    after: str
    """One of the step's commands or solution lines, as written."""
    say: Text | None = None
    """What the presenter says there, or ``None``."""


@dataclass(frozen=True)
class Step:
    """One step of a lesson."""

    id: str
    """Unique within the lesson."""
    title: Text
    """The step's title."""
    text: Text
    """The step's explanation (Markdown)."""
    commands: tuple[str, ...]
    """The suggested commands, in the order the text uses them."""
    checks: tuple[Check, ...]
    """What must hold for the step to pass (at least one)."""
    hint: Text
    """A nudge, revealed on request."""
    solution: tuple[str, ...]
    """Commands that make the checks pass (played by ``verify``)."""
    expect: str
    """``"success"``, or ``"failure"`` for a deliberate failure."""
    passed: Text | None
    """Said when the step passes, or ``None``."""
    timeout: float
    """Seconds ``verify`` waits for the checks after the solution."""
    say: Text | None = None
    """What a presenter says when the step begins in a demo (``say``), shown prominently by the autopilot."""
    pause: bool = True
    """Whether a demo's autopilot stops at the step's beginning until the presenter presses a key (``pause``)."""
    pauses: tuple[Pause, ...] = ()
    """The narration points inside the step, where the autopilot also stops (``pause`` given as a list)."""


@dataclass(frozen=True)
class Lesson:
    """A whole lesson, as loaded from one YAML file."""

    id: str
    """The lesson's id (progress is saved under it)."""
    title: Text
    """Shown in the outline and the lesson picker."""
    description: Text
    """One paragraph: what the learner will do."""
    setup: Setup
    """The start state."""
    steps: tuple[Step, ...]
    """The steps, in order (at least one)."""
    path: Path
    """The file the lesson was loaded from."""
    images: tuple[str, ...] = ()
    """The images the lesson pulls (``images.pull``), as written: a backend may fetch them before the lesson."""
    absent_images: tuple[str, ...] = ()
    """Images the lesson names on purpose although no registry has them (``images.absent``): their pods
    failing to pull is part of the lesson; never fetch them."""
    auto_advance: bool = True
    """Whether a passed step moves on to the next by itself after a few seconds (``auto_advance``); never for an
    ``expect: failure`` step, whose point is looking at the failure."""

    def in_namespace(self, namespace: str) -> Lesson:
        """The lesson as a learner whose objects live in ``namespace`` reads it: every :data:`NAMESPACE_PLACEHOLDER`
        in its texts, commands, hints, solutions, probes and setup commands replaced by ``namespace``.

        kubernetes.io's commands name the ``default`` namespace where a URL needs one (``kubectl proxy``'s
        ``/api/v1/namespaces/default/pods/...``); a lesson writes ``{namespace}`` there, so the practice cluster and
        kind show the module's own command and a workshop seat shows one that works in its namespace. CEL is left
        alone (it reads the lesson namespace's objects already).
        """
        def text(value: Text) -> Text:
            return Text(ja=value.ja.replace(NAMESPACE_PLACEHOLDER, namespace),
                        en=value.en.replace(NAMESPACE_PLACEHOLDER, namespace))

        def lines(values: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(line.replace(NAMESPACE_PLACEHOLDER, namespace) for line in values)

        def check(value: Check) -> Check:
            return replace(value, text=text(value.text), missing=value.missing and text(value.missing),
                           probe=value.probe and value.probe.replace(NAMESPACE_PLACEHOLDER, namespace))

        setup = replace(self.setup, text=text(self.setup.text), commands=lines(self.setup.commands),
                        ready=tuple(map(check, self.setup.ready)))
        steps = tuple(replace(step, title=text(step.title), text=text(step.text), commands=lines(step.commands),
                              checks=tuple(map(check, step.checks)), hint=text(step.hint),
                              solution=lines(step.solution), passed=step.passed and text(step.passed),
                              say=step.say and text(step.say),
                              pauses=tuple(Pause(after=point.after.replace(NAMESPACE_PLACEHOLDER, namespace),
                                                 say=point.say and text(point.say)) for point in step.pauses))
                      for step in self.steps)
        return replace(self, title=text(self.title), description=text(self.description), setup=setup, steps=steps)

    def step(self, step_id: str) -> Step:
        """The step with an id.

        Args:
            step_id: the step's id.

        Returns:
            The step.

        Raises:
            KeyError: no step has that id.
        """
        return self.steps[self.index(step_id)]

    def index(self, step_id: str) -> int:
        """The position of a step in :attr:`steps`.

        Args:
            step_id: the step's id.

        Returns:
            The 0-based index of the step.

        Raises:
            KeyError: no step has that id.
        """
        for position, step in enumerate(self.steps):
            if step.id == step_id:
                return position
        raise KeyError(step_id)


