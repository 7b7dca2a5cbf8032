"""Provides Checklist: the live verdict on each of the step's conditions."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tutor.lesson.checks import StepVerdict
from tutor.tui.text import t


def inline_code(message: str) -> Text:
    """Markdown's `code` spans as bold text without the backticks."""
    text = Text()
    for index, part in enumerate(message.split("`")):
        text.append(part, style="bold" if index % 2 else "")
    return text


class Checklist(Static):
    """One line per condition: ✓ what holds, ○ what is still missing (with its observed value)."""

    def __init__(self, lang: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self.lang = lang
        self.verdict: StepVerdict | None = None

    def show(self, verdict: StepVerdict | None, *, expect_failure: bool = False) -> None:
        self.verdict = verdict
        heading = t("checklist.heading", self.lang)
        if expect_failure:
            heading += t("checklist.intended", self.lang)
        text = Text(heading + "\n", style="bold")
        text.append("")
        if verdict is None:
            text.append(t("checklist.looking", self.lang), style="dim")
        else:
            for index, result in enumerate(verdict.results):
                if index:
                    text.append("\n")
                text.append("✓ " if result.passed else "○ ", style="bold green" if result.passed else "bold yellow")
                text.append_text(inline_code(result.message(self.lang)))
        self.update(text)
        self.set_class(verdict is not None and verdict.passed, "-passed")

    def plain(self) -> str:
        """The checklist as plain text (for tests and screen readers)."""
        content = self.content
        return content.plain if isinstance(content, Text) else str(content)
