# %% [markdown]
# # 5. Losses, softmax and accuracy
#
# A classifier's last layer gives scores (logits). Softmax turns them into probabilities,
# $p_k = e^{z_k} / \sum_j e^{z_j}$; categorical cross-entropy (CCE) is the negative log of the
# probability given to the right class, $L = -\log p_y$. With one-hot targets $t$ it reads
# $L = -\sum_k t_k \log p_k$: the same number.

# %%
# %matplotlib inline
import numpy as np

from dltoys import nn, plot
from dltoys.nn import functional as F

# %% [markdown]
# ## Softmax by hand, and why we subtract the maximum
# $e^{1000}$ overflows; since softmax is unchanged by adding a constant to every logit,
# subtracting the row's maximum first keeps every exponent at most 0.

# %%
logits = np.array([[2.0, 1.0, 0.1], [1000.0, 999.0, 998.0]])
with np.errstate(over="ignore", invalid="ignore"):
    naive = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
stable = shifted / shifted.sum(axis=1, keepdims=True)
print("naive:\n", naive, "\nstable:\n", stable)
np.testing.assert_allclose(stable, F.softmax(logits))

# %% [markdown]
# ## Cross-entropy: sparse labels and one-hot targets, with clipping
# Taking the log of a probability of exactly 0 gives infinity; the by-hand version clips the
# probabilities to $[10^{-7}, 1 - 10^{-7}]$. `nn.CrossEntropyLoss` works on logits with
# log-softmax, $\log p_k = z_k - \log\sum_j e^{z_j}$, which needs no clipping at all.

# %%
probabilities = F.softmax(logits)
labels = np.array([0, 1])
clipped = np.clip(probabilities, 1e-7, 1 - 1e-7)
sparse = -np.log(clipped[np.arange(len(labels)), labels]).mean()
one_hot = F.one_hot(labels, 3, dtype=np.float64)
from_one_hot = -(one_hot * np.log(clipped)).sum(axis=1).mean()
library = nn.CrossEntropyLoss()(logits, labels)
print(sparse, from_one_hot, float(library))

# %% [markdown]
# ## The gradient of softmax + cross-entropy
# Through softmax and the log, the gradient with respect to the logits collapses to
# $\partial L / \partial z = (p - t) / N$: the predicted probabilities minus the one-hot target.

# %%
loss = nn.CrossEntropyLoss()
loss(logits, labels)
np.testing.assert_allclose(loss.backward(), (probabilities - one_hot) / len(labels), atol=1e-12)
loss.backward()

# %% [markdown]
# ## Accuracy
# The share of rows whose largest logit is the right class. Accuracy moves in steps; the loss
# moves smoothly, which is why we train on the loss and report both.

# %%
p_right = np.linspace(0.01, 0.99, 99)
fig, ax = plot.figure(title="the loss of one sample against the probability of its class")
ax.plot(p_right, -np.log(p_right), label="cross-entropy $-\\log p_y$")
ax.axvline(1 / 3, color="k", ls=":", label="chance with 3 classes")
plot.finish(ax, "confidently wrong costs the most", "$p_y$", "loss")
fig
