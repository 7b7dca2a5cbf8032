"""The learner's session keeps each command's exit status and the end of its output for the checks (CEL
``commands``), so a check can count the learner's own ``curl`` instead of running a probe of its own."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tutor.lesson import find_lesson, load_lesson
from tutor.lesson.checks import CommandRun, build_context, evaluate
from tutor.lesson.runtime import COMMANDS_KEPT, OUTPUT_KEPT, LessonRuntime, RecordingSession

DEADLINE = 10.0


async def run(session: RecordingSession, line: str) -> tuple[int, str]:
    printed: list[str] = []
    code = await asyncio.wait_for(session.run(line, printed.append), DEADLINE)
    return code, "".join(printed)


async def test_each_command_is_kept_with_its_exit_status_and_output(tmp_path: Path) -> None:
    session = RecordingSession(dict(os.environ), tmp_path)
    assert await run(session, "echo 'Hello | v=2'") == (0, "Hello | v=2\n")
    assert await run(session, "echo oops >&2; exit 7") == (7, "oops\n")
    assert await run(session, "   ") == (0, "")                           # a blank line is no command
    code, refusal = await run(session, "kubectl --kubeconfig /tmp/other get pods")  # refused by the console
    assert code == 2
    assert session.commands == [CommandRun("echo 'Hello | v=2'", 0, "Hello | v=2\n"),
                                CommandRun("echo oops >&2; exit 7", 7, "oops\n"),
                                CommandRun("kubectl --kubeconfig /tmp/other get pods", 2, refusal)]
    assert session.history == [run.line for run in session.commands]


async def test_only_the_end_of_a_long_output_and_the_last_commands_are_kept(tmp_path: Path) -> None:
    session = RecordingSession(dict(os.environ), tmp_path)
    code, printed = await run(session, "head -c 50000 /dev/zero | tr '\\0' x; echo; echo THE-END")
    assert code == 0 and len(printed) == 50000 + len("\nTHE-END\n")       # the console still gets every byte
    kept = session.commands[-1].output
    assert len(kept) == OUTPUT_KEPT and kept.endswith("x\nTHE-END\n")
    for number in range(COMMANDS_KEPT + 5):
        await run(session, f"echo {number}")
    assert len(session.commands) == COMMANDS_KEPT
    assert session.commands[0].line == "echo 5" and session.commands[-1].line == f"echo {COMMANDS_KEPT + 4}"
    assert len(session.history) == COMMANDS_KEPT + 6                        # the history keeps every line


async def test_the_runtime_gives_the_checks_the_learners_commands(tmp_path: Path) -> None:
    lesson = load_lesson(find_lesson("rolling-update"))
    runtime = LessonRuntime(lesson, dict(os.environ), "default", cwd=tmp_path)
    try:
        assert isinstance(runtime.session, RecordingSession)
        curl = next(check for check in lesson.step("verify").checks if check.id == "curl-v2")
        assert curl.probe is None   # no probe: it would take every other turn of the Service's round robin
        await run(runtime.session, "echo 'Hello Kubernetes bootcamp! | Running on: kubernetes-bootcamp-x | v=1'")
        assert not evaluate(curl, runtime.context()).passed                # not a curl
        await run(runtime.session, "curl() { echo 'Hello Kubernetes bootcamp! | Running on: k-7c6-bx4wq | v=2'; }; "
                                   "curl localhost:31234")
        context = runtime.context()
        assert context["commands"][-1] == {"line": context["history"][-1], "exit": 0,
                                           "output": "Hello Kubernetes bootcamp! | Running on: k-7c6-bx4wq | v=2\n"}
        assert evaluate(curl, context).passed
        assert evaluate(curl, build_context({})).passed is False
    finally:
        await runtime.stop()
