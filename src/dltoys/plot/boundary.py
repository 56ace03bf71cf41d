"""Decision boundaries of 2-D classifiers."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .core import PALETTE, finish


def decision_boundary(
    ax: Any,
    predict: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    title: str,
    resolution: int = 200,
    margin: float = 0.5,
    xlabel: str = "$x_1$",
    ylabel: str = "$x_2$",
) -> Any:
    """Shade the class ``predict`` assigns over the plane and scatter the points on top.

    Parameters
    ----------
    predict : callable, (M, 2) float32 points -> (M,) integer classes
    X : array of shape (N, 2)
    y : int array of shape (N,)
    resolution : grid points per axis (the model sees resolution**2 points in one batch)
    """
    from matplotlib.colors import ListedColormap

    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary: X must have shape (N, 2), received {X.shape}")
    (x0, y0), (x1, y1) = X.min(axis=0) - margin, X.max(axis=0) + margin
    gx, gy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)  # (R*R, 2)
    classes = np.asarray(predict(grid)).reshape(gx.shape)
    n_classes = int(max(classes.max(), y.max())) + 1
    size = float(np.clip(2000 / max(len(X), 1), 12, 90))  # four XOR corners must be visible, 1000 points not a blot
    cmap = ListedColormap(PALETTE[:n_classes])
    ax.contourf(gx, gy, classes, levels=np.arange(n_classes + 1) - 0.5, cmap=cmap, alpha=0.25)
    for k in range(n_classes):
        pts = X[y == k]
        ax.scatter(pts[:, 0], pts[:, 1], s=size, color=PALETTE[k], edgecolor="white", linewidth=0.3 if size < 30 else 1.0, label=f"class {k}")
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    finish(ax, title, xlabel, ylabel, legend=False)
    # Outside the axes: a legend's round markers inside the plot look like more data points
    # (next to the four XOR corners, a learner counts six).
    ax.legend(title="points", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0,
              fontsize=8, title_fontsize=8, frameon=False)
    return ax
