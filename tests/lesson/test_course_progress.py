"""Per-lesson progress as the picker shows it (not started / step n of m / done, time spent), and where
``kube-tutor`` with no argument resumes in the course."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.tui.fakes import FakeBackend
from tutor import paths
from tutor.cli import _course_choices
from tutor.lesson.progress import LessonStatus, Progress, lesson_status, resume_choice

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests" / "data" / "lessons" / "course"
STEPS = ["a", "b", "c", "d"]


def saved(state: Path, lesson: str, data: dict[str, object]) -> Progress:
    """A progress file as kube-tutor writes it (fixed times), loaded back."""
    file = Progress.file_for(state, lesson, "practice")
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(json.dumps({"lesson": lesson, "backend": "practice", **data}))
    return Progress.load(state, lesson, "practice")


def test_not_started(tmp_path: Path) -> None:
    assert lesson_status(Progress.load(tmp_path, "x", "practice"), STEPS) == \
        LessonStatus("x", "not_started", 0, 4, 0, None)


def test_step_n_of_m_counts_the_time_spent_on_each_step(tmp_path: Path) -> None:
    progress = saved(tmp_path, "x", {"current": "b", "updated_at": "2026-01-05T10:05:00Z", "steps": {
        "a": {"started_at": "2026-01-05T10:00:00Z", "passed_at": "2026-01-05T10:01:05Z"},
        "b": {"started_at": "2026-01-05T10:02:00Z"}}})
    # step a: 65 s; step b, the one the learner is on: from arriving to the last save, 180 s
    assert lesson_status(progress, STEPS) == LessonStatus("x", "in_progress", 2, 4, 245, "2026-01-05T10:05:00Z")


def test_done(tmp_path: Path) -> None:
    steps = {step: {"started_at": f"2026-01-05T10:0{n}:00Z", "passed_at": f"2026-01-05T10:0{n}:30Z"}
             for n, step in enumerate(STEPS)}
    progress = saved(tmp_path, "x", {"current": "d", "updated_at": "2026-01-05T11:00:00Z", "steps": steps})
    assert lesson_status(progress, STEPS) == LessonStatus("x", "done", 4, 4, 120, "2026-01-05T11:00:00Z")


def status(lesson: str, state: str, updated_at: str | None = None) -> LessonStatus:
    return LessonStatus(lesson, state, 1, 4, 0, updated_at)


@pytest.mark.parametrize(("statuses", "expected"), [
    ([], None),
    ([status("m1", "not_started"), status("m2", "not_started")], "m1"),  # a first start: the first lesson
    ([status("m1", "done", "T1"), status("m2", "in_progress", "T3"), status("m3", "in_progress", "T2")], "m2"),
    ([status("m1", "done", "T1"), status("m2", "done", "T2"), status("m3", "not_started")], "m3"),  # the next one
    ([status("m1", "not_started"), status("m2", "done", "T2"), status("m3", "done", "T1")], "m1"),  # first not done
    ([status("m1", "done", "T1"), status("m2", "done", "T2")], "m2"),  # all done: the last touched (its recap)
])
def test_where_the_learner_resumes(statuses: list[LessonStatus], expected: str | None) -> None:
    assert resume_choice(statuses) == expected


def test_kube_tutor_without_an_argument_resumes_in_the_course(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    lessons = tmp_path / "lessons"
    shutil.copytree(FIXTURE, lessons)
    monkeypatch.setenv(paths.ENV_LESSONS_DIR, str(lessons))
    state = tmp_path / "state"
    backend = FakeBackend()
    choices, title, resumed = _course_choices(state, backend)  # type: ignore[arg-type]
    assert [lesson.id for lesson in choices] == ["make-web", "grow-web"] and title is not None
    assert title.en == "A tiny course" and resumed is not None and resumed.id == "make-web"
    saved(state, "make-web", {"current": "create", "updated_at": "2026-01-05T10:00:00Z",
                              "steps": {"create": {"started_at": "2026-01-05T10:00:00Z",
                                                   "passed_at": "2026-01-05T10:00:10Z"}}})
    assert _course_choices(state, backend)[2].id == "grow-web"  # type: ignore[arg-type,union-attr]
    saved(state, "grow-web", {"current": "scale", "updated_at": "2026-01-05T10:01:00Z", "steps": {}})
    saved(state, "make-web", {"current": None, "updated_at": "2026-01-05T10:02:00Z", "steps": {}})  # reset later
    assert _course_choices(state, backend)[2].id == "make-web"  # type: ignore[arg-type,union-attr]


@pytest.mark.parametrize(("argument", "expected"), [
    ("grow-web", (["make-web", "grow-web"], True)),  # a lesson of the course: its next one and F9's picker
    (None, (["make-web", "grow-web"], False)),
])
def test_a_lesson_named_on_the_command_line_keeps_its_course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                             argument: str | None,
                                                             expected: tuple[list[str], bool]) -> None:
    import tutor.tui.app
    from tutor import cli

    lessons = tmp_path / "lessons"
    shutil.copytree(FIXTURE, lessons)
    monkeypatch.setenv(paths.ENV_LESSONS_DIR, str(lessons))
    opened: list[tuple[str, list[str], bool]] = []

    class Recorder:
        lesson_shown = False

        def __init__(self, lesson, backend, state, **options) -> None:  # noqa: ANN001, ANN003
            opened.append((lesson.id, [choice.id for choice in options["choices"]], options["named"]))

        def run(self) -> None:
            return None

    monkeypatch.setattr(tutor.tui.app, "TutorApp", Recorder)
    monkeypatch.setattr(cli, "_backend", lambda state, args, **kw: FakeBackend())
    assert cli.main(["--state-dir", str(tmp_path / "state"), *([] if argument is None else [argument])]) == 0
    [(lesson, choices, named)] = opened
    assert lesson == (argument or "make-web") and (choices, named) == expected
