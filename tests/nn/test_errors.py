"""Bad input at the public boundary: every error names the argument or layer, the
value received and what is allowed (pytest.raises(..., match=...) checks the words)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from dltoys import nn
from dltoys.nn.module import Parameter


# ------------------------------------------------------- invalid hyperparameters
@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda: nn.Linear(0, 3), ValueError, r"in_features: expected an integer >= 1, received 0"),
        (lambda: nn.Linear(3, -2), ValueError, r"out_features: expected an integer >= 1, received -2"),
        (lambda: nn.Linear(3.0, 2), TypeError, r"in_features: expected an integer, received 3\.0"),
        (lambda: nn.Linear(True, 2), TypeError, r"in_features: expected an integer, received True"),
        (lambda: nn.Linear(3, 2, dtype=np.int32), TypeError, r"dtype: expected float32 or float64, received int32"),
        (lambda: nn.Linear(3, 2, rng=-1), ValueError, r"rng: a seed must be a non-negative integer, received -1"),
        (lambda: nn.Linear(3, 2, rng="seed"), TypeError, r"rng: expected an int seed.*received str"),
        (lambda: nn.Dropout(p=1.5), ValueError, r"p: expected a number in \[0, 1\], received 1\.5"),
        (lambda: nn.Dropout(p=-0.1), ValueError, r"p: expected a number in \[0, 1\], received -0\.1"),
        (lambda: nn.Dropout(p="0.5"), TypeError, r"p: expected a number, received '0\.5'"),
        (lambda: nn.LeakyReLU("a"), TypeError, r"negative_slope: expected a number, received 'a'"),
        (lambda: nn.LeakyReLU(float("nan")), ValueError, r"negative_slope: expected a number in .*received nan"),
        (lambda: nn.Softmax(dim=1.5), TypeError, r"dim: expected an integer, received 1\.5"),
        (lambda: nn.Flatten(start_dim="1"), TypeError, r"start_dim: expected an integer, received '1'"),
        (lambda: nn.BatchNorm1d(3, eps=-1), ValueError, r"eps: expected a number in \(0, .*received -1"),
        (lambda: nn.BatchNorm1d(3, eps=0), ValueError, r"eps: expected a number in \(0, .*received 0"),
        (lambda: nn.BatchNorm1d(3, momentum=1.5), ValueError, r"momentum: expected a number in \[0, 1\], received 1\.5"),
        (lambda: nn.BatchNorm1d(0), ValueError, r"num_features: expected an integer >= 1, received 0"),
        (lambda: nn.BatchNorm1d(3, dtype="float16"), TypeError, r"dtype: expected float32 or float64, received float16"),
        (lambda: nn.CrossEntropyLoss(reduction="avg"), ValueError, r"reduction: expected one of 'mean', 'sum', 'none', received 'avg'"),
        (lambda: nn.MSELoss(reduction=None), ValueError, r"reduction: expected one of 'mean', 'sum', 'none', received None"),
        (lambda: nn.CrossEntropyLoss(label_smoothing=1.5), ValueError, r"label_smoothing: expected a number in \[0, 1\], received 1\.5"),
        (lambda: nn.CrossEntropyLoss(ignore_index=0.5), TypeError, r"ignore_index: expected an integer, received 0\.5"),
        (lambda: nn.CrossEntropyLoss(weight=np.ones((2, 3))), ValueError, r"weight must be 1-D \(C,\), received shape \(2, 3\)"),
        (lambda: nn.Sequential(nn.ReLU(), "relu"), TypeError, r"Sequential: entry 1 must be a Module, received str"),
        (lambda: nn.ModuleList([nn.ReLU(), 3]), TypeError, r"ModuleList: entry 1 must be a Module, received int"),
        (lambda: nn.Sequential(nn.ReLU()).append(3), TypeError, r"Sequential: entry 1 must be a Module, received int"),
        (lambda: Parameter(np.zeros(3, dtype=np.int64)), TypeError, r"Parameter: data must be float32 or float64, received int64"),
    ],
)
def test_invalid_hyperparameters(build, error, message):
    with pytest.raises(error, match=message):
        build()


# ------------------------------------------------------------ shape mismatches
def test_linear_input_shape():
    layer = nn.Linear(4, 3)
    with pytest.raises(ValueError, match=r"Linear\(in_features=4, out_features=3\): expected input of shape \(\*, 4\), received \(5, 2\)"):
        layer(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"expected input of shape \(\*, 4\), received \(\)"):
        layer(np.float32(1.0))


def test_linear_grad_out_shape():
    layer = nn.Linear(4, 3)
    layer(np.zeros((5, 4)))
    with pytest.raises(ValueError, match=r"Linear\.backward: expected grad_out of shape \(5, 3\), received \(5, 4\)"):
        layer.backward(np.zeros((5, 4)))


@pytest.mark.parametrize("shape", [(5, 2), (5,), (2, 4, 3, 1)])
def test_batchnorm_input_shape(shape):
    message = f"BatchNorm1d(3): expected input of shape (N, 3) or (N, 3, L), received {shape}"
    with pytest.raises(ValueError, match=re.escape(message)):
        nn.BatchNorm1d(3)(np.zeros(shape))


def test_batchnorm_grad_out_shape():
    layer = nn.BatchNorm1d(3)
    layer(np.random.default_rng(0).standard_normal((4, 3)))
    with pytest.raises(ValueError, match=r"BatchNorm1d\.backward: expected grad_out of shape \(4, 3\), received \(3, 4\)"):
        layer.backward(np.zeros((3, 4)))


def test_batchnorm_single_value_per_channel_in_training():
    with pytest.raises(ValueError, match=r"BatchNorm1d: expected more than 1 value per channel when training, received input of shape \(1, 3\)"):
        nn.BatchNorm1d(3)(np.zeros((1, 3)))
    nn.BatchNorm1d(3).eval()(np.zeros((1, 3)))  # fine in eval mode: running statistics


def test_softmax_invalid_dim():
    with pytest.raises(ValueError, match=r"Softmax\(dim=2\): invalid for an input of shape \(3, 4\)"):
        nn.Softmax(dim=2)(np.zeros((3, 4)))


@pytest.mark.parametrize("start, end", [(3, -1), (2, 1), (0, 5)])
def test_flatten_invalid_dims(start, end):
    with pytest.raises(ValueError, match=rf"Flatten\(start_dim={start}, end_dim={end}\): invalid for an input of shape \(2, 3, 4\)"):
        nn.Flatten(start, end)(np.zeros((2, 3, 4)))


@pytest.mark.parametrize("layer", [nn.Sigmoid(), nn.Tanh(), nn.ReLU(), nn.LeakyReLU(), nn.Softmax(), nn.Dropout()], ids=lambda m: type(m).__name__)
def test_activation_rejects_integer_input(layer):
    with pytest.raises(TypeError, match=rf"{type(layer).__name__}: expected a float array, received dtype int64"):
        layer(np.arange(6).reshape(2, 3))


def test_linear_rejects_non_numeric_input():
    with pytest.raises(TypeError, match=r"Linear: expected a numeric array, received dtype <U1"):
        nn.Linear(2, 2)(np.array([["a", "b"]]))


# ------------------------------------------------------------------- losses
def test_mse_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"MSELoss: target shape \(4,\) must equal input shape \(4, 1\).*\(N, 1\) output against a \(N,\) target"):
        nn.MSELoss()(np.zeros((4, 1)), np.zeros(4))


def test_bce_values_outside_unit_interval():
    with pytest.raises(ValueError, match=r"BCELoss: input must hold probabilities in \[0, 1\], received values from -0\.5 to 1\.5 \(for logits use BCEWithLogitsLoss\)"):
        nn.BCELoss()(np.array([-0.5, 0.5, 1.5]), np.array([0.0, 1.0, 1.0]))


def test_bce_with_logits_shape_mismatch():
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: target shape \(4,\) must equal input shape \(4, 1\)"):
        nn.BCEWithLogitsLoss()(np.zeros((4, 1)), np.zeros(4))


@pytest.mark.parametrize("bad", [3, -1, 7])
def test_cross_entropy_class_out_of_range(bad):
    with pytest.raises(ValueError, match=rf"CrossEntropyLoss: target class {bad} is out of range for 3 classes \(allowed 0\.\.2, or ignore_index=-100\)"):
        nn.CrossEntropyLoss()(np.zeros((3, 3)), np.array([0, bad, 1]))


def test_cross_entropy_target_shapes():
    loss = nn.CrossEntropyLoss()
    with pytest.raises(ValueError, match=r"class-index target must have shape \(4,\) for input \(4, 3\), received \(4, 1\)"):
        loss(np.zeros((4, 3)), np.zeros((4, 1), dtype=int))
    with pytest.raises(ValueError, match=r"class-index target must have shape \(2, 5\) for input \(2, 3, 5\), received \(2, 3\)"):
        loss(np.zeros((2, 3, 5)), np.zeros((2, 3), dtype=int))
    with pytest.raises(ValueError, match=r"probability target must have the input's shape \(4, 3\), received \(4,\) \(pass integer class indices"):
        loss(np.zeros((4, 3)), np.zeros(4))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: input must be logits of shape \(N, C\) or \(N, C, d1, \.\.\.\), received \(4,\)"):
        loss(np.zeros(4), np.zeros(4, dtype=int))
    with pytest.raises(TypeError, match=r"target must be integer class indices or float probabilities, received dtype bool"):
        loss(np.zeros((4, 3)), np.zeros(4, dtype=bool))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: weight has shape \(2,\), input has 3 classes"):
        nn.CrossEntropyLoss(weight=[1.0, 2.0])(np.zeros((4, 3)), np.zeros(4, dtype=int))


@pytest.mark.parametrize("loss", [nn.MSELoss(), nn.BCELoss(), nn.BCEWithLogitsLoss(), nn.CrossEntropyLoss()], ids=lambda m: type(m).__name__)
def test_loss_rejects_integer_input(loss):
    with pytest.raises(TypeError, match=rf"{type(loss).__name__}: expected a float array, received dtype int64"):
        loss(np.zeros((2, 3), dtype=np.int64), np.zeros((2, 3)))


# ------------------------------------------------------------- state dicts
def test_load_state_dict_missing_key():
    layer = nn.Linear(3, 2)
    with pytest.raises(KeyError, match=r"Linear\.load_state_dict: missing keys \['bias'\]"):
        layer.load_state_dict({"weight": np.zeros((2, 3))})


def test_load_state_dict_unexpected_key():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    state = model.state_dict()
    state["1.extra"] = np.zeros(2)
    with pytest.raises(KeyError, match=r"Sequential\.load_state_dict: unexpected keys \['1\.extra'\]"):
        model.load_state_dict(state)


def test_load_state_dict_missing_and_unexpected_together():
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    state = model.state_dict()
    state["1.running_average"] = state.pop("1.running_mean")
    with pytest.raises(KeyError, match=r"missing keys \['1\.running_mean'\]; unexpected keys \['1\.running_average'\]"):
        model.load_state_dict(state)


def test_load_state_dict_shape_mismatch_names_the_key():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 4))
    state = model.state_dict()
    state["1.weight"] = np.zeros((2, 4))  # transposed
    with pytest.raises(ValueError, match=r"Sequential\.load_state_dict: size mismatch for 1\.weight: received \(2, 4\), the model has \(4, 2\)"):
        model.load_state_dict(state)


# ------------------------------------------------- backward: cache and grad_out
LAYERS = {  # fresh modules for each test: a cache left by another test would hide an error
    "Linear": lambda: nn.Linear(3, 3),
    "BatchNorm1d": lambda: nn.BatchNorm1d(3),
    "Identity": nn.Identity,
    "Flatten": nn.Flatten,
    "Sigmoid": nn.Sigmoid,
    "Tanh": nn.Tanh,
    "ReLU": nn.ReLU,
    "LeakyReLU": nn.LeakyReLU,
    "Softmax": nn.Softmax,
    "Dropout-train": lambda: nn.Dropout(0.5, rng=0),
    "Dropout-eval": lambda: nn.Dropout(0.5, rng=0).eval(),
}
LOSSES = {"MSELoss": nn.MSELoss, "BCELoss": nn.BCELoss, "BCEWithLogitsLoss": nn.BCEWithLogitsLoss, "CrossEntropyLoss": nn.CrossEntropyLoss}


@pytest.mark.parametrize("make", [*LAYERS.values(), *LOSSES.values(), lambda: nn.Sequential(nn.Linear(3, 2))], ids=[*LAYERS, *LOSSES, "Sequential"])
def test_backward_before_forward(make):
    module = make()
    # a container's error names the child that has no cache (its last layer)
    name = type(list(module.modules())[-1]).__name__
    with pytest.raises(RuntimeError, match=rf"{name}\.backward called before forward"):
        module.backward(np.ones((2, 3), dtype=np.float32))


@pytest.mark.parametrize("make", LAYERS.values(), ids=LAYERS.keys())
@pytest.mark.parametrize("bad", [(4, 1), (3,), (1, 3), (4, 3, 1)])
def test_backward_rejects_grad_out_of_another_shape(make, bad):
    """A grad_out that would broadcast against the cache gives a clear error, not a wrong gradient."""
    module = make()
    module(np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32))
    with pytest.raises(ValueError, match=re.escape(f"{type(module).__name__}.backward: expected grad_out of shape (4, 3), received {bad}")):
        module.backward(np.ones(bad, dtype=np.float32))


@pytest.mark.parametrize(
    "loss, target",
    [
        (nn.MSELoss, np.zeros((4, 3))),
        (nn.BCELoss, np.zeros((4, 3))),
        (nn.BCEWithLogitsLoss, np.zeros((4, 3))),
        (nn.CrossEntropyLoss, np.zeros(4, dtype=int)),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_loss_backward_rejects_grad_out_of_another_shape(loss, target):
    x = np.full((4, 3), 0.5)
    per_element = target.shape
    for reduction, expected, bad in [("mean", (), (1,)), ("sum", (), per_element), ("none", per_element, (4, 1, 1))]:
        fn = loss(reduction=reduction)
        fn(x, target)
        with pytest.raises(ValueError, match=re.escape(f"{loss.__name__}.backward: expected grad_out of shape {expected}, received {bad}")):
            fn.backward(np.ones(bad))


def test_bce_with_logits_pos_weight_must_match_the_classes():
    with pytest.raises(ValueError, match=re.escape("BCEWithLogitsLoss: pos_weight of shape (2,) does not broadcast against input of shape (4, 3)")):
        nn.BCEWithLogitsLoss(pos_weight=[1.0, 2.0])(np.zeros((4, 3)), np.zeros((4, 3)))


def test_failed_load_lists_every_mismatch_and_changes_nothing():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 4))
    before = model.state_dict()
    state = {key: np.zeros_like(value) for key, value in before.items()}
    state["0.bias"] = np.zeros(3)
    state["1.weight"] = np.zeros((2, 4))
    with pytest.raises(ValueError, match=r"size mismatch for 0\.bias: received \(3,\), the model has \(2,\); size mismatch for 1\.weight"):
        model.load_state_dict(state)
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=f"{key} was changed by a failed load")
