"""Installed lessons are found by the id in each file: a second lesson is a file next to the first, nothing more.

The second lesson (tests/data/lessons/scale-your-app.yaml, id ``scaling``) is put next to the seed lesson in a
lessons directory; its verify and reset on a practice cluster are in test_verify.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tutor import paths
from tutor.lesson import (
    LessonError,
    LessonNotFound,
    find_lesson,
    installed_lessons,
    lesson_files,
    load_lesson,
)

ROOT = Path(__file__).parents[2]
SEED = ROOT / "lessons" / "rolling-update.yaml"
SECOND = ROOT / "tests" / "data" / "lessons" / "scale-your-app.yaml"


@pytest.fixture
def lessons(tmp_path: Path) -> Path:
    """A lessons directory holding the seed lesson and the second lesson (whose file name is not its id)."""
    folder = tmp_path / "lessons"
    folder.mkdir()
    shutil.copy(SEED, folder / SEED.name)
    shutil.copy(SECOND, folder / SECOND.name)
    return folder


def test_the_second_lesson_is_found_by_its_id_not_its_file_name(lessons: Path) -> None:
    assert load_lesson(SECOND).id == "scaling" != SECOND.stem
    assert find_lesson("scaling", lessons) == lessons / "scale-your-app.yaml"
    assert find_lesson("rolling-update", lessons) == lessons / "rolling-update.yaml"
    with pytest.raises(LessonNotFound) as caught:
        find_lesson("scale-your-app", lessons)
    assert str(caught.value) == "no lesson called 'scale-your-app' (lessons: rolling-update, scaling)"


def test_a_file_is_taken_as_given(lessons: Path) -> None:
    assert find_lesson(str(SECOND), lessons) == SECOND
    with pytest.raises(LessonNotFound, match="^no lesson file nope.yaml$"):
        find_lesson("nope.yaml", lessons)


def test_the_default_lesson_is_the_seed_else_the_first_id(lessons: Path) -> None:
    assert find_lesson(None, lessons) == lessons / "rolling-update.yaml"
    (lessons / "rolling-update.yaml").unlink()
    assert find_lesson(None, lessons) == lessons / "scale-your-app.yaml"
    (lessons / "scale-your-app.yaml").unlink()
    with pytest.raises(LessonNotFound, match="^no lessons in "):
        find_lesson(None, lessons)


def test_two_files_with_one_id_are_a_one_line_error_naming_both(lessons: Path) -> None:
    shutil.copy(SECOND, lessons / "the-same-again.yml")
    with pytest.raises(LessonError) as caught:
        find_lesson("rolling-update", lessons)
    first, again = lessons / "scale-your-app.yaml", lessons / "the-same-again.yml"
    assert str(caught.value) == (f"{again}:3: id: duplicate lesson id 'scaling': {first} has it too; kube-tutor "
                                 "finds a lesson by its id")


def test_an_unknown_id_names_the_files_without_a_readable_id(lessons: Path) -> None:
    (lessons / "broken.yaml").write_text("id: [\n", encoding="utf-8")
    with pytest.raises(LessonNotFound) as caught:
        find_lesson("nope", lessons)
    assert str(caught.value) == ("no lesson called 'nope' (lessons: rolling-update, scaling; without a readable id: "
                                 f"{lessons / 'broken.yaml'})")


def test_the_directory_comes_from_the_environment(lessons: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.ENV_LESSONS_DIR, str(lessons))
    assert paths.lessons_dir() == lessons
    assert find_lesson("scaling") == lessons / "scale-your-app.yaml"
    assert lesson_files() == [lessons / "rolling-update.yaml", lessons / "scale-your-app.yaml"]
    monkeypatch.setenv(paths.ENV_LESSONS_DIR, str(lessons / "missing"))
    with pytest.raises(LessonNotFound, match="^no lessons directory .*missing$"):
        find_lesson("scaling")


def test_the_lesson_picker_offers_both_lessons(lessons: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``kube-tutor`` (no lesson named) hands the TUI's picker: every installed lesson that loads."""
    monkeypatch.setenv(paths.ENV_LESSONS_DIR, str(lessons))
    (lessons / "notes.txt").write_text("not a lesson", encoding="utf-8")
    offered, problems = installed_lessons()
    assert problems == []
    assert [(lesson.id, lesson.title.en) for lesson in offered] == [
        ("rolling-update", "Updating your app (rolling updates)"),
        ("scaling", "Scaling your app (changing the number of replicas)")]


def test_the_picker_skips_broken_and_clashing_files_and_says_why(lessons: Path) -> None:
    (lessons / "broken.yaml").write_text("id: broken\ntitle: nope\n", encoding="utf-8")
    shutil.copy(SECOND, lessons / "the-same-again.yaml")
    offered, problems = installed_lessons(lessons)
    assert [lesson.id for lesson in offered] == ["rolling-update", "scaling"]
    assert [(problem.file.name, problem.path) for problem in problems] == [
        ("the-same-again.yaml", "id"), ("broken.yaml", "description"), ("broken.yaml", "setup"),
        ("broken.yaml", "steps"), ("broken.yaml", "title")]


def kube_tutor(lessons: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, paths.ENV_LESSONS_DIR: str(lessons)}
    return subprocess.run([str(paths.bin_dir() / "kube-tutor"), *args], capture_output=True, text=True, env=env,
                          check=False, timeout=60)


def test_kube_tutor_lint_checks_every_lesson_of_the_directory(lessons: Path) -> None:
    seed, second = lessons / "rolling-update.yaml", lessons / "scale-your-app.yaml"
    done = kube_tutor(lessons, "lint")
    assert (done.returncode, done.stdout) == (0, f"{seed}: ok (4 steps)\n{second}: ok (2 steps)\n")
    by_id = kube_tutor(lessons, "lint", "scaling")
    assert (by_id.returncode, by_id.stdout) == (0, f"{second}: ok (2 steps)\n")
    unknown = kube_tutor(lessons, "lint", "nope")
    assert (unknown.returncode, unknown.stderr) == (
        1, "kube-tutor: no lesson called 'nope' (lessons: rolling-update, scaling)\n")
    again = lessons / "the-same-again.yaml"
    shutil.copy(SECOND, again)
    clash = kube_tutor(lessons, "lint")
    duplicate = f"{again}:3: id: duplicate lesson id 'scaling': {second} has it too; kube-tutor finds a lesson by its id"
    assert (clash.returncode, clash.stdout.splitlines()[-1]) == (1, duplicate)
    by_id = kube_tutor(lessons, "lint", "rolling-update")
    assert (by_id.returncode, by_id.stderr) == (1, f"kube-tutor: {duplicate}\n")


@pytest.mark.parametrize("args", [["nope"], ["start", "nope"], ["--lang", "en", "--backend", "practice", "nope"]],
                         ids=["kube-tutor LESSON", "start LESSON", "options then LESSON"])
def test_kube_tutor_opens_a_lesson_by_id(lessons: Path, args: list[str]) -> None:
    """``kube-tutor LESSON`` is ``kube-tutor start LESSON``; an unknown id stops before the TUI opens."""
    done = kube_tutor(lessons, *args)
    assert (done.returncode, done.stdout, done.stderr) == (
        1, "", "kube-tutor: no lesson called 'nope' (lessons: rolling-update, scaling)\n")
