"""Provides the object store: one global resourceVersion, watch fan-out with replay, and owner indexes.

Reads are served from memory; every change is staged in the durable :class:`~tutor.practice.apiserver.storage.Storage`
as it is made and committed before anything that names it leaves the server (see ``commit``).
"""

from __future__ import annotations

import asyncio
import builtins
import copy
import json
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from tutor.practice.apiserver import errors
from tutor.practice.apiserver.resources import RESOURCES, Resource
from tutor.practice.apiserver.storage import Storage, StorageFailed
from tutor.practice.apiserver.watchcache import History
from tutor.practice.clock import Clock

Obj = dict[str, Any]
Key = tuple[str, str]  # (namespace, name); namespace "" for cluster-scoped objects

WATCH_QUEUE_LIMIT = 100 * 1024
"""Events a watcher may have waiting before it is closed as unresponsive (the cacher closes a watcher that
blocks its channel; the client watches again from the last resourceVersion it saw)."""


T = TypeVar("T")


def deep_copy(obj: T) -> T:
    return copy.deepcopy(obj)


@dataclass
class WatchEvent:
    rv: int
    resource: Resource
    type: str  # ADDED, MODIFIED, DELETED
    obj: Obj
    old: Obj | None = None


@dataclass(eq=False)
class Watcher:
    """A live watch: the API handler drains ``queue``; the store pushes matching events into it."""

    resource: Resource
    namespace: str | None
    matches: Callable[[Obj], bool]
    queue: asyncio.Queue[WatchEvent | None] = field(default_factory=asyncio.Queue)
    closed: bool = False

    def close(self) -> None:
        """End the watch: the handler sends what is queued, then the response ends."""
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(None)

    def offer(self, event: WatchEvent) -> None:
        """Translate a store event for this watcher (selector-aware, like the apiserver's cacher)."""
        obj = event.obj
        if self.namespace is not None and obj["metadata"].get("namespace", "") != self.namespace:
            return
        now_matches = self.matches(obj)
        old_matched = event.old is not None and self.matches(event.old)
        kind = event.type
        if kind == "DELETED":
            if not now_matches and not old_matched:
                return
        elif kind == "ADDED":
            if not now_matches:
                return
        else:  # MODIFIED
            if now_matches and not old_matched:
                kind = "ADDED"
            elif old_matched and not now_matches:
                kind = "DELETED"
            elif not now_matches:
                return
        if self.closed:
            return
        if self.queue.qsize() >= WATCH_QUEUE_LIMIT:
            self.close()  # a client that reads nothing must not hold the server's memory
            return
        self.queue.put_nowait(WatchEvent(event.rv, event.resource, kind, obj, event.old))


Listener = Callable[[WatchEvent], None]

PACKED_RESOURCES = frozenset({"events"})
"""Kinds kept out of the process's memory: many, small, read rarely (an hour of events of a busy cluster). With a
storage they are read from it when asked (:class:`StoredBucket`), so the memory of a cluster does not grow with
their count; without one (a store of a unit test), kept compressed (:class:`PackedBucket`)."""

_PRESET_OBJECTS = Path(__file__).with_name("pack_preset.json")
"""One object of each kind written most while an app is deployed, exposed, scaled and updated (a Deployment, its
ReplicaSet, the Service's Endpoints and EndpointSlice, a pod, an event), as the practice cluster made them for the
bootcamp app: the bytes zlib's preset dictionary starts from, so a packed pod keeps about 260 bytes of its 2.6 KB of JSON (about 940 with the keys
alone), an event about 170 of 800."""


def _preset() -> bytes:
    objects = json.loads(_PRESET_OBJECTS.read_bytes())
    return b"".join(json.dumps(obj, separators=(",", ":")).encode() for obj in objects.values()) + (
        b"Warning Failed Pulling image Successfully pulled image Container image already present on machine and can "
        b"be accessed by the pod Created container: Started container Killing Stopping container BackOff Back-off "
        b"pulling image ErrImagePull ImagePullBackOff Scheduled Successfully assigned default-scheduler "
        b"replicaset-controller SuccessfulCreate Created pod: SuccessfulDelete Deleted pod: ReplicaSet apps/v1 "
        b"deployment-controller ScalingReplicaSet Scaled up replica set Scaled down replica set Deployment from to ")


_PRESET = _preset()
"""zlib's preset dictionary for packed objects (``zdict``; at most the last 32 KiB count). Packed bytes never
leave the process (the storage keeps plain JSON), so it may change from one version to the next."""
_LEVEL = 6


def _pack(obj: Obj) -> bytes:
    packer = zlib.compressobj(_LEVEL, zlib.DEFLATED, -15, 8, zlib.Z_DEFAULT_STRATEGY, _PRESET)
    data = json.dumps(obj, separators=(",", ":")).encode("ascii")  # \u escapes: any str, even a lone surrogate
    return packer.compress(data) + packer.flush()


def _unpack(data: bytes) -> Obj:
    unpacker = zlib.decompressobj(-15, _PRESET)
    value: Obj = json.loads(unpacker.decompress(data) + unpacker.flush())
    return value


@dataclass(frozen=True, slots=True)
class KeptEvent:
    """A watch event as the watch window keeps it: its objects as compressed JSON, decoded only for a watch
    that resumes from an older resourceVersion (the apiserver's window holds Go structs; as Python dicts, a
    window of a thousand EndpointSlice or Pod versions would take tens of megabytes)."""

    rv: int
    resource: Resource
    type: str
    obj: bytes
    old: bytes | None

    @classmethod
    def of(cls, event: WatchEvent) -> KeptEvent:
        return cls(event.rv, event.resource, event.type, _pack(event.obj),
                   None if event.old is None else _pack(event.old))

    def event(self) -> WatchEvent:
        return WatchEvent(self.rv, self.resource, self.type, _unpack(self.obj),
                          None if self.old is None else _unpack(self.old))


class PackedBucket(MutableMapping[Key, Obj]):
    """Objects kept as compressed JSON (about a seventh of a dict's memory for an event), decoded when read.

    Every read returns a new dict, so the store's rule holds: what it hands out is a snapshot.
    """

    def __init__(self) -> None:
        self._packed: dict[str, bytes] = {}  # "<namespace>/<name>": one string per key, not a tuple of two

    @staticmethod
    def _key(key: object) -> str | None:
        if isinstance(key, tuple) and len(key) == 2 and isinstance(key[0], str) and isinstance(key[1], str):
            return f"{key[0]}/{key[1]}"  # neither a namespace nor a name may hold "/"
        return None

    def __getitem__(self, key: Key) -> Obj:
        return _unpack(self._packed[f"{key[0]}/{key[1]}"])

    def __setitem__(self, key: Key, obj: Obj) -> None:
        self._packed[f"{key[0]}/{key[1]}"] = _pack(obj)

    def __delitem__(self, key: Key) -> None:
        del self._packed[f"{key[0]}/{key[1]}"]

    def __contains__(self, key: object) -> bool:
        text = self._key(key)
        return text is not None and text in self._packed

    def __iter__(self) -> Iterator[Key]:
        for text in self._packed:
            namespace, _, name = text.partition("/")
            yield namespace, name

    def __len__(self) -> int:
        return len(self._packed)

    def packed(self, keys: Iterable[Key]) -> builtins.list[bytes]:
        """The packed bytes of ``keys`` (which must be present), without decoding: a snapshot that costs a
        reference per object."""
        return [self._packed[f"{namespace}/{name}"] for namespace, name in keys]


class StoredBucket(MutableMapping[Key, Obj]):
    """Objects that live only in the storage: its staged changes, else its rows, decoded when read.

    Writes go to the storage as the store's other writes do (``Store._emit`` stages them; here they are staged at
    once, so a read in between sees them). Every read of a row returns a new dict.
    """

    def __init__(self, storage: Storage, resource: str) -> None:
        self._storage = storage
        self._resource = resource

    def __getitem__(self, key: Key) -> Obj:
        obj = self._storage.read(self._resource, *key)
        if obj is None:
            raise KeyError(key)
        return obj

    def __setitem__(self, key: Key, obj: Obj) -> None:
        self._storage.stage(self._resource, key[0], key[1], obj, int(obj["metadata"]["resourceVersion"]))

    def __delitem__(self, key: Key) -> None:
        if key not in self:
            raise KeyError(key)
        self._storage.stage(self._resource, key[0], key[1], None, None)  # the DELETED event stages it again

    def __contains__(self, key: object) -> bool:
        return (isinstance(key, tuple) and PackedBucket._key(key) is not None
                and self._storage.read(self._resource, key[0], key[1]) is not None)

    def __iter__(self) -> Iterator[Key]:
        return iter(self._storage.names(self._resource))

    def __len__(self) -> int:
        return len(self._storage.names(self._resource))


class Store:
    """All objects of the practice cluster, in memory.

    Objects held by the store are never mutated in place: every write stores a new dict, so a
    reference taken from the store (or a watch event) is a stable snapshot. Callers that want to
    change an object copy it first (``deep_copy``).
    """

    def __init__(self, clock: Clock, storage: Storage | None = None, *,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.storage = storage
        self.rv = 0
        self._objects: dict[str, MutableMapping[Key, Obj]] = {
            r.plural: self._bucket(r.plural) for r in RESOURCES if r.stored}
        self._resources = {r.plural: r for r in RESOURCES}
        self._owned: dict[str, set[tuple[str, Key]]] = {}
        self.monotonic = monotonic
        """The clock of the watch window (:mod:`~tutor.practice.apiserver.watchcache`); tests replace it."""
        self._history: dict[str, History[KeptEvent]] = {
            r.plural: History(0, monotonic=lambda: self.monotonic()) for r in RESOURCES}
        self._watchers: dict[str, set[Watcher]] = {r.plural: set() for r in RESOURCES}
        self._listeners: list[Listener] = []

    def _bucket(self, plural: str) -> MutableMapping[Key, Obj]:
        if plural not in PACKED_RESOURCES:
            return {}
        return PackedBucket() if self.storage is None else StoredBucket(self.storage, plural)

    @property
    def kept_in_storage(self) -> frozenset[str]:
        """The resources whose objects the store reads from its storage (what ``Storage.open`` need not load)."""
        return frozenset() if self.storage is None else PACKED_RESOURCES

    # ---- reading -------------------------------------------------------------------------
    def resource(self, plural: str) -> Resource:
        return self._resources[plural]

    def resource_for(self, obj: Obj) -> str:
        """The plural of a stored object, from its kind."""
        from tutor.practice.apiserver.resources import by_kind

        return by_kind(obj["kind"]).plural

    def get(self, plural: str, namespace: str, name: str) -> Obj | None:
        return self._objects.get(plural, {}).get((namespace, name))

    def must_get(self, plural: str, namespace: str, name: str) -> Obj:
        obj = self.get(plural, namespace, name)
        if obj is None:
            res = self._resources[plural]
            raise errors.not_found(plural, res.group, name)
        return obj

    def list(self, plural: str, namespace: str | None = None) -> list[Obj]:
        """Objects of a type, in name order (namespace, then name), as etcd returns them."""
        bucket = self._objects.get(plural, {})
        if isinstance(bucket, StoredBucket):
            return builtins.list(self.scan(plural, namespace))
        if namespace is None:
            keys = sorted(bucket)
        else:
            keys = sorted(k for k in bucket if k[0] == namespace)
        return [bucket[k] for k in keys]

    def scan(self, plural: str, namespace: str | None = None) -> Iterator[Obj]:
        """The objects of :meth:`list`, one at a time, as they were when the iterator was first advanced: the
        entries (immutable dicts, or a packed kind's bytes) are taken at once, and a packed kind is decoded as it is
        read, so a list of an hour of events never holds them all decoded at once (the largest answer sets the
        process's memory), and a list answer encoded while it is being sent is still one resourceVersion's view."""
        bucket = self._objects.get(plural, {})
        if isinstance(bucket, StoredBucket) and self.storage is not None:
            try:
                self.storage.commit()  # the snapshot is the storage's: what is staged goes there first
            except StorageFailed:
                pass  # said by the storage; its scan then reads the staged changes too
            yield from self.storage.scan(plural, namespace)
            return
        keys = sorted(bucket) if namespace is None else sorted(k for k in bucket if k[0] == namespace)
        if isinstance(bucket, PackedBucket):
            yield from map(_unpack, bucket.packed(keys))
        else:
            yield from [bucket[key] for key in keys]  # the dicts are never changed in place: a snapshot

    def written_before(self, plural: str, time: datetime, field: str) -> builtins.list[Key]:
        """The keys of the objects of a kind the storage keeps (:attr:`kept_in_storage`; none of another) whose
        timestamp at ``field`` (else ``metadata.creationTimestamp``) is before ``time``.

        Raises:
            StorageFailed: what is staged cannot be saved (the storage is searched as saved).
        """
        if plural not in self.kept_in_storage or self.storage is None:
            return []
        self.storage.commit()
        return self.storage.written_before(plural, time, field)

    def iter(self, plural: str) -> Iterator[Obj]:
        return iter(list(self._objects.get(plural, {}).values()))

    def owned_by(self, uid: str, plural: str | None = None) -> builtins.list[Obj]:
        """Objects whose ownerReferences name ``uid`` (optionally of one type)."""
        out = []
        for p, key in sorted(self._owned.get(uid, ())):
            if plural is not None and p != plural:
                continue
            obj = self._objects[p].get(key)
            if obj is not None:
                out.append(obj)
        return out

    # ---- writing -------------------------------------------------------------------------
    def _next_rv(self) -> str:
        self.rv += 1
        return str(self.rv)

    def create(self, plural: str, obj: Obj) -> Obj:
        """Store a new object (already defaulted and validated); fills uid, rv, timestamps, name."""
        res = self._resources[plural]
        obj = deep_copy(obj)
        meta = obj.setdefault("metadata", {})
        namespace = meta.get("namespace", "") if res.namespaced else ""
        if res.namespaced:
            if self.get("namespaces", "", namespace) is None:
                raise errors.NotFound(f'namespaces "{namespace}" not found',
                                      details={"name": namespace, "kind": "namespaces"})
            ns_obj = self.get("namespaces", "", namespace)
            if ns_obj and ns_obj["metadata"].get("deletionTimestamp"):
                # admission.NewForbidden (kubernetes/apiserver pkg/admission/errors.go) names the object by its
                # generateName before a name is generated
                raise errors.forbidden(
                    plural, res.group, meta.get("name") or meta.get("generateName", ""),
                    f"unable to create new content in namespace {namespace} because it is being terminated")
        else:
            meta.pop("namespace", None)
        name = meta.get("name")
        if not name:
            from tutor.practice.apiserver.names import generate_name  # local import: tiny module

            prefix = meta.get("generateName")
            for _ in range(20):
                candidate = generate_name(prefix)
                if (namespace, candidate) not in self._objects[plural]:
                    name = candidate
                    break
            meta["name"] = name
        if (namespace, name) in self._objects[plural]:
            raise errors.already_exists(plural, res.group, name)
        meta["uid"] = str(uuid.uuid4())
        meta["creationTimestamp"] = self.clock.timestamp()
        if "spec" in obj or plural in ("deployments", "replicasets", "pods"):
            meta["generation"] = 1
        meta.pop("deletionTimestamp", None)
        meta.pop("deletionGracePeriodSeconds", None)
        obj["apiVersion"] = res.api_version
        obj["kind"] = res.kind
        meta["resourceVersion"] = self._next_rv()
        self._objects[plural][(namespace, name)] = obj
        self._index(plural, (namespace, name), None, obj)
        self._emit(WatchEvent(self.rv, res, "ADDED", obj))
        return obj

    def update(self, plural: str, obj: Obj, *, expect_rv: str | None = None, status_only: bool = False,
               bump_generation: bool = True) -> Obj:
        """Replace an object. ``expect_rv`` enforces optimistic concurrency (409 Conflict).

        The store keeps a copy: the caller's dict is never aliased by the store.
        """
        res = self._resources[plural]
        obj = deep_copy(obj)
        meta = obj["metadata"]
        namespace = meta.get("namespace", "") if res.namespaced else ""
        key = (namespace, meta["name"])
        old = self._objects[plural].get(key)
        if old is None:
            raise errors.not_found(plural, res.group, meta["name"])
        if expect_rv and expect_rv != old["metadata"]["resourceVersion"]:
            raise errors.conflict(plural, res.group, meta["name"])
        # Immutable, server-owned metadata.
        for k in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds"):
            if k in old["metadata"]:
                meta[k] = old["metadata"][k]
            elif k in meta and k in ("uid", "creationTimestamp"):
                meta.pop(k)
        if status_only:
            obj["spec"] = old.get("spec")
            if obj["spec"] is None:
                obj.pop("spec")
            meta["generation"] = old["metadata"].get("generation")
            meta["labels"] = old["metadata"].get("labels")
            if meta["generation"] is None:
                meta.pop("generation")
            if meta["labels"] is None:
                meta.pop("labels")
        else:
            # Status is written only through the status subresource (or by controllers).
            if "status" in old and plural in ("deployments", "replicasets", "pods", "namespaces", "nodes",
                                              "resourcequotas"):
                obj["status"] = old["status"]
            gen = old["metadata"].get("generation")
            if gen is not None:
                meta["generation"] = gen + (1 if bump_generation and obj.get("spec") != old.get("spec") else 0)
        obj["apiVersion"] = res.api_version
        obj["kind"] = res.kind
        if _same(old, obj):
            return old
        meta["resourceVersion"] = self._next_rv()
        self._objects[plural][key] = obj
        self._index(plural, key, old, obj)
        self._emit(WatchEvent(self.rv, res, "MODIFIED", obj, old))
        return obj

    def set_deletion(self, plural: str, obj: Obj, deletion_timestamp: str, grace: int | None) -> Obj:
        """Mark an object as being deleted (only the store may set deletionTimestamp)."""
        res = self._resources[plural]
        obj = deep_copy(obj)
        meta = obj["metadata"]
        namespace = meta.get("namespace", "") if res.namespaced else ""
        key = (namespace, meta["name"])
        old = self._objects[plural][key]
        meta["deletionTimestamp"] = deletion_timestamp
        if grace is not None:
            meta["deletionGracePeriodSeconds"] = grace
        if "generation" in meta:
            meta["generation"] = old["metadata"].get("generation", 1) + 1
        meta["resourceVersion"] = self._next_rv()
        self._objects[plural][key] = obj
        self._index(plural, key, old, obj)
        self._emit(WatchEvent(self.rv, res, "MODIFIED", obj, old))
        return obj

    def remove(self, plural: str, namespace: str, name: str) -> Obj | None:
        """Remove an object for good (the final step of a deletion); emits DELETED."""
        res = self._resources[plural]
        key = (namespace if res.namespaced else "", name)
        old = self._objects[plural].pop(key, None)
        if old is None:
            return None
        gone = dict(old)
        gone["metadata"] = dict(old["metadata"], resourceVersion=self._next_rv())
        self._index(plural, key, old, None)
        self._emit(WatchEvent(self.rv, res, "DELETED", gone, old))
        return gone

    # ---- indexes, listeners, watches ---------------------------------------------------------
    def _index(self, plural: str, key: Key, old: Obj | None, new: Obj | None) -> None:
        for ref in (old or {}).get("metadata", {}).get("ownerReferences") or ():
            owned = self._owned.get(ref.get("uid", ""))
            if owned is not None:
                owned.discard((plural, key))
                if not owned:
                    del self._owned[ref.get("uid", "")]
        for ref in (new or {}).get("metadata", {}).get("ownerReferences") or ():
            self._owned.setdefault(ref.get("uid", ""), set()).add((plural, key))

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _emit(self, event: WatchEvent) -> None:
        if self.storage is not None:
            meta = event.obj["metadata"]
            namespace = meta.get("namespace", "") if event.resource.namespaced else ""
            self.storage.stage(event.resource.plural, namespace, meta["name"],
                               None if event.type == "DELETED" else event.obj, event.rv)
        self._history[event.resource.plural].add(KeptEvent.of(event))
        for watcher in list(self._watchers[event.resource.plural]):
            watcher.offer(event)
        for listener in self._listeners:
            listener(event)

    def commit(self) -> None:
        """Make every change so far durable; the API server calls this before it answers (no-op without storage).

        Raises:
            sqlite3.Error: the database refused the write (the changes stay staged).
        """
        if self.storage is not None:
            self.storage.commit()

    def watch(self, resource: Resource, namespace: str | None, matches: Callable[[Obj], bool],
              since: int | None) -> Watcher:
        """Register a watcher; with ``since``, replay the events after that resourceVersion.

        Raises:
            errors.Gone: ``since`` is older than the kept history (the client relists).
        """
        watcher = Watcher(resource, namespace, matches)
        if since is not None and since < self.rv:
            for kept in self._history[resource.plural].since(since):
                watcher.offer(kept.event())
        self._watchers[resource.plural].add(watcher)
        return watcher

    def history_sizes(self) -> dict[str, tuple[int, int]]:
        """Events kept and capacity of each resource's watch window (for the soak bench and tests)."""
        return {plural: (len(h), h.capacity) for plural, h in self._history.items()}

    def unwatch(self, watcher: Watcher) -> None:
        self._watchers[watcher.resource.plural].discard(watcher)

    def close_watches(self) -> None:
        for watchers in self._watchers.values():
            for watcher in watchers:
                watcher.close()

    # ---- persistence ---------------------------------------------------------------------
    def restore(self, objects: Iterable[tuple[str, Obj]], resource_version: int) -> None:
        """Load objects read back from storage (no events: nothing is watching yet)."""
        self.rv = max(self.rv, resource_version)
        for plural, obj in objects:
            if plural not in self._objects or isinstance(self._objects[plural], StoredBucket):
                continue  # unknown, or read from the storage when asked
            res = self._resources[plural]
            meta = obj["metadata"]
            key = (meta.get("namespace", "") if res.namespaced else "", meta["name"])
            self._objects[plural][key] = obj
            self._index(plural, key, None, obj)
            self.rv = max(self.rv, int(meta.get("resourceVersion") or 0))
        # The watch window starts here: nothing before the restart can be replayed (410, and the client lists).
        self._history = {plural: History(self.rv, monotonic=lambda: self.monotonic()) for plural in self._history}


def _same(old: Obj, new: Obj) -> bool:
    """True when an update changes nothing but the resourceVersion (no new event, like etcd)."""
    a = dict(old, metadata={k: v for k, v in old["metadata"].items() if k != "resourceVersion"})
    b = dict(new, metadata={k: v for k, v in new["metadata"].items() if k != "resourceVersion"})
    return a == b

