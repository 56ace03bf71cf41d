"""Pooling: MaxPool1d/2d, AvgPool1d/2d (im2col windows) and AdaptiveAvgPool2d."""

from __future__ import annotations

import itertools
import math

import numpy as np

from ..utils import check_bool
from .conv import as_tuple, crop_channels_last, pad_channels_last, to_channels_first, to_channels_last
from .functional import col2im, im2col, kernel_major
from .module import Module, check_grad_out, float_array


def pool_output_size(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil_mode: bool) -> int:
    """PyTorch's pooling length: ``(size + 2 pad - dilation (kernel - 1) - 1) / stride + 1`` rounded
    down (up with ``ceil_mode``, dropping a last window that would start in the right padding)."""
    span = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1
    return out


class _BatchOfOne(Module):
    """PyTorch's unbatched input ``(C, *spatial)``, pooled as a batch of one.

    Subclasses implement ``_forward(x) -> (out, cache)`` and ``_backward(grad_out, cache)``
    on batched arrays ``(N, C, *spatial)``.
    """

    _ndim = 2

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = float_array(self, x)
        unbatched = x.ndim == self._ndim + 1
        out, cache = self._forward(x[None] if unbatched else x)
        self._cache = (unbatched, cache)
        return out[0] if unbatched else out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        unbatched, cache = self._saved()
        grad_out = np.asarray(grad_out)
        grad = self._backward(grad_out[None] if unbatched else grad_out, cache)
        return grad[0] if unbatched else grad

    def _check_batched(self, x: np.ndarray) -> None:
        letters = "L" if self._ndim == 1 else "H, W"
        if x.ndim != self._ndim + 2:
            raise ValueError(f"{type(self).__name__}: expected input of shape (N, C, {letters}) or unbatched "
                             f"(C, {letters}), received {x.shape}")


class _PoolNd(_BatchOfOne):
    """What max and average pooling share: arguments, windows, padding, output size."""

    _ndim = 2

    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False):
        super().__init__()
        ndim = self._ndim
        self.kernel_size = as_tuple("kernel_size", kernel_size, ndim, 1)
        self.stride = self.kernel_size if stride is None else as_tuple("stride", stride, ndim, 1)
        self.padding = as_tuple("padding", padding, ndim, 0)
        self.dilation = as_tuple("dilation", dilation, ndim, 1)
        self.ceil_mode = check_bool("ceil_mode", ceil_mode)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(
                f"padding: at most half of kernel_size, as PyTorch; received padding={padding!r} "
                f"with kernel_size={kernel_size!r}"
            )

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"dilation={self.dilation}, ceil_mode={self.ceil_mode}"
        )

    def _windows(self, x: np.ndarray, fill: float) -> tuple:
        """Channels-last ``x`` padded with ``fill`` (ceil_mode's overhang too), the output size,
        and the padding after each axis."""
        self._check_batched(x)
        sizes = x.shape[2:]
        out_size = tuple(
            pool_output_size(s, k, st, p, d, self.ceil_mode)
            for s, k, st, p, d in zip(sizes, self.kernel_size, self.stride, self.padding, self.dilation)
        )
        if min(out_size) < 1:
            raise ValueError(
                f"{type(self).__name__}: input of spatial size {sizes} is too small for kernel_size "
                f"{self.kernel_size} with padding {self.padding} and dilation {self.dilation}"
            )
        after = tuple(
            max(p, (o - 1) * st + d * (k - 1) + 1 - s - p)
            for s, o, k, st, p, d in zip(sizes, out_size, self.kernel_size, self.stride, self.padding, self.dilation)
        )
        padded = pad_channels_last(to_channels_last(x), self.padding, after, fill)  # (N, *spatial_p, C)
        return padded, out_size, after


class _MaxPoolNd(_PoolNd):
    """Notes
    -----
    ``y[n, c, o] = max_k x_pad[n, c, o stride + k dilation]`` over the window (padding is
    ``-inf``). The gradient goes to the window's maximum, to the first one in row-major
    window order on ties (as PyTorch)::

        dL/dx = col2im(onehot(argmax) * dL/dy)

    Non-overlapping windows (``kernel_size == stride``, no padding or dilation, floor mode;
    the 2x2 pooling of LeNet) take a fast path: the maximum of ``prod(kernel_size)`` strided
    slices, equal to the im2col path (tested).
    """

    def _fast(self) -> bool:
        return (
            self.kernel_size == self.stride
            and not any(self.padding)
            and all(d == 1 for d in self.dilation)
            and not self.ceil_mode
        )

    def _forward(self, x: np.ndarray) -> tuple:
        if self._fast():
            return self._forward_slices(x)
        padded, out_size, _ = self._windows(x, -np.inf)
        cols = im2col(padded, self.kernel_size, self.stride, self.dilation, out_size)  # (N, *out, *kernel, C)
        flat = cols.reshape(*cols.shape[: self._ndim + 1], -1, cols.shape[-1])  # (N, *out, K, C)
        argmax = flat.argmax(axis=-2)  # (N, *out, C)
        out = np.take_along_axis(flat, argmax[..., None, :], axis=-2)[..., 0, :]
        return to_channels_first(out), ("windows", argmax, cols.shape, padded.shape, x.shape, x.dtype)

    def _offsets(self):
        return itertools.product(*(range(k) for k in self.kernel_size))

    def _slice(self, offset: tuple, out_size: tuple) -> tuple:
        return (slice(None),) + tuple(slice(o, o + k * n, k) for o, k, n in zip(offset, self.kernel_size, out_size))

    def _forward_slices(self, x: np.ndarray) -> tuple:
        """The fast path: non-overlapping windows as ``np.maximum`` of strided slices.

        Each window offset's values are first copied into one contiguous ``(N, *out, C)``
        slab (one strided pass each), so every later pass, forward and backward, runs
        over contiguous memory instead of ``C``-long pieces.
        """
        self._check_batched(x)
        xl = to_channels_last(x)  # (N, *spatial, C)
        out_size = tuple(s // k for s, k in zip(xl.shape[1:-1], self.kernel_size))
        if min(out_size) < 1:
            self._windows(x, -np.inf)  # raises the error of a too small input
        offsets = list(self._offsets())
        slabs = np.empty((len(offsets), xl.shape[0], *out_size, xl.shape[-1]), dtype=xl.dtype)  # (K, N, *out, C)
        for k, offset in enumerate(offsets):
            slabs[k] = xl[self._slice(offset, out_size)]
        out = slabs[0].copy()
        for slab in slabs[1:]:
            np.maximum(out, slab, out=out)
        return to_channels_first(out), ("slices", slabs, out, xl.shape, x.shape, x.dtype)

    def _backward(self, grad_out: np.ndarray, cache: tuple) -> np.ndarray:
        kind, saved, out, padded_shape, in_shape, dtype = cache
        if kind == "slices":
            slabs, in_shape_cl = saved, padded_shape
            grad_out = check_grad_out(self, grad_out, to_channels_first(out).shape, dtype)
            remaining = np.empty(out.shape, dtype=dtype)  # (N, *out, C): gradient not yet routed to a maximum
            remaining[...] = to_channels_last(grad_out)
            grad = np.zeros(in_shape_cl, dtype=dtype)
            for slab, offset in zip(slabs, self._offsets()):
                share = remaining * (slab == out)  # the first offset holding the maximum takes it all
                grad[self._slice(offset, out.shape[1:-1])] = share
                remaining -= share
            return to_channels_first(grad)
        argmax, cols_shape = saved, out
        out_shape = (in_shape[0], in_shape[1], *cols_shape[1 : self._ndim + 1])
        g = to_channels_last(check_grad_out(self, grad_out, out_shape, dtype))  # (N, *out, C)
        n_taps = math.prod(self.kernel_size)
        taps = np.arange(n_taps).reshape(n_taps, 1)  # (K, 1)
        grad_cols = (taps == argmax[..., None, :]) * g[..., None, :]  # (N, *out, K, C)
        grad_cols = kernel_major(grad_cols.reshape(cols_shape), self._ndim)  # (*kernel, N, *out, C)
        grad_padded = col2im(grad_cols, padded_shape, self.stride, self.dilation)
        return to_channels_first(crop_channels_last(grad_padded, self.padding, in_shape[2:]))


class MaxPool1d(_MaxPoolNd):
    """1-D max pooling over ``(N, C, L)`` (``torch.nn.MaxPool1d``).

    Parameters
    ----------
    kernel_size : int
    stride : int or None, default ``kernel_size``
    padding : int, default 0
        ``-inf`` added at both ends; at most ``kernel_size // 2``.
    dilation : int, default 1
    ceil_mode : bool, default False
        Round the output length up: a last, partial window (that starts inside the input).

    Shapes
    ------
    ``(N, C, L)`` -> ``(N, C, L_out)``; unbatched ``(C, L)`` -> ``(C, L_out)``.
    """

    __doc__ += _MaxPoolNd.__doc__
    _ndim = 1


class MaxPool2d(_MaxPoolNd):
    """2-D max pooling over ``(N, C, H, W)`` (``torch.nn.MaxPool2d``).

    Parameters
    ----------
    kernel_size : int or pair
    stride : int, pair or None, default ``kernel_size``
    padding : int or pair, default 0
    dilation : int or pair, default 1
    ceil_mode : bool, default False

    Shapes
    ------
    ``(N, C, H, W)`` -> ``(N, C, H_out, W_out)``; unbatched ``(C, H, W)`` -> ``(C, H_out, W_out)``.

    References
    ----------
    Ranzato et al. (2007); LeCun et al. (1998) pooled by averaging ("subsampling").
    """

    __doc__ += _MaxPoolNd.__doc__
    _ndim = 2


class _AvgPoolNd(_PoolNd):
    """Notes
    -----
    ``y[n, c, o] = sum_k x_pad[n, c, o stride + k] / D[o]`` with padding zeros; ``D[o]``
    counts the window's positions inside the padded input (``count_include_pad=True``) or
    inside the input itself (False). ceil_mode's overhang is never counted (as PyTorch).
    ``dL/dx = col2im(dL/dy / D)`` (every position of a window receives an equal share).
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False, count_include_pad: bool = True):
        super().__init__(kernel_size, stride, padding, 1, ceil_mode)
        self.count_include_pad = check_bool("count_include_pad", count_include_pad)

    def extra_repr(self) -> str:
        return (
            f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
            f"ceil_mode={self.ceil_mode}, count_include_pad={self.count_include_pad}"
        )

    def _divisor(self, sizes: tuple, after: tuple, out_size: tuple, dtype) -> np.ndarray:
        """``D`` of shape ``(*out, 1)``: window positions counted, from a pooled mask of ones."""
        inner = np.ones((1, *sizes, 1), dtype=dtype)
        if self.count_include_pad:
            # the padding counts, ceil_mode's overhang past it does not
            mask = pad_channels_last(inner, self.padding, self.padding, 1.0)
            mask = pad_channels_last(mask, (0,) * self._ndim, tuple(a - p for a, p in zip(after, self.padding)))
        else:
            mask = pad_channels_last(inner, self.padding, after)
        cols = im2col(mask, self.kernel_size, self.stride, self.dilation, out_size)  # (1, *out, *kernel, 1)
        return cols.sum(axis=tuple(range(self._ndim + 1, 2 * self._ndim + 1)))[0]  # (*out, 1)

    def _forward(self, x: np.ndarray) -> tuple:
        padded, out_size, after = self._windows(x, 0.0)
        cols = im2col(padded, self.kernel_size, self.stride, self.dilation, out_size)  # (N, *out, *kernel, C)
        divisor = self._divisor(x.shape[2:], after, out_size, x.dtype)  # (*out, 1)
        out = cols.sum(axis=tuple(range(self._ndim + 1, 2 * self._ndim + 1)))  # (N, *out, C)
        out /= divisor
        return to_channels_first(out), (divisor, cols.shape, padded.shape, x.shape)

    def _backward(self, grad_out: np.ndarray, cache: tuple) -> np.ndarray:
        divisor, cols_shape, padded_shape, in_shape = cache
        out_shape = (in_shape[0], in_shape[1], *cols_shape[1 : self._ndim + 1])
        grad_out = check_grad_out(self, grad_out, out_shape, divisor.dtype)
        share = to_channels_last(grad_out) / divisor  # (N, *out, C)
        kernel = cols_shape[self._ndim + 1 : 2 * self._ndim + 1]
        grad_cols = np.broadcast_to(share, (*kernel, *share.shape))  # (*kernel, N, *out, C), no copy
        grad_padded = col2im(grad_cols, padded_shape, self.stride, self.dilation)
        return to_channels_first(crop_channels_last(grad_padded, self.padding, in_shape[2:]))


class AvgPool1d(_AvgPoolNd):
    """1-D average pooling over ``(N, C, L)`` (``torch.nn.AvgPool1d``).

    Parameters
    ----------
    kernel_size : int
    stride : int or None, default ``kernel_size``
    padding : int, default 0 (zeros, at most half the kernel)
    ceil_mode : bool, default False
    count_include_pad : bool, default True
        Divide by the whole window, padding included, or only by its positions inside the input.
    """

    __doc__ += _AvgPoolNd.__doc__
    _ndim = 1


class AvgPool2d(_AvgPoolNd):
    """2-D average pooling over ``(N, C, H, W)`` (``torch.nn.AvgPool2d``; no ``divisor_override``).

    Parameters
    ----------
    kernel_size : int or pair
    stride : int, pair or None, default ``kernel_size``
    padding : int or pair, default 0
    ceil_mode : bool, default False
    count_include_pad : bool, default True
    """

    __doc__ += _AvgPoolNd.__doc__
    _ndim = 2


def adaptive_pool_matrix(size: int, out_size: int, dtype) -> np.ndarray:
    """``(out_size, size)`` averaging matrix: row ``i`` is ``1 / len`` on PyTorch's window
    ``[floor(i size / out), ceil((i + 1) size / out))``."""
    matrix = np.zeros((out_size, size), dtype=dtype)
    for i in range(out_size):  # a loop over output positions (a handful), not pixels
        start, end = (i * size) // out_size, -(-((i + 1) * size) // out_size)
        matrix[i, start:end] = 1.0 / (end - start)
    return matrix


class AdaptiveAvgPool2d(_BatchOfOne):
    """Average pooling to a fixed output size (``torch.nn.AdaptiveAvgPool2d``).

    Parameters
    ----------
    output_size : int, or pair of int or None
        ``(H_out, W_out)``; None keeps that axis's input size.

    Notes
    -----
    The windows differ in size, so instead of im2col the layer is two averaging
    matrices (:func:`adaptive_pool_matrix`), ``Y = A_h X A_w^T`` per channel, and the
    backward pass is their transpose: ``dL/dX = A_h^T (dL/dY) A_w``.
    """

    def __init__(self, output_size):
        super().__init__()
        pair = (output_size,) * 2 if isinstance(output_size, (int, np.integer)) else output_size
        if not isinstance(pair, (tuple, list)) or len(pair) != 2:
            raise ValueError(f"output_size: expected an int or a pair of ints or None, received {output_size!r}")
        self.output_size = tuple(None if v is None else as_tuple("output_size", v, 1, 1)[0] for v in pair)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def _forward(self, x: np.ndarray) -> tuple:
        self._check_batched(x)
        height, width = x.shape[2:]
        out_h, out_w = (s if o is None else o for s, o in zip((height, width), self.output_size))
        rows, cols = adaptive_pool_matrix(height, out_h, x.dtype), adaptive_pool_matrix(width, out_w, x.dtype)
        out = np.einsum("ih,nhwc,jw->nijc", rows, to_channels_last(x), cols, optimize=True)  # (N, oh, ow, C)
        return to_channels_first(out), (rows, cols, x.shape)

    def _backward(self, grad_out: np.ndarray, cache: tuple) -> np.ndarray:
        rows, cols, in_shape = cache
        grad_out = check_grad_out(self, grad_out, (*in_shape[:2], len(rows), len(cols)), rows.dtype)
        grad = np.einsum("ih,nijc,jw->nhwc", rows, to_channels_last(grad_out), cols, optimize=True)
        return to_channels_first(grad)
