"""The RBM's energies, exact log-likelihood and contrastive-divergence gradients, against hand computations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dltoys.models.rbm import RBM
from dltoys.testing import gradcheck


def _rbm(n_visible, n_hidden, scale=1.0, seed=0, dtype=np.float64):
    rbm = RBM(n_visible, n_hidden, dtype=dtype, rng=seed)
    rng = np.random.default_rng(seed + 100)
    rbm.weight.data[...] = scale * rng.normal(size=rbm.weight.shape)
    rbm.hidden_bias.data[...] = scale * rng.normal(size=n_hidden)
    rbm.visible_bias.data[...] = scale * rng.normal(size=n_visible)
    return rbm


def _states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def _energy(rbm, v, h):
    W, b, c = rbm.weight.data, rbm.visible_bias.data, rbm.hidden_bias.data
    return -(v @ b) - (h @ c) - np.einsum("nj,ji,ni->n", h, W, v)


def _brute_log_z(rbm):
    vs, hs = _states(rbm.n_visible), _states(rbm.n_hidden)
    energies = np.array([[_energy(rbm, v[None], h[None])[0] for h in hs] for v in vs])
    return np.log(np.exp(-energies).sum())


def test_free_energy_by_hand():
    """2 visible, 1 hidden unit: F(v) = -b.v - log(1 + exp(c + W v))."""
    rbm = RBM(2, 1, dtype=np.float64)
    rbm.weight.data[...] = [[1.0, -2.0]]
    rbm.hidden_bias.data[...] = [0.5]
    rbm.visible_bias.data[...] = [0.25, -1.0]
    v = np.array([[1.0, 1.0], [1.0, 0.0], [0.0, 0.0]])
    expected = [-(0.25 - 1.0) - np.log(1 + np.exp(0.5 - 1.0)),
                -0.25 - np.log(1 + np.exp(1.5)),
                -np.log(1 + np.exp(0.5))]
    np.testing.assert_allclose(rbm.free_energy(v), expected, rtol=1e-13)


def test_free_energy_sums_the_hidden_states_out():
    rbm = _rbm(4, 3)
    vs, hs = _states(4), _states(3)
    brute = [-np.log(np.exp(-_energy(rbm, np.repeat(v[None], len(hs), 0), hs)).sum()) for v in vs]
    np.testing.assert_allclose(rbm.free_energy(vs), brute, rtol=1e-12)


@pytest.mark.parametrize("shape", [(4, 3), (3, 5)], ids=["over hidden", "over visible"])
def test_log_partition_and_log_likelihood_by_enumeration(shape):
    rbm = _rbm(*shape)
    assert rbm.log_partition() == pytest.approx(_brute_log_z(rbm), rel=1e-12)
    all_v = _states(shape[0])
    assert np.exp(rbm.log_likelihood(all_v)).sum() == pytest.approx(1.0, rel=1e-12)


def test_pseudo_likelihood_is_n_visible_times_a_conditional_by_hand():
    """For binary v, log sigma(F(v~) - F(v)) = log p(v_i | v_-i), computed here from the joint by enumeration."""
    rbm = _rbm(4, 3, scale=0.7)
    vs = _states(4)
    log_p = rbm.log_likelihood(vs)
    seed = 5
    flips = np.random.default_rng(seed).integers(0, 4, size=len(vs))  # the draw pseudo_likelihood makes
    expected = []
    for row, i in zip(vs, flips):
        other = row.copy()
        other[i] = 1 - other[i]
        a, b = log_p[np.all(vs == row, 1)][0], log_p[np.all(vs == other, 1)][0]
        expected.append(4 * (a - np.logaddexp(a, b)))
    np.testing.assert_allclose(rbm.pseudo_likelihood(vs, rng=seed), expected, rtol=1e-12)


def test_exact_gradient_matches_central_differences():
    rbm = _rbm(4, 3, scale=0.5)
    data = np.random.default_rng(0).random((6, 4)).round()
    exact = rbm.exact_gradient(data)
    for name, param in rbm.named_parameters():
        numeric = np.zeros_like(param.data)
        for index in np.ndindex(param.shape):
            saved = param.data[index]
            param.data[index] = saved + 1e-6
            plus = -rbm.log_likelihood(data).mean()
            param.data[index] = saved - 1e-6
            minus = -rbm.log_likelihood(data).mean()
            param.data[index] = saved
            numeric[index] = (plus - minus) / 2e-6
        np.testing.assert_allclose(exact[name], numeric, rtol=1e-6, atol=1e-9, err_msg=name)


def test_cd_and_pcd_against_the_exact_gradient():
    """CD-k's bias (from starting the chain at the data) shrinks with k; every estimator points the exact way.

    Tiny model, strong weights (slow mixing), 800 estimates each. The table is printed
    (pytest -s), the assertions are the qualitative facts: CD-10's bias is below CD-1's,
    PCD's chain, run long enough, is nearly unbiased, all have cosine > 0.9 with the truth.
    """
    rbm = _rbm(6, 4, scale=1.5, seed=3)
    data = np.random.default_rng(1).random((10, 6)).round()
    exact = rbm.exact_gradient(data)["weight"]
    rng = np.random.default_rng(2)
    rows = {}
    for label, k, persistent in [("CD-1", 1, False), ("CD-10", 10, False), ("PCD-1", 1, True)]:
        estimates = []
        chain = np.zeros((10, 4))
        for _ in range(800):
            rbm.zero_grad()
            new_chain = rbm.contrastive_divergence(data, k, chain if persistent else None, rng)
            if persistent:
                chain = new_chain  # the weights do not move: PCD's chain samples the model exactly in the limit
            estimates.append(rbm.weight.grad.copy())
        estimates = np.array(estimates)
        mean = estimates.mean(axis=0)
        rows[label] = {"bias": float(np.linalg.norm(mean - exact) / np.linalg.norm(exact)),
                       "std": float(np.sqrt(estimates.var(axis=0).sum()) / np.linalg.norm(exact)),
                       "cosine": float(np.sum(mean * exact) / np.linalg.norm(mean) / np.linalg.norm(exact))}
    print("\nrelative to |exact gradient|:", {k: {n: round(x, 3) for n, x in v.items()} for k, v in rows.items()})
    assert rows["CD-10"]["bias"] < 0.7 * rows["CD-1"]["bias"]
    assert rows["PCD-1"]["bias"] < 0.7 * rows["CD-1"]["bias"]
    assert all(row["cosine"] > 0.9 for row in rows.values())


def test_forward_is_the_hidden_probabilities_and_passes_gradcheck(rng):
    rbm = RBM(5, 3, rng=0)
    v = rng.random((4, 5)).astype(np.float32)
    np.testing.assert_allclose(rbm(v), rbm.hidden_probs(v))
    assert rbm(v).dtype == np.float32
    gradcheck(rbm, v.astype(np.float64))


def test_float32_kept_by_sampling_and_cd(rng):
    rbm = RBM(5, 3, rng=0)
    v = (rng.random((4, 5)) > 0.5).astype(np.float32)
    chain = rbm.contrastive_divergence(v, k=2, rng=0)
    assert chain.dtype == np.float32 and rbm.weight.grad.dtype == np.float32
    assert rbm.gibbs(v, rng=0).dtype == np.float32 and rbm.free_energy(v).dtype == np.float32


def test_enumeration_limit_and_shapes_are_named():
    with pytest.raises(ValueError, match="at most 20 units"):
        RBM(30, 21, rng=0).log_partition()
    with pytest.raises(ValueError, match=r"\(N, 5\)"):
        RBM(5, 3, rng=0).free_energy(np.zeros((2, 4)))
