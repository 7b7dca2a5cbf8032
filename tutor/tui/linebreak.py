"""Provides line breaking for Japanese and mixed Japanese/English text in a terminal (no textual here).

The rules are those of Japanese typesetting (JIS X 4051, *kinsoku shori*), for a ragged-right terminal:

- a line may break between any two CJK characters, and between a CJK character and a Latin one;
- Latin words and code spans break only at spaces (a word wider than the line is folded, after a ``/``,
  ``-``, ``:``... when one is near the end);
- no line starts with a closing bracket or punctuation (``）」。、！？``...), a small kana (``ゃ``, ``ッ``...),
  the long-vowel mark ``ー``, an iteration mark or ``…`` (JIS X 4051 classes cl-02 to cl-11);
- no line ends with an opening bracket (``（「『``..., class cl-01);
- a number stays with what follows it: ``3 つ``, ``4個``, ``10 秒``, ``25%``, ``5 s``;
- among the breaks that fill a line about as well, one between two phrases is preferred (BudouX, Google's
  phrase segmenter for Japanese, tells where phrases end), so words such as ``デプロイ`` are rarely cut;
  the line gives up at most :func:`phrase_slack` cells for it.

Widths are terminal cells as Rich counts them (``rich.cells.cell_len``): a CJK character takes two.
:func:`break_lines` answers where each line of a text starts and ends; the TUI's :mod:`tutor.tui.prose`
slices styled text there.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

from rich.cells import cell_len


def _chars(*codepoints: int) -> frozenset[str]:
    return frozenset(map(chr, codepoints))


_SMALL_KANA = frozenset(chr(c) for c in [*range(0x3041, 0x3100), *range(0x31F0, 0x3200)]
                        if " SMALL " in unicodedata.name(chr(c), ""))
"""cl-11: small hiragana and katakana (by their Unicode names: ぁ ッ ゃ ㇰ ...)."""

_CLOSING = frozenset(
    # cl-02 closing brackets and quotes
    "’”）〕］｝〉》」』】｠〙〗»〟)]}"
    # cl-04 question and exclamation marks, cl-05 colons and semicolons, cl-06 full stops, cl-07 commas
    "？！‼⁇⁈⁉?!：；:;。．.、，,"
)
"""What closes a phrase: a break right after one is always a good one."""

NO_START: frozenset[str] = _CLOSING | frozenset(
    # cl-03 hyphens (and U+30A0, the katakana double hyphen, below)
    "‐〜–"
    # cl-08 inseparable (kept off a line start too), cl-09 iteration marks, postfix units (cl-20)
    "…‥々〻%％‰℃°′″"
) | _SMALL_KANA | _chars(
    0x30A0,  # KATAKANA-HIRAGANA DOUBLE HYPHEN (cl-03)
    0x30FB,  # KATAKANA MIDDLE DOT (cl-05)
    0x309D, 0x309E, 0x30FD, 0x30FE,  # hiragana and katakana iteration marks (cl-09)
    0x30FC,  # KATAKANA-HIRAGANA PROLONGED SOUND MARK (cl-10)
    0x309B, 0x309C,  # voiced and semi-voiced sound marks
)
"""Characters no line may start with (JIS X 4051 行頭禁則)."""

NO_END: frozenset[str] = frozenset("‘“（〔［｛〈《「『【｟〘〖«〝([{")
"""Characters no line may end with (JIS X 4051 行末禁則: the opening brackets, cl-01)."""

INSEPARABLE: frozenset[str] = frozenset("—…‥〳〴〵")
"""Two of these in a row are never broken apart (cl-08)."""

FOLD_AFTER: frozenset[str] = frozenset("/=,?&")
"""Where a word wider than the line is folded by preference (between the parts of a path, an image, a flag)."""
FOLD_AFTER_WEAK: frozenset[str] = frozenset("-:._")
"""Where a word wider than the line is folded when it has none of :data:`FOLD_AFTER` near the line's end."""

_DIGITS = frozenset("0123456789０１２３４５６７８９")
_SPACES = frozenset(" \t")
_UNIT = re.compile(r"(?:s|ms|min|h|m|%|KiB|MiB|GiB|kB|MB|GB|x)(?![A-Za-z0-9])")
"""An English unit after a number and a space (``5 s``, ``20 MiB``): kept on the number's line."""


@dataclass(frozen=True)
class Break:
    """A place a line may end: the line ends at ``end``, the next one starts at ``next`` (after spaces)."""

    end: int
    """The offset the line ends at (exclusive)."""
    next: int
    """The offset the next line starts at (spaces between ``end`` and ``next`` disappear)."""
    good: bool
    """A break a reader expects: at a space, or between two phrases; not inside a Japanese word."""


@cache
def _wide(char: str) -> bool:
    """A character of a CJK script or a fullwidth form (it takes two cells)."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def is_cjk(char: str) -> bool:
    """Whether ``char`` is written in Japanese text's own scripts (kana, kanji, fullwidth punctuation)."""
    return _wide(char)


@lru_cache(maxsize=1)
def _phrase_parser() -> Any:
    """BudouX's Japanese model (loaded once, on first use)."""
    import budoux

    return budoux.load_default_japanese_parser()


def phrase_ends(text: str) -> frozenset[int]:
    """The offsets where a phrase of Japanese ``text`` ends (BudouX); empty for text without CJK characters."""
    if not any(_wide(char) for char in text):
        return frozenset()
    offsets: set[int] = set()
    position = 0
    for chunk in _phrase_parser().parse(text):
        position += len(chunk)
        offsets.add(position)
    return frozenset(offsets)


def _in_code(code: Sequence[tuple[int, int]], position: int) -> bool:
    """Whether ``position`` lies strictly inside one of the ``code`` ranges."""
    return any(start < position < end for start, end in code)


def _glued_number(text: str, before: int, after: int, code: Sequence[tuple[int, int]]) -> bool:
    """Whether a number ends at ``before`` and a counter or a unit starts at ``after`` (``3 つ``, ``5 s``).

    A code span that ends with a digit (```...:v1```) is a name, not a number: what follows may break off."""
    if before <= 0 or text[before - 1] not in _DIGITS or after >= len(text):
        return False
    if any(end == before for _, end in code):
        return False
    if _wide(text[after]):
        return True
    return after > before and _UNIT.match(text, after) is not None


@dataclass(frozen=True)
class _Analysis:
    cells: list[int]
    """``cells[i]``: the width in cells of ``text[:i]``."""
    hard: list[tuple[int, int]]
    """The ranges of the lines the text itself has (between its ``\\n``)."""
    breaks: list[Break]
    """Every place a line may break, by offset."""
    ends: list[int]
    """``breaks[i].end`` for each ``i``, for bisecting."""


@lru_cache(maxsize=512)
def _analyse(text: str, code: tuple[tuple[int, int], ...], phrases: bool) -> _Analysis:
    cells = [0]
    for char in text:
        cells.append(cells[-1] + (0 if char == "\n" else cell_len(char)))
    hard: list[tuple[int, int]] = []
    start = 0
    for index, char in enumerate(text):
        if char == "\n":
            hard.append((start, index))
            start = index + 1
    hard.append((start, len(text)))
    phrase_end: set[int] = set()
    if phrases:
        for start, end in hard:
            phrase_end.update(start + offset for offset in phrase_ends(text[start:end]))
    breaks: list[Break] = []
    for start, end in hard:
        index = start + 1
        while index < end:
            char = text[index]
            if char in _SPACES:
                run_end = index
                while run_end < end and text[run_end] in _SPACES:
                    run_end += 1
                if run_end < end and text[index - 1] not in _SPACES and _space_may_break(text, index, run_end, code):
                    breaks.append(Break(index, run_end, True))
                index = run_end + 1
                continue
            previous = text[index - 1]
            if previous not in _SPACES and _may_break(text, index, code):
                breaks.append(Break(index, index, index in phrase_end or previous in _CLOSING))
            index += 1
    return _Analysis(cells, hard, breaks, [b.end for b in breaks])


def _space_may_break(text: str, start: int, end: int, code: Sequence[tuple[int, int]]) -> bool:
    """Whether a line may end before the spaces ``text[start:end]`` (and the next start after them)."""
    before, after = text[start - 1], text[end]
    return not (after in NO_START or before in NO_END or _glued_number(text, start, end, code))


def _may_break(text: str, index: int, code: Sequence[tuple[int, int]]) -> bool:
    """Whether a line may end between ``text[index - 1]`` and ``text[index]`` (no space between them)."""
    before, after = text[index - 1], text[index]
    if not (_wide(before) or _wide(after)):
        return False  # inside a Latin word or number
    if _in_code(code, index):
        return False  # code is broken at its spaces only
    if after in NO_START or before in NO_END:
        return False
    if before in INSEPARABLE and after in INSEPARABLE:
        return False
    return not _glued_number(text, index, index, code)


def phrase_slack(width: int) -> int:
    """How many cells a line may give up to end between two phrases rather than inside a word."""
    return min(8, width // 6)


def break_lines(text: str, width: int, *, code: Sequence[tuple[int, int]] = (),
                phrases: bool = True) -> list[tuple[int, int]]:
    """Break ``text`` into lines of at most ``width`` cells.

    Args:
        text: the text; each ``\\n`` in it ends a line.
        width: the width of a line in cells (at least 1 is used).
        code: ranges of ``text`` that are code: broken only at their spaces.
        phrases: prefer breaks between phrases (BudouX), unless that takes more lines than filling each line as
            far as the rules allow; without it, lines are always filled.

    Returns:
        ``(start, end)`` of each line in ``text``: the spaces where a line was broken belong to no line, and no
        line is wider than ``width`` unless one character is.
    """
    width = max(1, width)
    analysis = _analyse(text, tuple(code), phrases)
    lines: list[tuple[int, int]] = []
    for start, stop in analysis.hard:
        while stop > start and text[stop - 1] in _SPACES:
            stop -= 1  # spaces at the end of a line are not shown
        filled = _fill(text, analysis, start, stop, width, 0)
        if phrases:
            by_phrase = _fill(text, analysis, start, stop, width, phrase_slack(width))
            if len(by_phrase) <= len(filled):
                filled = by_phrase
        lines += filled
    return lines


def _fill(text: str, analysis: _Analysis, start: int, stop: int, width: int, slack: int) -> list[tuple[int, int]]:
    """The lines of ``text[start:stop]`` (no ``\\n`` in it), each filled up to ``width`` cells, or up to ``slack``
    cells less where that ends it between two phrases."""
    cells, breaks, ends = analysis.cells, analysis.breaks, analysis.ends
    lines: list[tuple[int, int]] = []
    position = start
    while True:
        if cells[stop] - cells[position] <= width:
            if position < stop or position == start:  # (an empty line only for an empty line of the text)
                lines.append((position, stop))
            return lines
        limit = bisect.bisect_right(cells, cells[position] + width, position, stop + 1) - 1
        index = bisect.bisect_right(ends, limit) - 1  # the last break that fits on this line
        if index >= 0 and breaks[index].end > position:
            chosen = breaks[index]
            if not chosen.good:
                for earlier in range(index - 1, -1, -1):
                    candidate = breaks[earlier]
                    if candidate.end <= position or cells[chosen.end] - cells[candidate.end] > slack:
                        break
                    if candidate.good:
                        chosen = candidate
                        break
            lines.append((position, chosen.end))
            position = chosen.next
        else:
            fold = _fold(text, cells, position, limit)
            lines.append((position, fold))
            position = fold
            while position < stop and text[position] in _SPACES:
                position += 1


def _fold(text: str, cells: list[int], start: int, limit: int) -> int:
    """Where to cut a word that does not fit on a line by itself: ``limit`` at the latest; after a ``/``, ``=``...
    in the last half of the line when there is one, else after a ``-``, ``:``, ``.`` in its last third; never
    before a character no line may start with."""
    if limit <= start:
        return start + 1  # one character wider than the line
    cut = limit
    for marks, floor in ((FOLD_AFTER, start + (limit - start) // 2), (FOLD_AFTER_WEAK, start + 2 * (limit - start) // 3)):
        found = next((index for index in range(limit, max(floor, start + 1) - 1, -1) if text[index - 1] in marks), None)
        if found is not None:
            cut = found
            break
    while cut - 1 > start and cut < len(text) and text[cut] in NO_START:
        cut -= 1
    return cut


def wrap(text: str, width: int, *, code: Sequence[tuple[int, int]] = (), phrases: bool = True) -> list[str]:
    """The lines of ``text`` broken at ``width`` cells (:func:`break_lines`), as strings."""
    return [text[start:end] for start, end in break_lines(text, width, code=code, phrases=phrases)]
