#!/usr/bin/env python3
"""Benchmark a workshop through its web side: N seats, each played by a headless driver speaking the browser's
protocol (join page, cookie, textual-serve's websocket) to a real ``kube-tutor workshop serve``, at a class's pace.

(``bench/workshop.py`` drives each seat's TUI in-process with Textual's Pilot; this one adds what a browser seat
costs on top: the web server, textual-serve's relay, the seat's sandbox.)

Usage (from the repository root):

    .venv/bin/python bench/workshop_web.py [--seats 30] [--minutes 3] [--pace 5 10] [--series 1,10,20,30] [--json FILE]

For each seat count of the series (the first is the solo baseline), a fresh ``kube-tutor workshop serve`` (practice
cluster, ``create-cluster``) is started and timed until it prints its URLs; then every seat is joined as a browser
does (``POST /join``, the cookie, the ``/seat/ws`` websocket of textual-serve with its ``stdin``/``resize``
messages), the lesson is begun, and each seat types a kubectl command every 5-10 s (uniformly jittered) as
attendees following an instructor do. Measured, per seat count:

- a kubectl command: from the Enter key sent to its output on the seat's screen (the line ends with
  ``&& echo kt-<n>-ok`` whose *computed* number only the output holds; styles stripped before the search);
- change -> verdict: from a command's output on the screen to its check's passing text on the screen (the step's
  ``kubectl version`` check, then step 2's ``kubectl get nodes`` check);
- total RSS: the workshop server with every seat's TUI (its process tree, kubectl watches included) and the practice
  cluster, sampled every 5 s (the maximum is reported), and the total PSS (shared pages counted once: each seat runs
  its own kubectl processes, whose binary is shared);
- the start time of the workshop (cluster, seats, server).

It prints p50/p95 of both latencies and their ratio to the solo run (target: p95 <= 2x solo), the RSS (target:
<= 3 GB at 30 seats), and the saturation point: the first seat count whose command p95 passes 2x solo. It asserts
nothing. Each run uses its own temporary state directory, stopped with ``kube-tutor workshop down`` in a finally.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
CODE, BOSS = "bench-2468", "bench-boss-1357"
LESSON = "create-cluster"
COMMANDS = ["kubectl get pods", "kubectl get deployments", "kubectl get services", "kubectl version",
            "kubectl get nodes"]
"""What the seats type; never ``kubectl cluster-info``, so step 2 (and the lesson) never ends under the driver."""
VERDICTS = {"kubectl version": b"showed the cluster's version", "kubectl get nodes": b"showed a node that is"}
STYLE = re.compile(rb"\x1b\[[0-9;:]*m")


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))]


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def pss_kb(pid: int) -> int:
    """Proportional set size: shared pages (kubectl's binary, Python's libraries) split among their users."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(pid: int) -> list[int]:
    """``pid`` and every descendant (from /proc's parent pids)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


class Seat:
    def __init__(self, base: str, index: int, pace: tuple[float, float]) -> None:
        self.base, self.index, self.pace = base, index, pace
        self.screen = b""
        self.changed = asyncio.Event()
        self.commands: list[float] = []
        self.verdicts: list[float] = []
        self.errors: list[str] = []

    async def until(self, marker: bytes, since: int, limit: float) -> float:
        """Wait until ``marker`` shows in what came after byte ``since``; when it did."""
        async with asyncio.timeout(limit):
            while marker not in STYLE.sub(b"", self.screen[since:]):
                self.changed.clear()
                await self.changed.wait()
        return time.monotonic()

    async def reader(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        async for message in socket:
            if message.type == aiohttp.WSMsgType.BINARY:
                self.screen += message.data
                if len(self.screen) > 4_000_000:
                    self.screen = self.screen[-1_000_000:]
                self.changed.set()

    async def play(self, session: aiohttp.ClientSession, until: float) -> None:
        answer = await session.post(f"{self.base}/join", data={"code": CODE, "name": f"bench {self.index}"},
                                    allow_redirects=False)
        if answer.status != 303:
            self.errors.append(f"join: HTTP {answer.status}")
            return
        ws = self.base.replace("http://", "ws://") + "/seat/ws?width=120&height=40"
        socket = await session.ws_connect(ws, headers={"Origin": self.base}, heartbeat=30)
        reading = asyncio.create_task(self.reader(socket))
        try:
            await socket.send_str(json.dumps(["resize", {"width": 120, "height": 40}]))
            await self.until(b"Where you start", 0, 180)  # the lesson's introduction: any key begins
            await socket.send_str(json.dumps(["stdin", "\r"]))
            await self.until(b"Type a command", 0, 60)  # the lesson screen, its console focused
            number = 1000 + self.index * 100000
            pending = dict(VERDICTS)
            await asyncio.sleep(random.uniform(*self.pace))  # the class's pace, jittered (noqa: sleep-ok)
            while time.monotonic() < until:
                number += 1
                command = random.choice(COMMANDS if self.commands else ["kubectl version"])
                since = len(self.screen)
                for key in f"{command} && echo kt-$(({number}*7))-ok":  # typed: xterm.js sends key by key
                    await socket.send_str(json.dumps(["stdin", key]))
                await socket.send_str(json.dumps(["stdin", "\r"]))
                sent = time.monotonic()
                try:
                    shown = await self.until(f"kt-{number * 7}-ok".encode(), since, 60)
                    self.commands.append(shown - sent)
                    if command in pending:
                        verdict = await self.until(pending.pop(command), since, 30)
                        self.verdicts.append(verdict - shown)
                except TimeoutError:
                    self.errors.append(f"{command}: no output within 60 s")
                await asyncio.sleep(max(0.0, random.uniform(*self.pace) - (time.monotonic() - sent)))  # pacing (noqa: sleep-ok)
        except TimeoutError:
            self.errors.append("the lesson did not show")
        finally:
            await socket.close()
            reading.cancel()


async def drive(base: str, seats: int, minutes: float, pace: tuple[float, float],
                server: int, practice: int | None) -> dict[str, Any]:
    until = time.monotonic() + 60 * minutes
    players = [Seat(base, index, pace) for index in range(1, seats + 1)]
    peak = peak_pss = 0

    async def sample() -> None:
        nonlocal peak, peak_pss
        while True:
            pids = set(tree(server)) | ({practice} if practice else set())  # the cluster may be the server's child
            peak = max(peak, sum(rss_kb(pid) for pid in pids))
            peak_pss = max(peak_pss, sum(pss_kb(pid) for pid in pids))
            await asyncio.sleep(5)  # a sample every 5 s (noqa: sleep-ok)

    sampler = asyncio.create_task(sample())
    sessions = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in players]
    try:
        async def start(player: Seat, session: aiohttp.ClientSession) -> None:
            await asyncio.sleep(player.index * 0.5)  # attendees arrive one after another (noqa: sleep-ok)
            await player.play(session, until)

        await asyncio.gather(*(start(player, session) for player, session in zip(players, sessions, strict=True)))
    finally:
        sampler.cancel()
        for session in sessions:
            await session.close()
    commands = [value for player in players for value in player.commands]
    verdicts = [value for player in players for value in player.verdicts]
    return {"seats": seats, "commands": commands, "verdicts": verdicts, "rss_kb": peak, "pss_kb": peak_pss,
            "errors": [f"seat {p.index}: {e}" for p in players for e in p.errors]}


def run(seats: int, minutes: float, pace: tuple[float, float]) -> dict[str, Any]:
    base_dir = Path(tempfile.mkdtemp(prefix="kube-tutor-bench-workshop-"))
    state, home = base_dir / "state", base_dir / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home), "KUBECONFIG": str(home / "none"), "KUBERC": "off",
           "KUBECACHEDIR": str(home / "cache"), "PYTHONUNBUFFERED": "1"}
    env.pop("KUBE_TUTOR_STATE_DIR", None)
    out = base_dir / "serve.out"
    began = time.monotonic()
    with out.open("wb") as stdout:
        server = subprocess.Popen([sys.executable, "-m", "tutor", "--state-dir", str(state), "workshop", "serve",
                                   "--seats", str(seats), "--port", "0", "--lesson", LESSON, "--lang", "en",
                                   "--code", CODE, "--instructor-code", BOSS], cwd=ROOT, env=env, stdout=stdout,
                                  stderr=subprocess.DEVNULL)
    try:
        base = ""
        while not base:
            if server.poll() is not None:
                raise SystemExit(f"workshop serve exited {server.returncode}")
            base = next((line.split()[1].rstrip("/") for line in out.read_text().splitlines()
                         if line.startswith("join:")), "")
            time.sleep(0.1)  # polling its output (noqa: sleep-ok)
        started = time.monotonic() - began
        try:
            practice = int(json.loads((state / "practice" / "server.json").read_text())["pid"])
        except (OSError, ValueError, KeyError):
            practice = None
        result = asyncio.run(drive(base, seats, minutes, pace, server.pid, practice))
        result["start_s"] = started
        return result
    finally:
        subprocess.run([sys.executable, "-m", "tutor", "--state-dir", str(state), "workshop", "down"], cwd=ROOT,
                       env=env, capture_output=True, timeout=300)
        server.wait(timeout=60)
        shutil.rmtree(base_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seats", type=int, default=30, help="the class size (default 30)")
    parser.add_argument("--series", default=None,
                        help="seat counts to run, the first being the solo baseline (default: 1,SEATS)")
    parser.add_argument("--minutes", type=float, default=3.0, help="how long each class plays (default 3)")
    parser.add_argument("--pace", type=float, nargs=2, default=(5.0, 10.0), metavar=("MIN", "MAX"),
                        help="seconds between a seat's commands (default 5 10)")
    parser.add_argument("--json", type=Path, default=None, help="also write every number here")
    args = parser.parse_args(argv)
    series = [int(n) for n in (args.series or f"1,{args.seats}").split(",")]
    results = []
    solo_p95 = solo_verdict = None
    saturation = None
    for count in series:
        result = run(count, args.minutes, tuple(args.pace))  # type: ignore[arg-type]
        commands, verdicts = result["commands"], result["verdicts"]
        p50, p95 = percentile(commands, 0.5), percentile(commands, 0.95)
        v50, v95 = percentile(verdicts, 0.5), percentile(verdicts, 0.95)
        if solo_p95 is None:
            solo_p95, solo_verdict = p95, v95
        ratio = p95 / solo_p95 if solo_p95 else float("nan")
        verdict_ratio = v95 / solo_verdict if solo_verdict else float("nan")
        if saturation is None and count != series[0] and ratio > 2:
            saturation = count
        print(f"{count:>3} seats: start {result['start_s']:.1f} s; kubectl p50 {p50 * 1000:.0f} ms p95 "
              f"{p95 * 1000:.0f} ms ({ratio:.2f}x solo, target <= 2x; n={len(commands)}); change->verdict p50 "
              f"{v50 * 1000:.0f} ms p95 {v95 * 1000:.0f} ms ({verdict_ratio:.2f}x solo; n={len(verdicts)}); "
              f"RSS {result['rss_kb'] / 1024:.0f} MB, PSS {result['pss_kb'] / 1024:.0f} MB (target <= 3072 MB at 30); "
              f"{len(result['errors'])} errors", flush=True)
        for error in result["errors"][:5]:
            print(f"      {error}")
        results.append({**result, "p50": p50, "p95": p95, "verdict_p50": v50, "verdict_p95": v95,
                        "ratio": ratio, "verdict_ratio": verdict_ratio})
    print(f"saturation (first count with kubectl p95 > 2x solo): {saturation or 'not reached in ' + str(series)}")
    if args.json:
        args.json.write_text(json.dumps({"series": results, "saturation": saturation,
                                         "median_command": statistics.median(results[-1]["commands"] or [0])},
                                        indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
