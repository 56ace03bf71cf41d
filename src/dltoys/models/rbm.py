"""Restricted Boltzmann machines: the RBM module and contrastive divergence.

- :class:`RBM`: the energy model (free energy, conditionals, Gibbs sampling, the
  pseudo-likelihood, the exact log partition function by enumeration) and the
  contrastive-divergence estimate of the log-likelihood gradient, written once.
- :class:`CDStep`: one minibatch of CD-k or PCD-k: fill ``.grad`` with that
  estimate (no backward pass), then an ordinary :mod:`dltoys.optim` step.
- :class:`~dltoys.models.BernoulliRBM` (the estimator, with scikit-learn's name and arguments)
  is in ``bernoulli_rbm.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn, optim, train
from ..nn import functional as F
from ..nn.module import as_float_input, check_grad_out
from ..utils import RngLike, as_rng, check_bool, check_int, resolve_dtype

#: Enumeration limit of the exact log partition function: 2**20 states of the smaller layer.
MAX_ENUMERATED_UNITS = 20
#: States enumerated per block (bounds the memory of the exact computations).
_BLOCK = 1 << 14


def _bits(start: int, stop: int, n_units: int) -> np.ndarray:
    """Binary states ``start .. stop-1`` of ``n_units`` units, one per row, as float64 ``(stop-start, n_units)``."""
    codes = np.arange(start, stop, dtype=np.int64)[:, None]
    return ((codes >> np.arange(n_units, dtype=np.int64)) & 1).astype(np.float64)


class RBM(nn.Module):
    r"""A restricted Boltzmann machine with binary visible and hidden units.

    Parameters
    ----------
    n_visible, n_hidden : int
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Draws the initial weights, ``N(0, 0.01^2)`` (scikit-learn's and Hinton's
        guide's choice); the biases start at zero.

    Attributes
    ----------
    weight : Parameter of shape (n_hidden, n_visible)
        ``W``, laid out like ``nn.Linear(n_visible, n_hidden).weight``, so the
        RBM's weights drop into an MLP's first layer (a DBN).
    hidden_bias : Parameter of shape (n_hidden,)
        ``c``.
    visible_bias : Parameter of shape (n_visible,)
        ``b``.

    Notes
    -----
    Energy and free energy of visible ``v`` and hidden ``h``:

    .. math::

        E(v, h) = -b^T v - c^T h - h^T W v, \qquad
        F(v) = -\log \sum_h e^{-E(v, h)} = -b^T v - \sum_j \mathrm{softplus}(c_j + W_j v)

    and ``p(v) = exp(-F(v)) / Z``. The layers are conditionally independent:
    ``p(h_j = 1 | v) = sigmoid(c_j + W_j v)``, ``p(v_i = 1 | h) = sigmoid(b_i + h^T W_{:,i})``.
    The gradient of the log-likelihood is the data's statistics minus the model's:

    .. math::

        \frac{\partial \log p(v)}{\partial W} = p(h = 1 | v)\, v^T - E_{p(v', h')}[h' v'^T]

    (and ``v - E[v']`` for ``b``, ``p(h = 1 | v) - E[h']`` for ``c``).
    Contrastive divergence (CD-k, Hinton 2002) replaces the model's expectation by
    one sample ``v_k`` from a Gibbs chain started at the data and run ``k`` steps
    (with ``p(h = 1 | v_k)`` for ``h'``); persistent CD (PCD, Tieleman 2008) keeps
    the chain running across updates instead of restarting it.

    ``forward(v)`` returns ``p(h = 1 | v)``, which is what a DBN stacks, with the
    sigmoid's ordinary backward pass.

    References
    ----------
    Hinton (2002), Training products of experts by minimizing contrastive divergence.
    Tieleman (2008), Training restricted Boltzmann machines using approximations to the
    likelihood gradient. Hinton (2010), A practical guide to training restricted
    Boltzmann machines.
    """

    def __init__(self, n_visible: int, n_hidden: int, dtype=None, rng: RngLike = None):
        super().__init__()
        self.n_visible = check_int("n_visible", n_visible, minimum=1)
        self.n_hidden = check_int("n_hidden", n_hidden, minimum=1)
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        self.weight = nn.Parameter(nn.init.normal((self.n_hidden, self.n_visible), 0.01, rng, self.dtype))
        self.hidden_bias = nn.Parameter(np.zeros(self.n_hidden, dtype=self.dtype))
        self.visible_bias = nn.Parameter(np.zeros(self.n_visible, dtype=self.dtype))

    def extra_repr(self) -> str:
        return f"n_visible={self.n_visible}, n_hidden={self.n_hidden}"

    # ------------------------------------------------------------ conditionals
    def _visible(self, v: Any) -> np.ndarray:
        v = as_float_input(self, v, self.dtype)
        if v.ndim != 2 or v.shape[1] != self.n_visible:
            raise ValueError(f"RBM(n_visible={self.n_visible}): expected visible states of shape "
                             f"(N, {self.n_visible}), received {v.shape}")
        return v

    def hidden_probs(self, v: Any) -> np.ndarray:
        """``p(h = 1 | v)`` of shape (N, n_hidden)."""
        v = self._visible(v)
        return F.sigmoid(v @ self.weight.data.T + self.hidden_bias.data)  # (N, H)

    def visible_probs(self, h: Any) -> np.ndarray:
        """``p(v = 1 | h)`` of shape (N, n_visible)."""
        h = as_float_input(self, h, self.dtype)
        return F.sigmoid(h @ self.weight.data + self.visible_bias.data)  # (N, V)

    def sample(self, probs: np.ndarray, rng: RngLike) -> np.ndarray:
        """Bernoulli draws ``1[u < p]`` with ``u ~ U(0, 1)``, in the model's dtype."""
        return (as_rng(rng).random(probs.shape, dtype=self.dtype) < probs).astype(self.dtype)

    def gibbs(self, v: Any, rng: RngLike = None) -> np.ndarray:
        """One Gibbs step ``v -> h ~ p(h|v) -> v' ~ p(v|h)``; returns the sampled ``v'`` (N, n_visible)."""
        rng = as_rng(rng)
        h = self.sample(self.hidden_probs(v), rng)
        return self.sample(self.visible_probs(h), rng)

    # ----------------------------------------------------------- module contract
    def forward(self, v: Any) -> np.ndarray:
        v = self._visible(v)
        out = F.sigmoid(v @ self.weight.data.T + self.hidden_bias.data)  # (N, H)
        self._cache = (v, out)
        return out

    def backward(self, grad_out: np.ndarray) -> np.ndarray | None:
        """The sigmoid layer's backward: ``g_z = g * p (1 - p)``, ``dW += g_z^T v``, ``dc += sum g_z``."""
        v, out = self._saved()
        grad_out = check_grad_out(self, grad_out, out.shape, self.dtype)
        grad_z = grad_out * out * (1 - out)  # (N, H)
        if self.weight.requires_grad:
            self.weight.grad += grad_z.T @ v
        if self.hidden_bias.requires_grad:
            self.hidden_bias.grad += grad_z.sum(axis=0)
        return None if not self.needs_input_grad else grad_z @ self.weight.data

    # ------------------------------------------------------------- energies
    def free_energy(self, v: Any) -> np.ndarray:
        """``F(v) = -b^T v - sum_j softplus(c_j + W_j v)``, of shape (N,)."""
        v = self._visible(v)
        return -(v @ self.visible_bias.data) - F.softplus(v @ self.weight.data.T + self.hidden_bias.data).sum(axis=1)

    def pseudo_likelihood(self, v: Any, rng: RngLike = None) -> np.ndarray:
        r"""scikit-learn's stochastic pseudo-log-likelihood, of shape (N,).

        For each row one visible unit ``i`` is drawn uniformly and flipped
        (``v_i -> 1 - v_i``, giving ``\tilde v``); the estimate is

        .. math:: n_{visible} \cdot \log \sigma(F(\tilde v) - F(v)),

        ``n_visible`` times the log-probability of unit ``i`` given the others for
        binary data: an unbiased one-sample estimate of the pseudo-likelihood
        ``sum_i log p(v_i | v_{-i})`` (Besag 1975).
        """
        v = self._visible(v)
        flip = as_rng(rng).integers(0, self.n_visible, size=len(v))  # (N,)
        rows = np.arange(len(v))
        corrupted = v.copy()
        corrupted[rows, flip] = 1 - corrupted[rows, flip]
        gap = self.free_energy(corrupted) - self.free_energy(v)
        return -self.n_visible * F.softplus(-gap)  # log sigmoid(gap) = -softplus(-gap)

    # ------------------------------------------------------------ exact values
    def _check_enumerable(self) -> None:
        if min(self.n_visible, self.n_hidden) > MAX_ENUMERATED_UNITS:
            raise ValueError(
                f"RBM(n_visible={self.n_visible}, n_hidden={self.n_hidden}): the exact computation "
                f"enumerates the smaller layer, which must have at most {MAX_ENUMERATED_UNITS} units"
            )

    def _enumerate(self):
        """Yield blocks of (states, unnormalised log-probabilities) of the smaller layer, in float64.

        Summing over the larger layer analytically: for hidden states
        ``log p~(h) = c^T h + sum_i softplus(b_i + h^T W_{:,i})``; for visible ones ``-F(v)``.
        """
        self._check_enumerable()
        W = self.weight.data.astype(np.float64)  # (H, V)
        b = self.visible_bias.data.astype(np.float64)
        c = self.hidden_bias.data.astype(np.float64)
        over_hidden = self.n_hidden <= self.n_visible
        n_units = self.n_hidden if over_hidden else self.n_visible
        for start in range(0, 1 << n_units, _BLOCK):
            states = _bits(start, min(start + _BLOCK, 1 << n_units), n_units)  # (S, n_units)
            if over_hidden:
                yield True, states, states @ c + F.softplus(states @ W + b).sum(axis=1)
            else:
                yield False, states, states @ b + F.softplus(states @ W.T + c).sum(axis=1)

    def log_partition(self) -> float:
        r"""``log Z = log sum_v sum_h exp(-E(v, h))``, exactly, enumerating the smaller layer.

        Computed in float64 whatever the model's dtype (a sum of up to 2^20 terms).
        """
        blocks = [F.logsumexp(log_weights) for _, _, log_weights in self._enumerate()]
        return float(F.logsumexp(np.asarray(blocks)))

    def log_likelihood(self, v: Any, log_partition: float | None = None) -> np.ndarray:
        """Exact ``log p(v) = -F(v) - log Z`` of each row, of shape (N,), in float64."""
        v = self._visible(v).astype(np.float64)
        log_z = self.log_partition() if log_partition is None else log_partition
        W = self.weight.data.astype(np.float64)
        free = -(v @ self.visible_bias.data.astype(np.float64)) - F.softplus(
            v @ W.T + self.hidden_bias.data.astype(np.float64)).sum(axis=1)
        return -free - log_z

    def exact_gradient(self, v: Any) -> dict[str, np.ndarray]:
        """The exact gradient of the mean negative log-likelihood of the rows ``v``, by enumeration.

        Returns ``{"weight": (H, V), "hidden_bias": (H,), "visible_bias": (V,)}`` in
        float64: what CD-k estimates (the same sign as the ``.grad`` it fills).
        """
        v = self._visible(v).astype(np.float64)
        W = self.weight.data.astype(np.float64)
        b = self.visible_bias.data.astype(np.float64)
        c = self.hidden_bias.data.astype(np.float64)
        h_data = F.sigmoid(v @ W.T + c)  # (N, H)
        log_z = self.log_partition()
        model_hv = np.zeros_like(W)
        model_h = np.zeros_like(c)
        model_v = np.zeros_like(b)
        for over_hidden, states, log_weights in self._enumerate():
            p = np.exp(log_weights - log_z)  # (S,) probabilities of the enumerated states
            if over_hidden:  # states are h; E[v | h] = sigmoid(b + h W)
                h_states, v_means = states, F.sigmoid(states @ W + b)
                model_hv += (h_states * p[:, None]).T @ v_means
                model_h += p @ h_states
                model_v += p @ v_means
            else:  # states are v; E[h | v] = sigmoid(c + v W^T)
                h_means = F.sigmoid(states @ W.T + c)
                model_hv += (h_means * p[:, None]).T @ states
                model_h += p @ h_means
                model_v += p @ states
        n = len(v)
        return {
            "weight": -(h_data.T @ v / n - model_hv),
            "hidden_bias": -(h_data.mean(axis=0) - model_h),
            "visible_bias": -(v.mean(axis=0) - model_v),
        }

    # -------------------------------------------------- contrastive divergence
    def contrastive_divergence(self, v: Any, k: int = 1, chain: np.ndarray | None = None,
                               rng: RngLike = None) -> np.ndarray:
        r"""Add the CD-k estimate of the mean negative log-likelihood gradient into ``.grad``.

        Parameters
        ----------
        v : array of shape (N, n_visible)
            The data minibatch (values in [0, 1]; probabilities are used as they are).
        k : int, default 1
            Gibbs steps of the negative chain.
        chain : array of shape (M, n_hidden) or None
            Hidden states to start the negative chain from (PCD's persistent
            particles); None starts it at ``h ~ p(h | v)`` (CD-k).
        rng : int, Generator or None

        Returns
        -------
        ndarray of shape (M, n_hidden), or (N, n_hidden) without ``chain``
            The chain's last hidden sample: PCD passes it back next time.

        Notes
        -----
        With ``v_k`` the chain's last visible sample and ``q_k = p(h = 1 | v_k)``::

            grad W += -( p(h|v)^T v / N  -  q_k^T v_k / M )
            grad c += -( mean p(h|v)     -  mean q_k )
            grad b += -( mean v          -  mean v_k )
        """
        rng = as_rng(rng)
        v = self._visible(v)
        h_data = self.hidden_probs(v)  # (N, H) positive phase, mean field
        h = self.sample(h_data, rng) if chain is None else as_float_input(self, chain, self.dtype)
        for _ in range(k):  # negative phase: k steps of block Gibbs sampling
            v_model = self.sample(self.visible_probs(h), rng)  # (M, V)
            h_model = self.hidden_probs(v_model)  # (M, H)
            h = self.sample(h_model, rng)
        n, m = len(v), len(v_model)
        if self.weight.requires_grad:
            self.weight.grad -= h_data.T @ v / self.dtype.type(n) - h_model.T @ v_model / self.dtype.type(m)
        if self.hidden_bias.requires_grad:
            self.hidden_bias.grad -= h_data.mean(axis=0) - h_model.mean(axis=0)
        if self.visible_bias.requires_grad:
            self.visible_bias.grad -= v.mean(axis=0) - v_model.mean(axis=0)
        return h


class CDStep(train.Step):
    """One minibatch of contrastive divergence: fill ``.grad`` (no backward pass), then ``optimizer.step()``.

    Parameters
    ----------
    rbm : RBM
    optimizer : dltoys.optim.Optimizer over ``rbm.parameters()`` (SGD, with momentum
        and weight decay if wanted: the update rule is the optimizer's).
    k : int, default 1
        Gibbs steps per update.
    persistent : bool, default False
        PCD: keep ``n_particles`` chains running across updates.
    n_particles : int or None
        Size of the persistent chain; None uses the first batch's size.
    rng : int, Generator or None
        Every Gibbs sample.

    The step logs ``reconstruction_error``: the mean squared difference between a
    batch and its mean-field reconstruction ``p(v | h ~ p(h | v))`` (what Hinton's
    guide monitors, not what CD optimises).
    """

    def __init__(self, rbm: RBM, optimizer: optim.Optimizer, *, k: int = 1, persistent: bool = False,
                 n_particles: int | None = None, rng: RngLike = None):
        super().__init__(modules={"rbm": rbm}, optimizers={"rbm": optimizer})
        self.rbm, self.optimizer = rbm, optimizer
        self.k = check_int("k", k, minimum=1)
        self.persistent = check_bool("persistent", persistent)
        self.n_particles = None if n_particles is None else check_int("n_particles", n_particles, minimum=1)
        self.rng = as_rng(rng)
        self.chain: np.ndarray | None = None  # PCD's persistent hidden states (n_particles, H)

    def __call__(self, batch) -> dict[str, float]:
        v = batch[0] if isinstance(batch, (tuple, list)) else batch  # (N, V)
        if self.persistent and self.chain is None:
            self.chain = np.zeros((self.n_particles or len(v), self.rbm.n_hidden), dtype=self.rbm.dtype)
        self.optimizer.zero_grad()
        chain = self.rbm.contrastive_divergence(v, self.k, self.chain if self.persistent else None, self.rng)
        if self.persistent:
            self.chain = chain
        self.before_update("rbm")
        self.optimizer.step()
        v = self.rbm._visible(v)
        recon = self.rbm.visible_probs(self.rbm.sample(self.rbm.hidden_probs(v), self.rng))
        return {"reconstruction_error": float(np.mean((recon - v) ** 2))}
