"""Every word the TUI shows lives in tutor/tui/text.py, in both languages, with the same placeholders."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

import tutor.tui
from tutor.backends.lifecycle import StartOutcome
from tutor.lesson import find_lesson, load_lesson
from tutor.lesson.checks import ConditionResult, StepVerdict
from tutor.tui.text import TEXTS, start_failure, t, texts

UI = Path(tutor.tui.__file__).parent
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_text_exists_in_both_languages_with_the_same_placeholders(key: str) -> None:
    entry = TEXTS[key]
    assert set(entry) == {"ja", "en"}
    assert entry["ja"].strip() and entry["en"].strip()
    assert placeholders(entry["ja"]) == placeholders(entry["en"])
    assert not JAPANESE.search(entry["en"]), "English text with Japanese characters"


def docstrings(tree: ast.AST) -> set[int]:
    """The ids of the docstring constants of a module, its classes and functions (and of a field's docstring)."""
    found = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list):
            for statement in body:
                if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                    found.add(id(statement.value))
    return found


def test_no_ui_module_but_text_py_holds_japanese_words() -> None:
    """One home: a Japanese string literal anywhere else in the UI package is a text that escaped text.py
    (a docstring's example, such as the line breaker's, is no text the learner sees)."""
    offenders = []
    for path in sorted(UI.rglob("*.py")):
        if path.name == "text.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        documentation = docstrings(tree)
        for node in ast.walk(tree):
            if id(node) in documentation:
                continue
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and JAPANESE.search(node.value):
                offenders.append(f"{path.relative_to(UI)}:{node.lineno}: {node.value[:30]!r}")
    assert offenders == []


def test_lookup_fills_placeholders_and_falls_back_to_english() -> None:
    assert t("step_of", "ja", n=2, total=4) == "ステップ 2/4"
    assert t("step_of", "fr", n=2, total=4) == "Step 2/4"
    assert texts("panel", "en")["ready"] == "ready"


def test_a_failed_start_names_its_phase_in_the_learners_language() -> None:
    lesson = load_lesson(find_lesson("rolling-update"))
    running, service = lesson.setup.ready[:2]
    ready = StepVerdict("setup", (ConditionResult(running, False), ConditionResult(service, True)))
    assert start_failure(StartOutcome("ready", "the start state did not come up in 120 s", ready), "ja") == (
        f"開始時の状態になりませんでした。まだ足りないもの:\n  ○ {running.text.ja}")
    assert start_failure(StartOutcome("setup", "$ kubectl create ...\nerror: boom"), "en") == (
        "A setup command failed.\n$ kubectl create ...\nerror: boom")
