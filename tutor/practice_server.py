"""Provides ``python -m tutor.practice_server serve DIR``: the practice cluster's process, with containers.

The composition root of the practice cluster's server process: :mod:`tutor.practice` may not start processes
(``tests/test_layering.py``), so this module hands it the container runtime of :mod:`tutor.shell`
(:class:`tutor.shell.ContainerShell`) and runs :func:`tutor.practice.__main__.main`. ``python -m tutor.practice
serve`` still runs a cluster without a runtime (its containers cannot start processes).
"""

from __future__ import annotations

import sys

from tutor.practice.__main__ import main as practice_main
from tutor.shell import ContainerShell


def main(argv: list[str] | None = None) -> int:
    return practice_main(argv, runtime=ContainerShell(), prog="python -m tutor.practice_server")


if __name__ == "__main__":
    sys.exit(main())
