"""MNIST-1D (Greydanus 2020): ten 1-D digit templates, padded, scaled, shifted, sheared and noised.

The reference procedure and defaults of the ``mnist1d`` package, reproduced with NumPy
alone (its scipy interpolation and Gaussian filter written out), drawing from the same
legacy Mersenne-Twister stream in the same order: with the default seed 42 the arrays
equal the reference's to rounding (tested against the package).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from dltoys.utils import check_float, check_int, resolve_dtype

#: The ten templates (values at 12 points), before whitening: digits as 1-D strokes.
_TEMPLATES = np.array([
    [5, 6, 6.5, 6.75, 7, 7, 7, 7, 6.75, 6.5, 6, 5],
    [5, 3, 3, 3.4, 3.8, 4.2, 4.6, 5, 5.4, 5.8, 5, 5],
    [5, 6, 6.5, 6.5, 6, 5.25, 4.75, 4, 3.5, 3.5, 4, 5],
    [5, 6, 6.5, 6.5, 6, 5, 5, 6, 6.5, 6.5, 6, 5],
    [5, 4.4, 3.8, 3.2, 2.6, 2.6, 5, 5, 5, 5, 5, 5],
    [5, 3, 3, 3, 3, 5, 6, 6.5, 6.5, 6, 4.5, 5],
    [5, 4, 3.5, 3.25, 3, 3, 3, 3, 3.25, 3.5, 4, 5],
    [5, 7, 7, 6.6, 6.2, 5.8, 5.4, 5, 4.6, 4.2, 5, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 4, 3.5, 3.5, 4, 5],
    [5, 4, 3.5, 3.5, 4, 5, 5, 5, 5, 4.7, 4.3, 5],
])


def mnist1d_templates() -> np.ndarray:
    """The ten templates ``(10, 12)``: whitened, shifted to start at 0, divided by 6 (the reference's)."""
    x = _TEMPLATES - _TEMPLATES.mean(axis=1, keepdims=True)
    x /= x.std(axis=1, keepdims=True)
    x -= x[:, :1]
    return x / 6.0


@dataclass(frozen=True)
class MNIST1D:
    """The data set: ``X`` ``(4000, 40)``, ``y`` ``(4000,)``, ``X_test`` ``(1000, 40)``, ``y_test``."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _interpolate(x: np.ndarray, n: int) -> np.ndarray:
    """Linear resampling of ``x`` to ``n`` evenly spaced points on the same [0, 1] span."""
    return np.interp(np.linspace(0, 1, n), np.linspace(0, 1, len(x)), x)


def _gaussian_filter(x: np.ndarray, sigma: float, truncate: float = 4.0) -> np.ndarray:
    """1-D Gaussian smoothing with the signal mirrored at both ends (scipy's ``gaussian_filter``,
    mode 'reflect', radius ``int(truncate sigma + 0.5)``)."""
    radius = int(truncate * sigma + 0.5)
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    taps /= taps.sum()
    return np.convolve(np.pad(x, radius, mode="symmetric"), taps, mode="valid")


def make_mnist1d(
    n_samples: int = 5000,
    *,
    train_split: float = 0.8,
    template_len: int = 12,
    padding: tuple[int, int] = (36, 60),
    scale_coeff: float = 0.4,
    max_translation: int = 48,
    corr_noise_scale: float = 0.25,
    iid_noise_scale: float = 2e-2,
    shear_scale: float = 0.75,
    final_seq_length: int = 40,
    seed: int = 42,
    dtype: Any = None,
) -> MNIST1D:
    """Generate MNIST-1D with the reference procedure (defaults: the paper's data set).

    Parameters
    ----------
    n_samples : int, default 5000
        Split ``train_split`` : rest into training and test parts (4000 / 1000).
    train_split : float, default 0.8
    template_len, padding, scale_coeff, max_translation, corr_noise_scale, iid_noise_scale,
    shear_scale, final_seq_length :
        The reference's transformation parameters, under its names.
    seed : int, default 42
        Seed of the legacy ``np.random.RandomState`` stream the reference draws from
        (not a ``Generator``: with it, the data set is the paper's, value for value).
    dtype : float32 (default) or float64

    Returns
    -------
    MNIST1D
        Signals of length ``final_seq_length``, the whole set centred and scaled to
        standard deviation 1; labels int64 in 0..9, shuffled.

    Notes
    -----
    Per sample, for template ``x`` of its class: append a random number of zeros
    (``padding``), resample to ``template_len + padding[1]`` points, scale by
    ``1 + scale_coeff (u - 1/2)``, rotate by a random shift below ``max_translation``,
    replace the exact zeros by correlated noise (Gaussian, smoothed with sigma 2), add
    i.i.d. noise, subtract a random linear ramp (shear) and resample to
    ``final_seq_length`` points. The translation is what a model must be invariant to:
    a 1-D CNN shares its filters across positions, an MLP must learn each shift apart.

    References
    ----------
    Greydanus & Kobak (2020), Scaling down deep learning with MNIST-1D.
    """
    n_samples = check_int("n_samples", n_samples, minimum=10)
    train_split = check_float("train_split", train_split, low=0.0, high=1.0)
    check_int("seed", seed, minimum=0)
    dtype = resolve_dtype(dtype)
    low, high = (check_int("padding", p, minimum=0) for p in padding)
    max_translation = check_int("max_translation", max_translation, minimum=1)
    random = np.random.RandomState(seed)
    templates = mnist1d_templates()
    length = template_len + high
    per_class = n_samples // len(templates)
    xs = np.empty((per_class * len(templates), final_seq_length))
    ys = np.repeat(np.arange(len(templates)), per_class)
    ramp = np.linspace(-0.5, 0.5, length)
    for index, label in enumerate(ys):  # the draws must come in the reference's order, sample by sample
        pad = low + int(random.rand() * (high - low + 1))
        x = _interpolate(np.concatenate([templates[label] + 1e-8, np.zeros(pad)]), length)
        x *= 1 + scale_coeff * (random.rand() - 0.5)
        x = np.roll(x, random.choice(max_translation))
        blank = x == 0
        x = np.where(blank, _gaussian_filter(corr_noise_scale * random.randn(length), 2), x)
        x = x + iid_noise_scale * random.randn(length)
        x = x - shear_scale * (random.rand() - 0.5) * ramp
        xs[index] = _interpolate(x, final_seq_length)
    order = random.permutation(len(ys))
    xs, ys = xs[order], ys[order]
    xs = (xs - xs.mean()) / xs.std()
    split = int(len(ys) * train_split)
    xs = xs.astype(dtype)
    return MNIST1D(xs[:split], ys[:split].astype(np.int64), xs[split:], ys[split:].astype(np.int64))
