"""RandomWindows (nanoGPT's batches) and the GPT's LanguageModelStep in the one training loop."""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import optim, train
from dltoys.data import RandomWindows
from dltoys.models import GPT
from dltoys.models.transformer import LanguageModelStep


def test_random_windows_are_next_token_pairs_and_reproducible():
    ids = np.arange(100)
    windows = RandomWindows(ids, block_size=8, batch_size=4, n_batches=3, rng=0)
    batches = list(windows)
    assert len(batches) == len(windows) == 3
    for x, y in batches:
        assert x.shape == y.shape == (4, 8)
        np.testing.assert_array_equal(y, x + 1)  # the next id at every position
        np.testing.assert_array_equal(np.diff(x, axis=1), 1)  # contiguous windows
    again = list(RandomWindows(ids, 8, 4, 3, rng=0))
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(batches, again))
    assert not np.array_equal(list(windows)[0][0], batches[0][0])  # the next epoch draws new windows
    with pytest.raises(ValueError, match="block_size \\+ 1 = 9"):
        RandomWindows(np.arange(5), 8, 4, 3)


def test_the_step_learns_a_repeating_text():
    """A period-5 text: after 60 steps the loss is far below log(5) = 1.61 nats (seed 0)."""
    ids = np.tile(np.arange(5), 200)
    model = GPT(5, 8, n_layer=1, n_head=2, n_embd=16, rng=0)
    step = LanguageModelStep(model, optim.Adam(model.parameters(), lr=1e-2))
    history = train.Trainer(step, epochs=3, progress=False).fit(RandomWindows(ids, 8, 8, 20, rng=0))
    assert history["loss"][0] > 0.5 and history["loss"][-1] < 0.1
