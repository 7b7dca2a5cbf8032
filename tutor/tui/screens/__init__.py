"""Provides the TUI's screens."""

from tutor.tui.screens.end import EndScreen
from tutor.tui.screens.help import HelpScreen
from tutor.tui.screens.intro import IntroScreen
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.screens.start import StartScreen
from tutor.tui.screens.too_small import TooSmallScreen

__all__ = ["EndScreen", "HelpScreen", "IntroScreen", "LessonScreen", "StartScreen", "TooSmallScreen"]
