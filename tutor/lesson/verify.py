"""Provides ``kube-tutor verify``: the lesson's headless self-test, and ``kube-tutor reset``."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TextIO

from tutor.backends import lifecycle
from tutor.backends.lifecycle import AfterSetup, StartOutcome
from tutor.lesson.checks import StepVerdict
from tutor.lesson.course import Course
from tutor.lesson.images import pods_that_cannot_run
from tutor.lesson.model import Lesson
from tutor.lesson.runtime import LessonRuntime
from tutor.text import t

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


def _start_failure(what: str, outcome: StartOutcome, lang: str, verbose: bool) -> str:
    """The lines that say which phase of the start state failed (``what``: ``setup``, ``reset``), and what is
    missing."""
    indented = outcome.failure.replace("\n", "\n    ")
    what = t(f"verify.{what}", lang)
    if outcome.phase == "setup":
        return f"{FAIL} {what}: {t('verify.command_failed', lang)}\n    {indented}\n"
    if outcome.phase == "ready" and outcome.ready is not None:
        return f"{FAIL} {what}: {outcome.failure}\n" + "\n".join(_missing(outcome.ready, lang, verbose)) + "\n"
    return f"{FAIL} {what}: {indented}\n"


def _took(seconds: float, lang: str) -> str:
    return t("verify.took", lang, seconds=f"{seconds:.1f}")


async def verify(lesson: Lesson, env: Mapping[str, str], namespace: str, *, backend: AfterSetup, name: str,
                 out: TextIO, lang: str = "en", verbose: bool = False, after: str | None = None) -> int:
    """Set up the start state, then for each step: its checks must fail, the solution must make them pass.

    Prints one line per step with a mark and its time; returns 0 only if every step passed.

    Args:
        after: in a course, the lesson played just before on this cluster: a line says whether its end state
            already is this lesson's start state (``setup.ready`` holds before the setup runs), and what is
            missing if not. Said, not failed: the setup builds the start state either way.
    """
    started = time.monotonic()
    out.write(t("verify.header", lang, lesson=lesson.id, backend=name, namespace=namespace) + "\n")
    runtime = LessonRuntime(lesson, env, namespace)
    try:
        if not await runtime.start():
            error = runtime.watch.error or t("verify.no_answer_detail", lang)
            out.write(f"{FAIL} {t('verify.no_answer', lang, error=error)}\n")
            return 1
        if after is not None and lesson.setup.ready:
            before = await runtime.evaluate("setup", lesson.setup.ready)
            if before.passed:
                out.write(f"  {t('verify.chained', lang, previous=after)}\n")
            else:
                out.write(f"  {t('verify.not_chained', lang, previous=after)}\n"
                          + "\n".join(_missing(before, lang, verbose)) + "\n")
        t0 = time.monotonic()

        def echo(text: str) -> None:
            out.write("    " + text.replace("\n", "\n    ") + "\n")

        outcome = await lifecycle.reach_start_state(runtime, backend, on_output=echo if verbose else None)
        if not outcome.ok:
            out.write(_start_failure("setup", outcome, lang, verbose))
            return 1
        out.write(f"{OK} {t('verify.setup', lang)}  {_took(time.monotonic() - t0, lang)}\n")
        failed = 0
        for number, step in enumerate(lesson.steps, 1):
            t0 = time.monotonic()
            label = f"{number}/{len(lesson.steps)} {step.id}: {step.title.get(lang)}"
            runtime.begin_step()  # the step's own history: its solution's commands
            early = await runtime.verdict(step)
            if early.passed:
                out.write(f"{FAIL} {label}: {t('verify.passes_early', lang)}\n")
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
                    command_failed = t("verify.exited", lang, command=command, code=code,
                                       output="".join(chunks).strip()[-300:])
                    break
            if command_failed:
                out.write(f"{FAIL} {label}: {t('verify.solution_failed', lang, detail=command_failed)}\n")
                failed += 1
                continue
            verdict = await runtime.wait_for(step.id, step.checks, step.timeout)
            seconds = time.monotonic() - t0
            never = _never_run(runtime)
            if verdict.passed and never:
                out.write(f"{FAIL} {label}: {t('verify.never_run', lang)}\n" + "\n".join(never) + "\n")
                failed += 1
            elif verdict.passed:
                note = t("verify.intended", lang) if step.expect == "failure" else ""
                out.write(f"{OK} {label}{note}  {_took(seconds, lang)}\n")
            else:
                out.write(f"{FAIL} {label}: {t('verify.not_passed', lang, seconds=f'{step.timeout:g}')}\n")
                out.write("\n".join(_missing(verdict, lang, verbose) + never) + "\n")
                failed += 1
        total = time.monotonic() - started
        passed = len(lesson.steps) - failed
        out.write(t("verify.summary", lang, passed=passed, total=len(lesson.steps), seconds=f"{total:.1f}") + "\n")
        return 0 if failed == 0 else 1
    finally:
        await runtime.stop()


async def verify_course(course: Course, lessons: Sequence[Lesson], env: Mapping[str, str], namespace: str, *,
                        backend: AfterSetup, name: str, out: TextIO, lang: str = "en", verbose: bool = False) -> int:
    """Play every lesson of a course in order on one cluster, each from where the previous one ended (its own
    setup still builds its start state), with :func:`verify`'s lines for each; stop at the first lesson that
    does not pass.

    Returns:
        0 when every lesson passed, else 1 (after a line naming the lesson it stopped at).
    """
    started = time.monotonic()
    count = len(lessons)
    one = "_one" if count == 1 else ""  # "1 lesson", "its one lesson passed": never "all 1 lessons"
    out.write(t(f"verify.course_header{one}", lang, course=course.id, count=count, backend=name) + "\n")
    for number, lesson in enumerate(lessons, 1):
        out.write(t("verify.course_lesson", lang, n=number, count=count, lesson=lesson.id,
                    title=lesson.title.get(lang)) + "\n")
        code = await verify(lesson, env, namespace, backend=backend, name=name, out=out, lang=lang, verbose=verbose,
                            after=lessons[number - 2].id if number > 1 else None)
        if code != 0:
            out.write(t("verify.course_stopped", lang, course=course.id, n=number, count=count, lesson=lesson.id)
                      + "\n")
            return code
    out.write(t(f"verify.course_summary{one}", lang, course=course.id, count=count,
                seconds=f"{time.monotonic() - started:.1f}") + "\n")
    return 0


async def reset(lesson: Lesson, env: Mapping[str, str], namespace: str, *, backend: AfterSetup, out: TextIO,
                lang: str = "en") -> int:
    """Restore the lesson's start state; returns 0 once it is there."""
    runtime = LessonRuntime(lesson, env, namespace)
    try:
        if not await runtime.start():
            error = runtime.watch.error or t("verify.no_answer_detail", lang)
            out.write(f"{FAIL} {t('verify.no_answer', lang, error=error)}\n")
            return 1
        outcome = await lifecycle.reach_start_state(runtime, backend)
        if not outcome.ok:
            out.write(_start_failure("reset", outcome, lang, False))
            return 1
        out.write(f"{OK} {t('reset.done', lang, title=lesson.title.get(lang), setup=lesson.setup.text.get(lang))}\n")
        return 0
    finally:
        await runtime.stop()
