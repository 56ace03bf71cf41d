"""GPT: a decoder-only Transformer language model (nanoGPT's structure) built from ``dltoys.nn``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import nn, train
from ..train.step import loss_value
from ..utils import RngLike, as_array, as_rng, check_bool, check_float, check_int, resolve_dtype


class Block(nn.Module):
    """One pre-norm Transformer block: causal self-attention, then a GELU MLP, each residual.

    Notes
    -----
    ::

        x = x + dropout(attn(ln_1(x)))          (causal: position t reads positions <= t)
        x = x + dropout(mlp(ln_2(x)))           mlp = Linear(C, 4C), GELU, Linear(4C, C)

    Backward, with ``g`` the gradient of the block's output: the residual passes
    ``g`` through unchanged and each branch adds its own part,
    ``g += ln_2'(mlp'(g))`` then ``g += ln_1'(dq + dk + dv)`` (query, key and value
    are the same normalised input).
    """

    def __init__(self, n_embd: int, n_head: int, dropout: float, bias: bool, dtype, rng: np.random.Generator):
        super().__init__()
        self.ln_1 = nn.LayerNorm(n_embd, bias=bias, dtype=dtype)
        self.attn = nn.MultiheadAttention(n_embd, n_head, dropout=dropout, bias=bias, batch_first=True, dtype=dtype, rng=rng)
        self.ln_2 = nn.LayerNorm(n_embd, bias=bias, dtype=dtype)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd, bias=bias, dtype=dtype, rng=rng), nn.GELU(),
                                 nn.Linear(4 * n_embd, n_embd, bias=bias, dtype=dtype, rng=rng))
        self.attn_dropout = nn.Dropout(dropout, rng=rng)
        self.mlp_dropout = nn.Dropout(dropout, rng=rng)

    def forward(self, x: np.ndarray) -> np.ndarray:  # (B, T, C)
        h = self.ln_1(x)
        attended, _ = self.attn(h, h, h, need_weights=False, is_causal=True)  # (B, T, C)
        x = x + self.attn_dropout(attended)
        return x + self.mlp_dropout(self.mlp(self.ln_2(x)))

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        grad = grad_out + self.ln_2.backward(self.mlp.backward(self.mlp_dropout.backward(grad_out)))
        grad_q, grad_k, grad_v = self.attn.backward(self.attn_dropout.backward(grad))
        grad_q += grad_k
        grad_q += grad_v
        grad += self.ln_1.backward(grad_q)
        return grad


class GPT(nn.Module):
    """A GPT language model: token and position embeddings, pre-norm causal blocks, a final LayerNorm, a tied head.

    Parameters
    ----------
    vocab_size : int
    block_size : int
        The longest context (number of learned positions).
    n_layer, n_head, n_embd : int, defaults 4, 4, 128
        Blocks, attention heads, and the model width ``C`` (divisible by ``n_head``).
    dropout : float, default 0.0
        After the embeddings, on the attention weights and on each residual branch.
    bias : bool, default True
        Biases in the Linear layers, the attention and the LayerNorms.
    tie_weights : bool, default True
        The output head reuses the token embedding (``head.weight is tok_emb.weight``,
        Press & Wolf 2017): one ``(V, C)`` table reads tokens in and scores them out,
        and its gradient is the sum of both uses.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Initial weights (GPT-2's: ``N(0, 0.02)``, residual output projections
        ``N(0, 0.02 / sqrt(2 n_layer))``, zero biases) and dropout masks.

    Attributes
    ----------
    tok_emb, pos_emb : Embedding of shape (vocab_size, C) and (block_size, C)
    blocks : ModuleList of :class:`Block`
    ln_f : LayerNorm
    head : Linear(C, vocab_size, bias=False)

    Shapes
    ------
    ``forward(idx)``: integer ids ``(B, T)`` with ``T <= block_size`` -> logits ``(B, T, V)``.
    ``backward(grad_logits)`` adds every parameter's gradient and returns None (ids
    have no gradient).

    Notes
    -----
    ``x_0 = tok_emb[idx] + pos_emb[0..T-1]``, ``x_l = Block_l(x_{l-1})``,
    ``logits = head(ln_f(x_L))``. The position table's gradient is the sum over the
    batch of ``dL/dx_0``.

    References
    ----------
    Radford et al. (2019), Language models are unsupervised multitask learners (GPT-2);
    Karpathy, nanoGPT (its ``model.py`` is this structure).
    """

    def __init__(self, vocab_size: int, block_size: int, n_layer: int = 4, n_head: int = 4, n_embd: int = 128,
                 dropout: float = 0.0, bias: bool = True, tie_weights: bool = True, dtype=None, rng: RngLike = None):
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=1)
        self.block_size = check_int("block_size", block_size, minimum=1)
        self.n_layer = check_int("n_layer", n_layer, minimum=1)
        self.n_head = check_int("n_head", n_head, minimum=1)
        self.n_embd = check_int("n_embd", n_embd, minimum=1)
        if n_embd % n_head:
            raise ValueError(f"n_embd: must be divisible by n_head={n_head}, received {n_embd}")
        dropout = check_float("dropout", dropout, low=0.0, high=1.0)
        check_bool("bias", bias)
        self.tie_weights = check_bool("tie_weights", tie_weights)
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        self.tok_emb = nn.Embedding(vocab_size, n_embd, dtype=self.dtype, rng=rng)
        self.pos_emb = nn.Embedding(block_size, n_embd, dtype=self.dtype, rng=rng)
        self.drop = nn.Dropout(dropout, rng=rng)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, dropout, bias, self.dtype, rng) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd, bias=bias, dtype=self.dtype)
        self.head = nn.Linear(n_embd, vocab_size, bias=False, dtype=self.dtype, rng=rng)
        self._init_weights(rng)
        if tie_weights:
            self.head.weight = self.tok_emb.weight

    def _init_weights(self, rng: np.random.Generator) -> None:
        residual_std = 0.02 / math.sqrt(2 * self.n_layer)
        for name, param in self.named_parameters():
            if name.endswith("bias"):
                param.data[...] = 0
            elif "ln_" in name:
                continue  # LayerNorm weights stay 1
            else:
                std = residual_std if name.endswith(("out_proj.weight", "mlp.2.weight")) else 0.02
                param.data[...] = rng.normal(0.0, std, param.shape)

    def extra_repr(self) -> str:
        return (f"vocab_size={self.vocab_size}, block_size={self.block_size}, n_layer={self.n_layer}, "
                f"n_head={self.n_head}, n_embd={self.n_embd}, tie_weights={self.tie_weights}")

    def _check_ids(self, idx: Any) -> np.ndarray:
        idx = as_array("idx", idx)
        if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"idx: expected integer token ids of shape (B, T), received shape {idx.shape} and dtype {idx.dtype}")
        if not 1 <= idx.shape[1] <= self.block_size:
            raise ValueError(f"idx: sequences of length {idx.shape[1]}; the model reads 1 to block_size={self.block_size} tokens")
        return idx

    def forward(self, idx: Any) -> np.ndarray:
        idx = self._check_ids(idx)  # (B, T)
        T = idx.shape[1]
        x = self.tok_emb(idx)  # (B, T, C)
        x += self.pos_emb(np.arange(T))  # (T, C), broadcast over the batch
        x = self.drop(x)
        for block in self.blocks:
            x = block(x)
        self._cache = T
        return self.head(self.ln_f(x))  # (B, T, V)

    def backward(self, grad_logits: np.ndarray) -> None:
        self._saved()
        grad = self.ln_f.backward(self.head.backward(grad_logits))  # (B, T, C)
        for block in reversed(list(self.blocks)):
            grad = block.backward(grad)
        grad = self.drop.backward(grad)
        self.pos_emb.backward(grad.sum(axis=0))  # (T, C)
        self.tok_emb.backward(grad)
        return None

    def attention_maps(self, idx: Any) -> list[np.ndarray]:
        """Every block's attention weights on ``idx``, per head: a list of ``n_layer`` arrays (B, H, T, T).

        Row ``t`` of a map is the distribution over positions ``0..t`` that head reads at
        position ``t`` (eval mode; the layers' caches are overwritten).
        """
        idx = self._check_ids(idx)
        maps = []
        with nn.eval_mode(self):
            x = self.tok_emb(idx) + self.pos_emb(np.arange(idx.shape[1]))  # (B, T, C)
            for block in self.blocks:
                h = block.ln_1(x)
                _, weights = block.attn(h, h, h, is_causal=True, average_attn_weights=False)  # (B, H, T, T)
                maps.append(weights)
                x = block(x)
        return maps

    def generate(self, idx: Any, max_new_tokens: int, temperature: float = 1.0, top_k: int | None = None,
                 rng: RngLike = None) -> np.ndarray:
        """Continue each sequence of ``idx`` by ``max_new_tokens`` sampled tokens.

        Parameters
        ----------
        idx : integer array_like of shape (B, T) or (T,)
            The prompts; the model reads at most the last ``block_size`` tokens.
        max_new_tokens : int >= 0
        temperature : float >= 0, default 1.0
            The logits are divided by it before the softmax: below 1 sharper (more
            likely tokens more likely still), above 1 flatter; 0 is greedy
            decoding (the most likely token, no randomness).
        top_k : int or None
            Sample only among the ``top_k`` most likely tokens (the others get
            probability 0); None keeps them all. ``top_k=1`` is greedy.
        rng : int, Generator or None
            One uniform draw per sequence per step: the same seed gives the same text.

        Returns
        -------
        ndarray of int64, the prompts followed by the new tokens: (B, T + max_new_tokens),
        or (T + max_new_tokens,) for a 1-D prompt.

        Notes
        -----
        Runs in eval mode (dropout off) and restores the mode; it overwrites the layers'
        caches. Every step re-reads the (cropped) context: no key/value cache.
        """
        idx = as_array("idx", idx)
        one_dim = idx.ndim == 1
        if idx.ndim not in (1, 2) or idx.shape[-1] == 0 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(f"idx: expected non-empty integer ids of shape (B, T) or (T,), received shape {idx.shape} "
                             f"and dtype {idx.dtype}")
        idx = np.atleast_2d(idx).astype(np.int64)
        max_new_tokens = check_int("max_new_tokens", max_new_tokens, minimum=0)
        temperature = check_float("temperature", temperature, low=0.0)
        if top_k is not None:
            top_k = check_int("top_k", top_k, minimum=1)
        rng = as_rng(rng)
        with nn.eval_mode(self):
            for _ in range(max_new_tokens):
                logits = self.forward(idx[:, -self.block_size:])[:, -1, :]  # (B, V)
                idx = np.concatenate([idx, sample_next(logits, temperature, top_k, rng)[:, None]], axis=1)
        return idx[0] if one_dim else idx


def sample_next(logits: np.ndarray, temperature: float, top_k: int | None, rng: np.random.Generator) -> np.ndarray:
    """One token per row of ``logits`` (B, V) from ``softmax(logits / temperature)`` restricted to the top k.

    Greedy (the argmax) when ``temperature`` is 0 or so low that ``logits / temperature``
    overflows. Each row is drawn by inverting its cumulative distribution (float64) at
    one uniform number.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if temperature == 0.0:
        return np.argmax(logits, axis=1)
    with np.errstate(over="ignore"):
        scaled = logits / temperature  # (B, V)
    if not np.isfinite(scaled).all():
        return np.argmax(logits, axis=1)
    if top_k is not None and top_k < scaled.shape[1]:
        kth = np.partition(scaled, -top_k, axis=1)[:, -top_k][:, None]  # (B, 1) the k-th largest
        scaled = np.where(scaled < kth, -np.inf, scaled)
    weights = np.exp(scaled - scaled.max(axis=1, keepdims=True))  # (B, V); excluded tokens weigh 0
    cumulative = np.cumsum(weights, axis=1)
    draws = rng.random(len(weights)) * cumulative[:, -1]  # (B,)
    # side='right' never lands on a zero-weight token: its cumulative value equals its predecessor's
    chosen = np.count_nonzero(cumulative <= draws[:, None], axis=1)  # searchsorted(side='right') per row
    return np.minimum(chosen, weights.shape[1] - 1)



class LanguageModelStep(train.Step):
    """One optimizer step of next-token training on a batch ``(idx, targets)``, both (B, T).

    The mean cross-entropy over every position's prediction (positions whose target
    is ``ignore_index`` do not count: the prompt half of the sort toy's sequences)::

        logits = model(idx)                                     # (B, T, V)
        loss = cross_entropy(logits.reshape(B T, V), targets.reshape(B T))
        model.backward(dL/dlogits); clip (callbacks); optimizer.step()

    Parameters
    ----------
    model : GPT
    optimizer : Optimizer over ``model.parameters()``
    ignore_index : int, default -100
    """

    def __init__(self, model: GPT, optimizer, *, ignore_index: int = -100):
        super().__init__(modules={"model": model}, optimizers={"optimizer": optimizer})
        self.model, self.optimizer = model, optimizer
        self.loss = nn.CrossEntropyLoss(ignore_index=ignore_index)

    def _loss(self, batch) -> tuple[np.ndarray, float]:
        idx, targets = batch
        logits = self.model(idx)  # (B, T, V)
        value = self.loss(logits.reshape(-1, logits.shape[-1]), np.asarray(targets).reshape(-1))
        return logits, loss_value(value, type(self).__name__)

    def __call__(self, batch) -> dict[str, float]:
        self.model.zero_grad()
        logits, value = self._loss(batch)
        self.model.backward(self.loss.backward().reshape(logits.shape))
        self.before_update()
        self.optimizer.step()
        return {"loss": value}

    def evaluate(self, batch) -> dict[str, float]:
        return {"loss": self._loss(batch)[1]}
