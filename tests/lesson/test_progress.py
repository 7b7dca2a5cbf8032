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


def test_commands_are_kept_per_step_bounded_and_forgotten_on_f5(tmp_path: Path) -> None:
    from tutor.lesson.progress import COMMANDS_KEPT, SHOWN_CHARS

    progress = Progress.load(tmp_path, "l", "practice")
    progress.ran("a", "kubectl get events", 0, "x" * 500)
    progress.ran("b", "kubectl get pods", 1, "")
    again = Progress.load(tmp_path, "l", "practice")
    assert again.lines("a") == ["kubectl get events"] and again.lines("b") == ["kubectl get pods"]
    record = again.step("a").commands[0]
    assert record["exit"] == 0 and len(record["shown"]) == SHOWN_CHARS and record["at"].endswith("Z")
    for number in range(COMMANDS_KEPT + 5):
        again.ran("a", f"echo {number}", 0, "")
    assert len(again.lines("a")) == COMMANDS_KEPT and again.lines("a")[-1] == f"echo {COMMANDS_KEPT + 4}"
    again.forget_commands("a")
    assert Progress.load(tmp_path, "l", "practice").lines("a") == []
    assert Progress.load(tmp_path, "l", "practice").lines("b") == ["kubectl get pods"]


def test_a_lesson_is_complete_when_each_of_its_steps_passed(tmp_path: Path) -> None:
    progress = Progress.load(tmp_path, "l", "practice")
    assert not progress.complete(["a", "b"])
    progress.record("a", [], True)
    assert not progress.complete(["a", "b"])
    progress.record("b", [], True)
    assert progress.complete(["a", "b"])
    progress.record("c", [], False)  # a step the lesson no longer has does not matter
    assert progress.complete(["a", "b"])


def test_a_file_of_an_earlier_version_without_commands_loads(tmp_path: Path) -> None:
    path = Progress.file_for(tmp_path, "l", "practice")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"current": "a", "steps": {"a": {"started_at": "2026-01-05T10:00:00Z",
                                                                 "passed_at": None, "conditions": []}}}))
    progress = Progress.load(tmp_path, "l", "practice")
    assert progress.current == "a" and progress.lines("a") == []
