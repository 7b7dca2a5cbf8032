"""kube-tutor's state is private to its user whatever the umask: directories 0700, files 0600.

The state holds the practice cluster's token and key, kubeconfigs with credentials, and logs. Each case sets
the process's umask (0: everything would be world-writable; 0o277: ``mkdir`` alone would make 0500 directories)
and restores it afterwards.
"""

from __future__ import annotations

import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tutor import paths, shell
from tutor.backends.practice import PracticeBackend
from tutor.kube.files import atomic_write, make_private, open_private, private_dir


@pytest.fixture(params=[0o000, 0o277], ids=["umask-000", "umask-277"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def modes(root: Path) -> dict[str, int]:
    """The mode of ``root`` and of everything under it, by path relative to ``root``'s parent."""
    found = {root.name: mode(root)}
    for directory, directories, files in os.walk(root):
        for name in (*directories, *files):
            path = Path(directory, name)
            found[str(path.relative_to(root.parent))] = mode(path)
    return found


def not_private(root: Path) -> dict[str, str]:
    return {name: oct(value) for name, value in modes(root).items()
            if value != (0o700 if (root.parent / name).is_dir() else 0o600)}


def test_private_dir_creates_each_missing_directory_0700(tmp_path: Path, umask: int) -> None:
    (tmp_path / "mine").mkdir(mode=0o755)
    os.chmod(tmp_path / "mine", 0o755)
    private_dir(tmp_path / "mine" / "a" / "b")
    assert mode(tmp_path / "mine") == 0o755  # existing: the learner's, left alone
    assert mode(tmp_path / "mine" / "a") == 0o700
    assert mode(tmp_path / "mine" / "a" / "b") == 0o700


def test_atomic_write_and_open_private_make_files_0600_in_0700_directories(tmp_path: Path, umask: int) -> None:
    atomic_write(tmp_path / "state" / "progress" / "lesson.json", b"{}")
    assert not_private(tmp_path / "state") == {}
    old = tmp_path / "state" / "old.log"
    old.write_text("from an older kube-tutor\n")
    os.chmod(old, 0o644)
    os.close(open_private(old))
    os.close(open_private(tmp_path / "state" / "logs" / "new.log"))
    assert not_private(tmp_path / "state") == {}


def test_make_private_takes_group_and_other_permissions_off_a_tree(tmp_path: Path) -> None:
    tree = tmp_path / "practice"
    (tree / "pki").mkdir(parents=True)
    (tree / "bin").mkdir()
    for name, value in (("cluster.log", 0o644), ("pki/token", 0o666), ("bin/kubectl", 0o755)):
        (tree / name).write_text("x")
        os.chmod(tree / name, value)
    for name in ("", "pki", "bin"):
        os.chmod(tree / name, 0o755)
    make_private(tree)
    assert modes(tree) == {"practice": 0o700, "practice/pki": 0o700, "practice/bin": 0o700,
                           "practice/cluster.log": 0o600, "practice/pki/token": 0o600, "practice/bin/kubectl": 0o700}


def test_spawn_daemon_creates_its_log_0600(tmp_path: Path, umask: int) -> None:
    log = tmp_path / "state" / "existing" / "port-forward-web.log"
    pid = shell.spawn_daemon([sys.executable, "-c", "print('hello from the daemon')"], log_path=log)
    assert _wait_gone(pid), "the daemon did not finish"
    assert log.read_text() == "hello from the daemon\n"
    assert not_private(tmp_path / "state") == {}


def _wait_gone(pid: int, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while shell.pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
    return True


def test_make_state_private_tightens_what_an_older_version_left_readable(tmp_path: Path) -> None:
    state = tmp_path / "state"
    practice = paths.practice_dir(state)
    (practice / "pki").mkdir(parents=True)
    (practice / "kubeconfig").write_text("token")
    for path, value in ((state, 0o755), (practice, 0o755), (practice / "pki", 0o755),
                        (practice / "kubeconfig", 0o644)):
        os.chmod(path, value)
    paths.make_state_private(state, practice)
    assert mode(state) == 0o755  # an existing state directory may be the learner's own (--state-dir)
    assert not_private(practice) == {}
    assert mode(paths.kube_cache_dir(state)) == 0o700


def test_the_default_state_directory_is_made_0700_even_when_it_exists(tmp_path: Path) -> None:
    state = paths.default_state_dir()  # under the test's private HOME (tests/conftest.py)
    state.mkdir(parents=True)
    os.chmod(state, 0o755)
    paths.make_state_private(state, paths.practice_dir(state))
    assert mode(state) == 0o700
    assert paths.state_dir() == state


def test_a_practice_cluster_started_under_umask_000_keeps_everything_private(tmp_path: Path) -> None:
    previous = os.umask(0)
    backend = PracticeBackend(tmp_path / "state", time_scale=20)
    try:
        practice = backend.directory
        practice.mkdir(parents=True)
        (practice / "cluster.log").write_text("from an older kube-tutor\n")
        os.chmod(practice / "cluster.log", 0o644)
        os.chmod(practice, 0o755)
        status = backend.up()
        assert status.running, status.detail
        found = modes(tmp_path / "state")
        assert found.pop("state") == 0o777  # made by the test: a --state-dir may be the learner's own
        for name in ("state/kube-cache", "state/practice", "state/practice/pki"):
            assert found.pop(name) == 0o700, name
        for name in ("state.db", "cluster.log", "kubeconfig", "server.json", "pki/token", "pki/server.key",
                     "pki/ca.crt"):
            assert found[f"state/practice/{name}"] == 0o600, name
        assert {name: oct(value) for name, value in found.items() if value != 0o600} == {}
    finally:
        os.umask(previous)
        backend.down()
