"""Provides lessons: the model, the strict YAML loader and lint, the CEL checks, the runtime, progress, verify.

Core: nothing here imports textual. What the rest of kube-tutor uses is re-exported here; modules inside this
package import each other by their own names (``tutor.lesson.model``), never through this package.
"""

from tutor.lesson.library import LessonNotFound, find_lesson, installed_lessons, lesson_files
from tutor.lesson.loader import lint, lint_main, load_lesson
from tutor.lesson.model import (
    CEL_NAMES,
    LANGUAGES,
    Check,
    Lesson,
    LessonError,
    Problem,
    Setup,
    Step,
    Text,
)

__all__ = [
    "CEL_NAMES",
    "LANGUAGES",
    "Check",
    "Lesson",
    "LessonError",
    "LessonNotFound",
    "Problem",
    "Setup",
    "Step",
    "Text",
    "find_lesson",
    "installed_lessons",
    "lesson_files",
    "lint",
    "lint_main",
    "load_lesson",
]
