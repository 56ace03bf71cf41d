"""dltoys.train: the one training loop, its callbacks and metrics, safe checkpoints.

- :func:`fit` / :class:`Trainer`: minibatch training with a per-epoch shuffle from an
  explicit rng, train/validation metrics per epoch in a :class:`History`, callbacks,
  a progress bar on terminals only, and an error naming the epoch and batch when the
  loss stops being finite. Settings live in :class:`TrainConfig`.
- :func:`evaluate`, :func:`predict`: batched, in eval mode.
- Callbacks: :class:`EarlyStopping`, :class:`StopAtTarget`, :class:`ModelCheckpoint`,
  :class:`LearningRateScheduler`, :class:`ClipGradNorm` (base :class:`Callback`).
- Metrics: :func:`accuracy`, :func:`binary_accuracy`, :func:`binary_accuracy_logits`, :func:`mse`.
- Checkpoints: :func:`save`, :func:`load`, :func:`read` (``.npz`` + JSON, no pickle,
  atomic writes; failures raise :class:`CheckpointError`).
- :func:`tune_allocator`: the glibc malloc setting that :func:`fit` applies by default;
  :func:`blas_threads`: an explicit limit on the BLAS thread pool (busy machines).

``train`` sees modules, losses and optimizers only; it never imports models or toys.
"""

from .allocator import tune_allocator
from .callbacks import Callback, ClipGradNorm, EarlyStopping, LearningRateScheduler, ModelCheckpoint, Monitor, StopAtTarget
from .checkpoint import Checkpoint, CheckpointError, load, read, save
from .config import TrainConfig
from .history import History
from .loop import (
    NonFiniteError,
    NonFiniteLossError,
    NonFiniteParameterError,
    Trainer,
    evaluate,
    fit,
    predict,
)
from .threads import blas_threads
from .metrics import METRICS, accuracy, binary_accuracy, binary_accuracy_logits, mse

__all__ = [
    "blas_threads",
    "METRICS",
    "Callback",
    "Checkpoint",
    "CheckpointError",
    "ClipGradNorm",
    "EarlyStopping",
    "History",
    "LearningRateScheduler",
    "ModelCheckpoint",
    "Monitor",
    "NonFiniteError",
    "NonFiniteLossError",
    "NonFiniteParameterError",
    "StopAtTarget",
    "TrainConfig",
    "Trainer",
    "accuracy",
    "binary_accuracy",
    "binary_accuracy_logits",
    "evaluate",
    "fit",
    "load",
    "mse",
    "predict",
    "read",
    "save",
    "tune_allocator",
]
