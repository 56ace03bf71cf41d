"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .base import ConvergenceWarning, DataConversionWarning, NotFittedError
from .charlm import CharLM, stream_chunks
from .gnn import GAT, GCN, NodeClassificationStep, masked_accuracy
from .logistic import LogisticRegression
from .mlp import MLP, MLPClassifier, MLPRegressor
from .perceptron import Perceptron, PerceptronCriterion, novikoff_bound, rosenblatt_epoch, rosenblatt_epoch_blocked
from .rnn import SequenceModel

__all__ = [
    "CharLM",
    "ConvergenceWarning",
    "DataConversionWarning",
    "GAT",
    "GCN",
    "LogisticRegression",
    "MLP",
    "MLPClassifier",
    "MLPRegressor",
    "NodeClassificationStep",
    "NotFittedError",
    "Perceptron",
    "PerceptronCriterion",
    "SequenceModel",
    "masked_accuracy",
    "novikoff_bound",
    "rosenblatt_epoch",
    "rosenblatt_epoch_blocked",
    "stream_chunks",
]
