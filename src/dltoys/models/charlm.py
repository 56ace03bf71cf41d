"""A character-level LSTM language model, trained by truncated backpropagation through time.

:class:`CharLM` is ``Embedding -> LSTM -> Linear`` over the vocabulary at every
step (the LSTM and its head are a :class:`dltoys.models.SequenceModel` with
``readout='all'``). It is trained on a long text as a set of parallel streams
(:func:`stream_chunks`) by :class:`dltoys.train.TruncatedBPTTStep`, which carries
the LSTM state from one chunk to the next (``forward(ids, hx)`` starts from a state,
``final_state`` is where the chunk ended), and it samples text one character at a
time (:meth:`CharLM.generate`).

Why carry the state (Keras' "stateful" recurrent layers, Karpathy's char-rnn):
a model trained on independent windows starts every window from a zero state,
so it never learns to use more context than one window, and it sees a zero
state at the start of every window, a state it never meets when it reads or
writes a long text. Carrying the state makes every chunk continue the previous
one; the gradient still stops at the chunk boundary (the carried state is a
plain array), which keeps memory and time per step fixed.

References
----------
Elman (1990), Finding structure in time. Hochreiter & Schmidhuber (1997), Long
short-term memory. Sutskever, Martens & Hinton (2011), Generating text with
recurrent neural networks. Graves (2013), Generating sequences with recurrent
neural networks. Williams & Peng (1990), An efficient gradient-based algorithm
for on-line training of recurrent network trajectories (truncated BPTT).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import nn
from ..utils import RngLike, as_array, as_rng, check_float, check_int, resolve_dtype
from .rnn import SequenceModel


def stream_chunks(ids: Any, n_streams: int, seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Lay a long encoded text out as ``n_streams`` parallel streams cut into chunks.

    Parameters
    ----------
    ids : array_like of shape (L,)
        The encoded text.
    n_streams : int
        Parallel streams ``S`` (the batch size of stateful training).
    seq_len : int
        Chunk length ``T`` (the truncation length of backpropagation).

    Returns
    -------
    inputs : ndarray of shape (K * S, T)
    targets : ndarray of shape (K * S, T)
        Row ``k * S + s`` is chunk ``k`` of stream ``s``: stream ``s`` is the
        contiguous piece ``ids[s * M : (s + 1) * M + 1]`` with
        ``M = (L - 1) // S``, ``K = M // T``, and targets are inputs shifted by
        one character. Batches of ``S`` consecutive rows, in order
        (``shuffle=False``), are therefore consecutive chunks of every stream,
        and a model that carries its state from batch to batch reads each
        stream from start to end. The last ``M - K * T`` characters of every
        stream are left out.
    """
    ids = as_array("ids", ids)
    if ids.ndim != 1:
        raise ValueError(f"ids: expected a 1-D array of shape (L,), received shape {ids.shape}")
    n_streams = check_int("n_streams", n_streams, minimum=1)
    seq_len = check_int("seq_len", seq_len, minimum=1)
    per_stream = (len(ids) - 1) // n_streams
    n_chunks = per_stream // seq_len
    if n_chunks == 0:
        raise ValueError(
            f"ids: {len(ids)} characters are too few for {n_streams} streams of at least one chunk of "
            f"seq_len={seq_len} (need at least {n_streams * seq_len + 1})"
        )
    used = n_chunks * seq_len
    starts = np.arange(n_streams) * per_stream  # (S,)
    columns = starts[:, None] + np.arange(used + 1)  # (S, K*T + 1)
    streams = ids[columns]  # (S, K*T + 1)
    inputs = streams[:, :-1].reshape(n_streams, n_chunks, seq_len).transpose(1, 0, 2)  # (K, S, T)
    targets = streams[:, 1:].reshape(n_streams, n_chunks, seq_len).transpose(1, 0, 2)  # (K, S, T)
    return inputs.reshape(-1, seq_len), targets.reshape(-1, seq_len)


class CharLM(nn.Module):
    """Character-level language model: Embedding, LSTM, and a Linear head at every step.

    Parameters
    ----------
    vocab_size : int
        Characters ``V`` (ids ``0 .. V - 1``, e.g. from :class:`dltoys.data.CharVocab`).
    embedding_dim : int, default 32
        Length of each character's vector.
    hidden_size : int, default 128
        Width ``H`` of the LSTM state.
    num_layers : int, default 1
        Stacked LSTM layers.
    dropout : float in [0, 1), default 0
        Dropout between stacked LSTM layers.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Draws the embedding, then the LSTM and head weights (PyTorch's inits).

    Attributes
    ----------
    embedding : nn.Embedding(V, embedding_dim)
    lm : SequenceModel('lstm', embedding_dim, H, V, readout='all')
        Its ``rnn`` and ``head`` are the LSTM and the output layer.
    final_state : tuple (h, c) of arrays (num_layers, B, H), or None
        The LSTM state the last forward ended in (what a truncated-BPTT step
        carries into the next chunk).

    Notes
    -----
    For a chunk ``x_1 .. x_T`` of ids and the state ``(h_0, c_0)`` carried in::

        e_t = W_emb[x_t]                       (embedding lookup)
        h_t, c_t = LSTM(e_t, h_{t-1}, c_{t-1})
        z_t = h_t W_out^T + b_out              (logits over the V characters)
        L = -(1 / (B T)) sum_{b, t} log softmax(z_t)[y_t]

    with targets ``y_t = x_{t+1}``. Backward runs the head, the LSTM (through
    the ``T`` steps of the chunk only: ``dL/dh_0`` is not sent further back)
    and the embedding, whose rows collect the gradients of every position
    that read them. The held-out loss in bits per character is ``L / ln 2``.
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 32,
        hidden_size: int = 128,
        num_layers: int = 1,
        dropout: float = 0.0,
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__()
        self.vocab_size = check_int("vocab_size", vocab_size, minimum=1)
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        self.embedding = nn.Embedding(vocab_size, embedding_dim, dtype=self.dtype, rng=rng)
        self.lm = SequenceModel(
            "lstm", embedding_dim, hidden_size, vocab_size,
            num_layers=num_layers, readout="all", dropout=dropout, dtype=self.dtype, rng=rng,
        )
    def extra_repr(self) -> str:
        return f"vocab_size={self.vocab_size}"

    @property
    def final_state(self) -> Any:
        """``(h_n, c_n)`` of the last forward, each (num_layers, B, H); None before one."""
        return self.lm.final_state

    def to(self, dtype: Any) -> "CharLM":
        """Convert in place (see :meth:`Module.to`); the final state is dropped with the caches."""
        self.lm.final_state = None
        return super().to(dtype)

    # ------------------------------------------------------------- compute
    def _check_ids(self, ids: Any) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise ValueError(f"{type(self).__name__}: expected ids of shape (batch, seq_len), received shape {ids.shape}")
        return ids

    def forward(self, ids: Any, hx: Any = None) -> np.ndarray:
        """Logits for the next character at every position.

        Parameters
        ----------
        ids : integer array of shape (B, T)
        hx : tuple (h0, c0) of arrays (num_layers, B, H), optional
            Initial state (the previous chunk's ``final_state``); zeros when None.

        Returns
        -------
        ndarray of shape (B, V, T)
            PyTorch's layout for a sequence loss: ``CrossEntropyLoss()(logits,
            targets)`` with targets of shape (B, T).
        """
        ids = self._check_ids(ids)
        logits = self.lm(self.embedding(ids), hx)  # (B, T, V)
        self._cache = hx is not None
        return logits.transpose(0, 2, 1)  # (B, V, T), a view

    def backward(self, grad_out: Any) -> Any:
        """Backpropagate through the chunk; returns None (ids have no gradient),
        or ``(None, (dh0, dc0))`` when forward was given ``hx``."""
        explicit = self._saved()
        grad_out = np.asarray(grad_out)
        if grad_out.ndim != 3:
            raise ValueError(f"{type(self).__name__}.backward: expected grad_out of shape (B, V, T), received {grad_out.shape}")
        grad_logits = np.ascontiguousarray(grad_out.transpose(0, 2, 1))  # (B, T, V)
        grads = self.lm.backward(grad_logits)
        # With an initial state the LSTM also returns dL/d(h0, c0): the caller's to use
        # (a truncated-BPTT step drops it: the gradient stops at the chunk boundary).
        grad_embedded, grad_state = grads if isinstance(grads, tuple) else (grads, None)
        self.embedding.backward(grad_embedded)
        return (None, grad_state) if explicit else None

    # ---------------------------------------------------------- evaluation
    def cross_entropy_stream(self, ids: Any, *, n_streams: int = 16, seq_len: int = 256) -> tuple[float, int]:
        """Summed next-character loss over a long text, read as ``n_streams`` carried streams.

        The text is cut like :func:`stream_chunks`, but every position of
        every stream is scored (the last chunk may be shorter), in eval mode,
        carrying the state across chunks: each prediction sees the whole
        stream before it. Only the first character of each stream is never
        predicted, and the last ``(L - 1) % n_streams`` characters are left out.

        Returns
        -------
        (nats, count) : float, int
            The summed negative log-likelihood in nats and how many characters
            it scores; ``nats / count / ln 2`` is bits per character.
        """
        ids = as_array("ids", ids)
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids: expected a 1-D integer array, received shape {ids.shape} and dtype {ids.dtype}")
        n_streams = check_int("n_streams", n_streams, minimum=1)
        seq_len = check_int("seq_len", seq_len, minimum=1)
        per_stream = (len(ids) - 1) // n_streams
        if per_stream < 1:
            raise ValueError(f"ids: {len(ids)} characters are too few for {n_streams} streams")
        streams = ids[np.arange(n_streams)[:, None] * per_stream + np.arange(per_stream + 1)]  # (S, M + 1)
        loss = nn.CrossEntropyLoss(reduction="sum")
        nats = 0.0
        state = None
        with nn.eval_mode(self):
            for start in range(0, per_stream, seq_len):
                chunk = streams[:, start : start + seq_len + 1]  # (S, <= T + 1)
                logits = self.lm(self.embedding(chunk[:, :-1]), state)  # (S, T, V)
                state = self.lm.final_state
                nats += float(loss(logits.reshape(-1, self.vocab_size), chunk[:, 1:].reshape(-1)))
        return nats, n_streams * per_stream

    def bits_per_char(self, ids: Any, *, n_streams: int = 16, seq_len: int = 256) -> float:
        """Held-out cross-entropy in bits per character (see :meth:`cross_entropy_stream`)."""
        nats, count = self.cross_entropy_stream(ids, n_streams=n_streams, seq_len=seq_len)
        return nats / count / math.log(2)

    # ------------------------------------------------------------ sampling
    def generate(self, prompt: Any, n_chars: int, temperature: float = 1.0, rng: RngLike = None) -> np.ndarray:
        """Sample a continuation of ``prompt``, one character at a time.

        Parameters
        ----------
        prompt : integer array_like of shape (P,), P >= 1
            The ids to start from (read in one pass; the state then carries on).
        n_chars : int
            How many characters to sample (>= 0).
        temperature : float >= 0, default 1.0
            The logits are divided by it before the softmax: below 1 sharper,
            above 1 flatter. 0 is greedy decoding (always the most likely
            character, no randomness), and so is any temperature so low
            that ``z / temperature`` overflows.
        rng : int, Generator or None
            Source of the samples: the same seed gives the same text.

        Returns
        -------
        ndarray of shape (n_chars,), int64
            The sampled ids, without the prompt.

        Notes
        -----
        Runs in eval mode (dropout off) and leaves the module's mode as it was;
        it overwrites the layers' caches and ``final_state``.
        Each character is drawn by inverting the cumulative distribution of
        ``softmax(z / temperature)`` (computed in float64) at one uniform draw.
        """
        prompt = as_array("prompt", prompt)
        if prompt.ndim != 1 or prompt.size == 0 or not np.issubdtype(prompt.dtype, np.integer):
            raise ValueError(
                f"prompt: expected a non-empty 1-D array of integer ids, received shape {prompt.shape} and dtype {prompt.dtype}"
            )
        n_chars = check_int("n_chars", n_chars, minimum=0)
        temperature = check_float("temperature", temperature, low=0.0)
        rng = as_rng(rng)
        out = np.empty(n_chars, dtype=np.int64)
        with nn.eval_mode(self):
            logits = self.lm(self.embedding(prompt[None, :]))  # (1, P, V)
            state = self.lm.final_state
            for index in range(n_chars):
                out[index] = _sample(logits[0, -1], temperature, rng)
                logits = self.lm(self.embedding(out[None, index : index + 1]), state)  # (1, 1, V)
                state = self.lm.final_state
        return out


def _sample(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    """One id from ``softmax(logits / temperature)``; the argmax when temperature is 0."""
    if temperature == 0.0:
        return int(np.argmax(logits))
    with np.errstate(over="ignore"):
        scaled = logits.astype(np.float64) / temperature  # (V,)
    if not np.isfinite(scaled).all():  # a temperature so low that z / T overflows: its limit, greedy
        return int(np.argmax(logits))
    weights = np.exp(scaled - scaled.max())  # the largest weight is exactly 1
    cumulative = np.cumsum(weights)
    # side='right' never picks a zero-weight id: its cumulative value equals its predecessor's.
    index = np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")
    return int(min(index, len(logits) - 1))
