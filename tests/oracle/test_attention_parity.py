"""PyTorch parity for the Transformer family: LayerNorm, GELU, scaled dot-product attention,
MultiheadAttention (every mask kind, kdim/vdim, both layouts, per-head weights) and the
encoder and decoder layers in both norm orders.

Same comparison as ``test_nn_parity.py``: our state dict copied into torch, the same input
and random ``grad_out``; output, input gradients and parameter gradients within 1e-10
(float64) or 1e-5 (float32) of the tensor's largest entry.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn, optim

torch = pytest.importorskip("torch")

from parity_helpers import TORCH_DTYPE, assert_close  # noqa: E402  (after importorskip)

DTYPES = [np.float32, np.float64]


def copy_into_torch(ours, theirs) -> None:
    theirs.load_state_dict({key: torch.from_numpy(value) for key, value in ours.state_dict().items()})


def randomize(module, rng):
    for name, param in module.named_parameters():
        param.data[...] = rng.uniform(0.5, 1.5, param.shape) if name.endswith("norm1.weight") else \
            rng.normal(0.0, 0.5, param.shape)
    return module


def check_grads(ours, theirs, what):
    torch_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(torch_params), what
    for name, param in ours.named_parameters():
        assert_close(param.grad, torch_params[name].grad, f"{what}: grad of {name}")


# ------------------------------------------------------ LayerNorm and GELU
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", [dict(), dict(bias=False), dict(elementwise_affine=False), dict(eps=1e-2), dict(shape2=True)],
                         ids=["default", "no-bias", "no-affine", "eps", "2d-shape"])
def test_layernorm(dtype, variant):
    variant = dict(variant)
    rng = np.random.default_rng(0)
    shape = (3, 4) if variant.pop("shape2", False) else 5
    ours = nn.LayerNorm(shape, dtype=dtype, **variant)
    for param in ours.parameters():
        param.data[...] = rng.normal(1.0, 0.5, param.shape)
    theirs = torch.nn.LayerNorm(shape, dtype=TORCH_DTYPE[np.dtype(dtype)], **variant)
    copy_into_torch(ours, theirs)
    trailing = (shape,) if isinstance(shape, int) else shape
    for lead in [(), (4,), (2, 3)]:
        x = rng.normal(2.0, 3.0, lead + trailing).astype(dtype)
        x_torch = torch.tensor(x, requires_grad=True)
        ours.zero_grad()
        theirs.zero_grad()
        out, out_torch = ours(x), theirs(x_torch)
        grad_out = rng.standard_normal(out.shape).astype(dtype)
        grad_in = ours.backward(grad_out)
        out_torch.backward(torch.from_numpy(grad_out))
        assert_close(out, out_torch, "output")
        # the input gradient is a difference of terms of size |grad_out * weight| / std
        weight = np.abs(ours.weight.data).max() if ours.weight is not None else 1.0
        assert_close(grad_in, x_torch.grad, "input gradient", float(np.abs(grad_out).max() * weight / 2.0))
        check_grads(ours, theirs, f"LayerNorm {variant} on {x.shape}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(dtype, approximate):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.normal(0, 3, 500), np.linspace(-9, 9, 301), [0.0, -40.0, 40.0]]).astype(dtype)
    x_torch = torch.tensor(x, requires_grad=True)
    layer = nn.GELU(approximate)
    out = layer(x)
    out_torch = torch.nn.GELU(approximate)(x_torch)
    grad_out = rng.standard_normal(x.shape).astype(dtype)
    out_torch.backward(torch.from_numpy(grad_out))
    assert_close(out, out_torch, "output")
    assert_close(layer.backward(grad_out), x_torch.grad, "input gradient")


# ------------------------------------------------- scaled dot-product attention
@pytest.mark.parametrize("dtype", DTYPES)
def test_scaled_dot_product_attention(dtype):
    rng = np.random.default_rng(2)
    F = torch.nn.functional
    q = rng.standard_normal((2, 3, 5, 4)).astype(dtype)
    k = rng.standard_normal((2, 3, 7, 4)).astype(dtype)
    v = rng.standard_normal((2, 3, 7, 6)).astype(dtype)
    bool_mask = rng.random((5, 7)) < 0.7
    bool_mask[:, 0] = True  # every query sees something
    float_mask = rng.standard_normal((2, 1, 5, 7)).astype(dtype)
    t = [torch.from_numpy(a) for a in (q, k, v)]
    for kwargs in [dict(), dict(is_causal=True), dict(attn_mask=bool_mask), dict(attn_mask=float_mask), dict(scale=0.3)]:
        torch_kwargs = {key: torch.from_numpy(val) if isinstance(val, np.ndarray) else val for key, val in kwargs.items()}
        ours = nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)
        assert_close(ours, F.scaled_dot_product_attention(*t, **torch_kwargs), f"sdpa {list(kwargs)}")


# ----------------------------------------------------------- MultiheadAttention
MHA_VARIANTS = [
    dict(),
    dict(batch_first=True),
    dict(bias=False),
    dict(kdim=3, vdim=5),
    dict(kdim=3, vdim=5, batch_first=True),
    dict(cross=True),
    dict(unbatched=True),
]


def _masks(rng, kind, N, H, L, S, dtype):
    """(attn_mask, key_padding_mask, is_causal) of one kind; every query keeps at least one key."""
    if kind == "none":
        return None, None, False
    if kind == "causal-bool":
        return np.triu(np.ones((L, S), dtype=bool), k=1), None, True
    if kind == "bool-2d":
        mask = rng.random((L, S)) < 0.4
        mask[:, 0] = False
        return mask, None, False
    if kind == "float-3d":
        return rng.standard_normal((N * H, L, S)).astype(dtype), None, False
    if kind == "padding-bool":
        mask = rng.random((N, S)) < 0.4
        mask[:, 0] = False
        return None, mask, False
    if kind == "padding-float-and-bool-2d":
        attn = rng.random((L, S)) < 0.3
        attn[:, 0] = False
        return attn, rng.standard_normal((N, S)).astype(dtype), False
    raise ValueError(kind)


MASK_KINDS = ["none", "causal-bool", "bool-2d", "float-3d", "padding-bool", "padding-float-and-bool-2d"]


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask")  # a float padding mask with a bool attn_mask
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("variant", MHA_VARIANTS, ids=lambda v: "-".join(f"{k}={v}" for k, v in v.items()) or "default")
def test_multihead_attention(dtype, variant):
    variant = dict(variant)
    cross = variant.pop("cross", False)
    unbatched = variant.pop("unbatched", False)
    rng = np.random.default_rng(3)
    E, H, N, L, S = 8, 2, 3, 4, 5 if cross or "kdim" in variant else 4
    torch_dtype = TORCH_DTYPE[np.dtype(dtype)]
    ours = randomize(nn.MultiheadAttention(E, H, dtype=dtype, rng=0, **variant), rng)
    theirs = torch.nn.MultiheadAttention(E, H, dtype=torch_dtype, **variant)
    copy_into_torch(ours, theirs)
    batch_first = variant.get("batch_first", False)
    kdim, vdim = variant.get("kdim", E), variant.get("vdim", E)
    self_attention = not cross and "kdim" not in variant
    if unbatched:
        N = 1

    def layout(length, width):
        if unbatched:
            return (length, width)
        return (N, length, width) if batch_first else (length, N, width)

    for kind in MASK_KINDS:
        if unbatched and kind in ("float-3d",):
            continue
        for need_weights, average in [(False, True), (True, True), (True, False)]:
            attn_mask, padding, is_causal = _masks(rng, kind, N, H, L, S, dtype)
            if unbatched and padding is not None:
                padding = padding[0]
            q = rng.standard_normal(layout(L, E)).astype(dtype)
            k = q if self_attention else rng.standard_normal(layout(S, kdim)).astype(dtype)
            v = q if self_attention else rng.standard_normal(layout(S, vdim)).astype(dtype)
            ours.zero_grad()
            theirs.zero_grad()
            out, weights = ours(q, k, v, key_padding_mask=padding, need_weights=need_weights, attn_mask=attn_mask,
                                average_attn_weights=average, is_causal=is_causal)
            tq = torch.tensor(q, requires_grad=True)
            tk = tq if self_attention else torch.tensor(k, requires_grad=True)
            tv = tq if self_attention else torch.tensor(v, requires_grad=True)
            as_t = (lambda a: None if a is None else torch.from_numpy(np.asarray(a)))
            out_t, weights_t = theirs(tq, tk, tv, key_padding_mask=as_t(padding), need_weights=need_weights,
                                      attn_mask=as_t(attn_mask), average_attn_weights=average, is_causal=is_causal)
            what = f"MHA {variant} masks={kind} need_weights={need_weights} average={average}"
            assert_close(out, out_t, f"{what}: output")
            grad_out = rng.standard_normal(out.shape).astype(dtype)
            loss_t = (out_t * torch.from_numpy(grad_out)).sum()
            if need_weights:
                assert_close(weights, weights_t, f"{what}: weights")
                grad_w = rng.standard_normal(weights.shape).astype(dtype)
                loss_t = loss_t + (weights_t * torch.from_numpy(grad_w)).sum()
                grads = ours.backward((grad_out, grad_w))
            else:
                assert weights is None and weights_t is None
                grads = ours.backward(grad_out)
            loss_t.backward()
            if self_attention:
                assert_close(grads[0] + grads[1] + grads[2], tq.grad, f"{what}: input gradient")
            else:
                for name, ours_grad, t in zip("qkv", grads, (tq, tk, tv)):
                    assert_close(ours_grad, t.grad, f"{what}: grad of {name}")
            check_grads(ours, theirs, what)


@pytest.mark.parametrize("dtype", DTYPES)
def test_multihead_attention_optimizer_steps(dtype):
    """A few optimizer steps on a causal self-attention: the weights stay equal to torch's.

    SGD with momentum, not Adam: the key bias's exact gradient is zero (a softmax does
    not change when every score of a row moves together), and Adam would divide the
    two libraries' different rounding noise there by its own square root."""
    rng = np.random.default_rng(4)
    ours = nn.MultiheadAttention(8, 4, batch_first=True, dtype=dtype, rng=0)
    theirs = torch.nn.MultiheadAttention(8, 4, batch_first=True, dtype=TORCH_DTYPE[np.dtype(dtype)])
    copy_into_torch(ours, theirs)
    opt = optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    opt_t = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    mask = np.triu(np.ones((6, 6), dtype=bool), k=1)
    for _ in range(4):
        x = rng.standard_normal((2, 6, 8)).astype(dtype)
        ours.zero_grad()
        out, _ = ours(x, x, x, attn_mask=mask, need_weights=False)
        ours.backward(2 * out)  # loss = sum(out^2)
        opt.step()
        opt_t.zero_grad()
        xt = torch.from_numpy(x)
        (theirs(xt, xt, xt, attn_mask=torch.from_numpy(mask), need_weights=False)[0] ** 2).sum().backward()
        opt_t.step()
    for key, value in theirs.state_dict().items():
        assert_close(ours.state_dict()[key], value, f"after 4 SGD steps: {key}")


# ------------------------------------------------------ encoder and decoder layers
def _run_both(ours, theirs, inputs, rng, what, kwargs=None, torch_kwargs=None):
    """Forward and backward of both on the same inputs; compare outputs and every gradient."""
    ours.zero_grad()
    theirs.zero_grad()
    out = ours(*inputs, **(kwargs or {}))
    tensors = [torch.tensor(x, requires_grad=True) for x in inputs]
    out_t = theirs(*tensors, **(torch_kwargs or {}))
    assert_close(out, out_t, f"{what}: output")
    grad_out = rng.standard_normal(out.shape).astype(out.dtype)
    grads = ours.backward(grad_out)
    out_t.backward(torch.from_numpy(grad_out))
    grads = grads if isinstance(grads, tuple) else (grads,)
    for index, (grad, tensor) in enumerate(zip(grads, tensors)):
        assert_close(grad, tensor.grad, f"{what}: grad of input {index}")
    check_grads(ours, theirs, what)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
@pytest.mark.parametrize("mode", ["train", "eval"])
def test_transformer_encoder_layer(dtype, norm_first, mode):
    rng = np.random.default_rng(5)
    torch_dtype = TORCH_DTYPE[np.dtype(dtype)]
    for batch_first, activation in [(False, "relu"), (True, "gelu")]:
        kwargs = dict(dim_feedforward=12, dropout=0.0, activation=activation, batch_first=batch_first,
                      norm_first=norm_first)
        ours = randomize(nn.TransformerEncoderLayer(8, 2, dtype=dtype, rng=0, **kwargs), rng).train(mode == "train")
        theirs = torch.nn.TransformerEncoderLayer(8, 2, dtype=torch_dtype, **kwargs).train(mode == "train")
        copy_into_torch(ours, theirs)
        shape = (2, 5, 8) if batch_first else (5, 2, 8)
        x = rng.standard_normal(shape).astype(dtype)
        causal = np.triu(np.ones((5, 5), dtype=bool), k=1)
        padding = np.array([[False] * 5, [False, False, False, True, True]])
        what = f"encoder layer norm_first={norm_first} {mode} {activation}"
        _run_both(ours, theirs, [x], rng, what)
        masks = dict(src_mask=causal, src_key_padding_mask=padding)
        _run_both(ours, theirs, [x], rng, what + " masked", masks,
                  {key: torch.from_numpy(value) for key, value in masks.items()})


@pytest.mark.parametrize("dtype", DTYPES)
def test_transformer_encoder_stack_with_final_norm(dtype):
    rng = np.random.default_rng(6)
    torch_dtype = TORCH_DTYPE[np.dtype(dtype)]
    layer = nn.TransformerEncoderLayer(8, 4, dim_feedforward=16, dropout=0.0, norm_first=True, batch_first=True,
                                       dtype=dtype, rng=0)
    ours = randomize(nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8, dtype=dtype), rng=1), rng)
    torch_layer = torch.nn.TransformerEncoderLayer(8, 4, dim_feedforward=16, dropout=0.0, norm_first=True,
                                                   batch_first=True, dtype=torch_dtype)
    theirs = torch.nn.TransformerEncoder(torch_layer, 2, norm=torch.nn.LayerNorm(8, dtype=torch_dtype),
                                         enable_nested_tensor=False)
    copy_into_torch(ours, theirs)
    _run_both(ours, theirs, [rng.standard_normal((3, 4, 8)).astype(dtype)], rng, "encoder stack")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("norm_first", [False, True], ids=["post-norm", "pre-norm"])
def test_transformer_decoder_layer(dtype, norm_first):
    rng = np.random.default_rng(7)
    torch_dtype = TORCH_DTYPE[np.dtype(dtype)]
    kwargs = dict(dim_feedforward=12, dropout=0.0, norm_first=norm_first)
    ours = randomize(nn.TransformerDecoderLayer(8, 2, dtype=dtype, rng=0, **kwargs), rng)
    theirs = torch.nn.TransformerDecoderLayer(8, 2, dtype=torch_dtype, **kwargs)
    copy_into_torch(ours, theirs)
    tgt = rng.standard_normal((5, 2, 8)).astype(dtype)  # (T, N, E)
    memory = rng.standard_normal((6, 2, 8)).astype(dtype)  # (S, N, E)
    causal = np.triu(np.ones((5, 5), dtype=bool), k=1)
    padding = np.zeros((2, 6), dtype=bool)
    padding[1, 4:] = True
    _run_both(ours, theirs, [tgt, memory], rng, f"decoder norm_first={norm_first}",
              dict(tgt_mask=causal, memory_key_padding_mask=padding),
              dict(tgt_mask=torch.from_numpy(causal), memory_key_padding_mask=torch.from_numpy(padding)))


# ------------------------------------------------------------------ GPT
def test_gpt_matches_the_benchmarks_torch_gpt():
    """models.GPT (untied, flattened logits: the benchmark's case) against the torch model of the same structure."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        from benchmarks import cases
    finally:
        sys.path.pop(0)
    rng = np.random.default_rng(3)
    ours = cases.GPT.build_dltoys(nn, rng)
    theirs = cases.GPT.build_torch(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x, y = cases.GPT.make_batch(rng)
    x, y = x[:4], y[: 4 * x.shape[1]]  # four sequences are enough to compare
    loss = nn.CrossEntropyLoss()
    value = loss(ours(x), y)
    ours.backward(loss.backward())
    value_t = torch.nn.functional.cross_entropy(theirs(torch.from_numpy(x)), torch.from_numpy(y))
    value_t.backward()
    assert abs(float(value) - value_t.item()) < 1e-5
    torch_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        expected = torch_params[name].grad.numpy()
        np.testing.assert_allclose(param.grad, expected, rtol=0, atol=1e-5 * np.abs(expected).max(), err_msg=name)
