"""Provides the TUI's screens."""

from tutor.screens.help import HelpScreen
from tutor.screens.lesson import LessonScreen
from tutor.screens.start import StartScreen

__all__ = ["HelpScreen", "LessonScreen", "StartScreen"]
