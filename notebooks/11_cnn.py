# %% [markdown]
# # 11. Convolutional networks
#
# A convolution slides one small filter over the whole input: the same weights at every
# position (weight sharing), so a pattern is recognised wherever it appears (translation
# equivariance). In NCHW layout, output channel $o$ at position $(i, j)$ is
# $y_{o,i,j} = b_o + \sum_{c,u,v} W_{o,c,u,v}\, x_{c,\, s i + d u - p,\, s j + d v - p}$.
# dltoys computes it as one matrix product: im2col gathers every window into a row, and the
# filters are the columns.

# %%
# %matplotlib inline
import numpy as np

from dltoys.toys.notebook import quick_mode, run_and_show

QUICK = quick_mode()

# %%
from dltoys import nn
from dltoys.nn import functional as F

x = np.arange(2 * 1 * 4 * 4, dtype=np.float32).reshape(2, 1, 4, 4)     # (N, C, H, W)
conv = nn.Conv2d(1, 3, kernel_size=3, padding=1, rng=0)
cols = F.unfold(x, kernel_size=3, padding=1)                              # (N, C*3*3, H*W): PyTorch's unfold
by_matmul = (conv.weight.data.reshape(3, -1) @ cols).reshape(2, 3, 4, 4) + conv.bias.data[:, None, None]
print("conv == filters @ unfold:", np.allclose(conv(x), by_matmul, atol=1e-5), conv(x).shape)

# %% [markdown]
# ## A LeNet-style network on the 8×8 digits
# Convolutions, batch normalization and max pooling, then a linear classifier; the toy draws
# the learned filters, the feature maps of a few digits and the mistakes.

# %%
report = run_and_show("cnn-digits")

# %% [markdown]
# ## MNIST-1D: why the shared filter matters
# Greydanus's 1-D digits are shifted, scaled and noisy; a 1-D CNN beats an MLP of similar size
# because a filter that recognises a stroke at one position recognises it at every position.

# %%
report = run_and_show("mnist1d")
