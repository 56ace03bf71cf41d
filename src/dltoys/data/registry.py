"""Look up a generator by name (`make_dataset("moons", ...)`); an unknown name lists the known ones."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from dltoys.data.parity import make_parity, make_xor
from dltoys.data.sequences import make_adding
from dltoys.data.synthetic import make_blobs, make_circles, make_moons, make_spirals
from dltoys.utils import check_choice

#: Every generator by name; each returns ``(X, y)``.
GENERATORS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "adding": make_adding,
    "blobs": make_blobs,
    "circles": make_circles,
    "moons": make_moons,
    "parity": make_parity,
    "spirals": make_spirals,
    "xor": make_xor,
}


def make_dataset(name: str, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """Generate the data set called ``name`` (a key of ``GENERATORS``).

    Parameters
    ----------
    name : str
        One of ``"adding"``, ``"blobs"``, ``"circles"``, ``"moons"``,
        ``"parity"``, ``"spirals"``, ``"xor"``.
    **kwargs
        The generator's own arguments, e.g. ``n_samples=300, noise=0.1, rng=0``.

    Returns
    -------
    X, y : ndarray
        What the generator returns.

    Examples
    --------
    >>> X, y = make_dataset("spirals", n_samples=300, n_classes=3, rng=0)
    >>> X.shape, y.shape
    ((300, 2), (300,))
    """
    check_choice("name", name, tuple(sorted(GENERATORS)))
    return GENERATORS[name](**kwargs)
