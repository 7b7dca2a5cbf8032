"""Provides Checklist: the live verdict on each of the step's conditions."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tutor.lesson.checks import StepVerdict
from tutor.tui.prose import Prose, inline, text_block
from tutor.tui.text import t


class Checklist(Static):
    """One line per condition: ✓ what holds, ○ what is still missing (with its observed value).

    Each condition's text is inline Markdown (```code```), wrapped under its mark (a hanging indent) by the
    rules of :mod:`tutor.tui.linebreak`.
    """

    def __init__(self, lang: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self.lang = lang
        self.verdict: StepVerdict | None = None

    def show(self, verdict: StepVerdict | None, *, expect_failure: bool = False) -> None:
        self.verdict = verdict
        heading = t("checklist.heading", self.lang)
        if expect_failure:
            heading += t("checklist.intended", self.lang)
        blocks = [text_block(heading, style="bold")]
        if verdict is None:
            blocks.append(text_block(t("checklist.looking", self.lang), style="dim"))
        else:
            for result in verdict.results:
                mark = Content.styled("✓ " if result.passed else "○ ",
                                      "bold green" if result.passed else "bold yellow")
                blocks.append(inline(result.message(self.lang), first=mark))
        self.update(Prose(blocks))
        self.set_class(verdict is not None and verdict.passed, "-passed")

    def plain(self) -> str:
        """The checklist as plain text, unwrapped (for tests and screen readers)."""
        return str(self.content)
