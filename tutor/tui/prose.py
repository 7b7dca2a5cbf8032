"""Provides Prose: text the TUI wraps by the rules of :mod:`tutor.tui.linebreak`, at whatever width it gets.

Textual's own wrapping breaks lines at spaces only, which leaves Japanese ragged, a ``。`` alone at a line
start and ``3`` apart from ``つ``. :class:`Prose` is a Textual :class:`~textual.visual.Visual`: give it to a
``Static`` (``static.update(prose)``) and it breaks its lines again on every resize. It is made of
:class:`Block` s (a paragraph, a list item, a checklist line: styled text and the prefix of its first and
following lines); :func:`markdown` and :func:`inline` make them from the Markdown of the lesson texts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from textual.content import Content, Span
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions, Visual

from tutor.tui.linebreak import NO_END, NO_START, break_lines, is_cjk

CODE_STYLE = "$text-warning on $warning 10%"
"""Inline code (``kubectl``), as Textual's Markdown shows it."""

_INLINE_STYLES = {"strong": "bold", "em": "italic", "s": "strike", "link": "underline"}
"""The style of each inline Markdown element that has one (the ``_open`` token's name without it)."""


@dataclass(frozen=True)
class Block:
    """A paragraph (or a list item, a line of a checklist): wrapped as one, under its prefixes."""

    text: Content
    """The text; each ``\\n`` in it ends a line."""
    code: tuple[tuple[int, int], ...] = ()
    """Ranges of ``text`` that are code: they break only at their spaces."""
    first: Content = field(default_factory=Content)
    """What the first line starts with (``• ``, ``✓ ``, ``1. ``)."""
    rest: Content | None = None
    """What every following line starts with; None: as many spaces as ``first`` is wide (a hanging indent)."""
    space_before: bool = False
    """A blank line separates it from the block before (paragraphs)."""

    def lines(self, width: int) -> list[Content]:
        """The block's lines at ``width`` cells, prefixes included."""
        first = self.first
        rest = self.rest if self.rest is not None else Content(" " * first.cell_length)
        room = max(1, width - max(first.cell_length, rest.cell_length))
        return [(first if number == 0 else rest) + self.text[start:end]
                for number, (start, end) in enumerate(break_lines(self.text.plain, room, code=self.code))]

    @property
    def plain(self) -> str:
        """The block unwrapped: its prefix and its text."""
        return self.first.plain + self.text.plain


class Prose(Visual):
    """Blocks of text, broken into lines for the width they are shown at (:mod:`tutor.tui.linebreak`)."""

    def __init__(self, blocks: Iterable[Block], *, measure: int | None = None) -> None:
        """Args:
            blocks: the paragraphs.
            measure: the widest a line gets, in cells, however wide the widget (None: as wide as it is).
        """
        self.blocks: tuple[Block, ...] = tuple(blocks)
        self.measure = measure
        self._lines: dict[int, list[Content]] = {}

    def __str__(self) -> str:
        return self.plain

    def __repr__(self) -> str:
        return f"Prose({self.plain!r})"

    @property
    def plain(self) -> str:
        """Every block unwrapped, one per line (a blank line before a paragraph)."""
        parts: list[str] = []
        for block in self.blocks:
            if block.space_before and parts:
                parts.append("")
            parts.append(block.plain)
        return "\n".join(parts)

    def lines(self, width: int) -> list[Content]:
        """The lines at ``width`` cells."""
        if self.measure is not None:
            width = min(width, self.measure)
        found = self._lines.get(width)
        if found is None:
            found = []
            for block in self.blocks:
                if block.space_before and found:
                    found.append(Content())
                found += block.lines(width)
            if len(self._lines) > 8:
                self._lines.clear()
            self._lines[width] = found
        return found

    # ---- the Visual protocol
    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        if width <= 0:
            return []
        # Each line fits, so Content's own wrapping (at spaces) leaves them as they are.
        return Content("\n").join(self.lines(width)).render_strips(width, height, style, options)

    def get_optimal_width(self, rules: RulesMap, container_width: int) -> int:
        widest = max((block.first.cell_length + max(Content(line).cell_length for line in block.text.plain.split("\n"))
                      for block in self.blocks), default=0)
        return widest if self.measure is None else min(widest, self.measure)

    def get_minimal_width(self, rules: RulesMap) -> int:
        return max((block.first.cell_length + 2 for block in self.blocks), default=1)

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self.lines(width))


# ---- making blocks ---------------------------------------------------------------------------------------------


def join_lines(before: str, after: str) -> str:
    """What a line break inside a paragraph becomes: nothing between Japanese text (or next to Japanese
    punctuation such as ``。``, ``（``), else a space."""
    if not before or not after:
        return ""
    last, first = before[-1], after[0]
    if (is_cjk(last) and is_cjk(first)) or (is_cjk(last) and last in NO_START) or (is_cjk(first) and first in NO_END):
        return ""
    return " "


class _Inline:
    """Builds the text of one block from inline Markdown tokens: its styled spans and its code ranges."""

    def __init__(self) -> None:
        self.text = ""
        self.spans: list[Span] = []
        self.code: list[tuple[int, int]] = []
        self.open: list[tuple[str, int]] = []
        self.soft_break = False

    def add_content(self, content: Content) -> None:
        """Append text that is already styled (no Markdown)."""
        self.add(content.plain)
        start = len(self.text) - len(content.plain)
        self.spans += [Span(start + span.start, start + span.end, span.style) for span in content.spans]

    def add(self, text: str, style: str | None = None, *, code: bool = False) -> None:
        if not text:
            return
        if self.soft_break:
            self.text += join_lines(self.text, text)
            self.soft_break = False
        start = len(self.text)
        self.text += text
        if style:
            self.spans.append(Span(start, len(self.text), style))
        if code:
            self.code.append((start, len(self.text)))

    def tokens(self, tokens: Sequence[Token]) -> None:
        for token in tokens:
            kind = token.type
            if kind in ("text", "html_inline"):
                self.add(token.content)
            elif kind == "code_inline":
                self.add(token.content, CODE_STYLE, code=True)
            elif kind == "softbreak":
                self.soft_break = True
            elif kind == "hardbreak":
                self.soft_break = False
                self.text += "\n"
            elif kind == "image":
                self.tokens(token.children or [])
            elif kind.endswith("_open"):
                self.open.append((kind[: -len("_open")], len(self.text)))
            elif kind.endswith("_close") and self.open:
                name, start = self.open.pop()
                style = _INLINE_STYLES.get(name)
                if style and start < len(self.text):
                    self.spans.append(Span(start, len(self.text), style))

    def block(self, *, first: Content | None = None, rest: Content | None = None, space_before: bool = False,
              style: str = "") -> Block:
        spans = ([Span(0, len(self.text), style)] if style and self.text else []) + self.spans
        return Block(Content(self.text, spans=spans), tuple(self.code), first or Content(), rest, space_before)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark")


def inline(text: str, *, first: Content | str = "", lead: Content | None = None, style: str = "") -> Block:
    """One block of inline Markdown (``**bold**``, ```code```): a line of a checklist, a banner's sentence.

    Args:
        text: the Markdown.
        first: what its first line starts with (the following lines are indented as far).
        lead: styled text the block's text starts with (wrapped with it, unlike ``first``).
        style: the style of the whole text.
    """
    builder = _Inline()
    if lead is not None:
        builder.add_content(lead)
    for token in _parser().parseInline(text):
        builder.tokens(token.children or [])
    prefix = Content(first) if isinstance(first, str) else first
    return builder.block(first=prefix, style=style)


def text_block(text: str | Content, *, first: Content | str = "", style: str = "",
               space_before: bool = False) -> Block:
    """One block of plain text (no Markdown), e.g. a line of the TUI's own words."""
    content = Content(text) if isinstance(text, str) else text
    if style:
        content = content.stylize(style)
    prefix = Content(first) if isinstance(first, str) else first
    return Block(content, first=prefix, space_before=space_before)


def banner_prose(head: str, said: str, *lines: str) -> Prose:
    """A banner: ``head`` in bold, then ``said`` (inline Markdown) in the same paragraph, then each of ``lines``
    on a line of its own (``✓ Step passed! The rolling update has started.`` / ``Moving on in 5 s``)."""
    first = inline(said, lead=Content.styled(head, "bold") + (" " if said else ""))
    return Prose([first, *(text_block(line) for line in lines)])


def markdown(text: str) -> Prose:
    """The Markdown of a lesson text: paragraphs, headings, lists, quotes, code; ``**bold**``, ``*em*``,
    ```code```, links (their text)."""
    blocks: list[Block] = []
    indents: list[Content] = []
    """What the lines of each open list item or quote start with, outermost first."""
    marker: Content | None = None
    """The marker (``• ``, ``2. ``) of the list item whose first block is still to come."""
    numbers: list[int | None] = []
    """For each open list: the number of its next item, or None for bullets."""
    list_starts = False
    """A top-level list begins: a blank line before its first item."""

    def add(builder: _Inline, *, space: bool, style: str = "") -> None:
        nonlocal marker, list_starts
        lead = Content("").join(indents)
        first = lead if marker is None else Content("").join(indents[:-1]) + marker
        blocks.append(builder.block(first=first, rest=lead, space_before=bool(blocks) and (space or list_starts),
                                    style=style))
        marker, list_starts = None, False

    tokens = _parser().parse(text)
    for index, token in enumerate(tokens):
        kind = token.type
        if kind in ("paragraph_open", "heading_open"):
            builder = _Inline()
            builder.tokens(tokens[index + 1].children or [])
            add(builder, space=not token.hidden, style="bold" if kind == "heading_open" else "")
        elif kind in ("bullet_list_open", "ordered_list_open"):
            start = token.attrGet("start")
            numbers.append(int(start or 1) if kind == "ordered_list_open" else None)
            list_starts = len(numbers) == 1
        elif kind in ("bullet_list_close", "ordered_list_close"):
            numbers.pop()
        elif kind == "list_item_open":
            number = numbers[-1] if numbers else None
            marker = Content("• ") if number is None else Content(f"{number}. ")
            if number is not None:
                numbers[-1] = number + 1
            indents.append(Content(" " * marker.cell_length))
        elif kind == "list_item_close":
            indents.pop()
            marker = None
        elif kind == "blockquote_open":
            indents.append(Content.styled("▌ ", "dim"))
        elif kind == "blockquote_close":
            indents.pop()
        elif kind in ("fence", "code_block", "html_block", "hr"):
            builder = _Inline()
            if kind == "hr":
                builder.add("───", "dim")
            else:
                builder.add(token.content.rstrip("\n"), None if kind == "html_block" else CODE_STYLE,
                            code=kind != "html_block")
            add(builder, space=True)
    return Prose(blocks)
