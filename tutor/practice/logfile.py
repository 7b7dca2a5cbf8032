"""Provides the practice cluster's log file (``cluster.log``): rotated by size, 0600, bounded even when it cannot
be rotated.

The server logs through :class:`LogFile`, a :class:`logging.handlers.RotatingFileHandler`. With ``own_stdio``,
the process's stdout and stderr (file descriptors 1 and 2) follow the current file: whatever escapes logging (a
C-level message, a traceback ``logging`` prints when a handler fails, a crash) lands in the same file, in order,
and rotates with it. Before logging is set up, the parent already sent both to that file
(``tutor.shell.spawn_daemon``), so a crash at start is there too, and there is one file to read, never a second
one that grows unrotated.

When the file cannot be rotated (a read-only or full directory), it keeps growing to twice its limit, then
messages are dropped, counted, until a rotation works; the first message after says how many were dropped and
why. So a failing storage that logs on and on can never fill the disk through the log.
"""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from pathlib import Path

from tutor.kube.files import open_private

MAX_BYTES = 5 * 1024 * 1024
"""Size at which ``cluster.log`` is rotated."""
BACKUPS = 3
"""Rotated files kept: ``cluster.log.1`` (newest) to ``cluster.log.3``."""
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LogFile(logging.handlers.RotatingFileHandler):
    """A rotating log file whose files are 0600 whatever the umask.

    Args:
        path: the log file.
        max_bytes: rotate before the file would reach this size.
        backups: how many rotated files to keep.
        own_stdio: make file descriptors 1 and 2 append to the current file (a server process only: a test
            or a program with a terminal keeps its own).
    """

    def __init__(self, path: Path, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS,
                 own_stdio: bool = False) -> None:
        self.own_stdio = own_stdio
        self.dropped = 0
        """Messages dropped since the file could not be rotated."""
        self.rotate_error = ""
        """Why the last rotation failed; empty once one worked."""
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8", errors="backslashreplace")
        self._follow()

    def _open(self) -> io.TextIOWrapper:
        return open(open_private(Path(self.baseFilename)), "a", encoding=self.encoding,  # noqa: SIM115
                    errors=self.errors)

    def _follow(self) -> None:
        if self.own_stdio and self.stream is not None:
            self.stream.flush()
            for descriptor in (1, 2):
                os.dup2(self.stream.fileno(), descriptor)

    def doRollover(self) -> None:  # noqa: N802 - logging's name
        super().doRollover()
        self._follow()

    def _size(self) -> int:
        stream = self.stream
        if stream is None:
            return 0
        stream.seek(0, os.SEEK_END)
        return int(stream.tell())

    def emit(self, record: logging.LogRecord) -> None:
        try:
            if self.shouldRollover(record):
                try:
                    self.doRollover()
                except OSError as error:
                    if not self._unrotated(record, error):
                        return
                else:
                    self._rotated()
            logging.FileHandler.emit(self, record)
        except Exception:  # noqa: BLE001 - logging's own contract: a failing handler reports, never raises
            self.handleError(record)

    def _unrotated(self, record: logging.LogRecord, error: OSError) -> bool:
        """The file could not be rotated: True when the record may still be written, False when it is dropped."""
        reason = f"{error.strerror or error}: {getattr(error, 'filename', None) or self.baseFilename}"
        if self.stream is None:
            self.stream = self._open()  # the rotation closed it first; appending to the old file still works
            self._follow()
        if reason != self.rotate_error:
            self.rotate_error = reason
            self._note(f"cannot rotate {self.baseFilename} ({reason}): it grows to {2 * self.maxBytes} bytes, then "
                       f"messages are dropped until it can be rotated")
        if self._size() + len(self.format(record)) + 1 >= 2 * self.maxBytes:
            self.dropped += 1
            return False
        return True

    def _rotated(self) -> None:
        if self.dropped:
            self._note(f"{self.dropped} messages were dropped while {self.baseFilename} could not be rotated "
                       f"({self.rotate_error})")
        self.dropped = 0
        self.rotate_error = ""

    def _note(self, message: str) -> None:
        """One line of this handler's own, in the log's format."""
        assert self.stream is not None
        record = logging.LogRecord(__name__, logging.WARNING, __file__, 0, message, None, None)
        self.stream.write(self.format(record) + self.terminator)
        self.stream.flush()


def setup(path: Path | None, *, own_stdio: bool = True) -> logging.Handler:
    """Send the process's logging (INFO and up, warnings included) to ``path``, or to stderr when None.

    Returns:
        The handler installed on the root logger.
    """
    handler: logging.Handler = LogFile(path, own_stdio=own_stdio) if path is not None else logging.StreamHandler()
    handler.setFormatter(logging.Formatter(FORMAT))
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    logging.captureWarnings(True)
    return handler
