"""Provides ``kube-tutor verify``: the lesson's headless self-test, and ``kube-tutor reset``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from tutor.lesson.checks import StepVerdict
from tutor.lesson.images import images_settled, pods_that_cannot_run
from tutor.lesson.model import Lesson
from tutor.lesson.runtime import LessonRuntime

OK, FAIL = "✓", "✗"


def _never_run(runtime: LessonRuntime) -> list[str]:
    """Active pods that will never run as the lesson means them to: not a healthy state, whatever the checks say
    (a check counting ``active_pods`` counts a pod stuck pulling an image just like a running one)."""
    lesson = runtime.lesson
    problems = pods_that_cannot_run(runtime.context()["active_pods"], lesson.images, lesson.absent_images)
    return [f"      - {problem}" for problem in problems]


def _missing(verdict: StepVerdict, lang: str, verbose: bool) -> list[str]:
    lines = []
    for result in verdict.results:
        if result.passed:
            continue
        line = f"      - {result.message(lang)}"
        if verbose and result.error:
            line += f"  [{result.error}]"
        lines.append(line)
    return lines


async def verify(lesson: Lesson, env: Mapping[str, str], namespace: str, *, backend: str, out: TextIO,
                 lang: str = "en", verbose: bool = False, after_setup: Callable[[], None] | None = None) -> int:
    """Set up the start state, then for each step: its checks must fail, the solution must make them pass.

    Prints one line per step with a mark and its time; returns 0 only if every step passed.
    """
    started = time.monotonic()
    out.write(f"verify {lesson.id} on {backend} (namespace {namespace})\n")
    runtime = LessonRuntime(lesson, env, namespace)
    try:
        if not await runtime.start():
            out.write(f"{FAIL} the cluster does not answer: {runtime.watch.error or 'no answer'}\n")
            return 1
        t0 = time.monotonic()
        ok, failure = await runtime.run_setup(
            (lambda text: out.write("    " + text.replace("\n", "\n    ") + "\n")) if verbose else None)
        if not ok:
            out.write(f"{FAIL} setup: a command failed\n    {failure.replace(chr(10), chr(10) + '    ')}\n")
            return 1
        # Ready once the pods are done getting their images too: only then does a pod that can never start show.
        ready = await runtime.wait_for("setup", (*lesson.setup.ready, images_settled()), lesson.setup.timeout)
        never = _never_run(runtime)
        if not ready.passed:
            out.write(f"{FAIL} setup: the start state did not come up in {lesson.setup.timeout:g} s\n")
            out.write("\n".join(_missing(ready, lang, verbose) + never) + "\n")
            return 1
        if never:
            out.write(f"{FAIL} setup: the start state has pods that will never run:\n" + "\n".join(never) + "\n")
            return 1
        if after_setup is not None:
            await asyncio.to_thread(after_setup)
        out.write(f"{OK} setup  ({time.monotonic() - t0:.1f} s)\n")
        failed = 0
        for number, step in enumerate(lesson.steps, 1):
            t0 = time.monotonic()
            label = f"{number}/{len(lesson.steps)} {step.id}: {step.title.get(lang)}"
            early = await runtime.verdict(step)
            if early.passed:
                out.write(f"{FAIL} {label}: its checks pass before the solution runs (a check that cannot fail)\n")
                failed += 1
                continue
            command_failed = None
            for command in step.solution:
                chunks: list[str] = []
                code = await runtime.session.run(command, chunks.append)
                if verbose:
                    out.write(f"    $ {command}\n" + "".join("    " + line + "\n"
                                                            for line in "".join(chunks).splitlines()))
                if code != 0:
                    command_failed = f"`{command}` exited {code}: {''.join(chunks).strip()[-300:]}"
                    break
            if command_failed:
                out.write(f"{FAIL} {label}: the solution failed: {command_failed}\n")
                failed += 1
                continue
            verdict = await runtime.wait_for(step.id, step.checks, step.timeout)
            seconds = time.monotonic() - t0
            never = _never_run(runtime)
            if verdict.passed and never:
                out.write(f"{FAIL} {label}: its checks pass, but on pods that will never run:\n" + "\n".join(never)
                          + "\n")
                failed += 1
            elif verdict.passed:
                note = " (failed as intended)" if step.expect == "failure" else ""
                out.write(f"{OK} {label}{note}  ({seconds:.1f} s)\n")
            else:
                out.write(f"{FAIL} {label}: not passed after {step.timeout:g} s; still missing:\n")
                out.write("\n".join(_missing(verdict, lang, verbose) + never) + "\n")
                failed += 1
        total = time.monotonic() - started
        passed = len(lesson.steps) - failed
        out.write(f"{passed} of {len(lesson.steps)} steps passed in {total:.1f} s\n")
        return 0 if failed == 0 else 1
    finally:
        await runtime.stop()


async def reset(lesson: Lesson, env: Mapping[str, str], namespace: str, *, out: TextIO, lang: str = "en",
                after_setup: Callable[[], None] | None = None) -> int:
    """Restore the lesson's start state; returns 0 once it is there."""
    runtime = LessonRuntime(lesson, env, namespace)
    try:
        if not await runtime.start():
            out.write(f"{FAIL} the cluster does not answer: {runtime.watch.error or 'no answer'}\n")
            return 1
        ok, failure = await runtime.run_setup()
        if not ok:
            out.write(f"{FAIL} reset: a command failed\n    {failure}\n")
            return 1
        ready = await runtime.wait_for("setup", lesson.setup.ready, lesson.setup.timeout)
        if not ready.passed:
            out.write(f"{FAIL} reset: the start state did not come up\n" + "\n".join(_missing(ready, lang, False))
                      + "\n")
            return 1
        if after_setup is not None:
            await asyncio.to_thread(after_setup)
        out.write(f"{OK} {lesson.title.get(lang)}: back at the start. {lesson.setup.text.get(lang)}\n")
        return 0
    finally:
        await runtime.stop()
