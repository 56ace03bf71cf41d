# %% [markdown]
# # 1. Neurons and layers, by hand
#
# A neuron multiplies each input by a weight, adds the products and a bias:
# $z = \sum_i w_i x_i + b$. A layer is several neurons reading the same inputs; a batch is
# several inputs at once. We build it three times: with Python lists, with `np.dot`, and
# with `dltoys.nn.Linear`, and check that all three agree.

# %%
# %matplotlib inline
import os

import numpy as np

from dltoys import nn, plot

QUICK = os.environ.get("DLTOYS_QUICK", "1") == "1"

# %% [markdown]
# ## One neuron

# %%
inputs = [1.0, 2.0, 3.0, 2.5]
weights = [0.2, 0.8, -0.5, 1.0]
bias = 2.0
output = sum(x * w for x, w in zip(inputs, weights)) + bias
output

# %% [markdown]
# ## A layer as a list of neurons
# Three neurons, each with its own weights and bias, all reading the same four inputs.

# %%
layer_weights = [[0.2, 0.8, -0.5, 1.0], [0.5, -0.91, 0.26, -0.5], [-0.26, -0.27, 0.17, 0.87]]
layer_biases = [2.0, 3.0, 0.5]
by_hand = [sum(x * w for x, w in zip(inputs, neuron)) + b for neuron, b in zip(layer_weights, layer_biases)]
by_hand

# %% [markdown]
# ## The same layer with `np.dot`
# Stacking the neurons' weights as the rows of a matrix $W$ of shape (neurons, inputs) turns
# the layer into one product: $z = W x + b$.

# %%
W = np.array(layer_weights)          # (3, 4): one row per neuron
b = np.array(layer_biases)           # (3,)
x = np.array(inputs)                 # (4,)
z = np.dot(W, x) + b                 # (3,)
np.testing.assert_allclose(z, by_hand)
z

# %% [markdown]
# ## A batch of inputs
# With a batch $X$ of shape (samples, inputs), every sample goes through the layer at once:
# $Z = X W^\top + b$, shape (samples, neurons). The bias broadcasts over the rows.

# %%
X = np.array([[1.0, 2.0, 3.0, 2.5], [2.0, 5.0, -1.0, 2.0], [-1.5, 2.7, 3.3, -0.8]])  # (3 samples, 4)
Z = X @ W.T + b                      # (3, 3)
Z

# %% [markdown]
# ### Broadcasting with `axis` and `keepdims`
# Sums over rows or columns keep their axis with `keepdims=True`, so they broadcast back
# against the matrix they came from: here each row is divided by its own sum.

# %%
row_sums = Z.sum(axis=1, keepdims=True)   # (3, 1)
print(row_sums.shape, (Z / row_sums).sum(axis=1))

# %% [markdown]
# ## A dense layer class
# The smallest useful layer: it keeps its weights, and its forward pass is the product above.

# %%
class DenseLayer:
    def __init__(self, n_inputs, n_neurons, rng):
        self.weights = 0.01 * rng.standard_normal((n_inputs, n_neurons))
        self.biases = np.zeros((1, n_neurons))

    def forward(self, inputs):
        return inputs @ self.weights + self.biases


dense = DenseLayer(4, 3, np.random.default_rng(0))
dense.forward(X).shape

# %% [markdown]
# ## The same layer from `dltoys.nn`
# `nn.Linear` stores its weight as PyTorch does, shape (out_features, in_features), and
# computes $X W^\top + b$ in float32 by default. Copying our hand-made weights in gives the
# same numbers.

# %%
linear = nn.Linear(4, 3, dtype=np.float64)
linear.load_state_dict({"weight": W, "bias": b})
np.testing.assert_allclose(linear(X), Z)
print(linear, list(linear.state_dict()))

# %% [markdown]
# ## What a layer does to the plane
# Two inputs, three neurons: each neuron's output is a tilted plane over the input space;
# its zero line is where the neuron "switches".

# %%
rng = np.random.default_rng(1)
layer = nn.Linear(2, 3, rng=rng)
grid = np.stack(np.meshgrid(np.linspace(-2, 2, 101), np.linspace(-2, 2, 101)), -1).reshape(-1, 2)
outputs = layer(grid.astype(np.float32))       # (101 * 101, 3)
fig, axes = plot.figure(1, 3, title="three neurons over the plane")
for neuron, ax in enumerate(axes):
    ax.contourf(grid[:, 0].reshape(101, 101), grid[:, 1].reshape(101, 101), outputs[:, neuron].reshape(101, 101), levels=20, cmap="RdBu_r")
    ax.contour(grid[:, 0].reshape(101, 101), grid[:, 1].reshape(101, 101), outputs[:, neuron].reshape(101, 101), levels=[0], colors="k")
    plot.finish(ax, f"neuron {neuron}: zero line in black", "$x_1$", "$x_2$")
fig
