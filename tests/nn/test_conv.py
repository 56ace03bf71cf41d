"""Convolution, pooling, BatchNorm2d and Dropout2d: what is particular to them.

The contract (gradcheck, accumulation, float32 kept, no float64 inside, the input-gradient
skip, PyTorch parity) comes from their entries in ``layer_cases.py``; random configurations
and optimizer steps against PyTorch are in ``tests/oracle/test_conv_parity.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn
from dltoys.nn import functional as F

@pytest.mark.parametrize("kernel", [2, 3, (2, 3)])
def test_max_pool_fast_path_equals_the_im2col_path(kernel):
    """Non-overlapping windows take np.maximum of strided slices; the im2col/argmax path is
    the reference (forced here by a stride given as a tuple object it cannot tell apart)."""
    rng = np.random.default_rng(3)
    x = np.maximum(rng.standard_normal((3, 4, 9, 10)), 0).astype(np.float32)  # ReLU output: ties at 0
    fast, reference = nn.MaxPool2d(kernel), nn.MaxPool2d(kernel)
    reference._fast = lambda: False
    assert fast._fast()
    out_fast, out_ref = fast(x), reference(x)
    np.testing.assert_array_equal(out_fast, out_ref)
    grad_out = rng.standard_normal(out_fast.shape).astype(np.float32)
    np.testing.assert_array_equal(fast.backward(grad_out), reference.backward(grad_out))


def test_channels_last_inside_nchw_at_the_boundary():
    """A convolution's output is an (N, C, H, W) view of channels-last memory; the next layers
    read it without a copy and the results equal those on a C-contiguous copy."""
    rng = np.random.default_rng(4)
    conv = nn.Conv2d(3, 5, 3, padding=1, rng=0)
    out = conv(rng.standard_normal((2, 3, 6, 6)).astype(np.float32))
    assert out.shape == (2, 5, 6, 6) and out.transpose(0, 2, 3, 1).flags.c_contiguous
    following = nn.Conv2d(5, 2, 3, rng=1)
    np.testing.assert_array_equal(following(out), following(np.ascontiguousarray(out)))


def test_im2col_and_col2im_are_adjoint():
    """<im2col(x), c> = <x, col2im(c)> for any x and c: col2im is exactly im2col's transpose."""
    rng = np.random.default_rng(5)
    for kernel, stride, dilation in [((3, 2), (2, 1), (1, 2)), ((2,), (3,), (2,)), ((1, 3), (1, 1), (1, 1))]:
        x = rng.standard_normal((2, *(9,) * len(kernel), 3))
        cols = F.im2col(x, kernel, stride, dilation)
        c = rng.standard_normal(cols.shape)
        lhs = np.sum(cols * c)
        rhs = np.sum(x * F.col2im(F.kernel_major(c, len(kernel)), x.shape, stride, dilation))
        assert lhs == pytest.approx(rhs, rel=1e-12)


def test_im2col_one_channel_path_equals_the_window_copy():
    """One channel takes a copy per kernel offset; the result equals the sliding-window copy."""
    rng = np.random.default_rng(7)
    for kernel, stride, dilation in [((3, 3), (1, 1), (1, 1)), ((2, 3), (2, 1), (1, 2)), ((4,), (3,), (2,))]:
        x = rng.standard_normal((2, *(10,) * len(kernel), 1))
        fast = F.im2col(x, kernel, stride, dilation)
        doubled = F.im2col(np.concatenate([x, x], axis=-1), kernel, stride, dilation)  # two channels: the window copy
        np.testing.assert_array_equal(fast[..., 0], doubled[..., 0])


def test_conv_output_sizes():
    x = np.zeros((1, 1, 28, 28), np.float32)
    assert nn.Conv2d(1, 1, 5)(x).shape == (1, 1, 24, 24)
    assert nn.Conv2d(1, 1, 5, padding="same")(x).shape == (1, 1, 28, 28)
    assert nn.Conv2d(1, 1, 3, stride=2, padding=1)(x).shape == (1, 1, 14, 14)
    assert nn.MaxPool2d(3, 2, ceil_mode=True)(x).shape == (1, 1, 14, 14)
    assert nn.MaxPool2d(3, 2)(x).shape == (1, 1, 13, 13)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Conv2d(3, 4, 3, groups=2), "divisible by groups"),
        (lambda: nn.Conv2d(3, 4, 0), "kernel_size: expected an integer >= 1, received 0"),
        (lambda: nn.Conv2d(3, 4, (3, 3, 3)), "kernel_size: expected an int or a tuple of 2 ints"),
        (lambda: nn.Conv2d(3, 4, 3, padding="full"), "padding: expected an int, a tuple of ints, 'same' or 'valid'"),
        (lambda: nn.Conv1d(3, 4, 3, stride=2, padding="same"), "padding='same' needs stride 1"),
        (lambda: nn.Conv2d(3, 4, 3, padding_mode="reflect"), "padding_mode: only 'zeros'"),
        (lambda: nn.MaxPool2d(2, padding=2), "padding: at most half of kernel_size"),
        (lambda: nn.MaxPool2d(2, ceil_mode=1), "ceil_mode: expected True or False"),
        (lambda: nn.AvgPool1d(2, count_include_pad="no"), "count_include_pad: expected True or False"),
        (lambda: nn.AdaptiveAvgPool2d((1, 2, 3)), "output_size: expected an int or a pair"),
    ],
)
def test_bad_arguments(make, message):
    with pytest.raises((ValueError, TypeError), match=message.replace("(", r"\(").replace(")", r"\)")):
        make()


@pytest.mark.parametrize(
    "layer, shape, message",
    [
        (nn.Conv2d(3, 4, 3), (2, 2, 5, 5), r"expected input of shape \(N, 3, H, W\) or unbatched \(3, H, W\), "
                                           r"received \(2, 2, 5, 5\)"),
        (nn.Conv2d(3, 4, 3), (5, 5), r"expected input of shape \(N, 3, H, W\)"),
        (nn.MaxPool2d(2), (5, 5), r"expected input of shape \(N, C, H, W\) or unbatched \(C, H, W\), received \(5, 5\)"),
        (nn.Conv1d(3, 4, 3), (2, 3, 2), "smaller than the dilated kernel"),
        (nn.MaxPool2d(3), (2, 3, 2, 5), "too small for kernel_size"),
        (nn.MaxPool2d(2), (2, 3, 1, 5), "too small for kernel_size"),
        (nn.AvgPool1d(2), (2, 3, 4, 4), r"expected input of shape \(N, C, L\)"),
        (nn.BatchNorm2d(3), (2, 3, 4), r"BatchNorm2d\(3\): expected input of shape \(N, 3, H, W\)"),
        (nn.Dropout2d(), (2, 3, 4), r"expected input of shape \(N, C, H, W\)"),
    ],
)
def test_bad_inputs(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(np.zeros(shape, np.float32))


@pytest.mark.parametrize("make, shape", [
    (lambda: nn.Conv2d(2, 3, 3, padding=1, rng=0), (2, 5, 6)),
    (lambda: nn.Conv1d(2, 3, 3, stride=2, rng=0), (2, 9)),
    (lambda: nn.MaxPool2d(2), (3, 5, 6)),
    (lambda: nn.MaxPool1d(3, 2, padding=1, ceil_mode=True), (3, 8)),
    (lambda: nn.AvgPool2d(3, 2, padding=1), (2, 6, 5)),
    (lambda: nn.AdaptiveAvgPool2d(2), (2, 5, 7)),
])
def test_unbatched_input_is_a_batch_of_one(make, shape):
    """(C, *spatial), as PyTorch accepts: the same numbers as the batch of one, without its axis."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal(shape).astype(np.float32)
    single, batched = make(), make()
    out = single(x)
    np.testing.assert_array_equal(out, batched(x[None])[0])
    grad_out = rng.standard_normal(out.shape).astype(np.float32)
    grad = single.backward(grad_out)
    np.testing.assert_array_equal(grad, batched.backward(grad_out[None])[0])
    for (name, p), q in zip(single.named_parameters(), batched.parameters()):
        np.testing.assert_array_equal(p.grad, q.grad, err_msg=name)


def test_dropout2d_drops_whole_channels():
    layer = nn.Dropout2d(0.5, rng=0)
    out = layer(np.ones((64, 8, 3, 3), np.float32))
    per_channel = out.reshape(64, 8, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2).all(-1))
    assert 0.4 < (per_channel[..., 0] == 0).mean() < 0.6


def test_batchnorm2d_normalises_each_channel():
    x = np.random.default_rng(6).standard_normal((8, 3, 5, 5)) * [[[[1.0]], [[5.0]], [[0.1]]]] + 2
    out = nn.BatchNorm2d(3, dtype=np.float64)(x)
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0, atol=1e-12)
    var = x.var(axis=(0, 2, 3))
    np.testing.assert_allclose(out.var(axis=(0, 2, 3)), var / (var + 1e-5), rtol=1e-12)  # 1, but for eps
