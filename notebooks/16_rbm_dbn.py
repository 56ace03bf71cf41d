# %% [markdown]
# # 16. Restricted Boltzmann machines and deep belief networks
#
# An RBM gives each joint state of visible units $v$ and hidden units $h$ the energy
# $E(v, h) = -b^\top v - c^\top h - v^\top W h$ and the probability $e^{-E}/Z$. The gradient of
# the log-likelihood is a difference of two expectations, data minus model:
# $\partial \log p(v)/\partial W = \langle v h^\top\rangle_{data} - \langle v h^\top\rangle_{model}$.
# Contrastive divergence (CD-k) estimates the second with k steps of Gibbs sampling, and writes
# the result into `.grad` for an ordinary optimizer: no backward pass.

# %%
# %matplotlib inline
import numpy as np

from dltoys.toys.notebook import quick_mode, run_and_show

QUICK = quick_mode()

# %%
from dltoys.data import load_digits
from dltoys.models import BernoulliRBM

X, _ = load_digits()
rbm = BernoulliRBM(n_components=64, learning_rate=0.1, batch_size=10, n_iter=5, random_state=0).fit(X)
print("mean pseudo-likelihood of the digits:", round(float(rbm.score_samples(X).mean()), 2))

# %%
report = run_and_show("rbm")

# %% [markdown]
# ## What greedy pretraining buys
# A DBN stacks RBMs, each trained on the previous one's hidden activities, then moves the
# weights into an MLP and fine-tunes it with backpropagation.

# %%
report = run_and_show("dbn")
