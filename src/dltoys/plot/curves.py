"""Curves against epochs (or steps, or seconds): loss, accuracy, learning rate."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from .core import finish


def curves(
    ax: Any,
    series: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str = "epoch",
    ylabel: str = "loss",
    x: Mapping[str, Sequence[float]] | Sequence[float] | None = None,
    log_y: bool = False,
    target: float | None = None,
    target_label: str = "target",
    styles: Mapping[str, Mapping[str, Any]] | None = None,
) -> Any:
    """Draw one line per named series, optionally against a shared or per-series x.

    Parameters
    ----------
    series : mapping label -> values
    x : values for every series, or a mapping label -> values, default 1..len
    log_y : bool, log scale for losses that span decades (non-positive values are dropped)
    target : float, optional, a horizontal dashed line (the figure to reach)
    styles : mapping label -> matplotlib line keywords (``{"linestyle": "--", "color": "black"}``)
        for series that must stay apart where they overlap, or whose default colours are close
    """
    for label, values in series.items():
        values = np.asarray(values, dtype=float)
        if x is None:
            xs = np.arange(1, len(values) + 1)
        elif isinstance(x, Mapping):
            xs = np.asarray(x[label], dtype=float)
        else:
            xs = np.asarray(x, dtype=float)
        if log_y:
            keep = values > 0
            xs, values = xs[keep], values[keep]
        ax.plot(xs, values, **{"label": label, "linewidth": 1.5, **dict((styles or {}).get(label, {}))})
    if target is not None:
        ax.axhline(target, linestyle="--", color="0.4", linewidth=1, label=target_label)
    return finish(ax, title, xlabel, ylabel, log_y=log_y)


def gapped_line(ax: Any, x: Sequence[float], y: Sequence[float], *, step: float = 1, label: str | None = None,
                **style: Any) -> Any:
    """Markers at every measured ``x``, solid lines only between neighbours at most ``step`` apart.

    Across a gap (``x`` = 8 then 12: nothing was measured at 9, 10, 11) the segment is
    dotted and thin, so the line does not claim values nobody measured.

    Parameters
    ----------
    x, y : the measured points, ``x`` increasing
    step : the spacing of a full sweep (1 for a number of bits)
    style : matplotlib keywords for the markers and the solid segments (``marker``, ``color``...)

    Returns
    -------
    the Line2D of the solid segments (it carries ``label``)
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    gap = np.diff(x) > step * (1 + 1e-9)  # (N - 1,) True where a segment jumps over unmeasured values
    solid_x, solid_y = [x[:1]], [y[:1]]
    for index in range(1, len(x)):  # NaN breaks the solid line at each gap
        if gap[index - 1]:
            solid_x.append([np.nan])
            solid_y.append([np.nan])
        solid_x.append(x[index:index + 1])
        solid_y.append(y[index:index + 1])
    (line,) = ax.plot(np.concatenate(solid_x), np.concatenate(solid_y), label=label, **style)
    for index in np.flatnonzero(gap):
        ax.plot(x[index:index + 2], y[index:index + 2], linestyle=":", linewidth=0.8, color=line.get_color(),
                marker="none")
    return line
