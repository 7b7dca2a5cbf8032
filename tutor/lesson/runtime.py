"""Provides LessonRuntime: one learner's lesson on one backend: shell session, live cluster view, checks."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tutor import kubectl_guard, paths, shell
from tutor.backends.watch import ClusterWatch
from tutor.lesson.checks import CommandRun, StepVerdict, build_context, evaluate_checks

if TYPE_CHECKING:
    from tutor.lesson.model import Check, Lesson, Step

PROBE_TIMEOUT = 10.0
PROBE_INTERVAL = 1.0
OUTPUT_KEPT = 4096
"""Characters of each command's output the checks see (its end: where ``describe`` puts the events)."""
COMMANDS_KEPT = 50
"""Commands whose exit status and output the checks see (the last ones)."""


class RecordingSession(shell.Session):
    """The learner's shell session that also keeps, for the checks, each command's exit status and the end of its
    output (:attr:`commands`, the CEL name ``commands``): a check can count the learner's own ``curl`` instead of
    running one of its own, which would take a turn of the Service's load balancing."""

    def __init__(self, env: Mapping[str, str], cwd: str | os.PathLike[str]) -> None:
        super().__init__(env, cwd)
        self.commands: list[CommandRun] = []
        """The last :data:`COMMANDS_KEPT` commands run, oldest first."""

    async def run(self, line: str, on_output: Callable[[str], None]) -> int:
        """:meth:`tutor.shell.Session.run`, keeping the line, its exit status and the end of its output."""
        if self.running or not line.strip():
            return await super().run(line, on_output)
        kept = _Tail(OUTPUT_KEPT)

        def tee(chunk: str) -> None:
            kept.add(chunk)
            on_output(chunk)

        code = await super().run(line, tee)
        self._record(line, code, kept.text)
        return code

    def _record(self, line: str, code: int, output: str) -> None:
        self.commands.append(CommandRun(line, code, output[-OUTPUT_KEPT:]))
        del self.commands[:-COMMANDS_KEPT]

    def run_attached(self, line: str, on_output: Callable[[str], None], *, terminal: tuple[int, int] = (0, 1),
                     on_notice: Callable[[str], None] | None = None) -> int:
        """:meth:`tutor.shell.Session.run_attached` (a line on a real terminal, ``kubectl exec -ti POD -- bash``),
        keeping the line, its exit status and the end of its transcript as text (:func:`tutor.shell.clean_transcript`:
        no escape codes, no ``\\r``), so a check reads what the learner saw inside, e.g. ``commands.exists(c,
        c.line.contains("exec") && c.output.contains("Hello Kubernetes bootcamp!"))``. kube-tutor's own lines
        (``on_notice``: a refusal, a restored variable) are kept too, as :meth:`run` keeps them."""
        if self.running or not line.strip():
            return super().run_attached(line, on_output, terminal=terminal, on_notice=on_notice)
        kept = _Tail(2 * OUTPUT_KEPT)  # escape codes take room: trim the raw text with a margin
        keep = kept.add

        def tee(chunk: str) -> None:
            keep(chunk)
            on_output(chunk)

        def notice(chunk: str) -> None:
            keep(chunk)
            (on_notice or on_output)(chunk)

        code = super().run_attached(line, tee, terminal=terminal, on_notice=notice)
        self._record(line, code, shell.clean_transcript(kept.text))
        return code


class _Tail:
    """The last ``keep`` characters of a stream of chunks, in bounded memory however long it runs (a long
    ``get -w``): chunks are joined and trimmed once they hold twice as much."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self._chunks: list[str] = []
        self._size = 0

    def add(self, chunk: str) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        if self._size > 2 * self.keep:
            text = "".join(self._chunks)[-self.keep:]
            self._chunks = [text]
            self._size = len(text)

    @property
    def text(self) -> str:
        return "".join(self._chunks)[-self.keep:]


class LessonRuntime:
    """Everything a lesson needs at run time, the same on every backend.

    Args:
        lesson: the loaded lesson.
        env: the environment for kubectl (kube-tutor's KUBECONFIG, KUBERC=off, the bundled kubectl first).
        namespace: where the lesson's objects live.
        cwd: the learner's working directory for the console.
    """

    def __init__(self, lesson: Lesson, env: Mapping[str, str], namespace: str, *, cwd: Path | None = None) -> None:
        self.lesson = lesson
        self.env = dict(env)
        self.namespace = namespace
        self.kubectl = str(paths.kubectl())
        self.session = RecordingSession(self.env, cwd or Path.cwd())
        self.watch = ClusterWatch(self.kubectl, self.env, namespace)
        self._step_mark = 0
        self._step_earlier: list[str] = []

    def begin_step(self, earlier: Sequence[str] = ()) -> None:
        """Start the step history (the CEL name ``step_history``) afresh: from now on it is ``earlier`` (what the
        learner ran on this step in an earlier session) followed by every line the session runs.

        Called when the learner arrives at a step, after its F5, and by ``verify`` before each step's solution.
        """
        self._step_mark = len(self.session.history)
        self._step_earlier = list(earlier)

    @property
    def step_history(self) -> list[str]:
        """The commands run since :meth:`begin_step`, oldest first; a command counts once it has finished (the
        learner has seen its output)."""
        ran = self.session.history[self._step_mark:]
        if ran and self.session.running:
            ran = ran[:-1]
        return [*self._step_earlier, *ran]

    def saved_runs(self) -> list[dict[str, Any]]:
        """The recorded commands (CEL ``commands``) as the console file keeps them."""
        return [run.as_cel() for run in self.session.commands]

    def restore_runs(self, runs: list[dict[str, Any]]) -> None:
        """Bring back the recorded commands of the last time (a resumed lesson): its checks see them again."""
        self.session.commands = [CommandRun(run["line"], run["exit"], run["output"]) for run in runs][-COMMANDS_KEPT:]

    async def start(self, sync_timeout: float = 15.0) -> bool:
        """Start watching the cluster; True once every kind was listed."""
        await self.watch.start()
        return await self.watch.wait_synced(sync_timeout)

    async def stop(self) -> None:
        await self.watch.stop()
        await self.session.close()

    def context(self) -> dict[str, Any]:
        return build_context(self.watch.snapshot(), variables=self.session.exported(), history=self.session.history,
                             step_history=self.step_history,
                             commands=self.session.commands)

    async def run_probe(self, command: str) -> tuple[int, str]:
        """Run a check's probe in the learner's environment (not recorded in their history)."""
        try:
            done = await shell.run_async(["bash", "--noprofile", "--norc", "-c", command], self.session.env,
                                         timeout=PROBE_TIMEOUT)
        except shell.ShellError as error:
            return -1, str(error)
        return done.returncode, done.stdout + done.stderr

    async def evaluate(self, step_id: str, checks: Sequence[Check]) -> StepVerdict:
        return await evaluate_checks(step_id, checks, self.context(), self.run_probe)

    async def verdict(self, step: Step) -> StepVerdict:
        return await self.evaluate(step.id, step.checks)

    async def wait_for(self, step_id: str, checks: Sequence[Check], timeout: float,
                       on_verdict: Callable[[StepVerdict], None] | None = None) -> StepVerdict:
        """Re-evaluate on every cluster change (and every second for probes) until all hold or the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        has_probe = any(c.probe for c in checks)
        while True:
            self.watch.changed.clear()
            verdict = await self.evaluate(step_id, checks)
            if on_verdict is not None:
                on_verdict(verdict)
            remaining = deadline - loop.time()
            if verdict.passed or remaining <= 0:
                return verdict
            wait = min(remaining, PROBE_INTERVAL) if has_probe else remaining
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.watch.changed.wait(), wait)

    async def run_setup(self, on_output: Callable[[str], None] | None = None) -> tuple[bool, str]:
        """Run the lesson's setup commands (not in the learner's history); (ok, output of a failure)."""
        for command in self.lesson.setup.commands:
            try:
                done = await shell.run_async(["bash", "--noprofile", "--norc", "-c", command], self.env,
                                             timeout=self.lesson.setup.timeout + 30)
            except shell.ShellError as error:
                return False, str(error)
            if on_output is not None:
                on_output(f"$ {command}\n{done.stdout}{done.stderr}")
            if done.returncode != 0:
                return False, f"$ {command}\n{done.stdout}{done.stderr}".strip()
        return True, ""


def kubectl_path(extra: Mapping[str, str]) -> list[str]:
    """The directories kube-tutor puts first on PATH for a backend's variables: the kubectl guard for its
    KUBECONFIG (written here, :func:`tutor.kubectl_guard.install`), then the bundled kubectl's directory.

    Raises:
        OSError: the guard cannot be written beside the kubeconfig.
    """
    directories = [str(paths.bin_dir())]
    if extra.get("KUBECONFIG"):
        directories.insert(0, str(kubectl_guard.install(extra["KUBECONFIG"], extra.get("KUBERC", "off"))))
    return directories


def backend_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The process environment plus a backend's variables, with kube-tutor's kubectl guard and then the bundled
    kubectl first on PATH: every kubectl the learner's session, the lesson's setup and probes run goes through
    the guard (:mod:`tutor.kubectl_guard`)."""
    env = dict(os.environ)
    env.update(extra)
    env["KUBERC"] = "off"
    env["PATH"] = os.pathsep.join([*kubectl_path({**extra, "KUBERC": "off"}), env.get("PATH", "")])
    # Commands run without a terminal: keep curl from printing its progress meter (tutor/data/curl/.curlrc).
    env.setdefault("CURL_HOME", str(Path(__file__).parent.parent / "data" / "curl"))
    return env
