"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .charlm import CharLM, stream_chunks
from .grnn import GRNN, PNN
from .logistic import LogisticRegression
from .mlp import MLP
from .perceptron import Perceptron, PerceptronFit, novikoff_bound
from .rnn import SequenceModel
from .semisupervised import LabelPropagation, LabelSpreading, SelfTrainingClassifier
from .som import SOM, SOMGrid, SOMStep

__all__ = [
    "CharLM",
    "GRNN",
    "LabelPropagation",
    "LabelSpreading",
    "LogisticRegression",
    "MLP",
    "Perceptron",
    "PNN",
    "PerceptronFit",
    "SOM",
    "SelfTrainingClassifier",
    "SOMGrid",
    "SOMStep",
    "SequenceModel",
    "novikoff_bound",
    "stream_chunks",
]
