"""Data entry points at their boundary: flags, bit arrays, files that are not text files."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dltoys import data
from dltoys.data.text import read_text_file


@pytest.mark.parametrize("flag", ["shuffle", "drop_last"])
@pytest.mark.parametrize("value", ["no", "False", 1, None])
def test_minibatch_flags_must_be_bools(flag, value):
    # Before: shuffle='no' shuffled.
    with pytest.raises(TypeError, match=rf"{flag}: expected True or False, received {value!r}"):
        data.Minibatches(np.zeros((4, 2)), batch_size=2, **{flag: value})


@pytest.mark.parametrize(
    "bits, error, message",
    [
        ([[2, 3, 4]], ValueError, r"bits: expected only 0 and 1, received values \[2, 3, 4\]"),
        ([[0, 1, -1]], ValueError, r"expected only 0 and 1"),
        ([[0.5, 1.0]], ValueError, r"expected only 0 and 1"),
        ([0, 1, 1], ValueError, r"bits: expected a 2-D array of shape \(N, n_bits\), received shape \(3,\)"),
        ([[0, 1], [1]], TypeError, r"bits: expected a rectangular array"),
        ([["0", "1"]], TypeError, r"bits: expected 0/1 numbers"),
    ],
)
def test_parity_of_refuses_what_has_no_parity(bits, error, message):
    # Before: parity_of([[2, 3, 4]]) returned 5.
    with pytest.raises(error, match=message):
        data.parity_of(bits)


@settings(max_examples=50, deadline=None)
@given(hnp.arrays(np.uint8, st.tuples(st.integers(0, 5), st.integers(1, 9)), elements=st.integers(0, 1)))
def test_property_parity_of_is_the_sum_mod_two(bits):
    np.testing.assert_array_equal(data.parity_of(bits), bits.sum(axis=1) % 2)
    np.testing.assert_array_equal(data.parity_of(bits.astype(bool)), bits.sum(axis=1) % 2)


def test_read_text_file_refuses_a_fifo_without_hanging(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    result = {}

    def attempt():
        try:
            read_text_file(fifo)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            result["error"] = exc

    # Before: open() blocked forever waiting for a writer.
    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(5)
    assert not thread.is_alive(), "read_text_file blocked on a FIFO"
    assert isinstance(result["error"], ValueError) and "is not a regular file" in str(result["error"])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_read_text_file_refuses_a_device():
    # Before: read /dev/zero until memory ran out.
    with pytest.raises(ValueError, match="is not a regular file"):
        read_text_file("/dev/zero")


def test_read_text_file_has_a_size_limit(tmp_path):
    path = tmp_path / "big.txt"
    path.write_text("a" * 1001)
    with pytest.raises(ValueError, match=r"larger than max_bytes=1,000"):
        read_text_file(path, max_bytes=1000)
    assert read_text_file(path, max_bytes=1001) == "a" * 1001
    assert read_text_file(path, max_bytes=None) == "a" * 1001
    with pytest.raises(TypeError, match="max_bytes: expected an integer"):
        read_text_file(path, max_bytes="1k")
