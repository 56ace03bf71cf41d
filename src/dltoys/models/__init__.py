"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .mlp import MLP
from .perceptron import Perceptron, PerceptronFit
from .rnn import SequenceModel

__all__ = ["MLP", "Perceptron", "PerceptronFit", "SequenceModel"]
