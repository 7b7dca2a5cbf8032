"""docs/lesson-format.md: its whole lesson is a lesson (lint and verify), its list of offline images is the
practice cluster's catalogue (tutor/practice/node/registry.py)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from tests.lesson.clusters import verify_file
from tutor.lesson import lint_main, load_lesson
from tutor.practice.node import registry

DOC = Path(__file__).parents[2] / "docs" / "lesson-format.md"


def section(heading: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return text[start: end if end != -1 else len(text)]


@pytest.fixture
def documented(tmp_path: Path) -> Path:
    """The doc's whole lesson, copied into a file as an author would."""
    block = re.search(r"^```yaml\n(.*?)^```$", section("## A whole lesson"), re.DOTALL | re.MULTILINE)
    assert block is not None
    file = tmp_path / "expose.yaml"
    file.write_text(block.group(1), encoding="utf-8")
    return file


def test_the_documented_lesson_lints(documented: Path) -> None:
    out = io.StringIO()
    assert lint_main([documented], out) == 0, out.getvalue()
    lesson = load_lesson(documented)
    assert lesson.id == "expose-app" and lesson.images == ("gcr.io/google-samples/kubernetes-bootcamp:v1",)


def test_the_documented_lesson_is_verified(documented: Path, own_state: Path) -> None:
    verify_file(own_state, documented)


def test_the_offline_images_are_the_catalogue() -> None:
    table = re.search(r"<!-- offline-images -->\n(.*?)<!-- /offline-images -->", section("## `images`"), re.DOTALL)
    assert table is not None
    rows = [line for line in table.group(1).splitlines()[2:] if line.startswith("| `")]
    listed = [re.match(r"\| `([^`]+)` \| `v=(\d+)`(.*) \|$", row) for row in rows]
    assert all(listed), rows
    assert [match.group(1) for match in listed if match] == list(registry.available())
    for match in listed:
        assert match is not None
        image = registry.lookup(match.group(1))
        assert image is not None and int(match.group(2)) == image.app_version
        preloaded = match.group(1) in registry.PRELOADED
        assert (match.group(3) == "; already on the node when the cluster starts") == preloaded, match.group(0)


def test_the_documented_course_is_a_course(tmp_path: Path) -> None:
    """The doc's course block reads as a course (its ids are the Kubernetes Basics lessons)."""
    from tutor.lesson.course import _read

    block = re.search(r"^```yaml\n(.*?)^```$", section("## The course"), re.DOTALL | re.MULTILINE)
    assert block is not None
    file = tmp_path / "course.yaml"
    file.write_text(block.group(1), encoding="utf-8")
    course, problems = _read(file)
    assert problems == [] and course is not None
    assert course.lessons[-1] == "rolling-update"
