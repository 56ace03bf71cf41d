"""Confusion matrices: how often each true class is predicted as each class."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .core import finish


def confusion_counts(y_true: Any, y_pred: Any, n_classes: int | None = None) -> np.ndarray:
    """Count the (true class, predicted class) pairs.

    Parameters
    ----------
    y_true, y_pred : int arrays of shape (N,), class indices in ``0 .. n_classes - 1``
    n_classes : int, optional
        Default: one more than the largest label seen in either array.

    Returns
    -------
    counts : int64 ndarray of shape (n_classes, n_classes)
        ``counts[i, j]`` is the number of samples of true class ``i`` predicted as
        ``j``; the diagonal holds the correct ones, each row sums to the class's size.
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim != 1 or y_true.shape != y_pred.shape:
        raise ValueError(
            f"confusion_counts: y_true and y_pred must be 1-D of the same length, received shapes "
            f"{y_true.shape} and {y_pred.shape}"
        )
    for name, labels in (("y_true", y_true), ("y_pred", y_pred)):
        if labels.size and (labels.dtype.kind not in "iu" or labels.min() < 0):
            raise ValueError(f"confusion_counts: {name} must hold non-negative integer class indices, received "
                             f"{labels.dtype} values from {labels.min()} to {labels.max()}")
    seen = int(max(y_true.max(initial=-1), y_pred.max(initial=-1))) + 1
    if n_classes is None:
        n_classes = seen
    elif n_classes < seen:
        raise ValueError(f"confusion_counts: n_classes={n_classes} but the labels go up to {seen - 1}")
    pair = y_true.astype(np.int64) * n_classes + y_pred  # (N,) one index per (true, predicted) cell
    return np.bincount(pair, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def confusion_matrix(
    ax: Any,
    counts: Any,
    *,
    title: str,
    class_names: Sequence[str] | None = None,
    xlabel: str = "predicted class",
    ylabel: str = "true class",
) -> Any:
    """Draw a confusion matrix with its count in every cell and a colour bar as legend.

    Parameters
    ----------
    counts : int array of shape (C, C)
        As :func:`confusion_counts` returns: rows are true classes, columns predictions.
    class_names : C strings, default ``"0" .. "C-1"``

    Notes
    -----
    Colours follow the count on a square-root scale, so the few off-diagonal
    mistakes stand out next to a diagonal of large counts; the colour bar's label
    says so. Cells with no sample stay white and unlabelled.
    """
    from matplotlib.colors import PowerNorm

    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"confusion_matrix: counts must be a square (C, C) array, received shape {counts.shape}")
    n_classes = counts.shape[0]
    names = [str(k) for k in range(n_classes)] if class_names is None else [str(n) for n in class_names]
    if len(names) != n_classes:
        raise ValueError(f"confusion_matrix: {n_classes} classes but {len(names)} class_names")
    shown = np.ma.masked_equal(counts, 0)
    image = ax.imshow(shown, cmap="Blues", norm=PowerNorm(0.5, vmin=0, vmax=max(int(counts.max()), 1)))
    threshold = 0.5 * counts.max()
    rows, cols = np.nonzero(counts)
    for i, j in zip(rows, cols):
        ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=8,
                color="white" if counts[i, j] > threshold else "black")
    ax.set_xticks(range(n_classes), names)
    ax.set_yticks(range(n_classes), names)
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, label="samples (square-root colour scale)", shrink=0.85)
    return finish(ax, title, xlabel, ylabel)
