# %% [markdown]
# # 3. Logistic regression and gradient descent
#
# Replace the perceptron's step by the sigmoid, $a = \sigma(z) = 1/(1 + e^{-z})$, and its
# rule by the gradient of the binary cross-entropy
# $L = -\frac1N\sum y\log a + (1-y)\log(1-a)$. The chain rule collapses to
# $\partial L/\partial z = (a - y)/N$, so $\nabla_w L = X^\top (a - y)/N$: one line of NumPy.

# %%
# %matplotlib inline
import numpy as np

from dltoys import plot
from dltoys.data import make_blobs
from dltoys.models import LogisticRegression

X, y = make_blobs(400, centers=[(2, 2), (4, 4.5)], noise=0.8, rng=0)
X = X.astype(np.float64)

# %% [markdown]
# ## Gradient descent by hand

# %%
def train_by_hand(lr, epochs=100, use_bias=True):
    w, b = np.zeros(2), 0.0
    losses = []
    for _ in range(epochs):
        a = 1 / (1 + np.exp(-(X @ w + b)))
        losses.append(float(-np.mean(y * np.log(a + 1e-12) + (1 - y) * np.log(1 - a + 1e-12))))
        dz = (a - y) / len(X)
        w -= lr * X.T @ dz
        if use_bias:
            b -= lr * dz.sum()
    return w, b, losses


# %% [markdown]
# ## The learning rate: too small, right, too large
# For this loss, gradient descent is stable while $\eta < 2/\lambda_{max}$, with $\lambda_{max}$
# the largest eigenvalue of the loss's curvature, at most $\lambda_{max}(X^\top X/N)/4$.

# %%
curvature = np.linalg.eigvalsh(X.T @ X / len(X)).max() / 4
print(f"stable below lr = {2 / curvature:.1f} (at the start, where the curvature is largest)")
curves = {f"lr {lr:.3g}": train_by_hand(lr)[2] for lr in (0.001, 0.5 * 2 / curvature, 3 * 2 / curvature)}
fig, ax = plot.figure(size=(6.5, 3.6), title="binary cross-entropy against epochs")
plot.curves(ax, curves, title="three learning rates", log_y=True)
fig

# %% [markdown]
# ## Why the bias matters
# Without $b$ the boundary must pass through the origin; these blobs are not centred there.

# %%
for use_bias in (True, False):
    w, b, losses = train_by_hand(0.1, epochs=300, use_bias=use_bias)
    accuracy = np.mean(((X @ w + b) > 0) == y)
    print(f"bias={use_bias}: final loss {losses[-1]:.3f}, accuracy {accuracy:.1%}")

# %% [markdown]
# ## The estimator
# `models.LogisticRegression` trains the same model through the library's training loop,
# with scikit-learn's interface.

# %%
model = LogisticRegression(learning_rate_init=0.1, max_iter=300, tol=None, random_state=0).fit(X, y)
print(f"accuracy {model.score(X, y):.1%}; coef_ {model.coef_}, intercept_ {model.intercept_}")
print("by hand:", train_by_hand(0.1, epochs=300)[:2])
