"""The reference models of the benchmark, each built twice: from ``dltoys.nn`` and from ``torch.nn``.

Every case returns logits of shape ``(N, C)`` and integer targets ``(N,)``, so one
training step is the same on both sides: forward, cross-entropy, backward, optimizer
step. The dltoys model is built first (from a seeded generator); its ``state_dict()``
(PyTorch's keys) is copied into the PyTorch model, so both start from the same
weights and see the same batch.

The dltoys side is looked up by name in ``dltoys.nn`` (``Case.needs``): a case whose
layers do not exist yet is reported as "not built yet" and lights up when they land.
The CNN and GPT cases assume PyTorch's constructor arguments and call conventions for
those layers (``Conv2d(in, out, kernel)``, ``MaxPool2d(kernel)``,
``MultiheadAttention(embed_dim, num_heads, batch_first=True)`` called as
``attn(q, k, v, attn_mask=..., need_weights=False)`` returning ``(output, weights)``,
its backward returning ``(dq, dk, dv)``): that is dltoys's contract, so they should
need no change; if one does, this file is the one place to adapt.
"""

from __future__ import annotations

import functools
import importlib.util
import inspect
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

DTYPE = np.float32


@dataclass(frozen=True)
class Case:
    """One reference model.

    Attributes
    ----------
    name : short key (``mlp``), used on the command line and in the table.
    title : what the row says (model and batch).
    needs : names in ``dltoys.nn`` that the dltoys side is built from.
    build_dltoys : ``(dltoys.nn, rng) -> Module`` returning logits ``(N, C)`` from ``forward(x)``;
        None until the model family exists in dltoys (the row then says "not built yet").
    build_torch : ``(torch.nn) -> torch.nn.Module`` with the same parameter names.
    make_batch : ``rng -> (x, y)``: the input and integer targets ``(N,)``.
    flops : multiply-adds x 2 of one training step's matmuls that a step must do
        (forward, weight gradients, and input gradients of every layer but the
        first), or None where not counted.
    """

    name: str
    title: str
    needs: tuple[str, ...]
    build_dltoys: Callable[[Any, np.random.Generator], Any] | None
    build_torch: Callable[[Any], Any]
    make_batch: Callable[[np.random.Generator], tuple[np.ndarray, np.ndarray]]
    flops: int | None = None
    unavailable: Callable[[], str | None] | None = None  # why the row cannot run here (data, a package), or None

    def missing(self) -> list[str]:
        """The names in ``needs`` that ``dltoys.nn`` does not have yet."""
        from dltoys import nn

        missing = [name for name in self.needs if not hasattr(nn, name)]
        if self.build_dltoys is None:
            missing.append("the dltoys model itself")
        return missing


def _make(namespace, name: str, *args, rng=None, **kwargs):
    """``namespace.name(*args, **kwargs)``, passing ``rng`` where the constructor takes one (dltoys)."""
    cls = getattr(namespace, name)
    if rng is not None and "rng" in inspect.signature(cls).parameters:
        kwargs["rng"] = rng
    return cls(*args, **kwargs)


def _sequential(spec: list[tuple], namespace, rng=None):
    return namespace.Sequential(*[_make(namespace, name, *args, rng=rng) for name, *args in spec])


# ---------------------------------------------------------------- MLP
BATCH_MLP = 128
MLP_SIZES = (784, 256, 256, 10)
MLP_SPEC = [("Linear", 784, 256), ("ReLU",), ("Linear", 256, 256), ("ReLU",), ("Linear", 256, 10)]


def _mlp_flops(batch: int, sizes: tuple[int, ...]) -> int:
    macs = [n_in * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    # forward + weight gradients for every layer; input gradients for all but the first
    return 2 * batch * (2 * sum(macs) + sum(macs[1:]))


def _classification_batch(shape: tuple, n_classes: int) -> Callable:
    def make(rng: np.random.Generator):
        x = rng.standard_normal((shape[0], *shape[1:]), dtype=DTYPE)
        y = rng.integers(0, n_classes, size=shape[0])
        return x, y

    return make


MLP = Case(
    name="mlp",
    title=f"MLP 784-256-256-10 ReLU, batch {BATCH_MLP}",
    needs=("Linear", "ReLU", "Sequential"),
    build_dltoys=lambda nn, rng: _sequential(MLP_SPEC, nn, rng),
    build_torch=lambda nn: _sequential(MLP_SPEC, nn),
    make_batch=_classification_batch((BATCH_MLP, 784), 10),
    flops=_mlp_flops(BATCH_MLP, MLP_SIZES),
)

# ---------------------------------------------------------------- CNN
BATCH_CNN = 64
# 28 -> conv 26 -> pool 13 -> conv 11 -> pool 5: 16 * 5 * 5 features
CNN_SPEC = [
    ("Conv2d", 1, 8, 3), ("ReLU",), ("MaxPool2d", 2),
    ("Conv2d", 8, 16, 3), ("ReLU",), ("MaxPool2d", 2),
    ("Flatten",), ("Linear", 16 * 5 * 5, 10),
]  # fmt: skip

CNN = Case(
    name="cnn",
    title=f"CNN 1x28x28: conv3x3 8, pool, conv3x3 16, pool, linear; batch {BATCH_CNN}",
    needs=("Conv2d", "MaxPool2d", "ReLU", "Flatten", "Linear", "Sequential"),
    build_dltoys=lambda nn, rng: _sequential(CNN_SPEC, nn, rng),
    build_torch=lambda nn: _sequential(CNN_SPEC, nn),
    make_batch=_classification_batch((BATCH_CNN, 1, 28, 28), 10),
)

# ------------------------------------------------------- RNN and LSTM
SEQ_INPUT, SEQ_HIDDEN, SEQ_LEN, SEQ_BATCH, SEQ_CLASSES = 32, 128, 50, 64, 10


def _last_step_classifier_dltoys(cell_name: str):
    """dltoys's own last-step sequence classifier: the recurrent layer and a Linear head (``rnn.*``, ``head.*``)."""

    def build(nn, rng):
        from dltoys.models import SequenceModel

        return SequenceModel(cell_name.lower(), SEQ_INPUT, SEQ_HIDDEN, SEQ_CLASSES, readout="last", rng=rng)

    return build


def _last_step_classifier_torch(cell_name: str):
    def build(nn):
        class LastStepClassifier(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = getattr(nn, cell_name)(SEQ_INPUT, SEQ_HIDDEN, batch_first=True)
                self.head = nn.Linear(SEQ_HIDDEN, SEQ_CLASSES)

            def forward(self, x):
                _, state = self.rnn(x)
                h_n = state[0] if cell_name == "LSTM" else state
                return self.head(h_n[-1])

        return LastStepClassifier()

    return build


def _sequence_case(cell_name: str, title: str) -> Case:
    return Case(
        name=cell_name.lower(),
        title=f"{title}: input {SEQ_INPUT}, hidden {SEQ_HIDDEN}, length {SEQ_LEN}, batch {SEQ_BATCH}",
        needs=(cell_name, "Linear", "Module"),
        build_dltoys=_last_step_classifier_dltoys(cell_name),
        build_torch=_last_step_classifier_torch(cell_name),
        make_batch=_classification_batch((SEQ_BATCH, SEQ_LEN, SEQ_INPUT), SEQ_CLASSES),
    )


RNN = _sequence_case("RNN", "RNN tanh, loss on the last step")
LSTM = _sequence_case("LSTM", "LSTM, loss on the last step")

# ------------------------------------------------------------ GPT
VOCAB, CONTEXT, D_MODEL, N_HEADS, N_LAYERS, BATCH_GPT = 65, 64, 128, 4, 2, 32


def causal_mask(context: int = CONTEXT) -> np.ndarray:
    """PyTorch's boolean ``attn_mask``: True where a position may NOT attend (the future)."""
    return np.triu(np.ones((context, context), dtype=bool), k=1)  # (T, T)


def gpt_torch(nn, vocab: int = VOCAB, context: int = CONTEXT, d_model: int = D_MODEL, n_heads: int = N_HEADS,
              n_layers: int = N_LAYERS, bias: bool = True, tie_weights: bool = False):
    """``dltoys.models.GPT`` in ``torch.nn`` (its parameter names; no dropout), logits flattened to ``(B T, V)``.

    ``bias`` is the Linear, attention and LayerNorm layers'; ``tie_weights`` makes the head
    reuse the token embedding, as GPT's default does.
    """
    import torch

    mask = torch.from_numpy(causal_mask(context))

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln_1 = nn.LayerNorm(d_model, bias=bias)
            self.attn = nn.MultiheadAttention(d_model, n_heads, bias=bias, batch_first=True)
            self.ln_2 = nn.LayerNorm(d_model, bias=bias)
            self.mlp = nn.Sequential(nn.Linear(d_model, 4 * d_model, bias=bias), nn.GELU(),
                                     nn.Linear(4 * d_model, d_model, bias=bias))

        def forward(self, x):  # (B, T, C)
            T = x.shape[1]
            h = self.ln_1(x)
            x = x + self.attn(h, h, h, attn_mask=mask[:T, :T], need_weights=False)[0]
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok_emb = nn.Embedding(vocab, d_model)
            self.pos_emb = nn.Embedding(context, d_model)
            self.blocks = nn.ModuleList([Block() for _ in range(n_layers)])
            self.ln_f = nn.LayerNorm(d_model, bias=bias)
            self.head = nn.Linear(d_model, vocab, bias=False)
            if tie_weights:
                self.head.weight = self.tok_emb.weight
            self.register_buffer("positions", torch.arange(context), persistent=False)

        def forward(self, idx):
            B, T = idx.shape
            x = self.tok_emb(idx) + self.pos_emb(self.positions[:T])  # (B, T, C)
            for block in self.blocks:
                x = block(x)
            return self.head(self.ln_f(x)).reshape(B * T, vocab)

    return GPT()


def _gpt_dltoys(nn, rng):
    """``models.GPT`` untied (the torch side has its own head) with logits flattened to ``(B T, V)``;
    its parameter names are the torch model's above."""
    from dltoys.models import GPT

    class FlatLogitsGPT(GPT):
        def forward(self, idx):
            return super().forward(idx).reshape(-1, VOCAB)  # (B T, V)

        def backward(self, grad_logits):
            return super().backward(grad_logits.reshape(-1, CONTEXT, VOCAB))

    return FlatLogitsGPT(VOCAB, CONTEXT, n_layer=N_LAYERS, n_head=N_HEADS, n_embd=D_MODEL, tie_weights=False, rng=rng)


def _gpt_batch(rng: np.random.Generator):
    tokens = rng.integers(0, VOCAB, size=(BATCH_GPT, CONTEXT + 1))
    return tokens[:, :-1].copy(), tokens[:, 1:].reshape(-1).copy()  # next-token targets


GPT = Case(
    name="gpt",
    title=f"GPT: vocab {VOCAB}, context {CONTEXT}, d_model {D_MODEL}, {N_HEADS} heads, "
    f"{N_LAYERS} layers, MLP 4x, causal; batch {BATCH_GPT}",
    needs=("Embedding", "LayerNorm", "MultiheadAttention", "GELU", "Linear", "ModuleList", "Sequential"),
    build_dltoys=_gpt_dltoys,
    build_torch=gpt_torch,
    make_batch=_gpt_batch,
)

# ------------------------------------------------------------ GCN on Cora
GCN_HIDDEN = 16


def _shared_data() -> Path:
    """Where the tests and CI keep the real data sets: ``$DLTOYS_SHARED_DATA`` or ``<repo>/../shared/data``."""
    return Path(os.environ.get("DLTOYS_SHARED_DATA") or Path(__file__).resolve().parents[1] / ".." / "shared" / "data")


def _gcn_unavailable() -> str | None:
    if importlib.util.find_spec("torch_geometric") is None:
        return "torch_geometric is not installed (make oracle)"
    if not (_shared_data() / "planetoid" / "ind.cora.x").exists():
        return f"no Cora data in {_shared_data()}"
    return None


@functools.lru_cache(maxsize=1)
def _cora():
    """Cora's row-normalised features, edges and training nodes (read once: every batch is the whole graph)."""
    from dltoys.data import load_cora

    graph = load_cora(_shared_data())
    x = graph.x / np.maximum(graph.x.sum(axis=1, keepdims=True), 1)  # (2708, 1433) float32
    mask = graph.extra["train_mask"]
    return x, graph.edge_index, mask, graph.y[mask]


def _gcn_dltoys(nn, rng):
    from dltoys.models import GCN

    x, edge_index, mask, _ = _cora()

    class TrainingNodesGCN(GCN):
        """The GCN on the whole graph; the logits of the 140 training nodes (what the loss sees)."""

        def forward(self, features):
            logits = super().forward(features, edge_index)  # (2708, 7)
            self._shape = logits.shape
            return logits[mask]  # (140, 7)

        def backward(self, grad_out):
            grad = np.zeros(self._shape, dtype=grad_out.dtype)
            grad[mask] = grad_out
            return super().backward(grad)

    # No dropout: both sides must compute the same trajectory for the loss guard.
    return TrainingNodesGCN(x.shape[1], GCN_HIDDEN, 7, dropout=0.0, cached=True, rng=rng)


def _gcn_torch(nn):
    import torch
    from torch_geometric.nn import GCNConv

    x, edge_index, mask, _ = _cora()
    edges, rows = torch.from_numpy(edge_index), torch.from_numpy(mask)

    class TrainingNodesGCN(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = GCNConv(x.shape[1], GCN_HIDDEN, cached=True)
            self.conv2 = GCNConv(GCN_HIDDEN, 7, cached=True)

        def forward(self, features):
            return self.conv2(self.conv1(features, edges).relu(), edges)[rows]

    return TrainingNodesGCN()


def _cora_batch(rng: np.random.Generator):
    x, _, _, y = _cora()
    return x, y  # the same arrays every time: one epoch is one step on the whole graph


GCN = Case(
    name="gcn",
    title=f"GCN 1433-{GCN_HIDDEN}-7 on Cora, one full-graph epoch (2708 nodes, 10556 edges, loss on 140), no dropout",
    needs=("GCNConv", "ReLU"),
    build_dltoys=_gcn_dltoys,
    build_torch=_gcn_torch,
    make_batch=_cora_batch,
    unavailable=_gcn_unavailable,
)

CASES: dict[str, Case] = {case.name: case for case in (MLP, CNN, RNN, LSTM, GPT, GCN)}
