# %% [markdown]
# # 7. Optimisers: from random search to Adam
#
# The same network, the same data and the same number of loss evaluations per step; only the
# rule that changes the weights differs. Random search and hill climbing use no gradient; SGD
# follows $-\nabla L$; momentum accumulates a velocity; RMSprop divides by a running RMS of
# the gradient; Adam does both, with bias correction.

# %%
# %matplotlib inline
import os

import numpy as np

from dltoys import nn, optim, plot, train
from dltoys.data import make_spirals, train_val_test_split
from dltoys.models import MLP

QUICK = os.environ.get("DLTOYS_QUICK", "1") == "1"
X, y = make_spirals(600, n_classes=3, noise=0.2, rng=0)
(X_tr, y_tr), (X_val, y_val), (X_te, y_te) = train_val_test_split(X, y, rng=0)
epochs = 30 if QUICK else 150

# %%
def make_optimizer(name, params):
    return {
        "random search": lambda: optim.RandomSearch(params, scale=1.0, rng=0),
        "hill climbing": lambda: optim.HillClimb(params, step_size=0.05, rng=0),
        "SGD": lambda: optim.SGD(params, lr=0.1),
        "momentum": lambda: optim.SGD(params, lr=0.1, momentum=0.9),
        "RMSprop": lambda: optim.RMSprop(params, lr=0.01),
        "Adam": lambda: optim.Adam(params, lr=0.01),
    }[name]()


histories, scores = {}, {}
for name in ["random search", "hill climbing", "SGD", "momentum", "RMSprop", "Adam"]:
    model = MLP((2, 64, 64, 3), activation="relu", rng=1)
    optimizer = make_optimizer(name, list(model.parameters()))
    histories[name] = train.fit(model, nn.CrossEntropyLoss(), optimizer, X_tr, y_tr, epochs=epochs, batch_size=32, rng=0, progress=False)["loss"]
    scores[name] = train.evaluate(model, None, X_te, y_te, metrics=["accuracy"])["accuracy"]

fig, ax = plot.figure(size=(7, 4), title="three spirals: training loss")
plot.curves(ax, histories, title=f"same network, {epochs} epochs", log_y=True)
fig

# %%
{name: f"{accuracy:.1%}" for name, accuracy in scores.items()}

# %% [markdown]
# Without a gradient, the search must guess a direction among thousands of weights: it
# barely moves. With the gradient, every step goes downhill; momentum and Adam go downhill
# faster on the spirals' long, curved valleys. `dltoys run optimizers` is the full study.
