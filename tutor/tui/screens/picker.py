"""Provides LessonPicker: the course, in order, each lesson with the learner's progress; Enter opens one."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from tutor.lesson import Lesson
from tutor.lesson.progress import LessonStatus
from tutor.tui.prose import Block, Prose, text_block
from tutor.tui.screens.end import duration
from tutor.tui.text import localize_bindings, t


def status_text(status: LessonStatus | None, lang: str) -> Text:
    """``not started``, ``step 2 of 4 · 3 min 05 s spent`` or ``✓ done · 7 min 15 s spent``, in ``lang``."""
    if status is None or status.state == "not_started":
        return Text(t("picker.not_started", lang), style="dim")
    spent = t("picker.spent", lang, time=duration(status.seconds, lang))
    if status.state == "done":
        return Text.assemble(("✓ " + t("picker.done", lang), "bold green"), (f" · {spent}", "dim"))
    return Text.assemble((t("picker.step", lang, n=status.step, total=status.steps), "bold yellow"),
                         (f" · {spent}", "dim"))


class LessonPicker(Screen[Lesson | None]):
    """The lessons of the course, numbered in its order, each with its title, progress and description.

    Args:
        lessons: the lessons, in the course order.
        lang: ``ja`` or ``en``.
        statuses: each lesson's progress, by id (a lesson without one is not started).
        course: the course's title (None: no heading of its own).
        highlight: the id of the lesson the cursor starts on (where the learner resumes).
        closable: Esc goes back (the picker was opened over a lesson) and dismisses with None.
    """

    BINDINGS = [Binding("escape", "close_picker", "Back", show=False)]

    def __init__(self, lessons: list[Lesson], lang: str, *, statuses: Mapping[str, LessonStatus] | None = None,
                 course: str | None = None, highlight: str | None = None, closable: bool = False) -> None:
        super().__init__()
        localize_bindings(self, lang)
        self.lessons = lessons
        self.lang = lang
        self.statuses = dict(statuses or {})
        self.course = course
        self.highlight = highlight
        self.closable = closable

    def option(self, number: int, lesson: Lesson) -> Option:
        """The lesson's number, title and progress, its description under them; broken into lines as the TUI
        breaks Japanese (:mod:`tutor.tui.linebreak`)."""
        lang = self.lang
        head = (Content.styled(lesson.title.get(lang), "bold") + "  "
                + Content.from_rich_text(status_text(self.statuses.get(lesson.id), lang)))
        number_prefix = f"{number}. "
        prompt = Prose([Block(head, first=Content.styled(number_prefix, "bold")),
                        text_block(lesson.description.get(lang), first=" " * len(number_prefix))])
        return Option(prompt, id=lesson.id)

    def compose(self) -> ComposeResult:
        heading = Text.assemble(("kube-tutor", "bold"), " · ", (f"{self.course} · " if self.course else ""),
                                t("picker.title", self.lang))
        with Vertical(id="picker"):
            yield Static(heading)
            yield OptionList(*(self.option(number, lesson) for number, lesson in enumerate(self.lessons, 1)))
            yield Static(t("picker.keys", self.lang), id="picker-keys")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [lesson.id for lesson in self.lessons]
        options.highlighted = ids.index(self.highlight) if self.highlight in ids else 0
        options.focus()

    def action_close_picker(self) -> None:
        if self.closable:
            self.dismiss(None)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(next(lesson for lesson in self.lessons if lesson.id == event.option.id))
