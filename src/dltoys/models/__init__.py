"""dltoys.models: one file per algorithm family, built from dltoys.nn."""

from .base import ConvergenceWarning, DataConversionWarning, NotFittedError
from .charlm import CharLM, stream_chunks
from .cnn import CNN, CNNClassifier
from .grnn import GRNN, PNN
from .dbn import DBN
from .gan import GAN, WGANGP, GANStep, WGANGPStep
from .gnn import GAT, GCN, NodeClassificationStep, masked_accuracy
from .logistic import LogisticRegression
from .mlp import MLP, MLPClassifier, MLPRegressor
from .perceptron import Perceptron, RosenblattStep, novikoff_bound, rosenblatt_epoch, rosenblatt_epoch_blocked
from .bernoulli_rbm import BernoulliRBM, OutOfRangeWarning
from .rbm import RBM, CDStep
from .rnn import SequenceModel
from .transformer import GPT
from .semisupervised import LabelPropagation, LabelSpreading, SelfTrainingClassifier
from .som import SOM, SOMGrid, SOMStep

__all__ = [
    "BernoulliRBM",
    "CDStep",
    "CharLM",
    "CNN",
    "CNNClassifier",
    "ConvergenceWarning",
    "DataConversionWarning",
    "DBN",
    "GAN",
    "GANStep",
    "GAT",
    "GCN",
    "GPT",
    "GRNN",
    "LabelPropagation",
    "LabelSpreading",
    "LogisticRegression",
    "masked_accuracy",
    "MLP",
    "MLPClassifier",
    "MLPRegressor",
    "NodeClassificationStep",
    "NotFittedError",
    "novikoff_bound",
    "OutOfRangeWarning",
    "Perceptron",
    "RosenblattStep",
    "PNN",
    "RBM",
    "rosenblatt_epoch",
    "rosenblatt_epoch_blocked",
    "SelfTrainingClassifier",
    "SequenceModel",
    "SOM",
    "SOMGrid",
    "SOMStep",
    "stream_chunks",
    "WGANGP",
    "WGANGPStep",
]
