"""dltoys: every classic neural network, built from scratch in NumPy.

Subpackages (imports flow downwards only):

- ``dltoys.nn``     Module, Parameter and every layer and loss (the ground floor)
- ``dltoys.optim``  optimizers, learning-rate schedules, gradient clipping
- ``dltoys.data``   synthetic generators, bundled-data loaders, the minibatch iterator
- ``dltoys.train``  the training loop, callbacks, metrics, safe checkpoints
- ``dltoys.models`` one file per algorithm family
- ``dltoys.plot``   figures
- ``dltoys.toys``   the runnable experiments behind ``dltoys run`` and ``dltoys tour``
"""

__version__ = "0.1.0"
