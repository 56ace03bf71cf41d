# %% [markdown]
# # 15. Graph neural networks
#
# Message passing: each node gathers its neighbours' features along the edges and combines
# them with its own. Kipf & Welling's GCN layer is $H' = \hat D^{-1/2} \hat A \hat D^{-1/2} H W$
# ($\hat A = A + I$, self-loops); GAT weighs each neighbour by a learned attention; GraphSAGE
# averages them. dltoys's layers take PyTorch Geometric's inputs: features (N, F) and an
# `edge_index` of shape (2, E).

# %%
# %matplotlib inline
import numpy as np

from dltoys.toys.notebook import quick_mode, run_and_show

QUICK = quick_mode()

# %%
from dltoys import nn
from dltoys.data import load_karate_club

graph = load_karate_club()
conv = nn.GCNConv(34, 2, rng=0)
out = conv(graph.x, graph.edge_index)       # (34, 2): one 2-D embedding per member
print(graph.n_nodes, "members,", graph.n_edges, "directed edges ->", out.shape)

# %% [markdown]
# ## A two-layer GCN on the karate club
# One labelled member per community; the hidden layer's 2-D embedding drawn as it trains.

# %%
report = run_and_show("gcn-karate")

# %% [markdown]
# ## Cora
# The citation graph of Kipf & Welling's Table 2 (the Planetoid files, which you download:
# `dltoys run cora --data-dir PATH`). Without them the toy says how to get them.

# %%
import os
from pathlib import Path

shared = Path(os.environ.get("DLTOYS_SHARED_DATA", Path.cwd().parent.parent / "shared" / "data"))
report = run_and_show("cora", data_dir=str(shared / "planetoid")) if (shared / "planetoid").is_dir() else run_and_show("cora")
