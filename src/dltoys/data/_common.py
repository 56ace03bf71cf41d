"""Argument checks and finishing steps shared by the synthetic generators.

Every generator validates ``n_samples`` and ``noise`` the same way and hands back
``(X, y)`` with ``X`` in the requested floating dtype and ``y`` as int64 labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dltoys.utils import check_float, check_int, resolve_dtype


def check_n_samples(n_samples: Any, minimum: int = 1) -> int:
    """Check the number of rows to generate (an integer, at least ``minimum``)."""
    return check_int("n_samples", n_samples, minimum=minimum)


def check_noise(noise: Any) -> float:
    """Check a noise scale: a finite number >= 0."""
    return check_float("noise", noise, low=0.0)


def check_at_least_one_per_class(n_samples: int, n_classes: int) -> None:
    """Refuse data sets where some class would have no sample at all."""
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples: expected at least one sample per class (>= {n_classes}), "
            f"received {n_samples}"
        )


def as_dataset(features: np.ndarray, labels: np.ndarray, dtype: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(X, y)``: features cast once to the float dtype, labels as int64."""
    return features.astype(resolve_dtype(dtype), copy=False), labels.astype(np.int64, copy=False)
