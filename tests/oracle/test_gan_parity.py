"""One GANStep / WGANGPStep against the same updates written with torch autograd (same noise, same weights)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from parity_helpers import assert_close  # noqa: E402

from dltoys import nn, optim  # noqa: E402
from dltoys.models.gan import GAN, WGANGP, GANStep, WGANGPStep  # noqa: E402


def _pair(sizes, activation, seed):
    ours, theirs = [], []
    for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        ours.append(nn.Linear(n_in, n_out, dtype=np.float64, rng=seed + index))
        theirs.append(torch.nn.Linear(n_in, n_out, dtype=torch.float64))
        if index < len(sizes) - 2:
            ours.append(activation[0]())
            theirs.append(activation[1]())
    ours, theirs = nn.Sequential(*ours), torch.nn.Sequential(*theirs)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    return ours, theirs


def _models(activation):
    G, G_t = _pair((3, 8, 2), activation, seed=0)
    D, D_t = _pair((2, 8, 8, 1), activation, seed=10)
    return G, G_t, D, D_t


ACTS = {"leaky_relu": (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
        "tanh": (nn.Tanh, torch.nn.Tanh)}


def _compare(ours, theirs, what):
    for (name, param), (_, param_t) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert_close(param.data, param_t, f"{what} {name}")


@pytest.mark.parametrize("activation", list(ACTS))
def test_gan_step_matches_torch(activation):
    G, G_t, D, D_t = _models(ACTS[activation])
    gan = GAN(G, D, noise_dim=3, rng=7)
    step = GANStep(gan, optim.SGD(G.parameters(), lr=0.1), optim.SGD(D.parameters(), lr=0.1, momentum=0.9), k=1)
    opt_g, opt_d = torch.optim.SGD(G_t.parameters(), lr=0.1), torch.optim.SGD(D_t.parameters(), lr=0.1, momentum=0.9)
    noise = np.random.default_rng(7)  # the same stream as the GAN's
    bce = torch.nn.BCEWithLogitsLoss()
    real = np.random.default_rng(0).normal(size=(2, 5, 2))
    for batch in real:
        logs = step((batch,))
        z = torch.from_numpy(noise.standard_normal((5, 3)))
        fake = G_t(z).detach()
        opt_d.zero_grad()
        out_real, out_fake = D_t(torch.from_numpy(batch)), D_t(fake)
        d_loss = bce(out_real, torch.ones_like(out_real)) + bce(out_fake, torch.zeros_like(out_fake))
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad()
        out = D_t(G_t(torch.from_numpy(noise.standard_normal((5, 3)))))
        g_loss = bce(out, torch.ones_like(out))
        g_loss.backward()
        opt_g.step()
        assert logs["d_loss"] == pytest.approx(d_loss.item(), rel=1e-12)
        assert logs["g_loss"] == pytest.approx(bce(out_fake, torch.ones_like(out_fake)).item(), rel=1e-12)
        _compare(D, D_t, "discriminator")
        _compare(G, G_t, "generator")


@pytest.mark.parametrize("activation", list(ACTS))
def test_wgan_gp_step_matches_torch(activation):
    G, G_t, D, D_t = _models(ACTS[activation])
    gan = WGANGP(G, D, noise_dim=3, gp_weight=10.0, rng=7)
    # SGD, not Adam: the critic's last bias has an exactly zero gradient (it cancels between real and
    # fake), and Adam would blow its 1e-17 rounding noise up to a step of lr * sign(noise)
    step = WGANGPStep(gan, optim.SGD(G.parameters(), lr=0.05, momentum=0.5),
                      optim.SGD(D.parameters(), lr=0.05, momentum=0.5), k=2)
    opt_g = torch.optim.SGD(G_t.parameters(), lr=0.05, momentum=0.5)
    opt_d = torch.optim.SGD(D_t.parameters(), lr=0.05, momentum=0.5)
    draws = np.random.default_rng(7)
    real = np.random.default_rng(0).normal(size=(4, 6, 2))
    for index, batch in enumerate(real):
        logs = step((batch,))
        fake = G_t(torch.from_numpy(draws.standard_normal((6, 3)))).detach()
        e = torch.from_numpy(draws.random((6, 1)))
        x_real = torch.from_numpy(batch)
        x_hat = (e * x_real + (1 - e) * fake).requires_grad_(True)
        opt_d.zero_grad()
        (grad_x,) = torch.autograd.grad(D_t(x_hat).sum(), x_hat, create_graph=True)
        penalty = 10.0 * ((grad_x.norm(dim=1) - 1) ** 2).mean()
        D_before = D_t(fake).mean()
        loss = D_before - D_t(x_real).mean() + penalty
        loss.backward()
        opt_d.step()
        assert logs["d_loss"] == pytest.approx(loss.item(), rel=1e-10)
        assert logs["g_loss"] == pytest.approx(-D_before.item(), rel=1e-10)
        if index % 2 == 1:  # k = 2 critic updates per generator update
            opt_g.zero_grad()
            g_loss = -D_t(G_t(torch.from_numpy(draws.standard_normal((6, 3))))).mean()
            g_loss.backward()
            opt_g.step()
        _compare(D, D_t, "critic")
        _compare(G, G_t, "generator")
