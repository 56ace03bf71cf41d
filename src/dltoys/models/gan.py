"""Generative adversarial networks: the GAN (non-saturating loss) and WGAN-GP, each with its step.

- :class:`GAN`: any generator and discriminator :class:`~dltoys.nn.Module`, and the
  noise they start from (an explicit ``rng``).
- :class:`GANStep`: Goodfellow et al.'s Algorithm 1 with the non-saturating
  generator loss, two optimizers, ``k`` discriminator updates per generator update.
- :class:`WGANGP` / :class:`WGANGPStep`: Gulrajani et al.'s Algorithm 1, a critic
  with a gradient penalty whose weight gradient is a hand-written double backward
  (:func:`dltoys.nn.double_backward.gradient_penalty`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn, optim, train
from ..nn.double_backward import gradient_penalty
from ..utils import RngLike, as_rng, check_float, check_int


def _dtype_of(module: nn.Module) -> np.dtype:
    param = next(module.parameters(), None)
    if param is None:
        raise ValueError(f"{type(module).__name__}: a generator needs parameters (its dtype is theirs)")
    return param.dtype


class GAN(nn.Module):
    r"""A generator ``G: z -> x`` and a discriminator ``D: x -> logit``, trained against each other.

    Parameters
    ----------
    generator : Module
        Maps noise of shape (N, noise_dim) to samples of shape ``(N, *sample_shape)``.
    discriminator : Module
        Maps samples to one logit each, shape (N, 1) (no sigmoid: the loss fuses it).
    noise_dim : int
        Width of the noise ``z ~ N(0, I)``.
    rng : int, Generator or None
        The source of every noise draw.

    Notes
    -----
    The minimax game ``min_G max_D E_x log D(x) + E_z log(1 - D(G(z)))``. The
    discriminator ascends it (a binary cross-entropy with real = 1, fake = 0); the
    generator, instead of descending ``log(1 - D(G(z)))``, which is flat exactly
    where ``D`` rejects its samples (early in training), ascends ``log D(G(z))``:
    the *non-saturating* loss, the same fixed point with strong early gradients.

    References
    ----------
    Goodfellow et al. (2014), Generative adversarial nets.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, noise_dim: int, rng: RngLike = None):
        super().__init__()
        for name, module in (("generator", generator), ("discriminator", discriminator)):
            if not isinstance(module, nn.Module):
                raise TypeError(f"{name}: expected a dltoys.nn.Module, received {type(module).__name__}")
        self.generator = generator
        self.discriminator = discriminator
        self.noise_dim = check_int("noise_dim", noise_dim, minimum=1)
        self.dtype = _dtype_of(generator)
        self.rng = as_rng(rng)
        generator.needs_input_grad = False  # the noise is data

    def extra_repr(self) -> str:
        return f"noise_dim={self.noise_dim}"

    def noise(self, n: int) -> np.ndarray:
        """``z ~ N(0, I)`` of shape (n, noise_dim), in the generator's dtype."""
        return self.rng.standard_normal((check_int("n", n, minimum=1), self.noise_dim), dtype=self.dtype)

    def forward(self, z: np.ndarray) -> np.ndarray:
        """``G(z)``."""
        return self.generator(z)

    def backward(self, grad_out: np.ndarray) -> Any:
        return self.generator.backward(grad_out)

    def sample(self, n: int) -> np.ndarray:
        """``n`` samples ``G(z)`` drawn in eval mode, of shape ``(n, *sample_shape)``."""
        with nn.eval_mode(self.generator):
            return self.generator(self.noise(n))

    def discriminate(self, x: Any) -> np.ndarray:
        """The discriminator's (or critic's) output for each row of ``x``, shape (N,), in eval mode."""
        with nn.eval_mode(self.discriminator):
            return np.asarray(self.discriminator(x)).reshape(len(x))


class WGANGP(GAN):
    r"""A Wasserstein GAN whose critic is kept 1-Lipschitz by a gradient penalty.

    Parameters
    ----------
    generator, discriminator, noise_dim, rng : as in :class:`GAN`
        ``discriminator`` is the critic: a ``Sequential`` of Linear, ReLU,
        LeakyReLU, Tanh (the layers whose double backward is written), output (N, 1).
    gp_weight : float, default 10
        ``lambda``, the paper's value.

    Notes
    -----
    The critic minimises
    ``E D(G(z)) - E D(x) + lambda E_{\hat x} (||\nabla_{\hat x} D(\hat x)|| - 1)^2``
    with ``\hat x = e x + (1 - e) G(z)``, ``e ~ U(0, 1)``: the Kantorovich-Rubinstein
    dual of the Wasserstein-1 distance, the Lipschitz constraint enforced softly
    where it matters, between the two distributions. The generator minimises
    ``-E D(G(z))``.

    References
    ----------
    Arjovsky, Chintala & Bottou (2017), Wasserstein GAN. Gulrajani et al. (2017),
    Improved training of Wasserstein GANs.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, noise_dim: int, gp_weight: float = 10.0,
                 rng: RngLike = None):
        super().__init__(generator, discriminator, noise_dim, rng)
        self.gp_weight = check_float("gp_weight", gp_weight, low=0.0)


class _AdversarialStep(train.Step):
    """What GANStep and WGANGPStep share: two modules, two optimizers, k discriminator updates per generator update."""

    def __init__(self, gan: GAN, opt_g: optim.Optimizer, opt_d: optim.Optimizer, k: int):
        super().__init__(modules={"generator": gan.generator, "discriminator": gan.discriminator},
                         optimizers={"generator": opt_g, "discriminator": opt_d})
        self.gan, self.opt_g, self.opt_d = gan, opt_g, opt_d
        self.k = check_int("k", k, minimum=1)
        self.updates = 0  # discriminator updates so far

    def __call__(self, batch) -> dict[str, float]:
        real = batch[0] if isinstance(batch, (tuple, list)) else batch  # (m, *sample_shape)
        logs = self._discriminator_update(real)
        self.updates += 1
        if self.updates % self.k == 0:
            self._generator_update(len(real))
        return logs

    def _generator_update(self, m: int) -> None:
        """Descend the generator's loss through the frozen discriminator (its weights get no gradient)."""
        G, D = self.gan.generator, self.gan.discriminator
        self.opt_g.zero_grad()
        D.requires_grad_(False)
        try:
            _, grad = self._generator_loss(D(G(self.gan.noise(m))))  # (m, 1) logits or scores
            G.backward(D.backward(grad))
        finally:
            D.requires_grad_(True)
        self.before_update("generator")
        self.opt_g.step()


class GANStep(_AdversarialStep):
    """One minibatch of Goodfellow et al.'s Algorithm 1, with the non-saturating generator loss.

    Every batch updates the discriminator; every ``k``-th batch also updates the
    generator (``k = 1``, the paper's choice, updates both on every batch). Logs
    ``d_loss`` (the discriminator's cross-entropy, ``2 log 2 ≈ 1.386`` at the
    equilibrium), ``g_loss`` (the generator's loss ``-mean log D(G(z))`` on the batch's
    fakes, before the discriminator's update; logged on every batch, also when
    ``k > 1`` skips the generator's update) and ``d_real``/``d_fake``, the mean
    probabilities ``D`` gives real and fake samples.
    """

    def __init__(self, gan: GAN, opt_g: optim.Optimizer, opt_d: optim.Optimizer, *, k: int = 1):
        super().__init__(gan, opt_g, opt_d, k)
        self.bce = nn.BCEWithLogitsLoss()

    def _discriminator_update(self, real: np.ndarray) -> dict[str, float]:
        G, D, bce = self.gan.generator, self.gan.discriminator, self.bce
        fake = G(self.gan.noise(len(real)))  # (m, ...) no gradient flows back into G here
        self.opt_d.zero_grad()
        logits_real = D(real)
        loss_real = bce(logits_real, np.ones_like(logits_real))  # -log D(x)
        D.backward(bce.backward())
        logits_fake = D(fake)
        loss_fake = bce(logits_fake, np.zeros_like(logits_fake))  # -log(1 - D(G(z)))
        D.backward(bce.backward())
        self.before_update("discriminator")
        self.opt_d.step()
        return {"d_loss": float(loss_real + loss_fake), "g_loss": self._generator_loss(logits_fake)[0],
                "d_real": float(nn.functional.sigmoid(logits_real).mean()),
                "d_fake": float(nn.functional.sigmoid(logits_fake).mean())}

    def _generator_loss(self, logits: np.ndarray):
        loss = self.bce(logits, np.ones_like(logits))  # non-saturating: -log D(G(z))
        return float(loss), self.bce.backward()


class WGANGPStep(_AdversarialStep):
    """One minibatch of Gulrajani et al.'s Algorithm 1: a critic update, and a generator update every ``k``-th.

    ``k`` is the paper's ``n_critic`` (5). Logs ``d_loss`` (the critic's loss with
    its penalty), ``wasserstein`` (``E D(x) - E D(G(z))``, the critic's estimate of
    the distance), ``penalty``, ``grad_norm`` (mean ``||dD/dx||`` at the
    interpolates) and ``g_loss`` (``-E D(G(z))`` on the batch's fakes, before the
    critic's update).
    """

    def __init__(self, gan: WGANGP, opt_g: optim.Optimizer, opt_d: optim.Optimizer, *, k: int = 5):
        if not isinstance(gan, WGANGP):
            raise TypeError(f"gan: expected a WGANGP (it holds gp_weight), received {type(gan).__name__}")
        super().__init__(gan, opt_g, opt_d, k)

    def _discriminator_update(self, real: np.ndarray) -> dict[str, float]:
        G, D, m = self.gan.generator, self.gan.discriminator, len(real)
        fake = G(self.gan.noise(m))  # (m, ...)
        real = real.astype(fake.dtype, copy=False)
        self.opt_d.zero_grad()
        scores = D(np.concatenate([real, fake]))  # (2m, 1)
        ones = np.ones((m, 1), dtype=scores.dtype)
        D.backward(np.concatenate([-ones, ones]) / scores.dtype.type(m))  # d/dD of mean D(fake) - mean D(real)
        e = self.gan.rng.random((m,) + (1,) * (real.ndim - 1), dtype=fake.dtype)  # (m, 1)
        interpolates = e * real + (1 - e) * fake
        penalty, norms = gradient_penalty(D, interpolates, weight=self.gan.gp_weight)
        self.before_update("discriminator")
        self.opt_d.step()
        wasserstein = float(scores[:m].mean() - scores[m:].mean())
        return {"d_loss": penalty - wasserstein, "g_loss": -float(scores[m:].mean()), "wasserstein": wasserstein,
                "penalty": penalty, "grad_norm": float(norms.mean())}

    def _generator_loss(self, scores: np.ndarray):
        m = len(scores)
        return -float(scores.mean()), np.full(scores.shape, -1.0 / m, dtype=scores.dtype)
