"""Recurrent sequence models: a recurrent layer (RNN, LSTM or GRU) read out by a Linear head.

:class:`SequenceModel` is the generic piece the recurrent toys share: a
classifier or regressor that reads a whole sequence and answers once (``readout
='last'``: parity of a bit string, the adding problem), or answers at every
step (``readout='all'``: running parity, a character-level language model).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import nn
from ..utils import RngLike, as_rng, check_choice, check_float, check_int, resolve_dtype

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
READOUTS = ("last", "all")


class SequenceModel(nn.Module):
    """A recurrent layer followed by a Linear head on its hidden states.

    Parameters
    ----------
    cell : {'rnn', 'lstm', 'gru'}
        The recurrent layer: :class:`dltoys.nn.RNN` (Elman), :class:`~dltoys.nn.LSTM`
        or :class:`~dltoys.nn.GRU`.
    input_size : int
        Features per time step (1 for a bit string read one bit per step).
    hidden_size : int
        Width of the hidden state of every recurrent layer.
    output_size : int
        Outputs of the head: 1 for a binary label or a regression target (logits
        or values), the vocabulary size for a language model.
    num_layers : int, default 1
        Stacked recurrent layers.
    readout : {'last', 'all'}, default 'last'
        ``'last'``: the head reads the last layer's hidden state after the final
        step, output ``(B, output_size)``. ``'all'``: the head reads every step's
        hidden state, output ``(B, T, output_size)``.
    nonlinearity : {'tanh', 'relu'}, default 'tanh'
        For ``cell='rnn'`` only.
    dropout : float in [0, 1), default 0
        Dropout between stacked recurrent layers (``num_layers > 1``).
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Draws the initial weights of the recurrent layer, then of the head
        (PyTorch's default initialisation for both), and the dropout masks.

    Attributes
    ----------
    rnn : RNN, LSTM or GRU (``batch_first=True``)
    head : Linear(hidden_size, output_size)
    final_state : array or tuple of arrays
        The recurrent layer's final state of the latest forward, ``h_n`` of shape
        ``(num_layers, B, hidden_size)`` (LSTM: ``(h_n, c_n)``): pass it as ``hx``
        to the next forward to carry the state across chunks of a long stream or
        while sampling one step at a time. It is a new array, so carrying it over
        also cuts the gradient there (truncated backpropagation through time).

    Notes
    -----
    With ``h_t`` the last layer's hidden state at step ``t`` (``t = 1..T``) and
    the head ``y = h W^T + b``:

    - ``readout='last'``: ``y = h_T W^T + b``. Backward puts
      ``dL/dh_T = dL/dy W`` into the gradient of the final state and lets the
      recurrent layer carry it back through time (BPTT):
      ``dL/dh_{t-1} = (dL/dh_t) (dh_t/dh_{t-1})``, the recurrent weight applied
      once per step.
    - ``readout='all'``: ``y_t = h_t W^T + b`` for every ``t``; each step's
      ``dL/dh_t = dL/dy_t W`` enters the recurrent layer's backward as the
      gradient of its output sequence, where it adds to what flows back from
      later steps.

    The head's weight gradient sums over every position it read (``B`` rows, or
    ``B * T`` rows with ``'all'``).

    References
    ----------
    Elman (1990), Finding structure in time. Hochreiter & Schmidhuber (1997),
    Long short-term memory. Cho et al. (2014), Learning phrase representations
    using RNN encoder-decoder. Werbos (1990), Backpropagation through time: what
    it does and how to do it.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        output_size: int,
        num_layers: int = 1,
        readout: str = "last",
        nonlinearity: str = "tanh",
        dropout: float = 0.0,
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__()
        self.cell = check_choice("cell", cell, tuple(CELLS))
        self.readout = check_choice("readout", readout, READOUTS)
        check_int("output_size", output_size, minimum=1)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False)
        self.dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        kwargs: dict[str, Any] = {"num_layers": num_layers, "dropout": dropout, "batch_first": True}
        if self.cell == "rnn":
            kwargs["nonlinearity"] = check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        elif nonlinearity != "tanh":
            raise ValueError(f"nonlinearity: only cell='rnn' takes one, received {nonlinearity!r} with cell={cell!r}")
        self.rnn = CELLS[self.cell](input_size, hidden_size, dtype=self.dtype, rng=rng, **kwargs)
        self.head = nn.Linear(hidden_size, output_size, dtype=self.dtype, rng=rng)
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, output_size
        self.num_layers = num_layers
        self.final_state: Any = None

    def extra_repr(self) -> str:
        return f"cell={self.cell!r}, readout={self.readout!r}"

    @property
    def needs_input_grad(self) -> bool:
        """Handed to the recurrent layer, the one that reads the input (see :class:`~dltoys.nn.Module`)."""
        return self.rnn.needs_input_grad

    @needs_input_grad.setter
    def needs_input_grad(self, value: bool) -> None:
        self.rnn.needs_input_grad = bool(value)

    def to(self, dtype: Any) -> "SequenceModel":
        """Convert in place (see :meth:`Module.to`); the carried final state is dropped with the caches."""
        self.final_state = None
        return super().to(dtype)

    def forward(self, x: Any, hx: Any = None) -> np.ndarray:
        """Read the sequences and apply the head.

        Parameters
        ----------
        x : array of shape (B, T, input_size)
            Any numeric dtype (uint8 bits are cast batch by batch).
        hx : array, tuple (LSTM) or None
            Initial state, as :class:`dltoys.nn.RNN` takes it; zeros when None.

        Returns
        -------
        ndarray of shape (B, output_size) with ``readout='last'``,
        (B, T, output_size) with ``readout='all'``.
        """
        shape = np.shape(x)
        if len(shape) != 3:
            raise ValueError(
                f"{type(self).__name__}: expected x of shape (batch, seq_len, {self.input_size}), received {shape}"
            )
        hidden, self.final_state = self.rnn(x, hx)  # (B, T, H), state
        last = self.readout == "last"
        features = hidden[:, -1] if last else hidden  # (B, H) or (B, T, H)
        self._cache = hidden.shape[0]  # the batch size: backward builds dL/dh_n from it
        return self.head(features)  # (B, O) or (B, T, O)

    def backward(self, grad_out: np.ndarray) -> Any:
        """Backpropagate through the head and through time.

        Parameters
        ----------
        grad_out : array shaped like the forward output

        Returns
        -------
        dx : ndarray of shape (B, T, input_size)
            Returned alone when forward had no ``hx``; otherwise ``(dx, dhx)``
            with ``dhx`` shaped like ``hx``.
        """
        batch = self._saved()
        grad_features = self.head.backward(grad_out)  # (B, H) or (B, T, H)
        if self.readout == "all":
            return self.rnn.backward(grad_features)
        # Only the final step is read: its gradient enters as that of the final
        # state h_n (the last layer's row), the other steps' output gradient is zero.
        grad_h_n = np.zeros((self.num_layers, batch, self.hidden_size), dtype=self.dtype)  # (L, B, H)
        grad_h_n[-1] = grad_features
        grad_state = (grad_h_n, None) if self.cell == "lstm" else grad_h_n
        return self.rnn.backward((None, grad_state))
