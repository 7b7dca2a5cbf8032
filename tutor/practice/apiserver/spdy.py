"""Provides the server side of a SPDY/3.1 session, as far as Kubernetes' streaming protocols use it.

kubectl's streams (``port-forward`` above all) run over SPDY/3.1 as moby/spdystream speaks it, either on a
connection upgraded with ``Upgrade: SPDY/3.1`` or tunnelled in the binary messages of a WebSocket
(``SPDY/3.1+portforward.k8s.io``, kubernetes/client-go ``tools/portforward/tunneling_connection.go``). The
session here is the peer spdystream expects: the client opens streams (``SYN_STREAM``, odd ids), the server
answers each with ``SYN_REPLY``, data flows in data frames, ``FIN`` half-closes a direction, ``RST_STREAM`` drops
a stream, a ``PING`` from the client is echoed, ``GOAWAY`` ends the session. spdystream keeps no flow-control
windows (it ignores ``WINDOW_UPDATE`` and ``SETTINGS``), so neither does this.

Header blocks are zlib streams, one per direction for the whole session, primed with the SPDY/3 dictionary
and sync-flushed after each block. No maintained Python SPDY library exists on PyPI (``spdy-py`` 0.2.0, 2021, is
a client experiment), so this is written from the protocol: "SPDY Protocol - Draft 3.1" (Chromium, section 2.2
frames, 2.6 control frames, 2.6.10.1 the compression dictionary) and moby/spdystream ``spdy/read.go``,
``spdy/write.go``, ``connection.go`` (what the client sends and what it accepts).
"""

from __future__ import annotations

import asyncio
import logging
import struct
import zlib
from collections.abc import Awaitable, Callable
from typing import Protocol

log = logging.getLogger(__name__)

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
RST_PROTOCOL_ERROR, RST_CANCEL = 1, 5
MAX_DATA = 32 * 1024
"""The largest data frame written (spdystream reads any up to 16 MiB)."""

_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age "
    "allow authorization cache-control connection content-base content-encoding content-language content-length "
    "content-location content-md5 content-range content-type date etag expect expires from host if-match "
    "if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status|200 OK|version|HTTP/1.1|url public set-cookie "
    "keep-alive origin"
)
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)


def _dictionary() -> bytes:
    """The SPDY/3 header compression dictionary (draft 3.1, section 2.6.10.1): length-prefixed words, then text."""
    words: list[str] = []  # between '|' marks: one entry with its space ("200 OK")
    for index, part in enumerate(_WORDS.split("|")):
        words += [part] if index % 2 else part.split()
    return b"".join(struct.pack(">I", len(w)) + w.encode() for w in words) + _TAIL.encode()


DICTIONARY = _dictionary()


class ProtocolError(Exception):
    """A frame the session cannot read: the session ends."""


class Transport(Protocol):
    """A byte stream under the session: a hijacked connection, or a WebSocket's binary messages."""

    async def read(self) -> bytes:
        """The next bytes; ``b""`` at the end."""
        ...

    async def write(self, data: bytes) -> None: ...

    async def close(self) -> None: ...


def encode_headers(headers: dict[str, list[str]]) -> bytes:
    """A header block: the number of pairs, then each lower-case name and its values joined by NUL."""
    out = [struct.pack(">I", len(headers))]
    for name, values in headers.items():
        key, value = name.lower().encode(), "\0".join(values).encode()
        out += [struct.pack(">I", len(key)), key, struct.pack(">I", len(value)), value]
    return b"".join(out)


def decode_headers(block: bytes) -> dict[str, list[str]]:
    """The header block of a ``SYN_STREAM`` (names lower-cased, values split at NUL).

    Raises:
        ProtocolError: a block that ends early.
    """
    try:
        (count,), at = struct.unpack_from(">I", block), 4
        headers: dict[str, list[str]] = {}
        for _ in range(count):
            (size,) = struct.unpack_from(">I", block, at)
            name = block[at + 4:at + 4 + size].decode("utf-8", "replace").lower()
            at += 4 + size
            (size,) = struct.unpack_from(">I", block, at)
            value = block[at + 4:at + 4 + size]
            if len(value) != size:
                raise ProtocolError("header block ends early")
            at += 4 + size
            headers.setdefault(name, []).extend(value.decode("utf-8", "replace").split("\0"))
        return headers
    except struct.error as error:
        raise ProtocolError(f"header block ends early: {error}") from None


class Stream:
    """One SPDY stream the client opened: its headers, what it sent, and the server's side of it."""

    def __init__(self, session: Session, stream_id: int, headers: dict[str, list[str]]) -> None:
        self.session = session
        self.id = stream_id
        self.headers = headers
        self._incoming: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.remote_closed = False
        self.local_closed = False
        self.reset_by_peer = False

    def header(self, name: str) -> str:
        """The first value of a header, ``""`` when it is absent (``http.Header.Get``)."""
        values = self.headers.get(name.lower())
        return values[0] if values else ""

    async def reply(self) -> None:
        """``SYN_REPLY`` with no headers: the stream is accepted (spdystream's client waits for it)."""
        await self.session.send_control(SYN_REPLY, 0, struct.pack(">I", self.id), headers={})

    async def read(self) -> bytes:
        """The next data the client sent; ``b""`` once it half-closed or reset the stream."""
        if self.remote_closed and self._incoming.empty():
            return b""
        data = await self._incoming.get()
        if data is None:
            self.remote_closed = True
            return b""
        return data

    async def write(self, data: bytes) -> None:
        for start in range(0, len(data), MAX_DATA):
            await self.session.send_data(self.id, data[start:start + MAX_DATA], fin=False)

    async def close(self) -> None:
        """Half-close the server's direction (an empty data frame with ``FIN``), once."""
        if not self.local_closed and not self.reset_by_peer:
            self.local_closed = True
            await self.session.send_data(self.id, b"", fin=True)

    async def reset(self, status: int = RST_CANCEL) -> None:
        if not self.reset_by_peer:
            self.local_closed = True
            await self.session.send_control(RST_STREAM, 0, struct.pack(">II", self.id, status))
            self._remote_end()

    def _feed(self, data: bytes) -> None:
        self._incoming.put_nowait(data)

    def _remote_end(self) -> None:
        self._incoming.put_nowait(None)


class Session:
    """The server's side of one SPDY/3.1 session; ``on_stream(stream)`` runs for each stream the client opens."""

    def __init__(self, transport: Transport, on_stream: Callable[[Stream], Awaitable[None]]) -> None:
        self.transport = transport
        self.on_stream = on_stream
        self.streams: dict[int, Stream] = {}
        self._buffer = bytearray()
        self._deflate = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, 15, zdict=DICTIONARY)
        self._inflate = zlib.decompressobj(zdict=DICTIONARY)
        self._write_lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self.closed = False

    # ---- writing -------------------------------------------------------------------------------
    async def send_control(self, kind: int, flags: int, body: bytes, *, headers: dict[str, list[str]] | None = None
                           ) -> None:
        async with self._write_lock:  # the header compressor's state follows the order frames leave in
            if headers is not None:
                body += self._deflate.compress(encode_headers(headers)) + self._deflate.flush(zlib.Z_SYNC_FLUSH)
            frame = struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(body)) + body
            await self._write(frame)

    async def send_data(self, stream_id: int, data: bytes, *, fin: bool) -> None:
        async with self._write_lock:
            flags = FLAG_FIN if fin else 0
            await self._write(struct.pack(">II", stream_id & 0x7FFFFFFF, (flags << 24) | len(data)) + data)

    async def _write(self, frame: bytes) -> None:
        if self.closed:
            raise ConnectionResetError("the SPDY session is closed")
        await self.transport.write(frame)

    # ---- reading -------------------------------------------------------------------------------
    async def _read_exactly(self, size: int) -> bytes | None:
        while len(self._buffer) < size:
            chunk = await self.transport.read()
            if not chunk:
                return None
            self._buffer += chunk
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out

    async def serve(self) -> None:
        """Read frames until the client goes away (EOF or ``GOAWAY``); then end every stream."""
        try:
            while True:
                head = await self._read_exactly(8)
                if head is None:
                    break
                first, second = struct.unpack(">II", head)
                flags, length = second >> 24, second & 0xFFFFFF
                body = await self._read_exactly(length)
                if body is None:
                    break
                if first & 0x80000000:
                    if not await self._control((first & 0xFFFF), flags, body):
                        break
                else:
                    self._data(first & 0x7FFFFFFF, flags, body)
        except (ProtocolError, zlib.error) as error:
            log.info("SPDY session ended: %s", error)
        except (ConnectionError, OSError):
            pass
        finally:
            self.closed = True
            for stream in self.streams.values():
                stream._remote_end()
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            await self.transport.close()

    async def _control(self, kind: int, flags: int, body: bytes) -> bool:
        """Handle one control frame; False ends the session."""
        if kind == SYN_STREAM:
            if len(body) < 10:
                raise ProtocolError("short SYN_STREAM")
            stream_id = struct.unpack_from(">I", body)[0] & 0x7FFFFFFF
            block = self._inflate.decompress(body[10:])
            stream = Stream(self, stream_id, decode_headers(block))
            if stream_id == 0 or stream_id in self.streams or stream_id % 2 == 0:
                await self.send_control(RST_STREAM, 0, struct.pack(">II", stream_id, RST_PROTOCOL_ERROR))
                return True
            self.streams[stream_id] = stream
            if flags & FLAG_FIN:
                stream._remote_end()
            task = asyncio.get_running_loop().create_task(self._run(stream))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        elif kind == RST_STREAM:
            stream_id = struct.unpack_from(">I", body)[0] & 0x7FFFFFFF
            found = self.streams.pop(stream_id, None)
            if found is not None:
                found.reset_by_peer = True
                found._remote_end()
        elif kind == PING:
            (ping_id,) = struct.unpack_from(">I", body)
            if ping_id % 2 == 1:  # the client's ping (odd ids): echo it (spdystream handlePingFrame)
                await self.send_control(PING, 0, body[:4])
        elif kind == GOAWAY:
            return False
        elif kind == HEADERS:
            self._inflate.decompress(body[4:])  # keeps the decompressor in step; the headers are not used
        return True  # SETTINGS, WINDOW_UPDATE and unknown types are ignored, as spdystream does

    def _data(self, stream_id: int, flags: int, data: bytes) -> None:
        stream = self.streams.get(stream_id)
        if stream is None:
            return  # a stream already gone
        if data:
            stream._feed(data)
        if flags & FLAG_FIN:
            stream._remote_end()

    async def _run(self, stream: Stream) -> None:
        try:
            await self.on_stream(stream)
        except (ConnectionError, OSError):
            pass

    def forget(self, stream: Stream) -> None:
        self.streams.pop(stream.id, None)
