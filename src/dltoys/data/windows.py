"""Random windows of a long sequence of ids: nanoGPT's batches for a language model."""

from __future__ import annotations

from typing import Any, Iterator

import numpy as np

from ..utils import RngLike, as_rng, check_int


class RandomWindows:
    """Batches of windows at uniformly random offsets, re-iterable: each ``for`` loop is one epoch.

    Parameters
    ----------
    ids : integer array_like of shape (L,)
        The encoded text (a training part).
    block_size : int
        Window length ``T``.
    batch_size : int
        Windows per batch ``B``.
    n_batches : int
        Batches per epoch (an epoch here is a number of optimizer steps, not a pass over the text).
    rng : int, Generator or None
        Source of the offsets; a seed makes every epoch's windows reproducible (the
        generator advances from epoch to epoch, so each epoch draws new windows).

    Yields
    ------
    (x, y) : int64 arrays of shape (B, T)
        ``x = ids[s : s + T]`` and ``y = ids[s + 1 : s + T + 1]`` for each offset ``s``:
        the input and, at every position, the next id.
    """

    def __init__(self, ids: Any, block_size: int, batch_size: int, n_batches: int, rng: RngLike = None):
        self.ids = np.asarray(ids)
        if self.ids.ndim != 1 or not np.issubdtype(self.ids.dtype, np.integer):
            raise ValueError(f"ids: expected a 1-D array of integer ids, received shape {self.ids.shape} and dtype {self.ids.dtype}")
        self.block_size = check_int("block_size", block_size, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.n_batches = check_int("n_batches", n_batches, minimum=1)
        if len(self.ids) < self.block_size + 1:
            raise ValueError(f"ids: {len(self.ids)} ids are too few for a window of block_size + 1 = {self.block_size + 1}")
        self.rng = as_rng(rng)

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        offsets = np.arange(self.block_size + 1)
        for _ in range(self.n_batches):
            starts = self.rng.integers(0, len(self.ids) - self.block_size, self.batch_size)  # (B,)
            windows = self.ids[starts[:, None] + offsets].astype(np.int64, copy=False)  # (B, T + 1)
            yield windows[:, :-1], windows[:, 1:]
