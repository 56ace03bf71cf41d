"""Small images in a grid of axes, each with a caption (digits, samples, filters)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def image_grid(axes: Any, images: Any, captions: Sequence[str], *, cmap: str = "gray_r") -> Any:
    """Show one image per axis with its caption as the axis title; spare axes are hidden.

    Parameters
    ----------
    axes : array of matplotlib Axes (any shape; filled in row-major order)
    images : array of shape (K, H, W), or (K, H * W) for square images
    captions : K strings, one per image (say what the image is: "true 3, predicted 8")
    cmap : matplotlib colour map, default ``"gray_r"`` (ink dark on white)

    Returns
    -------
    the axes, flattened

    Notes
    -----
    Pixel axes carry no meaning, so ticks are hidden; the caption is the label. All
    images share one grey scale (the range of the whole batch), so their intensities
    compare.
    """
    images = np.asarray(images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"image_grid: flat images must be square, received {images.shape[1]} pixels per image")
        images = images.reshape(-1, side, side)  # (K, H, W)
    if images.ndim != 3:
        raise ValueError(f"image_grid: images must have shape (K, H, W) or (K, H*W), received {images.shape}")
    flat = np.atleast_1d(axes).ravel()
    if len(captions) != len(images):
        raise ValueError(f"image_grid: {len(images)} images but {len(captions)} captions")
    if len(images) > len(flat):
        raise ValueError(f"image_grid: {len(images)} images for only {len(flat)} axes")
    low, high = (float(images.min()), float(images.max())) if images.size else (0.0, 1.0)
    for ax, image, caption in zip(flat, images, captions):
        ax.imshow(image, cmap=cmap, vmin=low, vmax=high)
        ax.set_title(caption, fontsize=9)
    for ax in flat:
        ax.set_xticks([])
        ax.set_yticks([])
        ax.grid(False)
    for ax in flat[len(images):]:
        ax.set_axis_off()
    return flat
