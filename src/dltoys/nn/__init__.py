"""dltoys.nn: Module, Parameter and every layer and loss, with PyTorch's names.

The ground floor of dltoys: it imports nothing of dltoys but its own files (and
the basement ``dltoys.utils``).
"""

from . import functional, init
from .activation import LeakyReLU, ReLU, Sigmoid, Softmax, Tanh
from .dropout import Dropout
from .linear import Flatten, Identity, Linear
from .loss import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, Loss, MSELoss
from .module import Module, ModuleList, Parameter, Sequential
from .normalization import BatchNorm1d

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "BatchNorm1d",
    "CrossEntropyLoss",
    "Dropout",
    "Flatten",
    "Identity",
    "LeakyReLU",
    "Linear",
    "Loss",
    "MSELoss",
    "Module",
    "ModuleList",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "Tanh",
    "functional",
    "init",
]
