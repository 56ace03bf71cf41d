"""The step contract: each shape a family uses, shown by a test that trains something small.

- two models and two optimizers alternating (a GAN);
- ``.grad`` filled without a backward pass, then an ordinary optimizer step (contrastive divergence);
- no optimizer and no gradient (a self-organizing map's update);
- one full-graph batch whose loss and metrics use only masked rows (a GCN).

And what the loop does for every step: several named models and optimizers in checkpoints,
gradient clipping per optimizer, the logged learning rates, non-finite logs named.
"""

from __future__ import annotations

import numpy as np
import pytest

from dltoys import nn, optim, train
from dltoys.data import Minibatches
from dltoys.nn.module import Module, Parameter
from dltoys.utils import as_rng


# ---------------------------------------------------------------- a GAN
class GANStep(train.Step):
    """The non-saturating GAN update of Goodfellow et al. (2014), one batch of real samples."""

    def __init__(self, generator, discriminator, g_opt, d_opt, *, noise_dim, rng=None):
        super().__init__({"generator": generator, "discriminator": discriminator},
                         {"generator": g_opt, "discriminator": d_opt})
        self.g, self.d, self.g_opt, self.d_opt = generator, discriminator, g_opt, d_opt
        self.noise_dim, self.rng, self.bce = noise_dim, as_rng(rng), nn.BCEWithLogitsLoss()

    def __call__(self, batch):
        (real,) = batch
        ones, zeros = np.ones((len(real), 1)), np.zeros((len(real), 1))
        fake = self.g(self.rng.standard_normal((len(real), self.noise_dim)))   # (B, D)
        self.d_opt.zero_grad()                                  # D: real -> 1, fake -> 0
        d_loss = self.bce(self.d(real), ones)
        self.d.backward(self.bce.backward())
        d_loss = d_loss + self.bce(self.d(fake), zeros)
        self.d.backward(self.bce.backward())
        self.before_update("discriminator")
        self.d_opt.step()
        self.g_opt.zero_grad()                                  # G: make D say 1 on fakes
        g_loss = self.bce(self.d(fake), ones)
        self.d.requires_grad_(False)                            # D passes gradients, keeps its own
        self.g.backward(self.d.backward(self.bce.backward()))
        self.d.requires_grad_(True)
        self.before_update("generator")
        self.g_opt.step()
        return {"d_loss": float(d_loss), "g_loss": float(g_loss)}


def make_gan(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    generator = nn.Sequential(nn.Linear(2, 1, rng=rng, dtype=dtype))
    discriminator = nn.Sequential(nn.Linear(1, 16, rng=rng, dtype=dtype), nn.Tanh(), nn.Linear(16, 1, rng=rng, dtype=dtype))
    g_opt = optim.Adam(generator.parameters(), lr=0.02, betas=(0.5, 0.999))
    d_opt = optim.Adam(discriminator.parameters(), lr=0.02, betas=(0.5, 0.999))
    return generator, discriminator, g_opt, d_opt


def real_samples(n=512, seed=1):
    return (3.0 + 0.5 * np.random.default_rng(seed).standard_normal((n, 1))).astype(np.float64)


def test_gan_step_moves_the_generated_mean_to_the_data():
    generator, discriminator, g_opt, d_opt = make_gan()
    noise = np.random.default_rng(5).standard_normal((2000, 2))
    before = float(generator(noise).mean())
    step = GANStep(generator, discriminator, g_opt, d_opt, noise_dim=2, rng=2)
    history = train.Trainer(step, epochs=30).fit(Minibatches(real_samples(), batch_size=64, shuffle=True, rng=3))
    after = float(generator(noise).mean())
    assert abs(before - 3.0) > 2.0  # starts far from the data's mean of 3
    assert abs(after - 3.0) < 0.3, after  # seed 0: the generated mean reaches 3 +- 0.3
    assert set(history.keys()) >= {"d_loss", "g_loss", "lr_generator", "lr_discriminator"}
    assert "loss" not in history and history.batch_losses[0] == []


def test_two_optimizers_each_get_their_own_clipping_and_checkpoint(tmp_path):
    generator, discriminator, g_opt, d_opt = make_gan()
    step = GANStep(generator, discriminator, g_opt, d_opt, noise_dim=2, rng=2)
    clip = train.ClipGradNorm(max_norm=0.5)
    batches = Minibatches(real_samples(128), batch_size=64)
    checkpoint = train.ModelCheckpoint(tmp_path / "gan-{epoch}.npz", save_best_only=False)
    trainer = train.Trainer(step, callbacks=[clip, checkpoint], epochs=2)
    trainer.fit(batches)
    assert len(clip.norms) == 2 * 2 * 2  # 2 epochs x 2 batches x 2 optimizers
    # The saved file holds both networks and both optimizers by name; loading restores them.
    fresh = make_gan(seed=9)
    ckpt = train.load(tmp_path / "gan-2.npz", {"generator": fresh[0], "discriminator": fresh[1]},
                      {"generator": fresh[2], "discriminator": fresh[3]})
    assert ckpt.extra["epoch"] == 2
    for ours, theirs in zip(generator.parameters(), fresh[0].parameters()):
        np.testing.assert_array_equal(ours.data, theirs.data)
    assert fresh[3].state_dict()["step_count"] == d_opt.state_dict()["step_count"] == 4
    with pytest.raises(train.CheckpointError):
        train.load(tmp_path / "gan-2.npz", fresh[0])  # one network is not the pair that was saved


# ------------------------------------------------- .grad without backward
class MeanModel(Module):
    """One parameter ``mu``; the 'model' of the data's mean."""

    def __init__(self, dim):
        super().__init__()
        self.mu = Parameter(np.zeros(dim))


class FillGradStep(train.Step):
    """The shape of contrastive divergence: the gradient comes from a formula, not from backward.

    Here d/dmu of 0.5 * mean ||mu - x||^2 = mu - mean(x), written into ``.grad``.
    """

    def __init__(self, model, optimizer):
        super().__init__(model, optimizer)
        self.model, self.optimizer = model, optimizer

    def __call__(self, batch):
        (x,) = batch
        self.optimizer.zero_grad()
        self.model.mu.grad += self.model.mu.data - x.mean(0)
        self.before_update()
        self.optimizer.step()
        return {"loss": 0.5 * float(((self.model.mu.data - x) ** 2).sum(1).mean())}


def test_a_gradient_filled_by_formula_trains_with_an_ordinary_optimizer():
    x = np.random.default_rng(0).normal([1.0, -2.0], 0.1, size=(400, 2))
    model = MeanModel(2)
    step = FillGradStep(model, optim.SGD(model.parameters(), lr=0.1, momentum=0.5))
    history = train.Trainer(step, epochs=10).fit(Minibatches(x, batch_size=50, shuffle=True, rng=0))
    np.testing.assert_allclose(model.mu.data, x.mean(0), atol=0.02)
    assert history["loss"][-1] < 0.05 < history["loss"][0]
    assert history["lr"] == [0.1] * 10


# --------------------------------------- no optimizer, no gradient (SOM)
class Prototypes(Module):
    def __init__(self, n, dim, rng):
        super().__init__()
        self.weight = Parameter(as_rng(rng).standard_normal((n, dim)))


class CompetitiveStep(train.Step):
    """Online competitive learning (a SOM with no neighbours): move the winner towards each sample."""

    def __init__(self, model, learning_rate):
        super().__init__({"som": model})
        self.model, self.learning_rate = model, learning_rate

    def __call__(self, batch):
        (x,) = batch
        weight = self.model.weight.data
        distances = ((x[:, None, :] - weight[None]) ** 2).sum(-1)  # (B, n)
        winners = distances.argmin(1)
        for sample, winner in zip(x, winners):  # one sample per update, as the online rule
            weight[winner] += self.learning_rate * (sample - weight[winner])
        return {"quantization_error": float(np.sqrt(distances.min(1)).mean())}


def test_an_update_rule_with_no_optimizer_runs_in_the_loop():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal(-3, 0.2, (100, 1)), rng.normal(3, 0.2, (100, 1))])
    model = Prototypes(2, 1, rng=np.random.default_rng(1))
    step = CompetitiveStep(model, learning_rate=0.1)
    history = train.Trainer(step, epochs=5).fit(Minibatches(x, batch_size=20, shuffle=True, rng=0))
    np.testing.assert_allclose(np.sort(model.weight.data[:, 0]), [-3, 3], atol=0.2)
    assert history["quantization_error"][-1] < 0.3 < history["quantization_error"][0]
    assert "lr" not in history  # no optimizer, no learning rate logged


# ------------------------------------------ one full-graph batch + mask
class DenseGraphConv(Module):
    """``Â X W``: the propagation rule of a GCN layer with a dense normalised adjacency."""

    def __init__(self, n_in, n_out, rng):
        super().__init__()
        self.linear = nn.Linear(n_in, n_out, rng=rng, dtype=np.float64)

    def forward(self, x, adjacency):
        self._cache = adjacency
        return self.linear(adjacency @ x)

    def backward(self, grad_out):
        return self._saved().T @ self.linear.backward(grad_out)


class MaskedNodeStep(train.Step):
    """A whole graph per batch; the loss and accuracy read only the masked (labelled) nodes."""

    def __init__(self, model, optimizer):
        super().__init__(model, optimizer)
        self.model, self.optimizer, self.loss = model, optimizer, nn.CrossEntropyLoss()

    def _forward(self, batch):
        x, adjacency, y, mask = batch
        logits = self.model(x, adjacency)  # (N, C)
        value = float(self.loss(logits[mask], y[mask]))
        return logits, value, {"loss": value, "accuracy": float((logits[mask].argmax(1) == y[mask]).mean())}

    def __call__(self, batch):
        self.optimizer.zero_grad()
        logits, _, logs = self._forward(batch)
        grad = np.zeros_like(logits)
        grad[batch[3]] = self.loss.backward()  # the unlabelled rows get no gradient
        self.model.backward(grad)
        self.before_update()
        self.optimizer.step()
        return logs

    def evaluate(self, batch):
        return self._forward(batch)[2]

    def batch_size(self, batch):
        return int(batch[3].sum())


def two_cliques():
    """Two 5-node cliques joined by one edge; normalised adjacency with self-loops, identity features."""
    adjacency = np.zeros((10, 10))
    adjacency[:5, :5] = adjacency[5:, 5:] = 1
    adjacency[4, 5] = adjacency[5, 4] = 1
    degree = adjacency.sum(1)  # the diagonal ones are the self-loops
    normalised = adjacency / np.sqrt(np.outer(degree, degree))
    y = np.array([0] * 5 + [1] * 5)
    train_mask = np.zeros(10, bool)
    train_mask[[0, 9]] = True
    return np.eye(10), normalised, y, train_mask


def test_a_full_graph_batch_trains_on_masked_nodes_and_validates_on_others():
    x, adjacency, y, train_mask = two_cliques()
    model = DenseGraphConv(10, 2, rng=0)
    step = MaskedNodeStep(model, optim.Adam(model.parameters(), lr=0.1))
    validation = [(x, adjacency, y, ~train_mask)]
    history = train.Trainer(step, epochs=30).fit([(x, adjacency, y, train_mask)], validation=validation)
    assert history["val_accuracy"][-1] == 1.0  # the 8 unlabelled nodes, from two labels and the graph
    assert history["accuracy"][-1] == 1.0 and history.batch_losses[-1] == [history["loss"][-1]]


# ---------------------------------------------------- what the loop checks
def test_the_loop_names_a_non_finite_log_and_refuses_one_shot_sources():
    model = MeanModel(1)

    class Diverging(FillGradStep):
        def __call__(self, batch):
            super().__call__(batch)
            return {"loss": 1.0, "energy": float("inf")}

    step = Diverging(model, optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(train.NonFiniteLossError, match="'energy' became inf at epoch 1, batch 1 of 2"):
        train.Trainer(step, epochs=2).fit(Minibatches(np.zeros((4, 1)), batch_size=2))
    with pytest.raises(TypeError, match="re-iterable"):
        train.Trainer(step).fit(iter([(np.zeros((2, 1)),)]))
    finite = FillGradStep(model, optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(NotImplementedError, match="cannot be given validation data"):
        train.Trainer(finite).fit([(np.zeros((2, 1)),)], validation=[(np.zeros((2, 1)),)])
    assert model.mu.data[0] == 0.0  # refused before the first epoch: no step was taken


def test_an_optimizer_over_another_models_parameters_is_refused():
    model_a, model_b = MeanModel(1), MeanModel(1)
    step = FillGradStep(model_b, optim.SGD(model_a.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="belong to no module the step trains"):
        train.Trainer(step).fit([(np.zeros((2, 1)),)])


def test_steps_name_what_they_train():
    with pytest.raises(TypeError, match=r"modules\['g'\]: expected a Module"):
        train.Step({"g": object()})
    with pytest.raises(ValueError, match="at least one Module"):
        train.Step({})
    with pytest.raises(TypeError, match="optimizers: expected a Optimizer or a dict"):
        train.Step(MeanModel(1), optimizers=[1])
    with pytest.raises(NotImplementedError, match="must define __call__"):
        train.Trainer(train.Step(MeanModel(1))).fit([(np.zeros((2, 1)),)])
