"""dltoys.nn: Module, Parameter and every layer and loss, with PyTorch's names.

The ground floor of dltoys: it imports nothing of dltoys but its own files (and
the basement ``dltoys.utils``).
"""

from . import functional, init
from .activation import ELU, LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .dropout import Dropout
from .embedding import Embedding
from .graph import EdgeIndex, GCNConv, MessagePassing, SAGEConv
from .graph_attention import GATConv
from .linear import Flatten, Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential, eval_mode
from .normalization import BatchNorm1d
from .recurrent import GRU, LSTM, RNN, RNNBase
from .rnn_cells import GRUCell, LSTMCell, RNNCell, RNNCellBase

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "ELU",
    "EdgeIndex",
    "Flatten",
    "GATConv",
    "GCNConv",
    "GRU",
    "GRUCell",
    "Identity",
    "LSTM",
    "LSTMCell",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "MessagePassing",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "RNN",
    "RNNBase",
    "RNNCell",
    "RNNCellBase",
    "SAGEConv",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "eval_mode",
    "functional",
    "init",
]
