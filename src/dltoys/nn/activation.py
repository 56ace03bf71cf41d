"""Elementwise activations and Softmax.

Each caches the one array its derivative needs (the output, or a float mask: a
mask multiply is cheaper than ``np.maximum`` or ``np.where``, see ``benchmarks/NOTES.md``).
All keep the input's dtype.
"""

from __future__ import annotations

import numpy as np

from ..utils import check_float, check_int
from . import functional as F
from .module import Module, check_grad_out, float_array


class Sigmoid(Module):
    """``s(x) = 1 / (1 + exp(-x))``; derivative ``s (1 - s)``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = F.sigmoid(float_array(self, x))
        self._cache = out
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = self._saved()
        grad_out = check_grad_out(self, grad_out, out.shape, out.dtype)
        return grad_out * out * (1 - out)


class Tanh(Module):
    """``tanh(x)``; derivative ``1 - tanh(x)^2``."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.tanh(float_array(self, x))
        self._cache = out
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = self._saved()
        grad_out = check_grad_out(self, grad_out, out.shape, out.dtype)
        return grad_out * (1 - out * out)


class ReLU(Module):
    """``max(x, 0)``; derivative ``1[x > 0]`` (0 at 0, as PyTorch)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = float_array(self, x)
        mask = (x > 0).astype(x.dtype)
        self._cache = mask
        return x * mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        mask = self._saved()
        return check_grad_out(self, grad_out, mask.shape, mask.dtype) * mask


class LeakyReLU(Module):
    """``x`` for ``x > 0``, ``negative_slope * x`` otherwise (``torch.nn.LeakyReLU``)."""

    def __init__(self, negative_slope: float = 0.01):
        super().__init__()
        self.negative_slope = check_float("negative_slope", negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = float_array(self, x)
        slope = (x > 0).astype(x.dtype)  # 1 where positive, else negative_slope
        slope *= 1 - self.negative_slope
        slope += self.negative_slope
        self._cache = slope
        return x * slope

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        mask = self._saved()
        return check_grad_out(self, grad_out, mask.shape, mask.dtype) * mask


class ELU(Module):
    """``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise (``torch.nn.ELU``; GAT's activation).

    Notes
    -----
    ``dy/dx = 1`` for ``x > 0``, ``y + alpha`` otherwise (read off the output).

    References
    ----------
    Clevert, Unterthiner & Hochreiter (2016), Fast and accurate deep network learning by
    exponential linear units (ELUs).
    """

    def __init__(self, alpha: float = 1.0):
        super().__init__()
        self.alpha = check_float("alpha", alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = float_array(self, x)
        positive = x > 0
        out = np.where(positive, x, self.alpha * np.expm1(np.minimum(x, 0)))
        slope = np.where(positive, 1, out + self.alpha).astype(x.dtype)
        self._cache = slope
        return out.astype(x.dtype, copy=False)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        slope = self._saved()
        return check_grad_out(self, grad_out, slope.shape, slope.dtype) * slope

class Softmax(Module):
    """``softmax(x)_i = exp(x_i) / sum_j exp(x_j)`` along ``dim`` (``torch.nn.Softmax``).

    For training a classifier, feed logits to :class:`CrossEntropyLoss` instead:
    it fuses the softmax with the loss and is stable.

    Notes
    -----
    With ``s`` the output and ``g = dL/ds``: ``dL/dx = s * (g - sum(g * s, dim))``.
    """

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = check_int("dim", dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = float_array(self, x)
        if not -x.ndim <= self.dim < max(x.ndim, 1):
            raise ValueError(f"Softmax(dim={self.dim}): invalid for an input of shape {x.shape}")
        out = F.softmax(x, axis=self.dim)
        self._cache = out
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        out = self._saved()
        grad_out = check_grad_out(self, grad_out, out.shape, out.dtype)
        inner = np.sum(grad_out * out, axis=self.dim, keepdims=True)
        return out * (grad_out - inner)
