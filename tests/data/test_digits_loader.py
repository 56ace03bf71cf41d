"""load_digits: scikit-learn's bundled 8x8 digits, scaled to [0, 1]."""

import sys

import numpy as np
import pytest

from dltoys.data import load_digits


def test_flat_digits():
    pytest.importorskip("sklearn")
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert sorted(np.unique(y).tolist()) == list(range(10))
    assert np.bincount(y).min() >= 170  # about 180 images of each digit


def test_images_are_nchw_and_match_scikit_learn():
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = load_digits(images=True, dtype=np.float64)
    assert X.shape == (1797, 1, 8, 8) and X.dtype == np.float64
    reference = datasets.load_digits()
    np.testing.assert_array_equal(X[:, 0], reference.images / 16.0)
    np.testing.assert_array_equal(y, reference.target)


def test_missing_scikit_learn_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)  # makes `import sklearn...` fail
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match="load_digits needs scikit-learn.*pip install scikit-learn"):
        load_digits()


def test_bad_digits_arguments():
    with pytest.raises(TypeError, match="dtype: expected float32 or float64, received int32"):
        load_digits(dtype=np.int32)
    with pytest.raises(TypeError, match="images: expected True or False, received 'yes'"):
        load_digits(images="yes")
