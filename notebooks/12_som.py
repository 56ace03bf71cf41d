# %% [markdown]
# # 12. Self-organizing maps
#
# Kohonen's map is a grid of units, each with a weight vector in the data space. For each
# sample $x$ the best-matching unit $c = \arg\min_i \lVert x - w_i \rVert$ wins, and every
# unit moves towards $x$ in proportion to its grid distance from the winner:
# $w_i \leftarrow w_i + \eta(t)\, h_{ci}(t)\,(x - w_i)$, with a neighbourhood $h$ and a rate $\eta$
# that shrink over time. No loss, no gradient: the update rule is the algorithm.

# %%
# %matplotlib inline
import numpy as np

from dltoys.toys.notebook import quick_mode, run_and_show

QUICK = quick_mode()

# %%
from dltoys.models import SOM

colours = np.random.default_rng(0).random((500, 3)).astype(np.float32)
som = SOM(n_rows=10, n_columns=10, random_state=0).fit(colours)
print("quantization error:", round(som.quantization_error(colours), 4), "topographic error:", round(som.topographic_error(colours), 4))

# %%
report = run_and_show("som")
