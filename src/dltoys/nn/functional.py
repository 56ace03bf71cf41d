"""Stateless numerics shared by layers, losses and models.

Every function keeps the dtype of its input (no silent upcasting to float64).
"""

from __future__ import annotations

import itertools
import math

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function ``1 / (1 + exp(-x))``.

    For very negative ``x``, ``exp(-x)`` overflows to ``inf`` and the result is
    the correct limit 0; the overflow warning is silenced.
    """
    with np.errstate(over="ignore"):
        out = np.asarray(np.exp(-x))  # a 0-d input gives a NumPy scalar, which has no out=
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


# ------------------------------------------------------------- convolution
# The layers keep activations channels-last inside, ``(N, *spatial, C)``, so that the
# columns of a window are ``(*kernel, C)`` with ``C`` contiguous: im2col is one copy of a
# strided view, and a window's weights are one row of the ``(out, *kernel * in)`` matrix.


def conv_output_size(size: int, kernel: int, stride: int, padding_total: int, dilation: int) -> int:
    """Positions of a window of ``kernel`` taps ``dilation`` apart, moved ``stride`` at a time,
    on ``size + padding_total`` values: ``floor((size + pad - dilation (kernel - 1) - 1) / stride) + 1``
    (0 when the window does not fit)."""
    span = size + padding_total - dilation * (kernel - 1) - 1
    return span // stride + 1 if span >= 0 else 0


def im2col(x: np.ndarray, kernel_size: tuple, stride: tuple, dilation: tuple,
           out_size: tuple | None = None) -> np.ndarray:
    """Every window of a channels-last array, gathered into one contiguous array.

    Parameters
    ----------
    x : ndarray of shape ``(N, *spatial, C)``
        Already padded (``len(spatial)`` is 1 or 2, or more).
    kernel_size, stride, dilation : tuples of ``len(spatial)`` ints
    out_size : tuple or None
        Window positions per spatial axis; default all that fit. Fewer crops the last ones.

    Returns
    -------
    ndarray of shape ``(N, *out_size, *kernel_size, C)``
        ``cols[n, o..., k..., c] = x[n, o * stride + k * dilation, c]``: reshaped to
        ``(N * prod(out_size), prod(kernel_size) * C)`` it is the left operand of the
        convolution's one matmul. One copy of a ``sliding_window_view``, no Python loop.
    """
    ndim = len(kernel_size)
    span = tuple((k - 1) * d + 1 for k, d in zip(kernel_size, dilation))
    if out_size is None:
        out_size = tuple(-(-(x.shape[1 + i] - span[i] + 1) // stride[i]) for i in range(ndim))
    if x.shape[-1] == 1:
        return _im2col_by_offsets(x, kernel_size, stride, dilation, out_size)
    windows = np.lib.stride_tricks.sliding_window_view(x, span, axis=tuple(range(1, ndim + 1)))
    # windows: (N, *positions, C, *span); keep every stride-th position and every dilation-th tap
    index = (
        (slice(None),)
        + tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_size, stride))
        + (slice(None),)
        + tuple(slice(None, None, d) for d in dilation)
    )
    windows = windows[index]  # (N, *out, C, *kernel)
    order = (0, *range(1, ndim + 1), *range(ndim + 2, 2 * ndim + 2), ndim + 1)
    return np.ascontiguousarray(windows.transpose(order))  # (N, *out, *kernel, C)


def _im2col_by_offsets(x: np.ndarray, kernel_size: tuple, stride: tuple, dilation: tuple,
                       out_size: tuple) -> np.ndarray:
    """:func:`im2col` for one channel (a grayscale input layer): one strided copy per kernel
    offset. The window copy would move ``kw`` values at a time there, this moves ``out_w``
    (about 4x faster on 28x28 images; equal results, tested)."""
    ndim = len(kernel_size)
    cols = np.empty((x.shape[0], *out_size, *kernel_size, 1), dtype=x.dtype)
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        source = (slice(None),) + tuple(
            slice(k * d, k * d + (o - 1) * s + 1, s) for k, d, o, s in zip(offset, dilation, out_size, stride)
        )
        cols[(slice(None),) * (ndim + 1) + offset] = x[source]  # (N, *out, 1)
    return cols


def col2im(cols: np.ndarray, padded_shape: tuple, stride: tuple, dilation: tuple) -> np.ndarray:
    """The adjoint of :func:`im2col`: every window's values added back where they came from.

    Parameters
    ----------
    cols : ndarray of shape ``(*kernel_size, N, *out_size, C)``
        Kernel-offset major: the values of offset ``k`` for every window form one
        ``(N, *out_size, C)`` slab (``im2col``'s ``(N, *out, *kernel, C)`` with the kernel
        axes moved to the front; a matmul per offset writes it so, see ``Conv2d.backward``).
    padded_shape : tuple ``(N, *spatial, C)``, the shape :func:`im2col` read
    stride, dilation : tuples of ints

    Returns
    -------
    ndarray of shape ``padded_shape``: ``x[n, p, c] = sum over (o, k) with
    o * stride + k * dilation = p of cols[k, n, o, c]``.

    Notes
    -----
    One strided ``+=`` per kernel offset (``prod(kernel_size)`` of them, 9 for 3x3), each
    adding a whole ``(N, *out, C)`` slab: the loop is over the kernel, never over pixels,
    and it needs no ``np.add.at``. With the slab contiguous, a stride-1 row of the target
    (``out_w * C`` values) is one contiguous run, so NumPy adds long runs, not ``C``-sized
    pieces.
    """
    ndim = len(stride)
    kernel_size = cols.shape[:ndim]
    out_size = cols.shape[ndim + 1 : 2 * ndim + 1]
    x = np.zeros(padded_shape, dtype=cols.dtype)
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        target = (slice(None),) + tuple(
            slice(k * d, k * d + (o - 1) * s + 1, s) for k, d, o, s in zip(offset, dilation, out_size, stride)
        )
        x[target] += cols[offset]  # (N, *out, C)
    return x


def kernel_major(cols: np.ndarray, ndim: int) -> np.ndarray:
    """``(N, *out, *kernel, C)`` (im2col's layout) -> a ``(*kernel, N, *out, C)`` view (col2im's)."""
    return cols.transpose(*range(ndim + 1, 2 * ndim + 1), *range(ndim + 1), 2 * ndim + 1)


def _pair(name: str, value, ndim: int) -> tuple:
    values = (value,) * ndim if np.isscalar(value) else tuple(value)
    if len(values) != ndim:
        raise ValueError(f"{name}: expected an int or {ndim} ints, received {value!r}")
    return values


def unfold(x: np.ndarray, kernel_size, dilation=1, padding=0, stride=1) -> np.ndarray:
    """Sliding local blocks as columns (``torch.nn.functional.unfold``).

    Parameters
    ----------
    x : ndarray of shape ``(N, C, H, W)``
    kernel_size, dilation, padding, stride : int or pair of ints

    Returns
    -------
    ndarray of shape ``(N, C * kh * kw, L)``, rows in PyTorch's ``(C, kh, kw)`` order,
    ``L = out_h * out_w`` block positions in row-major order.
    """
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"unfold: expected input of shape (N, C, H, W), received {x.shape}")
    kernel_size, dilation, padding, stride = (
        _pair(name, value, 2) for name, value in
        (("kernel_size", kernel_size), ("dilation", dilation), ("padding", padding), ("stride", stride))
    )
    n, c = x.shape[:2]
    padded = np.pad(x.transpose(0, 2, 3, 1), ((0, 0), (padding[0],) * 2, (padding[1],) * 2, (0, 0)))
    cols = im2col(padded, kernel_size, stride, dilation)  # (N, oh, ow, kh, kw, C)
    blocks = cols.shape[1] * cols.shape[2]
    return cols.transpose(0, 5, 3, 4, 1, 2).reshape(n, c * kernel_size[0] * kernel_size[1], blocks)


def fold(cols: np.ndarray, output_size, kernel_size, dilation=1, padding=0, stride=1) -> np.ndarray:
    """Sum sliding local blocks back into an image (``torch.nn.functional.fold``), the adjoint of
    :func:`unfold`.

    Parameters
    ----------
    cols : ndarray of shape ``(N, C * kh * kw, L)``
    output_size : int or pair ``(H, W)``
    kernel_size, dilation, padding, stride : int or pair of ints

    Returns
    -------
    ndarray of shape ``(N, C, H, W)``
    """
    cols = np.asarray(cols)
    output_size, kernel_size, dilation, padding, stride = (
        _pair(name, value, 2) for name, value in
        (("output_size", output_size), ("kernel_size", kernel_size), ("dilation", dilation),
         ("padding", padding), ("stride", stride))
    )
    kh, kw = kernel_size
    out_hw = tuple(
        conv_output_size(output_size[i], kernel_size[i], stride[i], 2 * padding[i], dilation[i]) for i in range(2)
    )
    if cols.ndim != 3 or cols.shape[1] % (kh * kw) or cols.shape[2] != out_hw[0] * out_hw[1]:
        raise ValueError(
            f"fold: expected input of shape (N, C * {kh * kw}, {out_hw[0] * out_hw[1]}) for output_size "
            f"{output_size}, received {cols.shape}"
        )
    n, c = cols.shape[0], cols.shape[1] // (kh * kw)
    windows = cols.reshape(n, c, kh, kw, *out_hw).transpose(2, 3, 0, 4, 5, 1)  # (kh, kw, N, oh, ow, C)
    padded_shape = (n, output_size[0] + 2 * padding[0], output_size[1] + 2 * padding[1], c)
    x = col2im(windows, padded_shape, stride, dilation)
    x = x[:, padding[0] : padded_shape[1] - padding[0], padding[1] : padded_shape[2] - padding[1]]
    return np.ascontiguousarray(x.transpose(0, 3, 1, 2))


# Attention lives with its module (nn/attention.py); this is PyTorch's functional name for it.
from .attention import scaled_dot_product_attention  # noqa: E402  (attention.py imports nothing from here)
