"""Data as plain NumPy arrays: generated, shipped by a dependency, or read from text.

Nothing here downloads anything, and nothing imports ``dltoys.nn`` or ``dltoys.models``.
Generators take ``n_samples``, ``noise`` (where it means something) and ``rng`` and
return ``(X, y)``: ``X`` float32 by default (``dtype=``), ``y`` int64 class labels
(float targets for the regression-style adding problem).

- Classic toys: :func:`make_blobs`, :func:`make_moons`, :func:`make_circles`,
  :func:`make_spirals` (``synthetic.py``)
- XOR and parity: :func:`make_xor`, :func:`make_parity` (uint8 bits, ``exclude=``
  for disjoint test sets), :func:`parity_truth_table`, :func:`parity_of`,
  :func:`pack_rows` (``parity.py``)
- Sequences: :func:`as_sequences` (rows -> ``(N, T, 1)``), :func:`make_adding`
  (``sequences.py``)
- By name: :func:`make_dataset`, :data:`GENERATORS` (``registry.py``)
- Splits: :func:`train_val_test_split` -> :class:`Split` (``split.py``)
- GAN mixtures: :func:`make_gaussian_mixture` (VEEGAN's ring and grid), :func:`mixture_centers`,
  :func:`mode_coverage` (``mixtures.py``)
- Digits: :func:`load_digits` (scikit-learn's bundled copy, ``digits.py``)
- MNIST-1D: :func:`make_mnist1d` (the reference generator, ``mnist1d.py``)
- IDX files (MNIST, Fashion-MNIST a user has): :func:`read_idx`, :func:`load_idx_images` (``idx.py``)
- Graphs: :class:`Graph`, :func:`load_karate_club` (networkx's copy), :func:`make_sbm`
  (stochastic block models), :func:`load_cora` (the Planetoid files a user gives) (``graphs.py``)
- Minibatches: :class:`Minibatches`, the one minibatch iterator (``batches.py``)
- Text: :func:`read_text_file`, :func:`python_source_text`, :func:`split_text`
  (``text.py``), :class:`CharVocab`, :func:`lm_windows` (``vocab.py``), :class:`RandomWindows`
  (``windows.py``, nanoGPT's random-offset batches)
"""

from dltoys.data.batches import Minibatches
from dltoys.data.digits import load_digits
from dltoys.data.idx import IDXError, load_idx_images, read_idx
from dltoys.data.mnist1d import MNIST1D, make_mnist1d, mnist1d_templates
from dltoys.data.mixtures import MIXTURES, make_gaussian_mixture, mixture_centers, mode_coverage
from dltoys.data.graphs import Graph, load_cora, load_karate_club, make_sbm
from dltoys.data.parity import (
    MAX_TRUTH_TABLE_BITS,
    make_parity,
    make_xor,
    pack_rows,
    parity_of,
    parity_truth_table,
)
from dltoys.data.registry import GENERATORS, make_dataset
from dltoys.data.sequences import ADDING_BASELINE_MSE, as_sequences, make_adding
from dltoys.data.split import Split, train_val_test_split
from dltoys.data.synthetic import make_blobs, make_circles, make_moons, make_spirals
from dltoys.data.text import python_source_text, read_text_file, split_text
from dltoys.data.vocab import CharVocab, lm_windows
from dltoys.data.windows import RandomWindows

__all__ = [
    "ADDING_BASELINE_MSE",
    "as_sequences",
    "CharVocab",
    "GENERATORS",
    "Graph",
    "IDXError",
    "lm_windows",
    "load_cora",
    "load_digits",
    "load_idx_images",
    "load_karate_club",
    "make_adding",
    "make_blobs",
    "make_circles",
    "make_dataset",
    "make_gaussian_mixture",
    "make_mnist1d",
    "make_moons",
    "make_parity",
    "make_sbm",
    "make_spirals",
    "make_xor",
    "MAX_TRUTH_TABLE_BITS",
    "Minibatches",
    "mixture_centers",
    "MIXTURES",
    "MNIST1D",
    "mnist1d_templates",
    "mode_coverage",
    "pack_rows",
    "parity_of",
    "parity_truth_table",
    "python_source_text",
    "RandomWindows",
    "read_idx",
    "read_text_file",
    "Split",
    "split_text",
    "train_val_test_split",
]
