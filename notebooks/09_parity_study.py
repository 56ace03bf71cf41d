# %% [markdown]
# # 9. The 50-bit parity study, and vanishing gradients
#
# The seeds' headline experiment: is a 50-bit string's number of ones odd? Logistic
# regression and MLPs stay at chance (50%) on strings they have not seen, whatever their
# size; a recurrent network that reads one bit at a time solves it exactly, because it only
# has to learn a two-state machine: $h_t = h_{t-1} \oplus x_t$.
#
# Quick mode uses 4,000 training rows; `dltoys run parity` runs the full study with 10k,
# 100k and 1M rows.

# %%
# %matplotlib inline
import os

import numpy as np

from dltoys import nn, optim, plot, train
from dltoys.data import as_sequences, make_parity
from dltoys.models import MLP, SequenceModel

QUICK = os.environ.get("DLTOYS_QUICK", "1") == "1"
n_train = 4000 if QUICK else 100_000
X, y = make_parity(n_train + 2000, 50, rng=0)           # uint8 bits (N, 50), labels (N,)
X_tr, y_tr, X_te, y_te = X[:n_train], y[:n_train], X[n_train:], y[n_train:]

def held_out(model, x):
    return float(((train.predict(model, x)[..., -1].reshape(len(x), -1)[:, -1] > 0) == y_te).mean())

# %% [markdown]
# ## Logistic regression and an MLP: chance on unseen strings
# Every single bit, and every subset of fewer than 50 bits, is independent of the label: a
# model must look at all 50 bits at once, and there are $2^{50}$ strings.

# %%
scores = {}
for name, model in [("logistic regression", MLP((50, 1), rng=0)), ("MLP 50-256-256-1", MLP((50, 256, 256, 1), activation="relu", rng=0))]:
    train.fit(model, nn.BCEWithLogitsLoss(), optim.Adam(model.parameters(), lr=1e-3), X_tr, y_tr[:, None].astype(np.float32),
              epochs=20, batch_size=64, rng=0, progress=False)
    scores[name] = held_out(model, X_te)
scores

# %% [markdown]
# ## An RNN reading one bit per step
# Supervised with the parity of every prefix (the label of the string read so far), a tanh
# RNN learns the XOR state machine and generalises to every string.

# %%
running = (np.cumsum(X_tr, axis=1) % 2).astype(np.float32)[..., None]   # (N, 50, 1)
rnn = SequenceModel("rnn", 1, 16, 1, readout="all", rng=0)
history = train.fit(rnn, nn.BCEWithLogitsLoss(), optim.Adam(rnn.parameters(), lr=0.01), as_sequences(X_tr), running,
                    callbacks=[train.ClipGradNorm(1.0)], epochs=10, batch_size=64, rng=0, progress=False)
scores["RNN (16 units)"] = held_out(rnn, as_sequences(X_te))
scores

# %% [markdown]
# ## Vanishing gradients
# Backpropagation through time multiplies the gradient by the recurrent Jacobian once per
# step. For a tanh RNN at initialisation those factors are small, and the gradient reaching
# step 0 from a loss at step 49 is many orders of magnitude below the last step's. An LSTM
# whose forget gates start open (bias +3) keeps it.

# %%
x = np.random.default_rng(0).standard_normal((32, 50, 1)).astype(np.float32)
norms = {}
for name, model in [("tanh RNN", SequenceModel("rnn", 1, 32, 1, rng=0)), ("LSTM, forget bias +3", SequenceModel("lstm", 1, 32, 1, rng=0))]:
    if name.startswith("LSTM"):
        for param_name, param in model.named_parameters():
            if "bias_ih" in param_name:
                param.data[32:64] = 3.0            # PyTorch's gate order: input, forget, cell, output
    out = model(x)
    dx = model.backward(np.ones_like(out))      # dL/dx_t for a loss on the last output
    dx = dx[0] if isinstance(dx, tuple) else dx
    norms[name] = np.linalg.norm(dx.reshape(32, 50), axis=0) + 1e-30
fig, ax = plot.figure(size=(6.5, 3.6), title="how much of the last step's gradient reaches step t")
plot.curves(ax, norms, x=np.arange(50), title="||dL/dx_t|| over the 50 steps", xlabel="time step t", ylabel="gradient norm", log_y=True)
fig
