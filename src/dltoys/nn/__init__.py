"""dltoys.nn: Module, Parameter and every layer and loss, with PyTorch's names.

The ground floor of dltoys: it imports nothing of dltoys but its own files (and
the basement ``dltoys.utils``).
"""

from . import functional, init
from .activation import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .dropout import Dropout
from .embedding import Embedding
from .linear import Flatten, Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .module import Module, ModuleDict, ModuleList, Parameter, Sequential, eval_mode
from .normalization import BatchNorm1d
from .recurrent import GRU, LSTM, RNN, RNNBase

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Embedding",
    "Flatten",
    "GRU",
    "Identity",
    "LSTM",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "Parameter",
    "RNN",
    "RNNBase",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "eval_mode",
    "functional",
    "init",
]
