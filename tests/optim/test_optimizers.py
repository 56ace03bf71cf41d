"""SGD, RMSprop, Adam, AdamW without PyTorch: learning, checkpoints, dtypes, frozen weights, bad arguments.

Update-rule parity with PyTorch is in tests/oracle/test_optim_parity.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys.nn import Linear, MSELoss, Parameter, Sequential, Tanh
from dltoys.optim import SGD, Adam, AdamW, Optimizer, RMSprop
from dltoys.testing import assert_dtype_tree

# Every option on, so that every state buffer exists.
FULL_OPTIONS = [
    (SGD, dict(lr=0.05, momentum=0.9, weight_decay=0.01, nesterov=True)),
    (SGD, dict(lr=0.05, momentum=0.5, dampening=0.3)),
    (RMSprop, dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.01)),
    (Adam, dict(lr=0.05, amsgrad=True, weight_decay=0.01)),
    (AdamW, dict(lr=0.05, amsgrad=True)),
]
IDS = ["SGD-nesterov", "SGD-dampening", "RMSprop-centered", "Adam-amsgrad", "AdamW-amsgrad"]


def _model(dtype=np.float32, seed=0):
    return Sequential(Linear(3, 8, dtype=dtype, rng=seed), Tanh(), Linear(8, 1, dtype=dtype, rng=seed + 1))


def _train(model, optimizer, data, n_steps):
    x, y = data
    loss_fn = MSELoss()
    losses = []
    for _ in range(n_steps):
        def closure():
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            model.backward(loss_fn.backward())
            return float(loss)

        losses.append(optimizer.step(closure))
    return losses


@pytest.mark.parametrize(
    "make",
    [
        lambda p: SGD(p, lr=0.1),
        lambda p: SGD(p, lr=0.05, momentum=0.9, nesterov=True),
        lambda p: RMSprop(p, lr=0.01),
        lambda p: Adam(p, lr=0.05),
        lambda p: Adam(p, lr=0.05, amsgrad=True),
        lambda p: AdamW(p, lr=0.05),
    ],
    ids=["SGD", "SGD-nesterov", "RMSprop", "Adam", "Adam-amsgrad", "AdamW"],
)
def test_linear_regression_reaches_least_squares(make, regression):
    """Full-batch linear regression: MSE from 5.8 to within 1% of least squares (0.0110) in 300 steps."""
    x, y = regression
    design = np.c_[x, np.ones(len(x))].astype(np.float64)
    floor = float(np.mean((design @ np.linalg.lstsq(design, y, rcond=None)[0] - y) ** 2))
    model = Linear(3, 1, rng=0)
    losses = _train(model, make(model.parameters()), regression, 300)
    assert losses[0] > 5.0
    assert float(MSELoss()(model(x), y)) < 1.01 * floor


def test_step_calls_the_closure_before_updating_and_returns_its_loss():
    param = Parameter(np.array([1.0, -2.0]))
    optimizer = SGD([param], lr=0.5)

    def closure():
        param.grad[...] = 2 * param.data  # d/dw of |w|^2, at the weights before the step
        return float(param.data @ param.data)

    assert optimizer.step(closure) == 5.0
    np.testing.assert_array_equal(param.data, [0.0, 0.0])  # w - 0.5 * 2w
    assert optimizer.step() is None


def test_zero_grad_clears_every_gradient():
    params = [Parameter(np.ones(3)), Parameter(np.ones((2, 2)), requires_grad=False)]
    for param in params:
        param.grad += 1
    SGD(params, lr=0.1).zero_grad()
    assert all(not param.grad.any() for param in params)


# ----------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("cls, kwargs", FULL_OPTIONS, ids=IDS)
def test_resumed_optimizer_continues_bit_identically(cls, kwargs, regression, json_roundtrip):
    reference = _model()
    reference_losses = _train(reference, cls(reference.parameters(), **kwargs), regression, 10)

    model = _model()
    optimizer = cls(model.parameters(), **kwargs)
    losses = _train(model, optimizer, regression, 5)
    model_state = json_roundtrip(model.state_dict())
    optimizer_state = json_roundtrip(optimizer.state_dict())
    assert optimizer_state["step_count"] == 5

    resumed_model = _model(seed=7)
    resumed = cls(resumed_model.parameters(), **dict(kwargs, lr=1.0))  # lr comes back from the state
    resumed_model.load_state_dict(model_state)
    resumed.load_state_dict(optimizer_state)
    assert resumed.lr == kwargs["lr"]
    losses += _train(resumed_model, resumed, regression, 5)
    assert losses == reference_losses
    for name, param in resumed_model.named_parameters():
        np.testing.assert_array_equal(param.data, dict(reference.named_parameters())[name].data, err_msg=name)


def test_state_dict_names_and_copies():
    model = _model()
    optimizer = Adam(model.parameters(), lr=0.01, betas=(0.8, 0.9), amsgrad=True)
    state = optimizer.state_dict()
    assert state["type"] == "Adam"
    assert state["hyperparams"] == dict(
        lr=0.01, betas=[0.8, 0.9], eps=1e-8, weight_decay=0.0, amsgrad=True, decoupled_weight_decay=False
    )
    assert set(state["state"]) == {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"}
    assert state["state"]["exp_avg"] == [None] * 4  # nothing before the first step
    _train(model, optimizer, (np.ones((2, 3)), np.ones((2, 1))), 1)
    state = optimizer.state_dict()
    assert state["state"]["step"] == [1, 1, 1, 1]
    state["state"]["exp_avg"][0] += 1  # a copy: the optimizer's buffer is unchanged
    assert not np.array_equal(state["state"]["exp_avg"][0], optimizer.state["exp_avg"][0])
    loaded = Adam(_model().parameters())
    loaded.load_state_dict(state)
    assert loaded.betas == (0.8, 0.9)  # a tuple again


def test_load_state_dict_errors():
    params = _model().parameters()
    optimizer = SGD(params, lr=0.1, momentum=0.9)
    _train(_model(), optimizer, (np.ones((2, 3)), np.ones((2, 1))), 0)
    state = optimizer.state_dict()
    with pytest.raises(ValueError, match="the state belongs to a 'SGD', not a Adam"):
        Adam(_model().parameters()).load_state_dict(state)
    short = SGD([Parameter(np.zeros(3))], lr=0.1)
    with pytest.raises(ValueError, match="state 'momentum_buffer' has 4 entries, the optimizer has 1 parameters"):
        short.load_state_dict(state)
    state["state"]["momentum_buffer"][1] = np.zeros(5)
    with pytest.raises(ValueError, match=r"state 'momentum_buffer'\[1\] has shape \(5,\), the parameter has \(8,\)"):
        SGD(_model().parameters(), lr=0.1).load_state_dict(state)
    state["state"] = {"velocity": [None] * 4}
    with pytest.raises(KeyError, match=r"unknown state \['velocity'\]"):
        SGD(_model().parameters(), lr=0.1).load_state_dict(state)
    state = optimizer.state_dict()
    state["hyperparams"]["betas"] = [0.9, 0.9]
    with pytest.raises(KeyError, match="unknown hyperparameter 'betas'"):
        SGD(_model().parameters(), lr=0.1).load_state_dict(state)


# ---------------------------------------------------------------------- dtypes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cls, kwargs", FULL_OPTIONS, ids=IDS)
def test_dtype_is_kept_by_every_update(cls, kwargs, dtype, regression):
    model = _model(dtype)
    optimizer = cls(model.parameters(), **kwargs)
    _train(model, optimizer, regression, 3)
    optimizer.lr = np.float64(optimizer.lr)  # a NumPy float64 (from a schedule) must not upcast either
    _train(model, optimizer, regression, 3)
    assert_dtype_tree(model.state_dict(), dtype)
    assert_dtype_tree([param.grad for param in model.parameters()], dtype)
    state = optimizer.state_dict()
    assert_dtype_tree(state, dtype)
    assert sum(isinstance(b, np.ndarray) for buffers in state["state"].values() for b in buffers) >= 4


# --------------------------------------------------------------- frozen weights
@pytest.mark.parametrize("cls, kwargs", FULL_OPTIONS, ids=IDS)
def test_parameters_with_requires_grad_false_are_untouched(cls, kwargs, regression):
    model = _model()
    model[0].requires_grad_(False)
    frozen = [param.data.copy() for param in model[0].parameters()]
    for param in model.parameters():
        param.grad += 1.0  # the frozen layer's stale gradient must not be used
    trainable_before = model[2].weight.data.copy()
    optimizer = cls(model.parameters(), **kwargs)
    for _ in range(3):
        optimizer.step()
    for param, before in zip(model[0].parameters(), frozen):
        np.testing.assert_array_equal(param.data, before)
    assert all(entries[0] is None and entries[1] is None for entries in optimizer.state.values())
    assert not np.array_equal(model[2].weight.data, trainable_before)


# ------------------------------------------------------------ bad arguments
def _params():
    return [Parameter(np.zeros(3))]


@pytest.mark.parametrize(
    "cls, kwargs, error, match",
    [
        (SGD, dict(lr=-0.1), ValueError, r"lr: expected a number in \[0, inf\), received -0.1"),
        (SGD, dict(lr="0.1"), TypeError, r"lr: expected a number, received '0.1'"),
        (SGD, dict(lr=0.1, momentum=-0.5), ValueError, r"momentum: expected a number in \[0, 1\], received -0.5"),
        (SGD, dict(lr=0.1, momentum=1.5), ValueError, r"momentum: expected a number in \[0, 1\], received 1.5"),
        (SGD, dict(lr=0.1, dampening=2.0), ValueError, r"dampening: expected a number in \[0, 1\], received 2"),
        (SGD, dict(lr=0.1, weight_decay=-1e-4), ValueError, r"weight_decay: expected a number in \[0, inf\), received -0.0001"),
        (SGD, dict(lr=0.1, nesterov=1), TypeError, r"nesterov: expected True or False, received 1"),
        (SGD, dict(lr=0.1, nesterov=True), ValueError,
         r"nesterov=True requires momentum > 0 and dampening = 0, received momentum=0, dampening=0"),
        (SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), ValueError,
         r"requires momentum > 0 and dampening = 0, received momentum=0.9, dampening=0.1"),
        (RMSprop, dict(alpha=1.01), ValueError, r"alpha: expected a number in \[0, 1\], received 1.01"),
        (RMSprop, dict(eps=-1e-8), ValueError, r"eps: expected a number in \[0, inf\), received -1e-08"),
        (RMSprop, dict(momentum=float("inf")), ValueError, r"momentum: expected a number in \[0, 1\], received inf"),
        (RMSprop, dict(centered="yes"), TypeError, r"centered: expected True or False, received 'yes'"),
        (Adam, dict(betas=(0.9, 1.0)), ValueError, r"betas\[1\]: expected a number in \[0, 1\), received 1"),
        (Adam, dict(betas=(-0.1, 0.999)), ValueError, r"betas\[0\]: expected a number in \[0, 1\), received -0.1"),
        (Adam, dict(betas=0.9), TypeError, r"betas: expected a pair \(beta1, beta2\), received 0.9"),
        (Adam, dict(betas=(0.9, 0.99, 0.999)), TypeError, r"betas: expected a pair"),
        (Adam, dict(lr=float("nan")), ValueError, r"lr: expected a number in \[0, inf\), received nan"),
        (Adam, dict(amsgrad=None), TypeError, r"amsgrad: expected True or False, received None"),
        (AdamW, dict(weight_decay=-0.01), ValueError, r"weight_decay: expected a number in \[0, inf\), received -0.01"),
    ],
)
def test_bad_hyperparameters_are_named(cls, kwargs, error, match):
    with pytest.raises(error, match=match):
        cls(_params(), **kwargs)


def test_bad_parameter_lists():
    with pytest.raises(ValueError, match="SGD: received an empty parameter list"):
        SGD([], lr=0.1)
    with pytest.raises(TypeError, match=r"Adam: params\[1\] must be a Parameter, received ndarray \(pass model.parameters\(\)\)"):
        Adam([Parameter(np.zeros(2)), np.zeros(2)])
    shared = Parameter(np.zeros(2))
    with pytest.raises(ValueError, match=r"RMSprop: params\[2\] is the same Parameter as params\[0\]"):
        RMSprop([shared, Parameter(np.zeros(2)), shared])


def test_base_class_needs_an_update_rule():
    with pytest.raises(NotImplementedError):
        Optimizer(_params(), lr=0.1).step()
