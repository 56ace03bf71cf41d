"""The self-organizing map's maths as plain functions: schedules, the grid, neighbourhoods, distances.

MiniSom's definitions, so that a map trained with :class:`dltoys.models.SOM` compares
with one trained there. :mod:`dltoys.models.som` builds the model and its step on these.
"""

from __future__ import annotations

import numpy as np

NEIGHBORHOODS = ("gaussian", "mexican_hat", "bubble", "triangle")
TOPOLOGIES = ("rectangular", "hexagonal")
DISTANCES = ("euclidean", "cosine", "manhattan")
INITIALIZATIONS = ("pca", "random", "sample")
TRAININGS = ("online", "batch")
LR_DECAYS = ("asymptotic_decay", "inverse_decay_to_zero", "linear_decay_to_zero")
SIGMA_DECAYS = ("asymptotic_decay", "inverse_decay_to_one", "linear_decay_to_one")
#: Rows of samples per block when distances to every unit are computed (bounded memory).
BLOCK_ROWS = 4096


# ------------------------------------------------------------------ schedules
def decay(name: str, start: float, t: float, t_max: int) -> float:
    """The learning rate or radius at step ``t`` of ``t_max`` (MiniSom's decay functions).

    asymptotic_decay: ``p / (1 + 2 t / T)``, a third of ``p`` at the end;
    inverse_decay_to_zero: ``p C / (C + t)``, ``C = T / 100``;
    linear_decay_to_zero: ``p (1 - t / T)``;
    inverse_decay_to_one: ``p / (1 + t (p - 1) / T)``;
    linear_decay_to_one: ``p + t (1 - p) / T``.
    """
    if name == "asymptotic_decay":
        return start / (1 + t / (t_max / 2))
    if name == "inverse_decay_to_zero":
        c = t_max / 100.0
        return start * c / (c + t)
    if name == "linear_decay_to_zero":
        return start * (1 - t / t_max)
    if name == "inverse_decay_to_one":
        return start / (1 + t * (start - 1) / t_max)
    if name == "linear_decay_to_one":
        return start + t * (1 - start) / t_max
    raise ValueError(f"decay: unknown schedule {name!r}")


# ----------------------------------------------------------------------- grid
def grid_coordinates(n_rows: int, n_columns: int, topology: str) -> tuple[np.ndarray, np.ndarray]:
    """Each unit's place on the map, float64, row-major over (row, column).

    Returns
    -------
    positions : array of shape (n_rows * n_columns, 2)
        Coordinates in the plane: the grid indices for 'rectangular'; for 'hexagonal',
        every other column (counted from the last) shifted by -1/2 along the rows and
        the columns spaced sqrt(3)/2 apart, so that the six neighbours lie at distance 1.
    indices : array of shape (n_rows * n_columns, 2)
        The integer (row, column) of each unit.
    """
    rows, columns = np.meshgrid(np.arange(n_rows, dtype=np.float64), np.arange(n_columns, dtype=np.float64),
                                indexing="ij")  # (R, C) each
    indices = np.stack([rows.ravel(), columns.ravel()], axis=1)  # (U, 2)
    positions = indices.copy()
    if topology == "hexagonal":
        shifted = (n_columns - 1 - indices[:, 1]) % 2 == 0
        positions[shifted, 0] -= 0.5
        positions[:, 1] *= np.sqrt(3) / 2
    return positions, indices


def neighborhood(kind: str, positions: np.ndarray, indices: np.ndarray, winners: np.ndarray,
                 sigma: float) -> np.ndarray:
    """``h[b, u]``: how much unit ``u`` moves towards a sample whose best-matching unit is ``winners[b]``.

    Parameters
    ----------
    kind : {'gaussian', 'mexican_hat', 'bubble', 'triangle'}
    positions, indices : arrays of shape (U, 2), from :func:`grid_coordinates`
    winners : int array of shape (B,)
    sigma : float, the radius

    Returns
    -------
    array of shape (B, U), float64

    Notes
    -----
    With ``dr, dc`` the offsets from the winner (plane coordinates for the first two,
    grid indices for the last two) and ``s = 2 sigma^2``:
    gaussian ``exp(-dr^2 / s) exp(-dc^2 / s)``; mexican hat
    ``exp(-p / s) (1 - 2 p / s)`` with ``p = dr^2 + dc^2``; bubble 1 where
    ``|dr| < sigma`` and ``|dc| < sigma``, else 0; triangle
    ``max(0, sigma - |dr|) max(0, sigma - |dc|)`` (not normalised: its peak is
    ``sigma^2``, as in MiniSom).
    """
    coordinates = positions if kind in ("gaussian", "mexican_hat") else indices  # (U, 2)
    d_row = coordinates[:, 0] - coordinates[winners, 0][:, None]  # (B, U)
    d_col = coordinates[:, 1] - coordinates[winners, 1][:, None]  # (B, U)
    if kind == "gaussian":
        spread = 2 * sigma * sigma
        return np.exp(-d_row ** 2 / spread) * np.exp(-d_col ** 2 / spread)
    if kind == "mexican_hat":
        spread = 2 * sigma * sigma
        p = d_row ** 2 + d_col ** 2
        return np.exp(-p / spread) * (1 - 2 / spread * p)
    if kind == "bubble":
        return ((np.abs(d_row) < sigma) & (np.abs(d_col) < sigma)).astype(np.float64)
    if kind == "triangle":
        return np.maximum(sigma - np.abs(d_row), 0) * np.maximum(sigma - np.abs(d_col), 0)
    raise ValueError(f"neighborhood: unknown kind {kind!r}")


# ------------------------------------------------------------------ distances
def unit_distances(X: np.ndarray, weight: np.ndarray, metric: str) -> np.ndarray:
    """Distances from every sample to every unit, shape (N, U), in blocks of rows.

    ``X`` of shape (N, F), ``weight`` of shape (U, F). Euclidean by the expansion
    ``|x|^2 - 2 x.w + |w|^2`` (one matmul, clipped at 0 as MiniSom does); cosine
    ``1 - x.w / (|x| |w| + 1e-8)``; manhattan ``sum |x - w|``.
    """
    out = np.empty((len(X), len(weight)), dtype=weight.dtype)  # (N, U)
    if metric == "euclidean":
        weight_sq = np.einsum("uf,uf->u", weight, weight)  # (U,)
    elif metric == "cosine":
        weight_norm = np.sqrt(np.einsum("uf,uf->u", weight, weight))  # (U,)
    rows = BLOCK_ROWS if metric != "manhattan" else max(1, BLOCK_ROWS * 16 // max(1, weight.size))
    for start in range(0, len(X), rows):
        block = X[start:start + rows]  # (b, F)
        if metric == "euclidean":
            squared = np.einsum("bf,bf->b", block, block)[:, None] - 2 * block @ weight.T + weight_sq  # (b, U)
            out[start:start + rows] = np.sqrt(np.maximum(squared, 0))
        elif metric == "cosine":
            block_norm = np.sqrt(np.einsum("bf,bf->b", block, block))[:, None]  # (b, 1)
            out[start:start + rows] = 1 - (block @ weight.T) / (block_norm * weight_norm + 1e-8)
        else:
            out[start:start + rows] = np.abs(block[:, None, :] - weight[None, :, :]).sum(axis=2)  # (b, U)
    return out


def _one_sample_distances(diff: np.ndarray, x: np.ndarray, weight: np.ndarray, metric: str) -> np.ndarray:
    """Distances of one sample ``x`` (F,) to every unit, from ``diff = x - weight`` (U, F); MiniSom's exact forms."""
    if metric == "euclidean":
        return np.sqrt(np.einsum("uf,uf->u", diff, diff))
    if metric == "manhattan":
        return np.abs(diff).sum(axis=1)
    dots = weight @ x  # (U,)
    return 1 - dots / (np.sqrt(np.einsum("uf,uf->u", weight, weight)) * np.sqrt(x @ x) + 1e-8)
