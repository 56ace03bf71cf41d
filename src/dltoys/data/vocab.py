"""Characters to integer ids and back, and next-character training windows."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from dltoys.utils import as_array, check_int


class CharVocab:
    """A character vocabulary: the sorted distinct characters of a text.

    Parameters
    ----------
    text : str
        Any text; its distinct characters, sorted by code point, get the ids
        ``0 .. len(vocab) - 1``. ``CharVocab(vocab.chars, unknown=vocab.unknown)``
        rebuilds the same vocabulary (store ``chars`` with a checkpoint).
    unknown : str, optional
        One placeholder character (e.g. ``"\\ufffd"``), added to the vocabulary.
        ``encode`` maps every character outside the vocabulary to it. Without it
        (the default), ``encode`` raises on such characters.

    Attributes
    ----------
    chars : str
        The vocabulary, ``chars[i]`` is the character of id ``i``.
    unknown : str or None
    unknown_id : int or None
        Id of ``unknown``.

    Notes
    -----
    Encoding and decoding are vectorised: the text's code points come from one
    UTF-32 encode and index a table from code point to id (at most 0x110000
    entries, 4.4 MB).
    """

    def __init__(self, text: str, *, unknown: str | None = None) -> None:
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, received {type(text).__name__}")
        if unknown is not None and not (isinstance(unknown, str) and len(unknown) == 1):
            raise ValueError(f"unknown: expected None or a single character, received {unknown!r}")
        distinct = set(text) | ({unknown} if unknown is not None else set())
        if not distinct:
            raise ValueError("text: expected at least one character, received an empty text")
        self.chars = "".join(sorted(distinct))
        self.unknown = unknown
        self._code_points = _code_points(self.chars)  # (V,) sorted, uint32
        self._id_of = np.full(int(self._code_points[-1]) + 1, -1, dtype=np.int32)  # code point -> id
        self._id_of[self._code_points] = np.arange(len(self.chars))
        self.unknown_id = None if unknown is None else self.chars.index(unknown)

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"CharVocab({len(self)} characters, unknown={self.unknown!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CharVocab):
            return NotImplemented
        return self.chars == other.chars and self.unknown == other.unknown

    def encode(self, text: str) -> np.ndarray:
        """Turn a text into its ids.

        Parameters
        ----------
        text : str

        Returns
        -------
        ndarray of shape (len(text),), int64

        Raises
        ------
        ValueError
            If ``text`` holds characters outside the vocabulary and no ``unknown``
            placeholder was set; the message names the first one and its position.
        """
        if not isinstance(text, str):
            raise TypeError(f"text: expected a str, received {type(text).__name__}")
        points = _code_points(text)  # (L,)
        in_table = points < len(self._id_of)
        ids = self._id_of[np.where(in_table, points, 0)].astype(np.int64)  # (L,), -1 if unknown
        known = in_table & (ids >= 0)  # (L,)
        if not known.all():
            if self.unknown_id is None:
                missing = np.flatnonzero(~known)
                position = int(missing[0])
                raise ValueError(
                    f"text: {len(missing)} character(s) are not in the vocabulary, the first "
                    f"{text[position]!r} at position {position}; build the vocabulary with "
                    "unknown=<a placeholder character> to map them to it"
                )
            ids[~known] = self.unknown_id
        return ids

    def decode(self, ids: Any) -> str:
        """Turn ids of shape (L,) back into a text; ``decode(encode(s)) == s``."""
        ids = as_array("ids", ids)
        if ids.ndim != 1:
            raise ValueError(f"ids: expected a 1-D array of shape (L,), received shape {ids.shape}")
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids: expected integer ids, received dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            bad = ids[(ids < 0) | (ids >= len(self))][0]
            raise ValueError(f"ids: expected ids in [0, {len(self) - 1}], received {bad}")
        points = self._code_points[ids.astype(np.intp)]  # (L,)
        return points.astype("<u4").tobytes().decode("utf-32-le", "surrogatepass")


def lm_windows(ids: Any, seq_len: int, *, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cut a sequence of ids into next-character prediction examples.

    Parameters
    ----------
    ids : array_like of shape (L,)
        One contiguous piece of encoded text (a training or a validation part).
    seq_len : int
        Length ``T`` of each window.
    stride : int, optional
        Offset between consecutive windows; defaults to ``seq_len`` (windows that
        do not overlap).

    Returns
    -------
    inputs : ndarray of shape (N, T)
        ``inputs[i] = ids[i * stride : i * stride + T]``.
    targets : ndarray of shape (N, T)
        ``targets[i] = ids[i * stride + 1 : i * stride + T + 1]``: the character
        following each input character. ``N = (L - T - 1) // stride + 1``.

    Notes
    -----
    Both are read-only views into ``ids`` (no copy); indexing a minibatch copies
    just that batch.
    """
    ids = as_array("ids", ids)
    if ids.ndim != 1:
        raise ValueError(f"ids: expected a 1-D array of shape (L,), received shape {ids.shape}")
    seq_len = check_int("seq_len", seq_len, minimum=1)
    stride = seq_len if stride is None else check_int("stride", stride, minimum=1)
    if len(ids) < seq_len + 1:
        raise ValueError(
            f"seq_len: expected at most len(ids) - 1 = {len(ids) - 1} so that one window and "
            f"its next character fit, received {seq_len}"
        )
    windows = sliding_window_view(ids, seq_len + 1)[::stride]  # (N, T + 1)
    return windows[:, :-1], windows[:, 1:]


def _code_points(text: str) -> np.ndarray:
    """Unicode code points of a str as uint32, shape (len(text),)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4").astype(np.uint32)
