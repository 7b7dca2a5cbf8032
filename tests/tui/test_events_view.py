"""The events view (F8 on the lesson screen): the lesson's warnings, newest first, only for objects that exist,
each explained, in ja and en; it follows the cluster while open.

It runs on the fakes of ``tests.tui.fakes`` with events shaped as the practice cluster and a real cluster serve
them, and a frozen clock, so every screen is the same on every run.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from tests.lesson.test_checks import v10_stall
from tests.tui.fakes import DEPLOY, POD_SUFFIXES, POD_TEMPLATE_HASH, FakeRuntime, Snapshot, make_app, realize
from tests.tui.pilot import until
from tutor.tui.screens.events import EventsScreen
from tutor.tui.screens.lesson import LessonScreen
from tutor.tui.widgets.checklist import Checklist

DEADLINE = 10.0
"""Seconds a condition may take before a test fails (the fakes answer at once: this is only a guard)."""
T0 = datetime(2026, 1, 5, 10, 0, 0, tzinfo=UTC)
"""When the v10 pods were created (``tests.tui.fakes.CREATED``)."""
NOW = T0 + timedelta(seconds=66)
"""The frozen clock of the view."""
V10 = "jocatalin/kubernetes-bootcamp:v10"
NOT_FOUND = (f'Failed to pull image "{V10}": rpc error: code = NotFound desc = failed to pull and unpack image '
             f'"docker.io/{V10}": failed to resolve reference "docker.io/{V10}": docker.io/{V10}: not found')


def stamp(seconds: float) -> str:
    return (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _event(obj: dict[str, Any], reason: str, message: str, *, type_: str = "Normal", count: int = 1,
           first: float = 0, last: float = 0, component: str = "kubelet", version: int = 0) -> dict[str, Any]:
    meta = obj["metadata"]
    name = f"{meta['name']}.{version:08x}"
    return {"kind": "Event", "apiVersion": "v1",
            "metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}", "resourceVersion": str(version)},
            "involvedObject": {"kind": obj["kind"], "name": meta["name"], "uid": meta["uid"], "namespace": "default",
                               "apiVersion": obj["apiVersion"]},
            "reason": reason, "message": message, "type": type_, "count": count,
            "firstTimestamp": stamp(first), "lastTimestamp": stamp(last), "source": {"component": component}}


def stalled_with_events() -> Snapshot:
    """The v10 stall as the fakes show it, with the events a cluster records on the way there, and events of a pod
    an earlier reset deleted (which the view must leave out)."""
    state = realize(v10_stall())
    deployment = state["deployments"][0]
    v10_pods = [p for p in state["pods"] if POD_TEMPLATE_HASH["v10"] in p["metadata"]["name"]]
    rs = {POD_TEMPLATE_HASH[v]: f"{DEPLOY}-{POD_TEMPLATE_HASH[v]}" for v in ("v2", "v10")}
    events = [
        _event(deployment, "ScalingReplicaSet", f"Scaled up replica set {rs[POD_TEMPLATE_HASH['v10']]} from 0 to 1",
               component="deployment-controller", version=10),
        _event(deployment, "ScalingReplicaSet", f"Scaled down replica set {rs[POD_TEMPLATE_HASH['v2']]} from 4 to 3",
               component="deployment-controller", version=11),
        _event(deployment, "ScalingReplicaSet", f"Scaled up replica set {rs[POD_TEMPLATE_HASH['v10']]} from 1 to 2",
               component="deployment-controller", version=12),
    ]
    for offset, pod in enumerate(v10_pods):
        base = 100 + 10 * offset
        events += [
            _event(pod, "Pulling", f'Pulling image "{V10}"', count=3, first=1, last=38 + offset, version=base),
            _event(pod, "Failed", NOT_FOUND, type_="Warning", count=3, first=2, last=39 + offset, version=base + 1),
            _event(pod, "Failed", "Error: ErrImagePull", type_="Warning", count=3, first=2, last=39 + offset,
                   version=base + 2),
            _event(pod, "BackOff", f'Back-off pulling image "{V10}"', count=4, first=3, last=52 + offset,
                   version=base + 3),
            _event(pod, "Failed", "Error: ImagePullBackOff", type_="Warning", count=4, first=3, last=52 + offset,
                   version=base + 4),
        ]
    gone = copy.deepcopy(v10_pods[0])
    gone["metadata"].update(name=f"{DEPLOY}-{POD_TEMPLATE_HASH['v10']}-gone1", uid="uid-deleted-by-f5")
    events.append(_event(gone, "Failed", NOT_FOUND, type_="Warning", count=9, last=60, version=900))
    state["events"] = events
    return state


@pytest.fixture(autouse=True)
def _frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing on screen may change with time: no cursor blink, no auto-advance, a fixed clock in the view."""
    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(LessonScreen, "_tick", lambda self: None)
    monkeypatch.setattr(EventsScreen, "clock", staticmethod(lambda: NOW))




def events_app(lang: str, tmp_path: Path) -> Any:
    app = make_app("v10_stall", lang, tmp_path)
    assert isinstance(app.runtime, FakeRuntime)
    app.runtime.watch.set_snapshot(stalled_with_events())
    return app


async def open_events(pilot: Pilot[Any]) -> EventsScreen:
    app = pilot.app

    def lesson_ready() -> bool:
        screen = app.screen
        return (isinstance(screen, LessonScreen) and screen.step.id == "break" and screen.verdict is not None
                and screen.query_one(Checklist).verdict is not None)

    await until(pilot, lesson_ready, "the lesson screen on the break step")
    await pilot.press("f8")
    await until(pilot, lambda: isinstance(app.screen, EventsScreen) and app.screen.events is not None,
                "the events view")
    screen = app.screen
    assert isinstance(screen, EventsScreen)
    await pilot.pause()
    return screen


async def test_f8_shows_the_warnings_newest_first_explained_and_only_for_live_objects(tmp_path: Path) -> None:
    app = events_app("en", tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        view = await open_events(pilot)
        assert view.events is not None
        pods = [f"pod/{DEPLOY}-{POD_TEMPLATE_HASH['v10']}-{suffix}" for suffix in POD_SUFFIXES["v10"]]
        assert [(e.reason, e.object) for e in view.events[:5]] == [
            ("Failed", pods[1]), ("BackOff", pods[1]), ("Failed", pods[0]), ("BackOff", pods[0]), ("Failed", pods[1])]
        assert all("gone1" not in e.object for e in view.events)            # its pod was deleted
        assert {e.reason for e in view.events} == {"Failed", "BackOff", "ScalingReplicaSet"}   # no Pulling
        text = view.plain_text
        assert "→ The registry has no such tag: nothing is published as jocatalin/kubernetes-bootcamp:v10" in text
        # 3 failed pulls each: a 40 s back-off from the last failure (39 s and 40 s after T0; now is 66 s)
        assert "failed pulls so far: 3, so it waits 40 s: next try in ~13 s." in text
        assert "failed pulls so far: 3, so it waits 40 s: next try in ~14 s." in text
        assert "was scaled from 1 to 2. Why: during a rolling update at most 4 + maxSurge 1 = 5 pods" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, LessonScreen), "the lesson screen again")


async def test_the_view_follows_the_cluster_while_open(tmp_path: Path) -> None:
    app = events_app("ja", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        view = await open_events(pilot)
        runtime = app.runtime
        assert isinstance(runtime, FakeRuntime)
        state = stalled_with_events()
        state["events"] = [e for e in state["events"] if e["reason"] == "ScalingReplicaSet"]
        runtime.watch.set_snapshot(state)
        await until(pilot, lambda: view.events is not None and all(e.reason == "ScalingReplicaSet"
                                                                   for e in view.events), "the new events")
        assert "理由: ローリングアップデート中に同時に存在してよい Pod は、最大 4 + maxSurge 1 = 5 個です" in view.plain_text
        state["events"] = []
        runtime.watch.set_snapshot(state)
        await until(pilot, lambda: view.events == [], "no events")
        assert view.plain_text == "レッスンのオブジェクトについての警告はまだありません。"
        await pilot.press("f8")
        await until(pilot, lambda: isinstance(app.screen, LessonScreen), "F8 to close the view")


@pytest.mark.parametrize(("lang", "size"), [("en", (120, 40)), ("ja", (80, 24))])
def test_snapshot_events_view(snap_compare: Any, tmp_path: Path, lang: str, size: tuple[int, int]) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_events(pilot)

    assert snap_compare(events_app(lang, tmp_path), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("lang", ["en", "ja"])
def test_snapshot_events_view_scrolled_to_the_scaling(snap_compare: Any, tmp_path: Path, lang: str) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await open_events(pilot)
        await pilot.press("end")
        await pilot.pause()

    assert snap_compare(events_app(lang, tmp_path), terminal_size=(80, 24), run_before=run_before)
