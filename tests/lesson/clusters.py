"""Helpers for the tests that run kube-tutor against a practice cluster (the ``own_state`` fixture is in
conftest.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tutor import paths
from tutor.lesson import load_lesson


def cli(state: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KUBE_TUTOR_TIME_SCALE": "20", "LANG": "C.UTF-8", **(env or {})}
    return subprocess.run([str(paths.bin_dir() / "kube-tutor"), "--state-dir", str(state), *args],
                          capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL, check=False)


VERIFIED = {
    "en": ("verify {id} on practice (namespace default)", "✓ setup  (", " (failed as intended)",
           "{count} of {count} steps passed in "),
    "ja": ("{id} を practice で検証します（名前空間 default）", "✓ 準備  (", "（意図どおりの失敗）",
           "{count} ステップ中 {count} ステップが通りました（"),
}
"""What verify prints in each language: its first line, the setup's line, a failing step's note, the summary."""


def assert_verified(done: subprocess.CompletedProcess[str], file: Path, lang: str = "en") -> None:
    """verify printed a passing line for the setup and for every step of the lesson, in order, in ``lang``."""
    assert done.returncode == 0, done.stdout + done.stderr
    lesson = load_lesson(file)
    lines = done.stdout.splitlines()
    count = len(lesson.steps)
    header, setup, intended, summary = VERIFIED[lang]
    assert lines[0] == header.format(id=lesson.id)
    assert lines[1].startswith(setup)
    for number, step in enumerate(lesson.steps, 1):
        note = intended if step.expect == "failure" else ""
        assert lines[1 + number].startswith(f"✓ {number}/{count} {step.id}: {step.title.get(lang)}{note}  ("), lines
    assert lines[2 + count].startswith(summary.format(count=count))
    assert len(lines) == 3 + count


def verify_file(state: Path, file: Path) -> None:
    """``kube-tutor verify FILE`` passes every step of the lesson, in English."""
    assert_verified(cli(state, "verify", str(file), "--backend", "practice", "--lang", "en"), file)
