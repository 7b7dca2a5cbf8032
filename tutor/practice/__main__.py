"""Provides ``python -m tutor.practice serve DIR``: the practice cluster's server process."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from tutor.practice.cluster import serve


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tutor.practice")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run a practice cluster in the foreground")
    run.add_argument("directory", type=Path)
    run.add_argument("--time-scale", type=float, default=1.0)
    run.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    try:
        asyncio.run(serve(args.directory, time_scale=args.time_scale, port=args.port))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
