"""The IDX file format of MNIST and Fashion-MNIST, for files a user already has (raw or gzip).

Nothing downloads: point :func:`read_idx` or :func:`load_idx_images` at the files.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Any

import numpy as np

from dltoys.utils import resolve_dtype

#: IDX type code -> big-endian dtype.
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a well-formed IDX file; the message says what is wrong and where."""


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read one IDX file (``train-images-idx3-ubyte``, ``...-labels-idx1-ubyte``, or their ``.gz``).

    Parameters
    ----------
    path : str or path-like
        Gzip-compressed files are recognised by their first two bytes, not their name.

    Returns
    -------
    ndarray of the file's shape, in native byte order (uint8 for MNIST).

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    IDXError
        If the header is not IDX (the first two bytes must be zero, then a known type
        code and the number of dimensions), or the data is shorter or longer than the
        header's dimensions say.

    Notes
    -----
    Header: two zero bytes, a type byte (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
    0x0C int32, 0x0D float32, 0x0E float64), a byte with the number of dimensions ``d``,
    then ``d`` big-endian uint32 sizes; the values follow, big-endian, row-major.
    """
    path = Path(path)
    raw = path.read_bytes()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as error:
            raise IDXError(f"{path}: a damaged gzip file ({error})") from None
    if len(raw) < 4 or raw[:2] != b"\x00\x00":
        raise IDXError(f"{path}: not an IDX file (it must start with two zero bytes, then type and rank; "
                       f"the first bytes are {raw[:4]!r})")
    type_code, ndim = raw[2], raw[3]
    if type_code not in IDX_TYPES:
        known = ", ".join(f"0x{code:02X}" for code in IDX_TYPES)
        raise IDXError(f"{path}: unknown IDX type code 0x{type_code:02X}; known codes: {known}")
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise IDXError(f"{path}: the header announces {ndim} dimensions but the file has {len(raw)} bytes")
    shape = tuple(int(v) for v in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[type_code])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise IDXError(f"{path}: shape {shape} of {dtype.name} needs {expected} bytes of data, "
                       f"the file has {len(raw) - header}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def load_idx_images(images: str | os.PathLike, labels: str | os.PathLike, *,
                    dtype: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """MNIST or Fashion-MNIST as a model reads it: ``(N, 1, H, W)`` pixels in [0, 1] and labels.

    Parameters
    ----------
    images : path of an ``idx3-ubyte`` file (raw or gzip), shape ``(N, H, W)``
    labels : path of the matching ``idx1-ubyte`` file, shape ``(N,)``
    dtype : float32 (default) or float64

    Returns
    -------
    X : ndarray of shape ``(N, 1, H, W)``, pixel / 255
    y : ndarray of shape ``(N,)``, int64
    """
    dtype = resolve_dtype(dtype)
    pixels, targets = read_idx(images), read_idx(labels)
    if pixels.ndim != 3 or pixels.dtype != np.uint8:
        raise IDXError(f"{images}: expected unsigned-byte images of shape (N, H, W), "
                       f"received {pixels.dtype} of shape {pixels.shape}")
    if targets.ndim != 1 or len(targets) != len(pixels):
        raise IDXError(f"{labels}: expected {len(pixels)} labels (one per image of {images}), "
                       f"received shape {targets.shape}")
    return (pixels[:, None] / np.asarray(255, dtype)).astype(dtype, copy=False), targets.astype(np.int64)
