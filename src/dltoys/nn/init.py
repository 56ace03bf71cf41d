"""Weight initialisers (Glorot/Xavier, He/Kaiming, PyTorch's defaults).

Each returns a new array of the requested shape and dtype drawn from ``rng``;
layers build their parameters from them, so a seed fixes every weight.

References
----------
Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward
neural networks. He et al. (2015), Delving deep into rectifiers.
"""

from __future__ import annotations

import math

import numpy as np

from ..utils import RngLike, as_rng, resolve_dtype


def fan_in_and_fan_out(shape: tuple) -> tuple[int, int]:
    """PyTorch's fans: ``(in * receptive, out * receptive)`` for a weight ``(out, in, *kernel)``."""
    if len(shape) < 2:
        raise ValueError(f"fans need a weight with at least 2 dimensions, received shape {shape}")
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for ``nonlinearity`` (``torch.nn.init.calculate_gain``)."""
    if nonlinearity in ("linear", "sigmoid", "identity"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(
        "nonlinearity: expected one of 'linear', 'sigmoid', 'tanh', 'relu', 'leaky_relu', "
        f"received {nonlinearity!r}"
    )


def uniform(shape: tuple, bound: float, rng: RngLike = None, dtype=None) -> np.ndarray:
    """``U(-bound, bound)``."""
    rng = as_rng(rng)
    return rng.uniform(-bound, bound, size=shape).astype(resolve_dtype(dtype))


def normal(shape: tuple, std: float, rng: RngLike = None, dtype=None) -> np.ndarray:
    """``N(0, std^2)``."""
    rng = as_rng(rng)
    return (std * rng.standard_normal(size=shape)).astype(resolve_dtype(dtype))


def xavier_uniform(shape: tuple, gain_: float = 1.0, rng: RngLike = None, dtype=None) -> np.ndarray:
    """Glorot uniform: ``U(-a, a)`` with ``a = gain * sqrt(6 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return uniform(shape, gain_ * math.sqrt(6.0 / (fan_in + fan_out)), rng, dtype)


def xavier_normal(shape: tuple, gain_: float = 1.0, rng: RngLike = None, dtype=None) -> np.ndarray:
    """Glorot normal: ``N(0, s^2)`` with ``s = gain * sqrt(2 / (fan_in + fan_out))``."""
    fan_in, fan_out = fan_in_and_fan_out(shape)
    return normal(shape, gain_ * math.sqrt(2.0 / (fan_in + fan_out)), rng, dtype)


def kaiming_uniform(
    shape: tuple, nonlinearity: str = "relu", a: float = 0.0, rng: RngLike = None, dtype=None
) -> np.ndarray:
    """He uniform on the fan-in: ``U(-b, b)`` with ``b = gain * sqrt(3 / fan_in)``.

    ``a = sqrt(5)`` with ``nonlinearity='leaky_relu'`` is PyTorch's default for
    ``nn.Linear`` and ``nn.Conv2d`` weights: ``b = 1 / sqrt(fan_in)``.
    """
    fan_in, _ = fan_in_and_fan_out(shape)
    return uniform(shape, gain(nonlinearity, a) * math.sqrt(3.0 / fan_in), rng, dtype)


def kaiming_normal(
    shape: tuple, nonlinearity: str = "relu", a: float = 0.0, rng: RngLike = None, dtype=None
) -> np.ndarray:
    """He normal on the fan-in: ``N(0, s^2)`` with ``s = gain / sqrt(fan_in)``."""
    fan_in, _ = fan_in_and_fan_out(shape)
    return normal(shape, gain(nonlinearity, a) / math.sqrt(fan_in), rng, dtype)
