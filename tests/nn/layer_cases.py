"""The layer-case table: every contract test reads it.

A new layer is one entry in ``CASES`` (plus its family's own test file for what is
particular to it). The contract tests that read the table:

- ``tests/nn/test_layers.py``: float64 gradcheck of every input and parameter, gradients
  that accumulate, one cache per forward, float32 kept in outputs and gradients;
- ``tests/nn/test_no_float64.py``: no float64 operation inside the float32 path;
- ``tests/nn/test_input_grad.py``: ``needs_input_grad = False`` drops only the input gradient;
- ``tests/oracle/test_layer_parity.py``: PyTorch parity of the output, the input gradients
  and every parameter gradient (cases with a ``torch`` twin).

An entry::

    LayerCase(
        "conv2d-stride2",
        lambda dtype: nn.Conv2d(3, 4, 3, stride=2, dtype=dtype, rng=0),
        inputs=[(2, 3, 7, 7)],
        torch=lambda torch, dtype: torch.nn.Conv2d(3, 4, 3, stride=2, dtype=dtype),
    )

``inputs`` has one entry per argument of ``forward``: a shape (a float input, standard
normal values kept at least 0.1 from 0, the kink of ReLU), a tuple of such entries (an
LSTM's ``(h0, c0)``), or :class:`Ids` (integer ids, not differentiated). ``make`` builds
our module for a dtype; the tests then give every parameter random values (weights in
``weight_range``, others standard normal) so that a backward which ignores one fails, and run
three training forwards first when the module keeps running statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from dltoys import nn
from dltoys.models.rbm import RBM


@dataclass(frozen=True)
class Ids:
    """An integer input: ids drawn uniformly from ``[low, high)``, of ``shape``."""

    high: int
    shape: tuple
    low: int = 0


@dataclass(frozen=True)
class LayerCase:
    id: str
    make: Callable[[Any], nn.Module]  # dtype -> our module
    inputs: tuple  # one entry per forward argument: a shape, a tuple of entries, or Ids
    mode: str = "train"  # "train" or "eval": the mode the module is checked in
    torch: Callable[[Any, Any], Any] | None = None  # (torch, torch dtype) -> the PyTorch twin; None: PyTorch has none
    random: bool = False  # forward draws random numbers (dropout in training): no parity, no repeat checks
    skips_input_grad: bool = False  # needs_input_grad=False makes backward return None for the first input
    weight_range: tuple = (0.5, 1.5)  # weights are drawn uniformly from it (others standard normal)


def _bn(**kwargs):
    return lambda dtype: nn.BatchNorm1d(3, dtype=dtype, **kwargs)


def _torch_bn(**kwargs):
    return lambda torch, dtype: torch.nn.BatchNorm1d(3, dtype=dtype, **kwargs)


def _recurrent(cls: str, input_size: int, hidden_size: int, **kwargs):
    """Our nn.RNN/LSTM/GRU (or a cell) and its PyTorch twin, with the same arguments."""
    return dict(
        make=lambda dtype: getattr(nn, cls)(input_size, hidden_size, dtype=dtype, rng=0, **kwargs),
        torch=lambda torch, dtype: getattr(torch.nn, cls)(input_size, hidden_size, dtype=dtype, **kwargs),
        skips_input_grad=True,
        weight_range=(-0.6, 0.6),  # a recurrence with large positive weights explodes
    )


def _same_args(cls: str, *args, **kwargs):
    """Our nn.<cls> and PyTorch's, built from the same arguments (convolutions and pooling);
    layers with weights take our ``dtype``/``rng`` and PyTorch's ``dtype``."""
    has_weights = cls.startswith("Conv")
    ours = dict(rng=0) if has_weights else {}
    return dict(
        make=lambda dtype: getattr(nn, cls)(*args, **kwargs, **ours, **(dict(dtype=dtype) if has_weights else {})),
        torch=lambda torch, dtype: getattr(torch.nn, cls)(*args, **kwargs, **(dict(dtype=dtype) if has_weights else {})),
        skips_input_grad=has_weights,
    )


def _linear_torch(n_in, n_out, bias=True):
    return lambda torch, dtype: torch.nn.Linear(n_in, n_out, bias=bias, dtype=dtype)


CASES = [
    # linear.py
    LayerCase("linear", lambda d: nn.Linear(4, 3, dtype=d, rng=0), [(5, 4)], torch=_linear_torch(4, 3), skips_input_grad=True),
    LayerCase("linear-no-bias", lambda d: nn.Linear(4, 3, bias=False, dtype=d, rng=0), [(5, 4)],
              torch=_linear_torch(4, 3, bias=False), skips_input_grad=True),
    LayerCase("linear-3d", lambda d: nn.Linear(4, 3, dtype=d, rng=0), [(2, 3, 4)], torch=_linear_torch(4, 3), skips_input_grad=True),
    LayerCase("linear-1d", lambda d: nn.Linear(4, 3, dtype=d, rng=0), [(4,)], torch=_linear_torch(4, 3), skips_input_grad=True),
    LayerCase("identity", lambda d: nn.Identity(), [(3, 4)], torch=lambda torch, d: torch.nn.Identity()),
    LayerCase("flatten", lambda d: nn.Flatten(), [(2, 3, 2, 2)], torch=lambda torch, d: torch.nn.Flatten()),
    LayerCase("flatten-0-1", lambda d: nn.Flatten(0, 1), [(2, 3, 4)], torch=lambda torch, d: torch.nn.Flatten(0, 1)),
    LayerCase("flatten-1-2", lambda d: nn.Flatten(1, 2), [(2, 3, 2, 2)], torch=lambda torch, d: torch.nn.Flatten(1, 2)),
    LayerCase("flatten-neg", lambda d: nn.Flatten(-3, -2), [(2, 3, 2, 2)], torch=lambda torch, d: torch.nn.Flatten(-3, -2)),
    # activation.py
    LayerCase("sigmoid", lambda d: nn.Sigmoid(), [(4, 3)], torch=lambda torch, d: torch.nn.Sigmoid()),
    LayerCase("tanh", lambda d: nn.Tanh(), [(4, 3)], torch=lambda torch, d: torch.nn.Tanh()),
    LayerCase("relu", lambda d: nn.ReLU(), [(4, 3)], torch=lambda torch, d: torch.nn.ReLU()),
    LayerCase("leaky-relu", lambda d: nn.LeakyReLU(), [(4, 3)], torch=lambda torch, d: torch.nn.LeakyReLU()),
    LayerCase("leaky-relu-0.2", lambda d: nn.LeakyReLU(0.2), [(4, 3)], torch=lambda torch, d: torch.nn.LeakyReLU(0.2)),
    LayerCase("softmax-0", lambda d: nn.Softmax(0), [(3, 4, 2)], torch=lambda torch, d: torch.nn.Softmax(0)),
    LayerCase("softmax-1", lambda d: nn.Softmax(1), [(3, 4, 2)], torch=lambda torch, d: torch.nn.Softmax(1)),
    LayerCase("softmax-2", lambda d: nn.Softmax(2), [(3, 4, 2)], torch=lambda torch, d: torch.nn.Softmax(2)),
    LayerCase("softmax-neg", lambda d: nn.Softmax(-2), [(3, 4, 2)], torch=lambda torch, d: torch.nn.Softmax(-2)),
    # dropout.py
    LayerCase("dropout-train", lambda d: nn.Dropout(0.4, rng=0), [(6, 5)], random=True),
    LayerCase("dropout-eval", lambda d: nn.Dropout(0.4, rng=0), [(6, 5)], "eval", torch=lambda torch, d: torch.nn.Dropout(0.4)),
    # normalization.py (BatchNorm's input-gradient parity is in test_nn_parity.py, with the scale of its terms)
    LayerCase("batchnorm-2d-train", _bn(), [(6, 3)]),
    LayerCase("batchnorm-2d-eval", _bn(), [(6, 3)], "eval", torch=_torch_bn()),
    LayerCase("batchnorm-3d-train", _bn(), [(4, 3, 5)]),
    LayerCase("batchnorm-3d-eval", _bn(), [(4, 3, 5)], "eval", torch=_torch_bn()),
    LayerCase("batchnorm-no-affine-train", _bn(affine=False), [(5, 3, 2)]),
    LayerCase("batchnorm-no-affine-eval", _bn(affine=False), [(5, 3, 2)], "eval", torch=_torch_bn(affine=False)),
    LayerCase("batchnorm-no-stats-train", _bn(track_running_stats=False), [(6, 3)]),
    LayerCase("batchnorm-no-stats-eval", _bn(track_running_stats=False), [(6, 3)], "eval"),
    LayerCase("batchnorm-momentum-none-train", _bn(momentum=None), [(4, 3, 2)]),
    LayerCase("batchnorm-momentum-none-eval", _bn(momentum=None), [(4, 3, 2)], "eval", torch=_torch_bn(momentum=None)),
    # embedding.py
    LayerCase("embedding", lambda d: nn.Embedding(7, 4, dtype=d, rng=0), [Ids(7, (3, 5))],
              torch=lambda torch, d: torch.nn.Embedding(7, 4, dtype=d)),
    # the padding row's gradient is zero by definition, not by calculus: its own tests are in test_embedding.py
    LayerCase("embedding-padding", lambda d: nn.Embedding(7, 4, padding_idx=0, dtype=d, rng=0), [Ids(7, (3, 5), low=1)],
              torch=lambda torch, d: torch.nn.Embedding(7, 4, padding_idx=0, dtype=d)),
    # rnn_cells.py: one step, (batch, input_size) and the state (batch, hidden_size)
    # the RBM's forward is p(h = 1 | v), a sigmoid layer (its visible bias serves only the energy: zero gradient)
    LayerCase("rbm", lambda d: RBM(4, 3, dtype=d, rng=0), [(5, 4)], skips_input_grad=True),
    LayerCase("rnn-cell", inputs=[(3, 4)], **_recurrent("RNNCell", 4, 5)),
    LayerCase("rnn-cell-relu-hx", inputs=[(3, 4), (3, 5)], **_recurrent("RNNCell", 4, 5, nonlinearity="relu")),
    LayerCase("rnn-cell-unbatched-hx", inputs=[(4,), (5,)], **_recurrent("RNNCell", 4, 5)),
    LayerCase("lstm-cell", inputs=[(3, 4)], **_recurrent("LSTMCell", 4, 5)),
    LayerCase("lstm-cell-hx", inputs=[(3, 4), ((3, 5), (3, 5))], **_recurrent("LSTMCell", 4, 5)),
    LayerCase("lstm-cell-no-bias-unbatched", inputs=[(4,), ((5,), (5,))], **_recurrent("LSTMCell", 4, 5, bias=False)),
    LayerCase("gru-cell", inputs=[(3, 4)], **_recurrent("GRUCell", 4, 5)),
    LayerCase("gru-cell-hx", inputs=[(3, 4), (3, 5)], **_recurrent("GRUCell", 4, 5)),
    LayerCase("gru-cell-unbatched-no-bias", inputs=[(4,), (5,)], **_recurrent("GRUCell", 4, 5, bias=False)),
    # recurrent.py: (seq_len, batch, input_size) unless batch_first
    LayerCase("rnn", inputs=[(4, 2, 3)], **_recurrent("RNN", 3, 5)),  # the default layout: (seq_len, batch, features)
    LayerCase("rnn-relu-2-layers", inputs=[(4, 2, 3)], **_recurrent("RNN", 3, 5, num_layers=2, nonlinearity="relu", batch_first=False)),
    LayerCase("rnn-bidirectional-h0", inputs=[(2, 4, 3), (2, 2, 5)], **_recurrent("RNN", 3, 5, bidirectional=True, batch_first=True)),
    LayerCase("rnn-unbatched", inputs=[(4, 3)], **_recurrent("RNN", 3, 5, batch_first=False)),
    LayerCase("lstm", inputs=[(4, 2, 3)], **_recurrent("LSTM", 3, 5)),
    LayerCase("lstm-2-layers-bidirectional", inputs=[(3, 2, 2)],
              **_recurrent("LSTM", 2, 3, num_layers=2, bidirectional=True, batch_first=False)),
    LayerCase("lstm-batch-first-state", inputs=[(2, 4, 3), ((1, 2, 5), (1, 2, 5))], **_recurrent("LSTM", 3, 5, batch_first=True)),
    LayerCase("lstm-no-bias", inputs=[(4, 2, 3)], **_recurrent("LSTM", 3, 5, bias=False, batch_first=False)),
    LayerCase("gru", inputs=[(4, 2, 3)], **_recurrent("GRU", 3, 5)),
    LayerCase("gru-2-layers-h0", inputs=[(3, 2, 2), (2, 2, 3)], **_recurrent("GRU", 2, 3, num_layers=2, batch_first=False)),
    LayerCase("gru-unbatched", inputs=[(4, 3)], **_recurrent("GRU", 3, 5, batch_first=False)),
    # convolution family (random configurations and optimizer steps: tests/oracle/test_conv_parity.py)
    LayerCase("conv2d", inputs=[(2, 2, 5, 6)], **_same_args("Conv2d", 2, 3, 3)),
    LayerCase("conv2d-stride-pad-dilation", inputs=[(1, 2, 7, 5)],
              **_same_args("Conv2d", 2, 4, (2, 3), stride=(2, 1), padding=(1, 2), dilation=(2, 1))),
    LayerCase("conv2d-groups-same-no-bias", inputs=[(2, 4, 4, 5)],
              **_same_args("Conv2d", 4, 6, 3, padding="same", groups=2, bias=False)),
    LayerCase("conv2d-same-even-kernel", inputs=[(2, 1, 5, 9)], **_same_args("Conv2d", 1, 2, (2, 4), padding="same", dilation=(1, 2))),
    LayerCase("conv1d", inputs=[(2, 3, 11)], **_same_args("Conv1d", 3, 2, 4, stride=3, padding=2)),
    LayerCase("conv1d-depthwise-valid", inputs=[(1, 3, 9)], **_same_args("Conv1d", 3, 3, 3, groups=3, padding="valid", dilation=2)),
    LayerCase("maxpool2d", inputs=[(2, 3, 5, 7)], **_same_args("MaxPool2d", 2)),  # the fast path, odd sizes cropped
    LayerCase("maxpool2d-overlap-pad-ceil", inputs=[(2, 2, 6, 7)], **_same_args("MaxPool2d", 3, 2, padding=1, ceil_mode=True)),
    LayerCase("maxpool2d-dilated", inputs=[(1, 2, 6, 7)], **_same_args("MaxPool2d", (2, 3), stride=(1, 2), dilation=(2, 1))),
    LayerCase("maxpool1d-ceil", inputs=[(2, 3, 8)], **_same_args("MaxPool1d", 3, 2, padding=1, ceil_mode=True)),
    LayerCase("avgpool2d", inputs=[(2, 3, 4, 6)], **_same_args("AvgPool2d", 2)),
    LayerCase("avgpool2d-pad-exclude-ceil", inputs=[(2, 2, 6, 5)],
              **_same_args("AvgPool2d", 3, 2, padding=1, ceil_mode=True, count_include_pad=False)),
    LayerCase("avgpool1d-pad-ceil", inputs=[(1, 2, 10)], **_same_args("AvgPool1d", 4, 3, padding=2, ceil_mode=True)),
    LayerCase("adaptiveavgpool2d", inputs=[(2, 2, 7, 5)], **_same_args("AdaptiveAvgPool2d", (3, 2))),
    LayerCase("conv2d-unbatched", inputs=[(2, 5, 4)], **_same_args("Conv2d", 2, 3, 3, padding=1)),
    LayerCase("conv1d-unbatched", inputs=[(3, 9)], **_same_args("Conv1d", 3, 2, 3, stride=2)),
    LayerCase("maxpool2d-unbatched", inputs=[(2, 4, 6)], **_same_args("MaxPool2d", 2)),
    LayerCase("avgpool1d-unbatched", inputs=[(2, 7)], **_same_args("AvgPool1d", 3, 2, padding=1)),
    LayerCase("adaptiveavgpool2d-unbatched", inputs=[(2, 5, 6)], **_same_args("AdaptiveAvgPool2d", 2)),
    LayerCase("batchnorm2d-train", lambda d: nn.BatchNorm2d(3, dtype=d), [(2, 3, 3, 4)]),
    LayerCase("batchnorm2d-eval", lambda d: nn.BatchNorm2d(3, dtype=d), [(2, 3, 3, 4)], "eval",
              torch=lambda torch, d: torch.nn.BatchNorm2d(3, dtype=d)),
    LayerCase("dropout2d-train", lambda d: nn.Dropout2d(0.4, rng=0), [(3, 4, 2, 3)], random=True),
    LayerCase("dropout2d-eval", lambda d: nn.Dropout2d(0.4, rng=0), [(3, 4, 2, 3)], "eval",
              torch=lambda torch, d: torch.nn.Dropout2d(0.4)),
    # the Transformer family; masks, the packed self-attention path (query is key is value) and
    # the weights' own gradient are in tests/nn/test_attention.py and tests/oracle/test_attention_parity.py
    LayerCase("layernorm", lambda d: nn.LayerNorm(4, dtype=d), [(3, 4)], torch=lambda torch, d: torch.nn.LayerNorm(4, dtype=d)),
    LayerCase("layernorm-2d-shape-no-bias", lambda d: nn.LayerNorm((2, 3), bias=False, dtype=d), [(4, 2, 3)],
              torch=lambda torch, d: torch.nn.LayerNorm((2, 3), bias=False, dtype=d)),
    LayerCase("layernorm-no-affine", lambda d: nn.LayerNorm(5, elementwise_affine=False, dtype=d), [(2, 3, 5)],
              torch=lambda torch, d: torch.nn.LayerNorm(5, elementwise_affine=False, dtype=d)),
    LayerCase("gelu", lambda d: nn.GELU(), [(4, 3)], torch=lambda torch, d: torch.nn.GELU()),
    LayerCase("gelu-tanh", lambda d: nn.GELU("tanh"), [(4, 3)], torch=lambda torch, d: torch.nn.GELU("tanh")),
    LayerCase("multihead-attention", lambda d: nn.MultiheadAttention(4, 2, dtype=d, rng=0), [(3, 2, 4), (5, 2, 4), (5, 2, 4)],
              torch=lambda torch, d: torch.nn.MultiheadAttention(4, 2, dtype=d), weight_range=(-0.6, 0.6)),
    LayerCase("multihead-attention-batch-first-kdim-vdim",
              lambda d: nn.MultiheadAttention(4, 2, kdim=3, vdim=5, batch_first=True, dtype=d, rng=0), [(2, 3, 4), (2, 5, 3), (2, 5, 5)],
              torch=lambda torch, d: torch.nn.MultiheadAttention(4, 2, kdim=3, vdim=5, batch_first=True, dtype=d),
              weight_range=(-0.6, 0.6)),
    LayerCase("multihead-attention-unbatched-no-bias", lambda d: nn.MultiheadAttention(4, 1, bias=False, dtype=d, rng=0),
              [(3, 4), (2, 4), (2, 4)], torch=lambda torch, d: torch.nn.MultiheadAttention(4, 1, bias=False, dtype=d),
              weight_range=(-0.6, 0.6)),
    LayerCase("multihead-attention-dropout-train", lambda d: nn.MultiheadAttention(4, 2, dropout=0.3, dtype=d, rng=0),
              [(3, 2, 4), (3, 2, 4), (3, 2, 4)], random=True, weight_range=(-0.6, 0.6)),
    LayerCase("encoder-layer-post-norm", lambda d: nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, dtype=d, rng=0), [(3, 2, 4)],
              torch=lambda torch, d: torch.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.0, dtype=d), weight_range=(-0.6, 0.6)),
    LayerCase("encoder-layer-pre-norm-gelu-eval",
              lambda d: nn.TransformerEncoderLayer(4, 2, 6, dropout=0.1, activation="gelu", norm_first=True, batch_first=True,
                                                   dtype=d, rng=0), [(2, 3, 4)], "eval",
              torch=lambda torch, d: torch.nn.TransformerEncoderLayer(4, 2, 6, dropout=0.1, activation="gelu", norm_first=True,
                                                                      batch_first=True, dtype=d), weight_range=(-0.6, 0.6)),
    LayerCase("encoder-layer-dropout-train", lambda d: nn.TransformerEncoderLayer(4, 2, 6, dropout=0.2, dtype=d, rng=0),
              [(3, 2, 4)], random=True, weight_range=(-0.6, 0.6)),
    LayerCase("decoder-layer", lambda d: nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, dtype=d, rng=0), [(3, 2, 4), (5, 2, 4)],
              torch=lambda torch, d: torch.nn.TransformerDecoderLayer(4, 2, 6, dropout=0.0, dtype=d), weight_range=(-0.6, 0.6)),
    LayerCase("positional-encoding", lambda d: nn.PositionalEncoding(4, max_len=8, dtype=d), [(5, 2, 4)]),
    LayerCase("learned-positional-encoding", lambda d: nn.LearnedPositionalEncoding(4, max_len=8, batch_first=True, dtype=d, rng=0),
              [(2, 5, 4)]),
]
def _pyg(cls: str, *args, **kwargs):
    """PyTorch Geometric's layer of that name (the parity test skips cleanly without torch_geometric)."""

    def build(torch, dtype):
        import pytest

        return getattr(pytest.importorskip("torch_geometric.nn"), cls)(*args, **kwargs).to(dtype)

    return build


def _graph(cls: str, *args, **kwargs):
    """Our graph layer and PyG's twin, on 9 nodes with 30 random edges (repeats and self-loops likely)."""
    return dict(
        make=lambda dtype: getattr(nn, cls)(*args, dtype=dtype, rng=0, **kwargs),
        inputs=[(9, 5), Ids(9, (2, 30))],
        torch=_pyg(cls, *args, **kwargs),
        skips_input_grad=True,
    )


CASES += [
    # graph.py, graph_attention.py (more graphs, isolated nodes and PyG's options: tests/nn/test_graph.py)
    LayerCase("gcn-conv", **_graph("GCNConv", 5, 3)),
    LayerCase("gcn-conv-sum", **_graph("GCNConv", 5, 3, normalize=False, bias=False)),
    LayerCase("gat-conv-heads", **_graph("GATConv", 5, 3, heads=2)),
    LayerCase("gat-conv-mean", **_graph("GATConv", 5, 3, heads=2, concat=False, negative_slope=0.1)),
    LayerCase("gat-conv-dropout-train", lambda d: nn.GATConv(5, 3, heads=2, dropout=0.3, dtype=d, rng=0),
              [(9, 5), Ids(9, (2, 30))], random=True, skips_input_grad=True),
    LayerCase("sage-conv", **_graph("SAGEConv", 5, 3)),
    LayerCase("sage-conv-max", **_graph("SAGEConv", 5, 3, aggr="max")),
    LayerCase("elu", lambda d: nn.ELU(0.7), [(4, 3)], torch=lambda torch, d: torch.nn.ELU(0.7)),
]

DETERMINISTIC = [case for case in CASES if not case.random]
WITH_TORCH = [case for case in CASES if case.torch is not None]


def case_id(case: LayerCase) -> str:
    return case.id


def build(case: LayerCase, dtype, seed: int = 0) -> nn.Module:
    """The case's module with random parameters, running stats warmed up, in the case's mode."""
    rng = np.random.default_rng(seed)
    module = case.make(dtype)
    for name, param in module.named_parameters():
        # BatchNorm's weight starts at 1 and its bias at 0: move them off those values
        is_weight = name.split(".")[-1].startswith("weight")
        param.data[...] = rng.uniform(*case.weight_range, param.shape) if is_weight else rng.standard_normal(param.shape)
    if getattr(module, "track_running_stats", False):
        module.train()
        for _ in range(3):
            module(*make_inputs(case, dtype, seed=seed + 10))
    module.train(case.mode == "train")
    return module


def _make_input(spec, dtype, rng: np.random.Generator):
    if isinstance(spec, Ids):
        return rng.integers(spec.low, spec.high, spec.shape)
    if all(isinstance(n, int) for n in spec):  # a shape
        x = rng.standard_normal(spec)
        return (x + 0.1 * np.sign(x)).astype(dtype)  # at least 0.1 from ReLU's kink
    return tuple(_make_input(inner, dtype, rng) for inner in spec)


def make_inputs(case: LayerCase, dtype, seed: int = 1) -> tuple:
    """The forward arguments of the case, drawn from ``seed``."""
    rng = np.random.default_rng(seed)
    return tuple(_make_input(spec, dtype, rng) for spec in case.inputs)


def map_tree(fn: Callable[[np.ndarray], Any], tree: Any) -> Any:
    """``fn`` applied to every float array of a nested tuple (an output, a gradient); others become None."""
    if isinstance(tree, (tuple, list)):
        return tuple(map_tree(fn, item) for item in tree)
    return fn(tree) if isinstance(tree, np.ndarray) and tree.dtype.kind == "f" else None


def float_leaf_names(inputs: tuple) -> list[str]:
    """gradcheck's names of the float inputs: ``input 0``, ``input 1[0]``, ..."""

    def walk(tree, path):
        if isinstance(tree, (tuple, list)):
            for index, item in enumerate(tree):
                yield from walk(item, f"{path}[{index}]")
        elif isinstance(tree, np.ndarray) and tree.dtype.kind == "f":
            yield path

    return [name for position, x in enumerate(inputs) for name in walk(x, f"input {position}")]


def leaves(tree: Any) -> list:
    """The leaves of a nested tuple, in order (None included)."""
    if isinstance(tree, (tuple, list)):
        return [leaf for item in tree for leaf in leaves(item)]
    return [tree]
