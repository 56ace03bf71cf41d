"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .base import ConvergenceWarning, DataConversionWarning, NotFittedError
from .charlm import CharLM, stream_chunks
from .dbn import DBN
from .gan import GAN, WGANGP, GANStep, WGANGPStep
from .logistic import LogisticRegression
from .mlp import MLP, MLPClassifier, MLPRegressor
from .perceptron import Perceptron, PerceptronCriterion, novikoff_bound, rosenblatt_epoch, rosenblatt_epoch_blocked
from .rbm import RBM, BernoulliRBM, CDStep, OutOfRangeWarning
from .rnn import SequenceModel

__all__ = [
    "BernoulliRBM",
    "CDStep",
    "CharLM",
    "ConvergenceWarning",
    "DBN",
    "DataConversionWarning",
    "GAN",
    "GANStep",
    "LogisticRegression",
    "MLP",
    "MLPClassifier",
    "MLPRegressor",
    "NotFittedError",
    "OutOfRangeWarning",
    "Perceptron",
    "PerceptronCriterion",
    "RBM",
    "SequenceModel",
    "WGANGP",
    "WGANGPStep",
    "novikoff_bound",
    "rosenblatt_epoch",
    "rosenblatt_epoch_blocked",
    "stream_chunks",
]
