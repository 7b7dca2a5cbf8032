"""Provides the workshop's web server: the join page, one lesson terminal per seat, and the instructor page.

- ``GET /`` asks for the workshop code and a display name; ``POST /join`` checks the code, gives the browser a
  seat (:func:`tutor.workshop.model.join`) and a cookie ``kt_seat`` (random, HttpOnly, SameSite=Strict; only its
  sha256 is stored in the seat's ``attendee.json``), then sends it to ``/seat``. A browser that has a seat goes
  straight there; a reload or a lost connection comes back to the same seat, whose TUI resumes from its own state
  directory (progress, history, variables). A wrong code is refused; a full workshop says so.
- ``/seat`` is textual-serve's terminal page (its ``static/js/textual.js`` and ``css/xterm.css``, served from the
  installed package) and ``/seat/ws`` its websocket: :class:`SeatAppService`, textual-serve's ``AppService`` with
  the process started by :func:`tutor.shell.open_app_process` (the seat's TUI, sandboxed when the sandbox works
  here). One live terminal per seat: a second tab (or a reload) takes the seat over and the first one's TUI quits
  first, so two TUIs never write one seat's state.
- ``/instructor`` asks for the instructor code, then shows one row per seat (refreshed every second from
  ``/instructor/seats.json``), with reset, broadcast and export; ``/instructor/terminal`` serves the terminal
  dashboard (``kube-tutor workshop status``) the same way as a seat's TUI when this kube-tutor has it.

textual-serve's own ``Server`` is not used: it serves one command for everybody, and its page loads a web font
from fonts.googleapis.com (a workshop may be offline). What it exchanges with the browser is kept as it is
(``textual_serve/server.py`` ``_process_messages``: ``stdin``, ``resize``, ``ping``, ``blur``, ``focus``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import importlib.util
import json
import logging
import os
import secrets
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from textual_serve.app_service import AppService
from textual_serve.download_manager import DownloadManager

from tutor import shell
from tutor.text import lookup
from tutor.workshop import model, status
from tutor.workshop.model import COOKIE, INSTRUCTOR_COOKIE, Workshop, WorkshopError, WorkshopFull

log = logging.getLogger("kube-tutor.workshop")

STATIC = Path(importlib.util.find_spec("textual_serve").origin or "").parent / "static"  # type: ignore[union-attr]
TEXTUAL_ENV = ("TEXTUAL_DRIVER", "TEXTUAL_FPS", "TEXTUAL_COLOR_SYSTEM", "TERM_PROGRAM", "TERM_PROGRAM_VERSION",
               "COLUMNS", "ROWS", "TEXTUAL", "TEXTUAL_LOG")
"""What textual-serve's ``AppService._build_environment`` sets for the app (the rest of its environment, a copy
of the server's, is replaced by the seat's own)."""

WEB_TEXTS: dict[str, dict[str, str]] = {
    "join.title": {"ja": "ワークショップに参加する", "en": "Join the workshop"},
    "join.intro": {"ja": "講師から聞いたワークショップのコードと、講師に見せる名前を入れてください。",
                   "en": "Type the workshop code your instructor gave you, and the name the instructor will see."},
    "join.code": {"ja": "ワークショップのコード", "en": "Workshop code"},
    "join.name": {"ja": "表示名", "en": "Display name"},
    "join.button": {"ja": "参加する", "en": "Join"},
    "join.wrong_code": {"ja": "コードが違います。講師に確かめてください。",
                        "en": "That code is not this workshop's. Check it with your instructor."},
    "join.no_name": {"ja": "表示名を入れてください。", "en": "Type a display name."},
    "join.too_many": {"ja": "間違ったコードが続きました。1 分待ってからやり直してください。",
                       "en": "Too many wrong codes. Wait a minute, then try again."},
    "join.full": {"ja": "このワークショップは満席です（{seats} 席すべて使用中）。講師に伝えてください。",
                  "en": "This workshop is full (all {seats} seats are taken). Tell your instructor."},
    "seat.title": {"ja": "{seat}（{name}）", "en": "{seat} ({name})"},
    "seat.ended": {"ja": "接続が切れました。", "en": "The connection ended."},
    "seat.again": {"ja": "同じ席に戻る", "en": "Back to my seat"},
    "seat.other_lang": {"ja": "English", "en": "日本語"},
    "instructor.title": {"ja": "講師のページ", "en": "Instructor"},
    "instructor.code": {"ja": "講師用のコード", "en": "Instructor code"},
    "instructor.button": {"ja": "開く", "en": "Open"},
    "instructor.wrong_code": {"ja": "講師用のコードが違います。", "en": "That is not the instructor code."},
    "instructor.seat": {"ja": "席", "en": "Seat"},
    "instructor.name": {"ja": "名前", "en": "Name"},
    "instructor.lesson": {"ja": "レッスン", "en": "Lesson"},
    "instructor.step": {"ja": "ステップ", "en": "Step"},
    "instructor.checks": {"ja": "チェック", "en": "Checks"},
    "instructor.minutes": {"ja": "このステップ（分）", "en": "Minutes on step"},
    "instructor.hints": {"ja": "ヒント/解答", "en": "Hints/solutions"},
    "instructor.last": {"ja": "最後のコマンド", "en": "Last command"},
    "instructor.free": {"ja": "（空席）", "en": "(free)"},
    "instructor.stuck": {"ja": "止まっています", "en": "stuck"},
    "instructor.reset_step": {"ja": "ステップをやり直す", "en": "Reset step"},
    "instructor.reset_lesson": {"ja": "レッスンをやり直す", "en": "Reset lesson"},
    "instructor.broadcast": {"ja": "全員に送る", "en": "Send to everyone"},
    "instructor.export": {"ja": "書き出す", "en": "Export"},
    "instructor.terminal": {"ja": "端末のダッシュボード", "en": "Terminal dashboard"},
    "instructor.join": {"ja": "参加用 URL: {url}（コード {code}）", "en": "Join URL: {url} (code {code})"},
}
"""Every word the web pages show, in Japanese and English."""


def say(key: str, lang: str, **values: object) -> str:
    return lookup(WEB_TEXTS, key, lang, **values)


def _lang(request: web.Request, workshop: Workshop) -> str:
    wanted = request.query.get("lang", "")
    return wanted if wanted in ("ja", "en") else workshop.lang


STYLE = """
body { background: #0c181f; color: #e6edf3; font-family: system-ui, sans-serif; margin: 0; }
main.form { max-width: 30em; margin: 4em auto; padding: 2em; background: #12232d; border-radius: 8px; }
label { display: block; margin-top: 1em; } input[type=text], input[type=password] { width: 100%; padding: .5em;
  font-size: 1.1em; box-sizing: border-box; } button { margin-top: 1.5em; padding: .6em 2em; font-size: 1em; }
p.error { color: #ff7b72; font-weight: bold; } a { color: #79c0ff; }
header { height: 28px; line-height: 28px; padding: 0 1em; background: #12232d; font-size: 14px; }
#terminal { position: absolute; top: 28px; left: 0; right: 0; bottom: 0; }
.closed { display: none; position: absolute; top: 40%; left: 0; right: 0; text-align: center; z-index: 10; }
body.-closed .closed { display: block; }
table { border-collapse: collapse; margin: 1em; } td, th { padding: .3em .7em; border-bottom: 1px solid #30363d;
  text-align: left; } tr.stuck { background: #5a1e1e; } tr.free { color: #8b949e; }
td button { margin: 0 .2em; padding: .2em .6em; font-size: .9em; } td:first-child { white-space: nowrap; }
"""


def _page(title: str, body: str, lang: str, *, head: str = "") -> str:
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<style>{STYLE}</style>{head}</head><body>{body}</body></html>")


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                 "Referrer-Policy": "no-referrer"})


def _set_cookie(response: web.StreamResponse, name: str, value: str, *, secure: bool) -> None:
    response.set_cookie(name, value, httponly=True, samesite="Strict", path="/", max_age=7 * 24 * 3600,
                        secure=secure or None)


def _origin_ok(request: web.Request) -> bool:
    """A websocket opened by our own page (Origin names this host) or by no browser at all (no Origin)."""
    origin = request.headers.get("Origin")
    if not origin:
        return True
    return origin.split("://", 1)[-1].rstrip("/") == request.host


class SeatAppService(AppService):
    """textual-serve's ``AppService`` with our argv and environment, started by :mod:`tutor.shell`."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], *, cwd: Path | None,
                 write_bytes: Callable[[bytes], Awaitable[None]], write_str: Callable[[str], Awaitable[None]],
                 close: Callable[[], Awaitable[None]], download_manager: DownloadManager) -> None:
        super().__init__(" ".join(argv), write_bytes=write_bytes, write_str=write_str, close=close,
                         download_manager=download_manager)
        self.argv = list(argv)
        self.env = dict(env)
        self.cwd = cwd

    async def _open_app_process(self, width: int = 80, height: int = 24) -> asyncio.subprocess.Process:
        textual = self._build_environment(width=width, height=height)
        env = {**self.env, **{key: textual[key] for key in TEXTUAL_ENV if key in textual}}
        self._process = process = await shell.open_app_process(self.argv, env, cwd=self.cwd)
        assert process.stdin is not None
        self._stdin = process.stdin
        return process

    async def stop(self, grace: float = 10.0) -> None:
        """Tell the app to quit (textual's web driver saves and exits), then make sure it and its children end."""
        try:
            await asyncio.wait_for(super().stop(), grace)
        except (TimeoutError, ConnectionError, RuntimeError):
            pass
        if self._process is not None:
            await shell.end_app_process(self._process, grace=1.0)


WRONG_CODE_LIMIT = 30
WRONG_CODE_WINDOW = 60.0
"""An address that typed 30 wrong codes (join or instructor) in 60 s is refused for the rest of the minute: guessing
a code of 8 letters takes ages then, while a class behind one NAT address can still mistype (a workshop on a VM)."""


class _Session:
    def __init__(self, websocket: web.WebSocketResponse) -> None:
        self.websocket = websocket
        self.done = asyncio.Event()


class WorkshopWeb:
    """The aiohttp application of one workshop."""

    def __init__(self, workshop: Workshop, *, state: Path, sandboxed: bool | None = None,
                 python: str | None = None) -> None:
        self.workshop = workshop
        self.state = state
        self.sandboxed = model.sandbox_status()[0] if sandboxed is None else sandboxed
        self.python = python or sys.executable
        self.downloads = DownloadManager()
        self.sessions: dict[str, _Session] = {}
        self.wrong_codes: dict[str, list[float]] = {}
        self.instructors: set[str] = set()
        """sha256 of the instructor cookies handed out by this server (a restart asks for the code again)."""

    def app(self) -> web.Application:
        app = web.Application()
        app.add_routes([
            web.get("/", self.index), web.post("/join", self.join),
            web.get("/seat", self.seat_page), web.get("/seat/ws", self.seat_socket),
            web.get("/instructor", self.instructor_page), web.post("/instructor", self.instructor_login),
            web.get("/instructor/seats.json", self.instructor_seats),
            web.post("/instructor/reset", self.instructor_reset),
            web.post("/instructor/broadcast", self.instructor_broadcast),
            web.get("/instructor/export.{fmt:csv|json}", self.instructor_export),
            web.get("/instructor/terminal", self.instructor_terminal),
            web.get("/instructor/ws", self.instructor_socket),
            web.static("/static", STATIC),
        ])
        app.on_shutdown.append(self._close_sessions)
        return app

    def _https(self, request: web.Request) -> bool:
        """Whether browsers reach us over HTTPS (directly, or through the proxy ``--public-url https://`` names)."""
        return request.secure or self.workshop.url.startswith("https://")

    # ---- attendees --------------------------------------------------------------------------------------------

    def _too_many(self, request: web.Request) -> bool:
        """Whether this address typed too many wrong codes lately (guessing a code is then too slow to try)."""
        now = asyncio.get_running_loop().time()
        recent = [at for at in self.wrong_codes.get(request.remote or "", []) if now - at < WRONG_CODE_WINDOW]
        self.wrong_codes[request.remote or ""] = recent
        return len(recent) >= WRONG_CODE_LIMIT

    def _wrong_code(self, request: web.Request) -> None:
        self.wrong_codes.setdefault(request.remote or "", []).append(asyncio.get_running_loop().time())

    def _seat_of(self, request: web.Request) -> str | None:
        return model.seat_for_cookie(self.workshop, request.cookies.get(COOKIE))

    def _join_form(self, lang: str, *, error: str = "", code: str = "", name: str = "") -> str:
        other = "en" if lang == "ja" else "ja"
        message = f'<p class="error" id="error">{html.escape(error)}</p>' if error else ""
        body = (f'<main class="form"><h1>{say("join.title", lang)}</h1><p>{say("join.intro", lang)}</p>{message}'
                f'<form method="post" action="/join?lang={lang}">'
                f'<label for="code">{say("join.code", lang)}</label>'
                f'<input type="text" id="code" name="code" autocomplete="off" autocapitalize="none" '
                f'value="{html.escape(code)}" required>'
                f'<label for="name">{say("join.name", lang)}</label>'
                f'<input type="text" id="name" name="name" maxlength="{model.NAME_LIMIT}" '
                f'value="{html.escape(name)}" required>'
                f'<button type="submit" id="join">{say("join.button", lang)}</button></form>'
                f'<p><a href="/?lang={other}">{say("seat.other_lang", lang)}</a></p></main>')
        return _page(say("join.title", lang), body, lang)

    async def index(self, request: web.Request) -> web.StreamResponse:
        if self._seat_of(request) is not None:
            raise web.HTTPSeeOther("/seat")
        lang = _lang(request, self.workshop)
        return _html(self._join_form(lang, code=request.query.get("code", "")))

    async def join(self, request: web.Request) -> web.StreamResponse:
        lang = _lang(request, self.workshop)
        form = await request.post()
        code, name = str(form.get("code", "")), str(form.get("name", ""))
        if self._too_many(request):
            return _html(self._join_form(lang, error=say("join.too_many", lang), name=name), 429)
        if not model.code_matches(code, self.workshop.join_code):
            self._wrong_code(request)
            log.warning("a wrong workshop code from %s", request.remote)
            return _html(self._join_form(lang, error=say("join.wrong_code", lang), name=name), 403)
        cookie = request.cookies.get(COOKIE) or model.new_cookie()
        try:
            seat = model.join(self.workshop, name, cookie, lang=request.query.get("lang"))
        except WorkshopFull:
            return _html(self._join_form(lang, error=say("join.full", lang, seats=self.workshop.seats),
                                         code=code, name=name), 409)
        except WorkshopError:
            return _html(self._join_form(lang, error=say("join.no_name", lang), code=code), 400)
        log.info("%s joined as %s", seat, model.clean_name(name))
        response = web.HTTPSeeOther(f"/seat?lang={lang}")
        _set_cookie(response, COOKIE, cookie, secure=self._https(request))
        raise response

    def _terminal_page(self, request: web.Request, title: str, socket_path: str, back: str, lang: str) -> str:
        scheme = "wss" if self._https(request) else "ws"
        body = (f"<header>kube-tutor · {html.escape(title)}</header>"
                f'<div class="closed"><p>{say("seat.ended", lang)}</p>'
                f'<p><a href="{back}" id="again">{say("seat.again", lang)}</a></p></div>'
                f'<div id="terminal" class="textual-terminal" '
                f'data-session-websocket-url="{scheme}://{html.escape(request.host)}{socket_path}" '
                f'data-font-size="16"></div>')
        head = ('<link rel="stylesheet" href="/static/css/xterm.css">'
                '<script src="/static/js/textual.js"></script>')
        return _page(title, body, lang, head=head)

    async def seat_page(self, request: web.Request) -> web.StreamResponse:
        seat = self._seat_of(request)
        if seat is None:
            raise web.HTTPSeeOther("/")
        taken = model.attendee(self.workshop, seat)
        lang = request.query.get("lang") or (taken.lang if taken else None) or self.workshop.lang
        lang = lang if lang in ("ja", "en") else self.workshop.lang
        title = say("seat.title", lang, seat=seat, name=taken.name if taken else "")
        return _html(self._terminal_page(request, title, "/seat/ws", f"/seat?lang={lang}", lang))

    async def seat_socket(self, request: web.Request) -> web.StreamResponse:
        seat = self._seat_of(request)
        if seat is None or not _origin_ok(request):
            raise web.HTTPForbidden(text="no seat for this browser: join the workshop first")
        argv, env = model.seat_launch(self.workshop, seat, sandboxed=self.sandboxed)
        return await self._run_app(request, seat, argv, env, cwd=self.workshop.seat_dir(seat) / "home")

    async def _run_app(self, request: web.Request, key: str, argv: Sequence[str], env: Mapping[str, str], *,
                       cwd: Path | None) -> web.WebSocketResponse:
        """Serve one textual app on a websocket (as textual-serve's ``Server.handle_websocket`` does); the app
        that ran for ``key`` before quits first."""
        previous = self.sessions.get(key)
        if previous is not None:
            await previous.websocket.close()
            await previous.done.wait()
        websocket = web.WebSocketResponse(heartbeat=15)
        session = self.sessions[key] = _Session(websocket)
        width = _int(request.query.get("width"), 80)
        height = _int(request.query.get("height"), 24)
        service: SeatAppService | None = None

        async def close() -> None:
            await websocket.close()

        try:
            await websocket.prepare(request)
            service = SeatAppService(argv, env, cwd=cwd, write_bytes=websocket.send_bytes,
                                     write_str=websocket.send_str, close=close,
                                     download_manager=self.downloads)
            await service.start(width, height)
            await _relay(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except OSError as error:
            log.error("%s: cannot start %s: %s", key, argv[0], error)
        finally:
            if service is not None:
                await service.stop()
            session.done.set()
            if self.sessions.get(key) is session:
                del self.sessions[key]
        return websocket

    async def _close_sessions(self, _app: web.Application) -> None:
        for session in list(self.sessions.values()):
            await session.websocket.close()
        for session in list(self.sessions.values()):
            await session.done.wait()

    # ---- instructor -------------------------------------------------------------------------------------------

    def _is_instructor(self, request: web.Request) -> bool:
        cookie = request.cookies.get(INSTRUCTOR_COOKIE)
        return bool(cookie) and model.hash_cookie(cookie or "") in self.instructors

    def _instructor_form(self, lang: str, error: str = "") -> str:
        message = f'<p class="error" id="error">{html.escape(error)}</p>' if error else ""
        body = (f'<main class="form"><h1>{say("instructor.title", lang)}</h1>{message}'
                f'<form method="post" action="/instructor?lang={lang}">'
                f'<label for="code">{say("instructor.code", lang)}</label>'
                f'<input type="password" id="code" name="code" autocomplete="off" required>'
                f'<button type="submit" id="open">{say("instructor.button", lang)}</button></form></main>')
        return _page(say("instructor.title", lang), body, lang)

    async def instructor_login(self, request: web.Request) -> web.StreamResponse:
        lang = _lang(request, self.workshop)
        form = await request.post()
        if self._too_many(request):
            return _html(self._instructor_form(lang, say("join.too_many", lang)), 429)
        if not model.code_matches(str(form.get("code", "")), self.workshop.instructor_code):
            self._wrong_code(request)
            log.warning("a wrong instructor code from %s", request.remote)
            return _html(self._instructor_form(lang, say("instructor.wrong_code", lang)), 403)
        cookie = secrets.token_urlsafe(32)
        self.instructors.add(model.hash_cookie(cookie))
        response = web.HTTPSeeOther(f"/instructor?lang={lang}")
        _set_cookie(response, INSTRUCTOR_COOKIE, cookie, secure=self._https(request))
        raise response

    def _require_instructor(self, request: web.Request) -> None:
        if not self._is_instructor(request):
            raise web.HTTPForbidden(text="the instructor code is needed: open /instructor")

    async def instructor_page(self, request: web.Request) -> web.StreamResponse:
        lang = _lang(request, self.workshop)
        if not self._is_instructor(request):
            return _html(self._instructor_form(lang))
        columns = ["seat", "name", "lesson", "step", "checks", "minutes", "hints", "last"]
        heads = "".join(f"<th>{say('instructor.' + column, lang)}</th>" for column in columns)
        words = json.dumps({key: say(key, lang) for key in ("instructor.free", "instructor.stuck",
                                                            "instructor.reset_step", "instructor.reset_lesson")},
                           ensure_ascii=False)
        terminal = f'<a href="/instructor/terminal?lang={lang}">{say("instructor.terminal", lang)}</a> · '
        join_url = self.workshop.url or f"http://{request.host}/"
        body = (f'<main><h1 style="margin:.5em 1em">{say("instructor.title", lang)}</h1>'
                f'<p style="margin:0 1.5em">{html.escape(say("instructor.join", lang, url=join_url, code=self.workshop.join_code))}</p>'
                f'<table id="seats"><thead><tr>{heads}<th></th></tr></thead><tbody></tbody></table>'
                f'<pre id="detail" style="margin:1em;padding:.5em;background:#12232d;min-height:3em"></pre>'
                f'<form method="post" action="/instructor/broadcast?lang={lang}" style="margin:1em">'
                f'<input type="text" name="text" id="broadcast" maxlength="{model.BROADCAST_LIMIT}" '
                f'style="width:30em"> <button type="submit">{say("instructor.broadcast", lang)}</button></form>'
                f'<p style="margin:1em">{terminal}{say("instructor.export", lang)}: '
                f'<a href="/instructor/export.csv">CSV</a> · <a href="/instructor/export.json">JSON</a></p></main>'
                f"<script>const WORDS = {words};{DASHBOARD_JS}</script>")
        return _html(_page(say("instructor.title", lang), body, lang))

    async def instructor_seats(self, request: web.Request) -> web.StreamResponse:
        self._require_instructor(request)
        return web.json_response({"seats": dashboard_rows(self.workshop)},
                                 headers={"Cache-Control": "no-store"})

    async def instructor_reset(self, request: web.Request) -> web.StreamResponse:
        self._require_instructor(request)
        form = await request.post()
        try:
            model.reset_seat(self.workshop, str(form.get("seat", "")), lesson=form.get("what") == "lesson")
        except WorkshopError as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        raise web.HTTPSeeOther(f"/instructor?lang={_lang(request, self.workshop)}")

    async def instructor_broadcast(self, request: web.Request) -> web.StreamResponse:
        self._require_instructor(request)
        form = await request.post()
        try:
            model.broadcast(self.workshop, str(form.get("text", "")))
        except WorkshopError as error:
            raise web.HTTPBadRequest(text=str(error)) from None
        raise web.HTTPSeeOther(f"/instructor?lang={_lang(request, self.workshop)}")

    async def instructor_export(self, request: web.Request) -> web.StreamResponse:
        self._require_instructor(request)
        fmt = request.match_info["fmt"]
        return web.Response(text=model.export_text(self.workshop, fmt), charset="utf-8",
                            content_type="text/csv" if fmt == "csv" else "application/json",
                            headers={"Content-Disposition": f'attachment; filename="workshop.{fmt}"'})

    async def instructor_terminal(self, request: web.Request) -> web.StreamResponse:
        self._require_instructor(request)
        lang = _lang(request, self.workshop)
        return _html(self._terminal_page(request, say("instructor.terminal", lang), "/instructor/ws",
                                         f"/instructor/terminal?lang={lang}", lang))

    async def instructor_socket(self, request: web.Request) -> web.StreamResponse:
        if not self._is_instructor(request) or not _origin_ok(request):
            raise web.HTTPForbidden(text="the instructor code is needed: open /instructor")
        argv = [self.python, "-m", "tutor", "--state-dir", str(self.state), "--lang", self.workshop.lang,
                "workshop", "status"]
        key = f"instructor-{secrets.token_hex(4)}"
        return await self._run_app(request, key, argv, dict(os.environ), cwd=None)


def dashboard_rows(workshop: Workshop) -> list[dict[str, Any]]:
    """The rows of the instructor's page: the terminal dashboard's (``tutor.workshop.status.read_rows``)."""
    return [dataclasses.asdict(row) for row in status.read_rows(workshop.root, stuck_minutes=workshop.stuck_minutes)]


DASHBOARD_JS = r"""
function cell(text) { const td = document.createElement("td"); td.textContent = text == null ? "" : String(text); return td; }
function button(seat, what, label) {
  const form = document.createElement("form"); form.method = "post"; form.action = "/instructor/reset";
  form.style.display = "inline";
  for (const [k, v] of [["seat", seat], ["what", what]]) {
    const i = document.createElement("input"); i.type = "hidden"; i.name = k; i.value = v; form.appendChild(i); }
  const b = document.createElement("button"); b.type = "submit"; b.textContent = label; b.style.margin = "0 .2em";
  form.appendChild(b); return form;
}
let SELECTED = null;
function detail(s) {
  const lines = [s.seat + (s.name ? " · " + s.name : ""), ""];
  if (s.last_command) lines.push("$ " + s.last_command + (s.last_exit != null ? "   (exit " + s.last_exit + ")" : ""), "");
  for (const line of (s.cluster || [])) lines.push(line);
  document.getElementById("detail").textContent = lines.join("\n");
}
async function refresh() {
  try {
    const answer = await fetch("/instructor/seats.json", {cache: "no-store"});
    if (!answer.ok) return;
    const data = await answer.json();
    const body = document.querySelector("#seats tbody");
    const rows = [];
    for (const s of data.seats) {
      const tr = document.createElement("tr"); tr.id = "row-" + s.seat;
      tr.className = s.name ? (s.stuck ? "stuck" : "") : "free";
      tr.appendChild(cell(s.seat));
      tr.appendChild(cell(s.name || WORDS["instructor.free"]));
      tr.appendChild(cell(s.lesson_title || s.lesson));
      const step = tr.appendChild(cell(s.step != null ? s.step + "/" + s.steps : "")); step.className = "step";
      tr.appendChild(cell(s.checks_total != null ? s.checks_passing + "/" + s.checks_total : ""));
      tr.appendChild(cell(s.minutes_on_step != null ? s.minutes_on_step + (s.stuck ? " " + WORDS["instructor.stuck"] : "") : ""));
      tr.appendChild(cell(s.hints != null ? s.hints + "/" + (s.solutions || 0) : ""));
      tr.appendChild(cell(s.last_command));
      const actions = document.createElement("td");
      if (s.name) { actions.appendChild(button(s.seat, "step", WORDS["instructor.reset_step"]));
                    actions.appendChild(button(s.seat, "lesson", WORDS["instructor.reset_lesson"])); }
      tr.appendChild(actions); rows.push(tr);
      tr.style.cursor = "pointer";
      tr.addEventListener("click", (event) => {
        if (event.target.closest("form")) return;
        SELECTED = s.seat; detail(s);
      });
      if (s.seat === SELECTED) { tr.style.outline = "1px solid #79c0ff"; detail(s); }
    }
    body.replaceChildren(...rows);
  } catch (e) { /* the server restarts: try again at the next tick */ }
}
refresh(); setInterval(refresh, 1000);
"""


def _int(text: str | None, default: int) -> int:
    try:
        return int(text or "")
    except ValueError:
        return default


async def _relay(websocket: web.WebSocketResponse, service: AppService) -> None:
    """What the browser sends, to the app (textual-serve's ``Server._process_messages``)."""
    async for message in websocket:
        if message.type != WSMsgType.TEXT:
            continue
        try:
            envelope = json.loads(message.data)
        except ValueError:
            continue
        if not isinstance(envelope, list) or not envelope:
            continue
        kind = envelope[0]
        data = envelope[1] if len(envelope) > 1 else None
        if kind == "stdin" and isinstance(data, str):
            await service.send_bytes(data.encode("utf-8"))
        elif kind == "resize" and isinstance(data, dict):
            await service.set_terminal_size(_int(str(data.get("width")), 80), _int(str(data.get("height")), 24))
        elif kind == "ping":
            await websocket.send_json(["pong", data])
        elif kind == "blur":
            await service.blur()
        elif kind == "focus":
            await service.focus()


async def serve(web_app: WorkshopWeb, host: str, port: int,
                on_ready: Callable[[int], None] | None = None, stop: asyncio.Event | None = None) -> None:
    """Serve until ``stop`` is set (or forever); ``on_ready`` gets the bound port (``port`` 0: a free one)."""
    runner = web.AppRunner(web_app.app(), access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        bound = sockets[0].getsockname()[1] if sockets else port
        if on_ready is not None:
            on_ready(bound)
        await (stop or asyncio.Event()).wait()
    finally:
        await runner.cleanup()
