"""The multilayer perceptron: Linear layers with a nonlinearity between them."""

from __future__ import annotations

from typing import Sequence

from .. import nn
from ..utils import RngLike, as_rng, check_choice, check_float, check_int, resolve_dtype

ACTIVATIONS = {
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "relu": nn.ReLU,
    "leaky_relu": nn.LeakyReLU,
    "linear": nn.Identity,
}
OUTPUTS = ("linear", "sigmoid", "softmax")


class MLP(nn.Sequential):
    """A fully connected network of any depth and width.

    Parameters
    ----------
    layer_sizes : sequence of int
        ``(n_inputs, hidden_1, ..., hidden_k, n_outputs)``, at least two entries;
        ``(2, 10, 1)`` is the classic XOR network.
    activation : {'tanh', 'sigmoid', 'relu', 'leaky_relu', 'linear'}, default 'tanh'
        The nonlinearity after every hidden layer. ``'linear'`` makes the whole
        network one affine map, however deep: ``W_k (... (W_1 x + b_1) ...) + b_k
        = W x + b``.
    output : {'linear', 'sigmoid', 'softmax'}, default 'linear'
        What follows the last layer. Keep 'linear' (logits) for training with
        ``BCEWithLogitsLoss`` or ``CrossEntropyLoss``, which fuse the squashing into
        a stable loss; 'sigmoid'/'softmax' give probabilities (``BCELoss``, display).
    dropout : float in [0, 1), default 0
        Dropout after every hidden activation.
    batch_norm : bool, default False
        ``BatchNorm1d`` after every hidden Linear, before the activation.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Draws every layer's initial weights (PyTorch's default initialisation) and
        the dropout masks.

    Notes
    -----
    Layer ``l`` computes ``a_l = f(z_l)``, ``z_l = a_{l-1} W_l^T + b_l``.
    Backpropagation applies the chain rule from the output back:
    ``dL/dz_l = dL/da_l * f'(z_l)``, ``dL/dW_l = (dL/dz_l)^T a_{l-1}``,
    ``dL/da_{l-1} = dL/dz_l W_l``; each layer's ``backward`` is one of these steps.
    The state-dict keys equal those of the same ``torch.nn.Sequential``
    (``'0.weight'``, ``'2.weight'``, ...).

    References
    ----------
    Rumelhart, Hinton & Williams (1986), Learning representations by
    back-propagating errors.
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        activation: str = "tanh",
        output: str = "linear",
        dropout: float = 0.0,
        batch_norm: bool = False,
        dtype=None,
        rng: RngLike = None,
    ):
        sizes = list(layer_sizes) if not isinstance(layer_sizes, (str, bytes)) else []
        if len(sizes) < 2:
            raise ValueError(f"layer_sizes: expected at least (n_inputs, n_outputs), received {layer_sizes!r}")
        sizes = [check_int(f"layer_sizes[{i}]", s, minimum=1) for i, s in enumerate(sizes)]
        check_choice("activation", activation, tuple(ACTIVATIONS))
        check_choice("output", output, OUTPUTS)
        dropout = check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False)
        dtype = resolve_dtype(dtype)
        rng = as_rng(rng)
        layers: list[nn.Module] = []
        for index, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(nn.Linear(n_in, n_out, dtype=dtype, rng=rng))
            if index == len(sizes) - 2:
                break
            if batch_norm:
                layers.append(nn.BatchNorm1d(n_out, dtype=dtype))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout, rng=rng))
        if output == "sigmoid":
            layers.append(nn.Sigmoid())
        elif output == "softmax":
            layers.append(nn.Softmax(dim=-1))
        super().__init__(*layers)
        self.layer_sizes = tuple(sizes)
        self.activation = activation
        self.output = output
        self.dtype = dtype

    def extra_repr(self) -> str:
        return f"layer_sizes={self.layer_sizes}, activation={self.activation!r}, output={self.output!r}"
