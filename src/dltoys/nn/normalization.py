"""Normalisation layers: BatchNorm1d (statistics over the batch) and LayerNorm (over each sample)."""

from __future__ import annotations

import numpy as np

from ..utils import check_bool, check_float, check_int, resolve_dtype
from . import parallel
from .module import Module, Parameter, as_float_input, check_grad_out


class BatchNorm1d(Module):
    """Batch normalisation over ``(N, C)`` or ``(N, C, L)`` inputs (``torch.nn.BatchNorm1d``).

    Parameters
    ----------
    num_features : int
        ``C``, the channel count.
    eps : float, default 1e-5
        Added to the variance before the square root.
    momentum : float or None, default 0.1
        Weight of the new batch in the running statistics; ``None`` keeps a
        cumulative (equal-weight) average, as PyTorch.
    affine : bool, default True
        Learn a per-channel scale ``weight`` and shift ``bias``.
    track_running_stats : bool, default True
        Keep running mean/variance for evaluation mode; without them, batch
        statistics are used in both modes.
    dtype : float32 (default) or float64

    Notes
    -----
    In training mode, per channel over the ``M`` values of the batch::

        mu = mean(x)      var = mean((x - mu)^2)      xhat = (x - mu) / sqrt(var + eps)
        y = weight * xhat + bias

    and the backward pass, with ``gh = dL/dxhat = weight * dL/dy``::

        dL/dx = (M gh - sum(gh) - xhat sum(gh xhat)) / (M sqrt(var + eps))

    The running variance is updated with the unbiased batch variance
    ``var * M / (M - 1)``, as PyTorch. In evaluation mode ``mu`` and ``var`` are the
    running statistics, constants: ``dL/dx = gh / sqrt(var + eps)``.

    References
    ----------
    Ioffe & Szegedy (2015), Batch normalization: accelerating deep network training.
    """

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype=None,
    ):
        super().__init__()
        self.num_features = check_int("num_features", num_features, minimum=1)
        self.eps = check_float("eps", eps, low=0.0, low_inclusive=False)
        self.momentum = None if momentum is None else check_float("momentum", momentum, low=0.0, high=1.0)
        self.affine = check_bool("affine", affine)
        self.track_running_stats = check_bool("track_running_stats", track_running_stats)
        self.dtype = resolve_dtype(dtype)
        if self.affine:
            self.weight = Parameter(np.ones(num_features, dtype=self.dtype))
            self.bias = Parameter(np.zeros(num_features, dtype=self.dtype))
        else:
            self.weight = None
            self.bias = None
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(num_features, dtype=self.dtype))
            self.register_buffer("running_var", np.ones(num_features, dtype=self.dtype))
            self.register_buffer("num_batches_tracked", np.zeros((), dtype=np.int64))

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, track_running_stats={self.track_running_stats}"
        )

    _input_ndims = (2, 3)
    _input_shapes = ("", ", L")

    def _to_rows(self, x: np.ndarray) -> np.ndarray:
        """``(N, C)`` as is; ``(N, C, L)`` as ``(N*L, C)``."""
        if x.ndim == 2:
            return x
        return x.transpose(0, 2, 1).reshape(-1, self.num_features)

    def _from_rows(self, rows: np.ndarray, shape: tuple) -> np.ndarray:
        if len(shape) == 2:
            return rows
        n, c, length = shape
        return rows.reshape(n, length, c).transpose(0, 2, 1)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_input(self, x, self.dtype)
        if x.ndim not in self._input_ndims or x.shape[1] != self.num_features:
            shapes = " or ".join(f"(N, {self.num_features}{rest})" for rest in self._input_shapes)
            raise ValueError(
                f"{type(self).__name__}({self.num_features}): expected input of shape {shapes}, received {x.shape}"
            )
        rows = self._to_rows(x)  # (M, C)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            count = rows.shape[0]
            if count < 2 and self.training:
                raise ValueError(
                    f"{type(self).__name__}: expected more than 1 value per channel when training, "
                    f"received input of shape {x.shape}"
                )
            mean = rows.mean(axis=0)  # (C,)
            centered = rows - mean  # (M, C)
            var = np.einsum("mc,mc->c", centered, centered) / count  # (C,)
            if self.training and self.track_running_stats:
                self.num_batches_tracked += 1
                factor = (
                    1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                )
                unbiased = var * (count / (count - 1))  # count >= 2: checked above
                self.running_mean *= 1 - factor
                self.running_mean += factor * mean
                self.running_var *= 1 - factor
                self.running_var += factor * unbiased
        else:
            centered = rows - self.running_mean
            var = self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)  # (C,)
        xhat = centered * inv_std  # (M, C)
        out = xhat * self.weight.data + self.bias.data if self.affine else xhat
        self._cache = (xhat, inv_std, use_batch_stats, x.shape)
        return self._from_rows(out, x.shape)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        xhat, inv_std, used_batch_stats, shape = self._saved()
        grad_out = check_grad_out(self, grad_out, shape, self.dtype)
        g = self._to_rows(grad_out)  # (M, C)
        if self.affine:
            if self.weight.requires_grad:
                self.weight.grad += np.einsum("mc,mc->c", g, xhat)
            if self.bias.requires_grad:
                self.bias.grad += np.ones(len(g), dtype=g.dtype) @ g  # (C,): a matmul beats .sum(0) on tall g
            g_hat = g * self.weight.data  # (M, C)
        else:
            g_hat = g
        if used_batch_stats:
            count = g_hat.shape[0]
            sum_g = g_hat.sum(axis=0)  # (C,)
            sum_g_xhat = np.einsum("mc,mc->c", g_hat, xhat)  # (C,)
            grad_rows = (g_hat - sum_g / count - xhat * (sum_g_xhat / count)) * inv_std
        else:
            grad_rows = g_hat * inv_std
        return self._from_rows(grad_rows, shape)


class BatchNorm2d(BatchNorm1d):
    """Batch normalisation over ``(N, C, H, W)`` images, per channel (``torch.nn.BatchNorm2d``).

    Parameters, running statistics, state-dict keys, training and evaluation
    behaviour, and the backward pass are those of :class:`BatchNorm1d`, with the
    ``M = N H W`` values of a channel as the batch.

    Parameters
    ----------
    num_features : int
        ``C``, the channel count.
    eps : float, default 1e-5
    momentum : float or None, default 0.1
    affine : bool, default True
    track_running_stats : bool, default True
    dtype : float32 (default) or float64

    Notes
    -----
    Per channel over the ``M = N H W`` values::

        xhat = (x - mean) / sqrt(var + eps)      y = weight * xhat + bias
        dL/dx = (M gh - sum(gh) - xhat sum(gh xhat)) / (M sqrt(var + eps)),  gh = weight * dL/dy

    The rows are the channels-last view ``(N H W, C)``, free for the output of a
    convolution (channels-last memory), and the output keeps that layout.

    References
    ----------
    Ioffe & Szegedy (2015), Batch normalization: accelerating deep network training.
    """

    _input_ndims = (4,)
    _input_shapes = (", H, W",)

    def _to_rows(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W)`` as ``(N*H*W, C)`` (a view when the memory is channels-last)."""
        return x.transpose(0, 2, 3, 1).reshape(-1, self.num_features)

    def _from_rows(self, rows: np.ndarray, shape: tuple) -> np.ndarray:
        n, c, height, width = shape
        return rows.reshape(n, height, width, c).transpose(0, 3, 1, 2)
class LayerNorm(Module):
    """Layer normalisation over the last ``len(normalized_shape)`` dimensions (``torch.nn.LayerNorm``).

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape ``D`` normalised together (``d_model`` in a Transformer).
    eps : float, default 1e-5
        Added to the variance before the square root.
    elementwise_affine : bool, default True
        Learn a scale ``weight`` (ones) and, with ``bias``, a shift ``bias`` (zeros), of shape ``D``.
    bias : bool, default True
        Learn the shift (PyTorch's argument; only with ``elementwise_affine``).
    dtype : float32 (default) or float64

    Shapes
    ------
    input ``(*, *normalized_shape)`` -> output of the same shape.

    Notes
    -----
    Per row of ``M = prod(normalized_shape)`` values (statistics of the row, not of the batch)::

        mu = mean(x)      var = mean((x - mu)^2)      xhat = (x - mu) / sqrt(var + eps)
        y = weight * xhat + bias

    With ``gh = weight * dL/dy`` and ``r = 1 / sqrt(var + eps)``, the backward pass::

        dL/dx = r * (gh - mean(gh) - xhat * mean(gh * xhat))
        dL/dweight = sum over rows of dL/dy * xhat        dL/dbias = sum over rows of dL/dy

    The same formula as BatchNorm's with rows and columns swapped. Training and
    evaluation are the same computation (no running statistics).

    References
    ----------
    Ba, Kiros & Hinton (2016), Layer normalization.
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, dtype=None):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        if not shape:
            raise ValueError("normalized_shape: expected an int or a non-empty tuple of ints, received ()")
        self.normalized_shape = tuple(check_int("normalized_shape", n, minimum=1) for n in shape)
        self.eps = check_float("eps", eps, low=0.0, low_inclusive=False)
        self.elementwise_affine = check_bool("elementwise_affine", elementwise_affine)
        check_bool("bias", bias)
        self.dtype = resolve_dtype(dtype)
        self.weight = Parameter(np.ones(self.normalized_shape, dtype=self.dtype)) if self.elementwise_affine else None
        has_bias = self.elementwise_affine and bias
        self.bias = Parameter(np.zeros(self.normalized_shape, dtype=self.dtype)) if has_bias else None
        self._size = int(np.prod(self.normalized_shape))

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_input(self, x, self.dtype)
        k = len(self.normalized_shape)
        if x.ndim < k or x.shape[x.ndim - k:] != self.normalized_shape:
            raise ValueError(
                f"LayerNorm({self.normalized_shape}): expected input of shape (*, "
                f"{', '.join(map(str, self.normalized_shape))}), received {x.shape}"
            )
        rows = x.reshape(-1, self._size)  # (N, M)
        xhat = np.empty_like(rows)  # (N, M)
        out = np.empty_like(rows)  # (N, M)
        inv_std = np.empty(len(rows), dtype=rows.dtype)  # (N,)
        weight = None if self.weight is None else self.weight.data.reshape(-1)  # (M,)
        bias = None if self.bias is None else self.bias.data.reshape(-1)

        def normalise(start: int, stop: int) -> None:  # rows start:stop (independent of the others)
            r, xh, inv = rows[start:stop], xhat[start:stop], inv_std[start:stop]
            np.subtract(r, r.mean(axis=1, keepdims=True), out=xh)
            np.einsum("nm,nm->n", xh, xh, out=inv)  # a row-wise dot beats (xhat**2).sum(1)
            inv *= 1.0 / self._size
            inv += self.eps
            np.sqrt(inv, out=inv)
            np.reciprocal(inv, out=inv)  # 1 / sqrt(var + eps)
            xh *= inv[:, None]
            if weight is None:
                out[start:stop] = xh
                return
            np.multiply(xh, weight, out=out[start:stop])
            if bias is not None:
                out[start:stop] += bias

        parallel.run_blocks(normalise, len(rows), self._size)
        self._cache = (xhat, inv_std, x.shape)
        return out.reshape(x.shape)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        xhat, inv_std, shape = self._saved()
        grad_out = check_grad_out(self, grad_out, shape, self.dtype)
        g = grad_out.reshape(-1, self._size)  # (N, M)
        weight = None
        if self.weight is not None:
            if self.weight.requires_grad:
                self.weight.grad += np.einsum("nm,nm->m", g, xhat).reshape(self.normalized_shape)
            if self.bias is not None and self.bias.requires_grad:
                self.bias.grad += (np.ones(len(g), dtype=g.dtype) @ g).reshape(self.normalized_shape)
            weight = self.weight.data.reshape(-1)
        g_hat = np.empty_like(g)  # (N, M)

        def input_grad(start: int, stop: int) -> None:  # rows start:stop (independent of the others)
            gh, xh = g_hat[start:stop], xhat[start:stop]
            if weight is None:
                gh[...] = g[start:stop]
            else:
                np.multiply(g[start:stop], weight, out=gh)
            mean_g = gh.mean(axis=1, keepdims=True)  # (n, 1)
            mean_g_xhat = np.einsum("nm,nm->n", gh, xh)[:, None]  # (n, 1)
            mean_g_xhat *= 1.0 / self._size
            gh -= mean_g
            gh -= xh * mean_g_xhat
            gh *= inv_std[start:stop, None]

        parallel.run_blocks(input_grad, len(g), self._size)
        return g_hat.reshape(shape)
