"""Provides the practice cluster's durable storage: every object in SQLite, as k3s keeps its API in kine.

The :class:`~tutor.practice.apiserver.store.Store` serves reads from memory; this module holds the durable
copy in ``state.db`` (stdlib ``sqlite3``, WAL journal). The store *stages* each change as it happens; the
staged changes are written in one transaction either at the end of the event loop's turn (a burst of
controller writes becomes one commit) or earlier, when the API server is about to answer: nothing the
server sends (a write's response, a list, a watch event) names a resourceVersion that is not committed.
So every answered write survives a ``kill -9``, and resourceVersions never go back after a restart (the
last committed one is kept in ``meta``).

Tables: ``objects(resource, namespace, name, resource_version, value)`` with the object's JSON,
``node_state(key, value)`` for what the kubelet keeps across restarts (pulled images, logs, request
counts), and ``meta(key, value)`` (``resourceVersion``, the last ``port``, where an import came from).

The ``synchronous`` pragma was measured on the development machine (2 cores, ext4 on a virtual disk, other
work running): ``bench/storage_sync.py`` for single commits, the rollout of ``bench/run.py`` (1,000 replicas,
v1 -> v2, until ``kubectl rollout status`` returns) for a whole cluster at work, two runs each:

============  ==============================  ======================  ==================================
WAL +         one pod per commit              100 pods per commit     1,000-replica rollout (server CPU)
============  ==============================  ======================  ==================================
NORMAL        median 0.07-0.10 ms, p99 0.6    median 3.3 ms           7.7 s / 8.0 s (6.1 s / 6.5 s)
FULL          median 0.45-0.49 ms, p99 1.7    median 5.3-6.1 ms       8.8 s / 8.6 s (7.4 s / 6.8 s)
============  ==============================  ======================  ==================================

(The JSON snapshot this replaces: 8.1 s / 8.5 s, server CPU 7.1 s, and it lost answered writes.)

NORMAL is chosen. With WAL + NORMAL a commit is in the WAL file, in the kernel's hands, before the API
answers: it survives the death of the process (``kill -9``, a closed terminal, the OOM killer), which is how
a practice cluster ends. Only a power cut or a kernel crash can lose the last commits before it, and even
then SQLite keeps the database consistent, never torn. FULL fsyncs every commit: five times the cost of a
commit, about 10 % on a rollout, for a failure a practice cluster does not need to survive.

A failed commit (a read-only directory, a full disk, an I/O error, a lock held by another program) is never
silent: :attr:`Storage.failure` holds the reason, it is logged once (and again only when the reason changes
or saving works again), the staged changes stay staged and are retried at most every
:data:`RETRY_SECONDS` (and before every API request), the API server refuses writes and answers 500 with the
reason, and ``/readyz/etcd`` fails with it, as an apiserver does when etcd is unavailable.

The file stays compact: ``auto_vacuum=INCREMENTAL`` gives pages freed by deleted objects (expired events,
deleted pods) back to the file system (:meth:`Storage.vacuum`, from the cluster's housekeeping), and
``journal_size_limit`` cuts the WAL back to :data:`WAL_LIMIT_BYTES` after each checkpoint.

A database that SQLite cannot read is not silently replaced: :meth:`Storage.open` raises
:class:`StorageUnreadable`, and the caller keeps the file aside (:meth:`Storage.set_aside`) and says so.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tutor.kube.files import private_dir

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
SYNCHRONOUS = "NORMAL"
"""See the module docstring for the measurement behind this choice."""
RETRY_SECONDS = 2.0
"""While commits fail, the end-of-turn commit is retried at most this often (each API request retries too)."""
BUSY_TIMEOUT_SECONDS = 0.5
"""How long a commit waits for a lock held by another program (the default 5 s would stall the event loop)."""
WAL_LIMIT_BYTES = 4 * 1024 * 1024
PAGE_CACHE_KIB = 512
"""SQLite's page cache (its default is 2 MiB): the store serves every read from memory, so the database is only
written, and a small cache keeps the server's memory from growing with the file."""
SCAN_BATCH = 256
"""Rows :meth:`Storage.scan` reads at a time."""
VACUUM_FREE_PAGES = 256
"""Free pages (of 4 KiB) above which :meth:`Storage.vacuum` gives them back to the file system."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    resource TEXT NOT NULL,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    resource_version INTEGER NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (resource, namespace, name)
);
CREATE TABLE IF NOT EXISTS node_state (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_UPSERT_OBJECT = (
    "INSERT INTO objects (resource, namespace, name, resource_version, value) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (resource, namespace, name) DO UPDATE SET "
    "resource_version = excluded.resource_version, value = excluded.value")
_DELETE_OBJECT = "DELETE FROM objects WHERE resource = ? AND namespace = ? AND name = ?"
_UPSERT_STATE = ("INSERT INTO node_state (key, value) VALUES (?, ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value")
_DELETE_STATE = "DELETE FROM node_state WHERE key = ?"
_UPSERT_META = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"

ObjectKey = tuple[str, str, str]  # (resource plural, namespace, name)


class StorageUnreadable(Exception):
    """The database exists but cannot be read (not a database, corrupt, or written by a newer version)."""


class StorageFailed(Exception):
    """A commit failed (disk full, I/O error): the changes stay staged and the next commit retries them."""


@dataclass
class Loaded:
    """Everything read back from the database when it is opened."""

    resource_version: int = 0
    objects: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    node_state: dict[str, Any] = field(default_factory=dict)
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.objects and "resourceVersion" not in self.meta


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class Storage:
    """The durable copy of the store: changes are staged, then committed in one transaction."""

    def __init__(self, path: Path, *, synchronous: str = SYNCHRONOUS) -> None:
        self.path = path
        self.synchronous = synchronous
        self._db: sqlite3.Connection | None = None
        self._objects: dict[ObjectKey, tuple[int, dict[str, Any] | None]] = {}
        self._state: dict[str, Any] = {}
        self._meta: dict[str, str] = {}
        self._scheduled = False
        self.failure: str | None = None
        """Why the last commit failed; None while commits succeed."""

    # ---- opening -------------------------------------------------------------------------------
    def open(self, *, kept_here: Iterable[str] = ()) -> Loaded:
        """Open (or create) the database and read it all, but the objects of the resources ``kept_here`` (the
        store reads those from the database when asked: :meth:`read`, :meth:`names`, :meth:`scan`).

        Raises:
            StorageUnreadable: the file is not a database SQLite can read, or one of its rows is not JSON.
        """
        private_dir(self.path.parent)
        try:
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=True,
                                 timeout=BUSY_TIMEOUT_SECONDS)
        except sqlite3.Error as error:
            raise StorageUnreadable(str(error)) from error
        try:
            mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageUnreadable(f"cannot use the WAL journal (journal_mode is {mode})")
            db.execute(f"PRAGMA synchronous={self.synchronous}")
            db.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
            db.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
            check = db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise StorageUnreadable(f"integrity check failed: {check}")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StorageUnreadable(f"written by a newer kube-tutor (schema {version}, this one reads "
                                        f"{SCHEMA_VERSION})")
            if db.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
                # Takes effect on a new database at once; an existing one is rebuilt once by VACUUM.
                db.execute("PRAGMA auto_vacuum=INCREMENTAL")
                if db.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]:
                    db.execute("VACUUM")
            db.executescript(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            loaded = Loaded()
            loaded.meta = dict(db.execute("SELECT key, value FROM meta"))
            loaded.node_state = {key: json.loads(value) for key, value in db.execute("SELECT key, value FROM node_state")}
            skipped = sorted(set(kept_here))
            for resource, value in db.execute(
                    "SELECT resource, value FROM objects "
                    f"WHERE resource NOT IN ({', '.join('?' * len(skipped))}) ORDER BY resource, namespace, name",
                    skipped):
                loaded.objects.append((resource, json.loads(value)))
            highest = int(db.execute("SELECT coalesce(max(resource_version), 0) FROM objects").fetchone()[0])
            loaded.resource_version = max(highest, int(loaded.meta.get("resourceVersion", "0") or 0))
        except (sqlite3.Error, ValueError, TypeError) as error:
            db.close()
            raise StorageUnreadable(str(error)) from error
        except StorageUnreadable:
            db.close()
            raise
        self._db = db
        return loaded

    def set_aside(self) -> Path:
        """Rename an unreadable database (and its WAL and shared-memory files) to ``<name>.broken-<time>``."""
        self.close()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = self.path.with_name(self.path.name + suffix)
            if source.exists():
                source.replace(kept.with_name(kept.name + suffix))
        return kept

    def import_all(self, objects: Iterable[tuple[str, str, str, dict[str, Any]]], resource_version: int,
                   node_state: dict[str, Any], meta: dict[str, str]) -> None:
        """Write a whole state into the (new, empty) database in one transaction: the import of a previous
        version's ``state.json``.

        Raises:
            StorageFailed: the write failed; nothing was written.
        """
        upserts = [(r, ns, n, int(o["metadata"].get("resourceVersion") or 0), _dumps(o)) for r, ns, n, o in objects]
        try:
            self._write(self._connection(), upserts, [], node_state,
                        {**meta, "resourceVersion": str(resource_version)})
        except sqlite3.Error as error:
            raise StorageFailed(f"cannot write {self.path}: {error}") from error

    # ---- reading the resources kept only here ------------------------------------------------------
    def read(self, resource: str, namespace: str, name: str) -> dict[str, Any] | None:
        """One object as the store sees it: its staged change if it has one, else its row (a new dict each time)."""
        staged = self._objects.get((resource, namespace, name))
        if staged is not None:
            return staged[1]
        row = self._connection().execute("SELECT value FROM objects WHERE resource = ? AND namespace = ? AND name = ?",
                                         (resource, namespace, name)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def names(self, resource: str, namespace: str | None = None) -> list[tuple[str, str]]:
        """The (namespace, name) of every object of ``resource`` (in ``namespace``), staged changes included,
        in key order."""
        query = "SELECT namespace, name FROM objects WHERE resource = ?"
        found = set(self._connection().execute(query, (resource,)) if namespace is None else
                    self._connection().execute(query + " AND namespace = ?", (resource, namespace)))
        for (kind, ns, name), (_, obj) in self._objects.items():
            if kind == resource and (namespace is None or ns == namespace):
                if obj is None:
                    found.discard((ns, name))
                else:
                    found.add((ns, name))
        return sorted(found)

    def scan(self, resource: str, namespace: str | None = None) -> Iterator[dict[str, Any]]:
        """The objects of ``resource`` (in ``namespace``) in key order, decoded one at a time from one read
        transaction of their own (a snapshot that writes made meanwhile do not change: WAL readers see the database
        as it was when they began); with changes of ``resource`` still staged (saving fails), from :meth:`names`
        and :meth:`read` at once instead."""
        if any(kind == resource for kind, _, _ in self._objects):
            yield from [obj for ns, name in self.names(resource, namespace)
                        if (obj := self.read(resource, ns, name)) is not None]
            return
        reader = sqlite3.connect(self.path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
        try:
            reader.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")
            reader.execute("BEGIN")
            query = "SELECT value FROM objects WHERE resource = ?"
            rows = (reader.execute(query + " ORDER BY namespace, name", (resource,)) if namespace is None else
                    reader.execute(query + " AND namespace = ? ORDER BY name", (resource, namespace)))
            while batch := rows.fetchmany(SCAN_BATCH):
                for (value,) in batch:
                    yield dict(json.loads(value))
        finally:
            reader.close()

    def written_before(self, resource: str, time: datetime, field: str) -> list[tuple[str, str]]:
        """The (namespace, name) of the committed objects of ``resource`` whose timestamp at ``field`` (a JSON
        path, else ``metadata.creationTimestamp``) is before ``time``."""
        query = ("SELECT namespace, name FROM objects WHERE resource = ? AND CAST(strftime('%s', coalesce("
                 "json_extract(value, ?), json_extract(value, '$.metadata.creationTimestamp'))) AS INTEGER) < ? ORDER BY namespace, name")
        return list(self._connection().execute(query, (resource, f"$.{field}", int(time.timestamp()))))

    # ---- staging and committing --------------------------------------------------------------------
    def stage(self, resource: str, namespace: str, name: str, obj: dict[str, Any] | None,
              resource_version: int | None) -> None:
        """Record a change of one object (None: removed) made at ``resource_version`` (None: the store's next
        change names it); committed at the end of this loop turn at the latest."""
        self._objects[(resource, namespace, name)] = (resource_version or 0, obj)
        if resource_version is not None:
            self._meta["resourceVersion"] = str(resource_version)
        self._schedule()

    def stage_state(self, key: str, value: Any) -> None:
        """Record a change of one ``node_state`` row (None: removed)."""
        self._state[key] = value
        self._schedule()

    def set_meta(self, key: str, value: str) -> None:
        self._meta[key] = value
        self._schedule()

    @property
    def pending(self) -> bool:
        return bool(self._objects or self._state or self._meta)

    def _schedule(self) -> None:
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet (start-up): the caller commits explicitly
        self._scheduled = True
        if self.failure is None:
            loop.call_soon(self._end_of_turn)
        else:
            loop.call_later(RETRY_SECONDS, self._end_of_turn)

    def _end_of_turn(self) -> None:
        self._scheduled = False
        try:
            self.commit()
        except StorageFailed:
            self._schedule()  # logged by commit; retried later, not every turn

    def commit(self) -> None:
        """Write every staged change in one transaction (nothing to do when nothing is staged).

        Raises:
            StorageFailed: the write failed; the changes stay staged for the next commit.
        """
        if not self.pending:
            return
        db = self._connection()
        objects, state, meta = self._objects, self._state, self._meta
        upserts = [(r, ns, n, rv, _dumps(o)) for (r, ns, n), (rv, o) in objects.items() if o is not None]
        deletes = [key for key, (_, o) in objects.items() if o is None]
        try:
            self._write(db, upserts, deletes, state, meta)
        except sqlite3.Error as error:
            reason = f"cannot write {self.path}: {error}"
            if reason != self.failure:
                log.error("%s; the practice cluster refuses writes until it can save them (its changes since are "
                          "kept in memory and retried)", reason)
            self.failure = reason
            raise StorageFailed(reason) from error
        self._objects, self._state, self._meta = {}, {}, {}
        if self.failure is not None:
            log.warning("saving to %s works again; every change kept in memory is saved", self.path)
            self.failure = None

    def vacuum(self) -> int:
        """Give free pages back to the file system when there are many (``PRAGMA incremental_vacuum``).

        Returns:
            the number of pages freed (0 when there were few, or when the storage is failing).
        """
        if self._db is None or self.failure is not None or self.pending:
            return 0
        try:
            free = int(self._db.execute("PRAGMA freelist_count").fetchone()[0])
            if free < VACUUM_FREE_PAGES:
                return 0
            self._db.execute("PRAGMA incremental_vacuum").fetchall()
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error as error:
            log.warning("cannot vacuum %s: %s", self.path, error)
            return 0
        return free

    @staticmethod
    def _write(db: sqlite3.Connection, upserts: list[tuple[str, str, str, int, str]], deletes: list[ObjectKey],
               state: dict[str, Any], meta: dict[str, str]) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            if upserts:
                db.executemany(_UPSERT_OBJECT, upserts)
            if deletes:
                db.executemany(_DELETE_OBJECT, deletes)
            if state:
                db.executemany(_UPSERT_STATE, [(k, _dumps(v)) for k, v in state.items() if v is not None])
                db.executemany(_DELETE_STATE, [(k,) for k, v in state.items() if v is None])
            if meta:
                db.executemany(_UPSERT_META, list(meta.items()))
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the storage is not open")
        return self._db

    def close(self) -> None:
        """Commit what is staged and close the database (a no-op when it is not open)."""
        if self._db is None:
            return
        try:
            self.commit()
        finally:
            self._db.close()
            self._db = None
