"""cluster.log rotates, stays 0600, keeps what escapes logging, and cannot fill the disk when it cannot rotate."""

from __future__ import annotations

import logging
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor.practice.logfile import FORMAT, LogFile

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    log = logging.getLogger(f"test-logfile-{time.monotonic_ns()}")
    log.propagate = False
    log.setLevel(logging.INFO)
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()


def attach(logger: logging.Logger, path: Path, max_bytes: int, backups: int = 2) -> LogFile:
    handler = LogFile(path, max_bytes=max_bytes, backups=backups)
    handler.setFormatter(logging.Formatter(FORMAT))
    logger.addHandler(handler)
    return handler


def test_the_log_rotates_and_every_file_is_0600_whatever_the_umask(tmp_path: Path, logger: logging.Logger) -> None:
    previous = os.umask(0)
    try:
        log = tmp_path / "cluster.log"
        attach(logger, log, max_bytes=2000)
        for number in range(200):
            logger.info("message %03d %s", number, "x" * 40)
    finally:
        os.umask(previous)
    files = sorted(tmp_path.iterdir())
    assert [path.name for path in files] == ["cluster.log", "cluster.log.1", "cluster.log.2"]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert path.stat().st_size < 2000
    assert "message 199" in log.read_text()
    assert "message 000" not in "".join(path.read_text() for path in files)  # the oldest went with .3


def test_a_log_that_cannot_rotate_is_capped_and_says_what_it_dropped(tmp_path: Path, logger: logging.Logger) -> None:
    """Rotation fails when ``cluster.log.2`` cannot be removed (a non-empty directory here: this holds for root
    too, which a read-only directory would not stop); the file then grows to twice its limit, no further."""
    log = tmp_path / "cluster.log"
    (tmp_path / "cluster.log.1").write_text("older\n")
    obstacle = tmp_path / "cluster.log.2"
    (obstacle / "inside").mkdir(parents=True)
    handler = attach(logger, log, max_bytes=2000)
    for number in range(200):
        logger.info("message %03d %s", number, "x" * 40)
    text = log.read_text()
    assert log.stat().st_size < 2 * 2000
    assert text.count("cannot rotate") == 1
    assert handler.dropped > 0
    assert "message 199" not in text

    dropped = handler.dropped
    os.rmdir(obstacle / "inside")
    os.rmdir(obstacle)
    logger.info("after the repair")
    lines = log.read_text().splitlines()
    assert lines[0].endswith(f"WARNING tutor.practice.logfile: {dropped} messages were dropped while {log} could "
                             f"not be rotated (Is a directory: {obstacle})")
    assert lines[1].endswith("after the repair")
    assert len(lines) == 2 and handler.dropped == 0
    assert "message 199" not in (tmp_path / "cluster.log.1").read_text()  # dropped: said, not kept


def test_stdout_and_stderr_follow_the_current_log_file(tmp_path: Path) -> None:
    """Whatever escapes logging (a C-level write to fd 2, print) lands in the file being written, rotated or not."""
    log = tmp_path / "cluster.log"
    script = textwrap.dedent(f"""
        import logging, os, sys
        from pathlib import Path
        from tutor.practice.logfile import LogFile, FORMAT
        handler = LogFile(Path({str(log)!r}), max_bytes=1500, backups=5, own_stdio=True)
        handler.setFormatter(logging.Formatter(FORMAT))
        logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
        os.write(2, b"fd 2 before rotating\\n")
        for number in range(40):
            logging.info("message %03d %s", number, "x" * 40)
        print("stdout after rotating", flush=True)
        os.write(2, b"fd 2 after rotating\\n")
        raise SystemExit("a crash after rotating")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.returncode == 1
    assert done.stdout == done.stderr == ""
    current = log.read_text()
    rotated = "".join(path.read_text() for path in tmp_path.glob("cluster.log.*"))
    for line in ("stdout after rotating", "fd 2 after rotating", "a crash after rotating", "message 039"):
        assert line in current, line
    assert "fd 2 before rotating" in rotated and "fd 2 before rotating" not in current


def serve(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m tutor.practice serve`` until it has written server.json, then stop it with SIGTERM."""
    process = subprocess.Popen([sys.executable, "-m", "tutor.practice", "serve", str(directory), *args], cwd=ROOT,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (directory / "server.json").exists() and process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the server did not write server.json")
        time.sleep(0.02)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def broken_legacy_state(directory: Path) -> None:
    """A ``state.json`` of an older version that cannot be read: the server logs an ERROR line at start."""
    directory.mkdir(parents=True)
    (directory / "state.json").write_text("{not json")


def test_serve_without_a_log_file_logs_to_stderr(tmp_path: Path) -> None:
    directory = tmp_path / "practice"
    broken_legacy_state(directory)
    done = serve(directory)
    assert done.returncode == 0
    assert " ERROR tutor.practice.cluster: cannot read " in done.stderr
    assert not (directory / "cluster.log").exists()


def test_serve_with_a_log_file_logs_there_and_keeps_the_terminal_quiet(tmp_path: Path) -> None:
    directory = tmp_path / "practice"
    broken_legacy_state(directory)
    log = directory / "cluster.log"
    done = serve(directory, "--log-file", str(log))
    assert done.returncode == 0
    assert done.stderr == done.stdout == ""
    assert " ERROR tutor.practice.cluster: cannot read " in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
