"""A checkpoint's JSON description (:mod:`dltoys.train.checkpoint`): its schema check, and the
nested state stored as JSON plus named arrays. Each ndarray leaf of a dict/list tree (the
optimizer's state, the caller's ``extra``) becomes a tag ``{"__ndarray__": "<prefix>/<n>"}``
and goes to the archive under that name; reading puts the arrays back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import __version__
from .formats import FormatError, check_real_dtype

#: Written into every checkpoint and checked on reading.
FORMAT_NAME = "dltoys-checkpoint"
#: Bump when the layout changes; readers refuse versions newer than theirs.
FORMAT_VERSION = 1
#: The key of an array reference in the JSON tree.
ARRAY_TAG = "__ndarray__"
JSON_SCALARS = (str, int, float, bool, type(None))


def flatten(tree: Any, prefix: str, arrays: dict[str, np.ndarray], where: str) -> Any:
    """Replace every ndarray leaf of a dict/list tree by a tag; collect the arrays.

    ``arrays`` collects this tree's arrays only: they are named ``<prefix>/0``, ``<prefix>/1``, ...

    Tuples become lists (JSON has no tuples); NumPy scalars become Python ones.
    """
    if isinstance(tree, np.ndarray):
        if tree.dtype.hasobject:
            raise TypeError(f"{where}: an object array cannot be saved without pickle; use numeric arrays")
        try:
            check_real_dtype(where, tree.dtype)
        except FormatError as exc:
            raise TypeError(str(exc)) from None
        name = f"{prefix}/{len(arrays)}"
        arrays[name] = tree
        return {ARRAY_TAG: name}
    if isinstance(tree, np.generic):
        return tree.item()
    if isinstance(tree, JSON_SCALARS):
        return tree
    if isinstance(tree, dict):
        out = {}
        for key, value in tree.items():
            if not isinstance(key, str):
                raise TypeError(f"{where}: dict keys must be strings to be stored as JSON, received {key!r}")
            out[key] = flatten(value, prefix, arrays, f"{where}[{key!r}]")
        return out
    if isinstance(tree, (list, tuple)):
        return [flatten(value, prefix, arrays, f"{where}[{index}]") for index, value in enumerate(tree)]
    raise TypeError(
        f"{where}: cannot store a {type(tree).__name__} in a checkpoint (allowed: dicts with str keys, "
        "lists, tuples, ndarrays, str, int, float, bool, None)"
    )


def unflatten(tree: Any, arrays: dict[str, np.ndarray], used: set[str]) -> Any:
    """Put the arrays back in place of their tags; ``used`` collects the names referred to.

    Raises ValueError on a malformed tag or a name ``arrays`` lacks (the caller names the file)."""
    if isinstance(tree, dict):
        if ARRAY_TAG in tree:
            name = tree[ARRAY_TAG]
            if len(tree) != 1 or not isinstance(name, str):
                raise ValueError(f"the metadata holds an invalid array reference {tree!r:.200}")
            if name not in arrays:
                raise ValueError(f"the metadata refers to an array {name!r} that the archive lacks")
            used.add(name)
            return arrays[name]
        return {key: unflatten(value, arrays, used) for key, value in tree.items()}
    if isinstance(tree, list):
        return [unflatten(value, arrays, used) for value in tree]
    return tree


def array_names(tree: Any, names: list[str]) -> list[str]:
    """The array names a metadata tree refers to (in order), without reading any array."""
    if isinstance(tree, dict):
        if isinstance(tree.get(ARRAY_TAG), str):
            names.append(tree[ARRAY_TAG])
        else:
            for value in tree.values():
                array_names(value, names)
    elif isinstance(tree, list):
        for value in tree:
            array_names(value, names)
    return names


def check_description(metadata: Any) -> None:
    """The description's schema, checked in full: a crafted file gets a ValueError saying what is wrong
    (the reader adds the path), never a TypeError from deep inside."""
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT_NAME:
        found = metadata.get("format") if isinstance(metadata, dict) else type(metadata).__name__
        raise ValueError(f"unknown checkpoint format {found!r:.100}, expected {FORMAT_NAME!r}")
    version = metadata.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ValueError(f"the metadata has no valid format_version (found {version!r:.100})")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"written in checkpoint format version {version} by dltoys "
            f"{metadata.get('dltoys_version', '?')!s:.40}; this dltoys ({__version__}) reads versions up to "
            f"{FORMAT_VERSION}: upgrade dltoys"
        )
    model = metadata.get("model")
    if not isinstance(model, dict) or not isinstance(model.get("state"), dict) or "class" not in model:
        raise ValueError("the metadata does not describe a model")
    if not isinstance(model["class"], (str, type(None))):
        raise ValueError(f"the metadata's model class is not a name ({model['class']!r:.100})")
    for key, spec in model["state"].items():
        ok = isinstance(spec, dict) and isinstance(spec.get("shape"), list) and isinstance(spec.get("dtype"), str)
        ok = ok and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in spec["shape"])
        if ok:
            try:
                dtype = np.dtype(spec["dtype"])
                check_real_dtype(f"model state {key!r}", dtype)
            except FormatError as exc:
                raise ValueError(str(exc)) from None
            except Exception:
                ok = False
        if not ok:
            raise ValueError(f"the metadata's description of model state {key!r} is invalid ({spec!r:.200})")
    optimizer = metadata.get("optimizer")
    if optimizer is not None and not (isinstance(optimizer, dict) and isinstance(optimizer.get("type"), str)
                                      and isinstance(optimizer.get("state"), dict)):
        raise ValueError(f"the metadata's optimizer entry is invalid ({optimizer!r:.200})")
