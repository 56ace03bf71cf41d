"""MNIST-1D against the reference package, and the IDX reader on files the tests write."""

from __future__ import annotations

import gzip
import struct

import numpy as np
import pytest

from dltoys.data import IDXError, load_idx_images, make_mnist1d, read_idx


def test_mnist1d_shapes_and_defaults():
    data = make_mnist1d(n_samples=200)
    assert data.X.shape == (160, 40) and data.X_test.shape == (40, 40) and data.X.dtype == np.float32
    assert data.y.dtype == np.int64 and set(np.unique(np.concatenate([data.y, data.y_test]))) == set(range(10))
    both = np.concatenate([data.X, data.X_test])
    assert abs(both.mean()) < 1e-6 and both.std() == pytest.approx(1, rel=1e-5)


def test_mnist1d_equals_the_reference_arrays():
    """Same seed, same draws in the same order: the paper's data set, value for value."""
    reference = pytest.importorskip("mnist1d.data")
    args = reference.get_dataset_args()
    args.num_samples = 300  # the procedure is per sample: 30 per class keep the test fast
    expected = reference.make_dataset(args)
    ours = make_mnist1d(n_samples=300, dtype=np.float64)
    np.testing.assert_allclose(ours.X, expected["x"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.X_test, expected["x_test"], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(ours.y, expected["y"])
    np.testing.assert_array_equal(ours.y_test, expected["y_test"])


def _write_idx(path, array: np.ndarray, code: int, compress: bool = False) -> None:
    raw = struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    raw += array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, compress):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, 5).astype(np.uint8)
    _write_idx(tmp_path / "images", images, 0x08, compress)
    _write_idx(tmp_path / "labels", labels, 0x08, compress)
    np.testing.assert_array_equal(read_idx(tmp_path / "images"), images)
    X, y = load_idx_images(tmp_path / "images", tmp_path / "labels")
    assert X.shape == (5, 1, 4, 3) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(X[:, 0], images / 255, rtol=1e-6)
    np.testing.assert_array_equal(y, labels)
    floats = rng.standard_normal((2, 3)).astype(np.float64)
    _write_idx(tmp_path / "floats", floats, 0x0E, compress)
    np.testing.assert_array_equal(read_idx(tmp_path / "floats"), floats)  # big-endian doubles


def test_idx_bad_files(tmp_path):
    bad = tmp_path / "bad"
    cases = [
        (b"PK\x03\x04rest", "not an IDX file"),
        (b"\x00\x00\x07\x01\x00\x00\x00\x01x", "unknown IDX type code 0x07"),
        (b"\x00\x00\x08\x03\x00\x00", "announces 3 dimensions"),
        (struct.pack(">BBBBI", 0, 0, 8, 1, 10) + b"\x01" * 9, r"shape \(10,\) of uint8 needs 10 bytes of data, the file has 9"),
        (gzip.compress(b"\x00\x00\x08\x01\x00\x00\x00\x02ab")[:-6], "damaged gzip"),
    ]
    for raw, message in cases:
        bad.write_bytes(raw)
        with pytest.raises(IDXError, match=message):
            read_idx(bad)
    _write_idx(tmp_path / "images", np.zeros((3, 2, 2), np.uint8), 0x08)
    _write_idx(tmp_path / "labels", np.zeros(4, np.uint8), 0x08)
    with pytest.raises(IDXError, match="expected 3 labels"):
        load_idx_images(tmp_path / "images", tmp_path / "labels")
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing")
