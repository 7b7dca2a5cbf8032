"""Events live in the storage, not in the server's memory (issue 9: a 1-hour soak keeps RSS within +10 %).

An hour of events of a busy cluster is thousands of objects that are written often and read rarely; the store
reads them from ``state.db`` when asked (``StoredBucket``), so the process's memory does not grow with their
count. These tests drive the store and the storage in process, as the API server and the controllers do.
"""

from __future__ import annotations

import sqlite3
import tracemalloc
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tutor.practice.apiserver.storage import Storage, StorageFailed
from tutor.practice.apiserver.store import Store, StoredBucket, WatchEvent
from tutor.practice.clock import Clock


def _open(path: Path) -> tuple[Store, Storage]:
    storage = Storage(path)
    store = Store(Clock(1.0), storage)
    loaded = storage.open(kept_here=store.kept_in_storage)
    store.restore(loaded.objects, loaded.resource_version)
    if store.get("namespaces", "", "default") is None:
        store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    return store, storage


@pytest.fixture
def opened(tmp_path: Path) -> Iterator[tuple[Store, Storage]]:
    store, storage = _open(tmp_path / "state.db")
    yield store, storage
    storage.close()


def _event(name: str, message: str = "m", last: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "default"},
                             "involvedObject": {"kind": "Pod", "namespace": "default", "name": "p"},
                             "reason": "Pulled", "message": message, "type": "Normal", "count": 1}
    if last is not None:
        event["lastTimestamp"] = last
    return event


class Unkept:
    def add(self, kept: object) -> None:
        pass


def test_events_are_read_from_the_storage_and_not_kept_in_memory(opened: tuple[Store, Storage],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    store, storage = opened
    assert isinstance(store._objects["events"], StoredBucket)
    # The watch window keeps its own bounded share (test_watch_window): not counted here.
    monkeypatch.setattr(store, "_history", {**store._history, "events": Unkept()})
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for i in range(3000):
            store.create("events", _event(f"e-{i:05d}", "Successfully pulled image \"x\" in 1.2s" * 2))
            if i % 100 == 99:
                store.commit()
        store.commit()
        after = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # Packed in memory, an event cost about 250-330 bytes (3,000: ~0.9 MB); in the storage, nothing per event.
    assert grown < 3000 * 40, f"{grown} bytes of Python memory grew for 3,000 events"
    got = store.get("events", "default", "e-01234")
    assert got is not None and got["metadata"]["resourceVersion"] and got["reason"] == "Pulled"
    assert got is not store.get("events", "default", "e-01234")  # a new dict each read: nobody can change it
    assert len(store.list("events", "default")) == 3000
    assert [e["metadata"]["name"] for e in store.scan("events")][:2] == ["e-00000", "e-00001"]


def test_a_staged_event_is_seen_before_it_is_saved(opened: tuple[Store, Storage]) -> None:
    store, storage = opened
    created = store.create("events", _event("fresh"))
    assert storage.pending
    assert store.get("events", "default", "fresh") == created
    assert ("default", "fresh") in store._objects["events"]
    updated = store.update("events", {**created, "count": 2})
    assert store.must_get("events", "default", "fresh")["count"] == 2 == updated["count"]
    store.remove("events", "default", "fresh")
    assert store.get("events", "default", "fresh") is None
    assert store.list("events") == []
    store.commit()
    row = sqlite3.connect(storage.path).execute("SELECT count(*) FROM objects WHERE resource = 'events'").fetchone()
    assert row == (0,)


def test_a_list_of_stored_events_is_the_view_of_its_first_item(opened: tuple[Store, Storage]) -> None:
    """As ``test_a_list_read_while_it_is_sent_is_the_view_of_its_first_item`` for kinds in memory: the scan reads
    one SQLite read transaction (a WAL snapshot), so writes made while it is sent do not show in it."""
    store, _ = opened
    for i in range(5):
        store.create("events", _event(f"o-{i}", f"v{i}"))
    scan = store.scan("events", "default")
    first = next(scan)
    store.remove("events", "default", "o-3")
    changed = store.must_get("events", "default", "o-1")
    store.update("events", {**changed, "message": "changed"})
    store.create("events", _event("o-9"))
    store.commit()
    rest = list(scan)
    assert [o["metadata"]["name"] for o in [first, *rest]] == [f"o-{i}" for i in range(5)]
    assert rest[0]["message"] == "v1"
    assert [o["metadata"]["name"] for o in store.scan("events", "default")] == ["o-0", "o-1", "o-2", "o-4", "o-9"]


def test_events_come_back_after_a_restart_without_being_loaded(tmp_path: Path) -> None:
    store, storage = _open(tmp_path / "state.db")
    for i in range(3):
        store.create("events", _event(f"e-{i}"))
    last_rv = store.rv
    storage.close()
    loaded = Storage(tmp_path / "state.db").open(kept_here={"events"})
    assert [plural for plural, _ in loaded.objects] == ["namespaces"]
    assert loaded.resource_version == last_rv  # an event's resourceVersion still counts
    store, storage = _open(tmp_path / "state.db")
    try:
        assert store.rv == last_rv
        assert [e["metadata"]["name"] for e in store.list("events", "default")] == ["e-0", "e-1", "e-2"]
        assert store.create("events", _event("e-3"))["metadata"]["resourceVersion"] == str(last_rv + 1)
    finally:
        storage.close()


def test_events_expire_by_their_last_write(opened: tuple[Store, Storage]) -> None:
    """The apiserver's ``--event-ttl``: an hour after the last write (``lastTimestamp``, else the creation)."""
    store, _ = opened
    now = store.clock.now()

    def stamp(ago: float) -> str:
        return (now - timedelta(seconds=ago)).strftime("%Y-%m-%dT%H:%M:%SZ")

    store.create("events", _event("old", last=stamp(7200)))
    store.create("events", _event("recent", last=stamp(60)))
    store.create("events", _event("just-inside", last=stamp(3500)))
    created = store.create("events", _event("created-now"))
    store.update("events", {**store.must_get("events", "default", "recent"), "lastTimestamp": stamp(5000)})
    store.update("events", {**store.must_get("events", "default", "just-inside"), "lastTimestamp": stamp(10)})
    removed: list[WatchEvent] = []
    store.add_listener(lambda event: removed.append(event) if event.type == "DELETED" else None)
    cutoff = now - timedelta(seconds=3600)
    expired = store.written_before("events", cutoff, "lastTimestamp")
    assert expired == [("default", "old"), ("default", "recent")]
    assert created["metadata"]["creationTimestamp"] and store.written_before("configmaps", cutoff, "x") == []


class FailingStorage(Storage):
    """A storage whose commits fail (a full disk), as ``test_storage_failure`` makes with a read-only directory."""

    failing = False

    def _write(self, *args: Any) -> None:  # type: ignore[override]
        if self.failing:
            raise sqlite3.OperationalError("database or disk is full")
        Storage._write(*args)


def test_events_stay_readable_while_saving_fails(tmp_path: Path) -> None:
    storage = FailingStorage(tmp_path / "state.db")
    store = Store(Clock(1.0), storage)
    storage.open(kept_here=store.kept_in_storage)
    store.create("namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
    store.create("events", _event("saved"))
    store.commit()
    storage.failing = True
    store.create("events", _event("kept-in-memory"))
    store.remove("events", "default", "saved")
    with pytest.raises(StorageFailed):
        store.commit()
    assert [e["metadata"]["name"] for e in store.scan("events")] == ["kept-in-memory"]
    assert store.get("events", "default", "saved") is None
    storage.failing = False
    store.commit()
    assert [e["metadata"]["name"] for e in store.scan("events")] == ["kept-in-memory"]
    storage.close()
