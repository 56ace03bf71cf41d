"""PyTorch parity for dltoys.optim: optimizer steps, schedules and gradient clipping.

Both libraries start from the same weights and receive the same sequence of
random gradients (their scale changes by four orders of magnitude over the
run, so normalising optimizers and amsgrad's running maximum matter); after
every step the weights, and at the end the state buffers, must agree.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dltoys.nn import Parameter  # noqa: E402
from dltoys.optim import (  # noqa: E402
    SGD,
    Adam,
    AdamW,
    LinearLR,
    RMSprop,
    clip_grad_norm_,
)

SHAPES = [(3, 4), (4,), (2, 3, 2)]
N_STEPS = 10
TOLERANCE = {np.float64: dict(rtol=1e-10, atol=1e-13), np.float32: dict(rtol=1e-5, atol=1e-6)}
DTYPES = [np.float64, np.float32]


def _problem(dtype, seed):
    """Initial weights and N_STEPS gradients; gradient scales differ per tensor and shrink over time."""
    rng = np.random.default_rng(seed)
    inits = [rng.standard_normal(shape).astype(dtype) for shape in SHAPES]
    tensor_scale = [1.0, 1e-2, 10.0]
    grads = [
        [(rng.standard_normal(shape) * s * 10.0 ** (1 - step / 3)).astype(dtype) for shape, s in zip(SHAPES, tensor_scale)]
        for step in range(N_STEPS)
    ]
    return inits, grads


def _run_both(dl_cls, torch_cls, kwargs, dtype, *, torch_kwargs=None, seed=0, frozen_until=None):
    """Step both optimizers N_STEPS times; compare weights after every step.

    ``frozen_until``: the second tensor has requires_grad=False (dltoys) /
    grad None (PyTorch) for the steps before it, to check per-parameter state.
    """
    inits, grads = _problem(dtype, seed)
    dl_params = [Parameter(x.copy()) for x in inits]
    torch_params = [torch.tensor(x.copy(), requires_grad=True) for x in inits]
    dl_opt = dl_cls(dl_params, **kwargs)
    torch_opt = torch_cls(torch_params, **(kwargs if torch_kwargs is None else torch_kwargs))
    for step, step_grads in enumerate(grads):
        for index, (param, tparam, grad) in enumerate(zip(dl_params, torch_params, step_grads)):
            frozen = frozen_until is not None and index == 1 and step < frozen_until
            param.requires_grad = not frozen
            param.grad[...] = grad
            tparam.grad = None if frozen else torch.tensor(grad)
        dl_opt.step()
        torch_opt.step()
        for index, (param, tparam) in enumerate(zip(dl_params, torch_params)):
            assert param.dtype == dtype
            np.testing.assert_allclose(
                param.data, tparam.detach().numpy(), **TOLERANCE[dtype], err_msg=f"param {index} after step {step + 1}"
            )
    # The weights did move (a test that compares two frozen copies proves nothing).
    assert not np.allclose(dl_params[0].data, inits[0])
    return dl_opt, torch_opt, dl_params, torch_params


def _compare_state(dl_opt, torch_opt, torch_params, names, dtype):
    for name in names:
        for index, tparam in enumerate(torch_params):
            expected = torch_opt.state[tparam].get(name)
            actual = dl_opt.state[name][index]
            if expected is None:
                assert actual is None, f"{name}[{index}] should not exist"
                continue
            expected = expected.numpy() if isinstance(expected, torch.Tensor) else expected
            if name == "step":
                assert actual == int(expected), f"step[{index}]: {actual} != {expected}"
            else:
                assert actual.dtype == dtype
                np.testing.assert_allclose(actual, expected, **TOLERANCE[dtype], err_msg=f"state {name}[{index}]")


def _combinations(**options):
    keys = list(options)
    return [dict(zip(keys, values)) for values in itertools.product(*options.values())]


SGD_OPTIONS = [
    dict(lr=0.1, **combo)
    for combo in _combinations(momentum=[0.0, 0.9], dampening=[0.0, 0.5], weight_decay=[0.0, 0.1], nesterov=[False, True])
    if not (combo["nesterov"] and (combo["momentum"] == 0 or combo["dampening"] != 0))
]
RMSPROP_OPTIONS = [
    dict(lr=0.01, **combo)
    for combo in _combinations(alpha=[0.99, 0.6], momentum=[0.0, 0.9], centered=[False, True], weight_decay=[0.0, 0.1])
]
ADAM_OPTIONS = [
    dict(lr=0.05, **combo)
    for combo in _combinations(betas=[(0.9, 0.999), (0.3, 0.8)], weight_decay=[0.0, 0.1], amsgrad=[False, True])
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", SGD_OPTIONS, ids=str)
def test_sgd_matches_torch(kwargs, dtype):
    dl_opt, torch_opt, _, tparams = _run_both(SGD, torch.optim.SGD, kwargs, dtype)
    _compare_state(dl_opt, torch_opt, tparams, ["momentum_buffer"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", RMSPROP_OPTIONS, ids=str)
def test_rmsprop_matches_torch(kwargs, dtype):
    dl_opt, torch_opt, _, tparams = _run_both(RMSprop, torch.optim.RMSprop, kwargs, dtype)
    _compare_state(dl_opt, torch_opt, tparams, ["square_avg", "grad_avg", "momentum_buffer"], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kwargs", ADAM_OPTIONS, ids=str)
@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adam(decoupled)"])
def test_adam_family_matches_torch(name, kwargs, dtype):
    if name == "Adam":
        dl_cls, torch_cls, dl_kwargs = Adam, torch.optim.Adam, kwargs
    elif name == "AdamW":
        dl_cls, torch_cls, dl_kwargs = AdamW, torch.optim.AdamW, kwargs
    else:
        dl_cls, torch_cls, dl_kwargs = Adam, torch.optim.Adam, dict(kwargs, decoupled_weight_decay=True)
    dl_opt, torch_opt, _, tparams = _run_both(dl_cls, torch_cls, dl_kwargs, dtype)
    _compare_state(dl_opt, torch_opt, tparams, ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"], dtype)


def test_adamw_default_weight_decay_matches_torch():
    _run_both(AdamW, torch.optim.AdamW, dict(lr=0.05), np.float64)


@pytest.mark.parametrize(
    "dl_cls, torch_cls, kwargs, names",
    [
        (SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, nesterov=True), ["momentum_buffer"]),
        (RMSprop, torch.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True), ["square_avg", "grad_avg"]),
        (Adam, torch.optim.Adam, dict(lr=0.05, amsgrad=True), ["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"]),
    ],
    ids=["SGD", "RMSprop", "Adam"],
)
def test_frozen_then_unfrozen_parameter_matches_torch(dl_cls, torch_cls, kwargs, names):
    """A parameter skipped for 4 steps keeps its own state (Adam: its own bias-correction step count)."""
    dl_opt, torch_opt, _, tparams = _run_both(dl_cls, torch_cls, kwargs, np.float64, frozen_until=4)
    _compare_state(dl_opt, torch_opt, tparams, names, np.float64)
    if "step" in names:
        assert dl_opt.state["step"] == [N_STEPS, N_STEPS - 4, N_STEPS]


def test_frozen_parameter_is_untouched_like_torch():
    """requires_grad=False with a non-zero .grad: no update and no state, as PyTorch with grad None."""
    dl_opt, torch_opt, dl_params, tparams = _run_both(
        Adam, torch.optim.Adam, dict(lr=0.05, weight_decay=0.1), np.float64, frozen_until=N_STEPS
    )
    inits, _ = _problem(np.float64, 0)
    np.testing.assert_array_equal(dl_params[1].data, inits[1])
    assert dl_opt.state["exp_avg"][1] is None and tparams[1] not in torch_opt.state


# ------------------------------------------------------------------ schedules
SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("StepLR", dict(step_size=1, gamma=0.9)),
    ("MultiStepLR", dict(milestones=[3, 10, 10, 25], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.93)),
    ("ExponentialLR", dict(gamma=1.05)),
    ("CosineAnnealingLR", dict(T_max=17)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.01)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.1, end_factor=0.9, total_iters=12)),
    ("LinearLR", dict(start_factor=1.0, end_factor=0.0, total_iters=20)),
    ("LambdaLR", dict(lr_lambda=lambda epoch: 0.97**epoch * (1 + epoch % 3))),
    ("LambdaLR", dict(lr_lambda=lambda epoch: epoch // 5)),
]


def _make_pair(lr=0.2):
    dl_opt = SGD([Parameter(np.zeros(2))], lr=lr)
    torch_opt = torch.optim.SGD([torch.zeros(2, requires_grad=True)], lr=lr)
    return dl_opt, torch_opt


def _assert_same_lrs(dl_schedulers, torch_schedulers, dl_opt, torch_opt, n_steps):
    import warnings

    sequence = [dl_opt.lr]
    assert dl_opt.lr == torch_opt.param_groups[0]["lr"], "after construction"
    with warnings.catch_warnings():
        # PyTorch warns that scheduler.step() came without optimizer.step(): irrelevant here.
        warnings.simplefilter("ignore", UserWarning)
        for epoch in range(1, n_steps + 1):
            for dl_sched, torch_sched in zip(dl_schedulers, torch_schedulers):
                dl_sched.step()
                torch_sched.step()
            for dl_sched, torch_sched in zip(dl_schedulers, torch_schedulers):
                # The same Python-float recursion: equal to the last bit.
                assert dl_sched.get_last_lr() == torch_sched.get_last_lr(), f"epoch {epoch}"
            assert dl_opt.lr == torch_opt.param_groups[0]["lr"], f"epoch {epoch}"
            sequence.append(dl_opt.lr)
    assert len(set(sequence)) > 1, "the schedule never changed the rate"


@pytest.mark.parametrize("name, kwargs", SCHEDULES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(SCHEDULES)])
def test_schedule_matches_torch(name, kwargs):
    import dltoys.optim.lr_scheduler as dl_sched

    dl_opt, torch_opt = _make_pair()
    dl = getattr(dl_sched, name)(dl_opt, **kwargs)
    ref = getattr(torch.optim.lr_scheduler, name)(torch_opt, **kwargs)
    _assert_same_lrs([dl], [ref], dl_opt, torch_opt, n_steps=60)


@pytest.mark.parametrize("second", ["ExponentialLR", "CosineAnnealingLR", "StepLR"])
def test_warmup_chained_with_a_decay_matches_torch(second):
    """Two schedules stepped together compose as in PyTorch (the second starts from initial_lr)."""
    import dltoys.optim.lr_scheduler as dl_sched

    kwargs = {"ExponentialLR": dict(gamma=0.9), "CosineAnnealingLR": dict(T_max=30), "StepLR": dict(step_size=4)}[second]
    dl_opt, torch_opt = _make_pair()
    dl = [LinearLR(dl_opt, start_factor=0.25, total_iters=8), getattr(dl_sched, second)(dl_opt, **kwargs)]
    ref = [
        torch.optim.lr_scheduler.LinearLR(torch_opt, start_factor=0.25, total_iters=8),
        getattr(torch.optim.lr_scheduler, second)(torch_opt, **kwargs),
    ]
    assert dl[1].base_lrs == ref[1].base_lrs == [0.2]
    _assert_same_lrs(dl, ref, dl_opt, torch_opt, n_steps=40)


# ------------------------------------------------------------- clip_grad_norm_
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_type", [2.0, math.inf, 1.0, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(max_norm, norm_type, dtype):
    rng = np.random.default_rng(3)
    grads = [(rng.standard_normal(shape) * 2).astype(dtype) for shape in SHAPES]
    params = [Parameter(np.zeros(shape, dtype)) for shape in SHAPES]
    tparams = [torch.zeros(shape, dtype=torch.from_numpy(np.zeros(0, dtype)).dtype) for shape in SHAPES]
    for param, tparam, grad in zip(params, tparams, grads):
        param.grad[...] = grad
        tparam.grad = torch.tensor(grad)
    total = clip_grad_norm_(params, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(tparams, max_norm, norm_type)
    assert isinstance(total, float)
    np.testing.assert_allclose(total, expected.item(), **TOLERANCE[dtype])
    for index, (param, tparam) in enumerate(zip(params, tparams)):
        assert param.grad.dtype == dtype
        np.testing.assert_allclose(param.grad, tparam.grad.numpy(), **TOLERANCE[dtype], err_msg=f"grad {index}")
    clipped = max_norm < expected.item()
    assert clipped == (not np.allclose(params[0].grad, grads[0])), "clipping should happen exactly when norm > max_norm"
