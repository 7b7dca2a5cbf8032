"""Provides the one start-state lifecycle: what the TUI, ``verify``, ``reset`` and F5 all do to begin a lesson.

Reaching the start state on any backend is the same sequence, in this order:

1. run the lesson's setup commands (not in the learner's history);
2. wait until the setup's ``ready`` checks hold and every pod is done getting its images
   (:func:`~tutor.lesson.images.images_settled`), then refuse pods that will never run as the lesson means
   them to (an undeclared image, or a pull failure of an image not declared absent): a check that counts
   ``active_pods`` counts a pod stuck pulling an image like a running one;
3. call the backend's :meth:`~tutor.backends.base.Backend.after_setup` (kind gives the NodePort Service the port
   that ``kind-config.yaml`` publishes on 127.0.0.1, existing forwards it; practice has nothing to do). It runs
   *before* any step is replayed, so a replayed ``export NODE_PORT=$(kubectl get service ...)`` reads the port
   the learner can reach;
4. for F5 on a later step, replay the solutions of the steps before it in the learner's session (so exported
   variables such as ``NODE_PORT`` are set again) and wait for each step's checks.

A resumed lesson skips 1, 2 and 4 but still calls :func:`reattach` (``after_setup`` is idempotent).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from tutor.backends.base import BackendError
from tutor.lesson.images import images_settled, pods_that_cannot_run

if TYPE_CHECKING:
    from tutor.lesson import Step
    from tutor.lesson.checks import StepVerdict
    from tutor.lesson.runtime import LessonRuntime

Phase = Literal["setup", "ready", "never_run", "after_setup", "replay", "done"]


class AfterSetup(Protocol):
    """What the lifecycle needs of a backend."""

    def after_setup(self) -> None: ...


@dataclass(frozen=True)
class StartOutcome:
    """How far the lifecycle got."""

    phase: Phase
    """``done`` when the start state is there; else the phase that failed."""
    failure: str = ""
    """What failed, for the learner: a command and its output, kubectl's error, or the backend's way back."""
    ready: StepVerdict | None = None
    """The last verdict on the setup's ``ready`` checks (what is still missing when ``phase == "ready"``)."""

    @property
    def ok(self) -> bool:
        return self.phase == "done"


async def reattach(backend: AfterSetup) -> str | None:
    """Make the lesson's Service reachable again on a resumed lesson; an error line, or None.

    ``after_setup`` runs kubectl (and, on existing, starts a port-forward) synchronously, so it runs in a thread.
    """
    try:
        await asyncio.to_thread(backend.after_setup)
    except BackendError as error:
        return str(error)
    return None


async def reach_start_state(runtime: LessonRuntime, backend: AfterSetup, *, steps_before: Sequence[Step] = (),
                            on_output: Callable[[str], None] | None = None) -> StartOutcome:
    """Put the cluster (and the learner's session) in the lesson's start state, then replay earlier steps.

    Args:
        runtime: the lesson's runtime on this backend (its session runs the replayed solutions).
        backend: the backend, for ``after_setup``.
        steps_before: steps whose solutions are replayed after the start state (F5 on a later step).
        on_output: gets each setup command with its output (``verify --verbose``).

    Returns:
        The outcome; ``ok`` once every phase passed.
    """
    lesson = runtime.lesson
    ok, failure = await runtime.run_setup(on_output)
    if not ok:
        return StartOutcome("setup", failure)
    ready = await runtime.wait_for("setup", (*lesson.setup.ready, images_settled()), lesson.setup.timeout)
    if not ready.passed:
        return StartOutcome("ready", f"the start state did not come up in {lesson.setup.timeout:g} s", ready)
    never = pods_that_cannot_run(runtime.context()["active_pods"], lesson.images, lesson.absent_images)
    if never:
        return StartOutcome("never_run", "the start state has pods that will never run:\n"
                            + "\n".join(f"  - {problem}" for problem in never), ready)
    failure_line = await reattach(backend)
    if failure_line is not None:
        return StartOutcome("after_setup", failure_line, ready)
    for step in steps_before:
        for command in step.solution:
            chunks: list[str] = []
            code = await runtime.session.run(command, chunks.append)
            if code != 0:
                output = "".join(chunks).strip()
                return StartOutcome("replay", f"`{command}` exited {code}" + (f": {output[-300:]}" if output else ""),
                                    ready)
        await runtime.wait_for(step.id, step.checks, step.timeout)
    return StartOutcome("done", "", ready)
