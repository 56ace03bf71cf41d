"""n-bit parity: labels, uniformity, disjoint test sets, the sequence view, 1M rows."""

import tracemalloc

import numpy as np
import pytest

from dltoys.data import parity

from dltoys.data import as_sequences, make_parity, pack_rows, parity_truth_table


def _labels_by_counting(bits):
    """Parity computed independently of the library: number of ones mod 2."""
    return np.asarray(bits).sum(axis=1, dtype=np.int64) % 2


def _shares_a_row(rows, other_rows):
    """Whether any row of ``rows`` occurs in ``other_rows`` (binary search on sorted keys)."""
    keys = np.sort(_integer_keys(other_rows))
    found = np.minimum(np.searchsorted(keys, _integer_keys(rows)), len(keys) - 1)
    return bool(np.any(keys[found] == _integer_keys(rows)))


def _integer_keys(bits):
    """Row -> integer by powers of two, independent of pack_rows (up to 64 bits)."""
    keys = np.zeros(len(bits), dtype=np.uint64)
    for column in range(bits.shape[1]):  # a loop over columns: no (N, n_bits) int64 copy
        keys |= bits[:, column].astype(np.uint64) << np.uint64(column)
    return keys


def test_truth_table_of_two_bits_is_xor():
    X, y = parity_truth_table(2)
    np.testing.assert_array_equal(X, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    assert X.dtype == np.float32 and y.dtype == np.int64


@pytest.mark.parametrize("n_bits", [3, 5, 10])
def test_truth_table_lists_every_pattern_in_binary_counting_order(n_bits):
    X, y = parity_truth_table(n_bits, dtype=np.uint8)
    assert X.shape == (2**n_bits, n_bits) and X.dtype == np.uint8
    expected = [[int(c) for c in np.binary_repr(i, width=n_bits)] for i in range(2**n_bits)]
    np.testing.assert_array_equal(X, expected)
    np.testing.assert_array_equal(y, _labels_by_counting(X))
    assert y.sum() == 2 ** (n_bits - 1)  # exactly half the patterns are odd


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8])
def test_random_rows_are_bits_labelled_with_their_parity(dtype):
    X, y = make_parity(5000, 13, rng=0, dtype=dtype)
    assert X.shape == (5000, 13) and X.dtype == dtype and y.dtype == np.int64
    assert set(np.unique(X).tolist()) == {0, 1}
    np.testing.assert_array_equal(y, _labels_by_counting(X))


def test_random_bits_are_uniform_and_independent_of_position():
    X, y = make_parity(100_000, 50, rng=1, dtype=np.uint8)
    # Each bit is Bernoulli(1/2): the column means have standard error 0.0016.
    np.testing.assert_allclose(X.mean(axis=0), 0.5, atol=0.008)
    assert abs(y.mean() - 0.5) < 0.008
    # Neighbouring bits are uncorrelated (packing bugs would couple them).
    centred = X[:, :-1].astype(np.float64) - 0.5
    correlation = (centred * (X[:, 1:] - 0.5)).mean(axis=0) / 0.25
    assert np.abs(correlation).max() < 0.02


def test_jitter_keeps_the_labels_of_the_underlying_bits():
    X, y = make_parity(2000, 6, noise=0.1, rng=0, dtype=np.float64)
    assert not np.all(np.isin(X, [0.0, 1.0]))
    bits = np.rint(X)  # noise 0.1 never moves a bit across 0.5 at this size (5 sigma)
    np.testing.assert_array_equal(y, _labels_by_counting(bits))
    np.testing.assert_allclose((X - bits).std(), 0.1, rtol=0.05)


def test_sequence_view_keeps_every_label_aligned_with_its_own_row():
    X, y = make_parity(3000, 50, rng=2, dtype=np.uint8)
    sequences = as_sequences(X)
    assert sequences.shape == (3000, 50, 1)
    assert np.shares_memory(sequences, X)  # a view: no 1M-row copy
    np.testing.assert_array_equal(_labels_by_counting(sequences[:, :, 0]), y)
    # Reading step by step, as a recurrent model does, gives the same parity.
    running = np.zeros(3000, dtype=np.uint8)
    for t in range(sequences.shape[1]):
        running ^= sequences[:, t, 0]
    np.testing.assert_array_equal(running, y)


def test_the_alignment_check_catches_the_classic_reshape_bug():
    X, y = make_parity(3000, 50, rng=2, dtype=np.uint8)
    broken = X.reshape(50, 3000, 1)  # time-major by reshape instead of transpose
    broken_labels = _labels_by_counting(broken[:, :, 0].T)
    assert np.mean(broken_labels == y) < 0.6  # chance level, not alignment
    time_major = X.T[:, :, None]  # the correct time-major layout, (T, N, 1)
    np.testing.assert_array_equal(_labels_by_counting(time_major[:, :, 0].T), y)


@pytest.mark.parametrize("path", ["enumerate", "reject"])
def test_excluded_rows_never_come_back_when_patterns_are_few(path, monkeypatch):
    if path == "reject":  # force the draw-and-reject path used above 2**22 patterns
        monkeypatch.setattr(parity, "_ENUMERATE_MAX_PATTERNS", 0)
    table, _ = parity_truth_table(8, dtype=np.uint8)
    train = table[:200]
    X, y = make_parity(5000, 8, exclude=train, rng=0, dtype=np.uint8)
    assert not set(_integer_keys(X)) & set(_integer_keys(train))
    assert set(_integer_keys(X)) == set(_integer_keys(table[200:]))  # all 56 others appear
    np.testing.assert_array_equal(y, _labels_by_counting(X))
    # Without replacement the 56 remaining patterns are exactly the test set.
    X, _ = make_parity(56, 8, exclude=train, replace=False, rng=0, dtype=np.uint8)
    np.testing.assert_array_equal(np.sort(_integer_keys(X)), np.sort(_integer_keys(table[200:])))


def test_test_rows_from_another_seed_are_not_training_rows():
    # 20 bits (1M patterns) with 300k training rows: without exclude a test set of
    # 100k would share about 25k rows with it.
    train, _ = make_parity(300_000, 20, rng=10, dtype=np.uint8)
    naive, _ = make_parity(100_000, 20, rng=11, dtype=np.uint8)
    assert np.isin(_integer_keys(naive), _integer_keys(train)).mean() > 0.2
    test, y = make_parity(100_000, 20, rng=11, exclude=train, dtype=np.uint8)
    assert not np.isin(_integer_keys(test), _integer_keys(train)).any()
    assert not _shares_a_row(test, train) and _shares_a_row(naive, train)
    np.testing.assert_array_equal(y, _labels_by_counting(test))


def test_rows_without_replacement_are_distinct_when_collisions_are_common():
    # 2**23 patterns is above the enumeration limit, so this takes the
    # draw-and-reject path; 600k draws collide about 21k times.
    X, y = make_parity(600_000, 23, replace=False, rng=0, dtype=np.uint8)
    keys = _integer_keys(X)
    sorted_keys = np.sort(keys)
    assert np.all(sorted_keys[1:] != sorted_keys[:-1])
    # Rows come in drawing order, not sorted: half the neighbours go up.
    assert abs(np.mean(keys[1:] > keys[:-1]) - 0.5) < 0.01
    np.testing.assert_array_equal(y, _labels_by_counting(X))
    np.testing.assert_allclose(X.mean(axis=0), 0.5, atol=0.005)


def test_exclusion_works_for_rows_longer_than_64_bits():
    train, _ = make_parity(300, 70, rng=0, dtype=np.uint8)
    repeats = np.concatenate([train[:50], train[:50]])  # excluded rows may repeat
    test, _ = make_parity(40, 70, exclude=repeats, replace=False, rng=1, dtype=np.uint8)
    assert not {row.tobytes() for row in test} & {row.tobytes() for row in train[:50]}
    assert len({row.tobytes() for row in test}) == 40
    # And long rows really are compared whole: a row differing in bit 69 only is allowed.
    assert len(np.unique(pack_rows(np.concatenate([train[:1], train[:1] ^ np.eye(70, dtype=np.uint8)[69]])))) == 2


def test_pack_rows_keys_are_equal_exactly_for_equal_rows():
    X, _ = parity_truth_table(12, dtype=np.uint8)
    keys = pack_rows(X)
    assert keys.dtype == np.uint64 and len(np.unique(keys)) == 4096
    np.testing.assert_array_equal(pack_rows(X[::-1])[::-1], keys)


def test_exhausting_the_patterns_is_a_clear_error():
    table, _ = parity_truth_table(6)
    with pytest.raises(ValueError, match=r"exclude: it covers all 2\*\*6 = 64 patterns"):
        make_parity(10, 6, exclude=table, rng=0)
    with pytest.raises(ValueError, match=r"n_samples: expected at most 14 distinct rows .* received 15"):
        make_parity(15, 6, exclude=table[:50], replace=False, rng=0)


def test_a_million_rows_of_fifty_bits_are_compact():
    # Speed is measured in benchmarks/, not asserted here: memory is what must fit.
    tracemalloc.start()
    train, y_train = make_parity(1_000_000, 50, rng=0, dtype=np.uint8)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert train.nbytes == 50_000_000
    assert peak < 3 * train.nbytes, f"peak {peak / 1e6:.0f} MB for 50 MB of bits"
    np.testing.assert_array_equal(y_train[:1000], _labels_by_counting(train[:1000]))


def test_a_million_test_rows_disjoint_from_a_million_training_rows():
    train, _ = make_parity(1_000_000, 50, rng=0, dtype=np.uint8)
    test, y_test = make_parity(1_000_000, 50, rng=1, exclude=train, dtype=np.uint8)
    assert not _shares_a_row(test, train)
    np.testing.assert_array_equal(y_test, _labels_by_counting(test))
