"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .base import ConvergenceWarning, DataConversionWarning, NotFittedError
from .charlm import CharLM, stream_chunks
from .logistic import LogisticRegression
from .mlp import MLP, MLPClassifier, MLPRegressor
from .perceptron import Perceptron, PerceptronCriterion, novikoff_bound, rosenblatt_epoch, rosenblatt_epoch_blocked
from .rnn import SequenceModel

__all__ = [
    "CharLM",
    "ConvergenceWarning",
    "DataConversionWarning",
    "LogisticRegression",
    "MLP",
    "MLPClassifier",
    "MLPRegressor",
    "NotFittedError",
    "Perceptron",
    "PerceptronCriterion",
    "SequenceModel",
    "novikoff_bound",
    "rosenblatt_epoch",
    "rosenblatt_epoch_blocked",
    "stream_chunks",
]
