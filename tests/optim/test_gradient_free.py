"""Behaviour of the gradient-free baselines: they learn, reproducibly, and gradient descent beats them."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.nn import BCELoss, Linear, MSELoss, Parameter, Sequential, Sigmoid, Tanh
from dltoys.optim import SGD, ExponentialLR, HillClimb, RandomSearch

def _least_squares_mse(x, y):
    design = np.c_[x, np.ones(len(x))].astype(np.float64)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(np.mean((design @ coef - y) ** 2))


def _fit(regression, optimizer_cls, n_steps, rng, **kwargs):
    x, y = regression
    model, loss_fn = Linear(3, 1, rng=0), MSELoss()
    optimizer = optimizer_cls(model.parameters(), rng=rng, **kwargs)
    closure = lambda: loss_fn(model(x), y)  # noqa: E731
    initial = float(closure())
    history = [optimizer.step(closure) for _ in range(n_steps)]
    return model, optimizer, initial, history, float(closure())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_search_lowers_regression_loss_below_1(seed, regression):
    """From MSE 5.8 (the initial Linear) to below 1.0 in 500 uniform draws from [-3, 3]^4."""
    _, _, initial, history, final = _fit(regression, RandomSearch, 500, seed, scale=3.0)
    assert initial > 5.0
    assert final == history[-1] < 1.0
    assert all(b <= a for a, b in zip(history, history[1:])), "the best loss never rises"


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hill_climb_reaches_near_least_squares(seed, regression):
    """500 Gaussian nudges of 0.1: MSE below 0.015 (least squares: 0.011)."""
    _, _, initial, history, final = _fit(regression, HillClimb, 500, seed, step_size=0.1)
    assert _least_squares_mse(*regression) == pytest.approx(0.011, abs=0.001)
    assert initial > 5.0 and final == history[-1] < 0.015


def test_gradient_descent_beats_both_on_a_1101_weight_network():
    """Same 500 steps, 20-50-1 tanh network (1101 weights) fitting a smooth target.

    SGD's loss ends at least 5 times below HillClimb's, which ends below
    RandomSearch's: a gradient points downhill for every weight at once.
    """
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, 20)).astype(np.float32)
    y = np.tanh(x @ rng.standard_normal(20) / 4)[:, None].astype(np.float32)
    loss_fn = MSELoss()
    finals = {}
    for name in ["SGD", "HillClimb", "RandomSearch"]:
        model = Sequential(Linear(20, 50, rng=1), Tanh(), Linear(50, 1, rng=2))
        assert model.num_parameters() == 1101
        initial = float(loss_fn(model(x), y))
        if name == "SGD":
            optimizer = SGD(model.parameters(), lr=0.1)
            for _ in range(500):
                optimizer.zero_grad()
                loss_fn(model(x), y)
                model.backward(loss_fn.backward())
                optimizer.step()
        else:
            optimizer = (HillClimb(model.parameters(), step_size=0.01, rng=0) if name == "HillClimb"
                         else RandomSearch(model.parameters(), scale=0.3, rng=0))
            for _ in range(500):
                optimizer.step(lambda: loss_fn(model(x), y))
        finals[name] = float(loss_fn(model(x), y))
        assert finals[name] < initial, name
    assert finals["SGD"] < 0.01
    assert finals["SGD"] * 5 < finals["HillClimb"] < finals["RandomSearch"], finals


def _xor(optimizer_cls, **kwargs):
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
    y = np.array([[0], [1], [1], [0]], np.float32)
    net = Sequential(Linear(2, 4, rng=1), Tanh(), Linear(4, 1, rng=2), Sigmoid())
    loss_fn = BCELoss()
    optimizer = optimizer_cls(net.parameters(), rng=0, **kwargs)
    initial = float(loss_fn(net(x), y))
    for _ in range(1000):
        best = optimizer.step(lambda: loss_fn(net(x), y))
    accuracy = np.mean((net(x) > 0.5) == y)
    return initial, best, accuracy


def test_hill_climb_solves_xor():
    """A 2-4-1 network (17 weights): BCE from 0.70 to below 0.01 in 1000 steps, all four points right."""
    initial, best, accuracy = _xor(HillClimb, step_size=0.5)
    assert initial > 0.69 and best < 0.01 and accuracy == 1.0


def test_random_search_separates_xor_but_fits_it_loosely():
    """1000 draws from [-4, 4]^17 classify XOR but leave the BCE above HillClimb's 0.01."""
    initial, best, accuracy = _xor(RandomSearch, scale=4.0)
    assert initial > 0.69 and 0.01 < best < 0.35 and accuracy == 1.0


# ------------------------------------------------------------- reproducibility
@pytest.mark.parametrize("cls, kwargs", [(RandomSearch, dict(scale=3.0)), (HillClimb, dict(step_size=0.1))])
def test_same_seed_gives_bit_identical_runs(cls, kwargs, regression):
    first, _, _, history1, _ = _fit(regression, cls, 100, 7, **kwargs)
    second, _, _, history2, _ = _fit(regression, cls, 100, 7, **kwargs)
    other, _, _, history3, _ = _fit(regression, cls, 100, 8, **kwargs)
    assert history1 == history2
    for a, b in zip(first.parameters(), second.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    assert history1 != history3, "another seed should search elsewhere"


@pytest.mark.parametrize("cls, kwargs", [(RandomSearch, dict(scale=3.0)), (HillClimb, dict(step_size=0.1))])
def test_resumed_run_continues_identically(cls, kwargs, json_roundtrip, regression):
    x, y = regression
    loss_fn = MSELoss()

    def run(model, optimizer, n):
        return [optimizer.step(lambda: loss_fn(model(x), y)) for _ in range(n)]

    reference_model = Linear(3, 1, rng=0)
    optimizer = cls(reference_model.parameters(), rng=3, **kwargs)
    uninterrupted = run(reference_model, optimizer, 60)

    model = Linear(3, 1, rng=0)
    optimizer = cls(model.parameters(), rng=3, **kwargs)
    first_half = run(model, optimizer, 30)
    model_state = json_roundtrip(model.state_dict())
    optimizer_state = json_roundtrip(optimizer.state_dict())
    assert optimizer_state["best_loss"] == first_half[-1]

    resumed_model = Linear(3, 1, rng=5)  # different weights until the state is loaded
    resumed = cls(resumed_model.parameters(), rng=99, **kwargs)  # and a different generator
    resumed_model.load_state_dict(model_state)
    resumed.load_state_dict(optimizer_state)
    assert first_half + run(resumed_model, resumed, 30) == uninterrupted
    for a, b in zip(resumed_model.parameters(), reference_model.parameters()):
        assert a.dtype == np.float32
        np.testing.assert_array_equal(a.data, b.data)


# ----------------------------------------------------------- contract details
@pytest.mark.parametrize("cls", [RandomSearch, HillClimb])
def test_step_without_closure_is_a_clear_error(cls):
    optimizer = cls([Parameter(np.zeros(3, np.float32))], rng=0)
    assert optimizer.needs_gradients is False
    with pytest.raises(TypeError, match=r"step needs a closure.*returns the loss at the current weights"):
        optimizer.step()
    with pytest.raises(TypeError, match="closure"):
        optimizer.step(3.0)


@pytest.mark.parametrize("cls", [RandomSearch, HillClimb])
def test_closure_must_return_a_number(cls):
    optimizer = cls([Parameter(np.zeros(3, np.float32))], rng=0)
    with pytest.raises(TypeError, match=r"closure\(\) must return the loss as a number, received ndarray"):
        optimizer.step(lambda: np.ones(3))


@pytest.mark.parametrize("cls", [RandomSearch, HillClimb])
def test_frozen_parameters_untouched_and_float32_kept(cls, regression):
    model = Sequential(Linear(3, 4, rng=0), Tanh(), Linear(4, 1, rng=1))
    model[0].requires_grad_(False)
    frozen = model[0].weight.data.copy()
    x, y = regression
    loss_fn = MSELoss()
    optimizer = cls(model.parameters(), rng=0)
    before = model[2].weight.data.copy()
    for _ in range(20):
        optimizer.step(lambda: loss_fn(model(x), y))
    np.testing.assert_array_equal(model[0].weight.data, frozen)
    assert optimizer.state["best"][0] is None
    assert not np.array_equal(model[2].weight.data, before), "the trainable layer should have moved"
    for param in model.parameters():
        assert param.dtype == np.float32
    assert all(b is None or b.dtype == np.float32 for b in optimizer.state["best"])


def test_parameters_hold_the_best_weights_after_each_step(regression):
    """A rejected proposal is undone: the model's loss is the best loss after every step."""
    x, y = regression
    model, loss_fn = Linear(3, 1, rng=0), MSELoss()
    optimizer = HillClimb(model.parameters(), step_size=1.0, rng=0)  # large: most proposals fail
    rejected = 0
    for _ in range(50):
        previous = optimizer.best_loss
        best = optimizer.step(lambda: loss_fn(model(x), y))
        rejected += previous is not None and best == previous
        assert float(loss_fn(model(x), y)) == best
    assert rejected > 10


def test_random_search_draws_within_the_box():
    """Proposals are U[-scale, scale]: with a loss that rewards large weights, all stay in the box."""
    param = Parameter(np.zeros(1000, np.float32))
    optimizer = RandomSearch([param], scale=0.25, rng=0)
    seen = []

    def closure():
        seen.append(param.data.copy())
        return -float(np.abs(param.data).sum())

    for _ in range(20):
        optimizer.step(closure)
    draws = np.concatenate(seen[1:])
    assert draws.dtype == np.float32
    assert draws.min() >= -0.25 and draws.max() < 0.25
    assert draws.min() < -0.24 and draws.max() > 0.24  # the whole box is used
    assert abs(draws.mean()) < 0.01


def test_hill_climb_noise_has_the_step_size_as_standard_deviation():
    param = Parameter(np.zeros(20000, np.float64))
    optimizer = HillClimb([param], step_size=0.3, rng=0)
    proposals = []
    optimizer.step(lambda: proposals.append(param.data.copy()) or 0.0)
    noise = proposals[1]  # proposals[0] is the starting point
    assert noise.std() == pytest.approx(0.3, rel=0.02) and abs(noise.mean()) < 0.01


def test_a_schedule_anneals_the_step_size():
    optimizer = HillClimb([Parameter(np.zeros(2))], step_size=0.5, rng=0)
    scheduler = ExponentialLR(optimizer, gamma=0.5)
    scheduler.step()
    assert optimizer.step_size == optimizer.lr == 0.25
    assert optimizer.state_dict()["hyperparams"] == {"step_size": 0.25}


def test_nan_start_is_replaced_by_any_finite_loss():
    param = Parameter(np.zeros(2))
    optimizer = HillClimb([param], rng=0, reevaluate=False)  # scripted losses: one per step
    losses = iter([float("nan"), 3.0, float("nan"), 5.0])
    assert optimizer.step(lambda: next(losses)) == 3.0
    assert optimizer.step(lambda: next(losses)) == 3.0
    assert optimizer.step(lambda: next(losses)) == 3.0


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (RandomSearch, dict(scale=0.0), r"scale: expected a number in \(0, inf\), received 0"),
        (RandomSearch, dict(scale=-1.0), r"scale: expected a number in \(0, inf\), received -1"),
        (HillClimb, dict(step_size=float("nan")), r"step_size: expected a number in \(0, inf\), received nan"),
        (HillClimb, dict(rng=-3), r"rng: a seed must be a non-negative integer, received -3"),
    ],
)
def test_bad_arguments(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([Parameter(np.zeros(2))], **kwargs)


def test_loading_a_state_from_another_generator_type_is_a_clear_error():
    optimizer = HillClimb([Parameter(np.zeros(2))], rng=0)
    state = optimizer.state_dict()
    state["rng_state"] = np.random.Generator(np.random.MT19937(0)).bit_generator.state
    with pytest.raises(ValueError, match="rng_state does not fit this optimizer's PCG64 generator"):
        optimizer.load_state_dict(state)


@pytest.mark.parametrize("cls, kwargs", [(HillClimb, {"step_size": 0.2}), (RandomSearch, {"scale": 2.0})])
def test_minibatch_losses_are_compared_on_the_same_batch(cls, kwargs):
    """Batches of different difficulty: the best weights are re-measured on each batch.

    The loss is ``offset(batch) + |w - 1|^2`` with offsets alternating 0 and 10. Without
    re-evaluation the bar is an easy batch's loss, so no proposal made on a hard batch is
    ever accepted; with it, progress is made on both kinds of batch.
    """
    def run(reevaluate):
        param = Parameter(np.zeros(4))
        optimizer = cls([param], rng=0, reevaluate=reevaluate, **kwargs)
        accepted_on_hard = 0
        for step in range(200):
            offset = 10.0 * (step % 2)
            before = param.data.copy()
            optimizer.step(lambda: offset + float(np.sum((param.data - 1.0) ** 2)))
            if offset and not np.array_equal(before, param.data):
                accepted_on_hard += 1
        return accepted_on_hard, float(np.sum((param.data - 1.0) ** 2))

    stale_accepts, stale_distance = run(reevaluate=False)
    fair_accepts, fair_distance = run(reevaluate=True)
    assert stale_accepts == 0
    assert fair_accepts > 0
    assert fair_distance < stale_distance


@pytest.mark.parametrize("cls", [HillClimb, RandomSearch])
def test_reevaluate_must_be_a_real_bool(cls):
    with pytest.raises(TypeError, match=r"reevaluate: expected True or False, received 'no'"):
        cls([Parameter(np.zeros(2))], rng=0, reevaluate="no")
