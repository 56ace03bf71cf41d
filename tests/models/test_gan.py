"""GAN and WGAN-GP steps: who updates when, the frozen discriminator, errors (parity with torch: tests/oracle)."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn, optim, train
from dltoys.data import Minibatches
from dltoys.models import GAN, WGANGP, GANStep, WGANGPStep


def _gan(cls=GAN, **kwargs):
    G = nn.Sequential(nn.Linear(2, 8, rng=0), nn.ReLU(), nn.Linear(8, 2, rng=1))
    D = nn.Sequential(nn.Linear(2, 8, rng=2), nn.LeakyReLU(0.2), nn.Linear(8, 1, rng=3))
    return cls(G, D, noise_dim=2, rng=0, **kwargs)


def _snapshot(module):
    return [p.data.copy() for p in module.parameters()]


def _changed(before, module):
    return [not np.array_equal(b, p.data) for b, p in zip(before, module.parameters())]


@pytest.mark.parametrize("cls, step_cls", [(GAN, GANStep), (WGANGP, WGANGPStep)])
def test_k_discriminator_updates_per_generator_update(cls, step_cls, rng):
    gan = _gan(cls)
    step = step_cls(gan, optim.SGD(gan.generator.parameters(), lr=0.1),
                    optim.SGD(gan.discriminator.parameters(), lr=0.1), k=3)
    real = rng.normal(size=(16, 2)).astype(np.float32)
    for index in range(1, 7):
        g_before, d_before = _snapshot(gan.generator), _snapshot(gan.discriminator)
        logs = step((real,))
        assert all(np.isfinite(v) for v in logs.values()) and {"d_loss", "g_loss"} <= set(logs)
        assert any(_changed(d_before, gan.discriminator))
        assert any(_changed(g_before, gan.generator)) == (index % 3 == 0)
        assert all(p.requires_grad for p in gan.discriminator.parameters())  # unfrozen after the G update


def test_gan_trains_through_the_loop_and_moves_fakes_toward_the_data():
    """Real data at (3, 3): 200 updates of the non-saturating GAN bring the fakes' mean from 4.4 away to within 1 (reached: 0.24)."""
    gan = _gan()
    betas = (0.5, 0.999)
    step = GANStep(gan, optim.Adam(gan.generator.parameters(), lr=0.01, betas=betas),
                   optim.Adam(gan.discriminator.parameters(), lr=0.01, betas=betas))
    real = np.random.default_rng(0).normal(3.0, 0.1, size=(1600, 2)).astype(np.float32)
    start = np.linalg.norm(gan.sample(500).mean(axis=0) - 3.0)
    history = train.Trainer(step, epochs=8, progress=False).fit(Minibatches(real, batch_size=64, shuffle=True, rng=0))
    assert set(history.keys()) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    end = np.linalg.norm(gan.sample(500).mean(axis=0) - 3.0)
    assert start > 4.0 and end < 1.0, (start, end)


def test_noise_comes_from_the_gans_rng_in_the_generators_dtype():
    a, b = _gan(), _gan()
    np.testing.assert_array_equal(a.noise(5), b.noise(5))
    assert a.noise(5).dtype == np.float32 and a.sample(3).shape == (3, 2)
    points = np.zeros((4, 2), dtype=np.float32)
    np.testing.assert_array_equal(a.discriminate(points), a.discriminator(points).ravel())


def test_errors_are_named():
    with pytest.raises(TypeError, match="generator"):
        GAN(object(), nn.Linear(2, 1), noise_dim=2)
    with pytest.raises(ValueError, match="noise_dim"):
        GAN(nn.Linear(2, 2), nn.Linear(2, 1), noise_dim=0)
    gan = _gan()
    with pytest.raises(TypeError, match="WGANGP"):
        WGANGPStep(gan, optim.SGD(gan.generator.parameters(), lr=0.1), optim.SGD(gan.discriminator.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="gp_weight"):
        _gan(WGANGP, gp_weight=-1.0)
