"""Stateless numerics shared by layers, losses and models.

Every function keeps the dtype of its input (no silent upcasting to float64).
"""

from __future__ import annotations

import math

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


def erf(x: np.ndarray) -> np.ndarray:
    """The error function ``erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt``, elementwise, in ``x``'s dtype.

    NumPy has no vectorised ``erf`` (``math.erf`` is scalar), so:

    - float32: Abramowitz & Stegun 7.1.26, ``1 - t (a1 + t (a2 + ... + t a5)) exp(-x^2)``
      with ``t = 1 / (1 + p |x|)``; absolute error below 6e-7 in float32, a tenth of
      the float32 parity tolerance, at about a dozen array passes.
    - float64: the everywhere-positive series
      ``erf(z) = 2/sqrt(pi) exp(-z^2) sum_n (2 z^2)^n z / (1 * 3 * ... * (2n + 1))``
      for ``|z| < 2.5`` (no cancellation), and Laplace's continued fraction
      ``erfc(z) = exp(-z^2) / sqrt(pi) / (z + (1/2) / (z + 1 / (z + (3/2) / (z + ...))))``
      beyond; absolute error below 2e-15 against ``math.erf`` (tested). Slow
      (~200 passes): for gradient checks and parity tests, not for training.

    References
    ----------
    Abramowitz & Stegun (1964), Handbook of mathematical functions, 7.1.26 and 7.1.6.
    """
    x = np.asarray(x)
    if x.dtype == np.float64:
        return _erf_float64(x)
    if x.dtype.kind != "f":
        raise TypeError(f"erf: expected a float array, received dtype {x.dtype}")
    dtype = x.dtype.type
    z = np.abs(x)
    t = z * dtype(0.3275911)
    t += 1
    np.reciprocal(t, out=t)
    poly = t * dtype(1.061405429)
    for coef in (-1.453152027, 1.421413741, -0.284496736, 0.254829592):
        poly += dtype(coef)
        poly *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    poly *= z
    np.subtract(1, poly, out=poly)
    return np.copysign(poly, x, out=poly)


def _erf_float64(x: np.ndarray) -> np.ndarray:
    z = np.abs(x).reshape(-1)
    out = np.empty_like(z)
    small = z < 2.5
    zs = z[small]
    term = zs.copy()
    total = zs.copy()
    two_z2 = 2 * zs * zs
    for n in range(1, 48):  # (2 z^2)^n / (2n+1)!! < 1e-17 of the sum by n = 45 at z = 2.5
        term *= two_z2
        term /= 2 * n + 1
        total += term
    out[small] = total * np.exp(-zs * zs) * (2 / math.sqrt(math.pi))
    zl = z[~small]
    if zl.size:
        fraction = zl.copy()
        for k in range(80, 0, -1):  # evaluated from the bottom; 80 levels converge for z >= 2.5
            fraction = zl + (k / 2) / fraction
        out[~small] = 1 - np.exp(-zl * zl) / (math.sqrt(math.pi) * fraction)
    return np.copysign(out.reshape(x.shape), x)


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


# Attention lives with its module (nn/attention.py); this is PyTorch's functional name for it.
from .attention import scaled_dot_product_attention  # noqa: E402  (attention.py imports nothing from here)
