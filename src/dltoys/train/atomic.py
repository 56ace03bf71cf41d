"""Durable, atomic file writes: a temporary file in the same directory, fsync, rename.

A reader never sees a half-written file: the new file replaces the old one only
once it is completely on disk, and a save killed half-way leaves the old file
intact. Temporaries of dead writers are removed by the next write to the same path.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path
from typing import Any, Callable

#: A temporary older than this is stale even if its process id runs again (ids get reused).
STALE_TEMPORARY_SECONDS = 3600.0


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); harmless to skip where unsupported."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: assume it is writing
    return True


def _remove_stale_temporaries(path: Path) -> list[Path]:
    """Delete temporaries of ``path`` left by a save whose process died (killed, power cut).

    A temporary ``.<name>.<pid>-<hex>.tmp`` is stale when process ``pid`` no
    longer runs, or when it is older than :data:`STALE_TEMPORARY_SECONDS`
    (process ids get reused). Temporaries of running writers are left alone,
    so two processes saving into one directory never delete each other's file.
    """
    pattern = re.compile(r"\." + re.escape(path.name) + r"\.(?:(\d+)-)?[0-9a-f]+\.tmp")
    removed = []
    try:
        candidates = list(path.parent.iterdir())
    except OSError:
        return removed
    now = time.time()
    for candidate in candidates:
        match = pattern.fullmatch(candidate.name)
        if match is None:
            continue
        pid = int(match.group(1)) if match.group(1) else None
        try:
            age = now - candidate.lstat().st_mtime
        except OSError:
            continue
        if pid == os.getpid() and age < STALE_TEMPORARY_SECONDS:
            continue  # another thread of this process may be writing it
        dead = pid is None or not _process_alive(pid)
        if dead or age > STALE_TEMPORARY_SECONDS:
            try:
                candidate.unlink()
                removed.append(candidate)
            except OSError:
                pass
    return removed


def _write_atomically(path: Path, write: Callable[[Any], None]) -> None:
    directory = path.parent
    _remove_stale_temporaries(path)
    while True:  # a fresh name in the same directory (same file system: the rename is atomic)
        temporary = directory / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
        try:
            # 0o666 filtered by the umask: the file gets the permissions any new file would.
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise
    _fsync_directory(directory)
