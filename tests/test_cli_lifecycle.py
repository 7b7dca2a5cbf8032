"""The command line says what it does to clusters: the backend line only when it starts something, the time scale
everywhere a cluster starts (a running one at another scale is restarted, saying so), and what quitting leaves."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tutor import cli, paths
from tutor.backends.base import ClusterStatus
from tutor.backends.practice import PracticeBackend
from tutor.lesson import find_lesson, load_lesson
from tutor.lesson.progress import Progress


def parse(*argv: str) -> Any:
    parser = cli._parser()
    return parser.parse_args(cli._start_by_default(parser, list(argv)))


def test_time_scale_is_accepted_where_a_cluster_starts() -> None:
    assert parse("--time-scale", "10").time_scale == 10.0
    assert parse("--time-scale", "10", "rolling-update").lesson == "rolling-update"
    assert parse("start", "--time-scale", "4").time_scale == 4.0
    assert parse("cluster", "up", "--time-scale", "2.5").time_scale == 2.5
    assert parse("reset", "--time-scale", "3").time_scale == 3.0


@pytest.mark.parametrize("bad", ["0", "-1", "x", "inf"])
def test_a_bad_time_scale_is_one_line(bad: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        parse("--time-scale", bad)
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("kube-tutor: error: argument --time-scale: ")


def test_only_commands_that_start_something_name_the_backend(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    for action in ("status", "env", "down"):
        cli.main(["--state-dir", str(tmp_path), "cluster", action, "--backend", "practice"])
        assert "using the" not in capsys.readouterr().err, action


def test_a_running_cluster_at_another_scale_is_restarted_and_one_asked_for_nothing_keeps_its_own(
        tmp_path: Path) -> None:
    first = PracticeBackend(tmp_path, time_scale=1.0)
    said: list[str] = []
    try:
        first.up()
        pid = first.status().pid
        faster = PracticeBackend(tmp_path, time_scale=10.0)
        status = faster.up(said.append)
        assert said[0] == "restarting the practice cluster at time scale 10 (it ran at 1); its objects are kept"
        assert status.time_scale == 10.0 and status.pid != pid
        info = json.loads((first.directory / "server.json").read_text())
        assert info["time_scale"] == 10.0
        said.clear()
        plain = PracticeBackend(tmp_path)
        again = plain.up(said.append)
        assert said == [] and again.pid == status.pid, "nothing asked: the running cluster is reused"
        assert plain.time_scale == 10.0
    finally:
        first.down()


class RunningBackend:
    def __init__(self, name: str, running: bool = True) -> None:
        self.name = name
        self.running = running

    def status(self) -> ClusterStatus:
        return ClusterStatus(self.name, self.running, Path("/k"))


def test_quitting_says_where_the_progress_is_and_how_to_stop_the_cluster(tmp_path: Path) -> None:
    lesson = load_lesson(find_lesson("rolling-update"))
    progress = Progress.load(tmp_path, lesson.id, "practice")
    progress.start(lesson.steps[1].id)
    said = cli.goodbye(lesson, RunningBackend("practice"), tmp_path, "en")  # type: ignore[arg-type]
    assert said.splitlines() == [
        "kube-tutor: progress saved (step 2/4); the same command resumes it.",
        f"kube-tutor: the practice cluster is still running (with your objects); stop it with "
        f"`kube-tutor --state-dir {tmp_path} cluster down`."]
    ja = cli.goodbye(lesson, RunningBackend("practice"), tmp_path, "ja")  # type: ignore[arg-type]
    assert "ステップ 2/4" in ja and "cluster down" in ja and "progress" not in ja
    assert len(cli.goodbye(lesson, RunningBackend("practice", False), tmp_path, "en").splitlines()) == 1  # type: ignore[arg-type]
    assert "cluster" not in cli.goodbye(lesson, RunningBackend("existing"), tmp_path, "en")  # type: ignore[arg-type]


def test_the_command_names_the_state_dir_only_when_it_is_not_found_by_itself(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(paths.ENV_STATE_DIR, raising=False)
    assert paths.command(paths.default_state_dir()) == "kube-tutor"
    assert paths.command(tmp_path / "my state") == f"kube-tutor --state-dir '{tmp_path / 'my state'}'"
    monkeypatch.setenv(paths.ENV_STATE_DIR, str(tmp_path))
    assert paths.command(tmp_path) == "kube-tutor"
