"""Progress per lesson and backend: saved atomically, resumed, reset, robust to a damaged file."""

from __future__ import annotations

import json
from pathlib import Path

from tutor.lesson.progress import Progress


def test_progress_round_trip(tmp_path: Path) -> None:
    progress = Progress.load(tmp_path, "rolling-update", "practice")
    assert progress.current is None and progress.steps == {}
    progress.start("update")
    progress.record("update", ["image-v2"], False)
    progress.record("update", ["image-v2", "new-replicaset"], True)
    progress.start("verify")
    again = Progress.load(tmp_path, "rolling-update", "practice")
    assert again.current == "verify"
    assert again.step("update").passed and again.step("update").conditions == ["image-v2", "new-replicaset"]
    assert again.step("update").started_at is not None
    assert not again.step("verify").passed
    path = Progress.file_for(tmp_path, "rolling-update", "practice")
    assert path == tmp_path / "progress" / "rolling-update" / "practice.json"
    assert json.loads(path.read_text())["backend"] == "practice"
    assert not list(path.parent.glob(".*.tmp"))  # the atomic write left no temporary file


def test_backends_keep_separate_progress(tmp_path: Path) -> None:
    Progress.load(tmp_path, "rolling-update", "practice").start("break")
    assert Progress.load(tmp_path, "rolling-update", "kind").current is None


def test_passing_time_is_kept_once(tmp_path: Path) -> None:
    progress = Progress.load(tmp_path, "l", "practice")
    progress.record("a", ["x"], True)
    first = progress.step("a").passed_at
    progress.record("a", [], False)
    assert progress.step("a").passed_at == first


def test_a_damaged_file_is_kept_aside(tmp_path: Path) -> None:
    path = Progress.file_for(tmp_path, "l", "practice")
    path.parent.mkdir(parents=True)
    path.write_text("{broken")
    progress = Progress.load(tmp_path, "l", "practice")
    assert progress.current is None
    assert path.with_suffix(".broken").read_text() == "{broken"


def test_reset(tmp_path: Path) -> None:
    progress = Progress.load(tmp_path, "l", "practice")
    progress.start("b")
    progress.reset()
    assert Progress.load(tmp_path, "l", "practice").current is None
