"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .base import ConvergenceWarning, DataConversionWarning, NotFittedError
from .charlm import CharLM, stream_chunks
from .cnn import CNN, CNNClassifier
from .grnn import GRNN, PNN
from .logistic import LogisticRegression
from .mlp import MLP, MLPClassifier, MLPRegressor
from .perceptron import Perceptron, PerceptronCriterion, novikoff_bound, rosenblatt_epoch, rosenblatt_epoch_blocked
from .rnn import SequenceModel
from .transformer import GPT
from .semisupervised import LabelPropagation, LabelSpreading, SelfTrainingClassifier
from .som import SOM, SOMGrid, SOMStep

__all__ = [
    "CNN",
    "CNNClassifier",
    "CharLM",
    "GPT",
    "ConvergenceWarning",
    "DataConversionWarning",
    "GRNN",
    "LabelPropagation",
    "LabelSpreading",
    "LogisticRegression",
    "MLP",
    "MLPClassifier",
    "MLPRegressor",
    "NotFittedError",
    "PNN",
    "Perceptron",
    "PerceptronCriterion",
    "SOM",
    "SOMGrid",
    "SOMStep",
    "SelfTrainingClassifier",
    "SequenceModel",
    "novikoff_bound",
    "rosenblatt_epoch",
    "rosenblatt_epoch_blocked",
    "stream_chunks",
]
