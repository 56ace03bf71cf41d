"""image_grid: one image per axis, captioned, on one shared grey scale."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import plot


def test_flat_square_images_are_shown_with_their_captions_and_spare_axes_hidden(rng):
    images = rng.random((5, 64))
    fig, axes = plot.figure(2, 3, title="five of six")
    flat = plot.image_grid(axes, images, [f"image {k}" for k in range(5)])
    assert [ax.get_title() for ax in flat[:5]] == [f"image {k}" for k in range(5)]
    for k, ax in enumerate(flat[:5]):
        shown = ax.get_images()[0]
        np.testing.assert_array_equal(shown.get_array(), images[k].reshape(8, 8))
        assert shown.get_clim() == (images.min(), images.max())  # one scale for the whole batch
    assert not flat[5].axison and not flat[5].get_images()


@pytest.mark.parametrize(
    "images, captions, message",
    [
        (np.zeros((2, 10)), ["a", "b"], "flat images must be square"),
        (np.zeros((2, 4, 4)), ["a"], "2 images but 1 captions"),
        (np.zeros((7, 4, 4)), list("abcdefg"), "7 images for only 6 axes"),
        (np.zeros(16), ["a"], r"shape \(K, H, W\) or \(K, H\*W\)"),
    ],
)
def test_bad_inputs_say_what_is_wrong(images, captions, message):
    _, axes = plot.figure(2, 3)
    with pytest.raises(ValueError, match=message):
        plot.image_grid(axes, images, captions)
