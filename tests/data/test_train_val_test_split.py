"""train_val_test_split: counts, alignment, stratification, determinism, errors."""

import numpy as np
import pytest

from dltoys.data import Split, train_val_test_split


def test_every_row_lands_in_exactly_one_part_with_the_requested_counts():
    X = np.arange(1000)
    y = 10 * np.arange(1000)
    split = train_val_test_split(X, y, fractions=(0.7, 0.2, 0.1), rng=0)
    assert isinstance(split, Split)
    assert [len(part[0]) for part in split] == [700, 200, 100]
    for part_X, part_y in split:
        np.testing.assert_array_equal(part_y, 10 * part_X)  # rows stay aligned
    np.testing.assert_array_equal(np.sort(np.concatenate([p[0] for p in split])), X)
    assert not np.all(np.diff(split.train[0]) > 0)  # shuffled, not a prefix


def test_rounding_keeps_the_total():
    split = train_val_test_split(np.arange(7), fractions=(0.5, 0.25, 0.25), rng=0)
    # cuts at round(3.5) = 4 and round(5.25) = 5
    assert [len(part[0]) for part in split] == [4, 1, 2]


def test_stratified_parts_keep_the_class_proportions():
    y = np.repeat([0, 1, 2], [900, 80, 20])
    X = np.arange(1000.0)[:, None] * np.ones((1, 3))
    split = train_val_test_split(X, y, fractions=(0.8, 0.1, 0.1), stratify=y, rng=1)
    # Per class: 900 -> 720/90/90, 80 -> 64/8/8, 20 -> 16/2/2.
    assert np.bincount(split.train[1]).tolist() == [720, 64, 16]
    assert np.bincount(split.val[1]).tolist() == [90, 8, 2]
    assert np.bincount(split.test[1]).tolist() == [90, 8, 2]
    np.testing.assert_array_equal(split.train[1], y[split.train[0][:, 0].astype(int)])
    assert np.count_nonzero(np.diff(split.train[1])) > 50  # not grouped by class


def test_unstratified_proportions_drift_where_stratified_ones_do_not():
    y = np.repeat([0, 1], [950, 50])
    drift = []
    for seed in range(20):
        split = train_val_test_split(y, fractions=(0.8, 0.1, 0.1), rng=seed)
        drift.append(abs(int(split.test[0].sum()) - 5))
        stratified = train_val_test_split(y, fractions=(0.8, 0.1, 0.1), stratify=y, rng=seed)
        assert stratified.test[0].sum() == 5
    assert max(drift) > 0


def test_string_labels_can_stratify():
    y = np.array(["cat", "dog"] * 50)
    split = train_val_test_split(y, fractions=(0.6, 0.2, 0.2), stratify=y, rng=0)
    assert sorted(split.val[0].tolist()) == ["cat"] * 10 + ["dog"] * 10


def test_empty_parts_and_image_arrays():
    images = np.zeros((40, 1, 8, 8), dtype=np.float32)
    split = train_val_test_split(images, fractions=(0.75, 0.25, 0.0), rng=0)
    assert split.train[0].shape == (30, 1, 8, 8) and split.val[0].shape == (10, 1, 8, 8)
    assert split.test[0].shape == (0, 1, 8, 8) and split.test[0].dtype == np.float32


def test_split_determinism():
    a = train_val_test_split(np.arange(100), rng=4)
    b = train_val_test_split(np.arange(100), rng=4)
    c = train_val_test_split(np.arange(100), rng=5)
    for part_a, part_b in zip(a, b):
        np.testing.assert_array_equal(part_a[0], part_b[0])
    assert not np.array_equal(a.train[0], c.train[0])


@pytest.mark.parametrize(
    "fractions, error, message",
    [
        ((0.8, 0.1), ValueError, r"fractions: expected three numbers \(train, val, test\), received \(0\.8, 0\.1\)"),
        (0.8, TypeError, r"fractions: expected three numbers"),
        ((0.8, 0.3, 0.1), ValueError, r"fractions: expected shares summing to 1, received \(0\.8, 0\.3, 0\.1\) \(sum 1\.2\)"),
        ((1.2, -0.1, -0.1), ValueError, r"fractions\[0\] \(train\): expected a number in \[0, 1\], received 1\.2"),
        ((0.9, -0.1, 0.2), ValueError, r"fractions\[1\] \(val\): expected a number in \[0, 1\], received -0\.1"),
        ((0.0, 0.5, 0.5), ValueError, r"fractions: expected a train share > 0"),
        ((0.8, "0.1", 0.1), TypeError, r"fractions\[1\] \(val\): expected a number, received '0\.1'"),
    ],
)
def test_bad_fractions(fractions, error, message):
    with pytest.raises(error, match=message):
        train_val_test_split(np.arange(10), fractions=fractions)


def test_bad_arrays_and_labels():
    with pytest.raises(TypeError, match="arrays: expected at least one array"):
        train_val_test_split()
    with pytest.raises(ValueError, match=r"arrays\[1\]: expected 10 rows like arrays\[0\], received 9"):
        train_val_test_split(np.arange(10), np.arange(9))
    with pytest.raises(ValueError, match=r"arrays\[0\]: expected at least one row"):
        train_val_test_split(np.zeros((0, 3)))
    with pytest.raises(ValueError, match=r"arrays\[0\]: expected an array with a first \(row\) axis"):
        train_val_test_split(np.float64(3.0))
    with pytest.raises(ValueError, match=r"stratify: expected labels of shape \(10,\), received shape \(10, 1\)"):
        train_val_test_split(np.arange(10), stratify=np.zeros((10, 1)))
