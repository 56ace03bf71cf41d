# %% [markdown]
# # 14. General regression neural networks
#
# Specht's GRNN (1991) keeps the whole training set as its "hidden layer": a prediction is the
# Nadaraya–Watson average of the training targets, weighted by a Gaussian kernel,
# $\hat y(x) = \sum_i y_i\, e^{-\lVert x - x_i\rVert^2 / 2\sigma^2} / \sum_i e^{-\lVert x - x_i\rVert^2 / 2\sigma^2}$.
# The only thing to learn is $\sigma$, chosen by the leave-one-out error (each point predicted
# by all the others: the kernel's diagonal set to zero), which has a closed form.

# %%
# %matplotlib inline
import numpy as np

from dltoys.toys.notebook import quick_mode, run_and_show

QUICK = quick_mode()

# %%
from dltoys.models import GRNN

rng = np.random.default_rng(0)
x = np.sort(rng.uniform(-3, 3, 80))[:, None]
y = np.sin(x[:, 0]) + 0.2 * rng.standard_normal(80)
for sigma in (0.05, 0.4, 3.0):
    model = GRNN(sigma=sigma).fit(x, y)
    print(f"sigma {sigma}: training R² {model.score(x, y):.3f}")

# %%
report = run_and_show("grnn")
