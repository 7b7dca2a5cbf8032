"""Provides ``python -m tutor.practice serve DIR``: the practice cluster's server process.

Everything the server creates is private to its user whatever the umask it was started with (directories 0700,
files 0600: the state holds the cluster's token and key). With ``--log-file`` it logs to that file, rotated by
size, and its stdout and stderr follow the file (:mod:`tutor.practice.logfile`); without, it logs to stderr.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

from tutor.practice import logfile
from tutor.practice.cluster import MAX_PODS, serve
from tutor.practice.node.runtime import ContainerRuntime


def _pods(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: list[str] | None = None, *, runtime: ContainerRuntime | None = None,
         prog: str = "python -m tutor.practice") -> int:
    """Run the server; ``runtime`` starts the containers' processes (without one, none can start)."""
    parser = argparse.ArgumentParser(prog=prog)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run a practice cluster in the foreground")
    run.add_argument("directory", type=Path)
    run.add_argument("--time-scale", type=float, default=1.0)
    run.add_argument("--port", type=int, default=0)
    run.add_argument("--max-pods", type=_pods, default=MAX_PODS,
                     help=f"the node's room for pods, like the kubelet's --max-pods (default {MAX_PODS})")
    run.add_argument("--log-file", type=Path, default=None,
                     help=f"log to this file, rotated at {logfile.MAX_BYTES // (1024 * 1024)} MiB with "
                          f"{logfile.BACKUPS} old files kept, and send stdout and stderr there too "
                          f"(default: log to stderr)")
    args = parser.parse_args(argv)
    os.umask(0o077)  # state.db, its WAL, server.json, kubeconfig: 0600 however the umask was set
    logfile.setup(args.log_file, own_stdio=args.log_file is not None)
    try:
        asyncio.run(serve(args.directory, time_scale=args.time_scale, port=args.port, runtime=runtime,
                          max_pods=args.max_pods))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
