"""dltoys.plot: figures drawn from what they are given (arrays, histories), never from models' internals.

Everything goes through :func:`figure` and :func:`finish`, so each plot has a
title, labelled axes and a legend where there is more than one series. No
pyplot: figures are ``matplotlib.figure.Figure`` objects saved to PNG, so
nothing depends on a display or a global backend.
"""

from .bars import bars
from .boundary import decision_boundary
from .core import figure, finish
from .curves import curves, gapped_line
from .graphs import node_embedding, spring_layout
from .images import image_grid
from .legends import figure_legend
from .matrix import confusion_counts, confusion_matrix
from .som import codebook_colours, component_planes, hit_map, labelled_map, u_matrix

__all__ = [
    "bars",
    "codebook_colours",
    "component_planes",
    "confusion_counts",
    "confusion_matrix",
    "curves",
    "decision_boundary",
    "figure",
    "figure_legend",
    "finish",
    "gapped_line",
    "hit_map",
    "image_grid",
    "labelled_map",
    "node_embedding",
    "spring_layout",
    "u_matrix",
]
