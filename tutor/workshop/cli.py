"""Provides ``kube-tutor workshop serve|status|reset|broadcast|export|free|down`` (``tutor.cli`` hands over here).

Only ``serve`` loads aiohttp's web side and textual-serve; only ``status`` on a terminal loads textual.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from tutor import shell
from tutor.backends.base import BackendError
from tutor.kube.files import atomic_write
from tutor.text import lookup
from tutor.workshop import model
from tutor.workshop.capacity import this_machine
from tutor.workshop.model import Workshop, WorkshopError

SERVE_RECORD = "serve.json"

TEXTS: dict[str, dict[str, str]] = {
    "refuse_host": {
        "ja": "{host} では待ち受けません: 参加者のセッションをこのマシンではサンドボックスに入れられません（{why}）。"
              "bubblewrap を入れ（`apt-get install bubblewrap`）、特権のないユーザー名前空間を許してください"
              "（`kube-tutor doctor` を参照）。または 127.0.0.1 だけで開いてください",
        "en": "refusing to serve on {host}: attendees' sessions cannot be sandboxed here ({why}); install bubblewrap "
              "(`apt-get install bubblewrap`) and allow unprivileged user namespaces (see `kube-tutor doctor`), or "
              "serve on 127.0.0.1 only"},
    "capacity": {"ja": "このマシンで持てる席はおよそ {room} です", "en": "this machine can hold about {room} seats"},
    "over_capacity": {"ja": "{seats} 席はそれより多いので、コマンドが遅くなります",
                      "en": "{seats} seats is more than that: commands will slow down"},
    "preparing": {"ja": "{seat} を用意しています", "en": "preparing {seat}"},
    "seats_sandboxed": {"ja": "{seats} 席、それぞれ自分のサンドボックスの中", "en": "{seats}, each in its own sandbox"},
    "seats_open": {"ja": "{seats} 席、サンドボックスなし（{why}）: このマシンからだけ",
                   "en": "{seats}, NOT sandboxed ({why}): this machine only"},
    "scope_total": {"ja": "1 席あたり合計でメモリー {memory} MiB、タスク {tasks} まで（席ごとの systemd スコープ）",
                    "en": "at most {memory} MiB of memory and {tasks} tasks a seat in total (a systemd scope each)"},
    "scope_none": {"ja": "1 席の合計の上限なし、プロセスごとの上限だけ（{why}）",
                   "en": "no total per seat, a limit per process only ({why})"},
    "stop": {"ja": "Ctrl+C か `kube-tutor workshop down`", "en": "Ctrl+C or `kube-tutor workshop down`"},
    "stopped": {"ja": "ワークショップのサーバーを止めました（席と進み具合は残っています）",
                "en": "the workshop server stopped (the seats and their progress are kept)"},
}
"""What ``workshop serve`` tells the instructor, in Japanese and English."""


def _t(key: str, lang: str, **values: object) -> str:
    return lookup(TEXTS, key, lang, **values)


def add_parser(sub: Any, common: argparse.ArgumentParser, lang_choices: list[str]) -> None:
    """The ``workshop`` command and its actions, on the top-level subparsers ``sub``."""
    workshop = sub.add_parser("workshop", parents=[common],
                              help="run a workshop: attendees in a browser, one seat each; an instructor dashboard")
    actions = workshop.add_subparsers(dest="action", metavar="ACTION", required=True)
    serve = actions.add_parser("serve", parents=[common],
                               help="start the cluster, prepare the seats, serve the join and instructor pages")
    serve.add_argument("--seats", type=int, default=10, help="how many attendees (default 10)")
    serve.add_argument("--lesson", default=None, help="a lesson id (default: the whole course)")
    serve.add_argument("--lang", choices=lang_choices, default=argparse.SUPPRESS,
                       help="the attendees' language (default: from the locale)")
    serve.add_argument("--host", default="127.0.0.1",
                       help="where to listen (default 127.0.0.1; another address needs the seat sandbox)")
    serve.add_argument("--port", type=int, default=8080, help="the port (default 8080; 0: a free one)")
    serve.add_argument("--public-url", default=None, help="the URL attendees open, when not http://HOST:PORT")
    serve.add_argument("--code", default=None, help="the join code (default: a new one, kept across restarts)")
    serve.add_argument("--instructor-code", default=None, help="the instructor code (default: a new one)")
    serve.add_argument("--stuck-minutes", type=float, default=5,
                       help="a seat whose checks fail with no step change for this long is marked stuck")
    serve.add_argument("--backend", choices=["practice", "existing"], default="practice",
                       help="practice (default) or existing: seats on your cluster (--kubeconfig, a cluster admin's)")
    serve.add_argument("--kubeconfig", type=Path, default=None, help="existing: the admin kubeconfig (only read)")
    serve.add_argument("--context", default=None, help="existing: its context")
    serve.add_argument("--time-scale", type=float, default=None, help="practice: its clock's speed")
    status = actions.add_parser("status", parents=[common], help="the dashboard: one row per seat")
    status.add_argument("--plain", action="store_true", help="print the rows once instead of the live dashboard")
    reset = actions.add_parser("reset", parents=[common], help="reset a seat's step (or with --lesson its lesson)")
    reset.add_argument("seat", metavar="SEAT")
    reset.add_argument("--lesson", action="store_true", help="back to the lesson's first step")
    broadcast = actions.add_parser("broadcast", parents=[common], help="show a short message on every seat")
    broadcast.add_argument("text", nargs="+", metavar="TEXT")
    export = actions.add_parser("export", parents=[common], help="write every seat's progress to FILE (.csv/.json)")
    export.add_argument("file", type=Path, metavar="FILE")
    free = actions.add_parser("free", parents=[common], help="let a seat go (its browser no longer reaches it)")
    free.add_argument("seat", metavar="SEAT")
    down = actions.add_parser("down", parents=[common], help="stop the workshop's server and its practice cluster")
    down.add_argument("--delete-state", action="store_true",
                      help="also delete the seats (on the cluster and on disk) and the workshop's record")


def _err(message: str) -> int:
    print(f"kube-tutor: {message}", file=sys.stderr)
    return 1


def main(state: Path, args: argparse.Namespace, lang: str) -> int:
    root = model.workshop_root(state)
    try:
        if args.action == "serve":
            return serve(state, args, lang)
        workshop = Workshop.load(root)
        if args.action == "status":
            return status(state, workshop, lang, plain=args.plain)
        if args.action == "reset":
            ident = model.reset_seat(workshop, args.seat, lesson=args.lesson)
            print(f"{args.seat}: {'lesson' if args.lesson else 'step'} reset requested (#{ident})")
            return 0
        if args.action == "broadcast":
            model.broadcast(workshop, " ".join(args.text))
            print(f"sent to {len(model.seats_taken(workshop))} seat(s) in use")
            return 0
        if args.action == "export":
            fmt = model.export(workshop, args.file)
            print(f"wrote {args.file} ({fmt}, {workshop.seats} seats)")
            return 0
        if args.action == "free":
            print(f"{args.seat}: {'free now' if model.free_seat(workshop, args.seat) else 'was free'}")
            return 0
        if args.action == "down":
            return down(state, workshop, delete=args.delete_state)
    except (WorkshopError, BackendError) as error:
        return _err(str(error))
    return 2


def capacity() -> int | None:
    """Seats this machine can hold (:func:`tutor.workshop.capacity.this_machine`), or None when not known."""
    fits = this_machine()
    return None if fits is None else fits.seats


def serve(state: Path, args: argparse.Namespace, lang: str) -> int:
    """``workshop serve``: refuse a non-loopback host without the sandbox, start the cluster, prepare the seats,
    write workshop.json, print the URLs and serve until Ctrl+C (or ``workshop down``)."""
    host = args.host
    sandboxed, why = model.sandbox_status()
    if not model.is_loopback(host) and not sandboxed:
        return _err(_t("refuse_host", lang, host=host, why=why))
    if args.seats < 1:
        return _err(f"--seats must be at least 1, not {args.seats}")
    other = _running_server(model.workshop_root(state))
    if other is not None:
        return _err(f"this workshop's server already runs (pid {other[0]}, {other[1]}); stop it first with "
                    f"`kube-tutor workshop down`")
    lesson_id = None
    if args.lesson is not None:
        from tutor.lesson import LessonError, LessonNotFound, find_lesson, load_lesson

        try:
            lesson_id = load_lesson(find_lesson(args.lesson)).id
        except (LessonNotFound, LessonError) as error:
            return _err(str(error).splitlines()[0])
    room = capacity()
    if room is not None:
        print(f"kube-tutor: {_t('capacity', lang, room=room)}", file=sys.stderr)
        if args.seats > room:
            print(f"kube-tutor: {_t('over_capacity', lang, seats=args.seats)}", file=sys.stderr)
    context = args.context
    if args.backend == "practice":
        from tutor.backends.practice import DEFAULT_MAX_PODS, PracticeBackend
        from tutor.backends.seats import class_pods
        from tutor.text import said

        # the practice cluster's container shells (`kubectl exec`) run sandboxed too where it knows how; its node
        # has room for every seat's quota of pods
        backend = PracticeBackend(state, time_scale=args.time_scale, sandbox=sandboxed,
                                  max_pods=class_pods(args.seats, node_default=DEFAULT_MAX_PODS))
        running = backend.up(on_status=lambda line: print(f"kube-tutor: {said(line, lang)}", file=sys.stderr))
        admin = Path(running.kubeconfig)
    else:
        if args.kubeconfig is None:
            return _err("workshop serve --backend existing needs --kubeconfig PATH (a cluster admin's: it makes the "
                        "seats)")
        admin = args.kubeconfig.expanduser().resolve()
    root = model.workshop_root(state)
    workshop = model.create_workshop(root, seats=args.seats, lesson=lesson_id, lang=lang, backend=args.backend,
                                     join_code=args.code, instructor_code=args.instructor_code,
                                     stuck_minutes=args.stuck_minutes, admin_kubeconfig=str(admin))
    model.prepare_seats(workshop, admin, context=context,
                        on_seat=lambda name: print(f"kube-tutor: {_t('preparing', lang, seat=name)}", file=sys.stderr))
    logging.basicConfig(level=logging.INFO, format="kube-tutor: %(message)s", stream=sys.stderr)
    from tutor.workshop.web import WorkshopWeb
    from tutor.workshop.web import serve as serve_web

    web_app = WorkshopWeb(workshop, state=state, sandboxed=sandboxed)
    shown = socket.gethostname() if host in ("0.0.0.0", "::") else host

    def ready(port: int) -> None:
        base = (args.public_url or f"http://{shown}:{port}").rstrip("/")
        workshop.url = f"{base}/"
        workshop.save()
        atomic_write(root / SERVE_RECORD, json.dumps({"pid": os.getpid(), "url": workshop.url,
                                                       "host": host, "port": port}).encode())
        print(f"join:       {base}/   code: {workshop.join_code}")
        print(f"instructor: {base}/instructor   code: {workshop.instructor_code}")
        seats = (_t("seats_sandboxed", lang, seats=workshop.seats) if sandboxed
                 else _t("seats_open", lang, seats=workshop.seats, why=why))
        print(f"seats:      {seats}")
        if sandboxed:
            limits = shell.SandboxLimits()
            scoped, reason = shell.seat_scope_ok(limits)
            print("limits:     " + (_t("scope_total", lang, memory=limits.memory // 1024**2, tasks=limits.processes)
                                    if scoped else _t("scope_none", lang, why=reason)))
        print(f"stop:       {_t('stop', lang)}", flush=True)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve_web(web_app, host, args.port, on_ready=ready, stop=stop)

    try:
        asyncio.run(run())
    except OSError as error:
        return _err(f"cannot listen on {host}:{args.port}: {error.strerror or error}")
    finally:
        (root / SERVE_RECORD).unlink(missing_ok=True)
    print(f"kube-tutor: {_t('stopped', lang)}", file=sys.stderr)
    return 0


def status(state: Path, workshop: Workshop, lang: str, *, plain: bool) -> int:
    """The live dashboard (``DashboardApp``) on a terminal or through textual-serve, else the rows once."""
    live = not plain and (sys.stdout.isatty() or "TEXTUAL_DRIVER" in os.environ)
    if live:
        from tutor.tui.dashboard_app import DashboardApp

        DashboardApp(workshop.root, lang=lang, stuck_minutes=workshop.stuck_minutes).run()
        return 0
    from tutor.workshop.web import dashboard_rows

    rows = dashboard_rows(workshop)
    print(f"{'SEAT':<9} {'NAME':<20} {'LESSON':<18} {'STEP':<6} {'CHECKS':<7} {'MIN':<5} LAST COMMAND")
    for row in rows:
        step = f"{row['step']}/{row['steps']}" if row.get("step") is not None else ""
        checks = f"{row['checks_passing']}/{row['checks_total']}" if row.get("checks_total") is not None else ""
        minutes = "" if row.get("minutes_on_step") is None else f"{row['minutes_on_step']:g}"
        mark = "  STUCK" if row.get("stuck") else ""
        print(f"{row['seat']:<9} {(row['name'] or '(free)')[:20]:<20} {str(row.get('lesson') or '')[:18]:<18} "
              f"{step:<6} {checks:<7} {minutes:<5} {row.get('last_command') or ''}{mark}")
    return 0


def _running_server(root: Path) -> tuple[int, str] | None:
    """The pid and URL of the workshop server that runs for ``root`` (its ``serve.json``), or None."""
    try:
        record = json.loads((root / SERVE_RECORD).read_text())
        pid, url = int(record.get("pid", 0)), str(record.get("url", ""))
    except (OSError, ValueError, AttributeError, TypeError):
        return None
    if pid <= 0 or pid == os.getpid() or not shell.pid_alive(pid):
        return None
    return pid, url


def down(state: Path, workshop: Workshop, *, delete: bool) -> int:
    """Stop the server (its record's pid), the practice cluster, and with ``delete`` the seats and the record."""
    record = workshop.root / SERVE_RECORD
    running = _running_server(workshop.root)
    pid = running[0] if running else 0
    if pid:
        shell.stop_process(pid, grace=30)
        print(f"workshop server stopped (pid {pid})")
    else:
        print("workshop server was not running")
    record.unlink(missing_ok=True)
    if delete and workshop.admin_kubeconfig:
        from tutor.backends.seats import tear_down_seat

        for seat in workshop.seat_names():
            directory = workshop.seat_dir(seat)
            if directory.exists():
                try:
                    tear_down_seat(Path(workshop.admin_kubeconfig), directory)
                except BackendError as error:
                    print(f"kube-tutor: {seat}: {error}", file=sys.stderr)
    if workshop.backend == "practice":
        from tutor.backends.practice import PracticeBackend

        result = PracticeBackend(state).down()
        print("practice cluster stopped" if result.stopped else "practice cluster was not running")
    if delete:
        shutil.rmtree(workshop.root, ignore_errors=True)
        print(f"deleted {workshop.root}")
    return 0
