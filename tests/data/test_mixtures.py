"""VEEGAN's ring and grid, and the coverage count, against hand-made samples."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.data import make_gaussian_mixture, mixture_centers, mode_coverage


def test_centers():
    ring = mixture_centers("ring")
    assert ring.shape == (8, 2)
    np.testing.assert_allclose(np.linalg.norm(ring, axis=1), 2.0)
    np.testing.assert_allclose(ring[2], [0.0, 2.0], atol=1e-12)
    grid = mixture_centers("grid")
    assert grid.shape == (25, 2) and set(grid[:, 0]) == {-4.0, -2.0, 0.0, 2.0, 4.0}


@pytest.mark.parametrize("kind", ["ring", "grid"])
def test_real_samples_cover_every_mode_with_high_quality(kind):
    X, modes = make_gaussian_mixture(2500, kind, rng=0)
    assert X.dtype == np.float32 and X.shape == (2500, 2)
    coverage = mode_coverage(X, kind)
    # within 3 std of the mode: 1 - exp(-9/2) of a 2-D Gaussian's mass = 98.9%
    assert coverage["modes"] == coverage["n_modes"]
    assert coverage["high_quality"] == pytest.approx(1 - np.exp(-4.5), abs=0.01)
    np.testing.assert_array_less(np.linalg.norm(X - mixture_centers(kind)[modes], axis=1), 0.2)


def test_counts_by_hand():
    centers = mixture_centers("ring")
    samples = np.concatenate([np.repeat(centers[:1], 30, 0),  # 30 on mode 0
                              np.repeat(centers[1:2] + 0.05, 25, 0),  # within 0.06 of mode 1 (|0.05, 0.05| = 0.071: no)
                              np.repeat(centers[2:3] + [0.05, 0.0], 19, 0),  # 19 good samples: not enough
                              np.zeros((26, 2))])  # the centre of the ring: near no mode
    coverage = mode_coverage(samples, "ring")
    assert coverage["counts"][0] == 30 and coverage["counts"][1] == 0 and coverage["counts"][2] == 19
    assert coverage["modes"] == 1
    assert coverage["high_quality"] == pytest.approx(49 / 100)


def test_bad_arguments():
    with pytest.raises(ValueError, match="kind"):
        mixture_centers("spiral")
    with pytest.raises(ValueError, match=r"\(N >= 1, 2\)"):
        mode_coverage(np.zeros((3, 3)), "ring")
