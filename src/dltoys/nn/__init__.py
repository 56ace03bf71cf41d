"""dltoys.nn: Module, Parameter and every layer and loss, with PyTorch's names.

The ground floor of dltoys: it imports nothing of dltoys but its own files (and
the basement ``dltoys.utils``).
"""

from . import double_backward, functional, init
from .activation import ELU, GELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .attention import MultiheadAttention
from .conv import Conv1d, Conv2d
from .dropout import Dropout, Dropout2d
from .embedding import Embedding
from .graph import EdgeIndex, GCNConv, MessagePassing, SAGEConv
from .graph_attention import GATConv
from .linear import Flatten, Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential, eval_mode
from .normalization import BatchNorm1d, BatchNorm2d, LayerNorm
from .pooling import AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d
from .recurrent import GRU, LSTM, RNN, RNNBase
from .rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase
from .transformer import (
    LearnedPositionalEncoding,
    PositionalEncoding,
    TransformerDecoderLayer,
    TransformerEncoder,
    TransformerEncoderLayer,
)

__all__ = [
    "AdaptiveAvgPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "BatchNorm1d",
    "BatchNorm2d",
    "BCELoss",
    "BCEWithLogitsLoss",
    "Conv1d",
    "Conv2d",
    "CrossEntropyLoss",
    "double_backward",
    "Dropout",
    "Dropout2d",
    "EdgeIndex",
    "ELU",
    "Embedding",
    "eval_mode",
    "Flatten",
    "functional",
    "GATConv",
    "GCNConv",
    "GELU",
    "GRU",
    "GRUCell",
    "Identity",
    "init",
    "LayerNorm",
    "LeakyReLU",
    "LearnedPositionalEncoding",
    "Linear",
    "Loss",
    "LSTM",
    "LSTMCell",
    "MaxPool1d",
    "MaxPool2d",
    "MessagePassing",
    "Module",
    "ModuleDict",
    "ModuleList",
    "MSELoss",
    "MultiheadAttention",
    "Parameter",
    "PositionalEncoding",
    "ReLU",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "SAGEConv",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "TransformerDecoderLayer",
    "TransformerEncoder",
    "TransformerEncoderLayer",
]
