"""A step's ``say`` and ``pause`` (narration for ``kube-tutor demo``): loader, lint, namespace, and the demo's plan."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.lesson.test_lesson import BASE
from tutor.lesson import LessonError, find_lesson, lint, load_lesson
from tutor.lesson.demo import Beat, demo_lines, plan_step, typing_delays
from tutor.lesson.model import Pause, Text

NARRATED = BASE.replace("    solution: [kubectl get pods]\n", """\
    solution: [kubectl get pods]
    say: {ja: 見てください, en: Look at this}
    pause:
      - after: kubectl get pods
        say: {ja: Pod です, en: "These are pods in {namespace}"}
""")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_say_and_narration_points_are_read(tmp_path: Path) -> None:
    step = load_lesson(write(tmp_path, NARRATED)).steps[0]
    assert step.say == Text(ja="見てください", en="Look at this")
    assert step.pause is True
    assert step.pauses == (Pause(after="kubectl get pods", say=Text(ja="Pod です", en="These are pods in {namespace}")),)
    seat = load_lesson(write(tmp_path, NARRATED)).in_namespace("seat-07").steps[0]
    assert seat.pauses[0].say is not None and seat.pauses[0].say.en == "These are pods in seat-07"


def test_without_them_a_step_stops_at_its_beginning_and_says_nothing(tmp_path: Path) -> None:
    step = load_lesson(write(tmp_path, BASE)).steps[0]
    assert (step.say, step.pause, step.pauses) == (None, True, ())
    off = load_lesson(write(tmp_path, BASE + "    pause: false\n")).steps[0]
    assert off.pause is False


@pytest.mark.parametrize(("pause", "message"), [
    ("pause: yes", "steps[0].pause: expected true or false, got 'yes'"),
    ("pause: []", "steps[0].pause: expected true, false or a list of narration points ({after, say}), got an empty list"),
    ("pause: [{say: {ja: a, en: b}}]", "steps[0].pause[0].after: required key 'after' is missing from a narration point"),
    ("pause: [{after: kubectl get nodes}]",
     "steps[0].pause[0].after: 'kubectl get nodes' is not one of the step's commands or solution lines; write it as"),
    ("pause: [{after: kubectl get pods, when: now}]", "steps[0].pause[0].when: unknown key 'when' in a narration point"),
    ("pause: [{after: kubectl get pods, say: {en: only}}]", "steps[0].pause[0].say.ja: the Japanese text is missing"),
])
def test_lint_says_what_is_wrong_in_one_line(tmp_path: Path, pause: str, message: str) -> None:
    problems = lint([write(tmp_path, BASE + f"    {pause}\n")])
    assert len(problems) == 1, problems
    assert message in str(problems[0])
    with pytest.raises(LessonError):
        load_lesson(tmp_path / "tiny.yaml")


def test_the_seed_lesson_marks_narration_points() -> None:
    lesson = load_lesson(find_lesson("rolling-update"))
    assert all(step.say is not None for step in lesson.steps)
    afters = [point.after for step in lesson.steps for point in step.pauses]
    assert any(after.endswith(":v2") for after in afters) and any(after.endswith(":v10") for after in afters)


def test_the_plan_types_commands_then_the_missing_solution_lines() -> None:
    lesson = load_lesson(find_lesson("rolling-update"))
    update = lesson.step("update")
    assert demo_lines(update) == list(update.commands)  # get, get, describe, set image v2, get pods again
    beats = plan_step(update)
    assert beats[0] == Beat("say", say=update.say, stop=True)
    assert beats[-1] == Beat("checks")
    set_image = next(i for i, beat in enumerate(beats) if beat.line.endswith(":v2"))
    assert beats[set_image + 1] == Beat("say", say=update.pauses[0].say, stop=True)
    verify = lesson.step("verify")
    lines = demo_lines(verify)
    assert lines.count(verify.solution[0]) == 1  # export NODE_PORT is in both: typed once
    broken = lesson.step("break")
    assert demo_lines(broken) == [*broken.commands, "kubectl get events"]  # the solution's line the text lacks


def test_a_line_that_needs_a_terminal_is_not_typed() -> None:
    lesson = load_lesson(find_lesson("explore-your-app"))
    for step in lesson.steps:
        assert not any("exec -ti" in line or line.startswith("kubectl exec -it") for line in demo_lines(step))


def test_typing_speed_is_human_on_average_and_never_regular() -> None:
    line = "kubectl set image deployments/kubernetes-bootcamp kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v2"
    delays = typing_delays(line, 10, random.Random(7))
    assert len(delays) == len(line)
    assert all(delay > 0 for delay in delays)
    assert 0.08 < sum(delays) / len(delays) < 0.14  # ~10 characters a second
    assert len({round(delay, 4) for delay in delays}) > len(line) // 2
    with pytest.raises(ValueError, match="positive"):
        typing_delays(line, 0)
