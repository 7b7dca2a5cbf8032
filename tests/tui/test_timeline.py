"""The rollout timeline's recorder (tutor.tui.timeline) on made-up cluster states, and the timeline view's snapshots
from a timeline recorded once from the real lesson (tests/data/timeline, written by test_timeline_play)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot

from tests.tui.pilot import until
from tutor.tui import timeline as timeline_module
from tutor.tui.screens.timeline import TimelineScreen
from tutor.tui.timeline import GAP_SECONDS, Timeline

FIXTURE = Path(__file__).parent.parent / "data" / "timeline" / "rolling-update.timeline.jsonl"
IMAGES = ("gcr.io/google-samples/kubernetes-bootcamp:v1", "jocatalin/kubernetes-bootcamp:v2",
          "jocatalin/kubernetes-bootcamp:v10")


def deployment(image: str = IMAGES[1], replicas: int = 4) -> dict[str, Any]:
    return {"metadata": {"name": "kubernetes-bootcamp", "uid": "d"},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"image": image}]}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}}}}


def replica_set(revision: int, image: str) -> dict[str, Any]:
    return {"metadata": {"name": f"rs{revision}", "uid": f"rs{revision}",
                         "annotations": {"deployment.kubernetes.io/revision": str(revision)},
                         "ownerReferences": [{"kind": "Deployment", "name": "kubernetes-bootcamp", "uid": "d"}]},
            "spec": {"replicas": 1, "template": {"spec": {"containers": [{"image": image}]}}}}


def pod(name: str, revision: int, state: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "ownerReferences": [{"kind": "ReplicaSet", "name": f"rs{revision}",
                                                               "uid": f"rs{revision}", "controller": True}]}
    container: dict[str, Any] = {"name": "c", "ready": state in ("ready", "terminating"), "restartCount": 0}
    if state == "failing":
        container["state"] = {"waiting": {"reason": "ImagePullBackOff", "message": "not found"}}
    elif state == "not_ready":
        container["state"] = {"waiting": {"reason": "ContainerCreating"}}
    else:
        container["state"] = {"running": {"startedAt": "2026-01-01T00:00:00Z"}}
    if state == "terminating":
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "spec": {"containers": [{"name": "c"}]},
            "status": {"phase": "Pending" if state in ("failing", "not_ready") else "Running",
                       "containerStatuses": [container]}}


def stall(events: tuple[dict[str, Any], ...] = ()) -> dict[str, list[dict[str, Any]]]:
    """The v10 stall: 3 v2 pods ready, 1 terminating, 2 v10 pods that cannot pull."""
    pods = [pod(f"a{i}", 1, "ready") for i in range(3)] + [pod("a3", 1, "terminating")]
    pods += [pod("b0", 2, "failing"), pod("b1", 2, "failing")]
    return {"deployments": [deployment(IMAGES[2])], "replicasets": [replica_set(1, IMAGES[1]), replica_set(2, IMAGES[2])],
            "pods": pods, "events": list(events)}


def event(uid: str, count: int = 1) -> dict[str, Any]:
    return {"metadata": {"name": uid, "uid": uid}, "type": "Warning", "reason": "Failed", "count": count,
            "involvedObject": {"kind": "Pod", "name": "b0"}, "message": "Failed to pull image  v10:  not found",
            "lastTimestamp": "2026-01-01T00:00:05Z"}


def test_a_sample_counts_each_revision_by_state_and_resolves_the_bounds(tmp_path: Path) -> None:
    timeline = Timeline(tmp_path / "t.jsonl", images=IMAGES)
    assert timeline.observe(stall(), now=100.0)
    sample = timeline.samples[-1]
    assert [(r.label, r.ready, r.not_ready, r.terminating, r.failing) for r in sample.revisions] == [
        ("v10", 0, 0, 0, 2), ("v2", 3, 0, 1, 0)]
    assert (sample.total, sample.available, sample.failing) == (5, 3, 2)
    assert (sample.max_pods, sample.min_available, sample.updating) == (5, 3, True)
    assert {p.name: p.status for p in sample.pods}["a3"] == "Terminating"


def test_only_changes_are_recorded_and_a_reload_gives_them_back(tmp_path: Path) -> None:
    path = tmp_path / "progress" / "t.jsonl"
    timeline = Timeline(path, images=IMAGES)
    timeline.command("kubectl set image …:v10", "break", now=99.0)
    assert timeline.observe(stall((event("e1"),)), now=100.0)
    assert not timeline.observe(stall((event("e1"),)), now=101.0)  # nothing new: nothing written
    assert timeline.observe(stall((event("e1", count=2),)), now=102.0)  # the event happened again
    assert (len(timeline.samples), len(timeline.events)) == (1, 2)
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with path.open("a", encoding="utf-8") as file:
        file.write('{"k": "s", "t": 1')  # a line cut short by a crash
    again = Timeline.load(path, images=IMAGES)
    assert again.samples == timeline.samples and again.commands == timeline.commands
    assert not again.observe(stall((event("e1", count=2),)), now=103.0)  # events seen before a restart stay seen
    moment = again.moment(100.5)
    assert moment.sample == timeline.samples[0] and moment.command is not None and moment.command.step == "break"
    again.clear()
    assert not path.exists() and not Timeline.load(path).samples


def test_the_file_stays_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timeline_module, "MAX_RECORDS", 20)
    path = tmp_path / "t.jsonl"
    timeline = Timeline(path, images=IMAGES)
    for i in range(50):
        timeline.command(f"echo {i}", now=float(i))
    lines = path.read_text().splitlines()
    assert len(lines) <= 20 and json.loads(lines[-1])["line"] == "echo 49"
    assert len(timeline.commands) <= 20 and timeline.commands[-1].line == "echo 49"
    assert [c.line for c in Timeline.load(path).commands] == [c.line for c in timeline.commands]


def test_resetting_the_lesson_forgets_its_timeline(tmp_path: Path) -> None:
    from tutor.lesson.progress import Progress

    progress = Progress.load(tmp_path, "rolling-update", "practice")
    progress.start("update")
    timeline = Timeline(Timeline.file_beside(progress.path))
    timeline.command("kubectl get pods", "update", now=1.0)
    assert timeline.path is not None and timeline.path.exists()
    progress.reset()  # `kube-tutor reset`
    assert not timeline.path.exists()


def test_quiet_stretches_are_shortened_on_the_axis() -> None:
    timeline = Timeline(None)
    for at in (0.0, 1.0, 100.0, 101.5):
        timeline.command("x", now=at)
    assert [timeline.squeeze(at) for at in (0.0, 1.0, 100.0, 101.5)] == [0.0, 1.0, 1.0 + GAP_SECONDS,
                                                                         2.5 + GAP_SECONDS]


# ---- the view, on the recorded lesson ----


class TimelineApp(App[None]):
    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang

    def on_mount(self) -> None:
        self.push_screen(TimelineScreen(Timeline.load(FIXTURE, images=IMAGES), self.lang,
                                        title="Updating your app" if self.lang == "en" else "アプリの更新"))


async def to_the_stall(pilot: Pilot[Any]) -> None:
    await until(pilot, lambda: isinstance(pilot.app.screen, TimelineScreen) and pilot.app.screen.is_mounted,
                "the timeline")
    await back_to_the_stall(pilot)
    await pilot.pause()


async def back_to_the_stall(pilot: Pilot[Any]) -> None:
    """←, from the end, until the cursor is on the v10 stall (the last moment with two pods failing)."""
    view = pilot.app.screen
    assert isinstance(view, TimelineScreen)
    while "failing (e.g. image pull) 2" not in view.now_text() and "失敗（イメージ取得など） 2" not in view.now_text():
        assert view.cursor > 0, "no stall in the timeline"
        await pilot.press("left")


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
@pytest.mark.parametrize("lang", ["en", "ja"])
def test_timeline_view(snap_compare: Any, lang: str, size: tuple[int, int]) -> None:
    assert snap_compare(TimelineApp(lang), terminal_size=size, run_before=to_the_stall)


async def test_scrubbing_shows_the_pods_and_events_of_that_moment() -> None:
    app = TimelineApp("en")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, TimelineScreen) and app.screen.is_mounted, "the timeline")
        view = app.screen
        assert isinstance(view, TimelineScreen)
        assert "4 available" in view.now_text()
        await back_to_the_stall(pilot)
        text = view.now_text()
        assert "5 pods (at most 5 = 4 + 1)" in text and "3 available (at least 3 = 4 − 1)" in text, text
        assert "failing" in text and "v10" in text
        assert "Failed" in view.events_text()
        await pilot.press("home")
        assert view.cursor == 0 and "v10" not in view.now_text()
        await pilot.press("end")
        assert view.cursor == len(view.times) - 1
