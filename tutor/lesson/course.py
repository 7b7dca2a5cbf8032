"""Provides the course: the order of the lessons of a lessons directory, from its ``course.yaml``.

A course is a file beside the lessons (``course.yaml``) with an id, a title in both languages and the lesson
ids in order; each lesson starts where the one before it ended (its own ``setup`` still builds its start
state, so a learner can start any of them). Lessons are named by id, never by file name.

Nothing is skipped silently: an id of the course that no lesson has, an id listed twice, and a lesson of the
directory that the course does not list are each a problem, one line naming the course file, its line and
the path (``lessons/course.yaml:7: lessons[2]: no lesson has the id 'expose' ...``). A directory without a
course file has the implicit course of its lessons in file name order.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

import yaml

from tutor import paths
from tutor.lesson.library import COURSE_FILES, lesson_files
from tutor.lesson.loader import _compose, _Reader, _safely, duplicate_ids, load_lesson, read_id
from tutor.lesson.model import Lesson, LessonError, Problem, Text

__all__ = ["Course", "course_file", "course_problems", "load_course", "load_course_lessons"]

IMPLICIT_TITLE = Text(ja="レッスン", en="Lessons")
"""The title of the course of a directory without a course file."""


@dataclass(frozen=True)
class Course:
    """The lessons of a directory in the order a learner takes them."""

    id: str
    title: Text
    lessons: tuple[str, ...]
    """Lesson ids, in order: each lesson starts from the previous one's end state."""
    path: Path | None = None
    """The course file (None: the implicit course of a directory without one)."""
    lines: tuple[int, ...] = ()
    """The line of each lesson id in the course file."""

    def next_after(self, lesson_id: str) -> str | None:
        """The lesson that follows one in the course (None: the last one, or not in the course)."""
        if lesson_id not in self.lessons:
            return None
        index = self.lessons.index(lesson_id) + 1
        return self.lessons[index] if index < len(self.lessons) else None


def course_file(directory: Path | None = None) -> Path | None:
    """The course file of a lessons directory (the lessons directory by default), if it has one."""
    folder = paths.lessons_dir() if directory is None else directory
    for name in COURSE_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def _read(file: Path) -> tuple[Course | None, list[Problem]]:
    """The course of a course file (None when broken), with the problems of its own format."""
    root, problems = _compose(file)
    if root is None:
        return None, problems
    reader = _Reader(file)
    values = reader.mapping(root, "", "the course", ("id", "title", "lessons"),
                            expected="a map with id, title and lessons at the top level")
    if values is None:
        return None, reader.problems
    course_id = reader.ident(values["id"], "id") if "id" in values else None
    title = reader.text(values["title"], "title") if "title" in values else None
    ids: list[str] = []
    lines: list[int] = []
    ok = True
    if "lessons" in values:
        items = reader.items(values["lessons"], "lessons", "lesson id", required=True)
        if items is None:
            ok = False
        for index, item in enumerate(items or []):
            value = reader.ident(item, f"lessons[{index}]")
            line = item.start_mark.line + 1
            if value is None:
                ok = False
            elif value in ids:
                reader.report(item, f"lessons[{index}]", f"the lesson {value!r} is already in the course "
                                                         f"(line {lines[ids.index(value)]}); list each lesson once")
                ok = False
            else:
                ids.append(value)
                lines.append(line)
    problems = sorted(reader.problems, key=lambda problem: problem.line)
    if problems or course_id is None or title is None or not ok or "lessons" not in values:
        return None, problems
    return Course(course_id, title, tuple(ids), file, tuple(lines)), []


def _lesson_ids(directory: Path) -> dict[str, Path]:
    """Lesson id -> file for the readable lessons of a directory (the first file of an id)."""
    ids: dict[str, Path] = {}
    for file in lesson_files(directory):
        found = read_id(file)
        if found is not None:
            ids.setdefault(found[0], file)
    return ids


def _checked(directory: Path) -> tuple[Course | None, list[Problem]]:
    """The course of a directory and every problem of its course file, the lessons it names included."""
    file = course_file(directory)
    ids = _lesson_ids(directory)
    if file is None:
        return Course("lessons", IMPLICIT_TITLE, tuple(ids)), []
    course, problems = _safely(file, partial(_read, file))
    if course is None:
        return None, problems
    known = ", ".join(sorted(ids)) or "none"
    for index, (lesson_id, line) in enumerate(zip(course.lessons, course.lines, strict=True)):
        if lesson_id not in ids:
            problems.append(Problem(file, line, f"lessons[{index}]",
                                    f"no lesson has the id {lesson_id!r} in {directory} (lessons: {known})"))
    for lesson_id, lesson_file in ids.items():
        if lesson_id not in course.lessons:
            problems.append(Problem(file, _lessons_line(file), "lessons",
                                    f"the lesson {lesson_id!r} ({lesson_file}) is not in the course; add its id "
                                    "where it belongs in the order"))
    return (None if problems else course), problems


def _lessons_line(file: Path) -> int:
    """The line of the ``lessons`` key of a course file (1 when it cannot be found)."""
    try:
        root = yaml.compose(file.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return 1
    if isinstance(root, yaml.MappingNode):
        for key, _ in root.value:
            if isinstance(key, yaml.ScalarNode) and key.value == "lessons":
                return int(key.start_mark.line) + 1
    return 1


def course_problems(directory: Path | None = None) -> list[Problem]:
    """Every problem of a lessons directory's course (none when it has no course file): its format, ids no lesson
    has, ids listed twice, and lessons it does not list."""
    folder = paths.lessons_dir() if directory is None else directory
    return _checked(folder)[1]


def load_course(directory: Path | None = None) -> Course:
    """The course of a lessons directory (the lessons directory by default).

    Raises:
        LessonError: the course file has problems (one line each: file, line, path, message).
    """
    folder = paths.lessons_dir() if directory is None else directory
    course, problems = _checked(folder)
    if course is None:
        raise LessonError(problems)
    return course


def load_course_lessons(directory: Path | None = None) -> tuple[Course, list[Lesson]]:
    """The course and its lessons, loaded, in order.

    Raises:
        LessonError: the course file or a lesson of it has problems, or two lessons share an id.
    """
    folder = paths.lessons_dir() if directory is None else directory
    clashes = duplicate_ids(lesson_files(folder))
    if clashes:
        raise LessonError(clashes)
    course = load_course(folder)
    ids = _lesson_ids(folder)
    return course, [load_lesson(ids[lesson_id]) for lesson_id in course.lessons]
