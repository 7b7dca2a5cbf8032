"""Provides ClusterWatch: a live, event-driven cache of the lesson namespace's objects.

Each kind is listed, then watched from the list's resourceVersion (the informer protocol), with kube-tutor's
kubeconfig, over one HTTP client:

- When that kubeconfig's user is a bearer token and its cluster an HTTPS server with its CA (the practice cluster's
  admin, every workshop seat, an existing cluster's seat), the client speaks to the API server itself: no process.
- Otherwise (client certificates as kind writes them, exec plugins, several kubeconfig files) one ``kubectl proxy``
  serves the API on a unix socket of the watch's own (in a 0700 directory) and does the authentication, so every
  cluster kubectl can reach is watched alike.

A workshop seat's TUI used to keep six ``kubectl get --raw ...?watch`` processes of about 50 MB each.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import os
import shutil
import ssl
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from tutor import shell

log = logging.getLogger(__name__)

KINDS: dict[str, str] = {
    "deployments": "/apis/apps/v1/namespaces/{ns}/deployments",
    "replicasets": "/apis/apps/v1/namespaces/{ns}/replicasets",
    "pods": "/api/v1/namespaces/{ns}/pods",
    "services": "/api/v1/namespaces/{ns}/services",
    "endpoints": "/api/v1/namespaces/{ns}/endpoints",
    "events": "/api/v1/namespaces/{ns}/events",
}
WATCH_SECONDS = 240
RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0)
PROXY_START_SECONDS = 15.0
"""How long a list waits for the proxy's socket before it counts as a failure (and is retried)."""


class WatchError(Exception):
    """The cluster (or the proxy before it) did not answer a list or a watch; the message says what it said."""


class Direct:
    """How to reach the API server without kubectl: its URL, a bearer token, and a TLS context trusting its CA."""

    def __init__(self, server: str, token: str, tls: ssl.SSLContext) -> None:
        self.server, self.token, self.tls = server.rstrip("/"), token, tls


def direct_access(env: Mapping[str, str]) -> Direct | None:
    """The server, token and CA of the kubeconfig ``env`` names, when it is one file whose current user is only a
    token (``token`` or ``tokenFile``) and whose cluster is HTTPS with its CA (data or file, or the system's when it
    names none); None for anything else (kubectl then authenticates: ``kubectl proxy``)."""
    files = [part for part in env.get("KUBECONFIG", "").split(":") if part]
    if len(files) != 1:
        return None
    try:
        config = yaml.safe_load(Path(files[0]).read_text(encoding="utf-8"))
        context = next(c["context"] for c in config["contexts"] if c["name"] == config["current-context"])
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == context["user"])
        base = Path(files[0]).parent
        if set(user) - {"token", "tokenFile"} or not str(cluster.get("server", "")).startswith("https://"):
            return None
        if cluster.get("insecure-skip-tls-verify") or cluster.get("proxy-url") or cluster.get("tls-server-name"):
            return None
        token = user.get("token") or (base / user["tokenFile"]).read_text(encoding="utf-8").strip()
        tls = ssl.create_default_context()
        if cluster.get("certificate-authority-data"):
            tls.load_verify_locations(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode("ascii"))
        elif cluster.get("certificate-authority"):
            tls.load_verify_locations(cafile=str(base / cluster["certificate-authority"]))
        return Direct(str(cluster["server"]), str(token), tls) if token else None
    except (OSError, ValueError, KeyError, TypeError, StopIteration, AttributeError, yaml.YAMLError, ssl.SSLError):
        return None


class ClusterWatch:
    """Keeps ``snapshot()`` current; sets ``changed`` after every change."""

    def __init__(self, kubectl: str, env: Mapping[str, str], namespace: str) -> None:
        self.kubectl = kubectl
        self.env = dict(env)
        self.namespace = namespace
        self._objects: dict[str, dict[str, dict[str, Any]]] = {kind: {} for kind in KINDS}
        self._synced: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.changed = asyncio.Event()
        self._subscribers: list[asyncio.Event] = []
        self.error: str | None = None
        """The last error reaching the cluster, None while it answers."""
        self._direct: Direct | None = None
        self._directory: Path | None = None
        self._socket: Path | None = None
        self._session: aiohttp.ClientSession | None = None
        self._proxy_error: str | None = None

    @property
    def synced(self) -> bool:
        """True once every kind has been listed at least once."""
        return len(self._synced) == len(KINDS)

    def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every object per kind, by name."""
        return {kind: [objs[name] for name in sorted(objs)] for kind, objs in self._objects.items()}

    async def start(self) -> None:
        """Start the informers, and the proxy where kubectl must authenticate (once; a second call does nothing)."""
        if self._tasks:
            return
        loop = asyncio.get_running_loop()
        self._direct = direct_access(self.env)
        if self._direct is None:
            self._directory = Path(tempfile.mkdtemp(prefix="kube-tutor-watch-"))  # 0700: the socket is ours alone
            self._socket = self._directory / "api.sock"
            self._tasks.append(loop.create_task(self._proxy()))
        for kind in KINDS:
            self._tasks.append(loop.create_task(self._informer(kind)))

    async def wait_synced(self, timeout: float) -> bool:
        """Wait until every kind was listed once; False at the deadline."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self.synced:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), remaining)
        return True

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=5)
        self._tasks.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def subscribe(self) -> asyncio.Event:
        """An event of one's own, set after every change (each consumer clears its own)."""
        event = asyncio.Event()
        self._subscribers.append(event)
        return event

    def unsubscribe(self, event: asyncio.Event) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(event)

    def _notify(self) -> None:
        self.changed.set()
        for event in self._subscribers:
            event.set()

    async def _proxy(self) -> None:
        """``kubectl proxy`` on the socket, started again (after a pause) whenever it ends."""
        assert self._socket is not None
        failures = 0
        while True:
            try:
                self._socket.unlink(missing_ok=True)
                async for _ in shell.stream_lines([self.kubectl, "proxy", f"--unix-socket={self._socket}"], self.env):
                    failures = 0  # "Starting to serve on ...": it runs
                self._proxy_error = "kubectl proxy ended"
            except shell.ShellError as error:  # kubectl's own words: a bad kubeconfig, an expired credential
                self._proxy_error = str(error)
            failures += 1
            await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])

    async def _client(self) -> aiohttp.ClientSession:
        """The HTTP client: to the API server itself, or on the proxy's socket once the socket is there."""
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=WATCH_SECONDS + 60)
        if self._direct is not None:
            if self._session is None or self._session.closed:
                self._session = aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(ssl=self._direct.tls), read_bufsize=1 << 20, timeout=timeout,
                    headers={"Authorization": f"Bearer {self._direct.token}", "Accept": "application/json"})
            return self._session
        assert self._socket is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + PROXY_START_SECONDS
        while not self._socket.exists():
            if loop.time() > deadline:
                raise WatchError(self._proxy_error or "kubectl proxy did not start")
            await asyncio.sleep(0.02)  # waiting for kubectl to create its socket (noqa: sleep-ok)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.UnixConnector(path=str(self._socket)), read_bufsize=1 << 20,  # lines to 2 MiB
                timeout=timeout)
        return self._session

    async def _get(self, path: str) -> aiohttp.ClientResponse:
        """GET ``path`` through the proxy; an answer that is not 200 is a WatchError with what it said."""
        client = await self._client()
        base = self._direct.server if self._direct is not None else "http://localhost"
        try:
            response = await client.get(f"{base}{path}")
        except aiohttp.ClientError as error:
            if self._direct is not None:
                number = error.os_error.errno if isinstance(error, aiohttp.ClientConnectorError) else None
                raise WatchError(f"cannot reach {base}: {os.strerror(number) if number else error}") from error
            raise WatchError(self._proxy_error or f"kubectl proxy: {error}") from error
        if response.status != 200:
            async with response:
                raise WatchError(_said(await response.read(), response.status))
        return response

    async def _informer(self, kind: str) -> None:
        path = KINDS[kind].format(ns=self.namespace)
        failures = 0
        while True:
            try:
                async with await self._get(path) as listed:
                    data = json.loads(await listed.read())
                self._objects[kind] = {o["metadata"]["name"]: _with_kind(o, data) for o in data.get("items") or []}
                rv = data.get("metadata", {}).get("resourceVersion", "")
                self._synced.add(kind)
                self.error = None
                failures = 0
                self._notify()
                query = f"?watch=true&allowWatchBookmarks=true&timeoutSeconds={WATCH_SECONDS}&resourceVersion={rv}"
                async with await self._get(path + query) as watching:
                    while line := await watching.content.readline():
                        if not line.strip():
                            continue
                        event = json.loads(line)
                        kind_of_event = event.get("type")
                        obj = event.get("object") or {}
                        if kind_of_event == "ERROR":
                            break  # e.g. 410 Gone: list again
                        name = (obj.get("metadata") or {}).get("name")
                        if kind_of_event == "BOOKMARK" or not name:
                            continue
                        if kind_of_event == "DELETED":
                            self._objects[kind].pop(name, None)
                        else:
                            self._objects[kind][name] = obj
                        self._notify()
            except asyncio.CancelledError:
                raise
            except (WatchError, aiohttp.ClientError, TimeoutError, ValueError, KeyError) as error:
                self.error = str(error) or type(error).__name__
                failures += 1
                self._notify()
                await asyncio.sleep(RETRY_SECONDS[min(failures, len(RETRY_SECONDS)) - 1])


def _said(body: bytes, status: int) -> str:
    """What an answer that is not 200 says: a Status's message, else the proxy's text (its last line)."""
    text = body.decode("utf-8", errors="replace").strip()
    with contextlib.suppress(ValueError, AttributeError):
        message = json.loads(text).get("message")
        if message:
            return str(message)
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else f"HTTP {status}"


def _with_kind(obj: dict[str, Any], listing: dict[str, Any]) -> dict[str, Any]:
    """List items come without kind/apiVersion; fill them in from the list's kind."""
    if "kind" not in obj and listing.get("kind", "").endswith("List"):
        obj = dict(obj, kind=listing["kind"][: -len("List")], apiVersion=listing.get("apiVersion", ""))
    return obj
