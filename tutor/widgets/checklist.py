"""Provides Checklist: the live verdict on each of the step's conditions."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from tutor.checks import StepVerdict


class Checklist(Static):
    """One line per condition: ✓ what holds, ○ what is still missing (with its observed value)."""

    def __init__(self, lang: str, *, id: str | None = None) -> None:  # noqa: A002
        super().__init__("", id=id)
        self.lang = lang
        self.verdict: StepVerdict | None = None

    def show(self, verdict: StepVerdict | None, *, expect_failure: bool = False) -> None:
        self.verdict = verdict
        heading = {"ja": "チェック", "en": "Checks"}[self.lang]
        if expect_failure:
            heading += {"ja": "（この失敗は意図したものです）", "en": " (this failure is intended)"}[self.lang]
        text = Text(heading + "\n", style="bold")
        if verdict is None:
            text.append({"ja": "クラスターを確認しています…", "en": "Looking at the cluster…"}[self.lang], style="dim")
        else:
            for result in verdict.results:
                if result.passed:
                    text.append("✓ ", style="bold green")
                    text.append(result.message(self.lang) + "\n")
                else:
                    text.append("○ ", style="bold yellow")
                    text.append(result.message(self.lang) + "\n", style="")
        self.update(text)
        self.set_class(verdict is not None and verdict.passed, "-passed")

    def plain(self) -> str:
        """The checklist as plain text (for tests and screen readers)."""
        content = self.content
        return content.plain if isinstance(content, Text) else str(content)
