"""Provides the NodePort proxy: each NodePort listens on 127.0.0.1 and forwards to a ready endpoint's app.

The app behind it is the bootcamp app, a Node.js ``http`` server, so the proxy reads requests as Node's
parser (llhttp) does and answers what Node answers: a malformed request line or header, a ``Content-Length``
that is not one decimal number, ``Content-Length`` with ``Transfer-Encoding``, or a transfer coding other than
chunked is ``400 Bad Request`` (and the connection closes); a header block over 16 KiB is ``431``; a header
that does not come within :data:`HEADER_TIMEOUT` is ``408``; an idle keep-alive connection closes after
:data:`KEEP_ALIVE_TIMEOUT`. The app answers as soon as the header is in (``server.js`` reads no body); the body
is then skipped, for at most :data:`HEADER_TIMEOUT`, before the connection takes another request.

Upstream: nodejs/node ``lib/_http_server.js`` (``headersTimeout`` 60 s, ``keepAliveTimeout`` 5 s, the 400, 408
and 431 answers of ``socketOnError``), ``deps/llhttp`` (what is malformed), ``--max-http-header-size`` (16 KiB).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate

from tutor.kube.podutil import is_pod_ready
from tutor.practice.apiserver.storage import StorageFailed
from tutor.practice.apiserver.store import Obj, WatchEvent
from tutor.practice.context import ControllerContext
from tutor.practice.node import registry

log = logging.getLogger(__name__)
HOST = "127.0.0.1"
HEADER_TIMEOUT = 60.0
"""Node's ``server.headersTimeout``: the whole request header must come within it."""
KEEP_ALIVE_TIMEOUT = 5.0
"""Node's ``server.keepAliveTimeout``: how long an idle connection waits for its next request."""
MAX_HEADER_BYTES = 16 * 1024
"""Node's ``--max-http-header-size``."""
MAX_SKIPPED_BODY = 1024 * 1024
"""A longer body is not read: the connection closes after the answer instead."""

_TOKEN = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_TARGET = re.compile(rb"[\x21-\x7e\x80-\xff]+\Z")
_FIELD_VALUE = re.compile(rb"[\t\x20-\x7e\x80-\xff]*\Z")
_REASONS = {400: b"Bad Request", 408: b"Request Timeout", 431: b"Request Header Fields Too Large"}


class Malformed(Exception):
    """A request Node's parser refuses: ``status`` is what it answers."""

    def __init__(self, status: int = 400) -> None:
        super().__init__(status)
        self.status = status


@dataclass
class Head:
    """What the proxy needs of a request header: whether the connection stays open, and the body's framing."""

    keep_alive: bool
    length: int
    chunked: bool


def parse_head(head: bytes) -> Head:
    """Read a request header (request line and fields, without the blank line) as llhttp does.

    Raises:
        Malformed: what Node answers 400 to.
    """
    request_line, *lines = head.split(b"\r\n")
    parts = request_line.split(b" ")
    if len(parts) != 3 or not _TOKEN.match(parts[0]) or not _TARGET.match(parts[1]) \
            or parts[2] not in (b"HTTP/1.0", b"HTTP/1.1"):
        raise Malformed()
    http11 = parts[2] == b"HTTP/1.1"
    lengths: list[bytes] = []
    codings: list[bytes] = []
    connection: list[bytes] = []
    for line in lines:
        name, colon, value = line.partition(b":")
        if not colon or not _TOKEN.match(name):  # an obs-fold continuation line, no colon, a space before it
            raise Malformed()
        value = value.strip(b" \t")
        if not _FIELD_VALUE.match(value):
            raise Malformed()
        key = name.lower()
        if key == b"content-length":
            lengths.append(value)
        elif key == b"transfer-encoding":
            codings += [c.strip().lower() for c in value.split(b",")]
        elif key == b"connection":
            connection += [c.strip().lower() for c in value.split(b",")]
    if len(lengths) > 1 or lengths and not lengths[0].isdigit() or lengths and codings:
        raise Malformed()  # duplicate, not a decimal number (no sign, no spaces), or with Transfer-Encoding
    if lengths and (len(lengths[0]) > 20 or int(lengths[0]) >= 1 << 64):
        raise Malformed()  # llhttp's "Content-Length overflow"
    if codings and codings[-1] != b"chunked":
        raise Malformed()  # a request body must end in chunked
    keep_alive = b"close" not in connection if http11 else b"keep-alive" in connection
    return Head(keep_alive, int(lengths[0]) if lengths else 0, bool(codings))

ServeApp = Callable[[Obj], str | None]
"""``serve(pod)``: the body the app in ``pod`` answers to one request, None when it runs no app."""


async def read_head(reader: asyncio.StreamReader, *, timeout: float, idle: float) -> bytes | None:
    """The next request header (without its blank line), None when the client closes or sends nothing.

    Args:
        reader: The connection.
        timeout: The whole header must come within it.
        idle: How long to wait for its first byte.

    Raises:
        Malformed: 431 for a header over :data:`MAX_HEADER_BYTES`, 408 for one that does not come in time.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        start = await asyncio.wait_for(reader.read(1), min(idle, timeout))
    except TimeoutError:
        return None
    if not start:
        return None
    try:
        rest = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), max(0.0, deadline - loop.time()))
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise Malformed(431) from None
    except TimeoutError:
        raise Malformed(408) from None
    head = start + rest[:-4]
    if len(head) > MAX_HEADER_BYTES:
        raise Malformed(431)
    return head


async def skip_body(reader: asyncio.StreamReader, head: Head, *, timeout: float) -> bool:
    """Read past the body the app did not read; False when the connection cannot take another request."""
    try:
        async with asyncio.timeout(timeout):
            if not head.chunked:
                if head.length:
                    await reader.readexactly(head.length)
                return True
            skipped = 0
            while True:  # chunk-size [; extensions] CRLF, data CRLF; a zero size, trailers, CRLF
                line = await reader.readuntil(b"\r\n")
                size_text = line[:-2].split(b";", 1)[0].strip()
                if not size_text or len(size_text) > 8 or not all(c in b"0123456789abcdefABCDEF" for c in size_text):
                    return False
                size = int(size_text, 16)
                skipped += size
                if skipped > MAX_SKIPPED_BODY:
                    return False
                if size == 0:
                    while (await reader.readuntil(b"\r\n")) != b"\r\n":
                        pass
                    return True
                chunk = await reader.readexactly(size + 2)
                if chunk[-2:] != b"\r\n":
                    return False
    except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return False


class NodePortProxy:
    """Plays kube-proxy for NodePort Services: round-robin over ready, non-terminating endpoints.

    It also serves one pod's app on a loopback port of its own (:meth:`pod_port`): what ``curl localhost:8080``
    reaches inside that pod's containers.
    """

    def __init__(self, ctx: ControllerContext, serve: ServeApp) -> None:
        self.store = ctx.store
        self._serve = serve
        self._servers: dict[int, asyncio.Server] = {}
        self._owners: dict[int, tuple[str, str, int]] = {}  # nodePort -> (namespace, service, port)
        self._pod_servers: dict[str, tuple[int, asyncio.Server]] = {}  # pod uid -> (port, server)
        self._pod_owners: dict[int, tuple[str, str, str]] = {}  # port -> (namespace, pod, uid)
        self._next: dict[tuple[str, str], int] = {}
        self._sockets: dict[int, socket.socket] = {}
        """Listening sockets of NodePorts not served yet: bound the moment their Service is written."""
        self._lock = asyncio.Lock()
        self._pending = False
        self.header_timeout = HEADER_TIMEOUT
        self.keep_alive_timeout = KEEP_ALIVE_TIMEOUT
        self.store.add_listener(self._on_event)

    def _on_event(self, event: WatchEvent) -> None:
        if event.resource.plural == "pods" and event.type == "DELETED":
            served = self._pod_servers.pop(event.obj["metadata"]["uid"], None)
            if served is not None:
                self._pod_owners.pop(served[0], None)
                served[1].close()
        if event.resource.plural == "services":
            # Listen now, in the write that made the port: the kernel queues connections until reconcile serves
            # them, so a Service's NodePort answers as soon as the write that created it has been answered (under
            # load the loop takes seconds to get to reconcile's servers, and a client that looked then fell back).
            for port in self.desired():
                if port not in self._servers and port not in self._sockets:
                    with contextlib.suppress(OSError):  # reconcile says why, with the Service's name
                        self._sockets[port] = self._bind(port)
            if not self._pending:
                self._pending = True
                asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.reconcile()))

    @staticmethod
    def _bind(port: int) -> socket.socket:
        """A non-blocking socket listening on ``HOST:port``, as ``asyncio.start_server`` makes one.

        Raises:
            OSError: the port is taken.
        """
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((HOST, port))
            sock.listen(100)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        return sock

    def desired(self) -> dict[int, tuple[str, str, int]]:
        out: dict[int, tuple[str, str, int]] = {}
        for svc in self.store.list("services"):
            if svc["spec"].get("type") not in ("NodePort", "LoadBalancer"):
                continue
            for port in svc["spec"].get("ports") or []:
                if port.get("nodePort") and port.get("protocol", "TCP") == "TCP":
                    out[port["nodePort"]] = (svc["metadata"]["namespace"], svc["metadata"]["name"], port["port"])
        return out

    async def reconcile(self) -> None:
        """Serve every NodePort of the Services there are, stop serving the others (one reconcile at a time)."""
        self._pending = False
        async with self._lock:
            desired = self.desired()
            for port in list(self._servers):
                if port not in desired:
                    server = self._servers.pop(port)
                    self._owners.pop(port, None)
                    server.close()
            for port in list(self._sockets):
                if port not in desired:
                    self._sockets.pop(port).close()
            for port, owner in desired.items():
                self._owners[port] = owner
                if port in self._servers:
                    continue
                try:
                    sock = self._sockets.pop(port, None) or self._bind(port)
                except OSError as error:
                    log.warning("NodePort %s: cannot listen on %s:%s: %s", owner, HOST, port, error)
                    continue
                self._servers[port] = await asyncio.start_server(self._handle, sock=sock,
                                                                 limit=MAX_HEADER_BYTES + 4)

    async def pod_port(self, pod: Obj) -> int | None:
        """The loopback port serving ``pod``'s own app (None when none of its containers runs one)."""
        if not any(registry.lookup(c.get("image", "")) is not None for c in pod["spec"].get("containers") or []):
            return None
        uid = pod["metadata"]["uid"]
        served = self._pod_servers.get(uid)
        if served is None:
            server = await asyncio.start_server(self._handle, HOST, 0, limit=MAX_HEADER_BYTES + 4)
            port = server.sockets[0].getsockname()[1]
            served = self._pod_servers[uid] = (port, server)
            self._pod_owners[port] = (pod["metadata"]["namespace"], pod["metadata"]["name"], uid)
        return served[0]

    def _backend(self, port: int, *, pick: bool = True) -> Obj | None:
        if port in self._pod_owners:
            namespace, name, uid = self._pod_owners[port]
            pod = self.store.get("pods", namespace, name)
            return pod if pod is not None and pod["metadata"]["uid"] == uid else None
        owner = self._owners.get(port)
        if owner is None:
            return None
        namespace, name, service_port = owner
        svc = self.store.get("services", namespace, name)
        if svc is None:
            return None
        target = None
        for p in svc["spec"].get("ports") or []:
            if p.get("port") == service_port:
                target = p.get("targetPort", p.get("port"))
        selector = svc["spec"].get("selector") or {}
        if not selector:
            return None
        pods = []
        for pod in self.store.list("pods", namespace):
            labels = pod["metadata"].get("labels") or {}
            if any(labels.get(k) != v for k, v in selector.items()):
                continue
            if pod["metadata"].get("deletionTimestamp") or not is_pod_ready(pod):
                continue
            pods.append(pod)
        pods = [p for p in pods if listens(p, target)]
        if not pods:
            return None
        key = (namespace, name)
        index = self._next.get(key, 0) % len(pods)
        if pick:
            self._next[key] = index + 1
        return pods[index]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        port = writer.get_extra_info("sockname")[1]
        if self._backend(port, pick=False) is None:
            reject(writer)  # no ready endpoint: kube-proxy rejects the connection
            writer.close()
            return
        await serve_connection(reader, writer, lambda: self._backend(port), self._serve, self.store.commit,
                               header_timeout=self.header_timeout, keep_alive_timeout=self.keep_alive_timeout)

    def close(self) -> None:
        for server in [*self._servers.values(), *(served for _, served in self._pod_servers.values())]:
            server.close()
        self._servers.clear()
        self._pod_servers.clear()
        for sock in self._sockets.values():
            sock.close()
        self._sockets.clear()


def reject(writer: asyncio.StreamWriter) -> None:
    """Make the coming close a reset, as of a connection kube-proxy rejects."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


async def serve_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, backend: Callable[[], Obj | None],
                           serve: ServeApp, commit: Callable[[], None], *, header_timeout: float = HEADER_TIMEOUT,
                           keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT) -> None:
    """Serve one client connection as the bootcamp app (Node's ``http`` server) until it closes.

    Each request is answered by the app of the pod ``backend()`` names at that moment (a NodePort picks one per
    request; a port-forward or the API server's proxy always the same); when it names none, the connection is
    reset. ``commit`` makes what the app kept (its request count, its log line) durable before it answers.
    """
    try:
        first = True
        while True:
            try:
                head = await read_head(reader, timeout=header_timeout,
                                       idle=header_timeout if first else keep_alive_timeout)
            except Malformed as error:
                writer.write(b"HTTP/1.1 %d %s\r\nConnection: close\r\n\r\n" % (error.status,
                                                                               _REASONS[error.status]))
                await writer.drain()
                break
            if head is None:
                break  # the client closed, or stayed idle
            first = False
            try:
                request = parse_head(head)
            except Malformed:
                writer.write(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
                await writer.drain()
                break
            pod = backend()
            body = serve(pod) if pod is not None else None
            if body is not None:
                try:
                    commit()  # the request count and log line the app kept, before it answers
                except StorageFailed:
                    pass  # logged once by the storage; the app answers from memory as a real one would
            if body is None:
                reject(writer)
                break
            keep_alive = request.keep_alive and (request.chunked or request.length <= MAX_SKIPPED_BODY)
            data = body.encode()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: "
                + formatdate(usegmt=True).encode()
                + b"\r\nConnection: " + (b"keep-alive" if keep_alive else b"close")
                + b"\r\nContent-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
            await writer.drain()
            if not keep_alive or not await skip_body(reader, request, timeout=header_timeout):
                break
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()


def listens(pod: Obj, target: object) -> bool:
    """The bootcamp app listens on 8080 (or a named container port that resolves to it)."""
    for c in pod["spec"].get("containers") or []:
        if registry.lookup(c.get("image", "")) is None:
            continue
        if target == registry.APP_PORT:
            return True
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("containerPort") == registry.APP_PORT:
                return True
    return False
