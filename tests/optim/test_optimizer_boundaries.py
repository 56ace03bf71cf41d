"""Optimizers at their boundary: what they are built over, and what their state dicts may hold.

A state dict is untrusted input (it comes from a file): every setting goes
through the constructor's own checks, and a refused state changes nothing.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dltoys import nn, optim


def model():
    return nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 2, rng=1))


def stepped(optimizer_class, **kwargs):
    net = model()
    optimizer = optimizer_class(net.parameters(), **kwargs)
    for p in net.parameters():
        p.grad[...] = 0.1
    optimizer.step()
    return net, optimizer


@pytest.mark.parametrize(
    "params, message",
    [
        (lambda net: net, r"SGD: params must be the model's parameters, received the Sequential module itself \(pass model\.parameters\(\)\)"),
        (lambda net: next(net.parameters()), r"received one Parameter \(pass \[param\]\)"),
        (lambda net: 3, r"params must be an iterable of Parameters \(model\.parameters\(\)\), received int"),
        (lambda net: [np.zeros(3)], r"params\[0\] must be a Parameter, received ndarray"),
    ],
)
def test_what_an_optimizer_is_built_over(params, message):
    # Before: SGD(model) raised "'Sequential' object is not iterable".
    with pytest.raises(TypeError, match=message):
        optim.SGD(params(model()), lr=0.1)


BAD_SETTINGS = [
    (optim.Adam, {"lr": -0.5}, r"lr: expected a number in \[0, inf\), received -0\.5"),
    (optim.Adam, {"lr": "fast"}, r"lr: expected a number, received 'fast'"),
    (optim.Adam, {"betas": [1.5, 7]}, r"betas\[0\]: expected a number in \[0, 1\), received 1\.5"),
    (optim.Adam, {"eps": float("nan")}, r"eps: expected a number"),
    (optim.Adam, {"amsgrad": "no"}, r"amsgrad: expected True or False"),
    (optim.SGD, {"momentum": 2.0}, r"momentum: expected a number in \[0, 1\]"),
    (optim.SGD, {"nesterov": True, "momentum": 0.0}, r"nesterov=True requires momentum > 0"),
    (optim.RMSprop, {"alpha": -1}, r"alpha: expected a number in \[0, 1\]"),
]


@pytest.mark.parametrize("cls, change, message", BAD_SETTINGS, ids=[f"{c.__name__}-{next(iter(d))}" for c, d, _ in BAD_SETTINGS])
def test_saved_settings_go_through_the_constructor_checks_and_change_nothing(cls, change, message):
    kwargs = {"lr": 0.1} if cls is optim.SGD else {}
    net, optimizer = stepped(cls, **kwargs)
    state = optimizer.state_dict()
    state["hyperparams"].update(change)
    state["step_count"] = 99
    before = copy.deepcopy(optimizer.state_dict())
    # Before: lr=-0.5, lr='fast' and betas=[1.5, 7] all loaded silently.
    with pytest.raises(ValueError, match=rf"{cls.__name__}\.load_state_dict: invalid saved hyperparameters: {message}"):
        optimizer.load_state_dict(state)
    after = optimizer.state_dict()
    assert after["hyperparams"] == before["hyperparams"] and after["step_count"] == before["step_count"]


@pytest.mark.parametrize(
    "change, error, message",
    [
        (lambda s: s.update(step_count=-1), ValueError, r"step_count must be an integer >= 0, received -1"),
        (lambda s: s.update(step_count="7"), ValueError, r"step_count must be an integer >= 0"),
        (lambda s: s.update(initial_lr=-1.0), ValueError, r"initial_lr: expected a number in \[0, inf\)"),
        (lambda s: s["state"]["exp_avg"].__setitem__(0, np.zeros((9, 9))), ValueError, r"state 'exp_avg'\[0\] has shape \(9, 9\)"),
        (lambda s: s["state"]["exp_avg"].__setitem__(0, np.zeros((4, 3), complex)), TypeError, r"must be a real-valued array, received complex128"),
        (lambda s: s["state"]["exp_avg"].__setitem__(0, "zeros"), TypeError, r"must be a real-valued array, received str"),
        (lambda s: s["state"]["exp_avg"].pop(), ValueError, r"state 'exp_avg' has 3 entries, the optimizer has 4 parameters"),
        (lambda s: s["state"].update(exp_avg=5), ValueError, r"state 'exp_avg' has int entries"),
        (lambda s: s.update(state=[]), TypeError, r"state must be a dict"),
        (lambda s: s.update(hyperparams=None), TypeError, r"hyperparams must be a dict"),
        (lambda s: s["hyperparams"].update(momentum=0.9), KeyError, r"unknown hyperparameter 'momentum'"),
    ],
)
def test_a_state_that_does_not_fit_changes_nothing(change, error, message):
    # Before: the hyperparameters were set first, then the state raised halfway through.
    net, optimizer = stepped(optim.Adam, lr=0.01)
    state = optimizer.state_dict()
    state["hyperparams"]["lr"] = 0.5  # a valid change that must not be applied either
    change(state)
    before = optimizer.state_dict()
    with pytest.raises(error, match=message):
        optimizer.load_state_dict(state)
    after = optimizer.state_dict()
    assert after["hyperparams"] == before["hyperparams"] and after["step_count"] == before["step_count"]
    for a, b in zip(after["state"]["exp_avg"], before["state"]["exp_avg"]):
        np.testing.assert_array_equal(a, b)


def test_a_gradient_free_state_with_a_bad_generator_changes_nothing():
    net = model()
    search = optim.RandomSearch(net.parameters(), rng=0)
    search.step(lambda: 1.0)
    state = search.state_dict()
    state["rng_state"] = {"bit_generator": "MT19937", "state": 3}
    state["best_loss"] = 0.25
    with pytest.raises(ValueError, match="rng_state does not fit"):
        search.load_state_dict(state)
    assert search.best_loss == 1.0 and search.step_count == 1


def test_scheduler_state_is_checked():
    optimizer = optim.SGD(model().parameters(), lr=0.1)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=2)
    state = scheduler.state_dict()
    for key, value, message in [("last_epoch", -5, "last_epoch must be an integer >= -1"),
                                ("base_lrs", ["x"], "base_lrs: expected a number"),
                                ("last_lr", [-1.0], r"last_lr: expected a number in \[0, inf\)")]:
        bad = dict(state, **{key: value})
        with pytest.raises(ValueError, match=message):
            scheduler.load_state_dict(bad)
    assert scheduler.state_dict() == state


@settings(max_examples=80, deadline=None)
@given(
    lr=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=3), st.none(), st.booleans()),
    beta=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3)),
)
def test_property_load_accepts_exactly_what_the_constructor_accepts(lr, beta):
    net = model()

    def build():
        return optim.Adam(net.parameters(), lr=lr, betas=(0.9, beta))

    try:
        build()
        constructor_ok = True
    except (TypeError, ValueError):
        constructor_ok = False
    optimizer = optim.Adam(net.parameters(), lr=0.01)
    state = optimizer.state_dict()
    state["hyperparams"].update(lr=lr, betas=[0.9, beta])
    try:
        optimizer.load_state_dict(state)
        load_ok = True
    except (TypeError, ValueError):
        load_ok = False
        assert optimizer.lr == 0.01
    assert load_ok == constructor_ok


@pytest.mark.parametrize(
    "build, change, message",
    [
        (lambda o: optim.lr_scheduler.StepLR(o, step_size=2), {"gamma": -1.0}, r"gamma: expected a number in \(0, inf\)"),
        (lambda o: optim.lr_scheduler.StepLR(o, step_size=2), {"step_size": "2"}, r"step_size: expected an integer"),
        (lambda o: optim.lr_scheduler.CosineAnnealingLR(o, T_max=4), {"T_max": 0}, r"T_max: expected an integer >= 1"),
    ],
)
def test_saved_schedule_settings_go_through_the_constructor_checks(build, change, message):
    optimizer = optim.SGD(model().parameters(), lr=0.1)
    scheduler = build(optimizer)
    state = scheduler.state_dict()
    state["hyperparams"].update(change)
    before = scheduler.state_dict()
    with pytest.raises(ValueError, match=rf"invalid saved hyperparameters: {message}"):
        scheduler.load_state_dict(state)
    assert scheduler.state_dict() == before and optimizer.lr == 0.1
