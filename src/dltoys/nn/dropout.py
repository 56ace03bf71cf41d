"""Dropout: random zeroing during training, identity at evaluation."""

from __future__ import annotations

import numpy as np

from ..utils import RngLike, as_rng, check_float
from .module import Module, check_grad_out, float_array


class Dropout(Module):
    """Inverted dropout (``torch.nn.Dropout``).

    In training mode each element is zeroed with probability ``p`` and the
    survivors are scaled by ``1 / (1 - p)`` so the expected output equals the
    input; in evaluation mode the layer is the identity.

    Parameters
    ----------
    p : float in [0, 1], default 0.5
    rng : int, Generator or None
        Source of the masks; a seed makes every mask reproducible.

    Notes
    -----
    ``y = x * m`` with ``m_i = Bernoulli(1 - p) / (1 - p)``; ``dL/dx = dL/dy * m``.

    References
    ----------
    Srivastava et al. (2014), Dropout: a simple way to prevent neural networks from overfitting.
    """

    def __init__(self, p: float = 0.5, rng: RngLike = None):
        super().__init__()
        self.p = check_float("p", p, low=0.0, high=1.0)
        self.rng = as_rng(rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = float_array(self, x)
        if not self.training or self.p == 0.0:
            self._cache = (None, x.shape, x.dtype)  # identity: backward passes the gradient through
            return x
        if self.p == 1.0:
            mask = np.zeros_like(x)
        else:
            mask = (self.rng.random(x.shape, dtype=x.dtype) >= self.p).astype(x.dtype)
            mask *= 1.0 / (1.0 - self.p)
        self._cache = (mask, x.shape, x.dtype)
        return x * mask

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        mask, shape, dtype = self._saved()
        grad_out = check_grad_out(self, grad_out, shape, dtype)
        return grad_out if mask is None else grad_out * mask


class Dropout2d(Dropout):
    """Channel dropout (``torch.nn.Dropout2d``): whole feature maps zeroed.

    In training mode each channel of each sample is zeroed with probability ``p``
    and the kept channels are scaled by ``1 / (1 - p)``; in evaluation mode the
    layer is the identity. Neighbouring pixels of a feature map are strongly
    correlated, so dropping single pixels hardly regularises a convolution; dropping
    the whole map does (Tompson et al.).

    Parameters
    ----------
    p : float in [0, 1], default 0.5
    rng : int, Generator or None

    Shapes
    ------
    ``(N, C, H, W)`` -> the same.

    Notes
    -----
    ``y[n, c] = x[n, c] * m[n, c]`` with ``m[n, c] = Bernoulli(1 - p) / (1 - p)`` shared by
    the ``H W`` positions; ``dL/dx[n, c] = dL/dy[n, c] * m[n, c]``.

    References
    ----------
    Tompson et al. (2015), Efficient object localization using convolutional networks.
    """

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = float_array(self, x)
        if x.ndim != 4:
            raise ValueError(f"Dropout2d: expected input of shape (N, C, H, W), received {x.shape}")
        if not self.training or self.p == 0.0:
            self._cache = (None, x.shape, x.dtype)
            return x
        if self.p == 1.0:
            mask = np.zeros((*x.shape[:2], 1, 1), dtype=x.dtype)
        else:
            mask = (self.rng.random((*x.shape[:2], 1, 1), dtype=x.dtype) >= self.p).astype(x.dtype)
            mask *= 1.0 / (1.0 - self.p)
        self._cache = (mask, x.shape, x.dtype)
        return x * mask
