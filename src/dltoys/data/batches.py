"""The one minibatch iterator of dltoys.

:class:`Minibatches` walks one or several aligned arrays (aligned along the
first axis: inputs, targets, masks, ...) in batches. Each pass over it is one
epoch; with ``shuffle=True`` every pass draws a fresh permutation from the
generator it was given, so a seed fixes the whole sequence of epochs.

Memory: the data set is never copied. Without shuffling a batch is a slice
(a view); with shuffling only the batch's rows are gathered, and the one
per-epoch allocation is the permutation (8 bytes a row). Data stay in their
stored dtype (uint8 pixels, int64 token ids): layers cast their inputs batch by
batch (``dltoys.nn.as_float_input``), so a 1M x 50 uint8 set costs 50 MB, not
200 MB of float32.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

import numpy as np

from ..utils import RngLike, as_array, as_rng, check_bool, check_int


class Minibatches:
    """Batches of aligned arrays, re-iterable: each ``for`` loop over it is one epoch.

    Parameters
    ----------
    *arrays : array_like, each of shape (n_samples, ...)
        One or more arrays with the same length along the first axis. ndarrays
        (and ``np.memmap``) are used as they are, without a copy.
    batch_size : int or None, default 32
        Rows per batch; ``None`` gives the whole set as one batch (full-batch
        training). A final short batch is kept unless ``drop_last``.
    shuffle : bool, default False
        Visit the rows in a new random order every epoch.
    rng : int, numpy.random.Generator or None
        Source of the permutations (used only with ``shuffle``). An int seed or
        a Generator makes every epoch's order reproducible; the generator
        advances one permutation per epoch.
    drop_last : bool, default False
        Drop the final batch when it is shorter than ``batch_size``.
    names : sequence of str, optional
        Names of the arrays for error messages (default ``arrays[0]``, ...).

    Yields
    ------
    tuple of ndarray
        One entry per array, each of shape (batch, ...) and in the array's own
        dtype; always a tuple, also for a single array (``for (x,) in ...``).

    Examples
    --------
    >>> x, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> batches = Minibatches(x, y, batch_size=2, shuffle=True, rng=0)
    >>> len(batches)
    3
    >>> for xb, yb in batches:   # one epoch
    ...     pass
    """

    def __init__(
        self,
        *arrays: Any,
        batch_size: int | None = 32,
        shuffle: bool = False,
        rng: RngLike = None,
        drop_last: bool = False,
        names: Sequence[str] | None = None,
    ):
        if not arrays:
            raise TypeError("Minibatches: expected at least one array, received none")
        if names is None:
            names = [f"arrays[{index}]" for index in range(len(arrays))]
        elif len(names) != len(arrays):
            raise ValueError(f"Minibatches: names has {len(names)} entries for {len(arrays)} arrays")
        self.names = tuple(names)
        self.arrays = tuple(as_array(name, array) for name, array in zip(self.names, arrays))
        for name, array in zip(self.names, self.arrays):
            if array.ndim == 0:
                raise ValueError(f"{name}: expected an array with a first (sample) axis, received a scalar")
        lengths = [len(array) for array in self.arrays]
        if len(set(lengths)) > 1:
            described = ", ".join(f"{name} has {length}" for name, length in zip(self.names, lengths))
            raise ValueError(f"Minibatches: the arrays must have the same number of rows; {described}")
        self.n_samples = lengths[0]
        if self.n_samples == 0:
            raise ValueError(f"Minibatches: {', '.join(self.names)} hold no samples (0 rows)")
        if batch_size is None:
            batch_size = self.n_samples
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.drop_last = check_bool("drop_last", drop_last)
        if self.drop_last and self.batch_size > self.n_samples:
            raise ValueError(
                f"batch_size: {self.batch_size} is larger than the {self.n_samples} samples, so "
                "drop_last=True would leave no batch at all (use a smaller batch_size or drop_last=False)"
            )
        self.shuffle = check_bool("shuffle", shuffle)
        self.rng = as_rng(rng) if self.shuffle else None

    def __len__(self) -> int:
        """Batches per epoch."""
        full, rest = divmod(self.n_samples, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def batch_indices(self) -> Iterator[slice | np.ndarray]:
        """One epoch of row selections: slices in order, or index arrays when shuffling.

        Use it to batch something that is not an array (a list of graphs)
        with the same order as the arrays.
        """
        n_batches = len(self)
        if not self.shuffle:
            for index in range(n_batches):
                start = index * self.batch_size
                yield slice(start, min(start + self.batch_size, self.n_samples))
            return
        order = self.rng.permutation(self.n_samples)  # (n_samples,) the epoch's only allocation
        for index in range(n_batches):
            start = index * self.batch_size
            yield order[start : start + self.batch_size]

    def __iter__(self) -> Iterator[tuple[np.ndarray, ...]]:
        for rows in self.batch_indices():
            yield tuple(array[rows] for array in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{name}{tuple(array.shape)}" for name, array in zip(self.names, self.arrays))
        return (
            f"Minibatches({shapes}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
            f"drop_last={self.drop_last}, batches={len(self)})"
        )
