"""Embedding: a lookup table from integer ids to learned vectors (``torch.nn.Embedding``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..utils import RngLike, as_rng, check_bool, check_int, resolve_dtype
from . import init
from .module import Module, Parameter, check_grad_out


class Embedding(Module):
    """A table of ``num_embeddings`` vectors; integer ids in, their vectors out.

    Parameters
    ----------
    num_embeddings : int
        Size of the table ``V`` (the vocabulary); ids are ``0 .. V - 1``.
    embedding_dim : int
        Length ``D`` of each vector.
    padding_idx : int or None, default None
        An id whose row is initialised to zeros and never receives a gradient
        (a padding token stays a zero vector). Negative values count from the
        end, as in PyTorch: ``padding_idx = V + padding_idx``.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Draws the initial table, ``N(0, 1)`` for every entry (PyTorch's init).

    Attributes
    ----------
    weight : Parameter of shape (num_embeddings, embedding_dim)
        State-dict key ``weight``, as PyTorch.

    Shapes
    ------
    input: integer ids of any shape ``(*)``; output ``(*, embedding_dim)``.

    Notes
    -----
    Forward is a row lookup, ``y_p = W[x_p]`` for every position ``p`` of the
    input. The gradient of a row is the sum of the output gradients of the
    positions that read it::

        dL/dW[v] = sum_{p : x_p = v} G_p            (0 for v = padding_idx)

    Ids are not differentiable: ``backward`` returns None.

    The sum is formed by sorting the positions by id (a stable radix sort when
    ids fit in 16 bits) and adding each run of equal ids with one
    ``np.add.reduceat``; every table row is then written once, which beats
    ``np.add.at`` and a one-hot matrix product (timings in ``benchmarks/NOTES.md``).
    ``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not implemented.

    References
    ----------
    Bengio, Ducharme, Vincent & Jauvin (2003), A neural probabilistic language
    model (a learned table of word vectors, trained by backpropagation).
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype=None,
        rng: RngLike = None,
    ):
        super().__init__()
        self.num_embeddings = check_int("num_embeddings", num_embeddings, minimum=1)
        self.embedding_dim = check_int("embedding_dim", embedding_dim, minimum=1)
        self.padding_idx = self._check_padding_idx(padding_idx)
        self.dtype = resolve_dtype(dtype)
        weight = init.normal((self.num_embeddings, self.embedding_dim), 1.0, as_rng(rng), self.dtype)
        if self.padding_idx is not None:
            weight[self.padding_idx] = 0
        self.weight = Parameter(weight)

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None) -> "Embedding":
        """An Embedding holding a copy of ``embeddings`` (float32 or float64, shape (V, D)).

        ``freeze=True`` sets ``weight.requires_grad = False``, as PyTorch. The
        padding row is kept as given (PyTorch does not zero it either).
        """
        table = np.asarray(embeddings)
        if table.ndim != 2:
            raise ValueError(f"embeddings: expected a 2-D array (num_embeddings, embedding_dim), received shape {table.shape}")
        layer = cls(*table.shape, padding_idx=padding_idx, dtype=table.dtype, rng=0)
        layer.weight.data[...] = table
        layer.weight.requires_grad = not check_bool("freeze", freeze)
        return layer

    def _check_padding_idx(self, padding_idx: Any) -> int | None:
        if padding_idx is None:
            return None
        padding_idx = check_int("padding_idx", padding_idx)
        V = self.num_embeddings
        if not -V <= padding_idx < V:
            raise ValueError(f"padding_idx: expected an integer in [{-V}, {V - 1}] (num_embeddings={V}), received {padding_idx}")
        return padding_idx % V

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"

    def forward(self, ids: Any) -> np.ndarray:
        """Look up the vectors of ``ids`` (integers of any shape) -> ``(*ids.shape, D)``."""
        ids = np.asarray(ids)
        V = self.num_embeddings
        described = f"Embedding({V}, {self.embedding_dim})"
        if ids.dtype.kind not in "iu":
            raise TypeError(f"{described}: expected integer ids, received dtype {ids.dtype}")
        flat = ids.reshape(-1)  # (N,)
        if flat.size and (flat.min() < 0 or flat.max() >= V):
            bad = flat[(flat < 0) | (flat >= V)][0]
            raise IndexError(f"{described}: id {bad} is out of range; expected ids in [0, {V - 1}]")
        self._cache = (flat, ids.shape)
        return self.weight.data[flat].reshape(*ids.shape, self.embedding_dim)  # (*, D), a new array

    def backward(self, grad_out: Any) -> None:
        """Add ``dL/dW`` into ``weight.grad``; ids have no gradient, so this returns None."""
        flat, shape = self._saved()
        grad_out = check_grad_out(self, grad_out, (*shape, self.embedding_dim), self.dtype)
        if not self.weight.requires_grad or flat.size == 0:
            return None
        grad2d = grad_out.reshape(-1, self.embedding_dim)  # (N, D)
        # Sort positions by id; small tables sort 16-bit keys, which NumPy radix-sorts.
        keys = flat.astype(np.uint16) if self.num_embeddings <= 1 << 16 else flat
        order = np.argsort(keys, kind="stable")  # (N,)
        sorted_ids = flat[order]
        starts = np.flatnonzero(np.concatenate(([True], sorted_ids[1:] != sorted_ids[:-1])))  # (R,) first of each run
        sums = np.add.reduceat(np.take(grad2d, order, axis=0), starts, axis=0)  # (R, D)
        rows = sorted_ids[starts]  # (R,) distinct ids
        if self.padding_idx is not None:
            keep = rows != self.padding_idx
            rows, sums = rows[keep], sums[keep]
        self.weight.grad[rows] += sums  # each row once: plain fancy-index addition is exact here
        return None
