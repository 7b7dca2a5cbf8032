"""Provides the TUI's screens."""

from tutor.tui.screens.help import HelpScreen
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.screens.start import StartScreen

__all__ = ["HelpScreen", "LessonScreen", "StartScreen"]
