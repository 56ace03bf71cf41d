# %% [markdown]
# # 4. Activation functions
#
# Without a non-linearity between them, layers compose into one affine map:
# $W_2(W_1 x + b_1) + b_2 = (W_2 W_1) x + (W_2 b_1 + b_2)$. However deep, a linear network
# draws one straight boundary. This chapter shows that numerically, then what sigmoid, tanh,
# ReLU and LeakyReLU change, and where each is used.

# %%
# %matplotlib inline
import os

import numpy as np

from dltoys import nn, optim, plot, train
from dltoys.data import make_moons, train_val_test_split
from dltoys.models import MLP

QUICK = os.environ.get("DLTOYS_QUICK", "1") == "1"

# %% [markdown]
# ## The curves and their derivatives
# Each activation module's `backward` returns $f'(z)$ times the incoming gradient; feeding it
# ones gives the derivative itself. Sigmoid's derivative never exceeds 1/4: stacked layers
# multiply such factors, which is why deep sigmoid networks learn slowly.

# %%
z = np.linspace(-5, 5, 401)
fig, axes = plot.figure(1, 2, title="activations and their derivatives")
for name, module in [("sigmoid", nn.Sigmoid()), ("tanh", nn.Tanh()), ("ReLU", nn.ReLU()), ("LeakyReLU(0.1)", nn.LeakyReLU(0.1))]:
    y = module(z.astype(np.float32))
    dy = module.backward(np.ones_like(y))
    axes[0].plot(z, y, label=name)
    axes[1].plot(z, dy, label=name)
plot.finish(axes[0], "f(z)", "z", "f(z)")
plot.finish(axes[1], "f'(z): sigmoid's is at most 1/4", "z", "f'(z)")
fig

# %% [markdown]
# ## A deep linear network is one affine map
# Compose the layers' matrices by hand and compare with the network's output.

# %%
net = MLP((2, 16, 16, 16, 2), activation="linear", dtype=np.float64, rng=0)
linears = [layer for layer in net if isinstance(layer, nn.Linear)]
W, b = np.eye(2), np.zeros(2)
for layer in linears:
    W, b = layer.weight.data @ W, layer.weight.data @ b + layer.bias.data
x = np.random.default_rng(0).standard_normal((5, 2))
print("largest difference:", np.abs(net(x) - (x @ W.T + b)).max())

# %% [markdown]
# ## On the moons: what each activation can draw
# The same 2-32-32-2 network with each activation, trained the same way.

# %%
X, y = make_moons(600, noise=0.2, rng=0)
(X_tr, y_tr), (X_val, y_val), (X_te, y_te) = train_val_test_split(X, y, rng=0)
epochs = 40 if QUICK else 150
results = {}
fig, axes = plot.figure(1, 4, title=f"moons, {epochs} epochs of Adam", size=(16, 3.6))
for ax, activation in zip(axes, ["linear", "sigmoid", "tanh", "relu"]):
    model = MLP((2, 32, 32, 2), activation=activation, rng=1)
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.01), X_tr, y_tr,
              epochs=epochs, batch_size=32, rng=0, progress=False)
    accuracy = train.evaluate(model, None, X_te, y_te, metrics=["accuracy"])["accuracy"]
    results[activation] = accuracy
    plot.decision_boundary(ax, lambda p: model(p).argmax(1), X_te, y_te, title=f"{activation}: {accuracy:.1%} test")
fig

# %% [markdown]
# The linear network can only cut the plane with a straight line; every non-linear one bends
# its boundary around the moons. **Which to use where:** ReLU (or LeakyReLU, which keeps a
# small gradient for negative inputs) in hidden layers of deep networks; tanh inside recurrent
# cells, where a bounded, zero-centred state matters; sigmoid at the output for a probability,
# and for gates.

# %%
results
