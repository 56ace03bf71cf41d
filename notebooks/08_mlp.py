# %% [markdown]
# # 8. The multilayer perceptron: XOR, parity, digits; batch normalization and dropout
#
# One hidden layer bends the plane enough for XOR, which no single neuron can separate. We
# train the classic 2-10-1 network, push the same idea to n-bit parity, then to handwritten
# digits, and finish with two tools that help deeper and smaller-data networks: batch
# normalization and dropout.

# %%
# %matplotlib inline
import os

import numpy as np

from dltoys import nn, optim, plot, train
from dltoys.data import load_digits, make_xor, parity_truth_table, train_val_test_split
from dltoys.models import MLP

QUICK = os.environ.get("DLTOYS_QUICK", "1") == "1"

# %% [markdown]
# ## XOR with a 2-10-1 tanh network

# %%
X, y = parity_truth_table(2)                  # the four corners and their XOR
model = MLP((2, 10, 1), activation="tanh", rng=0)
history = train.fit(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.05), X, y[:, None].astype(np.float32),
                    epochs=300, batch_size=None, rng=0, progress=False)
predictions = (model(X)[:, 0] > 0).astype(int)
print("targets:", y, "predictions:", predictions)
fig, axes = plot.figure(1, 2, title="XOR, solved by one hidden layer")
plot.curves(axes[0], {"BCE": history["loss"]}, title="training loss", log_y=True)
plot.decision_boundary(axes[1], lambda p: (model(p)[:, 0] > 0).astype(int), X, y, title="decision regions")
fig

# %% [markdown]
# ## n-bit parity: the truth table gets harder as n grows
# Parity flips with every bit: neighbours in input space always have opposite labels. An MLP
# can still fit the whole table for small n, given enough hidden units.

# %%
scores = {}
for n_bits in (2, 4, 6):
    X, y = parity_truth_table(n_bits)
    model = MLP((n_bits, 64, 1), activation="tanh", rng=0)
    train.fit(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=0.01), X, y[:, None].astype(np.float32),
              epochs=300 if QUICK else 1000, batch_size=64, rng=0, progress=False)
    scores[n_bits] = float(((model(X)[:, 0] > 0) == y).mean())
scores

# %% [markdown]
# ## Digits
# 1,797 scanned 8×8 digits (scikit-learn ships them); a 64-128-10 ReLU network.

# %%
X, y = load_digits()
(X_tr, y_tr), (X_val, y_val), (X_te, y_te) = train_val_test_split(X, y, rng=0)
model = MLP((64, 128, 10), activation="relu", rng=0)
history = train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), X_tr, y_tr,
                    validation_data=(X_val, y_val), metrics=["accuracy"], epochs=30 if QUICK else 80,
                    batch_size=32, rng=0, progress=False)
print(f"test accuracy: {train.evaluate(model, None, X_te, y_te, metrics=['accuracy'])['accuracy']:.1%}")

# %% [markdown]
# ## Batch normalization: a deep network at a high learning rate
# Eight tanh layers trained with plain SGD at a large step. Normalising each layer's
# pre-activations over the batch keeps them in tanh's useful range.

# %%
histories = {}
for batch_norm in (False, True):
    model = MLP((64, *[64] * 8, 10), activation="tanh", batch_norm=batch_norm, rng=0)
    history = train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.5), X_tr, y_tr,
                        validation_data=(X_val, y_val), metrics=["accuracy"], epochs=15, batch_size=32, rng=0,
                        progress=False, check_finite=False)
    histories["with batch norm" if batch_norm else "plain"] = history["val_accuracy"]
fig, ax = plot.figure(size=(6, 3.6), title="8 hidden layers, SGD lr 0.5")
plot.curves(ax, histories, title="validation accuracy", ylabel="accuracy")
fig

# %% [markdown]
# ## Dropout: a small training set
# With 100 training digits a wide network memorises them (100% training accuracy). Dropout
# (p = 0.5) trains each step a random half of the network, which regularises: compare the
# test accuracy with and without. The `normalization` toy shows the same on noisy data, where
# the gap is larger.

# %%
gaps = {}
for p in (0.0, 0.5):
    model = MLP((64, 512, 512, 10), activation="relu", dropout=p, rng=0)
    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=1e-3), X_tr[:100], y_tr[:100],
              epochs=60, batch_size=20, rng=0, progress=False)
    train_acc = train.evaluate(model, None, X_tr[:100], y_tr[:100], metrics=["accuracy"])["accuracy"]
    test_acc = train.evaluate(model, None, X_te, y_te, metrics=["accuracy"])["accuracy"]
    gaps[f"dropout {p}"] = {"train": f"{train_acc:.1%}", "test": f"{test_acc:.1%}"}
gaps
