"""Stateless numerics shared by layers, losses and models.

Every function keeps the dtype of its input (no silent upcasting to float64).
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))``.

    For very negative ``x``, ``exp(-x)`` overflows to ``inf`` and the result is
    the correct limit 0; the overflow warning is silenced.
    """
    with np.errstate(over="ignore"):
        out = np.exp(-x)
        out += 1
        np.reciprocal(out, out=out)
    return out


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` computed without overflow: ``max(x, 0) + log1p(exp(-|x|))``."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def logsumexp(x: np.ndarray, axis: int = -1, keepdims: bool = False) -> np.ndarray:
    """Stable ``log(sum(exp(x), axis))``: the maximum is subtracted first."""
    shift = np.max(x, axis=axis, keepdims=True)
    shift = np.where(np.isfinite(shift), shift, 0)
    out = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Stable softmax along ``axis``: ``exp(x - max) / sum(exp(x - max))``.

    An empty input gives an empty output of its shape (as ``torch.softmax``).
    """
    if x.size == 0:
        return x.copy()
    out = x - np.max(x, axis=axis, keepdims=True)
    np.exp(out, out=out)
    out /= np.sum(out, axis=axis, keepdims=True)
    return out


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Stable ``log(softmax(x))``: ``x - logsumexp(x)`` (an empty input gives an empty output)."""
    if x.size == 0:
        return x.copy()
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def one_hot(indices: np.ndarray, n_classes: int, dtype=np.float32) -> np.ndarray:
    """One-hot rows: ``out[..., k] = 1`` where ``indices == k``.

    Parameters
    ----------
    indices : int array of any shape, values in ``[0, n_classes)``
    n_classes : int
    dtype : float dtype of the result

    Returns
    -------
    ndarray of shape ``indices.shape + (n_classes,)``
    """
    indices = np.asarray(indices)
    if not np.issubdtype(indices.dtype, np.integer):
        raise TypeError(f"one_hot: indices must be integers, received {indices.dtype}")
    if indices.size and (indices.min() < 0 or indices.max() >= n_classes):
        raise ValueError(
            f"one_hot: indices must lie in [0, {n_classes}), "
            f"received values from {indices.min()} to {indices.max()}"
        )
    out = np.zeros(indices.shape + (n_classes,), dtype=dtype)
    np.put_along_axis(out, indices[..., None], 1, axis=-1)
    return out
