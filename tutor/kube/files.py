"""Provides atomic file writes (a reader sees the old file or the new one, never half of one) and private files:
directories 0700 and files 0600 whatever the umask, since kube-tutor's state holds credentials."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` through a temporary file, fsync and rename, then fsync the directory.

    Every call writes its own temporary file (``mkstemp`` in the same directory), so two writers of the
    same path at once never share a temporary name: the last rename wins and the file is always whole.
    The file's data is on disk before the rename, and the rename is on disk before this returns.

    Args:
        path: the destination; its directory is created if needed (0700, see :func:`private_dir`).
        data: the whole new content.
        mode: permissions of the new file.
    """
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_directory(path.parent)


def fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_dir(path: Path) -> Path:
    """Create ``path`` and each missing parent as 0700, whatever the umask (``mkdir``'s mode is masked by it).

    Directories that exist already are left as they are (a parent may be the learner's own, like
    ``~/.local/state``); :func:`make_private` tightens one kube-tutor owns.

    Returns:
        ``path``.
    """
    missing: list[Path] = []
    current = path
    while not current.is_dir() and current != current.parent:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        try:
            directory.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            if not directory.is_dir():
                raise
            continue  # made by another process meanwhile: theirs to set
        os.chmod(directory, PRIVATE_DIR_MODE)
    return path


def make_private(path: Path) -> None:
    """Take the group's and others' permissions off an existing file or directory that kube-tutor owns, and off
    everything under it (0755 becomes 0700, 0644 becomes 0600, an executable 0700 stays). Symbolic links are
    not followed; a file that vanishes meanwhile is skipped."""
    def tighten(entry: str | os.PathLike[str]) -> None:
        try:
            mode = os.lstat(entry).st_mode
            if mode & 0o077 and not stat.S_ISLNK(mode):
                os.chmod(entry, stat.S_IMODE(mode) & ~0o077)
        except FileNotFoundError:
            pass

    if not path.exists():
        return
    tighten(path)
    if path.is_dir() and not path.is_symlink():
        for root, directories, files in os.walk(path):
            for name in (*directories, *files):
                tighten(os.path.join(root, name))


def open_private(path: Path) -> int:
    """Open ``path`` for appending (created 0600, an existing file made 0600 too, whatever the umask); its
    directory is created 0700 when missing.

    Returns:
        The file descriptor (not inherited by child processes unless passed to them).
    """
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE_MODE)
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE)
    except PermissionError:
        pass  # another user's file that we may append to: not ours to change
    return fd
