"""nn.Embedding without PyTorch: lookup, gradient by hand and by gradcheck, padding, errors.

The PyTorch parity test is ``tests/oracle/test_embedding_parity.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn
from dltoys.testing import check_grad_accumulates, gradcheck


def test_forward_looks_up_rows_for_ids_of_any_shape():
    emb = nn.Embedding(7, 3, rng=0)
    ids = np.array([[[0, 6], [3, 3]], [[1, 2], [5, 4]]])  # (2, 2, 2)
    out = emb(ids)
    assert out.shape == (2, 2, 2, 3)
    assert out.dtype == np.float32
    for index in np.ndindex(ids.shape):
        np.testing.assert_array_equal(out[index], emb.weight.data[ids[index]])
    assert emb(np.int64(4)).shape == (3,)  # a single id
    assert emb(np.zeros((2, 0), dtype=np.int64)).shape == (2, 0, 3)


def test_output_is_a_copy_not_a_view_of_the_table():
    emb = nn.Embedding(4, 2, rng=0)
    out = emb(np.array([1, 1]))
    out[0] = 100.0
    assert not np.any(emb.weight.data == 100.0)


def test_init_is_standard_normal_with_a_zero_padding_row():
    emb = nn.Embedding(400, 50, padding_idx=3, rng=0)
    weight = emb.weight.data
    np.testing.assert_array_equal(weight[3], 0)
    others = np.delete(weight, 3, axis=0)
    # 19,950 draws of N(0, 1): mean within 4 standard errors, std within 2%
    assert abs(others.mean()) < 4 / np.sqrt(others.size)
    assert abs(others.std() - 1) < 0.02
    np.testing.assert_array_equal(nn.Embedding(400, 50, rng=0).weight.data[4], weight[4])  # same seed, same rows


def test_gradient_sums_the_rows_of_repeated_ids_by_hand():
    emb = nn.Embedding(5, 2, dtype=np.float64, rng=0)
    ids = np.array([[3, 1, 3], [0, 3, 1]])
    emb(ids)
    grad = np.arange(12, dtype=np.float64).reshape(2, 3, 2)
    assert emb.backward(grad) is None
    expected = np.zeros((5, 2))
    expected[3] = grad[0, 0] + grad[0, 2] + grad[1, 1]
    expected[1] = grad[0, 1] + grad[1, 2]
    expected[0] = grad[1, 0]
    np.testing.assert_array_equal(emb.weight.grad, expected)


@pytest.mark.parametrize("num_embeddings", [6, 70_000])  # 16-bit sort keys, and wider ones
def test_gradcheck_with_repeated_ids(num_embeddings):
    emb = nn.Embedding(num_embeddings, 3, dtype=np.float64, rng=0)
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 6, size=(4, 5))
    ids[0, :3] = num_embeddings - 1  # the last row, repeated
    result = gradcheck(emb, ids)
    assert [c.name for c in result.checks] == ["parameter 'weight'"]


def test_padding_row_gets_no_gradient_and_others_do():
    emb = nn.Embedding(6, 4, padding_idx=-2, dtype=np.float64, rng=0)
    assert emb.padding_idx == 4
    ids = np.array([[4, 2, 4, 1], [4, 4, 2, 0]])
    out = emb(ids)
    np.testing.assert_array_equal(out[ids == 4], 0)  # the padding vector is zero
    emb.backward(np.ones_like(out))
    np.testing.assert_array_equal(emb.weight.grad[4], 0)
    np.testing.assert_array_equal(emb.weight.grad[2], 2)
    np.testing.assert_array_equal(emb.weight.grad[[0, 1]], 1)
    np.testing.assert_array_equal(emb.weight.grad[[3, 5]], 0)


def test_gradients_accumulate_and_frozen_weights_get_none():
    ids = np.random.default_rng(0).integers(0, 8, size=(3, 7))
    check_grad_accumulates(nn.Embedding(8, 5, rng=0), ids)
    frozen = nn.Embedding.from_pretrained(np.eye(8, 5, dtype=np.float32))
    frozen(ids)
    frozen.backward(np.ones((3, 7, 5), dtype=np.float32))
    np.testing.assert_array_equal(frozen.weight.grad, 0)


def test_from_pretrained_copies_the_table_and_its_dtype():
    table = np.arange(12, dtype=np.float64).reshape(4, 3)
    emb = nn.Embedding.from_pretrained(table, freeze=False, padding_idx=1)
    assert emb.dtype == np.float64 and emb.weight.requires_grad
    np.testing.assert_array_equal(emb.weight.data, table)  # the padding row is kept as given
    table[0, 0] = -1.0
    assert emb.weight.data[0, 0] == 0.0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept_in_forward_and_backward(dtype):
    emb = nn.Embedding(5, 3, dtype=dtype, rng=0)
    out = emb(np.array([[1, 2], [2, 4]], dtype=np.int32))
    assert out.dtype == dtype
    emb.backward(np.ones(out.shape, dtype=dtype))
    assert emb.weight.grad.dtype == dtype


def test_state_dict_has_pytorchs_key_and_shape():
    state = nn.Embedding(10, 4, rng=0).state_dict()
    assert list(state) == ["weight"]
    assert state["weight"].shape == (10, 4)


@pytest.mark.parametrize("ids", [np.array([0, 5]), np.array([[-1, 0]]), [3, 0, 17]])
def test_out_of_range_ids_name_the_id_and_the_range(ids):
    with pytest.raises(IndexError, match=r"Embedding\(5, 2\): id (5|-1|17) is out of range; expected ids in \[0, 4\]"):
        nn.Embedding(5, 2, rng=0)(ids)


@pytest.mark.parametrize("ids", [np.array([0.0, 1.0]), np.array([True, False]), ["a"]])
def test_non_integer_ids_are_rejected(ids):
    with pytest.raises(TypeError, match=r"Embedding\(5, 2\): expected integer ids, received dtype"):
        nn.Embedding(5, 2, rng=0)(ids)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"num_embeddings": 0}, ValueError, "num_embeddings: expected an integer >= 1, received 0"),
        ({"embedding_dim": 2.5}, TypeError, "embedding_dim: expected an integer, received 2.5"),
        ({"padding_idx": 5}, ValueError, r"padding_idx: expected an integer in \[-5, 4\] \(num_embeddings=5\), received 5"),
        ({"padding_idx": -6}, ValueError, r"padding_idx: expected an integer in \[-5, 4\]"),
        ({"dtype": np.int32}, TypeError, "dtype: expected float32 or float64"),
    ],
)
def test_bad_constructor_arguments(kwargs, error, message):
    arguments = {"num_embeddings": 5, "embedding_dim": 2, **kwargs}
    with pytest.raises(error, match=message):
        nn.Embedding(**arguments)


def test_backward_checks_grad_out_shape_and_order():
    emb = nn.Embedding(5, 2, rng=0)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        emb.backward(np.ones((3, 2)))
    emb(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"expected grad_out of shape \(3, 2\), received \(3, 3\)"):
        emb.backward(np.ones((3, 3)))
