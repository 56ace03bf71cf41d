"""Self-organizing map views: the U-matrix, component planes, hit counts, a labelled map, the codebook as colours.

Each takes arrays shaped like the grid, (n_rows, n_columns[, ...]); row ``r`` of the
map is drawn as row ``r`` of the picture (top to bottom), column ``c`` left to right.
Hexagonal maps pass the units' plane ``positions`` (n_units, 2) and are drawn as
hexagons there.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .core import PALETTE


def _check_grid(name: str, values: Any, extra_dims: int = 0) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim != 2 + extra_dims:
        raise ValueError(f"{name}: expected an array of shape (n_rows, n_columns{', ...' * extra_dims}), "
                         f"received shape {values.shape}")
    return values


def _cells(ax: Any, values: np.ndarray, positions: Any, cmap: str, vmin: float | None = None,
           vmax: float | None = None) -> Any:
    """Colour one cell per unit: squares (imshow) without positions, hexagons at the positions with them."""
    n_rows, n_columns = values.shape[:2]
    ax.grid(False)
    if positions is None:
        return ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, origin="upper")
    from matplotlib.collections import PolyCollection

    positions = np.asarray(positions, dtype=np.float64)
    if positions.shape != (n_rows * n_columns, 2):
        raise ValueError(f"positions: expected shape ({n_rows * n_columns}, 2), received {positions.shape}")
    centres = positions[:, ::-1]  # x along the columns, y along the rows
    # Units in a column are 1 apart: flat-topped hexagons with apothem 1/2 (circumradius 1/sqrt(3)) tile the map.
    angles = np.arange(6) * np.pi / 3
    corners = np.stack([np.cos(angles), np.sin(angles)], axis=1) / np.sqrt(3)  # (6, 2)
    hexagons = PolyCollection(centres[:, None, :] + corners[None], cmap=cmap, edgecolors="none")  # (U, 6, 2)
    if values.ndim == 3:  # RGB codebooks
        hexagons.set_facecolor(np.clip(values.reshape(-1, values.shape[2]), 0, 1))
    else:
        hexagons.set_array(np.ma.getdata(values).reshape(-1).astype(np.float64))
        hexagons.set_clim(vmin, vmax)
    ax.add_collection(hexagons)
    ax.set_xlim(centres[:, 0].min() - 0.7, centres[:, 0].max() + 0.7)
    ax.set_ylim(centres[:, 1].max() + 0.7, centres[:, 1].min() - 0.7)  # row 0 on top, as imshow
    ax.set_aspect("equal")
    return hexagons


def _bare(ax: Any, title: str) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=10)


def u_matrix(ax: Any, distances: Any, *, positions: Any = None, title: str = "U-matrix",
             colorbar: bool = True) -> Any:
    """The U-matrix: each unit's (scaled) distance to its grid neighbours; dark ridges separate clusters.

    Parameters
    ----------
    distances : array of shape (n_rows, n_columns), e.g. ``SOM.distance_map()``
    positions : array of shape (n_units, 2), optional (hexagonal maps)
    """
    distances = _check_grid("u_matrix", distances)
    image = _cells(ax, distances, positions, "bone_r")
    if colorbar:
        ax.get_figure().colorbar(image, ax=ax, shrink=0.8, label="distance to neighbours (max 1)")
    _bare(ax, title)
    return image


def component_planes(axes: Any, weights: Any, names: Sequence[str], *, positions: Any = None) -> Any:
    """One map per input feature: the codebook's value of that feature at every unit.

    Parameters
    ----------
    axes : array of Axes, at least ``n_features`` of them (spares hidden)
    weights : array of shape (n_rows, n_columns, n_features)
    names : n_features strings
    """
    weights = _check_grid("component_planes", weights, extra_dims=1)
    flat = np.atleast_1d(axes).ravel()
    if len(names) != weights.shape[2] or len(flat) < weights.shape[2]:
        raise ValueError(f"component_planes: {weights.shape[2]} features, {len(names)} names, {len(flat)} axes")
    for index, (ax, name) in enumerate(zip(flat, names)):
        _cells(ax, weights[:, :, index], positions, "coolwarm")
        _bare(ax, name)
    for ax in flat[weights.shape[2]:]:
        ax.set_axis_off()
    return flat


def hit_map(ax: Any, counts: Any, *, positions: Any = None, title: str = "hits per unit") -> Any:
    """How many samples each unit wins (empty units white)."""
    counts = _check_grid("hit_map", counts)
    image = _cells(ax, np.ma.masked_equal(counts, 0) if positions is None else counts, positions, "Blues",
                   vmin=0, vmax=max(int(counts.max()), 1))
    ax.get_figure().colorbar(image, ax=ax, shrink=0.8, label="samples won")
    _bare(ax, title)
    return image


def labelled_map(ax: Any, unit_labels: Any, *, background: Any = None, hits: Any = None,
                 title: str = "labelled map") -> Any:
    """Each unit's label written on it, coloured by class, over a background (e.g. the U-matrix).

    Parameters
    ----------
    unit_labels : int array of shape (n_rows, n_columns)
    background : array of shape (n_rows, n_columns), optional
    hits : array of shape (n_rows, n_columns), optional: units no sample won get a faded label
    """
    unit_labels = _check_grid("labelled_map", unit_labels)
    if background is not None:
        _cells(ax, _check_grid("background", background), None, "bone_r")
    else:
        ax.imshow(np.zeros(unit_labels.shape), cmap="Greys", vmin=0, vmax=1)
    ax.grid(False)
    classes = np.unique(unit_labels)
    size = max(12.0, min(90.0, 3.0e4 / unit_labels.size))
    rows, columns = np.indices(unit_labels.shape)
    faded = np.zeros(unit_labels.shape, dtype=bool) if hits is None else np.asarray(hits) == 0
    # One scatter per class with the label as a mathtext marker: a few collections instead of one Text per unit.
    for index, label in enumerate(classes):
        for dim, alpha in ((False, 1.0), (True, 0.3)):
            chosen = (unit_labels == label) & (faded == dim)
            if chosen.any():
                ax.scatter(columns[chosen], rows[chosen], marker=f"${label}$", s=size, alpha=alpha,
                           color=PALETTE[index % len(PALETTE)], linewidths=0)
    _bare(ax, title)
    return ax


def codebook_colours(ax: Any, weights: Any, *, positions: Any = None, title: str = "codebook as colours") -> Any:
    """A map trained on RGB colours drawn in its own colours, weights of shape (n_rows, n_columns, 3) in [0, 1]."""
    weights = _check_grid("codebook_colours", weights, extra_dims=1)
    if weights.shape[2] != 3:
        raise ValueError(f"codebook_colours: expected 3 features (R, G, B), received {weights.shape[2]}")
    if positions is None:
        ax.imshow(np.clip(weights, 0, 1))
        ax.grid(False)
    else:
        _cells(ax, weights, positions, "viridis")
    _bare(ax, title)
    return ax
