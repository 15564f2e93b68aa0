r"""Small networks for the book's experiments: many MLPs trained as one, batched.

A :class:`BatchedMLP` holds ``n_models`` independent multilayer perceptrons whose
parameters are stacked along a leading axis: layer :math:`l` has weights of shape
``(n_models, in, out)`` and biases ``(n_models, out)``, and the forward pass is one
batched matrix product per layer,

.. math:: h^{(l+1)}_m = \phi\bigl(h^{(l)}_m W^{(l)}_m + b^{(l)}_m\bigr), \quad m = 1..M,

with :math:`\phi` the activation (none after the last layer).  Model :math:`m` never
touches model :math:`m'`'s parameters, and the training loss is a *sum* of per-model mean
losses, so its gradient with respect to model :math:`m`'s parameters is that model's own
gradient: training the stack with an elementwise optimizer (SGD, momentum, Adam) is
exactly training the models one by one (:mod:`lrnotes.nets.train` tests this).

Model :math:`m` is initialised from its own seed with torch's ``nn.Linear`` distribution,
:math:`W, b \sim \mathcal U(-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}})`, drawn in float64
from a ``torch.Generator``, so the same seed gives the same network in a stack, alone
(:func:`mlp`), in float32 or in float64.

Contents
--------
derive_seed   an independent integer seed for each purpose (init, data order) of a seed
init_params   one model's initial weights and biases
mlp           a single ``nn.Sequential`` MLP with that initialisation
BatchedMLP    the stack: forward, per-model loss and accuracy, one model back out (unstack)
stacked_losses  per-model losses of several stacks in one forward pass (one per schedule group)
BatchedTransformer  many small causal (GPT-2 style) transformers, stacked the same way
stacked_lm_losses   per-model language-model losses of several transformer stacks in one pass
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from lrnotes.schedules import _int_at_least

__all__ = ["ACTIVATIONS", "derive_seed", "init_params", "mlp", "BatchedMLP", "stacked_losses",
           "BatchedTransformer", "stacked_lm_losses"]

ACTIVATIONS = ("relu", "tanh")
INIT, DATA = 0, 1  # purposes of derive_seed


def derive_seed(seed: int, purpose: int) -> int:
    """An integer seed for ``purpose`` (0: initialisation, 1: data order) of ``seed``.

    Uses ``numpy.random.SeedSequence([seed, purpose])``, so the streams of different seeds
    and purposes are independent.
    """
    seed = _int_at_least("seed", seed, 0)
    purpose = _int_at_least("purpose", purpose, 0)
    return int(np.random.SeedSequence([seed, purpose]).generate_state(1, dtype=np.uint64)[0] >> 1)


def _check_sizes(sizes) -> list[int]:
    sizes = list(sizes)
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least the input and output widths, got {sizes}")
    return [_int_at_least(f"sizes[{i}]", s, 1) for i, s in enumerate(sizes)]


def _activation(name: str):
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")
    return {"relu": torch.relu, "tanh": torch.tanh}[name]


def init_params(sizes: Sequence[int], seed: int, dtype=None) -> list:
    r"""Initial ``(W, b)`` of one MLP: ``W`` shape ``(in, out)``, ``b`` shape ``(out,)``.

    :math:`W, b \sim \mathcal U(-1/\sqrt{\text{in}}, 1/\sqrt{\text{in}})` (``nn.Linear``'s
    default), drawn layer by layer (``W`` in ``nn.Linear``'s ``(out, in)`` layout, then
    ``b``) in float64 from ``torch.Generator().manual_seed(derive_seed(seed, 0))``.
    """
    sizes = _check_sizes(sizes)
    gen = torch.Generator().manual_seed(derive_seed(seed, INIT))
    dtype = torch.float32 if dtype is None else dtype
    out = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        bound = 1.0 / np.sqrt(fan_in)
        w = (2.0 * torch.rand(fan_out, fan_in, generator=gen, dtype=torch.float64) - 1.0) * bound
        b = (2.0 * torch.rand(fan_out, generator=gen, dtype=torch.float64) - 1.0) * bound
        out.append((w.T.contiguous().to(dtype), b.to(dtype)))
    return out


def mlp(sizes: Sequence[int], seed: int, *, activation: str = "relu", dtype=None, device="cpu"):
    """One ``torch.nn.Sequential`` MLP (``Linear``, activation, ..., ``Linear``), seeded.

    It is model ``m`` of a :class:`BatchedMLP` built with ``seeds[m] == seed``.
    """
    _activation(activation)
    sizes = _check_sizes(sizes)
    layers = []
    for i, (w, b) in enumerate(init_params(sizes, seed, dtype)):
        # skip_init: leave torch's global random stream alone; the weights come from the seed
        lin = torch.nn.utils.skip_init(torch.nn.Linear, w.shape[0], w.shape[1], dtype=w.dtype)
        with torch.no_grad():
            lin.weight.copy_(w.T)
            lin.bias.copy_(b)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU() if activation == "relu" else torch.nn.Tanh())
    return torch.nn.Sequential(*layers).to(device)


class BatchedMLP(torch.nn.Module):
    r"""``len(seeds)`` independent MLPs with stacked parameters, evaluated in one pass.

    Parameters
    ----------
    sizes : sequence of int >= 1
        Layer widths, input first, e.g. ``(64, 64, 10)``.
    seeds : sequence of int >= 0
        One per model; model ``m`` is initialised as :func:`mlp` with ``seeds[m]``.
    activation : "relu" or "tanh"
    dtype : torch dtype (default float32); device : torch device

    Attributes
    ----------
    weights, biases : ``nn.ParameterList`` of ``(M, in, out)`` and ``(M, out)`` tensors.
    """

    def __init__(self, sizes: Sequence[int], seeds: Sequence[int], *, activation: str = "relu",
                 dtype=None, device="cpu"):
        super().__init__()
        self.sizes = _check_sizes(sizes)
        self.seeds = [_int_at_least(f"seeds[{i}]", s, 0) for i, s in enumerate(seeds)]
        if not self.seeds:
            raise ValueError("seeds must hold at least one seed (one per model)")
        self.activation = activation
        self._act = _activation(activation)
        dtype = torch.float32 if dtype is None else dtype
        per_model = [init_params(self.sizes, s, dtype) for s in self.seeds]
        self.weights = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.stack([p[l][0] for p in per_model]).to(device))
             for l in range(len(self.sizes) - 1)])
        self.biases = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.stack([p[l][1] for p in per_model]).to(device))
             for l in range(len(self.sizes) - 1)])

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    def forward(self, x):
        r"""Logits ``(M, B, out)`` for inputs ``(B, in)`` (shared) or ``(M, B, in)`` (per model)."""
        if x.dim() not in (2, 3) or x.shape[-1] != self.sizes[0] or (x.dim() == 3 and x.shape[0] != self.n_models):
            raise ValueError(f"x must have shape (B, {self.sizes[0]}) or ({self.n_models}, B, "
                             f"{self.sizes[0]}), got {tuple(x.shape)}")
        h = x
        last = len(self.weights) - 1
        for l, (w, b) in enumerate(zip(self.weights, self.biases)):
            h = _affine(b, h, w)
            if l < last:
                h = self._act(h)
        return h

    def loss(self, x, y, *, loss: Callable | None = None):
        r"""Per-model mean loss, shape ``(M,)``: :math:`\frac1B\sum_i \ell(f_m(x_i), y_i)`.

        ``y`` has shape ``(B,)`` (shared) or ``(M, B)``; ``loss`` (default cross-entropy)
        must accept ``reduction="none"``.
        """
        loss = F.cross_entropy if loss is None else loss
        logits = self(x)
        M, B = logits.shape[:2]
        y = y.expand(M, B) if y.dim() == 1 else y
        return loss(logits.reshape(M * B, -1), y.reshape(M * B), reduction="none").reshape(M, B).mean(1)

    def accuracy(self, x, y):
        """Per-model fraction of correct argmax predictions, shape ``(M,)``."""
        with torch.no_grad():
            pred = self(x).argmax(-1)
            y = y.expand_as(pred) if y.dim() == 1 else y
            return (pred == y).to(torch.float64).mean(1)

    def unstack(self, m: int):
        """Model ``m`` as a standalone ``nn.Sequential`` (a copy of its current parameters)."""
        m = _int_at_least("m", m, 0)
        if m >= self.n_models:
            raise ValueError(f"m must be in [0, {self.n_models}), got {m}")
        net = mlp(self.sizes, self.seeds[m], activation=self.activation,
                  dtype=self.weights[0].dtype, device=self.weights[0].device)
        linears = [layer for layer in net if isinstance(layer, torch.nn.Linear)]
        with torch.no_grad():
            for lin, w, b in zip(linears, self.weights, self.biases):
                lin.weight.copy_(w[m].T)
                lin.bias.copy_(b[m])
        return net

    def extra_repr(self) -> str:
        return f"sizes={self.sizes}, n_models={self.n_models}, activation={self.activation!r}"


def stacked_losses(models: Sequence[BatchedMLP], x, y):
    r"""Per-model mean cross-entropy of several BatchedMLPs at once: shape ``(G, M)``.

    All ``G`` stacks must have the same sizes, activation and ``M`` models, and see the
    same batch: ``x`` ``(M, B, in)`` (or ``(B, in)``), ``y`` ``(M, B)`` (or ``(B,)``).  Their
    parameters are concatenated along the model axis (``torch.cat``, which autograd splits
    back), so the forward and backward passes are one batched product per layer for all
    ``G * M`` models, instead of one per stack.
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one BatchedMLP")
    first = models[0]
    if any(m.sizes != first.sizes or m.activation != first.activation or m.n_models != first.n_models
           for m in models):
        raise ValueError("models must share sizes, activation and n_models")
    G, M = len(models), first.n_models
    if G == 1:
        return first.loss(x, y)[None]
    h = x if x.dim() == 2 else x.repeat(G, 1, 1)
    last = len(first.weights) - 1
    for l in range(last + 1):
        w = torch.cat([m.weights[l] for m in models])
        b = torch.cat([m.biases[l] for m in models])
        h = _affine(b, h, w)
        if l < last:
            h = first._act(h)
    B = h.shape[1]
    y = (y.expand(M, B) if y.dim() == 1 else y).repeat(G, 1)
    ce = F.cross_entropy(h.reshape(G * M * B, -1), y.reshape(-1), reduction="none")
    return ce.reshape(G, M, B).mean(2)


def _affine(b, h, w):
    """``h @ w + b`` for stacked ``w (M, in, out)``, ``b (M, out)``; ``h`` (B, in) or (M, B, in)."""
    if h.dim() == 2:
        return torch.matmul(h, w) + b[:, None, :]
    return torch.baddbmm(b[:, None, :], h, w)


# --------------------------------------------------------------------------- transformers
class BatchedTransformer(torch.nn.Module):
    r"""``len(seeds)`` independent causal (decoder-only, GPT-2 style) transformers, stacked.

    Each model maps tokens :math:`x_0..x_{L-1}` to logits for the token at every position
    given the ones before it.  Per model: token and learned position embeddings, then
    ``n_layers`` pre-LayerNorm blocks

    .. math::
        h \leftarrow h + \mathrm{Attn}(\mathrm{LN}_1(h)), \qquad
        h \leftarrow h + W_2\,\mathrm{GELU}(W_1\,\mathrm{LN}_2(h) + b_1) + b_2,

    with causal multi-head self-attention (``n_heads`` heads,
    ``torch.nn.functional.scaled_dot_product_attention`` with ``is_causal=True``), a final
    LayerNorm and an untied linear read-out to ``vocab`` logits.  As in
    :class:`BatchedMLP`, every parameter has a leading model axis ``M``, every matrix
    product is batched over it, and the models never share a parameter: a summed loss
    trains each one exactly as alone.

    Initialisation (GPT-2's): weights and embeddings :math:`\mathcal N(0, 0.02^2)`, the two
    projections back into the residual stream :math:`\mathcal N(0, (0.02/\sqrt{2n_{\text{layers}}})^2)`,
    biases 0, LayerNorm gains 1; drawn in float64 from
    ``torch.Generator().manual_seed(derive_seed(seed, 0))``, so a seed gives the same model
    in any stack.

    Parameters
    ----------
    vocab : int >= 2;  seq_len : int >= 1 (the longest input)
    seeds : sequence of int >= 0, one per model
    d_model : int >= 1, a multiple of ``n_heads``;  n_heads, n_layers : int >= 1
    d_ff : int >= 1 (default ``4 * d_model``)
    dtype : torch dtype (default float32);  device : torch device
    """

    _BLOCK = ("ln1_w", "ln1_b", "qkv_w", "qkv_b", "out_w", "out_b",
              "ln2_w", "ln2_b", "fc1_w", "fc1_b", "fc2_w", "fc2_b")

    def __init__(self, vocab: int, seq_len: int, seeds: Sequence[int], *, d_model: int = 32,
                 n_heads: int = 2, n_layers: int = 2, d_ff: int | None = None, dtype=None, device="cpu"):
        super().__init__()
        self.vocab = _int_at_least("vocab", vocab, 2)
        self.seq_len = _int_at_least("seq_len", seq_len, 1)
        self.seeds = [_int_at_least(f"seeds[{i}]", s, 0) for i, s in enumerate(seeds)]
        if not self.seeds:
            raise ValueError("seeds must hold at least one seed (one per model)")
        self.d_model = _int_at_least("d_model", d_model, 1)
        self.n_heads = _int_at_least("n_heads", n_heads, 1)
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model must be a multiple of n_heads={self.n_heads}, got {self.d_model}")
        self.n_layers = _int_at_least("n_layers", n_layers, 1)
        self.d_ff = 4 * self.d_model if d_ff is None else _int_at_least("d_ff", d_ff, 1)
        dtype = torch.float32 if dtype is None else dtype
        per_model = [self._init(s) for s in self.seeds]
        self.params = torch.nn.ParameterDict({
            k: torch.nn.Parameter(torch.stack([p[k] for p in per_model]).to(dtype=dtype, device=device))
            for k in per_model[0]})

    def _init(self, seed: int) -> dict:
        gen = torch.Generator().manual_seed(derive_seed(seed, INIT))
        V, L, d, f, n = self.vocab, self.seq_len, self.d_model, self.d_ff, self.n_layers

        def normal(*shape, std=0.02):
            return torch.randn(*shape, generator=gen, dtype=torch.float64) * std

        res = 0.02 / np.sqrt(2 * n)
        zeros, ones = (lambda *s: torch.zeros(*s, dtype=torch.float64)), (lambda *s: torch.ones(*s, dtype=torch.float64))
        return {"tok": normal(V, d), "pos": normal(L, d),
                "ln1_w": ones(n, d), "ln1_b": zeros(n, d),
                "qkv_w": normal(n, d, 3 * d), "qkv_b": zeros(n, 3 * d),
                "out_w": normal(n, d, d, std=res), "out_b": zeros(n, d),
                "ln2_w": ones(n, d), "ln2_b": zeros(n, d),
                "fc1_w": normal(n, d, f), "fc1_b": zeros(n, f),
                "fc2_w": normal(n, f, d, std=res), "fc2_b": zeros(n, d),
                "lnf_w": ones(d), "lnf_b": zeros(d), "head": normal(d, V)}

    @property
    def n_models(self) -> int:
        return len(self.seeds)

    def forward(self, tokens, params: dict | None = None):
        r"""Logits ``(M, B, L, vocab)`` for tokens ``(B, L)`` (shared) or ``(M, B, L)``.

        ``params`` (default: this model's) may be a dict of stacked tensors with another
        number of models, e.g. several stacks concatenated (see :func:`stacked_lm_losses`).
        """
        p = dict(self.params) if params is None else params
        M = p["tok"].shape[0]
        if tokens.dim() == 2:
            tokens = tokens.expand(M, *tokens.shape)
        if tokens.dim() != 3 or tokens.shape[0] != M or not (1 <= tokens.shape[2] <= self.seq_len):
            raise ValueError(f"tokens must have shape (B, L) or ({M}, B, L) with 1 <= L <= "
                             f"{self.seq_len}, got {tuple(tokens.shape)}")
        B, L = tokens.shape[1:]
        d, H = self.d_model, self.n_heads
        rows = torch.arange(M, device=tokens.device)[:, None, None]
        h = p["tok"][rows, tokens] + p["pos"][:, None, :L]                   # (M, B, L, d)
        h = h.reshape(M, B * L, d)
        for i in range(self.n_layers):
            a = _layer_norm(h, p["ln1_w"][:, i], p["ln1_b"][:, i])
            qkv = torch.baddbmm(p["qkv_b"][:, i, None], a, p["qkv_w"][:, i])  # (M, B*L, 3d)
            q, k, v = qkv.reshape(M * B, L, 3, H, d // H).permute(2, 0, 3, 1, 4)
            att = F.scaled_dot_product_attention(q, k, v, is_causal=True)    # (M*B, H, L, d/H)
            att = att.permute(0, 2, 1, 3).reshape(M, B * L, d)
            h = h + torch.baddbmm(p["out_b"][:, i, None], att, p["out_w"][:, i])
            a = _layer_norm(h, p["ln2_w"][:, i], p["ln2_b"][:, i])
            a = F.gelu(torch.baddbmm(p["fc1_b"][:, i, None], a, p["fc1_w"][:, i]))
            h = h + torch.baddbmm(p["fc2_b"][:, i, None], a, p["fc2_w"][:, i])
        h = _layer_norm(h, p["lnf_w"], p["lnf_b"])
        return torch.bmm(h, p["head"]).reshape(M, B, L, self.vocab)

    def loss(self, tokens, *, start: int = 0, params: dict | None = None):
        r"""Per-model next-token cross-entropy, shape ``(M,)``.

        Inputs ``tokens[..., :-1]``, targets ``tokens[..., 1:]``; the mean is over the batch
        and over target positions ``t >= start`` (position of the target in ``tokens``;
        ``start = k`` keeps only tokens with a full order-:math:`k` context).
        """
        start = _int_at_least("start", start, 0)
        if tokens.shape[-1] < 2 or start >= tokens.shape[-1]:
            raise ValueError(f"tokens need at least 2 positions and start < length, got shape "
                             f"{tuple(tokens.shape)} and start={start}")
        logits = self(tokens[..., :-1], params)                          # (M, B, L-1, V)
        M, B = logits.shape[:2]
        first = max(start - 1, 0)
        logits = logits[:, :, first:]
        target = tokens[..., 1:][..., first:].expand(M, B, -1)
        ce = F.cross_entropy(logits.reshape(-1, self.vocab), target.reshape(-1), reduction="none")
        return ce.reshape(M, -1).mean(1)

    def log_probs(self, tokens):
        r"""Log-probabilities ``(M, B, L, V)`` of the token at each position ``t >= 1`` given
        the ones before it (row ``t = 0``, which has no prediction, is ``log(1/V)``).

        ``tokens`` ``(B, L)`` with ``L <= seq_len + 1``; the form
        :meth:`lrnotes.nets.markov.MarkovSource.excess_loss` takes.
        """
        with torch.no_grad():
            lp = F.log_softmax(self(tokens[..., :-1]).float(), dim=-1)
            first = torch.full_like(lp[:, :, :1], -float(np.log(self.vocab)))
            return torch.cat([first, lp], dim=2)

    def extra_repr(self) -> str:
        return (f"vocab={self.vocab}, seq_len={self.seq_len}, d_model={self.d_model}, n_heads={self.n_heads}, "
                f"n_layers={self.n_layers}, d_ff={self.d_ff}, n_models={self.n_models}")


def _layer_norm(h, w, b):
    """LayerNorm over the last axis with per-model gain ``w`` and bias ``b`` of shape (M, d)."""
    return torch.addcmul(b[:, None], F.layer_norm(h, h.shape[-1:]), w[:, None])


def stacked_lm_losses(models: Sequence[BatchedTransformer], tokens, *, start: int = 0):
    r"""Per-model losses ``(G, M)`` of several :class:`BatchedTransformer` stacks in one pass.

    The stacks must share their architecture and ``M``; ``tokens`` ``(M, B, L)`` (or
    ``(B, L)``) is the same batch for every stack.  Their parameters are concatenated
    along the model axis (autograd splits the gradient back), so one batched forward and
    backward pass serves all ``G * M`` models.
    """
    models = list(models)
    if not models:
        raise ValueError("models must hold at least one BatchedTransformer")
    first = models[0]
    arch = (first.vocab, first.seq_len, first.d_model, first.n_heads, first.n_layers, first.d_ff, first.n_models)
    if any((m.vocab, m.seq_len, m.d_model, m.n_heads, m.n_layers, m.d_ff, m.n_models) != arch for m in models):
        raise ValueError("models must share their architecture and n_models")
    G, M = len(models), first.n_models
    if G == 1:
        return first.loss(tokens, start=start)[None]
    params = {k: torch.cat([m.params[k] for m in models]) for k in first.params}
    toks = tokens.repeat(G, 1, 1) if tokens.dim() == 3 else tokens
    return first.loss(toks, start=start, params=params).reshape(G, M)
