"""clip_grad_norm_ on hand-computed examples (PyTorch parity is in tests/oracle/test_optim_parity.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltoys.nn import Parameter
from dltoys.optim import clip_grad_norm_


def _params(*grads, dtype=np.float64):
    params = []
    for grad in grads:
        param = Parameter(np.zeros(np.shape(grad), dtype))
        param.grad[...] = grad
        params.append(param)
    return params


def test_two_norm_over_all_parameters_at_once():
    params = _params([3.0, 0.0], [[4.0]], [0.0])  # one vector (3, 0, 4, 0): norm 5
    total = clip_grad_norm_(params, max_norm=1.0)
    assert isinstance(total, float) and total == 5.0
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad, [3 * scale, 0.0], rtol=1e-15)
    np.testing.assert_allclose(params[1].grad, [[4 * scale]], rtol=1e-15)


def test_inf_norm_is_the_largest_entry():
    params = _params([1.0, -6.0], [2.0, 3.0])
    assert clip_grad_norm_(params, max_norm=3.0, norm_type=math.inf) == 6.0
    np.testing.assert_allclose(params[0].grad, np.array([1.0, -6.0]) * 3 / (6 + 1e-6), rtol=1e-15)
    params = _params([1.0, -6.0])
    assert clip_grad_norm_(params, 3.0, norm_type="inf") == 6.0


def test_one_norm():
    params = _params([1.0, -2.0], [3.0])
    assert clip_grad_norm_(params, max_norm=12.0, norm_type=1) == 6.0
    np.testing.assert_array_equal(params[0].grad, [1.0, -2.0])  # below max_norm: multiplied by exactly 1


def test_a_single_parameter_and_float32():
    param = _params(np.full((2, 2), 2.0), dtype=np.float32)[0]
    assert clip_grad_norm_(param, max_norm=2.0) == pytest.approx(4.0)
    assert param.grad.dtype == np.float32
    np.testing.assert_allclose(param.grad, 1.0, rtol=1e-6)


def test_frozen_parameters_are_clipped_too_as_in_pytorch():
    params = _params([3.0], [4.0])
    params[1].requires_grad = False
    assert clip_grad_norm_(params, max_norm=1.0) == 5.0
    assert params[1].grad[0] == pytest.approx(4 / (5 + 1e-6), rel=1e-15)  # PyTorch's coefficient max_norm / (total + 1e-6)


def test_zero_gradients_and_empty_lists():
    params = _params([0.0, 0.0])
    assert clip_grad_norm_(params, max_norm=1.0) == 0.0
    assert clip_grad_norm_([], max_norm=1.0) == 0.0


def test_nonfinite_norm():
    params = _params([np.inf, 1.0])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        clip_grad_norm_(params, 1.0, error_if_nonfinite=True)
    assert clip_grad_norm_(params, 1.0) == math.inf  # as PyTorch: scaled by 1 / inf = 0
    assert np.isnan(params[0].grad[0]) and params[0].grad[1] == 0.0


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(max_norm=-1.0), ValueError, r"max_norm: expected a number >= 0, received -1.0"),
        (dict(max_norm=float("nan")), ValueError, r"max_norm: expected a number >= 0, received nan"),
        (dict(max_norm=1.0, norm_type=0), ValueError, r"norm_type: expected a number > 0 or inf, received 0"),
        (dict(max_norm=1.0, norm_type="two"), ValueError, r"norm_type: expected a number > 0 or inf, received 'two'"),
        (dict(max_norm=1.0, error_if_nonfinite="no"), TypeError, r"error_if_nonfinite: expected True or False"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        clip_grad_norm_(_params([1.0]), **kwargs)


def test_not_a_parameter():
    with pytest.raises(TypeError, match=r"parameters\[0\]: expected a Parameter, received ndarray"):
        clip_grad_norm_([np.ones(3)], 1.0)
