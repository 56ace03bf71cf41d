"""dltoys.testing itself: gradcheck must catch wrong gradients and say where they are,
also in its random-direction mode for big tensors; check_grad_accumulates must catch
a layer that assigns its gradient instead of adding it."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn
from dltoys.testing import GradcheckError, assert_dtype_tree, check_grad_accumulates, gradcheck


class WrongWeightGrad(nn.Linear):
    """A Linear whose weight gradient is off by ``error`` at one entry."""

    def __init__(self, *args, index=(1, 2), error=1e-3, **kwargs):
        super().__init__(*args, **kwargs)
        self.index, self.error = index, error

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        self.weight.grad[self.index] += self.error
        return grad_in


class WrongInputGrad(nn.Linear):
    """A Linear whose input gradient is off by ``error`` at one entry."""

    def __init__(self, *args, index=(0, 1), error=1e-3, **kwargs):
        super().__init__(*args, **kwargs)
        self.index, self.error = index, error

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        grad_in[self.index] += self.error
        return grad_in


class AssigningLinear(nn.Linear):
    """Assigns its weight gradient (``=``) instead of adding it (``+=``)."""

    def backward(self, grad_out):
        grad_in = super().backward(grad_out)
        x2d, _ = self._saved()
        self.weight.grad = np.asarray(grad_out).reshape(-1, self.out_features).T @ x2d
        return grad_in


def test_correct_gradients_pass_and_every_tensor_is_checked(rng):
    result = gradcheck(nn.Linear(4, 3, rng=0), rng.standard_normal((5, 4)))
    assert result.ok
    assert [(c.name, c.checked, c.mismatches) for c in result.checks] == [
        ("input 0", 20, 0),
        ("parameter 'weight'", 12, 0),
        ("parameter 'bias'", 3, 0),
    ]
    assert all(c.max_abs_err < 1e-8 for c in result.checks)


def test_catches_a_wrong_parameter_gradient_and_names_it(rng):
    layer = WrongWeightGrad(4, 3, rng=0, index=(1, 2))
    with pytest.raises(GradcheckError, match=r"parameter 'weight': 1 of 12 differ; largest error 1\.000e-03 at index \(1, 2\)"):
        gradcheck(layer, rng.standard_normal((5, 4)))


def test_catches_a_wrong_input_gradient_and_names_it(rng):
    layer = WrongInputGrad(4, 3, rng=0, index=(3, 1))
    with pytest.raises(GradcheckError, match=r"input 0: 1 of 20 differ; largest error 1\.000e-03 at index \(3, 1\)") as info:
        gradcheck(layer, rng.standard_normal((5, 4)))
    assert "parameter 'weight': ok" in str(info.value)


def test_error_smaller_than_the_tolerance_passes_and_larger_fails(rng):
    """The tolerance is atol + rtol * |g|: an error just above it is caught."""
    x = rng.standard_normal((5, 4))
    assert gradcheck(WrongWeightGrad(4, 3, rng=0, error=1e-8), x).ok
    with pytest.raises(GradcheckError):
        gradcheck(WrongWeightGrad(4, 3, rng=0, error=1e-4), x)


def test_original_module_is_not_touched(rng):
    layer = nn.Linear(4, 3, rng=0)
    before = layer.state_dict()
    gradcheck(layer, rng.standard_normal((5, 4)).astype(np.float32))
    assert layer.weight.dtype == np.float32 and layer.dtype == np.float32
    assert not layer.weight.grad.any()
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, before[key])


def test_random_directions_for_big_tensors(rng):
    layer = nn.Linear(30, 20, rng=0)  # weight: 600 entries > max_full
    x = rng.standard_normal((25, 30))  # input: 750 entries
    result = gradcheck(layer, x, n_directions=4, n_coords=5)
    checked = {c.name: c.checked for c in result.checks}
    assert checked == {"input 0": 4 + 5, "parameter 'weight'": 4 + 5, "parameter 'bias'": 20}


@pytest.mark.parametrize(
    "layer, tensor",
    [
        (WrongWeightGrad(30, 20, rng=0, index=(7, 11), error=1e-2), "parameter 'weight'"),
        (WrongInputGrad(30, 20, rng=0, index=(13, 4), error=1e-2), "input 0"),
    ],
    ids=["parameter", "input"],
)
def test_random_directions_catch_a_single_wrong_entry(rng, layer, tensor):
    """With no single entries sampled, only the random directions can see the error."""
    x = rng.standard_normal((25, 30))
    with pytest.raises(GradcheckError, match=rf"{tensor}: \d+ of 6 differ; largest error .* at direction \d"):
        gradcheck(layer, x, n_directions=6, n_coords=0)


def test_wrt_selects_inputs_and_reports_a_missing_gradient(rng):
    class FirstInputOnly(nn.Module):
        def forward(self, a, b):
            self._cache = b
            return a * b

        def backward(self, grad_out):
            return grad_out * self._saved()  # no gradient for b

    a, b = rng.standard_normal(3), rng.standard_normal(3)
    assert [c.name for c in gradcheck(FirstInputOnly(), a, b).checks] == ["input 0"]
    with pytest.raises(GradcheckError, match=r"backward returned no gradient for input 1"):
        gradcheck(FirstInputOnly(), a, b, wrt=(1,))


def test_reports_a_gradient_of_the_wrong_shape(rng):
    class WrongShape(nn.Module):
        def forward(self, x):
            self._cache = True
            return 2 * x

        def backward(self, grad_out):
            return 2 * grad_out.reshape(-1)

    with pytest.raises(GradcheckError, match=r"gradient of input 0 has shape \(6,\), the input has \(2, 3\)"):
        gradcheck(WrongShape(), rng.standard_normal((2, 3)))


def test_check_params_false_skips_parameters(rng):
    result = gradcheck(WrongWeightGrad(4, 3, rng=0), rng.standard_normal((5, 4)), check_params=False)
    assert [c.name for c in result.checks] == ["input 0"]


def test_raise_exception_false_returns_the_failed_result(rng):
    result = gradcheck(WrongWeightGrad(4, 3, rng=0), rng.standard_normal((5, 4)), raise_exception=False)
    assert not result.ok
    assert "FAILED" in result.report()


def test_check_grad_accumulates_catches_assignment(rng):
    x = rng.standard_normal((5, 4)).astype(np.float32)
    check_grad_accumulates(nn.Linear(4, 3, rng=0), x)
    with pytest.raises(AssertionError, match="weight did not accumulate"):
        check_grad_accumulates(AssigningLinear(4, 3, rng=0), x)


def test_check_grad_accumulates_catches_a_backward_that_changes_its_cache(rng):
    class ConsumesCache(nn.Module):
        def forward(self, x):
            self._cache = x.copy()
            return x * x

        def backward(self, grad_out):
            x = self._saved()
            x *= 2  # corrupts the cache: the second backward differs
            return grad_out * x

    with pytest.raises(AssertionError, match="input gradient changed between two backward calls"):
        check_grad_accumulates(ConsumesCache(), rng.standard_normal(4))


def test_assert_dtype_tree_finds_a_nested_float64(rng):
    tree = (np.zeros(2, np.float32), (np.zeros(1, np.float32), np.zeros(1, np.float64)))
    with pytest.raises(AssertionError, match=r"\[1\]\[1\] is float64, expected float32"):
        assert_dtype_tree(tree, np.float32)
    assert_dtype_tree((np.zeros(2, np.float32), np.arange(3)), np.float32)  # integer leaves are skipped


def test_a_non_finite_numeric_derivative_is_a_mismatch():
    """log(x) at x = 5e-7 with eps = 1e-6: f(x - eps) is nan, so the numeric derivative is
    nan; the analytic 1/x is finite. nan compares False with any tolerance: it must still fail."""

    class Log(nn.Module):
        def forward(self, x):
            self._cache = x
            with np.errstate(invalid="ignore"):
                return np.log(x)

        def backward(self, grad_out):
            return grad_out / self._saved()

    x = np.array([0.5, 5e-7, 2.0])
    with pytest.raises(GradcheckError, match=r"input 0: 1 of 3 differ; largest error nan at index \(1,\)"):
        gradcheck(Log(), x)


def test_float64_operations_finds_an_upcast_that_result_dtypes_hide():
    """A float64 weight gradient added into a float32 .grad leaves .grad float32: only tracing sees it."""
    from dltoys.testing import float64_operations

    class Upcasting(nn.Linear):
        def backward(self, grad_out):
            x2d, _ = self._saved()
            g2d = np.asarray(grad_out, dtype=np.float32).reshape(-1, self.out_features)
            self.weight.grad += g2d.T.astype(np.float64) @ x2d  # the bug
            self.bias.grad += g2d.sum(axis=0)
            return g2d @ self.weight.data

    x = np.ones((3, 4), dtype=np.float32)
    layer = Upcasting(4, 2, rng=0)
    touches = float64_operations(layer, x)
    assert layer.weight.grad.dtype == np.float32  # what a dtype assert sees
    assert any("test_testing.py" in where and "matmul" in where for where in touches), touches
    assert not float64_operations(nn.Linear(4, 2, rng=0), x)
    assert type(layer.weight.data) is np.ndarray  # parameters are plain arrays again afterwards


def test_assert_dtype_tree_walks_dicts():
    from dltoys.testing import assert_dtype_tree

    with pytest.raises(AssertionError, match=r"\['exp_avg'\]\[1\] is float64, expected float32"):
        assert_dtype_tree({"exp_avg": [np.zeros(2, np.float32), np.zeros(2)]}, np.float32)
