"""Elementwise activations (Sigmoid, Tanh, ReLU, LeakyReLU, GELU) and Softmax.

Each caches the one array its derivative needs (the output, or a float mask: a
mask multiply is cheaper than ``np.maximum`` or ``np.where``, see ``benchmarks/NOTES.md``).
All keep the input's dtype.
"""

from __future__ import annotations

import math

import numpy as np

from ..utils import check_choice, check_float, check_int
from . import functional as F
from . import parallel
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


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2 * math.pi)
_TANH_SCALE = math.sqrt(2 / math.pi)


#: Elements per block of the float32 GELU (512 KB per buffer): each of its ~20 NumPy calls long enough
#: that call overhead, and handing the GIL between threads, stay small.
_GELU_BLOCK = 131072
# Abramowitz & Stegun 7.1.26: erfc(z) = t (a1 + t (a2 + ... + t a5)) exp(-z^2), t = 1 / (1 + p z), z >= 0,
# absolute error <= 1.5e-7. With z = |x| / sqrt 2, Phi(-|x|) = erfc(z) / 2 = t P(t) exp(-x^2 / 2) / 2; the
# 1/2 and 1 / c, c = 1 / sqrt(2 pi), go into the coefficients so that one exp gives c exp(-x^2 / 2) = phi(x).
_AS_P = 0.3275911 * _SQRT_HALF
_AS_COEFFS = tuple(a * 0.5 * math.sqrt(2 * math.pi) for a in (0.254829592, -0.284496736, 1.421413741, -1.453152027,
                                                                 1.061405429))
_LOG_INV_SQRT_2PI = math.log(_INV_SQRT_2PI)


def _gelu_erf_float32(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``x Phi(x)`` and its derivative ``Phi(x) + x phi(x)`` in float32, fused, in blocks of ``_GELU_BLOCK`` elements
    (split over the threads of :mod:`~dltoys.nn.parallel`)."""
    flat = x.reshape(-1)
    out = np.empty_like(flat)
    slope = np.empty_like(flat)
    f32 = np.float32
    a1, a2, a3, a4, a5 = (f32(a) for a in _AS_COEFFS)

    def blocks(first: int, last: int) -> None:
        scratch = np.empty(min(_GELU_BLOCK, last - first), dtype=flat.dtype)
        for start in range(first, last, _GELU_BLOCK):
            stop = min(start + _GELU_BLOCK, last)
            xb, ob, sb = flat[start:stop], out[start:stop], slope[start:stop]
            t = scratch[: stop - start]
            np.abs(xb, out=t)
            t *= f32(_AS_P)
            t += 1
            np.reciprocal(t, out=t)  # t = 1 / (1 + p |x| / sqrt 2)
            np.multiply(t, a5, out=ob)
            for coef in (a4, a3, a2, a1):
                ob += coef
                ob *= t  # t P(t), scaled
            np.square(xb, out=sb)
            sb *= f32(-0.5)
            sb += f32(_LOG_INV_SQRT_2PI)
            np.exp(sb, out=sb)  # phi(x)
            ob *= sb  # Phi(-|x|)
            np.subtract(f32(0.5), ob, out=ob)
            np.copysign(ob, xb, out=ob)
            ob += f32(0.5)  # Phi(x)
            sb *= xb
            sb += ob  # Phi(x) + x phi(x)
            ob *= xb  # x Phi(x)

    parallel.run_blocks(blocks, flat.size)
    return out.reshape(x.shape), slope.reshape(x.shape)


class GELU(Module):
    """Gaussian error linear unit ``x * Phi(x)`` (``torch.nn.GELU``).

    Parameters
    ----------
    approximate : {'none', 'tanh'}, default 'none'
        ``'none'``: ``Phi`` is the exact standard normal CDF, ``(1 + erf(x / sqrt 2)) / 2``
        (GPT-2 and nanoGPT with ``nn.GELU()``). ``'tanh'``: Hendrycks & Gimpel's
        approximation ``(1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) / 2``.

    Notes
    -----
    Exact form, with ``phi(x) = exp(-x^2 / 2) / sqrt(2 pi)``::

        y = x Phi(x)            dy/dx = Phi(x) + x phi(x)

    Tanh form, with ``u = sqrt(2/pi) (x + 0.044715 x^3)`` and ``t = tanh(u)``::

        y = x (1 + t) / 2       dy/dx = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2

    Forward computes the derivative alongside the output (it shares ``exp`` or
    ``tanh`` with it) and caches it; backward is one multiply. In float32 the exact
    form evaluates ``erf`` by Abramowitz & Stegun 7.1.26 (absolute error 1.5e-7,
    shared ``exp(-x^2/2)`` with the derivative) in blocks of 128k elements, split over threads; in
    float64 by :func:`dltoys.nn.functional.erf` (error 2e-15).

    References
    ----------
    Hendrycks & Gimpel (2016), Gaussian error linear units (GELUs).
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = check_choice("approximate", approximate, ("none", "tanh"))

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = float_array(self, x)
        dtype = x.dtype.type
        if self.approximate == "none" and x.dtype == np.float32:
            out, slope = _gelu_erf_float32(x)
        elif self.approximate == "none":
            cdf = F.erf(x * dtype(_SQRT_HALF))
            cdf += 1
            cdf *= 0.5  # Phi(x)
            slope = np.square(x)
            slope *= -0.5
            np.exp(slope, out=slope)
            slope *= x
            slope *= dtype(_INV_SQRT_2PI)  # x phi(x)
            slope += cdf
            out = cdf
            out *= x
        else:
            square = np.square(x)
            inner = square * dtype(0.044715)
            inner += 1
            inner *= x
            inner *= dtype(_TANH_SCALE)
            t = np.tanh(inner, out=inner)
            half_one_plus_t = t + 1
            half_one_plus_t *= 0.5
            square *= dtype(3 * 0.044715)
            square += 1
            square *= dtype(0.5 * _TANH_SCALE)  # sqrt(2/pi) (1 + 3c x^2) / 2
            np.square(t, out=t)
            np.subtract(1, t, out=t)
            square *= t
            square *= x
            slope = square
            slope += half_one_plus_t
            out = half_one_plus_t
            out *= x
        self._cache = slope
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        slope = self._saved()
        return check_grad_out(self, grad_out, slope.shape, slope.dtype) * slope
