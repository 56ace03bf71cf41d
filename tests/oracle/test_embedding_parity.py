"""PyTorch parity for nn.Embedding: output and weight gradient, repeated ids, padding.

Our table is copied into ``torch.nn.Embedding``; both look up the same ids
(drawn from a few rows so that most repeat, the case a scatter-add gets
wrong) and backpropagate the same random gradient. Compared: the output
(exact: a lookup) and the weight gradient, float64 within 1e-10 and float32
within 1e-5 of its largest entry (sums in another order round differently).
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn

torch = pytest.importorskip("torch")

from parity_helpers import RTOL, TORCH_DTYPE  # noqa: E402  (after importorskip)


def random_cases(n_cases: int, seed: int):
    rng = np.random.default_rng(seed)
    for _ in range(n_cases):
        V = int(rng.choice([1, 3, 17, 300, 70_000]))
        n_dims = int(rng.integers(0, 4))
        yield {
            "num_embeddings": V,
            "embedding_dim": int(rng.integers(1, 9)),
            "shape": tuple(int(s) for s in rng.integers(1, 6, size=n_dims)),
            "padding_idx": None if rng.random() < 0.5 else int(rng.integers(-V, V)),
            "distinct": int(rng.integers(1, min(V, 6) + 1)),  # ids drawn from this many rows
        }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", list(random_cases(12, seed=0)), ids=lambda c: f"V{c['num_embeddings']}-{c['shape']}-pad{c['padding_idx']}")
def test_forward_and_weight_gradient_match_torch(case, dtype):
    rng = np.random.default_rng(1)
    V, D = case["num_embeddings"], case["embedding_dim"]
    ours = nn.Embedding(V, D, padding_idx=case["padding_idx"], dtype=dtype, rng=2)
    theirs = torch.nn.Embedding(V, D, padding_idx=case["padding_idx"], dtype=TORCH_DTYPE[np.dtype(dtype)])
    theirs.load_state_dict({key: torch.from_numpy(value.copy()) for key, value in ours.state_dict().items()})

    rows = rng.choice(V, size=case["distinct"], replace=False)
    if case["padding_idx"] is not None:
        rows[0] = case["padding_idx"] % V  # the padding id is among the ids
    ids = np.asarray(rows[rng.integers(0, len(rows), size=case["shape"])])
    out = ours(ids)
    out_t = theirs(torch.from_numpy(ids))
    np.testing.assert_array_equal(out, out_t.detach().numpy())

    grad = rng.standard_normal(out.shape).astype(dtype)
    assert ours.backward(grad) is None
    out_t.backward(torch.from_numpy(grad))
    expected = theirs.weight.grad.numpy()
    scale = float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(ours.weight.grad, expected, rtol=RTOL[np.dtype(dtype)], atol=RTOL[np.dtype(dtype)] * scale)
    assert ours.weight.grad.dtype == dtype
