"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .charlm import CharLM, stream_chunks
from .mlp import MLP
from .perceptron import Perceptron, PerceptronFit
from .rnn import SequenceModel

__all__ = ["CharLM", "MLP", "Perceptron", "PerceptronFit", "SequenceModel", "stream_chunks"]
