"""Provides ``pods/portforward`` as kubectl 1.37 speaks it: SPDY/3.1 tunnelled through a WebSocket.

kubectl (client-go ``tools/portforward``: ``tunneling_dialer.go``, ``fallback_dialer.go``) first asks for a
WebSocket with the subprotocol ``SPDY/3.1+portforward.k8s.io``; the apiserver's ``TunnelingHandler``
(kubernetes/apiserver ``pkg/util/proxy/streamtunnel.go``) accepts it and carries the SPDY session of the
``portforward.k8s.io`` protocol in binary messages. When that upgrade fails (or ``KUBECTL_PORT_FORWARD_WEBSOCKETS
=false``) kubectl falls back to a plain ``Upgrade: SPDY/3.1`` request, answered with ``101`` and the same session
on the connection itself (kubernetes/apimachinery ``pkg/util/httpstream/spdy/upgrade.go``,
``pkg/util/httpstream/httpstream.go`` ``Handshake``: ``X-Stream-Protocol-Version``).

In the session (kubernetes/kubernetes ``pkg/kubelet/cri/streaming/portforward/httpstream.go``) each local
connection opens two streams, ``streamType: error`` then ``streamType: data``, both with the remote ``port`` and
the same ``requestID``. Once both are there, the pod's port is dialled and the data stream carries the
connection (each connection looks at the pod as it is then: a pod that has stopped refuses, a pod that is gone
has no sandbox); a failure is written on the error stream, worded as containerd 2.x's CRI ``PortForward``
(containerd ``internal/cri/server/sandbox_portforward_linux.go``) wrapped by the kubelet's ``error forwarding port
%d to pod %s, uid %v: %v`` (the pod named by its sandbox id, the uid empty: the CRI path has none).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import uuid

from aiohttp import WSMsgType, web

from tutor.practice.apiserver import errors, spdy
from tutor.practice.apiserver.proxy import Network
from tutor.practice.apiserver.store import Obj, Store

PROTOCOL = "portforward.k8s.io"
"""``PortForwardProtocolV1Name``."""
TUNNEL_PREFIX = "SPDY/3.1+"
"""``WebsocketsSPDYTunnelingPrefix`` (kubernetes/apimachinery ``pkg/util/portforward/constants.go``)."""
STOP_GRACE = 1.0
"""containerd waits this long for the second direction once the first has ended."""
_PATH = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods/(?P<name>[^/]+)/portforward/?$")
SESSIONS = web.AppKey("portforward_sessions", set)
"""The sessions under way in an application: :func:`close_sessions` ends them when the server shuts down."""


def match(path: str) -> tuple[str, str] | None:
    """``(namespace, name)`` of a ``pods/portforward`` path."""
    m = _PATH.match(path)
    return (m["ns"], m["name"]) if m else None


def sandbox_id(pod: Obj) -> str:
    """The pod's sandbox id as containerd names it (64 hex digits), stable for the pod."""
    return hashlib.sha256(f"sandbox/{pod['metadata'].get('uid', '')}".encode()).hexdigest()


def netns_path(pod: Obj) -> str:
    """The CNI network namespace of the pod's sandbox: ``/var/run/netns/cni-<uuid>``."""
    digest = hashlib.sha256(f"netns/{pod['metadata'].get('uid', '')}".encode()).digest()
    return f"/var/run/netns/cni-{uuid.UUID(bytes=digest[:16])}"


def refused(pod: Obj, port: int) -> str:
    """What the error stream carries when nothing listens on ``port`` in the pod."""
    sandbox = sandbox_id(pod)
    inner = (f'failed to connect to localhost:{port} inside namespace "{sandbox}", '
             f"IPv4: dial tcp4 127.0.0.1:{port}: connect: connection refused "
             f"IPv6 dial tcp6 [::1]:{port}: connect: connection refused ")
    return (f"error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward in network "
            f'namespace "{netns_path(pod)}": {inner}')


def gone(pod: Obj, port: int) -> str:
    """What the error stream carries once the pod, and so its sandbox, is gone: the session was opened to that
    pod, and the kubelet's forwarder asks the runtime for its sandbox on every connection."""
    sandbox = sandbox_id(pod)
    return f'error forwarding port {port} to pod {sandbox}, uid : failed to find sandbox "{sandbox}" in store: not found'


class _WebSocketTransport:
    """The byte stream of a WebSocket's binary messages (``TunnelingConnection``)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws

    async def read(self) -> bytes:
        while True:
            message = await self.ws.receive()
            if message.type == WSMsgType.BINARY:
                if message.data:
                    return bytes(message.data)
                continue
            return b""  # a close, an error, or a text message ("invalid message type received")

    async def write(self, data: bytes) -> None:
        await self.ws.send_bytes(data)

    async def close(self) -> None:
        await self.ws.close()


class _Forwarder:
    """The kubelet's ``httpStreamHandler`` for one session: pairs streams by ``requestID`` and forwards each pair."""

    def __init__(self, store: Store, network: Network, pod: Obj) -> None:
        self.store = store
        self.network = network
        self.pod = pod
        self.pairs: dict[str, dict[str, spdy.Stream]] = {}

    async def on_stream(self, stream: spdy.Stream) -> None:
        port_text = stream.header("port")
        stream_type = stream.header("streamType")
        valid = port_text.isdigit() and 0 < int(port_text) < 65536 and stream_type in ("error", "data")
        if not valid:  # httpStreamReceived refuses the stream: it is reset, never replied to
            await stream.reset(spdy.RST_PROTOCOL_ERROR)
            return
        await stream.reply()
        request_id = stream.header("requestID") or str(stream.id)
        pair = self.pairs.setdefault(request_id, {})
        pair[stream_type] = stream
        if len(pair) == 2:
            del self.pairs[request_id]
            await self._forward(pair["error"], pair["data"], int(port_text))

    def _current(self) -> Obj | None:
        """The session's pod as it is now (None once it is gone, or replaced by another of the same name)."""
        meta = self.pod["metadata"]
        now = self.store.get("pods", meta["namespace"], meta["name"])
        return now if now is not None and now["metadata"].get("uid") == meta.get("uid") else None

    async def _forward(self, error: spdy.Stream, data: spdy.Stream, port: int) -> None:
        try:
            pod = self._current()
            if pod is None:
                await error.write(gone(self.pod, port).encode())
                return
            try:
                reader, writer = await self.network.dial(pod, port)
            except ConnectionRefusedError:
                await error.write(refused(self.pod, port).encode())
                return
            try:
                await self._copy(data, reader, writer)
            finally:
                writer.close()
        finally:
            for stream in (data, error):
                try:
                    await stream.close()
                except (ConnectionError, OSError):
                    pass
                data.session.forget(stream)

    @staticmethod
    async def _copy(data: spdy.Stream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def inbound() -> None:  # io.Copy(conn, stream)
            while chunk := await data.read():
                writer.write(chunk)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        async def outbound() -> None:  # io.Copy(stream, conn)
            while chunk := await reader.read(64 * 1024):
                await data.write(chunk)

        tasks = [asyncio.ensure_future(inbound()), asyncio.ensure_future(outbound())]
        try:
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if pending:
                await asyncio.wait(pending, timeout=STOP_GRACE)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


async def serve(request: web.Request, store: Store, network: Network, namespace: str, name: str
                ) -> web.StreamResponse:
    """Answer a ``pods/portforward`` request: the upgraded session, or the apiserver's error before it.

    Raises:
        errors.ApiError: a method other than GET or POST, a missing pod, a pod without a node, a request that is
            not an upgrade (``PortForwardLocation``, the ``UpgradeAwareHandler``).
    """
    if request.method not in ("GET", "POST"):
        raise errors.MethodNotAllowed("the server does not allow this method on the requested resource")
    pod = store.get("pods", namespace, name)
    if pod is None:
        raise errors.not_found("pods", "", name)
    if not pod["spec"].get("nodeName"):
        raise errors.BadRequest(f"pod {name} does not have a host assigned")
    upgrade = request.headers.get("Upgrade", "").lower()
    if upgrade == "spdy/3.1" and "upgrade" in request.headers.get("Connection", "").lower():
        return await _serve_spdy(request, _Forwarder(store, network, pod))
    if upgrade != "websocket":
        raise errors.BadRequest("Upgrade request required")
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
    wanted = TUNNEL_PREFIX + PROTOCOL
    if wanted not in offered:
        return web.Response(status=400, text="unable to upgrade: no tunneling spdy protocols provided\n",
                            content_type="text/plain")
    ws = web.WebSocketResponse(protocols=(wanted,), autoping=True, max_msg_size=0)
    await ws.prepare(request)
    forwarder = _Forwarder(store, network, pod)
    await _run(request, spdy.Session(_WebSocketTransport(ws), forwarder.on_stream))
    return ws


async def _run(request: web.Request, session: spdy.Session) -> None:
    sessions = request.app.get(SESSIONS)
    if sessions is not None:
        sessions.add(session)
    try:
        await session.serve()
    finally:
        if sessions is not None:
            sessions.discard(session)


def install(app: web.Application) -> None:
    """Track the application's sessions and end them when it shuts down (kubectl sees ``lost connection``)."""
    app[SESSIONS] = set()
    app.on_shutdown.append(close_sessions)


async def close_sessions(app: web.Application) -> None:
    for session in list(app.get(SESSIONS) or ()):
        await session.transport.close()


class _UpgradedTransport:
    """The connection itself after ``101 Switching Protocols``: aiohttp hands what it receives to :meth:`feed_data`
    (in place of a WebSocket reader), and what the session writes goes straight to the socket."""

    def __init__(self, request: web.Request) -> None:
        assert request.transport is not None
        self.transport = request.transport
        self.protocol = request.protocol
        self._incoming: asyncio.Queue[bytes] = asyncio.Queue()

    # the payload parser aiohttp feeds (``RequestHandler.set_parser``)
    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        self._incoming.put_nowait(bytes(data))
        return False, b""

    def feed_eof(self) -> None:
        self._incoming.put_nowait(b"")

    async def read(self) -> bytes:
        if self.transport.is_closing() and self._incoming.empty():
            return b""
        return await self._incoming.get()

    async def write(self, data: bytes) -> None:
        if self.transport.is_closing():
            raise ConnectionResetError("the connection is closed")
        self.transport.write(data)
        await self.protocol._drain_helper()

    async def close(self) -> None:
        self.transport.close()
        self.feed_eof()


async def _serve_spdy(request: web.Request, forwarder: _Forwarder) -> web.StreamResponse:
    """A plain SPDY/3.1 upgrade: ``101`` with the negotiated protocol, then the session on the connection."""
    offered = [p.strip() for p in ",".join(request.headers.getall("X-Stream-Protocol-Version", [])).split(",")
               if p.strip()]
    if not offered:  # httpstream.Handshake, answered by the kubelet with http.Error
        return web.Response(status=400, text="unable to upgrade: X-Stream-Protocol-Version is required\n")
    if PROTOCOL not in offered:
        return web.Response(status=403, headers={"X-Accepted-Stream-Protocol-Versions": PROTOCOL},
                            text=f"unable to upgrade: unable to negotiate protocol: client supports "
                                 f"[{' '.join(offered)}], server accepts [{PROTOCOL}]\n")
    transport = _UpgradedTransport(request)
    request.protocol.set_parser(transport)  # type: ignore[arg-type]  # before the 101: nothing is parsed as HTTP
    response = web.StreamResponse(status=101, headers={
        "Connection": "Upgrade", "Upgrade": "SPDY/3.1", "X-Stream-Protocol-Version": PROTOCOL})
    await response.prepare(request)
    await _run(request, spdy.Session(transport, forwarder.on_stream))
    return response
