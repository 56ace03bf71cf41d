# %% [markdown]
# # 6. Backpropagation by hand
#
# For a one-layer logistic model $a = \sigma(z)$, $z = X w + b$ with binary cross-entropy, the
# chain rule gives the famous short form $\partial L / \partial z = (a - y)/N$, then
# $\partial L/\partial w = X^\top (a - y)/N$ and $\partial L/\partial b = \sum (a - y)/N$.
# We derive a two-layer network's gradients the same way, compare with the library's
# `backward`, and check both against central differences with `gradcheck`.

# %%
# %matplotlib inline
import numpy as np

from dltoys import nn
from dltoys.testing import gradcheck

rng = np.random.default_rng(0)
X = rng.standard_normal((8, 3))
y = rng.integers(0, 2, (8, 1)).astype(np.float64)

# %% [markdown]
# ## dZ = A − Y for the logistic model

# %%
w, b = rng.standard_normal((3, 1)), np.zeros(1)
z = X @ w + b
a = 1 / (1 + np.exp(-z))
dz = (a - y) / len(X)
dw, db = X.T @ dz, dz.sum(0)

model = nn.Linear(3, 1, dtype=np.float64)
model.load_state_dict({"weight": w.T, "bias": b})
loss = nn.BCEWithLogitsLoss()
loss(model(X), y)
model.zero_grad()
model.backward(loss.backward())
np.testing.assert_allclose(model.weight.grad, dw.T)
np.testing.assert_allclose(model.bias.grad, db)
print("dW by hand:", dw.ravel(), "\nlibrary:   ", model.weight.grad.ravel())

# %% [markdown]
# ## Two layers: the chain rule, one layer at a time
# $h = \tanh(X W_1^\top + b_1)$, $z = h W_2^\top + b_2$. Backward runs the forward in reverse:
# $dz = (\sigma(z) - y)/N$, $dW_2 = dz^\top h$, $dh = dz\,W_2$, $dh_{pre} = dh\,(1 - h^2)$,
# $dW_1 = dh_{pre}^\top X$.

# %%
net = nn.Sequential(nn.Linear(3, 4, dtype=np.float64, rng=1), nn.Tanh(), nn.Linear(4, 1, dtype=np.float64, rng=2))
W1, b1, W2, b2 = (p.data for p in net.parameters())
h = np.tanh(X @ W1.T + b1)
z = h @ W2.T + b2
dz = (1 / (1 + np.exp(-z)) - y) / len(X)
dW2 = dz.T @ h
dh_pre = (dz @ W2) * (1 - h**2)
dW1 = dh_pre.T @ X

net.zero_grad()
loss(net(X), y)
net.backward(loss.backward())
np.testing.assert_allclose(net[0].weight.grad, dW1)
np.testing.assert_allclose(net[2].weight.grad, dW2)
print("both layers' gradients match the hand derivation")

# %% [markdown]
# ## Checking a backward pass numerically
# `gradcheck` perturbs every input and parameter by $\pm\epsilon$ in float64 and compares
# $(L(\theta+\epsilon) - L(\theta-\epsilon)) / 2\epsilon$ with the backward pass. A wrong
# backward fails loudly, naming the tensor and the index.

# %%
print(gradcheck(net, X).report())


class WrongTanh(nn.Tanh):
    """A deliberate bug: forgets the square in 1 - tanh(z)^2."""

    def backward(self, grad_out):
        return grad_out * (1 - self._saved())


buggy = nn.Sequential(nn.Linear(3, 4, dtype=np.float64, rng=1), WrongTanh(), nn.Linear(4, 1, dtype=np.float64, rng=2))
result = gradcheck(buggy, X, raise_exception=False)
print("buggy network passes:", result.ok)
