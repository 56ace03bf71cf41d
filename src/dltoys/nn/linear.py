"""Affine and shape-only layers: Linear, Identity, Flatten."""

from __future__ import annotations

import math

import numpy as np

from ..utils import RngLike, as_rng, check_bool, check_int, resolve_dtype
from . import init
from .module import Module, Parameter, as_float_input, check_grad_out


class Linear(Module):
    """Affine map ``y = x W^T + b`` (``torch.nn.Linear``).

    Parameters
    ----------
    in_features, out_features : int
    bias : bool, default True
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Source of the initial weights: ``U(-1/sqrt(in_features), 1/sqrt(in_features))``
        for weight and bias, PyTorch's default.

    Shapes
    ------
    input ``(*, in_features)`` -> output ``(*, out_features)``;
    ``weight`` is ``(out_features, in_features)``, ``bias`` is ``(out_features,)``.

    Notes
    -----
    With ``X`` the input flattened to ``(N, in)`` and ``G = dL/dY`` of shape ``(N, out)``::

        dL/dW = G^T X        dL/db = sum_n G_n        dL/dX = G W

    ``dL/dX`` is skipped (backward returns None) when ``needs_input_grad`` is False.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__()
        self.in_features = check_int("in_features", in_features, minimum=1)
        self.out_features = check_int("out_features", out_features, minimum=1)
        bias = check_bool("bias", bias)
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        bound = 1.0 / math.sqrt(self.in_features)
        self.weight = Parameter(init.uniform((out_features, in_features), bound, rng, self.dtype))
        self.bias = Parameter(init.uniform((out_features,), bound, rng, self.dtype)) if bias else None

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_float_input(self, x, self.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{type(self).__name__}(in_features={self.in_features}, out_features={self.out_features}): "
                f"expected input of shape (*, {self.in_features}), received {x.shape}"
            )
        x2d = x.reshape(-1, self.in_features)  # (N, in)
        out = x2d @ self.weight.data.T  # (N, out)
        if self.bias is not None:
            out += self.bias.data
        self._cache = (x2d, x.shape)
        return out.reshape(*x.shape[:-1], self.out_features)

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        x2d, in_shape = self._saved()
        grad_out = check_grad_out(self, grad_out, (*in_shape[:-1], self.out_features), self.dtype)
        g2d = grad_out.reshape(-1, self.out_features)  # (N, out)
        if self.weight.requires_grad:
            self.weight.grad += g2d.T @ x2d  # (out, in)
        if self.bias is not None and self.bias.requires_grad:
            self.bias.grad += np.ones(len(g2d), dtype=g2d.dtype) @ g2d  # (out,): a matmul beats .sum(0) on tall g
        if not self.needs_input_grad:
            return None  # the input is data
        return (g2d @ self.weight.data).reshape(in_shape)  # (*, in)


def _grad_dtype(x: np.ndarray):
    """The dtype a shape-only layer returns its input gradient in: the input's, if it
    is a float (integer data, say uint8 pixels before Flatten, has no gradient of its own)."""
    return x.dtype if x.dtype.kind == "f" else None


class Identity(Module):
    """Returns its input (``torch.nn.Identity``); a placeholder in a model definition."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        self._cache = (x.shape, _grad_dtype(x))
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return check_grad_out(self, grad_out, *self._saved())


class Flatten(Module):
    """Flattens dimensions ``start_dim..end_dim`` into one (``torch.nn.Flatten``).

    Shapes
    ------
    input ``(N, C, H, W)`` -> output ``(N, C*H*W)`` with the defaults.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = check_int("start_dim", start_dim)
        self.end_dim = check_int("end_dim", end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        ndim = max(x.ndim, 1)
        start = self.start_dim % ndim
        end = self.end_dim % ndim
        if not (-ndim <= self.start_dim < ndim and -ndim <= self.end_dim < ndim) or start > end:
            raise ValueError(
                f"Flatten(start_dim={self.start_dim}, end_dim={self.end_dim}): "
                f"invalid for an input of shape {x.shape}"
            )
        # the flattened size spelled out: -1 cannot be inferred when another axis is 0
        out = x.reshape(x.shape[:start] + (math.prod(x.shape[start : end + 1]),) + x.shape[end + 1 :])
        self._cache = (x.shape, out.shape, _grad_dtype(x))
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        in_shape, out_shape, dtype = self._saved()
        return check_grad_out(self, grad_out, out_shape, dtype).reshape(in_shape)
