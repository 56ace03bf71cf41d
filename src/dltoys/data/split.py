"""Random train / validation / test splits of aligned arrays, optionally stratified."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from dltoys.utils import RngLike, as_array, as_rng, check_float


class Split(NamedTuple):
    """The three parts of a split, each a tuple of arrays in the order given.

    ``X_train, y_train = split.train`` (and ``split.val``, ``split.test``).
    """

    train: tuple[np.ndarray, ...]
    val: tuple[np.ndarray, ...]
    test: tuple[np.ndarray, ...]


def train_val_test_split(
    *arrays: Any,
    fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
    stratify: Any = None,
    rng: RngLike = None,
) -> Split:
    """Split aligned arrays into random train, validation and test parts.

    Parameters
    ----------
    *arrays : array_like, each of shape (N, ...)
        Arrays whose rows belong together (features, labels, ...).
    fractions : (float, float, float)
        Shares of the rows for train, validation and test; each >= 0, train > 0,
        summing to 1. A share may be 0 (that part is then empty).
    stratify : array_like of shape (N,), optional
        Class labels: each class is split in the given fractions on its own, so
        every part keeps the class proportions (up to rounding per class).
    rng : int, numpy.random.Generator or None
        Source of randomness.

    Returns
    -------
    Split
        A named tuple ``(train, val, test)``; each is a tuple with one array per
        input, rows in random order, ``split.train[k]`` of shape
        ``(n_train, ...)`` taken from ``arrays[k]``.

    Notes
    -----
    A group of ``m`` rows (the whole data set, or one class when stratifying) is
    shuffled and cut at ``round(m f_train)`` and ``round(m (f_train + f_val))``,
    so the three counts always add up to ``m`` and every row lands in exactly
    one part.
    """
    if not arrays:
        raise TypeError("arrays: expected at least one array to split, received none")
    arrays = tuple(as_array(f"arrays[{k}]", a) for k, a in enumerate(arrays))
    for k, a in enumerate(arrays):
        if a.ndim == 0:
            raise ValueError(f"arrays[{k}]: expected an array with a first (row) axis, received a scalar")
    n_rows = len(arrays[0])
    if n_rows == 0:
        raise ValueError("arrays[0]: expected at least one row, received an empty array")
    for k, a in enumerate(arrays[1:], start=1):
        if len(a) != n_rows:
            raise ValueError(
                f"arrays[{k}]: expected {n_rows} rows like arrays[0], received {len(a)}"
            )
    f_train, f_val, _ = _check_fractions(fractions)
    generator = as_rng(rng)

    if stratify is None:
        groups = np.zeros(n_rows, dtype=np.int64)
    else:
        groups = as_array("stratify", stratify)
        if groups.shape != (n_rows,):
            raise ValueError(
                f"stratify: expected labels of shape ({n_rows},), received shape {groups.shape}"
            )
    permutation = generator.permutation(n_rows)  # (N,)
    # Group the shuffled rows by class (stable, so random within each class) and
    # rank each row inside its class.
    order = np.argsort(groups[permutation], kind="stable")  # (N,)
    _, group_start, group_size = np.unique(groups[permutation][order], return_index=True, return_counts=True)
    group_of = np.repeat(np.arange(len(group_size)), group_size)  # (N,)
    rank = np.arange(n_rows) - group_start[group_of]  # (N,)
    size = group_size[group_of]  # (N,)
    cut_val = np.floor(f_train * size + 0.5)  # (N,) first rank going to validation
    cut_test = np.floor((f_train + f_val) * size + 0.5)  # (N,) first rank going to test
    part = (rank >= cut_val).astype(np.int64) + (rank >= cut_test)  # (N,) 0 train, 1 val, 2 test

    parts = []
    for p in range(3):
        # Sorting the positions in the permutation undoes the grouping by class,
        # so each part comes out in random order.
        rows = permutation[np.sort(order[part == p])]
        parts.append(tuple(a[rows] for a in arrays))
    return Split(*parts)


def _check_fractions(fractions: Any) -> tuple[float, float, float]:
    try:
        values = tuple(fractions)
    except TypeError:
        raise TypeError(f"fractions: expected three numbers (train, val, test), received {fractions!r}") from None
    if len(values) != 3:
        raise ValueError(f"fractions: expected three numbers (train, val, test), received {fractions!r}")
    names = ("fractions[0] (train)", "fractions[1] (val)", "fractions[2] (test)")
    f_train, f_val, f_test = (check_float(n, v, low=0.0, high=1.0) for n, v in zip(names, values))
    if f_train == 0:
        raise ValueError(f"fractions: expected a train share > 0, received {fractions!r}")
    if abs(f_train + f_val + f_test - 1.0) > 1e-9:
        raise ValueError(f"fractions: expected shares summing to 1, received {fractions!r} (sum {f_train + f_val + f_test:g})")
    return f_train, f_val, f_test
