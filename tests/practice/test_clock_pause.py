"""Slow motion and a paused clock: the practice cluster's time stands still while the API keeps answering.

The clock itself (``tutor.practice.clock``) is tested in-process; the cluster with the real kubectl, on a cluster
of its own (pausing the session's shared one would stall the other tests), run in slow motion (time scale 0.5).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.practice.conftest import Kube, wait_for
from tutor import cli
from tutor.backends.base import BackendError, ClockState
from tutor.backends.practice import PracticeBackend
from tutor.backends.seats import load_seat, prepare_seat
from tutor.practice.clock import Clock
from tutor.practice.controllers.workqueue import WorkQueue

SLOW = 0.5
"""Slow motion: every pull, start and grace period takes twice as long as at time scale 1."""
V1 = "gcr.io/google-samples/kubernetes-bootcamp:v1"
V2 = "jocatalin/kubernetes-bootcamp:v2"


# ---- the clock ---------------------------------------------------------------------------------------------------
class FakeTime:
    """A monotonic and a wall clock that move only when told."""

    def __init__(self) -> None:
        self.seconds = 100.0
        self.wall = datetime(2026, 1, 1, tzinfo=UTC)

    def monotonic(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds
        self.wall += timedelta(seconds=seconds)


def fake_clock(scale: float) -> tuple[Clock, FakeTime]:
    fake = FakeTime()
    clock = Clock(scale, monotonic=fake.monotonic)
    clock.now = lambda: fake.wall  # type: ignore[method-assign]
    return clock, fake


def test_simulated_time_runs_at_the_scale_and_stands_still_while_paused() -> None:
    clock, fake = fake_clock(0.5)
    begin = fake.wall
    fake.advance(10)
    assert clock.elapsed() == 5.0  # slow motion: 10 real seconds are 5 simulated ones
    clock.pause()
    assert clock.paused
    fake.advance(100)
    assert clock.elapsed() == 5.0
    assert clock.elapsed_since(begin) == 5.0  # the 100 s paused do not count toward a delay begun before
    clock.resume()
    fake.advance(4)
    assert clock.elapsed() == 7.0
    assert clock.elapsed_since(begin) == 7.0
    assert clock.elapsed_since(begin + timedelta(seconds=50)) == 2.0  # began while paused: only since the resume
    assert clock.elapsed_since(begin, begin + timedelta(seconds=10)) == 5.0


def test_pause_and_resume_twice_do_what_one_does() -> None:
    clock, fake = fake_clock(2)
    clock.pause()
    clock.pause()
    fake.advance(3)
    clock.resume()
    clock.resume()
    fake.advance(1)
    assert (clock.paused, clock.elapsed()) == (False, 2.0)


def test_a_sleep_does_not_end_while_the_clock_is_paused_and_the_time_paused_does_not_count() -> None:
    async def scenario() -> None:
        clock = Clock(1000.0)  # 10 simulated seconds last 10 ms
        clock.pause()
        done = asyncio.get_running_loop().create_task(clock.sleep(10))
        runs = asyncio.get_running_loop().create_task(clock.running())
        for _ in range(50):
            await asyncio.sleep(0.001)  # turns of the loop, far longer than the 10 ms the sleep needs (noqa: sleep-ok)
        assert not done.done() and not runs.done()
        clock.resume()
        await asyncio.wait_for(asyncio.gather(done, runs), 5)
        # Paused in the middle: the sleep stops where it stood and ends only after the resume.
        middle = asyncio.get_running_loop().create_task(clock.sleep(10))
        await asyncio.sleep(0)
        clock.pause()
        for _ in range(50):
            await asyncio.sleep(0.001)  # longer than the whole 10 ms the sleep needs at this scale (noqa: sleep-ok)
        assert not middle.done()
        clock.resume()
        await asyncio.wait_for(middle, 5)

    asyncio.run(scenario())


def test_a_work_queue_holds_its_keys_while_the_clock_is_paused() -> None:
    async def scenario() -> None:
        clock = Clock(1.0)
        synced: list[str] = []
        queue = WorkQueue("test", lambda key: synced.append(str(key)), clock=clock)
        clock.pause()
        queue.add("a")
        queue.add_after("b", 0.0)
        for _ in range(20):
            await asyncio.sleep(0.001)  # turns of the loop (noqa: sleep-ok)
        assert synced == []
        clock.resume()
        deadline = time.monotonic() + 5
        while sorted(synced) != ["a", "b"] and time.monotonic() < deadline:
            await asyncio.sleep(0.001)  # poll interval (noqa: sleep-ok)
        assert sorted(synced) == ["a", "b"]
        queue.close()

    asyncio.run(scenario())


# ---- the cluster, with the real kubectl --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def slow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PracticeBackend]:
    """A practice cluster of this module's own, in slow motion."""
    backend = PracticeBackend(tmp_path_factory.mktemp("slow-state"), time_scale=SLOW)
    backend.up()
    yield backend
    backend.down()


@pytest.fixture
def admin(slow: PracticeBackend) -> Iterator[Kube]:
    kube = Kube(slow.kubeconfig, "default", Path(os.environ["HOME"]))
    yield kube
    slow.set_clock_paused(False)  # a failed test must not leave the next one a frozen cluster


def pod_rows(kube: Kube) -> list[str]:
    """``kubectl get pods`` without its AGE column (ages keep wall-clock time, also while paused)."""
    lines = kube("get", "pods", "-l", "app=kubernetes-bootcamp").splitlines()
    header = lines[0]
    age = header.index("AGE")
    return [line[:age].rstrip() for line in lines]


def rollout_state(kube: Kube) -> tuple[list[str], dict[str, Any]]:
    deployment = kube.json("get", "deployment", "kubernetes-bootcamp")
    return pod_rows(kube), {"generation": deployment["metadata"]["generation"], "status": deployment["status"]}


def test_a_paused_clock_freezes_a_rollout_in_slow_motion_and_it_goes_on_after_resume(
        slow: PracticeBackend, admin: Kube) -> None:
    assert slow.clock() == ClockState(False, SLOW)
    admin("create", "deployment", "kubernetes-bootcamp", f"--image={V1}", "--replicas=4")
    admin("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=120s")
    admin("set", "image", "deployment/kubernetes-bootcamp", f"kubernetes-bootcamp={V2}")

    def mid_rollout() -> bool:
        pods = admin.pods()
        new = [p for p in pods if p["spec"]["containers"][0]["image"] == V2]
        return bool(new) and len(new) < 4

    wait_for(mid_rollout, timeout=60, message="a rollout half done")
    assert slow.set_clock_paused(True) == ClockState(True, SLOW)
    before = rollout_state(admin)
    time.sleep(3)  # the point of the test: seconds pass while paused (noqa: sleep-ok)
    after = rollout_state(admin)
    assert after == before
    # ... and what it froze is a rollout under way: a pod not ready yet, or one still stopping.
    assert any(" 0/1 " in row or " Terminating " in row for row in before[0][1:]), before[0]
    # kubectl's writes are accepted and kept, but no controller acts on them while the time stands still.
    assert admin("scale", "deployment/kubernetes-bootcamp", "--replicas=6").strip() == \
        "deployment.apps/kubernetes-bootcamp scaled"
    time.sleep(2)  # again seconds pass while paused (noqa: sleep-ok)
    deployment = admin.deployment()
    assert deployment["spec"]["replicas"] == 6
    assert deployment["status"]["observedGeneration"] < deployment["metadata"]["generation"]
    assert pod_rows(admin) == before[0]
    assert slow.clock() == ClockState(True, SLOW)

    assert slow.set_clock_paused(False) == ClockState(False, SLOW)
    admin("rollout", "status", "deployment/kubernetes-bootcamp", "--timeout=120s")
    ready = wait_for(lambda: [p for p in admin.pods() if not p["metadata"].get("deletionTimestamp")
                              and p["spec"]["containers"][0]["image"] == V2] or None, message="v2 pods")
    assert len(ready) == 6
    admin("delete", "deployment", "kubernetes-bootcamp")


def test_the_clock_path_answers_the_admin_with_kubectl_raw_and_refuses_a_seat(
        slow: PracticeBackend, admin: Kube, tmp_path: Path) -> None:
    assert json.loads(admin("get", "--raw", "/kube-tutor/clock")) == {"paused": False, "timeScale": SLOW}
    body = tmp_path / "pause.json"
    body.write_text('{"paused": true}')
    assert json.loads(admin("replace", "--raw", "/kube-tutor/clock", "-f", str(body))) == \
        {"paused": True, "timeScale": SLOW}
    body.write_text('{"paused": "yes"}')
    refused = admin.run("replace", "--raw", "/kube-tutor/clock", "-f", str(body))
    assert refused.returncode == 1 and 'the body must be {"paused": true} or {"paused": false}' in refused.stderr
    body.write_text('{"paused": false, "timeScale": 4}')
    refused = admin.run("replace", "--raw", "/kube-tutor/clock", "-f", str(body))
    assert refused.returncode == 1 and "the time scale (0.5) is set when the cluster starts" in refused.stderr
    assert slow.clock() == ClockState(True, SLOW)  # a refused request changed nothing
    body.write_text('{"paused": false}')
    assert json.loads(admin("replace", "--raw", "/kube-tutor/clock", "-f", str(body)))["paused"] is False

    prepare_seat(slow.kubeconfig, "seat-01", tmp_path / "seat", lifetime=3600)
    seat = load_seat(tmp_path / "seat")
    assert seat is not None
    learner = Kube(Path(seat.kubeconfig), seat.namespace, Path(os.environ["HOME"]))
    for args in (("get", "--raw", "/kube-tutor/clock"),
                 ("replace", "--raw", "/kube-tutor/clock", "-f", str(body))):
        denied = learner.run(*args)
        assert denied.returncode == 1
        assert denied.stderr.strip().startswith("Error from server (Forbidden): forbidden: User "
                                                '"system:serviceaccount:seat-01:learner" cannot ')
        assert 'path "/kube-tutor/clock"' in denied.stderr
    assert slow.clock() == ClockState(False, SLOW)


def test_cluster_pause_and_resume_on_the_command_line(
        slow: PracticeBackend, admin: Kube, capsys: pytest.CaptureFixture[str]) -> None:
    state = str(slow.state)
    assert cli.main(["--state-dir", state, "--lang", "en", "cluster", "pause", "--backend", "practice"]) == 0
    assert capsys.readouterr().out.startswith("the practice cluster's clock is paused")
    assert slow.clock() == ClockState(True, SLOW)
    assert cli.main(["--state-dir", state, "--lang", "ja", "cluster", "resume", "--backend", "practice"]) == 0
    assert capsys.readouterr().out.strip() == "練習用クラスターの時計を再開しました（時間の速さ 0.5 倍）"
    assert slow.clock() == ClockState(False, SLOW)


def test_pausing_a_cluster_that_does_not_run_is_one_line(tmp_path: Path) -> None:
    backend = PracticeBackend(tmp_path / "nothing-here")
    assert backend.clock() is None
    with pytest.raises(BackendError) as raised:
        backend.set_clock_paused(True)
    assert str(raised.value) == ("the practice cluster is not running, so its clock cannot be paused "
                                 "(start it: `kube-tutor cluster up`)")


def test_a_pod_deleted_while_paused_stops_only_after_resume(slow: PracticeBackend, admin: Kube) -> None:
    admin("run", "frozen", f"--image={V1}", "--restart=Never")
    wait_for(lambda: admin.json("get", "pod", "frozen")["status"].get("phase") == "Running", timeout=60,
             message="the pod running")
    slow.set_clock_paused(True)
    admin("delete", "pod", "frozen", "--grace-period=2", "--wait=false")
    time.sleep(3)  # longer than the grace period would last at this scale (noqa: sleep-ok)
    pod = admin.json("get", "pod", "frozen")
    assert pod["metadata"]["deletionTimestamp"]  # the API took the deletion ...
    assert pod["status"]["phase"] == "Running"  # ... the kubelet has not begun to stop it
    reasons = [e["reason"] for e in admin.json("get", "events", "--field-selector", "involvedObject.name=frozen")["items"]]
    assert "Killing" not in reasons
    slow.set_clock_paused(False)
    wait_for(lambda: not admin.run("get", "pod", "frozen").ok, timeout=60, message="the pod gone after resume")
