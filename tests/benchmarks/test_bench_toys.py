"""The whole-toy rows of the benchmark (:mod:`benchmarks.toys`): the tour's parser and the PyTorch twins.

A twin that trains something else than its toy would make the row's ratio meaningless:
from the same weights and batch, each twin's loss and gradient norm must equal the
dltoys model's, and its optimizer, schedule and clipping must move the weights the
same way.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

#: A tour's output, as ``dltoys tour`` prints it (the summary table shortened).
TOUR_OUTPUT = """\
[1/4] perceptron: Rosenblatt's perceptron: separable blobs and XOR
    PASS in 0.9 s
[2/4] adding: The adding problem in 100 steps
    MISSED in 22.4 s
[3/4] cora: Cora: GCN and GAT from 140 labelled papers, against the words alone and the citations alone
    SKIPPED: skipped: no data (no --data-dir given, no $DLTOYS_SHARED_DATA); put them in one directory and \
pass it as root (--data-dir). Then: dltoys run cora --data-dir DIR in 0.0 s
[4/4] sort: minGPT's sorting demo in 5 s
    FAILED in 3 s

toy         figure                                                 reached  target    result   time
----------  -----------------------------------------------------  -------  --------  -------  -----
perceptron  held-out accuracy on separated blobs                   100.0%   ≥ 100.0%  pass     0.9 s
1/3 toys reached their targets in 26 s (1 skipped: no data)

report: /tmp/tour-20261130-161700/report.html (and report.md) in 27 s
"""


@pytest.fixture
def toys(bench):
    from benchmarks import toys

    return toys


def test_the_tour_parser_reads_each_toy_and_the_total(toys):
    parsed = toys.parse_tour(TOUR_OUTPUT)
    assert parsed["total"] == 27.0
    assert parsed["toys"] == {
        "perceptron": {"verdict": "PASS", "seconds": 0.9},
        "adding": {"verdict": "MISSED", "seconds": 22.4},
        "cora": {"verdict": "SKIPPED", "seconds": 0.0},
        "sort": {"verdict": "FAILED", "seconds": 3.0},
    }
    assert toys.parse_tour(TOUR_OUTPUT.rsplit("report:", 1)[0])["total"] is None  # an unfinished tour


def test_the_tour_parser_reads_a_real_tour(toys):
    tour = toys.run_tour(only=["perceptron"], timeout=120)
    assert tour["exit_code"] == 0
    assert list(tour["toys"]) == ["perceptron"] and tour["toys"]["perceptron"]["verdict"] == "PASS"
    assert 0 < tour["toys"]["perceptron"]["seconds"] <= tour["total"] + 0.5 <= tour["wall"] + 1


def _grad_norm(grads) -> float:
    return float(np.sqrt(sum(float(np.sum(np.asarray(g, dtype=np.float64) ** 2)) for g in grads)))


def test_the_cnn_twin_takes_the_toys_first_steps(toys):
    """Same weights, batches, loss, gradient norm and AdamW step (dropout off: its masks are each library's own)."""
    import torch.nn.functional as F

    from dltoys import nn, optim
    from dltoys.data import Minibatches
    from dltoys.toys import cnn_digits
    from dltoys.toys.registry import make_config

    config = make_config(cnn_digits, {"dropout": 0.0})
    X_fit, y_fit = cnn_digits.prepare_data(config)["fit"]
    model = cnn_digits.build_model(config)
    model.needs_input_grad = False
    optimizer = optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)  # the toy's
    loss_fn = nn.CrossEntropyLoss()
    twin, twin_optimizer, _ = toys.torch_cnn_setup(config)
    batches = Minibatches(X_fit, y_fit, batch_size=config.batch_size, shuffle=True, rng=config.seed)
    for step, (x, y) in zip(range(3), batches):
        model.zero_grad()
        loss = float(loss_fn(model(x), y))
        model.backward(loss_fn.backward())
        twin_optimizer.zero_grad()
        twin_loss = F.cross_entropy(twin(torch.from_numpy(x)), torch.from_numpy(y))
        twin_loss.backward()
        assert loss == pytest.approx(twin_loss.item(), rel=1e-5), f"step {step}"
        norms = _grad_norm(p.grad for p in model.parameters()), _grad_norm(p.grad.numpy() for p in twin.parameters())
        assert norms[0] == pytest.approx(norms[1], rel=1e-4), f"step {step}"
        optimizer.step()
        twin_optimizer.step()
    running = model.state_dict()["1.running_var"], twin.state_dict()["1.running_var"].numpy()
    np.testing.assert_allclose(*running, rtol=1e-5)


def test_the_gpt_twin_trains_like_the_toy(toys, tmp_path):
    """Losses, held-out bits and gradient norms of a few steps of ``_train_gpt`` and its twin, same weights and windows."""
    from dltoys.data import RandomWindows
    from dltoys.nn import CrossEntropyLoss
    from dltoys.toys import transformer_lm
    from dltoys.toys.base import RunContext
    from dltoys.toys.registry import make_config

    sizes = {"max_chars": 20_000, "n_layer": 1, "n_head": 2, "n_embd": 32, "block_size": 16, "batch_size": 4,
             "iters": 5, "warmup_iters": 2, "eval_every": 2}  # fmt: skip
    config = make_config(transformer_lm, sizes, quick=True)
    _, _, vocab, train_ids, val_ids = transformer_lm.prepare_text(config)
    _, history, held_out, _ = transformer_lm._train_gpt(config, train_ids, val_ids, len(vocab), RunContext(tmp_path))
    twin = toys.torch_gpt_training(config, train_ids, val_ids, len(vocab))
    np.testing.assert_allclose(history.batch_losses[0], twin["losses"], rtol=1e-4)
    np.testing.assert_allclose(held_out.bits, twin["held_out"], atol=1e-4)
    assert len(held_out.bits) == 3  # steps 2, 4 and the last

    # the first gradient norm, which the clipping reads (the head's gradient added into the tied table)
    model = transformer_lm.build_gpt(config, len(vocab))
    x, y = next(iter(RandomWindows(train_ids, config.block_size, config.batch_size, config.iters, rng=config.seed)))
    loss_fn = CrossEntropyLoss()
    logits = model(x)
    loss_fn(logits.reshape(-1, len(vocab)), y.reshape(-1))
    model.backward(loss_fn.backward().reshape(logits.shape))
    assert _grad_norm(p.grad for p in model.parameters()) == pytest.approx(twin["grad_norms"][0], rel=1e-4)


def test_the_twins_refuse_what_they_do_not_have(toys):
    from dltoys import nn
    from dltoys.toys import transformer_lm
    from dltoys.toys.registry import make_config

    with pytest.raises(ValueError, match="dropout"):
        toys.torch_gpt_setup(make_config(transformer_lm, {"dropout": 0.1}, quick=True), 50)
    with pytest.raises(ValueError, match="LSTM"):
        toys.torch_sequential(nn.Sequential(nn.LSTM(2, 3)), torch.nn)
