"""XOR and n-bit parity: the function a single-layer network cannot represent.

The label of a row of bits is their parity, the XOR of all of them (1 when the row
holds an odd number of ones). Two ways to get rows:

- :func:`parity_truth_table` lists all ``2**n_bits`` patterns, for small ``n_bits``
  where the data set is finite and held-out accuracy means held-out *patterns*;
- :func:`make_parity` draws random rows, as uint8 bits when memory matters
  (1M rows x 50 bits = 50 MB; convert to float per batch), optionally without
  repeats and disjoint from a given training set (``exclude=``), so that a test
  set drawn from another seed never contains a training row.

:func:`make_xor` is 2-bit parity with Gaussian jitter around the four corners of
the unit square, for drawing decision boundaries. For recurrent models reading
one bit per step, :func:`dltoys.data.as_sequences` gives the ``(N, n_bits, 1)``
view of the same rows, aligned with the same labels.

References
----------
M. Minsky and S. Papert, *Perceptrons* (MIT Press, 1969): XOR and parity are not
linearly separable.
D. E. Rumelhart, G. E. Hinton and R. J. Williams, "Learning internal
representations by error propagation", in *Parallel Distributed Processing*, vol. 1
(MIT Press, 1986): XOR and n-bit parity learned by a multilayer perceptron.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dltoys.data._common import check_n_samples, check_noise
from dltoys.utils import RngLike, as_array, as_rng, check_bool, check_int, resolve_dtype

#: Largest ``n_bits`` whose full truth table :func:`parity_truth_table` builds.
MAX_TRUTH_TABLE_BITS = 20
# Below this many possible patterns, drawing under constraints enumerates them all
# (4M keys, 32 MB) instead of drawing and rejecting.
_ENUMERATE_MAX_PATTERNS = 2**22


def parity_truth_table(n_bits: int, *, dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """All ``2**n_bits`` bit patterns with their parity, in counting order.

    Parameters
    ----------
    n_bits : int
        Number of bits, from 2 to ``MAX_TRUTH_TABLE_BITS`` (20).
    dtype : float32, float64 or uint8
        Dtype of ``X`` (float32 by default).

    Returns
    -------
    X : ndarray of shape (2**n_bits, n_bits)
        Row ``i`` is ``i`` written in binary, most significant bit first.
    y : ndarray of shape (2**n_bits,), int64
        ``y[i] = X[i, 0] xor X[i, 1] xor ... xor X[i, n_bits - 1]``.
    """
    n_bits = _check_n_bits(n_bits)
    if n_bits > MAX_TRUTH_TABLE_BITS:
        raise ValueError(
            f"n_bits: the truth table is built for n_bits <= {MAX_TRUTH_TABLE_BITS}, "
            f"received {n_bits} (2**{n_bits} rows); draw random rows with make_parity instead"
        )
    out_dtype = _resolve_bits_dtype(dtype)
    shifts = np.arange(n_bits - 1, -1, -1)  # (n_bits,) most significant first
    bits = ((np.arange(2**n_bits)[:, None] >> shifts) & 1).astype(np.uint8)  # (2**n, n_bits)
    return bits.astype(out_dtype, copy=False), _parity(bits)


def make_parity(
    n_samples: int,
    n_bits: int,
    *,
    noise: float = 0.0,
    exclude: Any = None,
    replace: bool = True,
    rng: RngLike = None,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Random rows of bits labelled with their parity.

    Parameters
    ----------
    n_samples : int
        Number of rows (>= 1).
    n_bits : int
        Bits per row (>= 2).
    noise : float
        Standard deviation of Gaussian jitter added to the 0/1 inputs (float
        dtypes only); the label is the parity of the bits before jitter.
    exclude : array_like of shape (n_excluded, n_bits), optional
        0/1 rows (e.g. a training set) that no drawn row may equal.
    replace : bool
        If False, no two drawn rows are equal.
    rng : int, numpy.random.Generator or None
        Source of randomness.
    dtype : float32, float64 or uint8
        Dtype of ``X`` (float32 by default; uint8 keeps a million 50-bit rows in
        50 MB).

    Returns
    -------
    X : ndarray of shape (n_samples, n_bits)
        Uniformly random bits (uniform over the allowed patterns when
        ``exclude`` or ``replace=False`` constrain them).
    y : ndarray of shape (n_samples,), int64 in {0, 1}
        The parity of each row: ``y[i] = sum(bits[i]) mod 2``.

    Raises
    ------
    ValueError
        If ``exclude`` leaves no pattern, or fewer than ``n_samples`` with
        ``replace=False``.

    Notes
    -----
    Rows are compared through keys: each row packed into bytes (one uint64 for up to
    64 bits). Rows equal to an excluded or an earlier row are rejected and redrawn
    in rounds, each round vectorised; when at most ``2**22`` patterns exist they are
    enumerated instead and the allowed ones drawn directly.
    """
    n_samples = check_n_samples(n_samples)
    n_bits = _check_n_bits(n_bits)
    noise = check_noise(noise)
    out_dtype = _resolve_bits_dtype(dtype)
    if noise > 0 and out_dtype == np.uint8:
        raise ValueError(f"noise: jitter needs a float dtype, received noise={noise:g} with dtype=uint8")
    replace = check_bool("replace", replace)
    generator = as_rng(rng)
    excluded = _excluded_keys(exclude, n_bits)

    if excluded is None and replace:
        bits = _random_bits(generator, n_samples, n_bits)
    elif 2**n_bits <= _ENUMERATE_MAX_PATTERNS:
        bits = _draw_enumerated(generator, n_samples, n_bits, excluded, replace)
    else:
        bits = _draw_rejecting(generator, n_samples, n_bits, excluded, replace)

    labels = _parity(bits)
    if out_dtype == np.uint8:
        return bits, labels
    features = bits.astype(out_dtype)
    if noise > 0:
        features += (noise * generator.standard_normal(features.shape)).astype(out_dtype)
    return features, labels


def make_xor(
    n_samples: int = 200,
    *,
    noise: float = 0.0,
    rng: RngLike = None,
    dtype: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """2-bit XOR: the four corners of the unit square, with optional jitter.

    Parameters
    ----------
    n_samples : int
        Number of rows; each is one of (0, 0), (0, 1), (1, 0), (1, 1) drawn
        uniformly. For exactly the four patterns use ``parity_truth_table(2)``.
    noise : float
        Standard deviation of Gaussian jitter added to both coordinates.
    rng : int, numpy.random.Generator or None
        Source of randomness.
    dtype : float32 or float64
        Dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (n_samples, 2)
    y : ndarray of shape (n_samples,), int64: ``x0 xor x1`` of the corner
    """
    dtype = resolve_dtype(dtype)  # XOR points are for plotting: floats only
    return make_parity(n_samples, 2, noise=noise, rng=rng, dtype=dtype)


def parity_of(bits: np.ndarray) -> np.ndarray:
    """The parity (XOR) of each row of a 0/1 array of shape (N, n_bits), as int64 (N,).

    Raises
    ------
    ValueError
        If ``bits`` is not 2-D or holds anything but 0 and 1 (``[[2, 3, 4]]``
        has no parity: XOR-ing the integers would give 5).
    """
    bits = as_array("bits", bits)
    if bits.ndim != 2:
        raise ValueError(f"bits: expected a 2-D array of shape (N, n_bits), received shape {bits.shape}")
    if bits.dtype.kind not in "biuf":
        raise TypeError(f"bits: expected 0/1 numbers, received dtype {bits.dtype}")
    if bits.dtype != np.bool_ and bits.size and not ((bits == 0) | (bits == 1)).all():
        raise ValueError(f"bits: expected only 0 and 1, received values {np.unique(bits)[:5].tolist()}")
    return _parity(bits)


def _parity(bits: np.ndarray) -> np.ndarray:
    """:func:`parity_of` without the checks, for bits this module drew itself."""
    return np.bitwise_xor.reduce(bits.astype(np.uint8, copy=False), axis=1).astype(np.int64)


def pack_rows(bits: np.ndarray) -> np.ndarray:
    """One hashable, sortable key per row of a 0/1 array of shape (N, n_bits).

    Returns uint64 keys (bit ``j`` of the key is column ``j``) for up to 64 bits,
    and opaque byte-string keys (``np.void``) beyond; equal rows get equal keys, so
    ``np.isin`` and ``np.unique`` on keys compare whole rows without a Python loop.
    """
    packed = np.packbits(np.asarray(bits, dtype=np.uint8), axis=1, bitorder="little")  # (N, ceil(n/8))
    n_rows, n_bytes = packed.shape
    if n_bytes <= 8:
        padded = np.zeros((n_rows, 8), dtype=np.uint8)
        padded[:, :n_bytes] = packed
        return padded.view("<u8").ravel().astype(np.uint64)
    return np.ascontiguousarray(packed).view(np.dtype((np.void, n_bytes))).ravel()


def _random_bits(generator: np.random.Generator, n_rows: int, n_bits: int) -> np.ndarray:
    """Uniform random bits of shape (n_rows, n_bits), uint8, from raw random bytes."""
    n_bytes = (n_bits + 7) // 8
    raw = np.frombuffer(generator.bytes(n_rows * n_bytes), dtype=np.uint8).reshape(n_rows, n_bytes)
    return np.unpackbits(raw, axis=1, bitorder="little")[:, :n_bits].copy()  # (n_rows, n_bits)


def _draw_enumerated(
    generator: np.random.Generator, n_samples: int, n_bits: int, excluded: np.ndarray | None, replace: bool
) -> np.ndarray:
    """Draw among all allowed patterns, listed as integer keys (few patterns only)."""
    allowed = np.arange(2**n_bits, dtype=np.uint64)  # (2**n,) key == pack_rows(row)
    if excluded is not None:
        allowed = allowed[~_is_in(allowed, excluded)]
    _check_enough_patterns(len(allowed), n_samples, n_bits, replace)
    keys = generator.choice(allowed, size=n_samples, replace=replace)  # (N,)
    key_bytes = keys.astype("<u8").view(np.uint8).reshape(n_samples, 8)
    return np.unpackbits(key_bytes, axis=1, bitorder="little")[:, :n_bits].copy()


def _draw_rejecting(
    generator: np.random.Generator, n_samples: int, n_bits: int, excluded: np.ndarray | None, replace: bool
) -> np.ndarray:
    """Draw random rows in rounds, rejecting excluded rows (and repeats if not ``replace``)."""
    n_excluded = 0 if excluded is None else len(excluded)
    _check_enough_patterns(2**n_bits - n_excluded, n_samples, n_bits, replace)
    bits = np.empty((0, n_bits), dtype=np.uint8)
    keys = pack_rows(bits)
    while len(bits) < n_samples:
        missing = n_samples - len(bits)
        # Expected acceptance rate of a fresh row; draw enough to finish in one round
        # on average (usually it is ~1 and a round draws just what is missing), but
        # never a huge batch at once when almost every pattern is taken.
        taken = 0 if replace else len(bits)
        acceptance = (2**n_bits - n_excluded - taken) / 2**n_bits
        n_draw = min(int(np.ceil(missing / acceptance)), 8 * missing + 1024)
        candidates = _random_bits(generator, n_draw, n_bits)
        candidate_keys = pack_rows(candidates)
        keep = np.ones(len(candidates), dtype=bool)
        if excluded is not None:
            keep &= ~_is_in(candidate_keys, excluded)
        bits = np.concatenate([bits, candidates[keep]])
        keys = np.concatenate([keys, candidate_keys[keep]])
        if not replace:
            first = _first_occurrences(keys)
            bits, keys = bits[first], keys[first]
        bits, keys = bits[:n_samples], keys[:n_samples]
    return bits


def _check_enough_patterns(n_allowed: int, n_samples: int, n_bits: int, replace: bool) -> None:
    if n_allowed <= 0:
        raise ValueError(
            f"exclude: it covers all 2**{n_bits} = {2**n_bits} patterns of {n_bits} bits; "
            "no row is left to draw"
        )
    if not replace and n_samples > n_allowed:
        raise ValueError(
            f"n_samples: expected at most {n_allowed} distinct rows (2**{n_bits} patterns "
            f"minus the excluded ones) with replace=False, received {n_samples}"
        )


def _excluded_keys(exclude: Any, n_bits: int) -> np.ndarray | None:
    """Validate ``exclude`` (0/1 rows of width n_bits) and return its unique keys."""
    if exclude is None:
        return None
    rows = as_array("exclude", exclude)
    if rows.ndim != 2 or rows.shape[1] != n_bits:
        raise ValueError(
            f"exclude: expected an array of shape (n_rows, {n_bits}), received shape {rows.shape}"
        )
    # uint8 bits (the memory-friendly layout) need one pass; other dtypes two.
    all_bits = rows.max(initial=0) <= 1 if rows.dtype == np.uint8 else np.all((rows == 0) | (rows == 1))
    if not all_bits:
        raise ValueError("exclude: expected 0/1 bits, received other values")
    keys = np.sort(pack_rows(rows))
    is_new = np.ones(len(keys), dtype=bool)
    is_new[1:] = keys[1:] != keys[:-1]
    return keys[is_new]  # sorted and distinct, as _is_in wants


# np.unique and np.isin hash integer keys in NumPy >= 2.3, slower than sorting for a
# million uint64 keys (benchmarks/NOTES.md); these two sort and binary-search instead
# (and work for the np.void keys of rows longer than 64 bits too).
def _first_occurrences(keys: np.ndarray) -> np.ndarray:
    """Sorted indices of the first occurrence of each distinct key (drawing order kept)."""
    order = np.argsort(keys, kind="stable")  # equal keys keep their drawing order
    ordered = keys[order]
    is_first = np.ones(len(keys), dtype=bool)
    is_first[1:] = ordered[1:] != ordered[:-1]
    return np.sort(order[is_first])


def _is_in(queries: np.ndarray, sorted_keys: np.ndarray) -> np.ndarray:
    """Whether each query key occurs in ``sorted_keys`` (sorted, any length), as bool."""
    if len(sorted_keys) == 0:
        return np.zeros(len(queries), dtype=bool)
    position = np.minimum(np.searchsorted(sorted_keys, queries), len(sorted_keys) - 1)
    return sorted_keys[position] == queries


def _check_n_bits(n_bits: Any) -> int:
    return check_int("n_bits", n_bits, minimum=2)


def _resolve_bits_dtype(dtype: Any) -> np.dtype:
    """float32 (default), float64, or uint8 for compact bits."""
    if dtype is not None:
        try:
            if np.dtype(dtype) == np.uint8:
                return np.dtype(np.uint8)
        except TypeError:
            pass
        try:
            return resolve_dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype: expected float32, float64 or uint8, received {dtype!r}") from None
    return resolve_dtype(dtype)
