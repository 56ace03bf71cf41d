"""Losses: float64 gradient checks over every option and their combinations, and
forward values worked out by hand (independent of PyTorch, which
tests/oracle/test_nn_parity.py compares against)."""

from __future__ import annotations

import itertools
import math
import zlib

import numpy as np
import pytest

from dltoys import nn
from dltoys.testing import assert_dtype_tree, check_grad_accumulates, gradcheck

REDUCTIONS = ("mean", "sum", "none")


def gradcheck_loss(loss, x, target):
    result = gradcheck(loss, x, target)
    assert [c.name for c in result.checks] == ["input 0"]  # the target gets no gradient
    return result


# ------------------------------------------------------------------ MSE, BCE
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(5,), (4, 3), (2, 3, 2)])
def test_mse_gradcheck(rng, reduction, shape):
    gradcheck_loss(nn.MSELoss(reduction), rng.standard_normal(shape), rng.standard_normal(shape))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("soft", [False, True], ids=["hard", "soft"])
def test_bce_gradcheck(rng, reduction, soft):
    p = rng.uniform(0.05, 0.95, (4, 3))
    y = rng.uniform(0, 1, p.shape) if soft else rng.integers(0, 2, p.shape).astype(np.float64)
    gradcheck_loss(nn.BCELoss(reduction), p, y)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [None, "per-class"])
@pytest.mark.parametrize("shape", [(4, 3), (2, 3, 3)])
def test_bce_with_logits_gradcheck(rng, reduction, pos_weight, shape):
    pw = None if pos_weight is None else rng.uniform(0.2, 3.0, shape[-1])
    x = 3 * rng.standard_normal(shape)
    y = rng.uniform(0, 1, shape)
    gradcheck_loss(nn.BCEWithLogitsLoss(reduction, pos_weight=pw), x, y)


# --------------------------------------------------------------- cross-entropy
def ce_target(rng, kind: str, shape: tuple, ignore_index):
    """A target of ``kind`` for logits of ``shape`` (N, C, d1, ...)."""
    n_classes = shape[1]
    index_shape = (shape[0],) + shape[2:]
    if kind == "index":
        t = rng.integers(0, n_classes, index_shape)
        if ignore_index is not None:
            t.reshape(-1)[::3] = ignore_index  # every third prediction is ignored
        return t
    if kind == "onehot":
        return np.moveaxis(np.eye(n_classes)[rng.integers(0, n_classes, index_shape)], -1, 1)
    q = rng.uniform(0.1, 1, shape)
    return q / q.sum(axis=1, keepdims=True)


CE_OPTIONS = [
    (kind, shape, weighted, ignore, smoothing, reduction)
    for kind, shape, weighted, ignore, smoothing, reduction in itertools.product(
        ("index", "onehot", "prob"),
        ((5, 3), (2, 3, 2, 2)),
        (False, True),
        (None, -100, 1),
        (0.0, 0.2),
        REDUCTIONS,
    )
    if kind == "index" or ignore is None  # ignore_index only applies to index targets
]


def ce_id(options):
    kind, shape, weighted, ignore, smoothing, reduction = options
    return f"{kind}-{len(shape)}d-w{int(weighted)}-ign{ignore}-ls{smoothing}-{reduction}"


@pytest.mark.parametrize("options", CE_OPTIONS, ids=ce_id)
def test_cross_entropy_gradcheck(options):
    kind, shape, weighted, ignore, smoothing, reduction = options
    rng = np.random.default_rng(zlib.crc32(ce_id(options).encode()))  # a fixed seed per case
    weight = rng.uniform(0.3, 2.0, shape[1]) if weighted else None
    kwargs = {} if ignore is None else {"ignore_index": ignore}
    loss = nn.CrossEntropyLoss(weight=weight, reduction=reduction, label_smoothing=smoothing, **kwargs)
    gradcheck_loss(loss, 2 * rng.standard_normal(shape), ce_target(rng, kind, shape, ignore))


@pytest.mark.parametrize(
    "loss, target",
    [
        (nn.MSELoss(), np.zeros((4, 3))),
        (nn.BCEWithLogitsLoss(pos_weight=[1.0, 2.0, 3.0]), np.ones((4, 3))),
        (nn.CrossEntropyLoss(weight=[1.0, 2.0, 3.0], label_smoothing=0.1), np.array([0, 1, 2, 1])),
        (nn.CrossEntropyLoss(reduction="none"), np.full((4, 3), 1 / 3)),
    ],
    ids=["mse", "bce-logits", "ce-index", "ce-prob"],
)
def test_float32_loss_stays_float32(rng, loss, target):
    """float64 targets, weights and pos_weight do not upcast a float32 input."""
    x = rng.standard_normal((4, 3)).astype(np.float32)
    value = loss(x, target)
    grad = loss.backward(np.ones(value.shape))  # a float64 grad_out does not upcast either
    assert_dtype_tree((value, grad), np.float32)
    check_grad_accumulates(loss, x, target)


def test_bce_float32_stays_float32(rng):
    loss = nn.BCELoss()
    p = rng.uniform(0.1, 0.9, (4, 3)).astype(np.float32)
    value = loss(p, (p > 0.5).astype(np.float64))
    assert_dtype_tree((value, loss.backward()), np.float32)


# ----------------------------------------------------------- values by hand
def test_mse_value():
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    y = np.array([[1.0, 0.0], [0.0, 4.0]])
    assert nn.MSELoss()(x, y) == pytest.approx((4 + 9) / 4)
    assert nn.MSELoss("sum")(x, y) == pytest.approx(13)
    np.testing.assert_array_equal(nn.MSELoss("none")(x, y), [[0, 4], [9, 0]])


def test_bce_value_and_clamp():
    p = np.array([0.25, 0.5, 0.0, 1.0])
    y = np.array([1.0, 0.0, 1.0, 1.0])
    losses = nn.BCELoss("none")(p, y)
    # -log(0.25), -log(0.5), log 0 clamped at -100 (PyTorch), and 0
    np.testing.assert_allclose(losses, [math.log(4), math.log(2), 100.0, 0.0], rtol=1e-15)


def test_bce_with_logits_value_and_stability():
    x = np.array([0.0, math.log(3), 1000.0, -1000.0, 1000.0])
    y = np.array([1.0, 1.0, 0.0, 0.0, 1.0])
    losses = nn.BCEWithLogitsLoss(reduction="none")(x, y)
    # sigmoid(log 3) = 3/4; huge logits give exact, finite answers
    np.testing.assert_allclose(losses, [math.log(2), math.log(4 / 3), 1000.0, 0.0, 0.0], rtol=1e-15, atol=1e-300)
    pos = nn.BCEWithLogitsLoss(reduction="none", pos_weight=[2.5])(x[:2, None], y[:2, None])
    np.testing.assert_allclose(pos[:, 0], 2.5 * losses[:2], rtol=1e-15)


def test_cross_entropy_value_index_targets():
    logits = np.log(np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 2.0], [5.0, 1.0, 1.0]]))  # softmax rows: /6, /4, /7
    target = np.array([2, 0, 1])
    per_row = np.array([math.log(2), math.log(4), math.log(7)])
    np.testing.assert_allclose(nn.CrossEntropyLoss(reduction="none")(logits, target), per_row, rtol=1e-14)
    assert nn.CrossEntropyLoss()(logits, target) == pytest.approx(per_row.mean(), rel=1e-14)

    weight = np.array([0.5, 2.0, 4.0])
    w_t = weight[target]
    weighted = nn.CrossEntropyLoss(weight=weight)(logits, target)
    assert weighted == pytest.approx((w_t * per_row).sum() / w_t.sum(), rel=1e-14)

    # row 1 ignored: it neither adds to the sum nor counts in the mean
    ignored = nn.CrossEntropyLoss(weight=weight, ignore_index=0)(logits, target)
    assert ignored == pytest.approx((w_t * per_row)[[0, 2]].sum() / w_t[[0, 2]].sum(), rel=1e-14)


def test_cross_entropy_value_label_smoothing():
    logits = np.log(np.array([[1.0, 2.0, 3.0]]))
    log_p = np.log(np.array([1.0, 2.0, 3.0]) / 6)
    q = 0.7 * np.array([0.0, 0.0, 1.0]) + 0.3 / 3
    expected = -(q * log_p).sum()
    assert nn.CrossEntropyLoss(label_smoothing=0.3)(logits, np.array([2])) == pytest.approx(expected, rel=1e-14)
    # the same smoothing applied to a one-hot probability target gives the same loss
    one_hot = np.array([[0.0, 0.0, 1.0]])
    assert nn.CrossEntropyLoss(label_smoothing=0.3)(logits, one_hot) == pytest.approx(expected, rel=1e-14)
    # with class weights, PyTorch weights each term: -sum_c w_c q_c log p_c, divided by w_target
    weight = np.array([0.5, 2.0, 4.0])
    weighted = nn.CrossEntropyLoss(weight=weight, label_smoothing=0.3)(logits, np.array([2]))
    assert weighted == pytest.approx(-(weight * q * log_p).sum() / weight[2], rel=1e-14)


def test_cross_entropy_probability_targets_mean_over_predictions():
    """Probability targets: 'mean' divides by the number of predictions N*d1*..., not by the weights."""
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((2, 3, 4))
    q = rng.uniform(0, 1, (2, 3, 4))
    q /= q.sum(axis=1, keepdims=True)
    weight = np.array([0.5, 2.0, 4.0])
    log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    per_prediction = -(weight[None, :, None] * q * log_p).sum(axis=1)  # (2, 4)
    loss = nn.CrossEntropyLoss(weight=weight)
    assert loss(logits, q) == pytest.approx(per_prediction.sum() / 8, rel=1e-14)
    np.testing.assert_allclose(nn.CrossEntropyLoss(weight=weight, reduction="none")(logits, q), per_prediction, rtol=1e-14)


def test_cross_entropy_k_dim_equals_flattened_rows():
    """(N, C, d1, d2) logits are (N*d1*d2, C) rows with the class axis moved last."""
    rng = np.random.default_rng(1)
    logits = rng.standard_normal((2, 4, 3, 2))
    target = rng.integers(0, 4, (2, 3, 2))
    rows = np.moveaxis(logits, 1, -1).reshape(-1, 4)
    loss_k = nn.CrossEntropyLoss(label_smoothing=0.1)
    loss_rows = nn.CrossEntropyLoss(label_smoothing=0.1)
    assert loss_k(logits, target) == pytest.approx(loss_rows(rows, target.reshape(-1)), rel=1e-14)
    grad_rows = loss_rows.backward()
    np.testing.assert_allclose(np.moveaxis(loss_k.backward(), 1, -1).reshape(-1, 4), grad_rows, rtol=1e-14)


def test_cross_entropy_large_logits_are_stable():
    logits = np.array([[1000.0, 0.0, -1000.0], [0.0, 1000.0, 0.0]])
    loss = nn.CrossEntropyLoss(reduction="none")
    np.testing.assert_allclose(loss(logits, np.array([0, 0])), [0.0, 1000.0], atol=1e-12)
    grad = loss.backward(np.ones(2))
    np.testing.assert_allclose(grad, [[0.0, 0.0, 0.0], [-1.0, 1.0, 0.0]], atol=1e-12)


def test_cross_entropy_all_ignored_mean_is_nan_like_pytorch():
    loss = nn.CrossEntropyLoss()
    value = loss(np.zeros((2, 3)), np.array([-100, -100]))
    assert np.isnan(value)
    assert nn.CrossEntropyLoss(reduction="sum")(np.zeros((2, 3)), np.array([-100, -100])) == 0
