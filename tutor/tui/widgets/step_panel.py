"""Provides StepPanel: the step's Markdown text with each suggested command as a runnable block."""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Markdown, Static

_FENCE = re.compile(r"```[^\n]*\n(.*?)```", re.DOTALL)


def split_markdown(text: str) -> list[tuple[str, str]]:
    """Cut Markdown at fenced code blocks: ``[("md", text), ("code", block), ...]``."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in _FENCE.finditer(text):
        if match.start() > position:
            parts.append(("md", text[position:match.start()]))
        parts.append(("code", match.group(1)))
        position = match.end()
    if position < len(text):
        parts.append(("md", text[position:]))
    return [(kind, body) for kind, body in parts if body.strip()]


_CJK_BREAK = re.compile(r"(?<=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef])\n(?=[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef`*])")


def join_cjk_lines(text: str) -> str:
    """Join a paragraph's lines between Japanese characters: Markdown would put a space there."""
    return _CJK_BREAK.sub("", text)


class CommandBlock(Static, can_focus=True):
    """A suggested command: Enter runs it in the console, ``c`` copies it."""

    BINDINGS = [
        Binding("enter", "run", "Run"),
        Binding("c", "copy", "Copy"),
    ]

    @dataclass
    class Run(Message):
        command: str

    @dataclass
    class Copy(Message):
        command: str

    def __init__(self, command: str) -> None:
        super().__init__(f"$ {command}", markup=False, classes="command")
        self.command = command

    def action_run(self) -> None:
        self.post_message(self.Run(self.command))

    def action_copy(self) -> None:
        self.post_message(self.Copy(self.command))

    def on_click(self) -> None:
        self.focus()


class StepPanel(Vertical):
    """A step's title and text; code blocks become CommandBlocks."""

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 - Textual's naming
        super().__init__(id=id)
        self._title = Static("", id="step-title", markup=False)
        self._body = Vertical(id="step-body")

    def compose(self) -> ComposeResult:
        yield self._title
        yield self._body

    async def show(self, title: str, text: str, commands: tuple[str, ...], *, lang: str = "en") -> None:
        """Replace the content with a step (its suggested commands are the code blocks' lines)."""
        self._title.update(title)
        await self._body.remove_children()
        widgets: list[Widget] = []
        for kind, body in split_markdown(text):
            if kind == "md":
                widgets.append(Markdown(join_cjk_lines(body.strip()) if lang == "ja" else body.strip()))
            else:
                for line in body.strip().splitlines():
                    if line.strip():
                        widgets.append(CommandBlock(line.strip()))
        await self._body.mount_all(widgets)
        del commands

    def command_blocks(self) -> list[CommandBlock]:
        return list(self._body.query(CommandBlock))
