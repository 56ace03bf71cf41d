# %% [markdown]
# # 2. The perceptron
#
# Rosenblatt's rule (1958): predict $\hat y = \mathrm{step}(w \cdot x + b)$; on a mistake,
# move the weights towards the sample's side: $w \leftarrow w + \eta (y - \hat y) x$,
# $b \leftarrow b + \eta (y - \hat y)$. On linearly separable data it stops after at most
# $(R/\gamma)^2$ mistakes (Novikoff 1962: $R$ the largest norm of a sample, $\gamma$ the margin).
# On XOR it never stops.

# %%
# %matplotlib inline
import numpy as np

from dltoys import plot
from dltoys.data import make_blobs, parity_truth_table
from dltoys.models import Perceptron, novikoff_bound, rosenblatt_epoch

# %% [markdown]
# ## The rule, two lines, one epoch at a time
# `rosenblatt_epoch` is the textbook loop; we run it until an epoch makes no mistake. The
# bound printed uses the margin of the line the rule found: any separating line gives a valid
# bound, and a line with a wider margin a tighter one (`dltoys run perceptron` compares two).

# %%
X, y = make_blobs(200, centers=[(-1, -1), (1, 1.5)], noise=0.55, rng=0)
weight, bias = np.zeros(2), 0.0
mistakes_per_epoch = []
for epoch in range(100):
    weight, bias, mistakes = rosenblatt_epoch(weight, bias, X, y, order=np.arange(len(X)))
    mistakes_per_epoch.append(int(mistakes))
    if mistakes == 0:
        break
print("mistakes per epoch:", mistakes_per_epoch)
print("total updates:", sum(mistakes_per_epoch), "Novikoff's bound:", round(novikoff_bound(X, y, weight, bias)))

# %% [markdown]
# ## The same rule as an estimator
# `models.Perceptron` has scikit-learn's interface (`fit`, `predict`, `score`, `coef_`,
# `intercept_`) and trains with the same rule.

# %%
model = Perceptron(random_state=0).fit(X, y)
print(f"accuracy {model.score(X, y):.1%} after {model.n_iter_} epochs; coef_ {model.coef_}, intercept_ {model.intercept_}")
fig, axes = plot.figure(1, 2, title="the perceptron on separable blobs and on XOR")
_ = plot.decision_boundary(axes[0], model.predict, X, y, title=f"blobs: {model.score(X, y):.0%}")

# %% [markdown]
# ## XOR: no line separates it
# The rule keeps making mistakes forever; `pocket=True` keeps the best weights seen, which
# still get at most 3 of the 4 corners right.

# %%
X_xor, y_xor = parity_truth_table(2)
xor = Perceptron(max_iter=50, pocket=True, random_state=0).fit(X_xor.astype(np.float32), y_xor)
plot.decision_boundary(axes[1], xor.predict, X_xor.astype(np.float32), y_xor, title=f"XOR: {xor.score(X_xor.astype(np.float32), y_xor):.0%} at best")
fig
