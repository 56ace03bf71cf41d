"""dltoys.optim: optimizers, learning-rate schedules and gradient clipping.

- Gradient-based (call ``loss.backward`` first): :class:`SGD`, :class:`RMSprop`,
  :class:`Adam`, :class:`AdamW`, with PyTorch's update rules bit for bit.
- Gradient-free baselines (``step(closure)`` evaluates the loss):
  :class:`RandomSearch`, :class:`HillClimb`.
- Schedules that set ``optimizer.lr``: ``lr_scheduler.StepLR``, ``MultiStepLR``,
  ``ExponentialLR``, ``CosineAnnealingLR``, ``LinearLR``, ``LambdaLR``.
- :func:`clip_grad_norm_`.

Optimizers see only :class:`~dltoys.nn.Parameter` objects; their state lives
in lists parallel to ``optimizer.params``, never on the layers.
"""

from . import lr_scheduler
from .adam import Adam, AdamW
from .clip_grad import clip_grad_norm_
from .gradient_free import GradientFreeOptimizer, HillClimb, RandomSearch
from .lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    StepLR,
)
from .optimizer import Optimizer, OptimizerDict
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "Adam",
    "AdamW",
    "CosineAnnealingLR",
    "ExponentialLR",
    "GradientFreeOptimizer",
    "HillClimb",
    "LRScheduler",
    "LambdaLR",
    "LinearLR",
    "MultiStepLR",
    "Optimizer",
    "OptimizerDict",
    "RMSprop",
    "RandomSearch",
    "SGD",
    "StepLR",
    "clip_grad_norm_",
    "lr_scheduler",
]
