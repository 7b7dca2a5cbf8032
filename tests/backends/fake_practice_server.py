"""A stand-in for the practice cluster's server process, for the backend's health tests.

``python -m tests.backends.fake_practice_server DIR --mode MODE`` makes the cluster's credentials in
``DIR/pki`` (as the server does), listens on 127.0.0.1 with TLS and writes ``DIR/server.json``, then answers the
health endpoints as the server side of issue 9 does:

- ``ok``: ``/livez``, ``/readyz`` and ``/readyz/etcd`` answer 200 ``ok``;
- ``failing``: the storage fails: ``/livez`` 200 ``ok``, ``/readyz`` 500, and ``/readyz/etcd`` 500
  ``internal server error: <reason>``, as kube-apiserver's healthz ``adaptCheckToHandler`` answers a failing
  check (``http.Error``: the text and a newline; staging/src/k8s.io/apiserver/pkg/server/healthz/healthz.go);
- ``busy``: as ``ok``, but nothing is answered before ``--busy`` seconds after the first request: a blocked
  event loop (one thread: every request waits);
- ``hung``: connections are never accepted, so nothing is ever answered.

Its command line names ``DIR``, as the real server's does, so the backend takes it for the server of ``DIR``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import ssl
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

from tutor.kube.files import atomic_write
from tutor.practice.apiserver.tls import ensure_credentials


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--mode", choices=["ok", "failing", "busy", "hung"], default="ok")
    parser.add_argument("--reason", default="cannot write state.db: attempt to write a readonly database")
    parser.add_argument("--busy", type=float, default=2.0)
    args = parser.parse_args()
    busy_until: list[float] = []
    credentials = ensure_credentials(args.directory / "pki")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(credentials.server_cert, credentials.server_key)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if args.mode == "busy":
                busy_until.append(time.monotonic() + args.busy)
                time.sleep(max(0.0, busy_until[0] - time.monotonic()))  # the simulated busy loop (noqa: sleep-ok)
            failing = args.mode == "failing"
            if self.path in ("/livez", "/healthz"):
                self.answer(200, "ok")
            elif self.path == "/readyz":
                self.answer(500, "[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n") if failing \
                    else self.answer(200, "ok")
            elif self.path == "/readyz/etcd":
                self.answer(500, f"internal server error: {args.reason}\n") if failing else self.answer(200, "ok")
            else:
                self.answer(404, "404 page not found\n")

        def answer(self, code: int, text: str) -> None:
            body = text.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *values: object) -> None:  # noqa: A002 - http.server's name
            pass

    if args.mode == "hung":
        listener = socket.create_server(("127.0.0.1", 0))  # listens, never accepts: no TLS handshake ends
        port = listener.getsockname()[1]
        write_info(args.directory, port)
        while True:
            time.sleep(3600)  # a hung process: nothing to do until SIGTERM (noqa: sleep-ok)
    server = HTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    write_info(args.directory, server.server_address[1])
    server.serve_forever()


def write_info(directory: Path, port: int) -> None:
    info = {"pid": os.getpid(), "port": port, "time_scale": 20.0, "kubeconfig": str(directory / "kubeconfig"),
            "started": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    atomic_write(directory / "server.json", json.dumps(info).encode())


if __name__ == "__main__":
    main()
