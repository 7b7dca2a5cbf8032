"""Provides LessonPicker: choose a lesson when several are installed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tutor.lesson import Lesson
from tutor.tui.text import t


class LessonPicker(Screen[Lesson]):
    """A list of lessons (title and description); Enter opens one."""

    def __init__(self, lessons: list[Lesson], lang: str) -> None:
        super().__init__()
        self.lessons = lessons
        self.lang = lang

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static("[b]kube-tutor[/b] · " + t("picker.title", self.lang))
            yield OptionList(*(Option(f"[b]{lesson.title.get(self.lang)}[/b]\n{lesson.description.get(self.lang)}",
                                      id=lesson.id) for lesson in self.lessons))
        yield Footer()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(next(lesson for lesson in self.lessons if lesson.id == event.option.id))
