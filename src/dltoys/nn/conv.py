"""Convolutions: Conv1d and Conv2d, one im2col and one matmul per group."""

from __future__ import annotations

import math

import numpy as np

from ..utils import RngLike, as_rng, check_bool, check_int, resolve_dtype
from . import init
from .functional import col2im, conv_output_size, im2col
from .module import Module, Parameter, as_float_input, check_grad_out


def as_tuple(name: str, value, ndim: int, minimum: int) -> tuple:
    """An int or ``ndim`` ints, each an integer ``>= minimum``, as a tuple (PyTorch's ``_pair``)."""
    values = (value,) * ndim if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else value
    if not isinstance(values, (tuple, list)) or len(values) != ndim:
        raise ValueError(f"{name}: expected an int or a tuple of {ndim} ints, received {value!r}")
    return tuple(check_int(name, v, minimum=minimum) for v in values)


def to_channels_last(x: np.ndarray) -> np.ndarray:
    """``(N, C, *spatial)`` -> a ``(N, *spatial, C)`` view (free when the memory is channels-last,
    as the output of another layer of this family is)."""
    return x.transpose(0, *range(2, x.ndim), 1)


def to_channels_first(x: np.ndarray) -> np.ndarray:
    """``(N, *spatial, C)`` -> a ``(N, C, *spatial)`` view of the same memory."""
    return x.transpose(0, x.ndim - 1, *range(1, x.ndim - 1))


def pad_channels_last(x: np.ndarray, before: tuple, after: tuple, value: float = 0.0) -> np.ndarray:
    """``x`` of shape ``(N, *spatial, C)`` padded on the spatial axes (no copy without padding)."""
    if not any(before) and not any(after):
        return x
    shape = (x.shape[0], *(s + b + a for s, b, a in zip(x.shape[1:-1], before, after)), x.shape[-1])
    out = np.full(shape, value, dtype=x.dtype)
    out[(slice(None),) + tuple(slice(b, b + s) for b, s in zip(before, x.shape[1:-1]))] = x
    return out


def crop_channels_last(x: np.ndarray, before: tuple, size: tuple) -> np.ndarray:
    """The ``size`` window of ``x`` ``(N, *spatial, C)`` starting at ``before``: undoes the padding."""
    return x[(slice(None),) + tuple(slice(b, b + s) for b, s in zip(before, size))]


class _ConvNd(Module):
    """The convolution of :class:`Conv1d` and :class:`Conv2d` (``ndim`` spatial axes).

    Notes
    -----
    With the padded input read channels-last, ``X`` its im2col columns of shape
    ``(N * out_positions, kernel_positions * C_in)`` (one group), ``W`` the weight
    rearranged to ``(C_out, kernel_positions * C_in)`` in the same ``(*kernel, C_in)`` order,
    and ``G = dL/dY`` as ``(N * out_positions, C_out)``::

        Y = X W^T + b        dL/dW = G^T X        dL/db = sum_rows G        dL/dX = G W

    and the input gradient is ``col2im(dL/dX)`` with the padding cut off: every window
    position's gradient added back to the input values it read. With ``groups = g``, the
    channels split into ``g`` blocks and each block is its own convolution.
    """

    _ndim = 2

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__()
        ndim = self._ndim
        self.in_channels = check_int("in_channels", in_channels, minimum=1)
        self.out_channels = check_int("out_channels", out_channels, minimum=1)
        self.groups = check_int("groups", groups, minimum=1)
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"groups: in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
                f"divisible by groups, received groups={groups}"
            )
        self.kernel_size = as_tuple("kernel_size", kernel_size, ndim, 1)
        self.stride = as_tuple("stride", stride, ndim, 1)
        self.dilation = as_tuple("dilation", dilation, ndim, 1)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"padding: expected an int, a tuple of ints, 'same' or 'valid', received {padding!r}")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"padding='same' needs stride 1 (as PyTorch), received stride={stride!r}")
            self.padding = padding
        else:
            self.padding = as_tuple("padding", padding, ndim, 0)
        if padding_mode != "zeros":
            raise ValueError(f"padding_mode: only 'zeros' is implemented, received {padding_mode!r}")
        self.padding_mode = padding_mode
        check_bool("bias", bias)
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        shape = (out_channels, in_channels // groups, *self.kernel_size)
        # PyTorch's default: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias likewise
        bound = 1.0 / math.sqrt(init.fan_in_and_fan_out(shape)[0])
        self.weight = Parameter(init.uniform(shape, bound, rng, self.dtype))
        self.bias = Parameter(init.uniform((out_channels,), bound, rng, self.dtype)) if bias else None

    def extra_repr(self) -> str:
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * self._ndim:
            text += f", padding={self.padding!r}"
        if self.dilation != (1,) * self._ndim:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        return text + ("" if self.bias is not None else ", bias=False")

    def _padding(self) -> tuple[tuple, tuple]:
        """Padding before and after each spatial axis (``'same'``: the odd one goes after, as PyTorch)."""
        if self.padding == "valid":
            zeros = (0,) * self._ndim
            return zeros, zeros
        if self.padding == "same":
            total = tuple(d * (k - 1) for d, k in zip(self.dilation, self.kernel_size))
            before = tuple(t // 2 for t in total)
            return before, tuple(t - b for t, b in zip(total, before))
        return self.padding, self.padding

    def _check_input(self, x: np.ndarray) -> None:
        letters = "L" if self._ndim == 1 else "H, W"
        if x.ndim not in (self._ndim + 1, self._ndim + 2) or x.shape[-self._ndim - 1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}({self.in_channels}, {self.out_channels}): expected input of shape "
                f"(N, {self.in_channels}, {letters}) or unbatched ({self.in_channels}, {letters}), received {x.shape}"
            )

    def _weight_rows(self) -> np.ndarray:
        """The weight as ``(groups, C_out / groups, *kernel * C_in / groups)``, columns in im2col's order."""
        w = self.weight.data  # (C_out, C_in / g, *kernel)
        rows = np.ascontiguousarray(w.transpose(0, *range(2, w.ndim), 1))  # (C_out, *kernel, C_in / g)
        return rows.reshape(self.groups, self.out_channels // self.groups, -1)  # contiguous: BLAS takes it as is

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_input(self, x, self.dtype)
        self._check_input(x)
        unbatched = x.ndim == self._ndim + 1
        if unbatched:
            x = x[None]  # one sample, as PyTorch: a batch of one inside
        before, after = self._padding()
        padded = pad_channels_last(to_channels_last(x), before, after)  # (N, *spatial_p, C)
        out_size = tuple(
            conv_output_size(x.shape[2 + i], self.kernel_size[i], self.stride[i], before[i] + after[i],
                             self.dilation[i])
            for i in range(self._ndim)
        )
        if min(out_size) < 1:
            raise ValueError(
                f"{type(self).__name__}: input of spatial size {x.shape[2:]} with padding {self.padding!r} "
                f"is smaller than the dilated kernel {self.kernel_size} (dilation {self.dilation})"
            )
        cols = im2col(padded, self.kernel_size, self.stride, self.dilation, out_size)  # (N, *out, *kernel, C)
        rows = int(np.prod(cols.shape[: self._ndim + 1]))
        weight_rows = self._weight_rows()
        if self.groups == 1:
            columns = [cols.reshape(rows, -1)]  # (M, K * C)
        else:
            per_group = self.in_channels // self.groups
            columns = [cols[..., g * per_group : (g + 1) * per_group].reshape(rows, -1) for g in range(self.groups)]
        out = np.empty((rows, self.out_channels), dtype=self.dtype)  # (M, C_out)
        per_out = self.out_channels // self.groups
        for g, group_cols in enumerate(columns):
            np.matmul(group_cols, weight_rows[g].T, out=out[:, g * per_out : (g + 1) * per_out])
        if self.bias is not None:
            # rows of W_out * C_out values with the bias tiled along them: an inner loop over
            # C_out values at a time (8 in LeNet's first layer) is several times slower
            wide = out.reshape(-1, out_size[-1] * self.out_channels)  # (N * ..., W_out * C_out)
            wide += np.tile(self.bias.data, out_size[-1])
        self._cache = (columns, cols.shape, padded.shape, before, x.shape, unbatched)
        out = to_channels_first(out.reshape(x.shape[0], *out_size, self.out_channels))  # (N, C_out, *out)
        return out[0] if unbatched else out

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        columns, cols_shape, padded_shape, before, in_shape, unbatched = self._saved()
        out_size = cols_shape[1 : self._ndim + 1]
        if unbatched:
            grad_out = np.asarray(grad_out)[None]
        grad_out = check_grad_out(self, grad_out, (in_shape[0], self.out_channels, *out_size), self.dtype)
        rows = len(columns[0])
        g2d = to_channels_last(grad_out).reshape(rows, self.out_channels)  # (M, C_out); free if channels-last
        per_out = self.out_channels // self.groups
        if self.weight.requires_grad:
            grad_rows = np.empty((self.out_channels, columns[0].shape[1]), dtype=self.dtype)  # (C_out, K * C / g)
            for g, group_cols in enumerate(columns):
                if per_out == 1:  # depthwise: a matrix-vector product here is a BLAS dot whose rounding
                    # depends on the arrays' alignment; a column sum adds the M rows in one fixed order
                    np.sum(group_cols * g2d[:, g : g + 1], axis=0, out=grad_rows[g])
                else:  # as cols^T G, (K * C / g, C_out / g): OpenBLAS threads this shape, not G^T cols
                    grad_rows[g * per_out : (g + 1) * per_out] = (group_cols.T @ g2d[:, g * per_out : (g + 1) * per_out]).T
            kernel_c = (*self.kernel_size, self.in_channels // self.groups)
            self.weight.grad += grad_rows.reshape(self.out_channels, *kernel_c).transpose(
                0, self._ndim + 1, *range(1, self._ndim + 1)
            )
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += np.ones(rows, dtype=self.dtype) @ g2d  # (C_out,)
        if not self.needs_input_grad:
            return None  # the input is data
        # one matmul per kernel offset, batched: slab k = G W_k, (M, C_out) @ (C_out, C_in / g), written
        # kernel-offset major so that col2im adds contiguous slabs
        w = self.weight.data  # (C_out, C_in / g, *kernel)
        n_taps = int(np.prod(self.kernel_size))
        per_in = self.in_channels // self.groups
        weight_taps = np.ascontiguousarray(w.transpose(*range(2, w.ndim), 0, 1))  # (*kernel, C_out, C_in / g)
        weight_taps = weight_taps.reshape(n_taps, self.out_channels, per_in)
        if self.groups == 1:
            grad_cols = np.matmul(g2d, weight_taps)  # (K, M, C_in)
        else:
            grad_cols = np.empty((n_taps, rows, self.in_channels), dtype=self.dtype)
            for g in range(self.groups):
                grad_cols[..., g * per_in : (g + 1) * per_in] = np.matmul(
                    g2d[:, g * per_out : (g + 1) * per_out], weight_taps[:, g * per_out : (g + 1) * per_out]
                )
        grad_cols = grad_cols.reshape(*self.kernel_size, *cols_shape[: self._ndim + 1], self.in_channels)
        grad_padded = col2im(grad_cols, padded_shape, self.stride, self.dilation)  # (N, *spatial_p, C)
        grad = to_channels_first(crop_channels_last(grad_padded, before, in_shape[2:]))
        return grad[0] if unbatched else grad


class Conv1d(_ConvNd):
    """1-D convolution over ``(N, C_in, L)`` signals (``torch.nn.Conv1d``).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, dilation : int or tuple of 1 int
    padding : int, tuple of 1 int, ``'same'`` or ``'valid'``, default 0
        Zeros added at both ends; ``'same'`` keeps the length (stride 1 only; the odd zero
        goes at the end), ``'valid'`` is no padding.
    groups : int, default 1
        Split the channels into ``groups`` blocks convolved separately
        (``groups = in_channels`` is a depthwise convolution).
    bias : bool, default True
    padding_mode : ``'zeros'`` (the only one implemented)
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Initial weights and bias ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``,
        ``fan_in = in_channels / groups * kernel_size``, PyTorch's default.

    Shapes
    ------
    input ``(N, C_in, L)`` (or unbatched ``(C_in, L)``) -> output ``(N, C_out, L_out)`` with
    ``L_out = floor((L + pad_total - dilation (kernel_size - 1) - 1) / stride) + 1``;
    ``weight`` is ``(C_out, C_in / groups, kernel_size)``, ``bias`` ``(C_out,)``.

    Notes
    -----
    ``y[n, o, t] = b[o] + sum_{c, k} w[o, c, k] x_pad[n, c, t stride + k dilation]`` (a
    cross-correlation, as every deep-learning library), computed as one matmul of im2col
    columns; the backward pass is given in :class:`_ConvNd`.

    References
    ----------
    LeCun et al. (1998), Gradient-based learning applied to document recognition.
    """

    _ndim = 1


class Conv2d(_ConvNd):
    """2-D convolution over ``(N, C_in, H, W)`` images (``torch.nn.Conv2d``).

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride, dilation : int or pair of ints
    padding : int, pair of ints, ``'same'`` or ``'valid'``, default 0
    groups : int, default 1
    bias : bool, default True
    padding_mode : ``'zeros'`` (the only one implemented)
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Initial weights and bias ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))``,
        ``fan_in = in_channels / groups * kh * kw``, PyTorch's default.

    Shapes
    ------
    input ``(N, C_in, H, W)`` (or unbatched ``(C_in, H, W)``) -> output ``(N, C_out, H_out, W_out)``, each spatial size
    ``floor((size + pad_total - dilation (k - 1) - 1) / stride) + 1``;
    ``weight`` is ``(C_out, C_in / groups, kh, kw)``, ``bias`` ``(C_out,)``.

    Notes
    -----
    ``y[n, o, i, j] = b[o] + sum_{c, p, q} w[o, c, p, q] x_pad[n, c, i s_h + p d_h, j s_w + q d_w]``.
    Inside, activations are channels-last: the output is a ``(N, C, H, W)`` view of
    ``(N, H, W, C)`` memory, so the next convolution or pooling layer reads it without a copy.
    The backward pass is given in :class:`_ConvNd`.

    References
    ----------
    LeCun et al. (1998), Gradient-based learning applied to document recognition.
    """

    _ndim = 2
