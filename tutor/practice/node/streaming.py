"""Provides ``pods/exec`` and ``pods/attach`` over WebSocket, as kubectl 1.37 speaks them.

kubectl (client-go ``tools/remotecommand/websocket.go``) upgrades a GET of ``pods/<name>/exec`` to a WebSocket
with the subprotocol ``v5.channel.k8s.io`` (this server also takes ``v4.channel.k8s.io``). Every message is
binary: its first byte is the channel (``0`` stdin, ``1`` stdout, ``2`` stderr, ``3`` error, ``4`` resize, and in
v5 ``255`` the close signal whose second byte names the stream the client closed, its stdin). Resize messages
are ``{"Width": w, "Height": h}``. When the process ends, the error channel carries a ``Status``: ``Success``, or
for an exit code N the kubelet's ``NonZeroExitCode`` (``pkg/kubelet/cri/streaming/remotecommand/exec.go``) whose
message is containerd's ``error executing command [argv], exit code N`` (``internal/cri/server/streaming.go``);
client-go turns it into ``command terminated with exit code N``. A process that cannot start is the kubelet's
``NewInternalError`` of ``error executing command in container: ...``.

Before the upgrade the apiserver's checks answer as ``pkg/registry/core/pod/strategy.go`` ``streamLocation``
does; a container that is not running is the kubelet's ``container not found ("name")`` (a 500 with that text,
which kubectl prints as ``unable to upgrade connection: container not found ("name")``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from tutor.practice.apiserver import errors
from tutor.practice.apiserver.store import Obj
from tutor.practice.node.runtime import ContainerProcess, RuntimeUnavailable

log = logging.getLogger(__name__)

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
OUTPUT_GRACE = 1.0
"""After the process ends, how long its outputs may still take to close (a background child holding them)."""

Start = Callable[[Obj, Obj, list[str], bool, bool], Awaitable[ContainerProcess]]
"""``start(pod, container, argv, tty, stdin)``: the process of an exec."""


def choose_container(pod: Obj, container: str) -> Obj:
    """The container an exec or attach names (``streamLocation`` of ``pkg/registry/core/pod/strategy.go``).

    Raises:
        errors.BadRequest: no container named, and not exactly one; an unknown name; no node yet.
    """
    name = pod["metadata"]["name"]
    containers = pod["spec"].get("containers") or []
    if not container:
        if len(containers) == 1:
            chosen: Obj | None = containers[0]
        elif not containers:
            raise errors.BadRequest(f"a container name must be specified for pod {name}")
        else:
            names = " ".join(c["name"] for c in containers)
            raise errors.BadRequest(f"a container name must be specified for pod {name}, choose one of: [{names}]")
    else:
        every = [*containers, *(pod["spec"].get("initContainers") or []),
                 *(pod["spec"].get("ephemeralContainers") or [])]
        chosen = next((c for c in every if c["name"] == container), None)
        if chosen is None:
            raise errors.BadRequest(f"container {container} is not valid for pod {name}")
    if not pod["spec"].get("nodeName"):
        raise errors.BadRequest(f"pod {name} does not have a host assigned")
    assert chosen is not None
    return chosen


def running(pod: Obj, container: str) -> bool:
    for s in (pod.get("status") or {}).get("containerStatuses") or []:
        if s["name"] == container:
            return "running" in (s.get("state") or {})
    return False


def status_success() -> bytes:
    return json.dumps({"metadata": {}, "status": "Success"}, separators=(",", ":")).encode()


def status_exit(argv: list[str], code: int) -> bytes:
    """The kubelet's status for an exit code (``exec.go``), over containerd's ``CodeExitError`` message."""
    message = f"command terminated with non-zero exit code: error executing command [{' '.join(argv)}], exit code {code}"
    return json.dumps({"metadata": {}, "status": "Failure", "message": message, "reason": "NonZeroExitCode",
                       "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}},
                      separators=(",", ":")).encode()


def status_internal(error: str) -> bytes:
    """``apierrors.NewInternalError(fmt.Errorf("error executing command in container: %v", err))``."""
    cause = f"error executing command in container: {error}"
    return json.dumps({"metadata": {}, "status": "Failure", "message": f"Internal error occurred: {cause}",
                       "reason": "InternalError", "details": {"causes": [{"message": cause}]}, "code": 500},
                      separators=(",", ":")).encode()


def upgrade_required() -> web.Response:
    """What the kubelet's streaming server answers a request that is not an upgrade it speaks."""
    return web.Response(status=400, text="Upgrade request required\n", content_type="text/plain")


async def open_socket(request: web.Request) -> web.WebSocketResponse | None:
    ws = web.WebSocketResponse(protocols=(V5, V4), autoping=True, heartbeat=None, max_msg_size=0)
    if not ws.can_prepare(request).ok:
        return None
    await ws.prepare(request)
    return ws


async def send(ws: web.WebSocketResponse, channel: int, data: bytes) -> None:
    if not ws.closed:
        with contextlib.suppress(ConnectionError, RuntimeError):
            await ws.send_bytes(bytes([channel]) + data)


async def serve_exec(request: web.Request, pod: Obj, container: Obj, argv: list[str], *, tty: bool,
                     stdin: bool, stdout: bool, stderr: bool, start: Start) -> web.StreamResponse:
    ws = await open_socket(request)
    if ws is None:
        return upgrade_required()
    try:
        process = await start(pod, container, argv, tty, stdin)
    except RuntimeUnavailable as error:
        await send(ws, ERROR, status_internal(str(error)))
        await ws.close()
        return ws
    v5 = ws.ws_protocol == V5
    pumps = [asyncio.ensure_future(_pump(ws, process.read_stdout, STDOUT if stdout else None))]
    if not tty:
        pumps.append(asyncio.ensure_future(_pump(ws, process.read_stderr, STDERR if stderr else None)))
    reader = asyncio.ensure_future(_read_client(ws, process, v5=v5))
    waiter = asyncio.ensure_future(process.wait())
    try:
        done, _ = await asyncio.wait({waiter, reader}, return_when=asyncio.FIRST_COMPLETED)
        if waiter not in done:  # the client went away: so does the process
            process.kill()
            return ws
        code = waiter.result()
        await asyncio.wait(pumps, timeout=OUTPUT_GRACE)
        await send(ws, ERROR, status_success() if code == 0 else status_exit(argv, code))
        await ws.close()
        return ws
    finally:
        for task in (*pumps, reader, waiter):
            task.cancel()
        if not waiter.done() or waiter.cancelled():
            process.kill()


async def _pump(ws: web.WebSocketResponse, read: Callable[[], Awaitable[bytes]], channel: int | None) -> None:
    while True:
        data = await read()
        if not data:
            return
        if channel is not None:
            await send(ws, channel, data)


async def _read_client(ws: web.WebSocketResponse, process: ContainerProcess | None, *, v5: bool) -> None:
    """Stdin, resize and close messages, until the client closes the connection."""
    async for message in ws:
        if message.type != WSMsgType.BINARY or not message.data:
            continue
        data: bytes = message.data
        channel, payload = data[0], data[1:]
        if process is None:
            continue
        if channel == STDIN:
            await process.write(payload)
        elif channel == RESIZE:
            try:
                size: Any = json.loads(payload)
                process.resize(int(size.get("Width", 0)), int(size.get("Height", 0)))
            except (ValueError, TypeError, AttributeError):
                continue
        elif channel == CLOSE and v5 and payload[:1] == bytes([STDIN]):
            process.close_stdin()


async def serve_attach(request: web.Request, follow: Callable[[], Awaitable[bytes]]) -> web.StreamResponse:
    """Attach: the container's output as it comes (``follow`` gives the next output, ``b""`` when the container
    stops), until either side ends. Input is not passed on: the bootcamp app reads none."""
    ws = await open_socket(request)
    if ws is None:
        return upgrade_required()
    reader = asyncio.ensure_future(_read_client(ws, None, v5=ws.ws_protocol == V5))
    pump = asyncio.ensure_future(_pump(ws, follow, STDOUT))
    try:
        done, _ = await asyncio.wait({reader, pump}, return_when=asyncio.FIRST_COMPLETED)
        if pump in done:
            await send(ws, ERROR, status_success())
            await ws.close()
    finally:
        reader.cancel()
        pump.cancel()
    return ws
