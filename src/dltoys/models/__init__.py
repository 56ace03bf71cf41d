"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .charlm import CharLM, stream_chunks
from .logistic import LogisticRegression
from .mlp import MLP
from .perceptron import Perceptron, PerceptronFit, novikoff_bound
from .rnn import SequenceModel
from .transformer import GPT

__all__ = [
    "CharLM",
    "GPT",
    "LogisticRegression",
    "MLP",
    "Perceptron",
    "PerceptronFit",
    "SequenceModel",
    "novikoff_bound",
    "stream_chunks",
]
