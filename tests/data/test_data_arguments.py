"""Conventions every generator shares: determinism per seed, and clear errors for bad arguments."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dltoys.data import (
    GENERATORS,
    make_adding,
    make_blobs,
    make_circles,
    make_dataset,
    make_moons,
    make_parity,
    make_spirals,
    make_xor,
    parity_truth_table,
)

# Every generator with arguments that are valid apart from the one under test.
CALLS = {
    "blobs": lambda **kw: make_blobs(**{"n_samples": 20, **kw}),
    "moons": lambda **kw: make_moons(**{"n_samples": 20, **kw}),
    "circles": lambda **kw: make_circles(**{"n_samples": 20, **kw}),
    "spirals": lambda **kw: make_spirals(**{"n_samples": 20, **kw}),
    "xor": lambda **kw: make_xor(**{"n_samples": 20, **kw}),
    "parity": lambda **kw: make_parity(**{"n_samples": 20, "n_bits": 5, **kw}),
    "adding": lambda **kw: make_adding(**{"n_samples": 20, "seq_len": 6, **kw}),
}
WITH_NOISE = ["blobs", "moons", "circles", "spirals", "xor", "parity"]


def test_every_registered_generator_is_covered_here():
    assert set(CALLS) == set(GENERATORS)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_same_seed_same_data_other_seed_other_data(name):
    X1, y1 = CALLS[name](n_samples=200, rng=7)
    X2, y2 = CALLS[name](n_samples=200, rng=7)
    X3, _ = CALLS[name](n_samples=200, rng=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(X1, X3)
    # A shared Generator moves on: the first draw equals the seeded one, the second differs.
    shared = np.random.default_rng(7)
    Xa, _ = CALLS[name](n_samples=200, rng=shared)
    Xb, _ = CALLS[name](n_samples=200, rng=shared)
    np.testing.assert_array_equal(Xa, X1)
    assert not np.array_equal(Xa, Xb)


@pytest.mark.parametrize("name", sorted(CALLS))
@settings(max_examples=15, deadline=None)
@given(n_samples=st.integers(max_value=0))
def test_sizes_below_one_are_refused(name, n_samples):
    minimum = 2 if name in ("moons", "circles") else 1
    with pytest.raises(ValueError, match=rf"n_samples: expected an integer >= {minimum}, received {n_samples}"):
        CALLS[name](n_samples=n_samples)


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("n_samples", [10.0, "10", True, None])
def test_sizes_must_be_integers(name, n_samples):
    with pytest.raises(TypeError, match=rf"n_samples: expected an integer, received {n_samples!r}"):
        CALLS[name](n_samples=n_samples)


@pytest.mark.parametrize("name", WITH_NOISE)
@settings(max_examples=15, deadline=None)
@given(noise=st.floats(max_value=-1e-9, allow_infinity=False, allow_nan=False))
def test_negative_noise_is_refused(name, noise):
    with pytest.raises(ValueError, match=r"noise: expected a number in \[0, inf\), received -"):
        CALLS[name](noise=noise)


@pytest.mark.parametrize("name", WITH_NOISE)
@pytest.mark.parametrize("noise", [float("nan"), float("inf")])
def test_non_finite_noise_is_refused(name, noise):
    with pytest.raises(ValueError, match=r"noise: expected a number in \[0, inf\), received (nan|inf)"):
        CALLS[name](noise=noise)


@pytest.mark.parametrize("name", sorted(CALLS))
@pytest.mark.parametrize("dtype", [np.int32, np.float16, "banana"])
def test_dtype_must_be_a_float_dtype(name, dtype):
    with pytest.raises(TypeError, match=r"dtype: expected float32(, float64 or uint8| or float64), received"):
        CALLS[name](dtype=dtype)


@pytest.mark.parametrize("name", sorted(CALLS))
def test_rng_must_be_a_seed_or_a_generator(name):
    with pytest.raises(ValueError, match="rng: a seed must be a non-negative integer, received -1"):
        CALLS[name](rng=-1)
    with pytest.raises(TypeError, match="rng: expected an int seed, a numpy.random.Generator or None, received str"):
        CALLS[name](rng="seed")


@given(n_bits=st.integers(max_value=1))
@settings(max_examples=15, deadline=None)
def test_parity_needs_at_least_two_bits(n_bits):
    message = rf"n_bits: expected an integer >= 2, received {n_bits}"
    with pytest.raises(ValueError, match=message):
        make_parity(10, n_bits)
    with pytest.raises(ValueError, match=message):
        parity_truth_table(n_bits)


def test_parity_specific_arguments():
    with pytest.raises(ValueError, match=r"n_bits: the truth table is built for n_bits <= 20, received 21"):
        parity_truth_table(21)
    with pytest.raises(ValueError, match=r"noise: jitter needs a float dtype, received noise=0.1 with dtype=uint8"):
        make_parity(10, 4, noise=0.1, dtype=np.uint8)
    with pytest.raises(ValueError, match=r"exclude: expected an array of shape \(n_rows, 4\), received shape \(3, 5\)"):
        make_parity(10, 4, exclude=np.zeros((3, 5)))
    with pytest.raises(ValueError, match=r"exclude: expected an array of shape \(n_rows, 4\), received shape \(4,\)"):
        make_parity(10, 4, exclude=np.zeros(4))
    with pytest.raises(ValueError, match="exclude: expected 0/1 bits, received other values"):
        make_parity(10, 4, exclude=np.full((3, 4), 2, dtype=np.uint8))
    with pytest.raises(ValueError, match="exclude: expected 0/1 bits, received other values"):
        make_parity(10, 4, exclude=np.full((3, 4), 0.5))
    with pytest.raises(TypeError, match="replace: expected True or False, received 'no'"):
        make_parity(10, 4, replace="no")
    with pytest.raises(TypeError, match=r"dtype: expected float32 or float64, received uint8"):
        make_xor(10, dtype=np.uint8)


def test_blob_specific_arguments():
    with pytest.raises(ValueError, match="centers: expected an integer >= 1, received 0"):
        make_blobs(10, centers=0)
    with pytest.raises(ValueError, match=r"centers: expected an int or an array of shape \(n_classes, n_features\), received an array of shape \(3,\)"):
        make_blobs(10, centers=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="centers: expected finite coordinates"):
        make_blobs(10, centers=[[0.0, np.nan], [1.0, 1.0]])
    with pytest.raises(ValueError, match=r"n_features: expected 2 \(the width of centers\), received 3"):
        make_blobs(10, centers=[[0.0, 0.0], [1.0, 1.0]], n_features=3)
    with pytest.raises(ValueError, match="n_features: expected an integer >= 1, received 0"):
        make_blobs(10, centers=2, n_features=0)
    with pytest.raises(ValueError, match=r"center_box: expected low < high, received \(1.0, 1.0\)"):
        make_blobs(10, center_box=(1.0, 1.0))
    with pytest.raises(ValueError, match=r"center_box: expected a pair \(low, high\), received 5"):
        make_blobs(10, center_box=5)
    with pytest.raises(ValueError, match=r"n_samples: expected at least one sample per class \(>= 5\), received 4"):
        make_blobs(4, centers=5)


def test_other_generator_specific_arguments():
    with pytest.raises(ValueError, match=r"factor: expected a number in \[0, 1\), received 1"):
        make_circles(10, factor=1.0)
    with pytest.raises(ValueError, match=r"factor: expected a number in \[0, 1\), received -0.1"):
        make_circles(10, factor=-0.1)
    with pytest.raises(ValueError, match="n_classes: expected an integer >= 1, received 0"):
        make_spirals(10, 0)
    with pytest.raises(ValueError, match=r"n_samples: expected at least one sample per class \(>= 3\), received 2"):
        make_spirals(2, 3)
    with pytest.raises(ValueError, match="seq_len: expected an integer >= 2, received 1"):
        make_adding(10, 1)


def test_make_dataset_by_name():
    X, y = make_dataset("spirals", n_samples=30, n_classes=3, rng=0)
    X_direct, y_direct = make_spirals(30, 3, rng=0)
    np.testing.assert_array_equal(X, X_direct)
    np.testing.assert_array_equal(y, y_direct)
    with pytest.raises(ValueError, match=r"name: expected one of 'adding', 'blobs', .*'xor', received 'spiral'"):
        make_dataset("spiral", n_samples=30)
    with pytest.raises(TypeError, match="unexpected keyword argument 'n_class'"):
        make_dataset("spirals", n_samples=30, n_class=3)
