# %% [markdown]
# # 13. Semi-supervised learning: label propagation and pseudo-labels
#
# With a few labels and many unlabelled points, let the labels flow along a similarity graph.
# Label propagation (Zhu 2002) clamps the known labels and iterates $F \leftarrow P F$ with the
# row-normalised affinity $P$; its fixed point is the harmonic solution. Label spreading (Zhou
# et al. 2004) iterates $F \leftarrow \alpha S F + (1-\alpha) Y$ with the symmetric normalisation
# $S = D^{-1/2} W D^{-1/2}$, whose limit is $(1-\alpha)(I - \alpha S)^{-1} Y$. Self-training instead
# retrains a classifier on its own confident predictions (pseudo-labels).

# %%
# %matplotlib inline
import numpy as np

from dltoys.toys.notebook import quick_mode, run_and_show

QUICK = quick_mode()

# %%
from dltoys.data import load_digits
from dltoys.models import LabelSpreading

X, y = load_digits()
rng = np.random.default_rng(0)
y_partial = np.full_like(y, -1)
labelled = rng.choice(len(y), 50, replace=False)
y_partial[labelled] = y[labelled]
model = LabelSpreading(kernel="knn", n_neighbors=7).fit(X, y_partial)
unlabelled = y_partial == -1
print(f"50 labels, {unlabelled.sum()} unlabelled digits: {np.mean(model.transduction_[unlabelled] == y[unlabelled]):.1%} right")

# %% [markdown]
# ## Zachary's karate club
# From the two leaders' labels alone, the graph assigns every member a side.

# %%
report = run_and_show("karate")

# %%
report = run_and_show("semisupervised")
