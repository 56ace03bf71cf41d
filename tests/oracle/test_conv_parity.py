"""PyTorch parity of the convolution family over random configurations.

Each comparison copies our state dict into the torch module, runs both on the same
input and the same random ``grad_out``, and compares the output, the input gradient and
every parameter gradient (float64 within 1e-10, float32 within 1e-5, relative to the
tensor's largest entry; see ``parity_helpers``). Configurations draw strides, paddings
(``'same'``/``'valid'`` too), dilations, groups, odd sizes, ``ceil_mode`` and batch 1.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn, optim

torch = pytest.importorskip("torch")

from parity_helpers import TORCH_DTYPE, assert_close, compare  # noqa: E402  (after importorskip)

DTYPES = [np.float32, np.float64]


def copy_into_torch(ours, theirs) -> None:
    theirs.load_state_dict({key: torch.from_numpy(value) for key, value in ours.state_dict().items()})


def assert_state_close(ours, theirs, what: str) -> None:
    """Every state-dict entry agrees (counters exactly)."""
    state = ours.state_dict()
    for key, value in theirs.state_dict().items():
        if value.dtype == torch.int64:
            assert int(state[key]) == int(value), f"{what}: {key}"
        else:
            assert_close(state[key], value, f"{what}: {key}")


def random_conv(rng, ndim: int, dtype):
    """A random convolution (ours, theirs, input), sizes odd and even, batch 1 sometimes."""
    groups = int(rng.choice([1, 1, 2, 3]))
    in_channels = groups * int(rng.integers(1, 3))
    out_channels = groups * int(rng.integers(1, 3))
    kernel = tuple(int(k) for k in rng.integers(1, 4, ndim))
    dilation = tuple(int(d) for d in rng.integers(1, 3, ndim))
    choice = rng.integers(0, 4)
    if choice == 0:
        padding, stride = "same", (1,) * ndim
    elif choice == 1:
        padding, stride = "valid", tuple(int(s) for s in rng.integers(1, 4, ndim))
    else:
        padding, stride = tuple(int(p) for p in rng.integers(0, 3, ndim)), tuple(int(s) for s in rng.integers(1, 4, ndim))
    bias = bool(rng.integers(0, 2))
    sizes = tuple(int((k - 1) * d + rng.integers(1, 8)) for k, d in zip(kernel, dilation))
    batch = int(rng.choice([1, 2, 3]))
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups, bias=bias)
    ours_cls, torch_cls = (nn.Conv1d, torch.nn.Conv1d) if ndim == 1 else (nn.Conv2d, torch.nn.Conv2d)
    ours = ours_cls(in_channels, out_channels, kernel, dtype=dtype, rng=int(rng.integers(1000)), **args)
    theirs = torch_cls(in_channels, out_channels, kernel, dtype=TORCH_DTYPE[np.dtype(dtype)], **args)
    copy_into_torch(ours, theirs)
    x = rng.standard_normal((batch, in_channels, *sizes)).astype(dtype)
    return ours, theirs, x, f"{type(ours).__name__}({in_channels}, {out_channels}, {kernel}, {args}) on {x.shape}"


@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_conv(dtype, ndim):
    rng = np.random.default_rng(10 + ndim)
    for _ in range(12):
        ours, theirs, x, what = random_conv(rng, ndim, dtype)
        compare(ours, theirs, x, rng, what)


def test_conv_init_matches_pytorch_bounds():
    conv = nn.Conv2d(6, 4, (3, 5), groups=2, rng=0)  # fan_in = 3 * 15 = 45
    bound = 1 / np.sqrt(45)
    assert conv.weight.shape == (4, 3, 3, 5) and conv.bias.shape == (4,)
    assert 0.95 * bound < np.abs(conv.weight.data).max() <= bound  # 180 draws of U(-bound, bound)
    assert np.abs(conv.bias.data).max() <= bound
    assert list(conv.state_dict()) == list(torch.nn.Conv2d(6, 4, (3, 5), groups=2).state_dict())


def random_pool(rng, ndim: int, kind: str):
    kernel = tuple(int(k) for k in rng.integers(1, 4, ndim))
    stride = tuple(int(s) for s in rng.integers(1, 4, ndim)) if rng.integers(0, 3) else None
    padding = tuple(int(rng.integers(0, k // 2 + 1)) for k in kernel)
    ceil_mode = bool(rng.integers(0, 2))
    sizes = tuple(int(k + rng.integers(0, 7)) for k in kernel)
    batch, channels = int(rng.choice([1, 2])), int(rng.integers(1, 4))
    suffix = f"{ndim}d"
    if kind == "max":
        dilation = tuple(int(d) for d in rng.integers(1, 3, ndim))
        sizes = tuple(s + (k - 1) * (d - 1) for s, k, d in zip(sizes, kernel, dilation))
        args = dict(stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode)
        ours = getattr(nn, "MaxPool" + suffix)(kernel, **args)
        theirs = getattr(torch.nn, "MaxPool" + suffix)(kernel, **args)
    else:
        args = dict(stride=stride, padding=padding, ceil_mode=ceil_mode, count_include_pad=bool(rng.integers(0, 2)))
        ours = getattr(nn, "AvgPool" + suffix)(kernel, **args)
        theirs = getattr(torch.nn, "AvgPool" + suffix)(kernel, **args)
    return ours, theirs, (batch, channels, *sizes), f"{type(ours).__name__}({kernel}, {args})"


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("ndim", [1, 2])
@pytest.mark.parametrize("dtype", DTYPES)
def test_pooling(dtype, ndim, kind):
    rng = np.random.default_rng(20 + ndim + 5 * (kind == "max"))
    for _ in range(16):
        ours, theirs, shape, what = random_pool(rng, ndim, kind)
        x = rng.standard_normal(shape).astype(dtype)
        compare(ours, theirs, x, rng, f"{what} on {shape}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pool_ties_after_relu_go_to_the_first_maximum(dtype):
    """After a ReLU many windows are all zeros: the gradient goes to the first, as PyTorch."""
    rng = np.random.default_rng(3)
    for kernel, stride in [(2, None), (3, 2), ((2, 3), None)]:
        x = np.maximum(rng.standard_normal((2, 3, 7, 8)), 0).astype(dtype)
        x[:, :, :2] = 0
        compare(nn.MaxPool2d(kernel, stride), torch.nn.MaxPool2d(kernel, stride), x, rng, f"MaxPool2d({kernel}, {stride})")


@pytest.mark.parametrize("dtype", DTYPES)
def test_adaptive_avg_pool(dtype):
    rng = np.random.default_rng(4)
    for output_size in [1, 3, (2, 5), (None, 2), (4, None)]:
        x = rng.standard_normal((2, 3, int(rng.integers(4, 9)), int(rng.integers(5, 9)))).astype(dtype)
        compare(nn.AdaptiveAvgPool2d(output_size), torch.nn.AdaptiveAvgPool2d(output_size), x, rng, f"{output_size} on {x.shape}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_batchnorm2d_train_and_eval(dtype):
    rng = np.random.default_rng(5)
    for trial in range(4):
        channels = int(rng.integers(1, 5))
        kwargs = dict(momentum=[0.1, None, 0.3, 0.1][trial], affine=trial != 2)
        ours = nn.BatchNorm2d(channels, dtype=dtype, **kwargs)
        theirs = torch.nn.BatchNorm2d(channels, dtype=TORCH_DTYPE[np.dtype(dtype)], **kwargs)
        if ours.affine:
            ours.weight.data[...] = rng.uniform(0.5, 1.5, channels)
            ours.bias.data[...] = rng.standard_normal(channels)
        copy_into_torch(ours, theirs)
        for _ in range(2):  # two training batches move the running statistics
            x = (2 * rng.standard_normal((int(rng.integers(1, 4)), channels, 3, 4)) + 1).astype(dtype)
            compare(ours, theirs, x, rng, f"BatchNorm2d({channels}, {kwargs}) train")
        assert_state_close(ours, theirs, "BatchNorm2d")
        ours.eval(), theirs.eval()
        compare(ours, theirs, rng.standard_normal((2, channels, 5, 3)).astype(dtype), rng, "BatchNorm2d eval")


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout2d_eval_and_extremes(dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 4, 5, 5)).astype(dtype)
    for p, train in [(0.5, False), (0.0, True), (1.0, True)]:
        compare(nn.Dropout2d(p, rng=0).train(train), torch.nn.Dropout2d(p).train(train), x, rng, f"Dropout2d({p}) train={train}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_lenet_steps_with_adam_match(dtype):
    """A small LeNet for three Adam steps: the weights agree. (No bias before the batch norm: its
    true gradient is 0, and Adam would turn both libraries' rounding noise into full steps.)"""

    def build(lib, **kw):
        return lib.Sequential(
            lib.Conv2d(1, 4, 3, padding=1, bias=False, **kw), lib.BatchNorm2d(4, **kw), lib.ReLU(), lib.MaxPool2d(2),
            lib.Conv2d(4, 6, 3, groups=2, **kw), lib.ReLU(), lib.AvgPool2d(2, ceil_mode=True),
            lib.Flatten(), lib.Linear(6, 3, **kw),  # 9 -> 9 -> 4 -> 2 -> 1
        )

    ours = build(nn, dtype=dtype)
    theirs = build(torch.nn, dtype=TORCH_DTYPE[np.dtype(dtype)])
    copy_into_torch(ours, theirs)
    ours_opt = optim.Adam(ours.parameters(), lr=0.01)
    theirs_opt = torch.optim.Adam(theirs.parameters(), lr=0.01)
    rng = np.random.default_rng(7)
    loss, torch_loss = nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()
    for step in range(3):
        x = rng.standard_normal((5, 1, 9, 9)).astype(dtype)
        y = rng.integers(0, 3, 5)
        ours.zero_grad()
        value = loss(ours(x), y)
        ours.backward(loss.backward())
        ours_opt.step()
        theirs_opt.zero_grad()
        torch_value = torch_loss(theirs(torch.from_numpy(x)), torch.from_numpy(y))
        torch_value.backward()
        theirs_opt.step()
        assert value == pytest.approx(torch_value.item(), rel=1e-5 if dtype == np.float32 else 1e-10)
    assert_state_close(ours, theirs, "after 3 Adam steps")


@pytest.mark.parametrize("dtype", DTYPES)
def test_unfold_and_fold_equal_pytorch(dtype):
    rng = np.random.default_rng(8)
    for _ in range(12):
        kernel, dilation, padding, stride = (tuple(int(v) for v in rng.integers(lo, hi, 2)) for lo, hi in
                                             ((1, 4), (1, 3), (0, 3), (1, 4)))
        size = tuple(int(s) for s in rng.integers(6, 12, 2))
        x = rng.standard_normal((int(rng.integers(1, 3)), int(rng.integers(1, 4)), *size)).astype(dtype)
        ours = nn.functional.unfold(x, kernel, dilation, padding, stride)
        theirs = torch.nn.functional.unfold(torch.from_numpy(x), kernel, dilation, padding, stride)
        assert_close(ours, theirs, f"unfold {kernel} {dilation} {padding} {stride} on {x.shape}")
        cols = rng.standard_normal(tuple(theirs.shape)).astype(dtype)
        assert_close(nn.functional.fold(cols, size, kernel, dilation, padding, stride),
                     torch.nn.functional.fold(torch.from_numpy(cols), size, kernel, dilation, padding, stride),
                     f"fold {kernel} {dilation} {padding} {stride} to {size}")
