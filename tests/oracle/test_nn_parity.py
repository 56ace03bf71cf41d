"""PyTorch parity for every layer and loss of the nn core, over random shapes.

Each comparison copies our state dict into the torch module, runs both on the
same input and the same random ``grad_out``, and compares the output, the
input gradient and every parameter gradient: float64 within 1e-10 and float32
within 1e-5, relative to the largest entry of the tensor (a normwise relative
error: an entry that cancels to nearly zero keeps the absolute error of the
terms it came from). Both margins are far above rounding (float32 eps is
6e-8) and far below any real mistake.

Where a whole tensor is a difference of much larger terms, the scale is the
size of those terms instead, stated where it is used: BatchNorm's input
gradient with two values per channel (the exact gradient is ~eps/var times
``grad_out * weight / std``) and cross-entropy's gradient at a confident
prediction (``p - 1`` for ``p`` within a few float32 ulps of 1). There both
libraries' float32 results are rounding noise at the 1e-7 level of the terms,
and comparing them entry by entry would compare noise.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from dltoys import nn

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64]
from parity_helpers import RTOL, TORCH_DTYPE, assert_close, compare, to_numpy  # noqa: E402  (after importorskip)


# ------------------------------------------------------------------ helpers
def copy_into_torch(ours: nn.Module, theirs: "torch.nn.Module") -> None:
    theirs.load_state_dict({key: torch.from_numpy(value) for key, value in ours.state_dict().items()})


def randomize(module: nn.Module, rng: np.random.Generator) -> nn.Module:
    for name, param in module.named_parameters():
        param.data[...] = rng.uniform(0.5, 1.5, param.shape) if name.endswith("weight") else rng.standard_normal(param.shape)
    return module


def random_shape(rng, min_dims: int, max_dims: int, max_size: int = 5) -> tuple:
    return tuple(int(n) for n in rng.integers(1, max_size + 1, rng.integers(min_dims, max_dims + 1)))


# ------------------------------------------------------------------- layers
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear(dtype):
    rng = np.random.default_rng(0)
    for trial in range(8):
        n_in, n_out = (int(n) for n in rng.integers(1, 8, 2))
        bias = trial % 2 == 0
        ours = randomize(nn.Linear(n_in, n_out, bias=bias, dtype=dtype, rng=trial), rng)
        theirs = torch.nn.Linear(n_in, n_out, bias=bias, dtype=TORCH_DTYPE[np.dtype(dtype)])
        copy_into_torch(ours, theirs)
        x = rng.standard_normal(random_shape(rng, 0, 2) + (n_in,)).astype(dtype)
        compare(ours, theirs, x, rng, f"Linear({n_in}, {n_out}, bias={bias}) on {x.shape}")


def _activation_pairs(rng, ndim: int):
    dim = int(rng.integers(-ndim, ndim))
    start = int(rng.integers(0, ndim))
    end = int(rng.integers(start, ndim)) - ndim * int(rng.integers(0, 2))  # sometimes negative
    slope = float(rng.uniform(0, 0.5))
    return [
        (nn.Identity(), torch.nn.Identity()),
        (nn.Flatten(start, end), torch.nn.Flatten(start, end)),
        (nn.Sigmoid(), torch.nn.Sigmoid()),
        (nn.Tanh(), torch.nn.Tanh()),
        (nn.ReLU(), torch.nn.ReLU()),
        (nn.LeakyReLU(), torch.nn.LeakyReLU()),
        (nn.LeakyReLU(slope), torch.nn.LeakyReLU(slope)),
        (nn.Softmax(dim), torch.nn.Softmax(dim)),
    ]


@pytest.mark.parametrize("dtype", DTYPES)
def test_activations_and_shape_layers(dtype):
    rng = np.random.default_rng(1)
    for _ in range(6):
        x = (2 * rng.standard_normal(random_shape(rng, 1, 4))).astype(dtype)
        for ours, theirs in _activation_pairs(rng, x.ndim):
            compare(ours, theirs, x, rng, f"{ours!r} on {x.shape}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_eval_and_p0_are_exact(dtype):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5)).astype(dtype)
    grad_out = rng.standard_normal(x.shape).astype(dtype)
    for ours, theirs in [
        (nn.Dropout(0.5, rng=0).eval(), torch.nn.Dropout(0.5).eval()),
        (nn.Dropout(0.0, rng=0), torch.nn.Dropout(0.0)),
        (nn.Dropout(1.0, rng=0), torch.nn.Dropout(1.0)),  # everything dropped
    ]:
        x_torch = torch.tensor(x, requires_grad=True)
        out_torch = theirs(x_torch)
        out_torch.backward(torch.from_numpy(grad_out))
        np.testing.assert_array_equal(ours(x), to_numpy(out_torch))
        np.testing.assert_array_equal(ours.backward(grad_out), to_numpy(x_torch.grad))


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_statistics(p, dtype):
    """Kept fraction ~ 1 - p (within 5 standard errors), survivors scaled by exactly 1/(1-p)
    (as torch), and the gradient flows through the same mask."""
    size = 200_000
    x = np.random.default_rng(3).uniform(0.5, 2.0, size).astype(dtype)
    layer = nn.Dropout(p, rng=4)
    out = layer(x)
    kept = out != 0
    standard_error = np.sqrt(p * (1 - p) / size)
    assert abs(kept.mean() - (1 - p)) < 5 * standard_error
    scale = to_numpy(torch.nn.Dropout(p)(torch.ones(1000, dtype=TORCH_DTYPE[np.dtype(dtype)]))).max()
    np.testing.assert_allclose(out[kept] / x[kept], scale, rtol=RTOL[np.dtype(dtype)])
    np.testing.assert_allclose(scale, 1 / (1 - p), rtol=RTOL[np.dtype(dtype)])
    grad_out = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(grad_out) != 0, kept)
    # the same seed draws the same mask, a different seed another one
    np.testing.assert_array_equal(nn.Dropout(p, rng=4)(x), out)
    assert not np.array_equal(nn.Dropout(p, rng=5)(x), out)


BATCHNORM_VARIANTS = [
    dict(),
    dict(length=True),
    dict(affine=False, length=True),
    dict(track_running_stats=False),
    dict(track_running_stats=False, length=True),
    dict(momentum=None),
    dict(momentum=None, length=True, affine=False),
    dict(momentum=0.3, eps=1e-3, length=True),
]


@pytest.mark.parametrize("variant", BATCHNORM_VARIANTS, ids=lambda v: "-".join(f"{k}={v}" for k, v in v.items()) or "default")
@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm1d(variant, dtype):
    """Several training steps (outputs, gradients, running stats), then evaluation."""
    variant = dict(variant)
    with_length = variant.pop("length", False)
    rng = np.random.default_rng(6)
    channels = 3
    ours = randomize(nn.BatchNorm1d(channels, dtype=dtype, **variant), rng)
    theirs = torch.nn.BatchNorm1d(channels, dtype=TORCH_DTYPE[np.dtype(dtype)], **variant)
    copy_into_torch(ours, theirs)

    def batch():
        shape = (int(rng.integers(2, 6)), channels) + ((int(rng.integers(1, 5)),) if with_length else ())
        return rng.normal(2.0, 3.0, shape).astype(dtype)

    def term_scale(x):
        """|grad_out * weight| / std: the size of the terms of BatchNorm's input gradient."""
        rows = np.moveaxis(x, 1, -1).reshape(-1, channels).astype(np.float64)
        var = rows.var(axis=0) if ours.training or not ours.track_running_stats else ours.running_var
        weight = np.abs(ours.weight.data).max() if ours.affine else 1.0
        return lambda grad_out: float(np.abs(grad_out).max() * weight / np.sqrt(var.min() + ours.eps))

    for step in range(4):
        x = batch()
        compare(ours, theirs, x, rng, f"training step {step}", term_scale(x))
    if ours.track_running_stats:
        assert_close(ours.running_mean, theirs.running_mean, "running_mean")
        assert_close(ours.running_var, theirs.running_var, "running_var")
        assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 4
    ours.eval()
    theirs.eval()
    for step in range(2):
        x = batch()
        compare(ours, theirs, x, rng, f"evaluation {step}", term_scale(x))


# ------------------------------------------------------------------- losses
def compare_loss(ours, theirs, x, target, rng, what, target_torch=None, input_grad_scale=lambda grad_out: 0.0):
    """Loss value and d loss / d input, with a random grad_out (of the loss's shape)."""
    x_torch = torch.tensor(x, requires_grad=True)
    target_torch = torch.from_numpy(target) if target_torch is None else target_torch
    value = ours(x, target)
    value_torch = theirs(x_torch, target_torch)
    grad_out = rng.standard_normal(np.shape(value)).astype(x.dtype)
    grad = ours.backward(grad_out)
    value_torch.backward(torch.from_numpy(np.asarray(grad_out)))
    assert_close(value, value_torch, f"{what}: loss")
    assert_close(grad, x_torch.grad, f"{what}: input gradient", input_grad_scale(grad_out))


REDUCTIONS = ("mean", "sum", "none")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_mse(dtype, reduction):
    rng = np.random.default_rng(7)
    for _ in range(4):
        shape = random_shape(rng, 1, 3)
        x, y = (rng.standard_normal(shape).astype(dtype) for _ in range(2))
        compare_loss(nn.MSELoss(reduction), torch.nn.MSELoss(reduction=reduction), x, y, rng, f"MSELoss on {shape}")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce(dtype, reduction):
    rng = np.random.default_rng(8)
    for trial in range(4):
        shape = random_shape(rng, 1, 3)
        p = rng.uniform(0.01, 0.99, shape).astype(dtype)
        y = (rng.uniform(0, 1, shape) if trial % 2 else rng.integers(0, 2, shape)).astype(dtype)
        compare_loss(nn.BCELoss(reduction), torch.nn.BCELoss(reduction=reduction), p, y, rng, f"BCELoss on {shape}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_at_the_clamps(dtype):
    """p = 0 or 1: the log clamp at -100 and the 1e-12 clamp of the gradient's denominator."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5], dtype=dtype)
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.3], dtype=dtype)
    compare_loss(nn.BCELoss("none"), torch.nn.BCELoss(reduction="none"), p, y, np.random.default_rng(9), "BCELoss clamps")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [False, True], ids=["plain", "pos_weight"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_bce_with_logits(dtype, pos_weight, reduction):
    rng = np.random.default_rng(10)
    for trial in range(4):
        shape = random_shape(rng, 1, 3)
        x = (4 * rng.standard_normal(shape)).astype(dtype)
        x.reshape(-1)[0] = 40.0 if trial % 2 else -40.0  # far in the tails
        y = (rng.uniform(0, 1, shape) if trial % 2 else rng.integers(0, 2, shape)).astype(dtype)
        weights = rng.uniform(0.2, 3.0, shape[-1]).astype(dtype) if pos_weight else None
        theirs = torch.nn.BCEWithLogitsLoss(
            reduction=reduction, pos_weight=None if weights is None else torch.from_numpy(weights)
        )
        compare_loss(nn.BCEWithLogitsLoss(reduction, pos_weight=weights), theirs, x, y, rng, f"BCEWithLogitsLoss on {shape}")


CE_OPTIONS = [
    options
    for options in itertools.product(
        ("index", "onehot", "prob"),
        (False, True),  # K-dim (N, C, d1, ...) input
        (False, True),  # class weights
        (None, -100, 1),  # ignore_index: none given, the default with ignored targets, a real class
        (0.0, 0.15),  # label smoothing
        REDUCTIONS,
    )
    if options[0] == "index" or options[3] is None
]


def _ce_id(options):
    kind, kdim, weighted, ignore, smoothing, reduction = options
    return f"{kind}-{'kdim' if kdim else '2d'}-{'w' if weighted else 'now'}-ign{ignore}-ls{smoothing}-{reduction}"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("options", CE_OPTIONS, ids=_ce_id)
def test_cross_entropy(options, dtype):
    kind, kdim, weighted, ignore, smoothing, reduction = options
    rng = np.random.default_rng(11)
    for _ in range(2):
        n_classes = int(rng.integers(2, 6))
        shape = (int(rng.integers(1, 6)), n_classes) + (random_shape(rng, 1, 2, 3) if kdim else ())
        x = (3 * rng.standard_normal(shape)).astype(dtype)
        index_shape = shape[:1] + shape[2:]
        indices = rng.integers(0, n_classes, index_shape)
        if kind == "index":
            target = indices
            if ignore == -100:
                target.reshape(-1)[::2] = -100
            target_torch = torch.from_numpy(target)
        elif kind == "onehot":
            target = np.moveaxis(np.eye(n_classes, dtype=dtype)[indices], -1, 1)
            target_torch = None
        else:
            target = rng.uniform(0.05, 1, shape).astype(dtype)
            target /= target.sum(axis=1, keepdims=True)
            target_torch = None
        weight = rng.uniform(0.3, 2.0, n_classes).astype(dtype) if weighted else None
        kwargs = {} if ignore is None else {"ignore_index": ignore}
        ours = nn.CrossEntropyLoss(weight=weight, reduction=reduction, label_smoothing=smoothing, **kwargs)
        theirs = torch.nn.CrossEntropyLoss(
            weight=None if weight is None else torch.from_numpy(weight),
            reduction=reduction,
            label_smoothing=smoothing,
            **kwargs,
        )
        if kind == "index" and reduction == "mean" and np.all(target == ignore):
            continue  # nothing counted: both give nan (tested below)
        # The gradient is grad_out * w * (p - q) / denom, q the (smoothed) target: its terms are
        # of size |grad_out| * max(w) / denom, however close p comes to q.
        if reduction != "mean":
            denom = 1.0
        elif kind == "index":
            counted = target[target != ignore] if ignore is not None else target
            denom = (weight[counted] if weighted else np.ones(counted.shape)).sum()
        else:
            denom = target.size / n_classes
        max_weight = weight.max() if weighted else 1.0
        compare_loss(
            ours, theirs, x, target, rng, f"CrossEntropyLoss {_ce_id(options)} on {shape}", target_torch,
            input_grad_scale=lambda grad_out: float(np.abs(grad_out).max() * max_weight / denom),
        )


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
def test_cross_entropy_everything_ignored(smoothing):
    x = np.random.default_rng(12).standard_normal((3, 4))
    target = np.full(3, -100)
    for reduction in REDUCTIONS:
        ours = nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)(x, target)
        theirs = torch.nn.CrossEntropyLoss(reduction=reduction, label_smoothing=smoothing)(
            torch.from_numpy(x), torch.from_numpy(target)
        )
        np.testing.assert_array_equal(ours, to_numpy(theirs))  # nan for 'mean', zeros otherwise


# -------------------------------------------------------------- state dicts
def _sequential_pair(dtype):
    torch_dtype = TORCH_DTYPE[np.dtype(dtype)]
    ours = nn.Sequential(
        nn.Linear(4, 6, dtype=dtype, rng=0),
        nn.ReLU(),
        nn.Linear(6, 5, bias=False, dtype=dtype, rng=1),
        nn.BatchNorm1d(5, dtype=dtype),
        nn.Dropout(0.3, rng=2),
        nn.Flatten(),
        nn.Linear(5, 3, dtype=dtype, rng=3),
        nn.Softmax(dim=1),
    )
    theirs = torch.nn.Sequential(
        torch.nn.Linear(4, 6, dtype=torch_dtype),
        torch.nn.ReLU(),
        torch.nn.Linear(6, 5, bias=False, dtype=torch_dtype),
        torch.nn.BatchNorm1d(5, dtype=torch_dtype),
        torch.nn.Dropout(0.3),
        torch.nn.Flatten(),
        torch.nn.Linear(5, 3, dtype=torch_dtype),
        torch.nn.Softmax(dim=1),
    )
    return ours, theirs


STATE_DICT_PAIRS = {
    "linear": lambda: (nn.Linear(3, 4), torch.nn.Linear(3, 4)),
    "linear-no-bias": lambda: (nn.Linear(3, 4, bias=False), torch.nn.Linear(3, 4, bias=False)),
    "batchnorm": lambda: (nn.BatchNorm1d(5), torch.nn.BatchNorm1d(5)),
    "batchnorm-no-affine": lambda: (nn.BatchNorm1d(5, affine=False), torch.nn.BatchNorm1d(5, affine=False)),
    "batchnorm-no-stats": lambda: (
        nn.BatchNorm1d(5, track_running_stats=False),
        torch.nn.BatchNorm1d(5, track_running_stats=False),
    ),
    "sequential": lambda: _sequential_pair(np.float32),
    "cross-entropy": lambda: (nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()),
    "cross-entropy-weight": lambda: (
        nn.CrossEntropyLoss(weight=[0.5, 1.0, 2.0]),
        torch.nn.CrossEntropyLoss(weight=torch.tensor([0.5, 1.0, 2.0], dtype=torch.float64)),
    ),
    "bce-with-logits-pos-weight": lambda: (
        nn.BCEWithLogitsLoss(pos_weight=[2.0, 3.0]),
        torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor([2.0, 3.0], dtype=torch.float64)),
    ),
}


@pytest.mark.parametrize("make", STATE_DICT_PAIRS.values(), ids=STATE_DICT_PAIRS.keys())
def test_state_dict_keys_shapes_and_dtypes_equal_torch(make):
    ours, theirs = make()
    state, torch_state = ours.state_dict(), theirs.state_dict()
    assert list(state) == list(torch_state)  # same keys, same order
    for key, value in torch_state.items():
        assert state[key].shape == tuple(value.shape), key
        assert state[key].dtype == to_numpy(value).dtype, key
    assert [name for name, _ in ours.named_parameters()] == [name for name, _ in theirs.named_parameters()]


@pytest.mark.parametrize("dtype", DTYPES)
def test_load_torch_state_dict_into_ours_and_back(dtype):
    rng = np.random.default_rng(13)
    ours, theirs = _sequential_pair(dtype)
    # train torch's copy a little so its running statistics and counter are not the initial ones
    with torch.no_grad():
        for _ in range(3):
            theirs(torch.from_numpy(rng.normal(1.0, 2.0, (8, 4)).astype(dtype)))
    ours.load_state_dict({key: to_numpy(value) for key, value in theirs.state_dict().items()})
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key], to_numpy(value), err_msg=key)
    assert int(ours[3].num_batches_tracked) == 3
    ours.eval()
    theirs.eval()
    compare(ours, theirs, rng.standard_normal((5, 4)).astype(dtype), rng, "after loading torch's state dict")

    # and ours into a fresh torch model
    ours.train()
    for _ in range(2):
        ours(rng.normal(-1.0, 0.5, (8, 4)).astype(dtype))
    fresh = _sequential_pair(dtype)[1]
    copy_into_torch(ours, fresh)
    for key, value in fresh.state_dict().items():
        np.testing.assert_array_equal(to_numpy(value), ours.state_dict()[key], err_msg=key)
    assert int(fresh[3].num_batches_tracked) == 5
    ours.eval()
    fresh.eval()
    compare(ours, fresh, rng.standard_normal((5, 4)).astype(dtype), rng, "torch after loading our state dict")
