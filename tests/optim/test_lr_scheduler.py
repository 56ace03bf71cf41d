"""Learning-rate schedules: the closed forms in the docstrings, checkpoints and argument errors.

Sequence parity with PyTorch is in tests/oracle/test_optim_parity.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltoys.nn import Parameter
from dltoys.optim import (
    SGD,
    Adam,
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    MultiStepLR,
    StepLR,
)

BASE_LR = 0.2


def _optimizer(lr=BASE_LR):
    return SGD([Parameter(np.zeros(2))], lr=lr)


def _sequence(scheduler, n_epochs):
    """The rates of epochs 0 .. n_epochs - 1 (epoch 0 is set by the constructor)."""
    rates = [scheduler.optimizer.lr]
    for _ in range(n_epochs - 1):
        scheduler.step()
        rates.append(scheduler.get_last_lr()[0])
        assert rates[-1] == scheduler.optimizer.lr
    return rates


CLOSED_FORMS = [
    (StepLR, dict(step_size=4, gamma=0.5), lambda t: BASE_LR * 0.5 ** (t // 4)),
    (MultiStepLR, dict(milestones=[2, 5, 5], gamma=0.1), lambda t: BASE_LR * 0.1 ** ((t >= 2) + 2 * (t >= 5))),
    (ExponentialLR, dict(gamma=0.9), lambda t: BASE_LR * 0.9**t),
    (CosineAnnealingLR, dict(T_max=12, eta_min=0.02), lambda t: 0.02 + (BASE_LR - 0.02) * (1 + math.cos(math.pi * t / 12)) / 2),
    (LinearLR, dict(start_factor=0.1, end_factor=0.8, total_iters=6), lambda t: BASE_LR * (0.1 + 0.7 * min(t, 6) / 6)),
    (LambdaLR, dict(lr_lambda=lambda t: 1 / (1 + t)), lambda t: BASE_LR / (1 + t)),
]


@pytest.mark.parametrize("cls, kwargs, closed_form", CLOSED_FORMS, ids=[c[0].__name__ for c in CLOSED_FORMS])
def test_recursion_follows_the_closed_form(cls, kwargs, closed_form):
    """The chainable recursions equal the docstrings' closed forms (to rounding) over 3 T_max-like periods."""
    rates = _sequence(cls(_optimizer(), **kwargs), 36)
    np.testing.assert_allclose(rates, [closed_form(t) for t in range(36)], rtol=1e-12, atol=1e-15)


def test_cosine_annealing_reaches_eta_min_then_climbs_back():
    rates = _sequence(CosineAnnealingLR(_optimizer(), T_max=10), 21)
    assert rates[0] == BASE_LR and rates[10] == pytest.approx(0.0, abs=1e-15)
    assert rates[20] == pytest.approx(BASE_LR, rel=1e-12)  # PyTorch's period is 2 T_max


def test_warmup_then_decay_compose():
    """A LinearLR warm-up and an ExponentialLR stepped together multiply their factors."""
    optimizer = _optimizer()
    warmup, decay = LinearLR(optimizer, start_factor=0.5, total_iters=4), ExponentialLR(optimizer, gamma=0.9)
    assert warmup.base_lrs == decay.base_lrs == [BASE_LR] and optimizer.initial_lr == BASE_LR
    rates = [optimizer.lr]
    for _ in range(9):
        warmup.step()
        decay.step()
        rates.append(optimizer.lr)
    expected = [BASE_LR * (0.5 + 0.5 * min(t, 4) / 4) * 0.9**t for t in range(10)]
    np.testing.assert_allclose(rates, expected, rtol=1e-12)


@pytest.mark.parametrize(
    "make",
    [
        lambda o: StepLR(o, step_size=3, gamma=0.5),
        lambda o: MultiStepLR(o, milestones=[4, 9]),
        lambda o: ExponentialLR(o, gamma=0.95),
        lambda o: CosineAnnealingLR(o, T_max=7, eta_min=1e-3),
        lambda o: LinearLR(o, start_factor=0.2, total_iters=10),
        lambda o: LambdaLR(o, lambda t: 0.9 ** (t // 2)),
    ],
    ids=["StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "LambdaLR"],
)
def test_resumed_schedule_continues_identically(make, json_roundtrip):
    reference = make(_optimizer())
    uninterrupted = _sequence(reference, 25)

    scheduler = make(_optimizer())
    first = _sequence(scheduler, 10)
    optimizer_state = json_roundtrip(scheduler.optimizer.state_dict())
    scheduler_state = json_roundtrip(scheduler.state_dict())
    assert scheduler_state["last_epoch"] == 9

    # PyTorch's order: build optimizer and schedule, then load both states.
    optimizer = _optimizer(lr=5.0)
    resumed = make(optimizer)
    optimizer.load_state_dict(optimizer_state)
    resumed.load_state_dict(scheduler_state)
    assert resumed.get_last_lr() == [first[-1]]
    # The rate before any schedule (a schedule attached later starts from it) comes back too.
    assert optimizer.initial_lr == resumed.base_lrs[0] == BASE_LR
    assert first + _sequence(resumed, 16)[1:] == uninterrupted


def test_resumed_training_with_adam_and_warmup_is_bit_identical(json_roundtrip):
    """Optimizer state and schedule state together: the weights after 12 steps equal an uninterrupted run."""

    def train(param, optimizer, scheduler, steps, seed):
        rng = np.random.default_rng(seed)
        for _ in range(steps):
            param.grad[...] = rng.standard_normal(param.shape).astype(param.dtype)
            optimizer.step()
            scheduler.step()

    def build():
        param = Parameter(np.linspace(-1, 1, 6, dtype=np.float32))
        optimizer = Adam([param], lr=0.1)
        return param, optimizer, LinearLR(optimizer, start_factor=0.1, total_iters=8)

    param_ref, optimizer_ref, scheduler_ref = build()
    train(param_ref, optimizer_ref, scheduler_ref, 6, seed=1)
    train(param_ref, optimizer_ref, scheduler_ref, 6, seed=2)

    param, optimizer, scheduler = build()
    train(param, optimizer, scheduler, 6, seed=1)
    saved = json_roundtrip({"param": param.data, "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()})
    param2, optimizer2, scheduler2 = build()
    param2.data[...] = saved["param"]
    optimizer2.load_state_dict(saved["optimizer"])
    scheduler2.load_state_dict(saved["scheduler"])
    train(param2, optimizer2, scheduler2, 6, seed=2)
    np.testing.assert_array_equal(param2.data, param_ref.data)
    assert optimizer2.lr == optimizer_ref.lr and param2.dtype == np.float32


def test_get_last_lr_is_a_copy_and_state_dict_holds_no_function():
    scheduler = LambdaLR(_optimizer(), lambda t: 0.5)
    last = scheduler.get_last_lr()
    last[0] = 123.0
    assert scheduler.get_last_lr() == [0.1]
    assert scheduler.state_dict() == {
        "type": "LambdaLR", "hyperparams": {}, "base_lrs": [BASE_LR], "last_epoch": 0, "last_lr": [0.1],
    }
    milestones = MultiStepLR(_optimizer(), milestones=[3, 6]).state_dict()["hyperparams"]
    assert milestones == {"milestones": [3, 6], "gamma": 0.1}


def test_loading_another_schedules_state_is_an_error():
    state = StepLR(_optimizer(), step_size=2).state_dict()
    with pytest.raises(ValueError, match="the state belongs to a 'StepLR', not a ExponentialLR"):
        ExponentialLR(_optimizer(), gamma=0.9).load_state_dict(state)


@pytest.mark.parametrize(
    "make, error, match",
    [
        (lambda o: StepLR(o, step_size=0), ValueError, r"step_size: expected an integer >= 1, received 0"),
        (lambda o: StepLR(o, step_size=2.5), TypeError, r"step_size: expected an integer, received 2.5"),
        (lambda o: StepLR(o, step_size=2, gamma=0.0), ValueError, r"gamma: expected a number in \(0, inf\), received 0"),
        (lambda o: MultiStepLR(o, milestones=[5, 3]), ValueError,
         r"milestones: expected epochs in non-decreasing order, received \[5, 3\]"),
        (lambda o: MultiStepLR(o, milestones=[0, 3]), ValueError, r"milestones\[0\]: expected an integer >= 1, received 0"),
        (lambda o: MultiStepLR(o, milestones=5), TypeError, r"milestones: expected a list of epochs, received 5"),
        (lambda o: ExponentialLR(o, gamma=-0.9), ValueError, r"gamma: expected a number in \(0, inf\), received -0.9"),
        (lambda o: CosineAnnealingLR(o, T_max=0), ValueError, r"T_max: expected an integer >= 1, received 0"),
        (lambda o: CosineAnnealingLR(o, T_max=5, eta_min=-1e-3), ValueError,
         r"eta_min: expected a number in \[0, inf\), received -0.001"),
        (lambda o: LinearLR(o, start_factor=0.0), ValueError, r"start_factor: expected a number in \(0, 1\], received 0"),
        (lambda o: LinearLR(o, end_factor=1.5), ValueError, r"end_factor: expected a number in \[0, 1\], received 1.5"),
        (lambda o: LinearLR(o, total_iters=0), ValueError, r"total_iters: expected an integer >= 1, received 0"),
        (lambda o: LambdaLR(o, lr_lambda=0.5), TypeError, r"lr_lambda: expected a function of the epoch, received 0.5"),
        (lambda o: LambdaLR(o, lr_lambda=lambda t: "fast"), TypeError, r"lr_lambda\(0\) returned 'fast', expected a number"),
        (lambda o: LambdaLR(o, lr_lambda=lambda t: -1.0), ValueError, r"LambdaLR: the schedule produced lr=-0.2 at epoch 0"),
        (lambda o: StepLR("sgd", step_size=2), TypeError, r"StepLR: optimizer must be an Optimizer, received str"),
    ],
)
def test_bad_arguments_are_named(make, error, match):
    with pytest.raises(error, match=match):
        make(_optimizer())
