"""Provides the check engine: CEL conditions over live objects, with the learner's text for each."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tutor.lesson.cellint import activation, identifiers, is_panic

if TYPE_CHECKING:
    from tutor.lesson.model import Check

ProbeRunner = Callable[[str], Awaitable[tuple[int, str]]]
"""Runs a probe command in the learner's environment; returns (exit code, output)."""


@dataclass(frozen=True)
class ConditionResult:
    """The verdict on one check."""

    check: Check
    passed: bool
    observed: Any = None
    error: str | None = None
    """Why the expression could not be evaluated (kept for ``verify -v``, never shown as a crash)."""

    @property
    def id(self) -> str:
        return self.check.id

    def message(self, lang: str) -> str:
        """What the condition requires, or, while it does not hold, what is still missing."""
        if self.passed or self.check.missing is None:
            return self.check.text.get(lang)
        observed = "?" if self.observed is None else _render(self.observed)
        return self.check.missing.get(lang).replace("{observed}", observed)


@dataclass(frozen=True)
class StepVerdict:
    """Every condition of a step, evaluated against one snapshot."""

    step_id: str
    results: tuple[ConditionResult, ...]

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(r.passed for r in self.results)

    @property
    def passed_ids(self) -> list[str]:
        return [r.id for r in self.results if r.passed]


OBSERVED_CHARS = 160
"""The most characters of an observed value a ``missing`` text shows (a command's output can be long)."""


def _render(value: Any) -> str:
    """An observed value as one line: a command's output (``commands[i].output``) has its lines joined, and a
    long value keeps its first :data:`OBSERVED_CHARS` characters and ``…``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ", ".join(_render(v) for v in value)
    text = " ".join(str(value).split())
    return text if len(text) <= OBSERVED_CHARS else text[: OBSERVED_CHARS - 1] + "…"


def _terminal(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


@dataclass(frozen=True)
class CommandRun:
    """One command the learner ran in the console, as a check's ``commands`` sees it."""

    line: str
    """The line as typed."""
    exit: int
    """Its exit status (130 when the learner cancelled it, 2 when the console refused it)."""
    output: str
    """The end of what it printed, stdout and stderr together (at most
    :data:`tutor.lesson.runtime.OUTPUT_KEPT` characters)."""

    def as_cel(self) -> dict[str, Any]:
        """The ``kube_tutor.Command`` value a CEL expression sees."""
        return {"line": self.line, "exit": self.exit, "output": self.output}


def build_context(snapshot: Mapping[str, Sequence[Mapping[str, Any]]], *, variables: Mapping[str, str] | None = None,
                  history: Sequence[str] = (), step_history: Sequence[str] = (),
                  commands: Sequence[CommandRun] = ()) -> dict[str, Any]:
    """The names a check's CEL expression sees (docs/lesson-format.md, "What a CEL expression sees"), with the
    types :data:`tutor.lesson.model.CEL_TYPES` declares for lint.

    Args:
        snapshot: objects per kind (``deployments``, ``replicasets``, ``pods``, ``services``,
            ``endpoints``, ``events``), as the API returns them.
        variables: what the learner exported in the console.
        history: the commands the learner ran, oldest first.
        step_history: the commands the learner ran since arriving at the step (or since its F5), oldest first.
        commands: the learner's last commands with their exit status and output, oldest first (a check counts
            the learner's own ``curl`` from it, so no probe takes a turn of the Service's load balancing).
    """
    ctx: dict[str, Any] = {kind: list(snapshot.get(kind, [])) for kind in
                           ("deployments", "replicasets", "pods", "services", "endpoints", "events")}
    ctx["deployment"] = {o["metadata"]["name"]: o for o in ctx["deployments"]}
    ctx["replicaset"] = {o["metadata"]["name"]: o for o in ctx["replicasets"]}
    ctx["service"] = {o["metadata"]["name"]: o for o in ctx["services"]}
    ctx["active_pods"] = [p for p in ctx["pods"]
                          if not (p.get("metadata") or {}).get("deletionTimestamp") and not _terminal(p)]
    ctx["vars"] = dict(variables or {})
    ctx["history"] = list(history)
    ctx["step_history"] = list(step_history)
    ctx["commands"] = [run.as_cel() for run in commands]
    ctx["probe"] = {"exit": -1, "output": ""}
    return ctx


def reads(check: Check) -> frozenset[str]:
    """The names of :func:`build_context` a check may read: the identifiers its expressions spell (a superset).
    A check is evaluated with those alone, since the CEL library converts every value it is given, read or
    not (a lesson's events and pods are most of a snapshot, and most checks read neither)."""
    return identifiers(check.cel) | (identifiers(check.observed) if check.observed else frozenset())


def _variables(names: frozenset[str], context: Mapping[str, Any]) -> dict[str, Any]:
    return {name: context[name] for name in names if name in context}


def evaluate(check: Check, context: Mapping[str, Any], probe: tuple[int, str] | None = None, *,
             shared: Any = None) -> ConditionResult:
    """Evaluate one check; an expression that fails to evaluate does not hold.

    Args:
        check: the compiled check.
        context: from :func:`build_context`.
        probe: the probe's (exit code, output) when the check has one.
        shared: a ``cel.Context`` (:func:`~tutor.lesson.cellint.activation`) of ``context`` holding at least
            what the check :func:`reads`, shared by the checks of one evaluation that have no probe.
    """
    ctx: Any = shared
    if ctx is None:
        ctx = _variables(reads(check), context)
        if probe is not None:
            ctx["probe"] = {"exit": probe[0], "output": probe[1]}
    observed = None
    if check.observed_program is not None:
        try:
            observed = check.observed_program.execute(ctx)
        except BaseException as error:  # the CEL runtime raises several types; observed is only a hint
            if not isinstance(error, Exception) and not is_panic(error):
                raise
            observed = None
    try:
        value = check.program.execute(ctx)
    except BaseException as error:  # KeyError, ValueError, TypeError... from the CEL runtime; a Rust panic too
        if not isinstance(error, Exception) and not is_panic(error):
            raise
        return ConditionResult(check, False, observed, f"{type(error).__name__}: {error}")
    if not isinstance(value, bool):
        return ConditionResult(check, False, observed, f"expression returned {value!r}, not a bool")
    return ConditionResult(check, value, observed)


async def evaluate_checks(step_id: str, checks: Sequence[Check], context: Mapping[str, Any],
                          run_probe: ProbeRunner | None = None) -> StepVerdict:
    """Evaluate a list of checks, running their probes (concurrently) first."""
    probes: dict[str, tuple[int, str]] = {}
    wanted = [c for c in checks if c.probe]
    if wanted and run_probe is not None:
        outcomes = await asyncio.gather(*(run_probe(c.probe or "") for c in wanted), return_exceptions=True)
        for check, outcome in zip(wanted, outcomes, strict=True):
            probes[check.id] = outcome if isinstance(outcome, tuple) else (-1, str(outcome))
    plain = [c for c in checks if not c.probe]
    shared = activation(_variables(frozenset().union(*map(reads, plain)), context)) if len(plain) > 1 else None
    results = tuple(evaluate(c, context, probes.get(c.id, (-1, ""))) if c.probe else evaluate(c, context, shared=shared)
                    for c in checks)
    return StepVerdict(step_id, results)


class StepMonitor:
    """Re-evaluates a step whenever the cluster changes (and its probes every ``probe_interval``).

    The callback gets every verdict that differs from the previous one.
    """

    def __init__(self, step_id: str, checks: Sequence[Check], changed: asyncio.Event,
                 context: Callable[[], Mapping[str, Any]], on_verdict: Callable[[StepVerdict], None], *,
                 run_probe: ProbeRunner | None = None, probe_interval: float = 1.0,
                 debounce: float = 0.05) -> None:
        self.step_id = step_id
        self.checks = tuple(checks)
        self.changed = changed
        self.context = context
        self.on_verdict = on_verdict
        self.run_probe = run_probe
        self.probe_interval = probe_interval
        self.debounce = debounce
        self.poke = asyncio.Event()
        self.last: StepVerdict | None = None

    async def run(self) -> None:
        has_probe = any(c.probe for c in self.checks)
        while True:
            verdict = await evaluate_checks(self.step_id, self.checks, self.context(), self.run_probe)
            key = [(r.id, r.passed, _render(r.observed) if r.observed is not None else None) for r in verdict.results]
            last_key = None if self.last is None else [
                (r.id, r.passed, _render(r.observed) if r.observed is not None else None) for r in self.last.results]
            if key != last_key:
                self.last = verdict
                self.on_verdict(verdict)
            waiters = [asyncio.ensure_future(self.changed.wait()), asyncio.ensure_future(self.poke.wait())]
            try:
                await asyncio.wait(waiters, timeout=self.probe_interval if has_probe else None,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await waiter
            self.changed.clear()
            self.poke.clear()
            await asyncio.sleep(self.debounce)  # coalesce a burst of watch events into one evaluation
