"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .logistic import LogisticRegression
from .mlp import MLP
from .perceptron import Perceptron, PerceptronFit, novikoff_bound

__all__ = ["MLP", "LogisticRegression", "Perceptron", "PerceptronFit", "novikoff_bound"]
