"""Japanese line breaking (tutor.tui.linebreak) and the Prose that shows it (tutor.tui.prose).

The acceptance test of issue 10 item 8 runs the breaker over every Japanese text of every lesson, at every
width from 30 to 78 cells: no line starts with ``。、）`` (or anything else JIS X 4051 keeps off a line
start), none ends with ``（「``, no number is cut from its counter, no line is wider than its width.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.content import Content

import tutor
from tutor.lesson import Lesson, lesson_files, load_lesson
from tutor.tui.linebreak import NO_END, NO_START, break_lines, is_cjk, phrase_slack, wrap
from tutor.tui.prose import Block, Prose, banner_prose, inline, join_lines, markdown
from tutor.tui.text import TEXTS
from tutor.tui.widgets.step_panel import command_prose, split_markdown

ROOT = Path(tutor.__file__).parent.parent
LESSON_FILES = lesson_files(ROOT / "lessons") + lesson_files(ROOT / "tests/data/lessons")  # not course.yaml
WIDTHS = range(30, 79)
COUNTERS = re.compile(r"^(?:つ|個|秒|分|回|件|台|本|人|枚|倍|割|度|番|行|日|年|月|週|時間|文字|レプリカ|%|％)")
"""What follows a number as its counter or unit in the lessons' Japanese."""


# ---- the rules, one by one -----------------------------------------------------------------------------------


def lines_at(text: str, width: int, **options: object) -> list[str]:
    return wrap(text, width, **options)  # type: ignore[arg-type]


def test_breaks_anywhere_between_japanese_characters_and_fills_the_line() -> None:
    text = "あいうえおかきくけこさしすせそ"
    assert lines_at(text, 10, phrases=False) == ["あいうえお", "かきくけこ", "さしすせそ"]
    assert lines_at(text, 11, phrases=False) == ["あいうえお", "かきくけこ", "さしすせそ"]  # a half cell is left


@pytest.mark.parametrize("mark", ["。", "、", "）", "」", "』", "】", "！", "？", "ー", "ッ", "ゃ", "ょ", "ァ", "々", "…", "・"])
def test_no_line_starts_with_what_jis_x_4051_keeps_off_a_line_start(mark: str) -> None:
    text = f"あいうえお{mark}かきくけこ"
    for width in range(4, 24):  # at 2 or 3 cells, a line holds one character: the mark cannot go with another
        for line in lines_at(text, width, phrases=False)[1:]:
            assert line[0] != mark, (width, lines_at(text, width, phrases=False))
    # the mark is pushed out with the character before it, not left at the start of the next line
    assert lines_at(text, 10, phrases=False) == ["あいうえ", f"お{mark}かきく", "けこ"]


@pytest.mark.parametrize("mark", ["（", "「", "『", "【", "("])
def test_no_line_ends_with_an_opening_bracket(mark: str) -> None:
    text = f"あいうえ{mark}かきくけこ"
    for width in range(4, 24):
        for line in lines_at(text, width, phrases=False)[:-1]:
            assert line[-1] != mark, (width, lines_at(text, width, phrases=False))
    assert lines_at(text, 10, phrases=False)[0] == "あいうえ"


@pytest.mark.parametrize("number", ["3 つ", "3つ", "4 個", "4個", "10 秒", "10秒", "25%", "４つ", "5 s", "20 MiB"])
def test_a_number_stays_with_its_counter(number: str) -> None:
    text = f"ありがとうございます {number} ありがとう"
    for width in range(8, 40):
        lines = lines_at(text, width, phrases=False)
        assert any(number in line for line in lines), (width, lines)


def test_a_code_span_ending_in_a_digit_is_a_name_not_a_number() -> None:
    text = "イメージは gcr.io/kubernetes-bootcamp:v1です"
    code = ((6, text.index("です")),)
    assert lines_at(text, 40, code=code) == ["イメージは gcr.io/kubernetes-bootcamp:v1", "です"]
    # outside code, "1です" is a number and its counter
    assert lines_at(text, 40) == ["イメージは", "gcr.io/kubernetes-bootcamp:v1です"]


def test_latin_words_break_only_at_spaces() -> None:
    text = "Kubernetes は rolling update で Pod を入れ替えます"
    for width in range(10, 50):
        for line in lines_at(text, width):
            for word in re.findall(r"[A-Za-z]+", line):
                assert word in {"Kubernetes", "rolling", "update", "Pod"}, (width, line)


def test_code_breaks_only_at_its_spaces() -> None:
    text = "形は kubectl set image deployments/<Deployment 名> です。"
    code = ((text.index("kubectl"), text.index(" です")),)
    for width in range(26, 60):
        for start, end in break_lines(text, width, code=code)[:-1]:
            assert text[end] == " ", (width, text[start:end])


def test_a_word_wider_than_the_line_is_folded_after_a_slash_when_one_is_near_the_end() -> None:
    assert lines_at("gcr.io/google-samples/kubernetes-bootcamp:v1", 30) == [
        "gcr.io/google-samples/", "kubernetes-bootcamp:v1"]
    assert lines_at("abcdefghijklmnopqrstuvwxyz", 10) == ["abcdefghij", "klmnopqrst", "uvwxyz"]


def test_a_character_wider_than_the_line_still_makes_progress() -> None:
    assert lines_at("あいう", 1) == ["あ", "い", "う"]


def test_lines_keep_every_character_but_the_spaces_they_were_broken_at() -> None:
    text = "Deployment は新しい ReplicaSet を作り、ローリングアップデートが始まります。\nすぐに Pod の一覧を見ましょう。"
    for width in range(4, 60):
        ranges = break_lines(text, width)
        for (_, end), (start, _) in zip(ranges, ranges[1:], strict=False):
            assert text[end:start].strip(" \n") == "", (width, text[end:start])
        assert "".join(text[start:end] for start, end in ranges).replace(" ", "") == text.replace(" ", "").replace(
            "\n", "")


def test_a_line_break_in_the_text_always_breaks() -> None:
    assert lines_at("あいう\nえお", 40) == ["あいう", "えお"]


def test_phrases_are_kept_whole_when_that_costs_little() -> None:
    text = "利用者はアプリが止まらないことを当然と考え、開発者は一日に何度もデプロイします。"
    # width 30: filling each line cuts "止まらない" and "何度も"; ending lines between phrases costs no line
    assert lines_at(text, 30, phrases=False) == ["利用者はアプリが止まらないこと", "を当然と考え、開発者は一日に何",
                                                 "度もデプロイします。"]
    assert lines_at(text, 30) == ["利用者はアプリが止まらない", "ことを当然と考え、開発者は", "一日に何度もデプロイします。"]
    assert phrase_slack(30) == 5
    # width 40: ending the first line between phrases ("当然と" / "考え、") would take a third line
    assert lines_at(text, 40) == lines_at(text, 40, phrases=False) == [
        "利用者はアプリが止まらないことを当然と考", "え、開発者は一日に何度もデプロイします。"]


def test_joining_the_lines_of_a_paragraph() -> None:
    assert join_lines("デプロイします。", "Kubernetes") == ""
    assert join_lines("終了させ", "ていきます") == ""
    assert join_lines("このチュートリアルでは", "NodePort が") == " "
    assert join_lines("rolling", "update") == " "
    assert is_cjk("あ") and is_cjk("。") and not is_cjk("a")


# ---- Prose: Markdown, prefixes, widths ------------------------------------------------------------------------


def plain_lines(prose: Prose, width: int) -> list[str]:
    return [line.plain for line in prose.lines(width)]


def test_markdown_paragraphs_bold_code_and_lists() -> None:
    prose = markdown("まず **今の状態** を見ます。`kubectl get pods`\nで一覧を\n表示します。\n\n- ひとつめの項目です\n- ふたつめ\n\n次の段落。")
    assert prose.plain == ("まず 今の状態 を見ます。kubectl get pods で一覧を表示します。\n\n"
                           "• ひとつめの項目です\n• ふたつめ\n\n次の段落。")
    assert plain_lines(prose, 16) == [
        "まず 今の状態 を", "見ます。kubectl", "get pods で一覧", "を表示します。", "",
        "• ひとつめの項目", "  です", "• ふたつめ", "", "次の段落。"]
    first = prose.blocks[0]
    bold = next(span for span in first.text.spans if span.style == "bold")
    assert first.text.plain[bold.start:bold.end] == "今の状態"
    assert first.code == ((first.text.plain.index("kubectl"), first.text.plain.index(" で一覧")),)


def test_ordered_lists_headings_and_quotes() -> None:
    prose = markdown("# 見出し\n\n1. いち\n2. に\n\n> 引用です")
    assert plain_lines(prose, 30) == ["見出し", "", "1. いち", "2. に", "", "▌ 引用です"]


def test_a_checklist_line_hangs_under_its_mark() -> None:
    block = inline("Deployment のイメージはまだ `gcr.io/google-samples/kubernetes-bootcamp:v1` です", first="○ ")
    assert plain_lines(Prose([block]), 34) == [
        "○ Deployment のイメージはまだ",
        "  gcr.io/google-samples/",
        "  kubernetes-bootcamp:v1 です",
    ]


def test_a_banner_keeps_its_head_in_the_paragraph() -> None:
    prose = banner_prose("✓ ステップ完了！", "v2 への更新は完了です。", "5 秒後に次のステップへ進みます")
    assert plain_lines(prose, 24) == ["✓ ステップ完了！ v2 への", "更新は完了です。", "5 秒後に次のステップへ", "進みます"]
    head = prose.blocks[0].text.spans[0]
    assert (head.start, head.end, head.style) == (0, len("✓ ステップ完了！"), "bold")


def test_a_command_wraps_at_its_spaces_under_its_dollar() -> None:
    prose = command_prose("kubectl set image deployments/kubernetes-bootcamp "
                          "kubernetes-bootcamp=jocatalin/kubernetes-bootcamp:v2")
    assert plain_lines(prose, 40) == [
        "$ kubectl set image",
        "  deployments/kubernetes-bootcamp",
        "  kubernetes-bootcamp=jocatalin/",
        "  kubernetes-bootcamp:v2",
    ]


def test_prose_sizes() -> None:
    prose = Prose([Block(Content("あいうえお"), first=Content("• "))])
    assert prose.get_optimal_width({}, 80) == 12
    assert prose.get_height({}, 8) == 2
    assert str(prose) == "• あいうえお"


# ---- the acceptance test: every Japanese text of every lesson -------------------------------------------------


def japanese_texts(lesson: Lesson) -> Iterator[tuple[str, str, bool]]:
    """(where, text, is it Markdown with code blocks) for every Japanese text of a lesson."""
    yield "title", lesson.title.ja, False
    yield "description", lesson.description.ja, False
    yield "setup", lesson.setup.text.ja, False
    checks = list(lesson.setup.ready)
    for step in lesson.steps:
        yield f"{step.id}.title", step.title.ja, False
        yield f"{step.id}.text", step.text.ja, True
        yield f"{step.id}.hint", step.hint.ja, False
        if step.passed:
            yield f"{step.id}.passed", step.passed.ja, False
        checks += step.checks
    for check in checks:
        yield f"check {check.id}", check.text.ja, False
        if check.missing:
            for observed in ("3", "12", "gcr.io/google-samples/kubernetes-bootcamp:v1", "2 / 4"):
                yield f"check {check.id} missing", check.missing.ja.replace("{observed}", observed), False


def blocks_of(text: str, has_code_blocks: bool) -> list[Block]:
    if not has_code_blocks:
        return list(markdown(text).blocks)
    return [block for kind, body in split_markdown(text) if kind == "md" for block in markdown(body).blocks]


def faults(text: str, ranges: list[tuple[int, int]], room: int) -> list[str]:
    """What a reader of Japanese would object to in ``text`` broken into the lines ``ranges`` of ``room`` cells."""
    found = []
    for number, (start, end) in enumerate(ranges):
        line = text[start:end]
        if cell_len(line) > room:
            found.append(f"wider than {room}: {line!r}")
        if number and text[start - 1] != "\n" and line[:1] in NO_START:
            found.append(f"starts with {line[0]!r}: {line!r}")
        if number < len(ranges) - 1 and text[end:end + 1] != "\n" and line[-1:] in NO_END:
            found.append(f"ends with {line[-1]!r}: {line!r}")
        if number and text[start - 1] != "\n" and COUNTERS.match(line):
            before = text[:start].rstrip(" ")
            if before[-1:].isdigit():
                found.append(f"a number cut from its counter: {before[-8:]!r} / {line[:8]!r}")
    return found


def faults_at(block: Block, width: int) -> list[str]:
    """:func:`faults` of a block as the TUI shows it at ``width`` cells (its prefix takes some)."""
    room = width - block.first.cell_length
    return faults(block.text.plain, break_lines(block.text.plain, room, code=block.code), room)


@pytest.mark.parametrize("path", LESSON_FILES, ids=lambda path: path.stem)
def test_every_japanese_text_of_every_lesson_breaks_well_at_every_width(path: Path) -> None:
    lesson = load_lesson(path).in_namespace("default")  # as the practice cluster and kind show it
    problems = []
    for where, text, has_code in japanese_texts(lesson):
        for block in blocks_of(text, has_code):
            for width in WIDTHS:
                problems += [f"{where} at {width}: {fault}" for fault in faults_at(block, width)]
    assert problems == []


def test_the_tuis_own_japanese_words_break_well_at_every_width() -> None:
    problems = []
    for key, entry in TEXTS.items():
        text = entry["ja"].replace("{", "").replace("}", "")
        for width in WIDTHS:
            problems += [f"{key} at {width}: {fault}" for fault in faults_at(inline(text), width)]
    assert problems == []


def test_the_acceptance_check_catches_what_wrapping_at_spaces_did() -> None:
    """The check itself: Rich's and Textual's wrapping (at spaces, folding what is too long) cut ``3`` from
    ``つ`` and put ``。`` at a line start, as the UX audit saw; :func:`faults` says so."""
    from rich._wrap import divide_line

    def by_spaces(text: str, width: int) -> list[tuple[int, int]]:
        offsets = [0, *divide_line(text, width), len(text)]
        return [(start, start + len(text[start:end].rstrip(" "))) for start, end in zip(offsets, offsets[1:],
                                                                                        strict=False)]

    counter = "Kubernetes は古い v2 の Pod を 3 つ残してアプリを動かし続けています。"
    assert any("cut from its counter" in fault for fault in faults(counter, by_spaces(counter, 34), 34))
    assert faults(counter, break_lines(counter, 34), 34) == []
    stop = "では set image でイメージを v2 に変えます。Deployment の名前と、コンテナ名=新しいイメージを渡します。"
    assert any("starts with '。'" in fault for fault in faults(stop, by_spaces(stop, 46), 46))
    assert faults(stop, break_lines(stop, 46), 46) == []
