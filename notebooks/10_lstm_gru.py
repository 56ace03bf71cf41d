# %% [markdown]
# # 10. LSTM and GRU: the adding problem and a character language model
#
# The adding problem (Hochreiter & Schmidhuber 1997): a sequence of random numbers, two of
# them marked; the answer is their sum. Predicting the mean scores an MSE of about 0.167;
# doing better means carrying two numbers across the whole sequence. Gated cells can; a tanh
# RNN, whose gradient vanishes over the distance, stays at the mean.

# %%
# %matplotlib inline
import os

import numpy as np

from dltoys import nn, optim, plot, train
from dltoys.data import ADDING_BASELINE_MSE, CharVocab, make_adding, python_source_text, split_text
from dltoys.models import CharLM, SequenceModel

QUICK = os.environ.get("DLTOYS_QUICK", "1") == "1"
T = 30 if QUICK else 100
X_tr, y_tr = make_adding(2000 if QUICK else 20000, T, rng=0)   # (N, T, 2), (N, 1)
X_te, y_te = make_adding(1000, T, rng=1)

# %%
curves, scores = {}, {}
for cell in ("rnn", "lstm", "gru"):
    model = SequenceModel(cell, 2, 32, 1, rng=0)
    history = train.fit(model, nn.MSELoss(), optim.Adam(model.parameters(), lr=5e-3), X_tr, y_tr,
                        validation_data=(X_te, y_te), callbacks=[train.ClipGradNorm(1.0)],
                        epochs=12 if QUICK else 40, batch_size=64, rng=0, progress=False)
    curves[cell] = history["val_loss"]
    scores[cell] = history["val_loss"][-1]
fig, ax = plot.figure(size=(6.5, 3.6), title=f"the adding problem, T = {T}")
plot.curves(ax, curves, title="held-out MSE", ylabel="MSE", log_y=True, target=ADDING_BASELINE_MSE, target_label="predicting the mean")
fig

# %%
{cell: round(mse, 4) for cell, mse in scores.items()}

# %% [markdown]
# ## A character-level language model
# An LSTM reads Python's own standard-library sources one character at a time and predicts
# the next one. Held-out bits per character against the unigram baseline (how many bits a
# model needs that only knows each character's frequency), then samples.

# %%
text = python_source_text(max_chars=60_000 if QUICK else 2_000_000)
vocab = CharVocab(text)
train_text, val_text = split_text(text, 0.1)
ids = vocab.encode(train_text)
model = CharLM(len(vocab), hidden_size=64 if QUICK else 128, rng=0)
x = ids[:-1][: (len(ids) - 1) // 64 * 64].reshape(-1, 64)
y = ids[1:][: (len(ids) - 1) // 64 * 64].reshape(-1, 64)
train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=3e-3), x, y,
          epochs=3 if QUICK else 10, batch_size=32, rng=0, progress=False)
counts = np.bincount(ids, minlength=len(vocab)) + 1
unigram = float(-(counts / counts.sum() * np.log2(counts / counts.sum())).sum())
print(f"held out: {model.bits_per_char(vocab.encode(val_text)):.2f} bits/char; unigram: {unigram:.2f}")

# %%
for temperature in (0.5, 1.0):
    sample = model.generate(vocab.encode("def "), 200, temperature=temperature, rng=0)
    print(f"--- temperature {temperature}\n{vocab.decode(sample)}\n")
