"""Two-dimensional Gaussian mixtures for GANs (a ring and a grid), and how well samples cover them.

The benchmark of Metz et al.'s unrolled GAN and VEEGAN (Srivastava et al. 2017):
8 Gaussians evenly spaced on a circle of radius 2, or 25 on the grid
``{-4, -2, 0, 2, 4}^2``, each with standard deviation 0.02. A generated sample is
*high quality* when it lies within three standard deviations of its nearest mode;
a mode is *captured* when at least ``min_count`` high-quality samples are nearest to it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dltoys.data._common import as_dataset, check_n_samples
from dltoys.utils import RngLike, as_array, as_rng, check_choice, check_float, check_int

MIXTURES = ("ring", "grid")


def mixture_centers(kind: str = "ring") -> np.ndarray:
    """The modes' centres, float64: ``(8, 2)`` on a circle of radius 2 or ``(25, 2)`` on a grid of spacing 2."""
    check_choice("kind", kind, MIXTURES)
    if kind == "ring":
        angles = 2 * np.pi * np.arange(8) / 8
        return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    ticks = np.arange(-4.0, 5.0, 2.0)
    return np.stack(np.meshgrid(ticks, ticks, indexing="ij"), axis=-1).reshape(-1, 2)


def make_gaussian_mixture(n_samples: int = 2500, kind: str = "ring", *, std: float = 0.02, rng: RngLike = None,
                          dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Samples of the ring or grid mixture, every mode equally likely.

    Returns
    -------
    X : ndarray of shape (n_samples, 2), float32 by default
    y : ndarray of shape (n_samples,), int64: the mode each sample was drawn from
    """
    n_samples = check_n_samples(n_samples)
    std = check_float("std", std, low=0.0)
    centers = mixture_centers(kind)
    rng = as_rng(rng)
    modes = rng.integers(0, len(centers), size=n_samples)  # (N,)
    X = centers[modes] + std * rng.standard_normal((n_samples, 2))  # (N, 2)
    return as_dataset(X, modes, dtype)


def mode_coverage(samples: Any, kind: str = "ring", *, std: float = 0.02, min_count: int = 20) -> dict[str, Any]:
    """How many modes a set of samples captures, and what share of them is high quality.

    Parameters
    ----------
    samples : array of shape (N, 2)
    kind : 'ring' or 'grid'
    std : float, default 0.02
        The mixture's standard deviation; high quality means within ``3 std`` of the nearest mode.
    min_count : int, default 20
        High-quality samples a mode needs to count as captured (PacGAN's 20 of 2500;
        VEEGAN's count needs only one, so this is the stricter of the two).

    Returns
    -------
    dict with ``modes`` (captured, int), ``n_modes``, ``high_quality`` (share in [0, 1])
    and ``counts`` (high-quality samples per mode, int array).
    """
    samples = as_array("samples", samples)
    if samples.ndim != 2 or samples.shape[1] != 2 or len(samples) == 0:
        raise ValueError(f"samples: expected shape (N >= 1, 2), received {samples.shape}")
    std = check_float("std", std, low=0.0, low_inclusive=False)
    min_count = check_int("min_count", min_count, minimum=1)
    centers = mixture_centers(kind)
    distances = np.linalg.norm(samples.astype(np.float64)[:, None, :] - centers[None], axis=2)  # (N, K)
    nearest = distances.argmin(axis=1)
    good = distances[np.arange(len(samples)), nearest] <= 3 * std
    good &= np.isfinite(samples).all(axis=1)
    counts = np.bincount(nearest[good], minlength=len(centers))
    return {"modes": int(np.sum(counts >= min_count)), "n_modes": len(centers),
            "high_quality": float(good.mean()), "counts": counts}
