# %% [markdown]
# # 18. Attention and the Transformer
#
# Scaled dot-product attention: each position's query is compared with every key,
# $\mathrm{softmax}(Q K^\top / \sqrt{d})\,V$; a causal mask hides the future. Multi-head attention
# runs several such heads on learned projections; a Transformer block adds a position-wise MLP,
# residual connections and LayerNorm. A GPT stacks such blocks over token and position
# embeddings and predicts the next token.

# %%
# %matplotlib inline
import numpy as np

from dltoys.toys.notebook import quick_mode, run_and_show

QUICK = quick_mode()

# %%
from dltoys.models import GPT

model = GPT(vocab_size=3, block_size=11, n_layer=2, n_head=4, n_embd=32, rng=0)
idx = np.array([[0, 2, 1, 1, 0, 2]])
print("logits:", model(idx).shape, "continuation:", model.generate(idx, 4, temperature=1.0, rng=0))

# %% [markdown]
# ## Sorting with a GPT (minGPT's demo)
# Six digits from {0, 1, 2} in, the same digits sorted out; the attention maps show which
# input positions each output step reads.

# %%
report = run_and_show("sort")

# %% [markdown]
# ## A character-level GPT against the LSTM
# Same text, same split, same wall-clock budget: held-out bits per character side by side.

# %%
report = run_and_show("transformer-lm")
