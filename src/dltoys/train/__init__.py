"""dltoys.train: the one training loop, its callbacks and metrics, safe checkpoints.

- :class:`Trainer`: the one loop, epochs over any re-iterable source of batches, a
  :class:`Step` per batch that returns the batch's logs; per-epoch means in a
  :class:`History`, validation, callbacks, a progress bar on terminals only, and an
  error naming the value, epoch and batch when a log stops being finite. Settings
  live in :class:`TrainConfig`.
- Steps: :class:`SupervisedStep` (forward, loss, backward, optimizer step),
  :class:`ClosureStep` (gradient-free optimizers); a family with its own update
  subclasses :class:`Step` beside its model.
- :func:`fit`: supervised training on arrays in one call (a :class:`SupervisedStep`
  over minibatches shuffled by an explicit rng). NaN in the data is refused before
  the first epoch; a non-finite validation value raises :class:`NonFiniteValidationError`.
  ``resume=path`` continues a run from a :class:`ModelCheckpoint` file exactly
  (epoch counter, history, generators, callback states: :mod:`dltoys.train.resume`).
- :func:`evaluate`, :func:`predict`: batched, in eval mode.
- Callbacks: :class:`EarlyStopping`, :class:`StopAtTarget`, :class:`ModelCheckpoint`,
  :class:`LearningRateScheduler`, :class:`ClipGradNorm` (base :class:`Callback`).
- Metrics: :func:`accuracy`, :func:`binary_accuracy`, :func:`binary_accuracy_logits`, :func:`mse`.
- Checkpoints: :func:`save`, :func:`load`, :func:`read` (``.npz`` or ``.safetensors``
  + JSON, no pickle, atomic writes, sizes bounded by the model, all-or-nothing loads;
  failures raise :class:`CheckpointError`).
- :func:`tune_allocator`: the glibc malloc setting that :func:`fit` applies by default;
  :func:`blas_threads`: an explicit limit on the BLAS thread pool (busy machines); both
  live in :mod:`dltoys.runtime` (process-wide settings) and are re-exported here.

``train`` sees modules, losses and optimizers only; it never imports models or toys.
"""

from ..runtime import blas_threads, tune_allocator  # re-exported: they live in dltoys.runtime
from .callbacks import Callback, ClipGradNorm, EarlyStopping, LearningRateScheduler, ModelCheckpoint, Monitor, StopAtTarget
from .checkpoint import Checkpoint, CheckpointError, load, read, save
from .config import TrainConfig
from .history import History
from .step import ClosureStep, Step, SupervisedStep
from .bptt import TruncatedBPTTStep
from .errors import NonFiniteError, NonFiniteLossError, NonFiniteParameterError, NonFiniteValidationError
from .evaluate import evaluate, predict
from .loop import Trainer, fit
from .metrics import METRICS, accuracy, binary_accuracy, binary_accuracy_logits, mse

__all__ = [
    "blas_threads",
    "METRICS",
    "Callback",
    "Checkpoint",
    "ClosureStep",
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
    "NonFiniteValidationError",
    "Step",
    "StopAtTarget",
    "SupervisedStep",
    "TrainConfig",
    "Trainer",
    "TruncatedBPTTStep",
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
