"""The 8x8 handwritten digits that scikit-learn ships (no download)."""

from __future__ import annotations

from typing import Any

import numpy as np

from dltoys.utils import check_bool, resolve_dtype

#: Pixel values in scikit-learn's digits are counts of set pixels in 4x4 blocks, 0..16.
_MAX_PIXEL = 16.0


def load_digits(*, images: bool = False, dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Load the 1797 handwritten digits (8x8 pixels) bundled with scikit-learn.

    scikit-learn is imported only when this function runs.

    Parameters
    ----------
    images : bool
        False: one flat row of 64 pixels per digit. True: NCHW images with one
        channel, for convolutional models.
    dtype : float32 or float64
        Dtype of ``X``.

    Returns
    -------
    X : ndarray of shape (1797, 64), or (1797, 1, 8, 8) with ``images=True``
        Pixel intensities scaled from 0..16 to [0, 1].
    y : ndarray of shape (1797,), int64 in {0, ..., 9}

    Raises
    ------
    ImportError
        If scikit-learn is not installed.

    References
    ----------
    E. Alpaydin and C. Kaynak, "Optical Recognition of Handwritten Digits", UCI
    Machine Learning Repository, 1998; the copy in ``sklearn.datasets.load_digits``.
    """
    out_dtype = resolve_dtype(dtype)
    images = check_bool("images", images)
    try:
        from sklearn.datasets import load_digits as sklearn_load_digits
    except ImportError as exc:
        raise ImportError(
            "load_digits needs scikit-learn, which ships the 8x8 digits data set; "
            "install it with `pip install scikit-learn`"
        ) from exc
    bunch = sklearn_load_digits()
    X = (np.asarray(bunch.data, dtype=np.float64) / _MAX_PIXEL).astype(out_dtype)  # (1797, 64)
    if images:
        X = X.reshape(-1, 1, 8, 8)  # (1797, 1, 8, 8) NCHW
    return X, np.asarray(bunch.target, dtype=np.int64)
