"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .charlm import CharLM, stream_chunks
from .cnn import CNN, CNNClassifier
from .logistic import LogisticRegression
from .mlp import MLP
from .perceptron import Perceptron, PerceptronFit, novikoff_bound
from .rnn import SequenceModel

__all__ = [
    "CNN",
    "CNNClassifier",
    "CharLM",
    "LogisticRegression",
    "MLP",
    "Perceptron",
    "PerceptronFit",
    "SequenceModel",
    "novikoff_bound",
    "stream_chunks",
]
