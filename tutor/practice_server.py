"""Provides ``python -m tutor.practice_server serve DIR``: the practice cluster's process, with containers.

The composition root of the practice cluster's server process: :mod:`tutor.practice` may not start processes
(``tests/test_layering.py``), so this module hands it the container runtime of :mod:`tutor.shell`
(:class:`tutor.shell.ContainerShell`) and runs :func:`tutor.practice.__main__.main`. ``python -m tutor.practice
serve`` still runs a cluster without a runtime (its containers cannot start processes).

``--sandbox`` (a workshop's cluster, whose ``kubectl exec`` attendees reach) runs every container process in
bubblewrap (:class:`tutor.shell.ContainerSandbox`), with the cluster's directory and the state directory around
it hidden; the server refuses to start when bubblewrap cannot make a sandbox here, saying why.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tutor.practice.__main__ import main as practice_main
from tutor.shell import ContainerSandbox, ContainerShell, sandbox_ok

SANDBOX_FLAG = "--sandbox"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    runtime = ContainerShell()
    if SANDBOX_FLAG in argv:
        argv.remove(SANDBOX_FLAG)
        ok, reason = sandbox_ok()
        if not ok:
            print(f"python -m tutor.practice_server: {SANDBOX_FLAG}: {reason}", file=sys.stderr)
            return 2
        where = argparse.ArgumentParser(add_help=False)
        where.add_argument("command")
        where.add_argument("directory", type=Path)
        known, _ = where.parse_known_args(argv)
        directory = known.directory.resolve()
        runtime = ContainerShell(ContainerSandbox(hidden=(directory.parent, directory)))
    return practice_main(argv, runtime=runtime, prog="python -m tutor.practice_server")


if __name__ == "__main__":
    sys.exit(main())
