"""`kube-tutor workshop serve` without a browser: the seats it prepares, and a seat's terminal websocket spoken to
as textual.js speaks it (``["stdin", ...]``, ``["resize", ...]``; the screen comes back as binary frames)."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml

from tests.workshop.serving import poll, serving
from tutor import paths, shell
from tutor.workshop import model

JOIN_CODE = "serve-2468"
INSTRUCTOR_CODE = "boss-1357"


@pytest.fixture(scope="module")
def workshop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with serving(tmp_path_factory.mktemp("serve"), JOIN_CODE, INSTRUCTOR_CODE, "create-cluster") as running:
        yield running


def seat_processes(seat_dir: Path) -> list[int]:
    """The pids whose command line names the seat's state directory (its TUI)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(seat_dir / "state").encode() in command and b"tutor" in command:
            found.append(int(entry.name))
    return found


def test_serve_prepares_every_seat_with_a_token_only_kubeconfig(workshop: dict[str, Any]) -> None:
    record = json.loads((workshop["state"] / "workshop" / "workshop.json").read_text())
    admin = Path(record["admin_kubeconfig"])
    assert admin.is_file() and not admin.is_relative_to(workshop["state"] / "workshop")
    for seat in ("seat-01", "seat-02"):
        directory = workshop["state"] / "workshop" / "seats" / seat
        config = yaml.safe_load((directory / "kubeconfig").read_text())
        assert [user["user"].keys() for user in config["users"]] == [{"token"}]
        assert config["contexts"][0]["context"]["namespace"] == seat
        assert (directory / "state").is_dir() and (directory / "home").is_dir()
    env = {**workshop["env"], "KUBECONFIG": str(workshop["state"] / "workshop/seats/seat-01/kubeconfig")}
    forbidden = shell.run([paths.kubectl(), "get", "pods", "-n", "seat-02"], env=env, timeout=60)
    assert forbidden.returncode != 0 and "Forbidden" in forbidden.stderr
    # the practice node has room for the kubelet's 110 pods and every seat's quota of 10 (class_pods)
    node = shell.run([paths.kubectl(), "get", "node", "-o", "jsonpath={.items[0].status.allocatable.pods}"],
                     env={**workshop["env"], "KUBECONFIG": str(admin)}, timeout=60)
    assert node.stdout == str(110 + 10 * record["seats"]), node
    # what bounds a seat, said to the instructor: a total where systemd makes scopes, else per process
    said = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in workshop["out"].read_text().splitlines()}
    if shell.sandbox_ok()[0]:
        scoped, why = shell.seat_scope_ok()
        assert said["limits"] == ("at most 1024 MiB of memory and 256 tasks a seat in total (a systemd scope each)"
                                  if scoped else f"no total per seat, a limit per process only ({why})")


async def _screen_until(socket: aiohttp.ClientWebSocketResponse, text: bytes, limit: float = 90) -> bytes:
    seen = b""
    async with asyncio.timeout(limit):
        while text not in seen:
            message = await socket.receive()
            if message.type == aiohttp.WSMsgType.BINARY:
                seen += message.data
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                raise AssertionError(f"the seat's terminal closed before showing {text!r}")
    return seen


async def test_a_seat_terminal_runs_the_lesson_tui_and_a_new_connection_replaces_it(
        workshop: dict[str, Any]) -> None:
    base = workshop["join"].rstrip("/")
    origin = {"Origin": base}
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        answer = await session.post(f"{base}/join", data={"code": JOIN_CODE, "name": "Grace"}, allow_redirects=False)
        assert answer.status == 303
        workshop_root = model.workshop_root(workshop["state"])
        seat = model.seat_for_cookie(model.Workshop.load(workshop_root), answer.cookies["kt_seat"].value)
        assert seat is not None
        seat_dir = workshop_root / "seats" / seat
        ws_url = base.replace("http://", "ws://") + "/seat/ws?width=120&height=40"
        first = await session.ws_connect(ws_url, headers=origin)
        await first.send_str(json.dumps(["resize", {"width": 120, "height": 40}]))
        await _screen_until(first, b"Create a cluster")
        tui = poll(lambda: seat_processes(seat_dir), "the seat's TUI runs")
        # a second connection (a reload, another tab) takes the seat over: the first TUI quits first
        second = await session.ws_connect(ws_url, headers=origin)
        closed = await first.receive()
        assert closed.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
        await _screen_until(second, b"Create a cluster")
        assert not any(pid in seat_processes(seat_dir) for pid in tui)
        await second.close()
        poll(lambda: not seat_processes(seat_dir), "the seat's TUI ends with its connection")
        assert os.path.isdir(seat_dir / "state" / "progress")  # the TUI kept its progress in the seat's state
