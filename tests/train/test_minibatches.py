"""The one minibatch iterator: coverage, determinism, drop_last, memory, errors."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dltoys.data.batches import Minibatches


def epoch_rows(batches):
    """Concatenated first column (the row id) of one epoch, and the batch sizes."""
    seen, sizes = [], []
    for xb, yb in batches:
        np.testing.assert_array_equal(xb[:, 0], yb)  # x and y stay aligned
        seen.append(yb)
        sizes.append(len(yb))
    return np.concatenate(seen), sizes


def id_data(n):
    x = np.stack([np.arange(n), -np.arange(n)], axis=1)  # (n, 2), row id in column 0
    return x, np.arange(n)


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 70), batch_size=st.integers(1, 80), shuffle=st.booleans(), seed=st.integers(0, 2**16))
def test_every_row_once_per_epoch(n, batch_size, shuffle, seed):
    batches = Minibatches(*id_data(n), batch_size=batch_size, shuffle=shuffle, rng=seed)
    for _ in range(2):
        rows, sizes = epoch_rows(batches)
        assert sorted(rows.tolist()) == list(range(n))
        assert len(sizes) == len(batches) == -(-n // batch_size)
        assert all(size == batch_size for size in sizes[:-1]) and 1 <= sizes[-1] <= batch_size
        if not shuffle:
            np.testing.assert_array_equal(rows, np.arange(n))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 70), batch_size=st.integers(1, 70), seed=st.integers(0, 2**16))
def test_drop_last_yields_only_full_batches(n, batch_size, seed):
    if batch_size > n:
        with pytest.raises(ValueError, match="drop_last"):
            Minibatches(*id_data(n), batch_size=batch_size, drop_last=True)
        return
    batches = Minibatches(*id_data(n), batch_size=batch_size, shuffle=True, rng=seed, drop_last=True)
    rows, sizes = epoch_rows(batches)
    assert sizes == [batch_size] * (n // batch_size) == [batch_size] * len(batches)
    assert len(set(rows.tolist())) == len(rows)  # no row twice


def test_shuffle_is_a_new_permutation_each_epoch_and_reproducible():
    data = id_data(100)
    first = Minibatches(*data, batch_size=7, shuffle=True, rng=3)
    again = Minibatches(*data, batch_size=7, shuffle=True, rng=3)
    other = Minibatches(*data, batch_size=7, shuffle=True, rng=4)
    epochs_first = [epoch_rows(first)[0] for _ in range(3)]
    epochs_again = [epoch_rows(again)[0] for _ in range(3)]
    for a, b in zip(epochs_first, epochs_again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(epochs_first[0], epochs_first[1])  # the generator advanced
    assert not np.array_equal(epochs_first[0], epoch_rows(other)[0])
    # The order is the generator's permutation, drawn once per epoch.
    np.testing.assert_array_equal(epochs_first[0], np.random.default_rng(3).permutation(100))


def test_a_shared_generator_continues_across_iterators():
    """Two 1-epoch iterators over one Generator give the same epochs as one 2-epoch iterator."""
    data = id_data(50)
    gen = np.random.default_rng(9)
    split = [epoch_rows(Minibatches(*data, batch_size=8, shuffle=True, rng=gen))[0] for _ in range(2)]
    whole = Minibatches(*data, batch_size=8, shuffle=True, rng=9)
    for part in split:
        np.testing.assert_array_equal(part, epoch_rows(whole)[0])


def test_single_array_yields_one_tuples_and_keeps_dtype():
    x = np.arange(10, dtype=np.uint8).reshape(5, 2)
    batches = list(Minibatches(x, batch_size=2))
    assert all(isinstance(b, tuple) and len(b) == 1 for b in batches)
    assert all(b[0].dtype == np.uint8 for b in batches)


def test_unshuffled_batches_are_views_not_copies():
    x = np.zeros((10, 3), dtype=np.float32)
    for (xb,) in Minibatches(x, batch_size=4):
        assert np.shares_memory(xb, x)


def test_batch_size_none_is_the_whole_set():
    x, y = id_data(13)
    batches = Minibatches(x, y, batch_size=None, shuffle=True, rng=0)
    assert len(batches) == 1
    assert sorted(epoch_rows(batches)[0].tolist()) == list(range(13))


def test_batch_indices_follow_the_same_order():
    x, y = id_data(20)
    a = Minibatches(x, y, batch_size=6, shuffle=True, rng=1)
    b = Minibatches(x, y, batch_size=6, shuffle=True, rng=1)
    for rows, (xb, _) in zip(a.batch_indices(), b):
        np.testing.assert_array_equal(x[rows], xb)


def test_a_shuffled_epoch_never_copies_the_data_set():
    """1M x 50 uint8 must stay affordable: an epoch allocates the permutation and one batch at a time."""
    n, features, batch_size = 200_000, 50, 256
    x = np.ones((n, features), dtype=np.uint8)  # 10 MB
    y = np.zeros(n, dtype=np.uint8)
    batches = Minibatches(x, y, batch_size=batch_size, shuffle=True, rng=0)
    tracemalloc.start()
    try:
        count = 0
        for xb, yb in batches:
            count += len(xb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == n
    # permutation 1.6 MB + a batch; a copy of x (10 MB) or a float32 cast (40 MB) would exceed it
    assert peak < 8 * n + 4 * x.nbytes // 100 + 2**20, peak


def test_misaligned_lengths_name_every_array():
    with pytest.raises(ValueError, match=r"x has 10, y has 9"):
        Minibatches(np.zeros((10, 2)), np.zeros(9), names=["x", "y"])
    with pytest.raises(ValueError, match=r"arrays\[0\] has 3, arrays\[1\] has 4"):
        Minibatches(np.zeros(3), np.zeros(4))


@pytest.mark.parametrize(
    "batch_size, error, message",
    [(0, ValueError, ">= 1, received 0"), (-3, ValueError, "received -3"), (2.5, TypeError, "integer"),
     (True, TypeError, "integer"), ("8", TypeError, "integer")],
)
def test_bad_batch_sizes(batch_size, error, message):
    with pytest.raises(error, match=f"batch_size.*{message}"):
        Minibatches(np.zeros(10), batch_size=batch_size)


def test_other_bad_inputs():
    with pytest.raises(TypeError, match="at least one array"):
        Minibatches(batch_size=2)
    with pytest.raises(ValueError, match="scalar"):
        Minibatches(np.float64(3.0))
    with pytest.raises(ValueError, match="no samples"):
        Minibatches(np.zeros((0, 3)))
    with pytest.raises(TypeError, match="arrays\\[1\\]"):
        Minibatches(np.zeros(3), [[1], [2, 3], [4]])
    with pytest.raises(ValueError, match="names has 1 entries for 2 arrays"):
        Minibatches(np.zeros(3), np.zeros(3), names=["x"])
