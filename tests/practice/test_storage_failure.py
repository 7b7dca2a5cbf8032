"""A storage that cannot save is never silent: writes are refused with the reason, health checks fail, once logged.

The failure is made by another program holding SQLite's write lock on ``state.db`` (what a stuck ``sqlite3``
shell would do): unlike a read-only directory, it holds for root too, and it ends on demand. Upstream wording:
kubernetes/apiserver ``pkg/server/healthz/healthz.go`` (``[-]etcd failed: reason withheld``, ``<name> check
failed``, ``internal server error: <err>`` for a single check) and ``apimachinery/pkg/api/errors``
(``NewInternalError``: ``Internal error occurred: <err>``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tutor import paths
from tutor.practice.cluster import DATABASE_FILE, PracticeCluster


def get(cluster: PracticeCluster, path: str) -> tuple[int, str]:
    context = ssl.create_default_context(cafile=str(cluster.directory / "pki" / "ca.crt"))
    try:
        with urllib.request.urlopen(f"https://127.0.0.1:{cluster.port}{path}", context=context, timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def test_a_failing_storage_refuses_writes_says_why_and_recovers(tmp_path: Path,
                                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    directory = tmp_path / "practice"
    cluster = PracticeCluster(directory, time_scale=20)
    await cluster.start()
    # No background write may meet the lock before `during` does: the cluster's own pods have started, and the
    # node's lease renewals (every 0.5 s here) are stopped.
    cluster.nodestatus.close()
    deadline = time.monotonic() + 30
    while any((p.get("status") or {}).get("phase") != "Running" or not (p.get("status") or {}).get("containerStatuses")
              for p in cluster.store.list("pods")) or cluster.storage.pending:
        assert time.monotonic() < deadline, "the cluster's own pods did not start"
        await asyncio.sleep(0.05)  # poll interval of a deadline-bounded wait (noqa: sleep-ok)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "KUBECONFIG": str(cluster.kubeconfig_path),
           "KUBERC": "off", "KUBECACHEDIR": str(tmp_path / "cache")}

    async def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(subprocess.run, [str(paths.kubectl()), *args], env=env, capture_output=True,
                                       text=True, timeout=60, check=False)

    locker = sqlite3.connect(directory / DATABASE_FILE, isolation_level=None)
    try:
        assert (await kubectl("create", "configmap", "before")).returncode == 0
        locker.execute("BEGIN IMMEDIATE")  # another program holds the write lock
        reason = f"cannot write {directory / DATABASE_FILE}: database is locked"
        first = await kubectl("create", "configmap", "during")
        assert first.returncode == 1
        assert first.stderr.strip() == f"error: failed to create configmap: Internal error occurred: {reason}"
        refused = await kubectl("create", "configmap", "refused")
        assert refused.stderr.strip() == f"error: failed to create configmap: Internal error occurred: {reason}"
        assert cluster.store.get("configmaps", "default", "refused") is None, "a refused write is not applied"
        assert cluster.storage.failure == reason

        ready = await asyncio.to_thread(get, cluster, "/readyz")
        assert ready == (500, "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\nreadyz check failed\n")
        assert await asyncio.to_thread(get, cluster, "/readyz/etcd") == (500, f"internal server error: {reason}\n")
        assert (await asyncio.to_thread(get, cluster, "/healthz"))[0] == 500
        assert await asyncio.to_thread(get, cluster, "/livez") == (200, "ok"), "alive: it answers"

        said = [r for r in caplog.records if reason in r.getMessage()]
        assert len(said) == 1 and said[0].levelno == logging.ERROR and said[0].exc_info is None

        locker.execute("ROLLBACK")  # the other program lets go
        after = await kubectl("create", "configmap", "after")
        assert after.returncode == 0, after.stderr
        assert await asyncio.to_thread(get, cluster, "/readyz/etcd") == (200, "ok")
        assert await asyncio.to_thread(get, cluster, "/readyz?verbose") == (
            200, "[+]ping ok\n[+]log ok\n[+]etcd ok\nreadyz check passed\n")
        assert cluster.storage.failure is None
        assert any("works again" in r.getMessage() for r in caplog.records)
    finally:
        locker.close()
        await cluster.stop()

    again = PracticeCluster(directory, time_scale=20)
    await again.start()
    try:
        names = {c["metadata"]["name"] for c in again.store.list("configmaps", "default")}
        assert {"before", "during", "after"} <= names
        assert "refused" not in names
    finally:
        await again.stop()


def test_health_endpoints_answer_ok_without_a_token(tmp_path: Path) -> None:
    async def run() -> None:
        cluster = PracticeCluster(tmp_path / "practice", time_scale=20)
        await cluster.start()
        try:
            for path in ("/livez", "/readyz", "/healthz", "/readyz/etcd", "/livez/ping", "/healthz/log"):
                assert await asyncio.to_thread(get, cluster, path) == (200, "ok"), path
            assert (await asyncio.to_thread(get, cluster, "/livez/etcd"))[0] == 404
            assert await asyncio.to_thread(get, cluster, "/livez?verbose") == (
                200, "[+]ping ok\n[+]log ok\nlivez check passed\n")
        finally:
            await cluster.stop()

    asyncio.run(run())
