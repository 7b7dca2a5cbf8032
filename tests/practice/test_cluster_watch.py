"""The TUI's cluster watch (``tutor.backends.watch.ClusterWatch``): with a token kubeconfig (the practice cluster's, a
workshop seat's) it speaks to the API server itself, no process; with anything else one ``kubectl proxy`` on a
private unix socket authenticates for every kind (a workshop seat's TUI kept six kubectl processes before); a
cluster that does not answer is reported with what was said."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.practice.conftest import Kube
from tutor import paths
from tutor.backends.watch import KINDS, ClusterWatch, direct_access

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


@pytest.mark.parametrize("through", ["direct", "proxy"])
async def test_every_kind_is_followed_with_no_process_or_one_kubectl_proxy(kube: Kube, through: str) -> None:
    env = dict(kube.env)
    if through == "proxy":  # two kubeconfig files: kubectl merges them, the watch lets kubectl authenticate
        env["KUBECONFIG"] = f"{kube.kubeconfig}:{kube.kubeconfig.with_name('absent')}"
    assert (direct_access(env) is not None) == (through == "direct")
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
        if through == "direct":
            assert children == []
        else:
            assert len(children) == 1 and " proxy --unix-socket=" in children[0], children
        kube("delete", "deployment", "web")
        await _until(lambda: not watch.snapshot()["deployments"], "the deletion")
        assert watch.error is None
    finally:
        await watch.stop()
    assert _kubectl_children() == []
    assert set(watch.snapshot()) == set(KINDS)


@pytest.mark.parametrize("through", ["direct", "proxy"])
async def test_a_cluster_that_does_not_answer_is_reported(kube: Kube, tmp_path: Path, through: str) -> None:
    config = yaml.safe_load(kube.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = "https://127.0.0.1:1"  # nothing listens on port 1
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(yaml.safe_dump(config))
    files = str(dead) if through == "direct" else f"{dead}:{tmp_path / 'absent'}"
    watch = ClusterWatch(str(paths.kubectl()), {**kube.env, "KUBECONFIG": files}, kube.namespace)
    await watch.start()
    try:
        await _until(lambda: watch.error is not None, "the watch's error")
        assert "127.0.0.1:1" in (watch.error or "") and "refused" in (watch.error or ""), watch.error
        assert not watch.synced
    finally:
        await watch.stop()


def test_only_a_token_kubeconfig_is_read_directly(tmp_path: Path) -> None:
    """Client certificates (kind's kubeconfig), exec plugins and plain HTTP go through kubectl."""
    def config(user: dict[str, object], server: str = "https://127.0.0.1:6443") -> dict[str, str]:
        path = tmp_path / f"config-{len(list(tmp_path.iterdir()))}"
        path.write_text(yaml.safe_dump({
            "apiVersion": "v1", "kind": "Config", "current-context": "c",
            "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}}],
            "clusters": [{"name": "k", "cluster": {"server": server}}], "users": [{"name": "u", "user": user}]}))
        return {"KUBECONFIG": str(path)}

    assert direct_access(config({"token": "abc"})) is not None
    assert direct_access(config({"client-certificate-data": "x", "client-key-data": "y"})) is None
    assert direct_access(config({"exec": {"command": "aws"}})) is None
    assert direct_access(config({"token": "abc"}, server="http://127.0.0.1:8080")) is None
    assert direct_access(config({"token": "abc", "as": "someone"})) is None
    assert direct_access({"KUBECONFIG": str(tmp_path / "nothing")}) is None
