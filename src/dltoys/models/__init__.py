"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .charlm import CharLM, stream_chunks
from .gnn import GAT, GCN, NodeClassificationStep, masked_accuracy
from .logistic import LogisticRegression
from .mlp import MLP
from .perceptron import Perceptron, PerceptronFit, novikoff_bound
from .rnn import SequenceModel

__all__ = [
    "CharLM",
    "GAT",
    "GCN",
    "LogisticRegression",
    "MLP",
    "NodeClassificationStep",
    "Perceptron",
    "PerceptronFit",
    "SequenceModel",
    "masked_accuracy",
    "novikoff_bound",
    "stream_chunks",
]
