"""Recurrent layers: RNN (tanh or ReLU), LSTM and GRU, with PyTorch's API.

Each layer takes a whole sequence and returns every step's hidden state plus
the final state, like ``torch.nn.RNN/LSTM/GRU``: same constructor arguments,
same ``state_dict()`` keys, shapes and gate orders (LSTM ``i, f, g, o``; GRU
``r, z, n``), so weights copy across both ways, and the same default layout
``(seq_len, batch, features)`` (``batch_first=False``).

They compute exactly what a loop of the one-step cells of :mod:`dltoys.nn.rnn_cells`
computes (the readable reference, tested equal), fused for speed; how the work is
laid out is described in :mod:`dltoys.nn.rnn_base`.

Truncated backpropagation through time
--------------------------------------
A long stream is cut into chunks; the final state of one chunk is the initial
state of the next, and the gradient stops at the chunk boundary. Here
``h_n`` is a plain new array, so carrying it over *is* the detach::

    state = None                                   # LSTM: state is (h_n, c_n)
    for start in range(0, T, chunk):
        out, state = lstm(x[start:start + chunk], state)   # x: (T, B, I)
        loss = loss_fn(head(out), y[start:start + chunk])
        lstm.backward(head.backward(loss_fn.backward()))   # dL/dx (and dL/dh0, ignored)
        optimizer.step(); optimizer.zero_grad()

The forward outputs are exactly those of the whole sequence; only the gradient
paths longer than a chunk are cut.

Exploding and vanishing gradients
---------------------------------
The norm of ``dL/dh_t`` at each step, whose decay or growth with ``T - t`` tells RNN
and LSTM apart, is what a loop of cells gives step by step: the ``gradients`` toy
(:mod:`dltoys.toys.gradients`) records it that way, outside these layers' loops.

References
----------
Elman (1990), Finding structure in time. Hochreiter & Schmidhuber (1997), Long
short-term memory. Gers, Schmidhuber & Cummins (2000), Learning to forget.
Cho et al. (2014), Learning phrase representations using RNN encoder-decoder.
Werbos (1990), Backpropagation through time: what it does and how to do it.
Pascanu, Mikolov & Bengio (2013), On the difficulty of training recurrent
neural networks.
"""

from __future__ import annotations

import numpy as np

from ..utils import RngLike, check_choice
from .rnn_base import RNNBase

__all__ = ["GRU", "LSTM", "RNN", "RNNBase"]


class RNN(RNNBase):
    """Elman recurrent network (``torch.nn.RNN``).

    Parameters
    ----------
    input_size : int
        Features per time step, ``I``.
    hidden_size : int
        Size of the hidden state, ``H``.
    num_layers : int, default 1
        Stacked layers; layer ``k > 0`` reads the outputs of layer ``k - 1``.
    nonlinearity : {'tanh', 'relu'}, default 'tanh'
    bias : bool, default True
        Both biases ``b_ih`` and ``b_hh``, as PyTorch (their sum is what acts).
    batch_first : bool, default False
        PyTorch's default: ``(seq_len, batch, features)`` in and out; True for
        ``(batch, seq_len, features)``. The states ``h0``/``h_n`` are always
        ``(num_layers * num_directions, batch, hidden_size)``.
    dropout : float in [0, 1], default 0
        Dropout on the outputs of every layer but the last, in training mode.
    bidirectional : bool, default False
        Add a second direction that reads the sequence backwards; the outputs
        of both are concatenated, ``(..., 2 * hidden_size)``.
    dtype : float32 (default) or float64
    rng : int, Generator or None
        Draws the initial weights ``U(-1/sqrt(H), 1/sqrt(H))`` (every weight and
        bias, PyTorch's default) and the dropout masks.

    Attributes
    ----------
    weight_ih_l{k} : Parameter (H, I) for k = 0, (H, num_directions * H) above
    weight_hh_l{k} : Parameter (H, H)
    bias_ih_l{k}, bias_hh_l{k} : Parameter (H,)
        With suffix ``_reverse`` for the second direction.

    Notes
    -----
    Forward, for every step ``t = 0 .. T-1`` (``phi`` = tanh or ReLU)::

        h_t = phi(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)

    Backward, with ``g_t = dL/dh_t`` from the output (or the layer above) and
    ``dh_T = dL/dh_n``, from ``t = T-1`` down to 0::

        delta_t = (g_t + dh_{t+1}) * phi'(h_t)        phi' = 1 - h^2 (tanh) or 1[h > 0] (ReLU)
        dh_t    = delta_t W_hh                        (dL/dh0 after the last step)

    and, all steps at once: ``dW_ih = sum_t delta_t^T x_t``, ``dW_hh = sum_t
    delta_t^T h_{t-1}``, ``db_ih = db_hh = sum_t delta_t``, ``dx_t = delta_t W_ih``.

    References
    ----------
    Elman (1990), Finding structure in time.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype=None,
        rng: RngLike = None,
    ):
        self.nonlinearity = check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, dtype, rng)

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else text + ", nonlinearity='relu'"

    def _scan(self, xp, h0, c0, weights):
        T, B, H = xp.shape
        hs = np.empty((T + 1, B, H), dtype=self.dtype)  # hs[t + 1] = h_t
        hs[0] = h0
        relu = self.nonlinearity == "relu"
        for t in range(T):
            h = hs[t + 1]
            np.matmul(hs[t], weights.w_hh_t, out=h)  # (B, H)
            h += xp[t]
            if relu:
                np.maximum(h, 0, out=h)
            else:
                np.tanh(h, out=h)
        return {"hs": hs}

    def _scan_backward(self, saved, weights, grad_h, dh, dc):
        hs = saved["hs"]
        T, B, H = hs.shape[0] - 1, hs.shape[1], hs.shape[2]
        # phi'(h_t) for every step at once: one pass over (T, B, H) beats 2T small ones.
        deriv = np.empty((T, B, H), dtype=self.dtype)
        if self.nonlinearity == "relu":
            np.greater(hs[1:], 0, out=deriv)  # a float mask
        else:
            np.multiply(hs[1:], hs[1:], out=deriv)
            np.subtract(1, deriv, out=deriv)
        w_hh = np.ascontiguousarray(weights.w_hh_t.T)  # (H, H) = W_hh, contiguous for the step's matmul
        delta = np.empty((T, B, H), dtype=self.dtype)
        for t in reversed(range(T)):
            d = delta[t]
            if grad_h is None:
                np.multiply(dh, deriv[t], out=d)
            else:
                np.add(grad_h[t], dh, out=d)  # dL/dh_t
                d *= deriv[t]
            np.matmul(d, w_hh, out=dh)  # dL/dh_{t-1}
        return delta, delta


class LSTM(RNNBase):
    """Long short-term memory (``torch.nn.LSTM``).

    Parameters are those of :class:`RNN` without ``nonlinearity``. ``hx`` and
    the returned state are pairs ``(h, c)``.

    Attributes
    ----------
    weight_ih_l{k} : Parameter (4H, I), gate blocks in PyTorch's order i, f, g, o
    weight_hh_l{k} : Parameter (4H, H)
    bias_ih_l{k}, bias_hh_l{k} : Parameter (4H,)
        With suffix ``_reverse`` for the second direction.

    Notes
    -----
    Forward (``s`` = sigmoid, ``*`` elementwise)::

        [a_i, a_f, a_g, a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh
        i = s(a_i)   f = s(a_f)   g = tanh(a_g)   o = s(a_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    Backward, with ``dh = g_t + dh_{t+1}`` (output gradient plus the recurrent
    one) and ``dc_{t+1}`` carried from the step after (``dL/dc_n`` at first)::

        dc  = dc_{t+1} + dh * o * (1 - tanh(c_t)^2)
        da_o = dh * tanh(c_t) * o (1 - o)       da_i = dc * g * i (1 - i)
        da_f = dc * c_{t-1} * f (1 - f)         da_g = dc * i * (1 - g^2)
        dc_t = dc * f                           dh_t = da W_hh

    The weight gradients are one matmul each over all steps, as in :class:`RNN`.
    Internally the gates are kept as ``i, f, o, g`` and the sigmoids are computed
    as ``(1 + tanh(a / 2)) / 2`` (see :class:`RNNBase`).

    References
    ----------
    Hochreiter & Schmidhuber (1997), Long short-term memory. Gers, Schmidhuber
    & Cummins (2000), Learning to forget: continual prediction with LSTM.
    """

    _n_gates = 4
    _gate_order = (0, 1, 3, 2)  # i, f, o, g: the three sigmoid gates side by side
    _n_sigmoid = 3
    _has_cell = True

    # Inside the LSTM the four gates are gate-major, (4, B, H) per step: every gate is
    # one contiguous (B, H) block, so each elementwise call runs over contiguous memory
    # instead of strided rows of a (B, 4H) block. The matmuls stay one per step, with
    # gates side by side.
    def _project(self, x2d, weights, T, B):
        H = self.hidden_size
        w_ih = np.ascontiguousarray(weights.w_ih.reshape(4, H, -1).transpose(0, 2, 1))  # (4, I, H)
        xp = np.matmul(x2d, w_ih)  # (4, T*B, H)
        if weights.bias is not None:
            xp += weights.bias.reshape(4, 1, H)
        return xp.reshape(4, T, B, H).transpose(1, 0, 2, 3)  # (T, 4, B, H): xp[t] is gate-major

    def _scan(self, xp, h0, c0, weights):
        T, _, B, H = xp.shape
        recurrent = np.empty((B, 4 * H), dtype=self.dtype)  # h_{t-1} W_hh^T, gates side by side
        acts = np.empty((T, 4, B, H), dtype=self.dtype)  # tanh of [a_i/2, a_f/2, a_o/2, a_g]
        sig = np.empty((T, 3, B, H), dtype=self.dtype)  # i, f, o
        hs = np.empty((T + 1, B, H), dtype=self.dtype)  # hs[t + 1] = h_t
        cs = np.empty((T + 1, B, H), dtype=self.dtype)  # cs[t + 1] = c_t
        tanh_c = np.empty((T, B, H), dtype=self.dtype)
        i_g = np.empty((B, H), dtype=self.dtype)
        hs[0] = h0
        cs[0] = c0
        for t in range(T):
            # One (B, H) x (H, 4H) matmul, not four per-gate ones (each too small for two BLAS
            # threads to split well); the add that follows turns it gate-major.
            np.matmul(hs[t], weights.w_hh_t, out=recurrent)
            a = acts[t]
            np.add(recurrent.reshape(B, 4, H).transpose(1, 0, 2), xp[t], out=a)  # (4, B, H)
            np.tanh(a, out=a)
            s = sig[t]
            np.multiply(a[:3], 0.5, out=s)
            s += 0.5  # i, f, o = (1 + tanh(a/2)) / 2
            c = cs[t + 1]
            np.multiply(s[1], cs[t], out=c)  # f * c_{t-1}
            np.multiply(s[0], a[3], out=i_g)  # i * g
            c += i_g
            np.tanh(c, out=tanh_c[t])
            np.multiply(s[2], tanh_c[t], out=hs[t + 1])  # o * tanh(c_t)
        return {"acts": acts, "sig": sig, "hs": hs, "cs": cs, "tanh_c": tanh_c}

    def _scan_backward(self, saved, weights, grad_h, dh, dc):
        acts, sig, cs, tanh_c = saved["acts"], saved["sig"], saved["cs"], saved["tanh_c"]
        T, _, B, H = acts.shape
        # dc_t/dh_t = o (1 - tanh(c_t)^2) for the whole sequence in three passes; the gates'
        # 1 - tanh^2 (the sigmoids' extra 1/4 is in the weights) is cheaper per step, where
        # the (4, B, H) block is still in cache.
        dc_dh = np.empty((T, B, H), dtype=self.dtype)
        np.multiply(tanh_c, tanh_c, out=dc_dh)
        np.subtract(1, dc_dh, out=dc_dh)
        dc_dh *= sig[:, 2]
        w_hh = np.ascontiguousarray(weights.w_hh_t.T * weights.scale[:, None])  # (4H, H): W_hh / 4 on sigmoid rows
        u_all = np.empty((T, B, 4 * H), dtype=self.dtype)  # what the weight gradients read, (B, 4H) per step
        u = np.empty((4, B, H), dtype=self.dtype)  # this step's gate gradients, gate-major
        dh_t = np.empty((B, H), dtype=self.dtype)
        dc_t = np.empty((B, H), dtype=self.dtype)
        dact = np.empty((4, B, H), dtype=self.dtype)
        for t in reversed(range(T)):
            s, a = sig[t], acts[t]
            if grad_h is None:
                total = dh
            else:
                total = np.add(grad_h[t], dh, out=dh_t)  # dL/dh_t
            np.multiply(total, tanh_c[t], out=u[2])  # dL/do
            np.multiply(total, dc_dh[t], out=dc_t)
            dc_t += dc  # dL/dc_t
            np.multiply(dc_t, a[3], out=u[0])  # dL/di = dc * g
            np.multiply(dc_t, cs[t], out=u[1])  # dL/df = dc * c_{t-1}
            np.multiply(dc_t, s[0], out=u[3])  # dL/dg = dc * i
            np.multiply(dc_t, s[1], out=dc)  # dL/dc_{t-1}
            np.multiply(a, a, out=dact)
            np.subtract(1, dact, out=dact)
            u *= dact
            row = u_all[t]
            np.copyto(row.reshape(B, 4, H), u.transpose(1, 0, 2))  # one copy to (B, 4H)
            np.matmul(row, w_hh, out=dh)  # dL/dh_{t-1}
        return u_all, u_all


class GRU(RNNBase):
    """Gated recurrent unit (``torch.nn.GRU``).

    Parameters are those of :class:`RNN` without ``nonlinearity``.

    Attributes
    ----------
    weight_ih_l{k} : Parameter (3H, I), gate blocks in PyTorch's order r, z, n
    weight_hh_l{k} : Parameter (3H, H)
    bias_ih_l{k}, bias_hh_l{k} : Parameter (3H,)
        With suffix ``_reverse`` for the second direction.

    Notes
    -----
    Forward, PyTorch's variant (the reset gate multiplies ``W_hn h + b_hn``)::

        r = s(x_t W_ir^T + b_ir + h_{t-1} W_hr^T + b_hr)
        z = s(x_t W_iz^T + b_iz + h_{t-1} W_hz^T + b_hz)
        n = tanh(x_t W_in^T + b_in + r * (h_{t-1} W_hn^T + b_hn))
        h_t = (1 - z) * n + z * h_{t-1}

    Backward, with ``dh = g_t + dh_{t+1}`` and ``p = h_{t-1} W_hn^T + b_hn``::

        da_n = dh * (1 - z) * (1 - n^2)
        da_z = dh * (h_{t-1} - n) * z (1 - z)
        da_r = da_n * p * r (1 - r)
        dh_t = [da_r, da_z, r * da_n] W_hh + dh * z

    The input weights see ``[da_r, da_z, da_n]``, the recurrent ones
    ``[da_r, da_z, r * da_n]``; each weight gradient is one matmul over all steps.

    References
    ----------
    Cho et al. (2014), Learning phrase representations using RNN encoder-decoder
    for statistical machine translation.
    """

    _n_gates = 3
    _gate_order = (0, 1, 2)
    _n_sigmoid = 2
    _hidden_bias_in_gate = True

    def _scan(self, xp, h0, c0, weights):
        T, B, G = xp.shape
        H = G // 3
        acts = np.empty((T, B, 2 * H), dtype=self.dtype)  # tanh(a_r/2), tanh(a_z/2)
        sig = np.empty((T, B, 2 * H), dtype=self.dtype)  # r, z
        hp = np.empty((T, B, G), dtype=self.dtype)  # h_{t-1} W_hh^T; its n block + b_hn = p
        n = np.empty((T, B, H), dtype=self.dtype)
        hs = np.empty((T + 1, B, H), dtype=self.dtype)
        hs[0] = h0
        for t in range(T):
            p = hp[t]
            np.matmul(hs[t], weights.w_hh_t, out=p)  # (B, 3H)
            if weights.bias_hn is not None:
                p[:, 2 * H :] += weights.bias_hn
            a = acts[t]
            np.add(xp[t][:, : 2 * H], p[:, : 2 * H], out=a)
            np.tanh(a, out=a)
            s = sig[t]
            np.multiply(a, 0.5, out=s)
            s += 0.5  # r, z
            nt = n[t]
            np.multiply(s[:, :H], p[:, 2 * H :], out=nt)  # r * p
            nt += xp[t][:, 2 * H :]
            np.tanh(nt, out=nt)
            h = hs[t + 1]
            np.subtract(hs[t], nt, out=h)
            h *= s[:, H:]
            h += nt  # n + z * (h_{t-1} - n)
        return {"acts": acts, "sig": sig, "hp": hp, "n": n, "hs": hs}

    def _scan_backward(self, saved, weights, grad_h, dh, dc):
        acts, sig, hp, n, hs = saved["acts"], saved["sig"], saved["hp"], saved["n"], saved["hs"]
        T, B, G = hp.shape
        H = G // 3
        dact = np.empty((T, B, 2 * H), dtype=self.dtype)  # 1 - tanh^2 of the r, z rows
        np.multiply(acts, acts, out=dact)
        np.subtract(1, dact, out=dact)
        dn = np.empty((T, B, H), dtype=self.dtype)  # 1 - n^2
        np.multiply(n, n, out=dn)
        np.subtract(1, dn, out=dn)
        h_minus_n = np.empty((T, B, H), dtype=self.dtype)
        np.subtract(hs[:-1], n, out=h_minus_n)
        w_hh = np.ascontiguousarray(weights.w_hh_t.T * weights.scale[:, None])  # (3H, H)
        ux_all = np.empty((T, B, G), dtype=self.dtype)  # [da_r, da_z, da_n] (r, z in u units)
        uh_all = np.empty((T, B, G), dtype=self.dtype)  # [da_r, da_z, r * da_n]
        dh_t = np.empty((B, H), dtype=self.dtype)
        dh_z = np.empty((B, H), dtype=self.dtype)
        for t in reversed(range(T)):
            ux, uh, r, z = ux_all[t], uh_all[t], sig[t][:, :H], sig[t][:, H:]
            if grad_h is None:
                total = dh
            else:
                total = np.add(grad_h[t], dh, out=dh_t)  # dL/dh_t
            np.multiply(total, z, out=dh_z)  # the direct path to h_{t-1}
            np.multiply(total, h_minus_n[t], out=ux[:, H : 2 * H])  # dL/dz
            da_n = ux[:, 2 * H :]
            np.subtract(total, dh_z, out=da_n)  # dL/dn = dh (1 - z)
            da_n *= dn[t]
            np.multiply(da_n, hp[t][:, 2 * H :], out=ux[:, :H])  # dL/dr = da_n * p
            ux[:, : 2 * H] *= dact[t]
            uh[:, : 2 * H] = ux[:, : 2 * H]
            np.multiply(da_n, r, out=uh[:, 2 * H :])  # dL/dp
            np.matmul(uh, w_hh, out=dh)
            dh += dh_z  # dL/dh_{t-1}
        return ux_all, uh_all
