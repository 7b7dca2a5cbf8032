"""Provides Checklist: the live verdict on each of the step's conditions."""

from __future__ import annotations

from rich.text import Text
from textual.content import Content
from textual.widgets import Static

from tutor.lesson.checks import StepVerdict
from tutor.tui.prose import Prose, inline, text_block
from tutor.tui.text import t


def inline_code(message: str) -> Text:
    """Markdown's `code` spans as bold text without the backticks (one line that may be cut, not wrapped)."""
    text = Text()
    for index, part in enumerate(message.split("`")):
        text.append(part, style="bold" if index % 2 else "")
    return text


class Checklist(Static):
    """One line per condition: ✓ what holds, ○ what is still missing (with its observed value).

    Each condition's text is inline Markdown (```code```), wrapped under its mark (a hanging indent) by the
    rules of :mod:`tutor.tui.linebreak`. Folded (:meth:`fold`, the screen's F4), it is one line: how many hold
    and the first that does not.
    """

    def __init__(self, lang: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self.lang = lang
        self.verdict: StepVerdict | None = None
        self.expect_failure = False
        self.folded = False

    def show(self, verdict: StepVerdict | None, *, expect_failure: bool = False) -> None:
        self.verdict = verdict
        self.expect_failure = expect_failure
        self.update(self.summary() if self.folded else self.full())
        self.set_class(verdict is not None and verdict.passed, "-passed")

    def fold(self, folded: bool) -> None:
        """One line (True) or the whole list (False)."""
        if folded != self.folded or not self.content:
            self.folded = folded
            self.set_class(folded, "-folded")
            self.show(self.verdict, expect_failure=self.expect_failure)

    def _heading(self) -> str:
        heading = t("checklist.heading", self.lang)
        return heading + t("checklist.intended", self.lang) if self.expect_failure else heading

    def full(self) -> Prose:
        blocks = [text_block(self._heading(), style="bold")]
        if self.verdict is None:
            blocks.append(text_block(t("checklist.looking", self.lang), style="dim"))
        else:
            for result in self.verdict.results:
                mark = Content.styled("✓ " if result.passed else "○ ",
                                      "bold green" if result.passed else "bold yellow")
                blocks.append(inline(result.message(self.lang), first=mark))
        return Prose(blocks)

    def summary(self) -> Text:
        """The folded line: ``▸ Checks 1/2 (F4) ○ the first condition that does not hold``."""
        verdict = self.verdict
        text = Text("▸ " + t("checklist.heading", self.lang), style="bold")
        if verdict is None:
            text.append(f" {t('checklist.unfold', self.lang)} ")
            text.append(t("checklist.looking", self.lang), style="dim")
            return text
        held = sum(1 for result in verdict.results if result.passed)
        text.append(f" {held}/{len(verdict.results)}", style="bold green" if verdict.passed else "bold yellow")
        text.append(f" {t('checklist.unfold', self.lang)} ")
        missing = next((result for result in verdict.results if not result.passed), None)
        if missing is None:
            text.append("✓ ", style="bold green")
            text.append(t("checklist.all_hold", self.lang))
        else:
            text.append("○ ", style="bold yellow")
            text.append_text(inline_code(missing.message(self.lang)))
        return text

    def plain(self) -> str:
        """The checklist as plain text, unwrapped (for tests and screen readers): the whole list, folded or not."""
        lines = [self._heading()]
        if self.verdict is None:
            lines.append(t("checklist.looking", self.lang))
        else:
            lines += [("✓ " if r.passed else "○ ") + r.message(self.lang).replace("`", "")
                      for r in self.verdict.results]
        return "\n".join(lines)
