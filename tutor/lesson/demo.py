"""Provides the plan of a demo (``kube-tutor demo``): what the autopilot types in each step, where it stops, and how
fast a human types. Core: no textual; :mod:`tutor.tui.autopilot` plays the plan in the TUI.

The lesson format's ``say`` and ``pause`` (docs/lesson-format.md, "Narration for demos") mark where a presenter
talks; this module turns a step into :class:`Beat` s the driver plays in order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from tutor import shell
from tutor.lesson.model import Step, Text

__all__ = ["DEFAULT_CPS", "Beat", "demo_lines", "plan_step", "typing_delays"]

DEFAULT_CPS = 12.0
"""Characters a second the autopilot types by default: a steady typist (~140 words a minute) reading a command."""

JITTER = 0.45
"""How much each keystroke's delay varies around the mean, as a fraction of it (people do not type like a clock)."""

PAUSE_AFTER = frozenset(" /=-|")
"""Characters after which a typist hesitates a little longer (the end of a word, a path or a flag)."""


@dataclass(frozen=True)
class Beat:
    """One thing the autopilot does in a step, in order."""

    kind: str
    """``"say"``: show ``say`` (the step's title when ``None``) and stop until a key if ``stop``; ``"type"``: type
    ``line`` into the console, run it and wait for it to finish; ``"checks"``: wait for the step to pass."""
    line: str = ""
    """The command line of a ``type`` beat."""
    say: Text | None = None
    """The presenter's words of a ``say`` beat."""
    stop: bool = False
    """Whether a ``say`` beat waits for the presenter (never under ``--no-pause``)."""


def demo_lines(step: Step, needs_terminal: Callable[[str], bool] | None = None) -> list[str]:
    """The lines the autopilot types in a step: its ``commands`` in order (as the text uses them, a repeated one
    again), then each ``solution`` line they do not have (so the step's checks can pass, as ``verify`` makes them), without lines that need a terminal of their own.

    Args:
        needs_terminal: whether a line needs a terminal (default: :func:`tutor.shell.interactive_program`).
    """
    needs = needs_terminal or (lambda line: shell.interactive_program(line) is not None)
    lines = [*step.commands, *(line for line in dict.fromkeys(step.solution) if line not in step.commands)]
    return [line for line in lines if not needs(line)]


def plan_step(step: Step, needs_terminal: Callable[[str], bool] | None = None) -> list[Beat]:
    """The beats of one step: its ``say`` (a stop unless ``pause: false``), each line typed (with a stop after a
    narration point's line), then waiting for its checks.

    Args:
        needs_terminal: as for :func:`demo_lines`.
    """
    beats = [Beat("say", say=step.say, stop=step.pause)]
    points = {point.after: point for point in step.pauses}
    for line in demo_lines(step, needs_terminal):
        beats.append(Beat("type", line=line))
        if line in points:
            beats.append(Beat("say", say=points[line].say, stop=True))
    beats.append(Beat("checks"))
    return beats


def typing_delays(line: str, cps: float, rng: random.Random | None = None) -> list[float]:
    """Seconds to wait before each character of ``line``, as a person types it at ``cps`` characters a second on
    average: each delay jittered by :data:`JITTER`, a little longer after a word or a path segment.

    Args:
        cps: the mean characters a second (positive).
        rng: the source of the jitter (tests give a seeded one).

    Raises:
        ValueError: ``cps`` is not positive.
    """
    if not cps > 0:
        raise ValueError(f"the typing speed must be a positive number of characters a second, not {cps}")
    rng = rng or random.Random()  # noqa: S311 - pacing, not security
    mean = 1.0 / cps
    delays: list[float] = []
    previous = ""
    for char in line:
        delay = mean * (1 + rng.uniform(-JITTER, JITTER))
        if previous in PAUSE_AFTER:
            delay *= 1.6
        delays.append(delay)
        previous = char
    return delays
