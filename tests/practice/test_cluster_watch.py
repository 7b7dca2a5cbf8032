"""The TUI's cluster watch (``tutor.backends.watch.ClusterWatch``): one ``kubectl proxy`` on a private unix socket
follows every kind (a workshop seat's TUI kept six kubectl processes before), with the real kubectl's credentials;
a cluster that does not answer is reported with what was said, and the watch picks up again when it answers."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import yaml

from tests.practice.conftest import Kube
from tutor import paths
from tutor.backends.watch import KINDS, ClusterWatch

DEADLINE = 20.0


async def _until(condition: Callable[[], object], what: str) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + DEADLINE
    while not condition():
        assert loop.time() < end, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)  # polling a condition with a deadline (noqa: sleep-ok)


def _kubectl_children() -> list[str]:
    """The command lines of this process's kubectl children."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and cmdline and cmdline[0].endswith(b"kubectl"):
            found.append(" ".join(part.decode() for part in cmdline if part))
    return found


async def test_one_kubectl_proxy_follows_every_kind(kube: Kube) -> None:
    env = dict(kube.env)
    watch = ClusterWatch(str(paths.kubectl()), env, kube.namespace)
    await watch.start()
    try:
        assert await watch.wait_synced(DEADLINE), watch.error
        kube("create", "deployment", "web", "--image=gcr.io/google-samples/kubernetes-bootcamp:v1", "--replicas=2")
        await _until(lambda: len(watch.snapshot()["pods"]) == 2 and watch.snapshot()["deployments"]
                     and watch.snapshot()["replicasets"] and watch.snapshot()["events"], "the watch to see the pods")
        assert [d["metadata"]["name"] for d in watch.snapshot()["deployments"]] == ["web"]
        assert watch.snapshot()["deployments"][0]["kind"] == "Deployment"  # list items get their kind back
        children = _kubectl_children()
        assert len(children) == 1 and " proxy --unix-socket=" in children[0], children
        kube("delete", "deployment", "web")
        await _until(lambda: not watch.snapshot()["deployments"], "the deletion")
        assert watch.error is None
    finally:
        await watch.stop()
    assert _kubectl_children() == []
    assert set(watch.snapshot()) == set(KINDS)


async def test_a_cluster_that_does_not_answer_is_reported_in_kubectls_words(kube: Kube, tmp_path: Path) -> None:
    config = yaml.safe_load(kube.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"  # nothing listens on port 1
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(yaml.safe_dump(config))
    watch = ClusterWatch(str(paths.kubectl()), {**kube.env, "KUBECONFIG": str(dead)}, kube.namespace)
    await watch.start()
    try:
        await _until(lambda: watch.error is not None, "the watch's error")
        assert "127.0.0.1:1" in (watch.error or "") and "refused" in (watch.error or ""), watch.error
        assert not watch.synced
    finally:
        await watch.stop()
