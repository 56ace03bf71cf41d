# %% [markdown]
# # 17. Generative adversarial networks
#
# A generator $G$ maps noise to samples; a discriminator $D$ tells real from generated. They
# play $\min_G \max_D\, \mathbb E_x \log D(x) + \mathbb E_z \log(1 - D(G(z)))$; in practice the
# generator maximises $\log D(G(z))$ (the non-saturating loss). WGAN-GP replaces $D$ by a critic
# whose input gradient is kept near norm 1 by a penalty, which needs the gradient of a
# gradient: dltoys writes that double backward by hand.

# %%
# %matplotlib inline
import numpy as np

from dltoys.toys.notebook import quick_mode, run_and_show

QUICK = quick_mode()

# %%
from dltoys import nn
from dltoys.models import GAN

generator = nn.Sequential(nn.Linear(2, 32, rng=0), nn.ReLU(), nn.Linear(32, 2, rng=1))
discriminator = nn.Sequential(nn.Linear(2, 32, rng=2), nn.LeakyReLU(0.2), nn.Linear(32, 1, rng=3))
gan = GAN(generator, discriminator, noise_dim=2, rng=0)
print("samples before training:", gan.sample(3).round(2).tolist())

# %% [markdown]
# ## Eight and twenty-five Gaussians
# VEEGAN's protocol: how many modes the samples cover, and what share lands within three
# standard deviations of one.

# %%
report = run_and_show("gan")
