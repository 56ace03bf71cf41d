"""Plain text for character-level language models: a user's file or Python's own source.

Nothing is downloaded. :func:`python_source_text` reads the ``.py`` files of the
standard library of the running Python (found through :mod:`sysconfig`), in a
fixed order, so the same Python gives the same text. :func:`read_text_file` reads
one UTF-8 file and says precisely why a file is unusable. Both return ``str`` with
newlines normalised to ``"\\n"`` (as Python's text mode does).

:func:`split_text` cuts a text (or its encoding) into a contiguous training part
and a validation part after it: windows cut from each part separately never
share a character, unlike windows drawn from the whole text and then shuffled
into train and validation.
"""

from __future__ import annotations

import os
import stat
import sysconfig
from pathlib import Path
from typing import Any

import numpy as np

from dltoys.utils import as_array, check_float, check_int

#: Folders under the standard library path that hold no standard-library code.
_SKIPPED_FOLDERS = frozenset({"site-packages", "dist-packages", "__pycache__"})


#: The default largest file :func:`read_text_file` reads (100 MB: ~90 times tiny Shakespeare).
MAX_TEXT_BYTES = 100_000_000


def read_text_file(path: str | os.PathLike, *, max_bytes: int | None = MAX_TEXT_BYTES) -> str:
    """Read a UTF-8 text file, with a clear error for anything that is not one.

    Parameters
    ----------
    path : str or os.PathLike
        The file to read: a regular file (FIFOs, devices such as ``/dev/zero``
        and sockets are refused before anything is read, so nothing hangs).
    max_bytes : int or None, default 100_000_000
        Refuse larger files (None: no limit). At most ``max_bytes + 1`` bytes
        are ever read, even if the file grows while it is read.

    Returns
    -------
    str
        The text, newlines normalised to ``"\\n"``, without a leading byte-order mark.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    IsADirectoryError
        If ``path`` is a directory.
    ValueError
        If the file is not a regular file, is larger than ``max_bytes``, is
        empty, binary (contains a NUL byte; the message gives its byte offset)
        or not valid UTF-8 (the message gives the offset of the first bad byte).
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path: expected a str or os.PathLike, received {type(path).__name__}")
    if max_bytes is not None:
        max_bytes = check_int("max_bytes", max_bytes, minimum=1)
    file = Path(path)
    if not file.exists():
        raise FileNotFoundError(f"path: no such text file: {str(file)!r}")
    if file.is_dir():
        raise IsADirectoryError(f"path: expected a text file, received a directory: {str(file)!r}")
    # O_NONBLOCK: opening a FIFO without a writer would otherwise block forever. The check
    # that it is a regular file is made on the open descriptor (no swap between check and read).
    fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as handle:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise ValueError(f"path: {str(file)!r} is not a regular file (a FIFO, device or socket); refused")
        raw = handle.read() if max_bytes is None else handle.read(max_bytes + 1)
    if max_bytes is not None and len(raw) > max_bytes:
        raise ValueError(
            f"path: {str(file)!r} is larger than max_bytes={max_bytes:,}; pass a larger max_bytes "
            "(or None) to read it"
        )
    text, problem = _decode(raw)
    if problem is not None:
        raise ValueError(f"path: {str(file)!r} {problem}")
    return text


def python_source_text(
    max_chars: int | None = 1_000_000,
    *,
    root: str | os.PathLike | None = None,
) -> str:
    """The standard library's own ``.py`` files, concatenated: a corpus that is always there.

    Parameters
    ----------
    max_chars : int or None
        Stop once this many characters are read (the last file is cut); ``None``
        reads every file (tens of MB).
    root : str or os.PathLike, optional
        Folder to read instead of the standard library (``sysconfig.get_paths()["stdlib"]``).

    Returns
    -------
    str
        The files' texts one after another, in the order of their paths relative
        to ``root`` (sorted as strings with ``/`` separators), newlines
        normalised. Files that are not valid UTF-8 or that contain NUL bytes are
        skipped, and so are ``site-packages``, ``dist-packages`` and ``__pycache__``
        folders (third-party code and byte code).

    Raises
    ------
    FileNotFoundError
        If ``root`` is not a directory.
    ValueError
        If no usable ``.py`` file is found.

    Notes
    -----
    The text depends on the Python version (its standard library), and is
    identical from run to run for a given installation.
    """
    if max_chars is not None:
        max_chars = check_int("max_chars", max_chars, minimum=1)
    folder = Path(sysconfig.get_paths()["stdlib"] if root is None else root)
    if not folder.is_dir():
        raise FileNotFoundError(f"root: expected a directory of .py files, received {str(folder)!r}")
    pieces: list[str] = []
    n_chars = 0
    for file in _python_files(folder):
        text, problem = _decode(file.read_bytes())
        if problem is not None:
            continue
        pieces.append(text)
        n_chars += len(text)
        if max_chars is not None and n_chars >= max_chars:
            break
    if not pieces:
        raise ValueError(f"root: no readable UTF-8 .py file under {str(folder)!r}")
    corpus = "".join(pieces)
    return corpus if max_chars is None else corpus[:max_chars]


def split_text(data: Any, val_fraction: float = 0.1) -> tuple[Any, Any]:
    """Cut a text, or its encoding, into a leading training part and a trailing validation part.

    Parameters
    ----------
    data : str or array_like of shape (L,)
        The whole text, or its character ids.
    val_fraction : float
        Share of the end of ``data`` kept for validation, in [0, 1).

    Returns
    -------
    train : str or ndarray of shape (L - n_val,)
        ``data[:L - n_val]``.
    val : str or ndarray of shape (n_val,)
        ``data[L - n_val:]``, with ``n_val = round(val_fraction * L)``.

    Notes
    -----
    The parts are contiguous, so ``train + val == data``. Cut training windows
    from ``train`` and validation windows from ``val`` (e.g. with
    :func:`dltoys.data.lm_windows`): no window then overlaps the other part.
    """
    val_fraction = check_float("val_fraction", val_fraction, low=0.0, high=1.0, high_inclusive=False)
    if not isinstance(data, str):
        data = as_array("data", data)
        if data.ndim != 1:
            raise ValueError(f"data: expected a str or a 1-D array, received shape {data.shape}")
    if len(data) == 0:
        raise ValueError("data: expected a non-empty text, received an empty one")
    n_train = len(data) - int(np.floor(val_fraction * len(data) + 0.5))
    return data[:n_train], data[n_train:]


def _decode(raw: bytes) -> tuple[str, str | None]:
    """Decode UTF-8 bytes; return ``(text, None)`` or ``("", what is wrong)``."""
    if not raw:
        return "", "is empty"
    nul = raw.find(b"\x00")
    if nul >= 0:
        return "", f"looks binary: it contains a NUL byte at byte offset {nul}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return "", (
            f"is not valid UTF-8: {exc.reason} at byte offset {exc.start} "
            f"(byte 0x{raw[exc.start]:02x})"
        )
    if text.startswith("\ufeff"):
        text = text[1:]
        if not text:
            return "", "holds no text, only a byte-order mark"
    return text.replace("\r\n", "\n").replace("\r", "\n"), None


def _python_files(folder: Path) -> list[Path]:
    """All ``.py`` files below ``folder`` outside skipped folders, in sorted relative-path order."""
    found: list[tuple[str, Path]] = []
    for directory, subfolders, files in os.walk(folder):
        subfolders[:] = [name for name in subfolders if name not in _SKIPPED_FOLDERS]
        for name in files:
            if name.endswith(".py"):
                path = Path(directory, name)
                found.append((path.relative_to(folder).as_posix(), path))
    return [path for _, path in sorted(found)]
