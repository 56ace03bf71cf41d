"""The Transformer family's layers: float64 gradient checks (every mask kind, both layouts,
both norm orders, train and eval mode), accumulation, float32 kept, a causal-leak test,
the positional encodings, and the errors at the boundary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dltoys import nn
from dltoys.nn.attention import attend, attend_backward
from dltoys.testing import assert_dtype_tree, check_grad_accumulates, float64_operations, gradcheck


def randomize(module, seed=0):
    rng = np.random.default_rng(seed)
    for name, param in module.named_parameters():
        param.data[...] = rng.normal(0.0, 0.5, param.shape) + (1.0 if "norm" in name and name.endswith("weight") else 0.0)
    return module


class SelfAttention(nn.Module):
    """``MultiheadAttention(x, x, x)`` as a one-input module (what the encoder layer does)."""

    def __init__(self, attention, **options):
        super().__init__()
        self.attention = attention
        self.options = options

    def forward(self, x):
        return self.attention(x, x, x, **self.options)

    def backward(self, grads):
        grad_q, grad_k, grad_v = self.attention.backward(grads)
        return grad_q + grad_k + grad_v


class Attend(nn.Module):
    """The stateless attention core as a module, for gradcheck."""

    def __init__(self, bias=None, scale=0.7):
        super().__init__()
        self.bias, self.scale = bias, scale

    def forward(self, q, k, v):
        out, _, self._cache = attend(q, k, v, self.bias, self.scale)
        return out

    def backward(self, grad_out):
        return attend_backward(self._saved(), grad_out)


# ----------------------------------------------------------- gradient checks
def test_attention_core_gradcheck(rng):
    q, k, v = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 5, 4)), rng.standard_normal((2, 5, 6))
    gradcheck(Attend(), q, k, v)
    bias = np.where(rng.random((3, 5)) < 0.3, -np.inf, rng.standard_normal((3, 5)))
    bias[:, 0] = 0
    gradcheck(Attend(bias), q, k, v)


MASK_OPTIONS = {
    "no-mask": {},
    "causal": dict(is_causal=True),
    "bool-attn-mask": dict(attn_mask=np.array([[False, True, False, True]] * 4)),
    "float-attn-mask-3d": dict(attn_mask=np.random.default_rng(0).standard_normal((2 * 2, 4, 4))),
    "padding": dict(key_padding_mask=np.array([[False, False, True, True], [False, False, False, True]])),
}


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("masks", MASK_OPTIONS, ids=list(MASK_OPTIONS))
@pytest.mark.parametrize("weights", ["none", "averaged", "per-head"])
def test_self_attention_gradcheck(batch_first, masks, weights, rng):
    options = dict(MASK_OPTIONS[masks], need_weights=weights != "none", average_attn_weights=weights == "averaged")
    module = SelfAttention(randomize(nn.MultiheadAttention(4, 2, batch_first=batch_first, dtype=np.float64, rng=0)),
                           **options)
    x = rng.standard_normal((2, 4, 4) if batch_first else (4, 2, 4))  # N = 2, L = 4, E = 4
    result = gradcheck(module, x)
    assert {c.name for c in result.checks} == {"input 0"} | {f"parameter '{n}'" for n, _ in module.named_parameters()}


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_cross_attention_kdim_vdim_gradcheck(mode, rng):
    module = randomize(nn.MultiheadAttention(4, 2, kdim=3, vdim=5, dropout=0.3, dtype=np.float64, rng=0))
    module.train(mode == "train")
    q, k, v = rng.standard_normal((3, 2, 4)), rng.standard_normal((6, 2, 3)), rng.standard_normal((6, 2, 5))
    result = gradcheck(module, q, k, v, np.array([[False] * 5 + [True]] * 2))
    assert len(result.checks) == 3 + 6  # three inputs; q/k/v_proj_weight, in_proj_bias, out_proj.{weight,bias}


def test_unbatched_and_packed_cross_attention_gradcheck(rng):
    module = randomize(nn.MultiheadAttention(4, 1, dtype=np.float64, rng=0))
    gradcheck(module, rng.standard_normal((3, 4)), rng.standard_normal((5, 4)), rng.standard_normal((5, 4)))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck(approximate, rng):
    gradcheck(nn.GELU(approximate), 3 * rng.standard_normal((4, 5)))


@pytest.mark.parametrize("kwargs", [dict(), dict(bias=False), dict(elementwise_affine=False), dict(shape=(2, 3))],
                         ids=["default", "no-bias", "no-affine", "2d"])
def test_layernorm_gradcheck(kwargs, rng):
    kwargs = dict(kwargs)
    shape = kwargs.pop("shape", 3)
    module = randomize(nn.LayerNorm(shape, dtype=np.float64, **kwargs))
    trailing = (shape,) if isinstance(shape, int) else shape
    gradcheck(module, rng.normal(1.0, 2.0, (2, 4) + trailing))


@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_encoder_layer_gradcheck(norm_first, mode, rng):
    layer = nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.2, activation="gelu",
                                       norm_first=norm_first, dtype=np.float64, rng=0)
    layer = randomize(layer).train(mode == "train")
    src_mask = np.array([[False, True, False]] * 3)  # (S, S), True = may not attend
    result = gradcheck(layer, rng.standard_normal((3, 2, 4)), src_mask)
    assert len(result.checks) == 1 + len(list(layer.parameters()))


def test_encoder_stack_and_decoder_layer_gradcheck(rng):
    encoder = nn.TransformerEncoder(
        nn.TransformerEncoderLayer(4, 2, dim_feedforward=6, dropout=0.0, batch_first=True, dtype=np.float64, rng=0),
        2, norm=nn.LayerNorm(4, dtype=np.float64))
    gradcheck(randomize(encoder), rng.standard_normal((2, 3, 4)))
    decoder = nn.TransformerDecoderLayer(4, 2, dim_feedforward=6, dropout=0.1, norm_first=True, dtype=np.float64, rng=0)
    result = gradcheck(randomize(decoder), rng.standard_normal((3, 2, 4)), rng.standard_normal((5, 2, 4)),
                       np.triu(np.ones((3, 3), dtype=bool), k=1))
    assert [c.name for c in result.checks[:2]] == ["input 0", "input 1"]


@pytest.mark.parametrize("batch_first", [False, True])
def test_positional_encodings(batch_first, rng):
    x = rng.standard_normal((5, 2, 6) if not batch_first else (2, 5, 6))
    fixed = nn.PositionalEncoding(6, max_len=10, batch_first=batch_first, dtype=np.float64)
    table = fixed.state_dict()["pe"]
    assert table.shape == (10, 6)
    # the paper's formula at one entry: pe[p, 2i + 1] = cos(p / 10000^(2i / d))
    assert table[3, 3] == pytest.approx(math.cos(3 / 10000 ** (2 / 6)), rel=1e-12)
    out = fixed(x)
    positions = table[:5][None] if batch_first else table[:5][:, None]
    np.testing.assert_allclose(out, x + positions, rtol=1e-14)
    gradcheck(fixed, x)
    learned = randomize(nn.LearnedPositionalEncoding(6, max_len=7, batch_first=batch_first, dtype=np.float64))
    result = gradcheck(learned, x)
    assert [c.name for c in result.checks] == ["input 0", "parameter 'weight'"]
    with pytest.raises(ValueError, match="longer than max_len=7"):
        learned(np.zeros((2, 8, 6)) if batch_first else np.zeros((8, 2, 6)))


# ----------------------------------------------------------- contract clauses
def _layers(dtype):
    return [
        (nn.LayerNorm(4, dtype=dtype), (3, 4)),
        (nn.GELU(), (3, 4)),
        (nn.GELU("tanh"), (3, 4)),
        (SelfAttention(nn.MultiheadAttention(4, 2, batch_first=True, dtype=dtype, rng=0), is_causal=True), (2, 3, 4)),
        (nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0, dtype=dtype, rng=0), (3, 2, 4)),
    ]


def test_gradients_accumulate_and_float32_is_kept(rng):
    for module, shape in _layers(np.float32):
        x = rng.standard_normal(shape).astype(np.float32)
        check_grad_accumulates(randomize(module), x)
        assert_dtype_tree(module(x), np.float32)
        assert not float64_operations(module, x), type(module).__name__


def test_causal_self_attention_does_not_leak(rng):
    """Changing a future token changes no earlier output, and no earlier position's
    gradient (a loss on the earlier outputs sends nothing to later inputs)."""
    layer = randomize(nn.TransformerEncoderLayer(4, 2, dim_feedforward=8, dropout=0.0, batch_first=True,
                                                 norm_first=True, dtype=np.float64, rng=0))
    mask = np.triu(np.ones((6, 6), dtype=bool), k=1)
    x = rng.standard_normal((2, 6, 4))
    out = layer(x, src_mask=mask)
    changed = x.copy()
    changed[:, 4] += 10 * rng.standard_normal((2, 4))
    out_changed = layer(changed, src_mask=mask)
    np.testing.assert_array_equal(out_changed[:, :4], out[:, :4])
    assert np.abs(out_changed[:, 4:] - out[:, 4:]).max() > 1e-3
    grad_out = np.zeros_like(out)
    grad_out[:, :3] = rng.standard_normal((2, 3, 4))  # a loss on positions 0..2 only
    grad_in = layer.backward(grad_out)
    assert np.all(grad_in[:, 3:] == 0) and np.abs(grad_in[:, :3]).min() > 0


def test_attention_weights_rows_sum_to_one_and_respect_masks(rng):
    attention = nn.MultiheadAttention(4, 2, batch_first=True, rng=0)
    padding = np.array([[False, False, True], [False, False, False]])
    x = rng.standard_normal((2, 3, 4)).astype(np.float32)
    _, weights = attention(x, x, x, key_padding_mask=padding, is_causal=True, average_attn_weights=False)
    assert weights.shape == (2, 2, 3, 3)
    np.testing.assert_allclose(weights.sum(-1), 1.0, rtol=1e-6)
    assert np.all(weights[0, :, :, 2] == 0) and np.all(np.triu(weights[1], k=1)[..., :, :] == 0)


def test_state_dict_keys_are_pytorchs():
    assert list(nn.MultiheadAttention(4, 2).state_dict()) == [
        "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"]
    assert list(nn.MultiheadAttention(4, 2, kdim=3, vdim=5, bias=False).state_dict()) == [
        "q_proj_weight", "k_proj_weight", "v_proj_weight", "out_proj.weight"]
    keys = list(nn.TransformerEncoderLayer(4, 2).state_dict())
    assert keys[:4] == ["self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight",
                        "self_attn.out_proj.bias"]
    assert keys[4:] == ["linear1.weight", "linear1.bias", "linear2.weight", "linear2.bias", "norm1.weight",
                        "norm1.bias", "norm2.weight", "norm2.bias"]


def test_bad_arguments_name_themselves():
    with pytest.raises(ValueError, match="embed_dim: must be divisible by num_heads=3"):
        nn.MultiheadAttention(4, 3)
    with pytest.raises(ValueError, match="approximate"):
        nn.GELU("erf")
    with pytest.raises(ValueError, match="activation"):
        nn.TransformerEncoderLayer(4, 2, activation="swish")
    attention = nn.MultiheadAttention(4, 2)
    with pytest.raises(ValueError, match=r"inputs are \(L, N, E\); received query of shape \(3, 2, 5\)"):
        attention(np.zeros((3, 2, 5)), np.zeros((3, 2, 4)), np.zeros((3, 2, 4)))
    with pytest.raises(ValueError, match=r"attn_mask: expected shape \(3, 3\) or \(4, 3, 3\)"):
        x = np.zeros((3, 2, 4))
        attention(x, x, x, attn_mask=np.zeros((2, 3)))
    with pytest.raises(TypeError, match="attn_mask: expected a bool or float mask"):
        attention(x, x, x, attn_mask=np.zeros((3, 3), dtype=int))
    with pytest.raises(ValueError, match=r"LayerNorm\(\(4,\)\): expected input of shape \(\*, 4\)"):
        nn.LayerNorm(4)(np.zeros((2, 3)))


def test_erf_matches_math_erf():
    x = np.linspace(-7, 7, 2001)
    expected = np.array([math.erf(v) for v in x])
    np.testing.assert_allclose(nn.functional.erf(x), expected, rtol=0, atol=2e-15)
    np.testing.assert_allclose(nn.functional.erf(x.astype(np.float32)), expected, rtol=0, atol=6e-7)
    assert nn.functional.erf(x.astype(np.float32)).dtype == np.float32
