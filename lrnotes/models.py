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
exactly training the models one by one (:mod:`lrnotes.train` tests this).

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
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .schedules import _int_at_least

__all__ = ["ACTIVATIONS", "derive_seed", "init_params", "mlp", "BatchedMLP", "stacked_losses"]

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
