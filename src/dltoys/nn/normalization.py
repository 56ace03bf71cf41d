"""Batch normalisation."""

from __future__ import annotations

import numpy as np

from ..utils import check_bool, check_float, check_int, resolve_dtype
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
        if x.ndim not in (2, 3) or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}): expected input of shape (N, {self.num_features}) "
                f"or (N, {self.num_features}, L), received {x.shape}"
            )
        rows = self._to_rows(x)  # (M, C)
        use_batch_stats = self.training or not self.track_running_stats
        if use_batch_stats:
            count = rows.shape[0]
            if count < 2 and self.training:
                raise ValueError(
                    f"BatchNorm1d: expected more than 1 value per channel when training, "
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
