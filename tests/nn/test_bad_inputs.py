"""Bad input to layers and losses: a clear error naming the argument, or PyTorch's right result.

Each class of defect from issue 9 has a table of cases here (each failed on the
code before the boundary checks) and a hypothesis property over random inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dltoys import nn
from dltoys.nn import Parameter

FAST = settings(max_examples=60, deadline=None)

# ------------------------------------------------------------------- flags
STRING_FLAGS = [
    (lambda v: nn.Linear(2, 2, bias=v), "bias"),
    (lambda v: nn.BatchNorm1d(3, affine=v), "affine"),
    (lambda v: nn.BatchNorm1d(3, track_running_stats=v), "track_running_stats"),
    (lambda v: nn.Embedding.from_pretrained(np.zeros((3, 2), np.float32), freeze=v), "freeze"),
    (lambda v: Parameter(np.zeros(2, np.float32), requires_grad=v), "requires_grad"),
    (lambda v: nn.Linear(2, 2).train(v), "mode"),
    (lambda v: nn.Linear(2, 2).requires_grad_(v), "requires_grad"),
]


@pytest.mark.parametrize("build, name", STRING_FLAGS, ids=[name for _, name in STRING_FLAGS])
@pytest.mark.parametrize("value", ["no", "False", "", 0, 1, None, 1.0])
def test_a_flag_that_is_not_a_bool_is_refused_by_name(build, name, value):
    # PyTorch reads bias="no" as True (a non-empty string); a string flag is always a mistake.
    with pytest.raises(TypeError, match=rf"{name}: expected True or False, received {value!r}"):
        build(value)


@pytest.mark.parametrize("build, name", STRING_FLAGS, ids=[name for _, name in STRING_FLAGS])
def test_real_bools_still_work(build, name):
    for value in (True, False, np.bool_(True)):
        build(value)


def test_bias_false_and_affine_false_mean_what_they_say():
    assert nn.Linear(2, 2, bias=False).bias is None
    assert nn.BatchNorm1d(3, affine=False).weight is None


# ------------------------------------------------------------- loss domains
def probs(shape, value=0.5):
    return np.full(shape, value, np.float32)


@pytest.mark.parametrize(
    "loss, target, message",
    [
        (nn.BCELoss(), 2.0, r"BCELoss: target values must lie in \[0, 1\], received values from 2 to 2"),
        (nn.BCELoss(), -0.5, r"BCELoss: target values must lie in \[0, 1\]"),
        (nn.BCELoss(), np.nan, r"BCELoss: target values must lie in \[0, 1\], received values from nan"),
        (nn.BCEWithLogitsLoss(), 5.0, r"BCEWithLogitsLoss: target values must lie in \[0, 1\].*from 5 to 5"),
        (nn.BCEWithLogitsLoss(), -1.0, r"map -1/\+1 labels with \(y \+ 1\) / 2"),
    ],
)
def test_binary_targets_outside_zero_one_are_refused(loss, target, message):
    # Before: BCEWithLogitsLoss with target 5 returned the negative loss -1.53.
    with pytest.raises(ValueError, match=message):
        loss(probs((3, 1)), np.full((3, 1), target, np.float32))


def test_binary_targets_as_integers_and_soft_labels_are_fine():
    assert float(nn.BCELoss()(probs((4,)), np.array([0, 1, 1, 0]))) == pytest.approx(np.log(2), rel=1e-6)
    assert np.isfinite(nn.BCEWithLogitsLoss()(probs((2,)), np.array([0.25, 1.0], np.float32)))


@pytest.mark.parametrize(
    "target, message",
    [
        ([[-1.0, 1.0, 1.0], [1.0, 0.0, 0.0]], r"target values must lie in \[0, 1\], received values from -1"),
        ([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]], r"rows must sum to 1, row 0 sums to 2"),
        ([[0.2, 0.2, 0.2], [1.0, 0.0, 0.0]], r"row 0 sums to 0\.6"),
        ([[np.nan, 0.5, 0.5], [1.0, 0.0, 0.0]], r"target values must lie in \[0, 1\]"),
    ],
)
def test_probability_targets_must_be_distributions(target, message):
    with pytest.raises(ValueError, match=rf"CrossEntropyLoss: .*{message}"):
        nn.CrossEntropyLoss()(np.zeros((2, 3), np.float32), np.array(target, np.float32))


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: nn.CrossEntropyLoss(weight=[-1.0, 1.0, 1.0]), r"weight must be finite and >= 0"),
        (lambda: nn.CrossEntropyLoss(weight=[np.nan, 1.0, 1.0]), r"weight must be finite and >= 0"),
        (lambda: nn.CrossEntropyLoss(weight=[np.inf, 1.0, 1.0]), r"weight must be finite and >= 0"),
        (lambda: nn.CrossEntropyLoss(weight=[0.0, 0.0, 0.0]), r"weight is all zeros"),
        (lambda: nn.CrossEntropyLoss(weight=["a", "b", "c"]), r"weight must be real numbers"),
        (lambda: nn.BCEWithLogitsLoss(pos_weight=[-2.0]), r"pos_weight must be finite and >= 0"),
        (lambda: nn.BCEWithLogitsLoss(pos_weight=[np.nan]), r"pos_weight must be finite and >= 0"),
    ],
)
def test_class_weights_are_checked_when_built(build, message):
    # Before: every one of these built, and the loss came out nan or negative.
    with pytest.raises((ValueError, TypeError), match=message):
        build()


def test_a_bad_weight_loaded_later_is_caught_in_forward():
    loss = nn.CrossEntropyLoss(weight=[1.0, 1.0, 1.0])
    loss.load_state_dict({"weight": np.array([1.0, -3.0, 1.0])})
    with pytest.raises(ValueError, match="weight must be finite and >= 0"):
        loss(np.zeros((2, 3), np.float32), np.array([0, 1]))


@FAST
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 5)),
               elements=st.floats(-3, 3, allow_nan=False)),
    st.integers(0, 2**31 - 1),
)
def test_property_valid_probability_targets_give_a_nonnegative_loss(logits, seed):
    rng = np.random.default_rng(seed)
    q = rng.random(logits.shape)
    q /= q.sum(axis=1, keepdims=True)
    assert float(nn.CrossEntropyLoss()(logits, q)) >= -1e-12


@FAST
@given(hnp.arrays(np.float64, st.integers(1, 8),
                  elements=st.one_of(st.floats(-3, 3), st.sampled_from([0.0, 1.0, np.nan, np.inf, -np.inf]))))
def test_property_bce_targets_outside_the_unit_interval_never_give_a_number(target):
    # any target: either a finite, non-negative loss (all in [0, 1]) or the named error
    logits = np.zeros_like(target)
    try:
        value = float(nn.BCEWithLogitsLoss()(logits, target))
    except ValueError as exc:
        assert "BCEWithLogitsLoss: target values must lie in [0, 1]" in str(exc)
        assert not ((target >= 0) & (target <= 1)).all()
    else:
        assert ((target >= 0) & (target <= 1)).all() and value >= 0


# ------------------------------------------------- shapes, dtypes, empties
@pytest.mark.parametrize(
    "layer",
    [nn.Linear(2, 2), nn.Tanh(), nn.ReLU(), nn.Softmax(), nn.Dropout(0.5, rng=0), nn.BatchNorm1d(2)],
    ids=lambda m: type(m).__name__,
)
def test_a_ragged_list_gets_a_named_error(layer):
    # Before: NumPy's "setting an array element with a sequence ... inhomogeneous shape".
    with pytest.raises(TypeError, match=rf"{type(layer).__name__} input: expected a rectangular array, received a ragged"):
        layer([[1.0, 2.0], [3.0]])


@pytest.mark.parametrize("dtype", [np.float16, np.longdouble])
@pytest.mark.parametrize("layer", [nn.Dropout(0.5, rng=0), nn.Tanh(), nn.Softmax()], ids=lambda m: type(m).__name__)
def test_float16_is_refused_by_name(layer, dtype):
    if np.dtype(dtype) == np.float64:
        pytest.skip("long double is float64 here")
    # Before: Dropout raised NumPy's "Unsupported dtype dtype('float16') for random".
    with pytest.raises(TypeError, match=rf"{type(layer).__name__}: expected a float array, received dtype {np.dtype(dtype)} \(float32 or float64"):
        layer(np.zeros((2, 2), dtype))


def test_softmax_on_zero_width_returns_the_empty_result_as_pytorch():
    # torch.softmax(torch.zeros(2, 0), -1) has shape (2, 0); before: "zero-size array to reduction".
    out = nn.Softmax()(np.zeros((2, 0), np.float32))
    assert out.shape == (2, 0) and out.dtype == np.float32
    assert nn.Softmax().backward is not None
    grad = nn.Softmax()
    grad(np.zeros((2, 0), np.float32))
    assert grad.backward(np.zeros((2, 0), np.float32)).shape == (2, 0)


def test_a_linear_layer_on_an_empty_batch_returns_an_empty_batch_as_pytorch():
    assert nn.Linear(2, 3)(np.zeros((0, 2), np.float32)).shape == (0, 3)


@pytest.mark.parametrize("value", [{"a": 1}, "text", np.array(["a", "b"]), np.array([1 + 2j, 3j])])
def test_non_numeric_inputs_are_named(value):
    with pytest.raises(TypeError, match=r"Linear|Tanh"):
        nn.Linear(2, 2)(value)


# ----------------------------------------------- one module, two places
def test_the_same_module_twice_in_a_sequential_is_refused_with_the_way_to_share():
    shared = nn.Linear(2, 2, rng=0)
    with pytest.raises(ValueError, match=r"entry 2 contains the same Linear object as entry 0.*second\.weight = first\.weight"):
        nn.Sequential(shared, nn.Tanh(), shared)
    act = nn.Tanh()
    with pytest.raises(ValueError, match=r"same Tanh object"):
        nn.Sequential(nn.Linear(2, 2), act, nn.Linear(2, 2), act)
    with pytest.raises(ValueError, match=r"same Linear object"):  # nested one level down
        nn.Sequential(nn.Sequential(shared, nn.Tanh()), shared)


def test_the_documented_way_to_share_weights_gives_the_right_gradient():
    # Two Linear modules holding the same Parameters: each keeps its own cache,
    # and both calls add into the one .grad. Checked against the closed form.
    rng = np.random.default_rng(0)
    first = nn.Linear(3, 3, bias=False, dtype=np.float64, rng=0)
    second = nn.Linear(3, 3, bias=False, dtype=np.float64, rng=1)
    second.weight = first.weight
    model = nn.Sequential(first, nn.Tanh(), second)
    assert len(list(model.parameters())) == 1
    x = rng.normal(size=(4, 3))
    out = model(x)
    model.backward(np.ones_like(out))
    w = first.weight.data
    h = np.tanh(x @ w.T)
    g_h = np.ones_like(out) @ w * (1 - h**2)
    expected = np.ones_like(out).T @ h + g_h.T @ x  # both uses of w
    np.testing.assert_allclose(first.weight.grad, expected, rtol=1e-12)


@pytest.mark.parametrize("layer", [nn.LSTM(2, 3, batch_first=True), nn.GRU(2, 3, batch_first=True), nn.RNN(2, 3, batch_first=True)],
                         ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("shape", [(0, 4, 2), (2, 0, 2)], ids=["batch 0", "seq_len 0"])
def test_recurrent_layers_name_an_empty_batch(layer, shape):
    # Before: NumPy's "cannot reshape array of size 0 into shape (0,newaxis)" for batch 0.
    with pytest.raises(ValueError, match=rf"{type(layer).__name__}\(input_size=2, hidden_size=3\): .*with seq_len >= 1 and batch >= 1; received \({shape[0]}, {shape[1]}, 2\)"):
        layer(np.zeros(shape, np.float32))


# ------------------------------------------- any input: a result or a named error
LAYERS = [nn.Linear(3, 2, rng=0), nn.Tanh(), nn.ReLU(), nn.Sigmoid(), nn.Softmax(), nn.Dropout(0.5, rng=0),
          nn.BatchNorm1d(3), nn.LSTM(3, 2, rng=0), nn.Flatten(), nn.MSELoss()]
DTYPES = [np.float32, np.float64, np.float16, np.int64, np.uint8, np.bool_, np.complex64, "datetime64[s]", "U2", object]


@settings(max_examples=150, deadline=None)
@given(
    layer=st.sampled_from(LAYERS),
    dtype=st.sampled_from(DTYPES),
    shape=st.lists(st.integers(0, 4), min_size=0, max_size=4).map(tuple),
)
def test_property_any_array_gives_a_result_or_an_error_naming_the_layer(layer, dtype, shape):
    x = np.zeros(shape, dtype=dtype)
    name = type(layer).__name__
    try:
        out = layer(x, x) if isinstance(layer, nn.MSELoss) else layer(x)
    except (TypeError, ValueError) as exc:
        assert name in str(exc) or str(exc).startswith(("input", "x:", "target")), str(exc)
    else:
        out = out[0] if isinstance(out, tuple) else out
        assert isinstance(out, (np.ndarray, np.generic))
        # Flatten only reshapes (any dtype, as torch.flatten); every other layer computes in float32/64
        assert out.dtype == x.dtype if isinstance(layer, nn.Flatten) else out.dtype in (np.float32, np.float64)
