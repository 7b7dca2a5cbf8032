"""Provides the installed lessons: every lesson file of the lessons directory, found by the ``id`` in it.

The directory is :func:`tutor.paths.lessons_dir` (``$KUBE_TUTOR_LESSONS_DIR`` overrides it). Adding a lesson
is adding a file: nothing here names one, except the lesson opened when none is asked for.
"""

from __future__ import annotations

from pathlib import Path

from tutor import paths
from tutor.lesson.loader import duplicate_ids, load_lesson, read_id
from tutor.lesson.model import Lesson, LessonError, Problem

__all__ = ["COURSE_FILES", "DEFAULT_LESSON", "LessonNotFound", "find_lesson", "installed_lessons", "lesson_files"]

DEFAULT_LESSON = "rolling-update"
"""The lesson opened when none is named (else the first lesson of the directory)."""

SUFFIXES = (".yaml", ".yml")

COURSE_FILES = ("course.yaml", "course.yml")
"""The course file of a lessons directory (:mod:`tutor.lesson.course`): beside the lessons, never one of them."""


class LessonNotFound(LookupError):
    """No lesson has that id (the message names the ids there are), or the lessons directory is missing."""


def lesson_files(directory: Path | None = None) -> list[Path]:
    """The lesson files of a directory (the lessons directory by default), sorted by name; the course file is not
    one."""
    folder = paths.lessons_dir() if directory is None else directory
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir()
                  if path.suffix in SUFFIXES and path.name not in COURSE_FILES and path.is_file())


def _index(directory: Path | None) -> tuple[dict[str, Path], list[Path]]:
    """Lesson id -> file, and the files without a readable id.

    Raises:
        LessonError: two files have the same id (one line per file too many, naming both).
    """
    files = lesson_files(directory)
    duplicates = duplicate_ids(files)
    if duplicates:
        raise LessonError(duplicates)
    ids: dict[str, Path] = {}
    unreadable: list[Path] = []
    for file in files:
        found = read_id(file)
        if found is None:
            unreadable.append(file)
        else:
            ids[found[0]] = file
    return ids, unreadable


def _is_path(name: str) -> bool:
    """Whether the user named a file rather than an id."""
    return Path(name).suffix in SUFFIXES or "/" in name or Path(name).is_file()


def find_lesson(name: str | None, directory: Path | None = None) -> Path:
    """The lesson file of an id (``rolling-update``) or a path; the default lesson when ``name`` is None.

    Args:
        name: a lesson id, a lesson file, or None.
        directory: where to look for ids (default: the lessons directory).

    Raises:
        LessonNotFound: no such file, no lesson with that id (the message lists the ids), or no lessons at all.
        LessonError: two lesson files of the directory have the same id.
    """
    if name is not None and _is_path(name):
        if Path(name).is_file():
            return Path(name)
        raise LessonNotFound(f"no lesson file {name}")
    folder = paths.lessons_dir() if directory is None else directory
    if not folder.is_dir():
        raise LessonNotFound(f"no lessons directory {folder}")
    ids, unreadable = _index(folder)
    if name is None:
        if not ids:
            raise LessonNotFound(f"no lessons in {folder}")
        name = DEFAULT_LESSON if DEFAULT_LESSON in ids else min(ids)
    if name in ids:
        return ids[name]
    known = ", ".join(sorted(ids)) or "none"
    broken = f"; without a readable id: {', '.join(str(file) for file in unreadable)}" if unreadable else ""
    raise LessonNotFound(f"no lesson called {name!r} (lessons: {known}{broken})")


def installed_lessons(directory: Path | None = None) -> tuple[list[Lesson], list[Problem]]:
    """Every lesson of the lessons directory that loads (what the lesson picker offers), in file name order,
    and the problems of the files that do not.

    Args:
        directory: default: the lessons directory.
    """
    files = lesson_files(directory)
    problems = duplicate_ids(files)
    clashing = {problem.file for problem in problems}
    lessons: list[Lesson] = []
    for file in files:
        if file in clashing:
            continue
        try:
            lessons.append(load_lesson(file))
        except LessonError as error:
            problems.extend(error.problems)
    return lessons, problems
