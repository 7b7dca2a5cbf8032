"""Provides StepPanel: the step's Markdown text with each suggested command as a runnable block.

The text is shown as :class:`~tutor.tui.prose.Prose`, which breaks Japanese lines as a Japanese reader expects
(:mod:`tutor.tui.linebreak`); a command wraps at its spaces, under its ``$``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from tutor.tui.prose import Block, Prose, markdown, text_block

_FENCE = re.compile(r"```([^\n]*)\n(.*?)```", re.DOTALL)
CONTAINER_FENCE = "container"
"""The info string of a code block whose lines are typed inside a container (after ``kubectl exec -ti ... bash``):
shown with the container's ``#`` prompt and not runnable from the console, where they would mean something else."""


def split_markdown(text: str) -> list[tuple[str, str]]:
    """Cut Markdown at fenced code blocks: ``[("md", text), ("code", block), ...]``; a block fenced
    ```` ```container ```` is ``("container", block)``."""
    parts: list[tuple[str, str]] = []
    position = 0
    for match in _FENCE.finditer(text):
        if match.start() > position:
            parts.append(("md", text[position:match.start()]))
        parts.append(("container" if match.group(1).strip() == CONTAINER_FENCE else "code", match.group(2)))
        position = match.end()
    if position < len(text):
        parts.append(("md", text[position:]))
    return [(kind, body) for kind, body in parts if body.strip()]


def command_prose(command: str, prompt: str = "$ ") -> Prose:
    """``$ command``, wrapped at the command's spaces (a word wider than the line is folded after a ``/``, ``-``,
    ``:``...) under a hanging indent."""
    return Prose([Block(Content(command), code=((0, len(command)),), first=Content(prompt))])


class StepText(Static):
    """A run of the step's Markdown between two code blocks."""

    DEFAULT_CSS = """
    StepText { margin: 0 0 1 0; }
    """

    def __init__(self, text: str) -> None:
        super().__init__(markdown(text))
        self.text = text


class CommandBlock(Static, can_focus=True):
    """A suggested command: Enter runs it in the console, Ctrl+C copies it; any other key typed on it goes to the
    console (:class:`CommandBlock.Typed`), so nothing typed is lost."""

    BINDINGS = [
        Binding("enter", "run", "Run"),
        Binding("ctrl+c", "copy", "Copy"),
    ]

    @dataclass
    class Run(Message):
        command: str

    @dataclass
    class Copy(Message):
        command: str

    @dataclass
    class Typed(Message):
        """Printable text was typed (or pasted) while the block had the focus: it belongs in the console."""

        text: str

    def on_key(self, event: events.Key) -> None:
        """Send a printable key on to the console (before any binding of the screen sees it)."""
        if event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            self.post_message(self.Typed(event.character))

    def on_paste(self, event: events.Paste) -> None:
        """Send pasted text on to the console."""
        if event.text:
            event.stop()
            self.post_message(self.Typed(event.text))

    def __init__(self, command: str) -> None:
        super().__init__(command_prose(command), classes="command")
        self.command = command

    def action_run(self) -> None:
        self.post_message(self.Run(self.command))

    def action_copy(self) -> None:
        self.post_message(self.Copy(self.command))

    def on_click(self) -> None:
        self.focus()


class ContainerLine(Static):
    """A line of a ```` ```container ```` block: typed inside a container, so shown after the container's ``#``
    prompt and not runnable from the console (no focus, no Enter)."""

    def __init__(self, command: str) -> None:
        super().__init__(command_prose(command, "# "), classes="command container")
        self.command = command


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
        self._title.update(Prose([text_block(title)]))
        await self._body.remove_children()
        widgets: list[Widget] = []
        for kind, body in split_markdown(text):
            if kind == "md":
                widgets.append(StepText(body.strip()))
            elif kind == "container":
                widgets.extend(ContainerLine(line.strip()) for line in body.strip().splitlines() if line.strip())
            else:
                for line in body.strip().splitlines():
                    if line.strip():
                        widgets.append(CommandBlock(line.strip()))
        await self._body.mount_all(widgets)
        del commands

    def command_blocks(self) -> list[CommandBlock]:
        return list(self._body.query(CommandBlock))
