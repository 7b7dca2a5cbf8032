#!/usr/bin/env python3
"""Measure a workshop on this machine: N seats on one practice cluster, each played through the rolling-update
lesson at a class's pace by a headless driver, against one seat alone.

Usage (from the repository root):

    .venv/bin/python bench/workshop.py [--seats 30] [--saturation 40,50] [--json FILE]

What runs:

- A fresh practice cluster (temporary state directory, time scale 1) in its own process, then the seats, prepared
  one after another with ``tutor.backends.seats.prepare_seat`` (what ``kube-tutor workshop serve`` does): the time
  to start the workshop.
- Each seat is a process of its own (``--driver``) running the real TUI (``TutorApp``, headless, as Textual's
  Pilot drives it) on the seat's kubeconfig and namespace, as a seat's browser terminal runs it: the TUI's cluster
  watch (one ``kubectl proxy``), its console with the real kubectl, its checks. The driver types each line the
  autopilot would (``tutor.lesson.demo.demo_lines``) after a pause of 5-10 s (jittered, as attendees follow an
  instructor), and records:

  - **command**: Enter to the command's end (the console's session is idle again), for every line;
  - **verdict**: the end of the command after which a step's checks pass to the TUI's verdict showing them
    passed (it includes the cluster's own work, a rollout's pulls and starts, the same for one seat and for thirty).

- One seat alone first (the baseline), then N at once: p50/p95 of both, as ratios of the solo figures (target:
  p95 <= 2x solo), and the total RSS of the server, every driver and their kubectl children, sampled every second
  (target: <= 3 GB for 30 seats). With ``--saturation``, more classes of those sizes, to find where p95 passes 2x.

It asserts nothing. Per seat, the RSS includes Textual, the lesson screen and its watch: what a seat's process
costs under textual-serve, without the browser's websocket relay.
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
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LESSON = "rolling-update"
PACE = (5.0, 10.0)
STEP_DEADLINE = 180.0
RETRY_AFTER = 30.0
POLL = 0.02
"""The driver's poll while it waits (a command's end): 30 drivers polling faster would cost the class CPU."""
"""Seconds after its lines a step may stay open before the driver runs its solution lines again."""
WAITS = re.compile(r"\brollout\s+status\b")
"""Commands that wait for the cluster by design (``kubectl rollout status`` returns when the rollout has ended):
their time is the rollout's, reported apart from the other commands'."""
TARGET_P95 = 2.0
TARGET_RSS_MB = 3000.0


# ---- the driver (one seat) ---------------------------------------------------------------------------------
async def drive(seat_dir: Path, state: Path, out: Path, seed: int, pace: tuple[float, float]) -> None:
    from textual.widgets import Input

    from tutor.backends.existing import ExistingBackend
    from tutor.lesson import find_lesson, load_lesson
    from tutor.lesson.demo import demo_lines
    from tutor.tui.app import TutorApp
    from tutor.tui.screens.intro import IntroScreen
    from tutor.tui.screens.lesson import LessonScreen

    rng = random.Random(seed)  # noqa: S311 - pacing
    seat = seat_dir.name
    backend = ExistingBackend(state, source=seat_dir / "kubeconfig", namespace=seat, own_credentials=True)
    lesson = load_lesson(find_lesson(LESSON)).in_namespace(seat)
    app = TutorApp(lesson, backend, state, lang="en", cwd=state)
    commands: list[float] = []
    waits: list[float] = []
    verdicts: list[float] = []
    failures: list[str] = []
    retried: list[str] = []
    lines: list[list[Any]] = []

    LessonScreen._tick = lambda self: None  # type: ignore[method-assign]  # the driver moves on, not a countdown
    passed_at: dict[str, float] = {}
    shown = LessonScreen.apply_verdict

    def note_pass(self: LessonScreen, verdict: Any) -> None:  # the moment the TUI's verdict first shows a pass
        shown(self, verdict)
        if verdict.passed and verdict.step_id == self.step.id and verdict.step_id not in passed_at:
            passed_at[verdict.step_id] = time.monotonic()

    # no polling timer of the driver's own: the class's method, as each step's monitor takes it when it starts
    LessonScreen.apply_verdict = note_pass  # type: ignore[method-assign]
    async with app.run_test(headless=True, size=(120, 40)) as pilot:
        async def until(condition: Any, what: str, deadline: float = STEP_DEADLINE) -> None:
            end = time.monotonic() + deadline
            while not condition():
                if time.monotonic() > end:
                    shown = " | ".join(" ".join(str(w.render()).split())[:200] for w in app.screen.query("Static"))
                    raise TimeoutError(f"{seat}: timed out waiting for {what} (on {type(app.screen).__name__}: "
                                       f"{shown[:600]})")
                if isinstance(app.screen, IntroScreen):
                    app.screen.dismiss()
                await asyncio.sleep(POLL)  # not pilot.pause: its walk of every widget, 50 times a second, in 30
                # drivers, cost the class more CPU than the TUIs themselves (noqa: sleep-ok)

        await until(lambda: isinstance(app.screen, LessonScreen) and app.screen.verdict is not None
                    and isinstance(app.focused, Input), "the lesson screen")
        screen = app.screen
        assert isinstance(screen, LessonScreen)

        for index, step in enumerate(lesson.steps):
            if screen.index != index:
                await screen.go(index)
            await until(lambda i=index: screen.index == i, f"step {index + 1}")
            ends = [time.monotonic()]

            async def run_line(line: str, ends: list[float] = ends) -> None:
                session = screen.runtime.session
                before = len(session.history)
                field = screen.console.query_one(Input)
                field.focus()
                await until(lambda f=field: app.focused is f, "the console's input to have the focus")
                field.value = line
                started = time.monotonic()
                await pilot.press("enter")
                await until(lambda n=before, s=session: len(s.history) > n and not screen.console.running,
                            f"`{line}` to finish")
                ends.append(time.monotonic())
                (waits if WAITS.search(line) else commands).append(ends[-1] - started)
                lines.append([line, ends[-1] - started])

            for line in demo_lines(step):
                await asyncio.sleep(rng.uniform(*pace))  # an attendee following the instructor (noqa: sleep-ok)
                await run_line(line)
            try:
                try:
                    await until(lambda s=step: s.id in passed_at, f"step {step.id} to pass", RETRY_AFTER)
                except TimeoutError:
                    # What an attendee does when a check stays open (a curl that came before the rollout ended
                    # answered v=1): the step's solution lines again, as the autopilot does.
                    retried.append(step.id)
                    for line in step.solution:
                        await asyncio.sleep(rng.uniform(*pace))  # (noqa: sleep-ok)
                        await run_line(line)
                await until(lambda s=step: s.id in passed_at, f"step {step.id} to pass")
                # From the end of the command after which it passed (the change) to the verdict showing it.
                verdicts.append(passed_at[step.id] - max(end for end in ends if end <= passed_at[step.id]))
            except TimeoutError as error:
                missing = [r.id for r in (screen.verdict.results if screen.verdict else ()) if not r.passed]
                failures.append(f"{error} (checks not holding: {', '.join(missing)})")
        await app.shutdown()
    backend.down()  # the port-forwards a seat may have started outlive its TUI by design (`kube-tutor down`)
    import resource

    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    out.write_text(json.dumps({"seat": seat, "commands": commands, "waits": waits, "verdicts": verdicts,
                               "cpu_tui_s": own.ru_utime + own.ru_stime,
                               "cpu_children_s": children.ru_utime + children.ru_stime,
                               "failures": failures, "retried": retried, "lines": lines}))


# ---- the parent ---------------------------------------------------------------------------------------------
def status_kb(pid: int, key: str = "VmRSS") -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pids: list[int]) -> set[int]:
    """Every process below ``pids`` (and themselves), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def pss_kb(pid: int) -> int:
    """The process's proportional set size (shared pages split among the processes sharing them)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (its own, not its children's)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class RssTotal:
    """The summed RSS and PSS of a set of process trees, sampled every second in a thread; keeps the peaks."""

    def __init__(self, roots: list[int]) -> None:
        self.roots = roots
        self.peak_kb = 0
        self.peak_pss_kb = 0
        self.peak_parts: dict[str, int] = {}
        """The peak's RSS by what each process is (server, tui, kubectl by its verb, other), kB."""
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(1.0):
            pids = descendants(self.roots)
            sizes = {pid: status_kb(pid) for pid in pids}
            total = sum(sizes.values())
            self.samples.append(total)
            if total > self.peak_kb:
                parts: dict[str, int] = {}
                for pid, kb in sizes.items():
                    parts[self._what(pid)] = parts.get(self._what(pid), 0) + kb
                self.peak_parts = parts
            self.peak_kb = max(self.peak_kb, total)
            self.peak_pss_kb = max(self.peak_pss_kb, sum(pss_kb(pid) for pid in pids))

    def _what(self, pid: int) -> str:
        if pid == self.roots[0]:
            return "server"
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return "gone"
        if pid in self.roots[1:]:
            return "tui"
        name = Path(argv[0].decode(errors="replace")).name
        if name == "kubectl":
            verb = next((a.decode() for a in argv[1:] if a and not a.startswith(b"-")), "")
            return f"kubectl {verb}"
        return name or "other"

    def __enter__(self) -> RssTotal:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_class(work: Path, seats: list[Path], server_pid: int, label: str) -> dict[str, Any]:
    """Start one driver per seat at once; wait for all; gather their figures and the RSS total."""
    procs: list[tuple[subprocess.Popen[bytes], Path]] = []
    began = time.monotonic()
    for number, seat_dir in enumerate(seats):
        state = work / "drivers" / label / seat_dir.name
        state.mkdir(parents=True)
        out = state / "result.json"
        env = {**os.environ, "HOME": str(state), "PYTHONDONTWRITEBYTECODE": "1"}
        if os.environ.get("KT_BENCH_PROFILE_DIR"):
            env["KT_BENCH_PROFILE"] = str(Path(os.environ["KT_BENCH_PROFILE_DIR"]) / f"{label}-{seat_dir.name}.prof")
        procs.append((subprocess.Popen([sys.executable, __file__, "--driver", str(seat_dir), "--driver-state",
                                        str(state), "--driver-out", str(out), "--driver-seed", str(number)],
                                       env=env, stdout=subprocess.DEVNULL, stderr=open(state / "stderr", "wb")),
                      out))
    server_cpu = cpu_seconds(server_pid)
    with RssTotal([server_pid, *(p.pid for p, _ in procs)]) as rss:
        for proc, _ in procs:
            proc.wait()
    took = time.monotonic() - began
    server_cpu = cpu_seconds(server_pid) - server_cpu
    commands: list[float] = []
    waits: list[float] = []
    verdicts: list[float] = []
    failures: list[str] = []
    retried: list[str] = []
    slowest: list[list[Any]] = []
    cpu_tui = cpu_children = 0.0
    for proc, out in procs:
        if proc.returncode != 0 or not out.exists():
            err = (out.parent / "stderr").read_text(errors="replace").strip().splitlines()
            failures.append(f"{out.parent.name}: exit {proc.returncode}: {err[-1] if err else ''}")
            continue
        data = json.loads(out.read_text())
        commands += data["commands"]
        waits += data["waits"]
        verdicts += data["verdicts"]
        failures += data["failures"]
        retried += [f"{data['seat']}/{step}" for step in data["retried"]]
        cpu_tui += data["cpu_tui_s"]
        cpu_children += data["cpu_children_s"]
        slowest += data["lines"]
    slowest = sorted(slowest, key=lambda pair: -pair[1])[:10]
    return {"seats": len(seats), "wall_s": took, "commands": len(commands), "failures": failures,
            "retried": retried, "slowest": slowest, "server_cpu_share": server_cpu / took,
            "tui_cpu_share": cpu_tui / took, "kubectl_cpu_share": cpu_children / took,
            "rss_peak_pss_mb": rss.peak_pss_kb / 1024, "wait_samples": waits,
            "wait_p50_s": pct(waits, 0.5), "wait_p95_s": pct(waits, 0.95),
            "command_samples": commands, "verdict_samples": verdicts,
            "command_p50_s": pct(commands, 0.5), "command_p95_s": pct(commands, 0.95),
            "verdict_p50_s": pct(verdicts, 0.5), "verdict_p95_s": pct(verdicts, 0.95),
            "rss_peak_mb": rss.peak_kb / 1024, "rss_median_mb": statistics.median(rss.samples) / 1024 if rss.samples
            else 0.0, "rss_peak_parts_mb": {what: round(kb / 1024) for what, kb in
                                            sorted(rss.peak_parts.items(), key=lambda item: -item[1])}}


def merge_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of the same class as one: their samples together, the highest RSS."""
    commands = [value for run in runs for value in run["command_samples"]]
    verdicts = [value for run in runs for value in run["verdict_samples"]]
    waits = [value for run in runs for value in run["wait_samples"]]
    return {"seats": runs[0]["seats"], "runs": len(runs), "wall_s": sum(run["wall_s"] for run in runs),
            "retried": [r for run in runs for r in run["retried"]], "wait_samples": waits,
            "wait_p50_s": pct(waits, 0.5), "wait_p95_s": pct(waits, 0.95),
            "server_cpu_share": max(run["server_cpu_share"] for run in runs),
            "tui_cpu_share": max(run["tui_cpu_share"] for run in runs),
            "kubectl_cpu_share": max(run["kubectl_cpu_share"] for run in runs),
            "rss_peak_pss_mb": max(run["rss_peak_pss_mb"] for run in runs),
            "commands": len(commands), "failures": [f for run in runs for f in run["failures"]],
            "command_samples": commands, "verdict_samples": verdicts,
            "command_p50_s": pct(commands, 0.5), "command_p95_s": pct(commands, 0.95),
            "verdict_p50_s": pct(verdicts, 0.5), "verdict_p95_s": pct(verdicts, 0.95),
            "rss_peak_mb": max(run["rss_peak_mb"] for run in runs),
            "rss_median_mb": max(run["rss_median_mb"] for run in runs),
            "rss_peak_parts_mb": max(runs, key=lambda run: run["rss_peak_mb"])["rss_peak_parts_mb"]}


def reset_seat(admin: Any, seat: str) -> None:
    """Delete what the lesson made in a seat (its Deployment and Service), so the next class starts fresh."""
    admin("delete", "deployment,service", "--all", "-n", seat, "--wait=true", "--timeout=60s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/workshop.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--seats", type=int, default=30)
    parser.add_argument("--saturation", default="", help="more class sizes to try, e.g. 40,50")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--solo-runs", type=int, default=3, help="times one seat alone plays the lesson (default 3)")
    parser.add_argument("--profile", type=Path, help="write each seat's cProfile stats to this directory "
                        "(label-seat.prof; read them with python -m pstats)")
    parser.add_argument("--driver", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--driver-state", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--driver-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--driver-seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.driver is not None:
        profile = os.environ.get("KT_BENCH_PROFILE")
        if profile:
            import cProfile

            with cProfile.Profile() as profiler:
                asyncio.run(drive(args.driver, args.driver_state, args.driver_out, args.driver_seed, PACE))
            profiler.dump_stats(profile)
        else:
            asyncio.run(drive(args.driver, args.driver_state, args.driver_out, args.driver_seed, PACE))
        return 0
    if args.profile is not None:
        args.profile.mkdir(parents=True, exist_ok=True)
        os.environ["KT_BENCH_PROFILE_DIR"] = str(args.profile.resolve())

    from tutor import paths
    from tutor.backends.practice import PracticeBackend
    from tutor.backends.seats import class_budget, class_pods, nodes_room, prepare_seat, seat_names

    sizes = [args.seats, *(int(n) for n in args.saturation.split(",") if n.strip())]
    most = max(sizes)
    work = Path(tempfile.mkdtemp(prefix="kt-workshop-bench-"))
    os.environ["HOME"] = str(work / "home")  # kubectl's own files go there, never to the user's ~/.kube
    backend = PracticeBackend(work / "state", time_scale=1.0, max_pods=class_pods(most))  # as workshop serve does
    results: dict[str, Any] = {"machine": {"cores": os.cpu_count()}}
    try:
        began = time.monotonic()
        status = backend.up()
        up_s = time.monotonic() - began
        seats_dir = work / "workshop" / "seats"
        seat_dirs = []
        budget = class_budget(most, *nodes_room(backend.kubeconfig))  # as `kube-tutor workshop serve` does
        for name in seat_names(most):
            prepare_seat(backend.kubeconfig, name, seats_dir / name, budget=budget)
            seat_dirs.append(seats_dir / name)
        start_s = time.monotonic() - began
        env = {"PATH": os.environ.get("PATH", ""), "HOME": str(work / "home"), "KUBERC": "off",
               "KUBECONFIG": str(backend.kubeconfig)}
        floor = statistics.median(_timed(lambda: subprocess.run([str(paths.kubectl()), "version", "--client"],
                                                                env=env, capture_output=True, check=True))
                                  for _ in range(10))

        def admin(*words: str) -> None:
            subprocess.run([str(paths.kubectl()), *words], env=env, capture_output=True, check=False, timeout=120)

        print(f"kubectl floor (version --client): {floor * 1000:.0f} ms")
        print(f"workshop start: cluster up {up_s:.1f} s, {most} seats ready after {start_s:.1f} s "
              f"({(start_s - up_s) / most:.2f} s a seat)")
        results.update(floor_s=floor, cluster_up_s=up_s, workshop_start_s=start_s, seats_prepared=most)
        solos = []
        for run_number in range(args.solo_runs):  # a lesson has few verdicts: several solo runs make a p95
            solos.append(run_class(work, seat_dirs[:1], status.pid or 0, f"solo-{run_number}"))
            reset_seat(admin, seat_dirs[0].name)
        solo = merge_runs(solos)
        print(f"solo: {solo['commands']} commands; command p50 {solo['command_p50_s']:.2f} s p95 "
              f"{solo['command_p95_s']:.2f} s; verdict p50 {solo['verdict_p50_s']:.2f} s p95 {solo['verdict_p95_s']:.2f} s;"
              f" rollout status p50 {solo['wait_p50_s']:.1f} s; RSS peak {solo['rss_peak_mb']:.0f} MB (PSS "
              f"{solo['rss_peak_pss_mb']:.0f}); CPU: server {solo['server_cpu_share']:.0%}, TUI {solo['tui_cpu_share']:.0%}, "
              f"kubectl {solo['kubectl_cpu_share']:.0%}; retried {solo['retried']}; "
              f"failures {solo['failures']}")
        results["solo"] = solo
        results["classes"] = []
        for size in sizes:
            run = run_class(work, seat_dirs[:size], status.pid or 0, f"class-{size}")
            run["command_p95_ratio"] = run["command_p95_s"] / solo["command_p95_s"]
            run["verdict_p95_ratio"] = run["verdict_p95_s"] / solo["verdict_p95_s"]
            print(f"{size} seats: {run['commands']} commands in {run['wall_s']:.0f} s; command p50 "
                  f"{run['command_p50_s']:.2f} s p95 {run['command_p95_s']:.2f} s ({run['command_p95_ratio']:.2f}x solo); "
                  f"verdict p50 {run['verdict_p50_s']:.2f} s p95 {run['verdict_p95_s']:.2f} s "
                  f"({run['verdict_p95_ratio']:.2f}x solo); RSS peak {run['rss_peak_mb']:.0f} MB "
                  f"(target <= {TARGET_RSS_MB:.0f} for 30; PSS {run['rss_peak_pss_mb']:.0f}), "
                  f"{run['rss_peak_mb'] / size:.0f} MB a seat; rollout status p50 {run['wait_p50_s']:.1f} s p95 "
                  f"{run['wait_p95_s']:.1f} s; CPU (of one core): server {run['server_cpu_share']:.0%}, TUIs "
                  f"{run['tui_cpu_share']:.0%}, their kubectl {run['kubectl_cpu_share']:.0%}; "
                  f"{len(run['retried'])} steps retried; slowest {run['slowest'][:3]}; "
                  f"{len(run['failures'])} failures" + (f" (first: {run['failures'][0]})" if run["failures"] else ""))
            print(f"  RSS at the peak, by process: {run['rss_peak_parts_mb']}")
            warnings = warning_reasons(env)
            run["warning_events"] = warnings
            print(f"  the class's Warning events, by reason: {warnings}")
            results["classes"].append(run)
            for seat_dir in seat_dirs[:size]:
                reset_seat(admin, seat_dir.name)
        failed = [r["seats"] for r in results["classes"] if r["failures"]]
        saturated = [r["seats"] for r in results["classes"] if r["failures"]
                     or not max(r["command_p95_ratio"], r["verdict_p95_ratio"]) <= TARGET_P95]  # nan: none measured
        print("saturation: " + (f"p95 passes {TARGET_P95:g}x solo (or seats fail: {failed}) at {min(saturated)} seats"
                                if saturated else f"p95 stays within {TARGET_P95:g}x solo up to {max(sizes)} seats"))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    finally:
        backend.down()
        shutil.rmtree(work, ignore_errors=True)
    return 0


def warning_reasons(env: dict[str, str]) -> dict[str, int]:
    """The seats' Warning events, counted by reason and the start of their message (what slowed a rollout down:
    a quota that refused a pod, a failed pull that was the lesson's point)."""
    from collections import Counter

    from tutor import paths

    done = subprocess.run([str(paths.kubectl()), "get", "events", "-A", "--field-selector", "type=Warning", "-o",
                           "json"], env=env, capture_output=True, text=True, check=False, timeout=120)
    try:
        items = json.loads(done.stdout).get("items") or []
    except ValueError:
        return {}
    counted: Counter[str] = Counter()
    for e in items:
        if str(e.get("metadata", {}).get("namespace", "")).startswith("seat-"):
            counted[f"{e.get('reason')}: {' '.join(str(e.get('message', '')).split()[:6])}"] += int(e.get("count") or 1)
    return dict(counted.most_common(8))


def _timed(action: Any) -> float:
    began = time.perf_counter()
    action()
    return time.perf_counter() - began


if __name__ == "__main__":
    raise SystemExit(main())
