"""dltoys.data: plain arrays in, plain arrays out (never imports ``nn`` or ``models``).

The minibatch iterator lives in :mod:`dltoys.data.batches`.
"""
