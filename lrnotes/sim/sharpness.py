r"""Sharpness: the top Hessian eigenvalue, by power iteration on Hessian-vector products.

The Hessian is never formed.  A Hessian-vector product is one more backward pass through
the gradient (double backward, torch autograd):

.. math:: H v = \nabla_\theta \bigl(\nabla_\theta L(\theta)^\top v\bigr).

Power iteration :math:`v \leftarrow Hv/\|Hv\|` converges to the eigenvalue of largest
*magnitude*; if that one is negative, a second run on the shifted
:math:`H - \lambda_{\text{neg}} I` (whose spectrum is :math:`\ge 0`) finds the largest
algebraic eigenvalue, :math:`\lambda_{\max}`, which is what is returned.  The stability
limit of gradient descent is :math:`\lambda_{\max} < 2/\eta`.

Works on stacked (batched) models too: when every parameter tensor has a leading axis of
``n_models`` and the loss is a sum of per-model losses, the Hessian is block diagonal and
each model's block gets its own power iteration, all at once.

Contents
--------
Eigen           the result: eigenvalue(s), eigenvector, iterations, convergence
hvp             Hessian-vector product of a loss (double backward)
top_eigenvalue  power iteration for λ_max of the Hessian of ``loss_fn()`` in ``params``
sharpness       λ_max of a model's loss on a batch (a torch model, or a BatchedMLP: one per model)
during          train a lrnotes.nets.train.Trainer and measure every model's λ_max along the way
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from lrnotes.schedules import _int_at_least, _positive_real

__all__ = ["Eigen", "hvp", "top_eigenvalue", "sharpness", "during"]


@dataclass
class Eigen:
    """Result of :func:`top_eigenvalue`.

    ``value`` is :math:`\\lambda_{\\max}` (a float, or an array ``(n_models,)`` for a
    batched model); ``vector`` the unit eigenvector (per model), as tensors shaped like
    the parameters (pass it as ``init`` to warm-start the next estimate); ``iters`` the
    Hessian-vector products used; ``converged`` whether the relative change of the
    estimate fell below ``tol`` (per model).
    """

    value: float | np.ndarray
    vector: list
    iters: int
    converged: bool | np.ndarray


def hvp(loss, params: Sequence, vector: Sequence, *, grads=None):
    r"""Hessian-vector product :math:`\nabla^2 L(\theta)\, v` by double backward.

    ``params``: tensors with ``requires_grad``; ``vector``: tensors of the same shapes.
    Pass ``grads = torch.autograd.grad(loss, params, create_graph=True)`` to reuse them
    across many products.
    """
    import torch

    params = list(params)
    if grads is None:
        grads = torch.autograd.grad(loss, params, create_graph=True)
    return list(torch.autograd.grad(grads, params, grad_outputs=list(vector), retain_graph=True))


def top_eigenvalue(loss_fn: Callable, params: Sequence, *, batched: bool = False, iters: int = 200,
                   tol: float = 1e-6, seed: int = 0, init: Sequence | None = None) -> Eigen:
    r"""The largest eigenvalue :math:`\lambda_{\max}` of the Hessian of ``loss_fn()`` in ``params``.

    Power iteration :math:`v_{i+1} = H v_i / \|H v_i\|`, estimate
    :math:`\lambda = v_i^\top H v_i` (Rayleigh quotient), stopped when
    :math:`|\lambda_{i} - \lambda_{i-1}| \le \text{tol}\,|\lambda_i|` (for every model) or
    after ``iters`` products.  The error of :math:`\lambda` shrinks like
    :math:`(\lambda_2/\lambda_1)^{2i}`.  If the dominant eigenvalue is negative, the
    iteration is repeated on :math:`H - \lambda I` (see the module docstring).

    Parameters
    ----------
    loss_fn : function () -> scalar tensor
        Called once; the graph is kept for all the products.
    params : sequence of tensors with ``requires_grad``
    batched : bool
        Every tensor in ``params`` has a leading axis of ``n_models`` and ``loss_fn()`` is a
        sum of per-model losses: returns one eigenvalue per model.
    iters : int >= 1, tol : float > 0
    seed : int >= 0
        Seeds the random start (a ``torch.Generator``): the result is deterministic.
    init : sequence of tensors, optional
        A start vector shaped like ``params`` (e.g. the previous ``Eigen.vector``).

    Returns
    -------
    Eigen
    """
    import torch

    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
        raise ValueError("params must be a non-empty sequence of tensors with requires_grad=True")
    iters = _int_at_least("iters", iters, 1)
    tol = _positive_real("tol", tol)
    seed = _int_at_least("seed", seed, 0)
    if batched:
        M = params[0].shape[0] if params[0].dim() > 0 else 0
        if M < 1 or any(p.dim() < 1 or p.shape[0] != M for p in params):
            raise ValueError("batched=True needs every parameter to have the same leading "
                             "n_models axis")
    if init is not None:
        init = list(init)
        if len(init) != len(params) or any(tuple(a.shape) != tuple(p.shape) for a, p in zip(init, params)):
            raise ValueError("init must be tensors of the same shapes as params")

    loss = loss_fn()
    if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
        raise ValueError("loss_fn() must return a scalar tensor")
    grads = torch.autograd.grad(loss, params, create_graph=True)

    def dot(a, b):  # per model (M,) if batched, else a 0-d tensor
        if batched:
            return sum((x * y).reshape(M, -1).sum(1) for x, y in zip(a, b))
        return sum((x * y).sum() for x, y in zip(a, b))

    def scale(a, c):  # multiply each model's block by c
        if batched:
            return [x * c.reshape((M,) + (1,) * (x.dim() - 1)) for x in a]
        return [x * c for x in a]

    def normalised(a):
        n = torch.sqrt(dot(a, a))
        return scale(a, 1.0 / torch.clamp(n, min=torch.finfo(n.dtype).tiny))

    if init is None:
        gen = torch.Generator().manual_seed(seed)
        init = [torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device) for p in params]
    v = normalised([a.detach().to(dtype=p.dtype, device=p.device) for a, p in zip(init, params)])

    def power(v, shift, budget):
        lam, used = None, 0
        conv = None
        for _ in range(budget):
            hv = hvp(None, params, v, grads=grads)
            if shift is not None:
                hv = [h - s for h, s in zip(hv, scale(v, shift))]
            new = dot(v, hv).detach()
            used += 1
            v = normalised([h.detach() for h in hv])
            if lam is not None:
                conv = torch.abs(new - lam) <= tol * torch.abs(new)
                if bool(torch.all(conv)):
                    lam = new
                    break
            lam = new
        if conv is None:
            conv = torch.zeros_like(lam, dtype=torch.bool)
        return lam, v, used, conv

    lam, v, used, conv = power(v, None, iters)
    if bool(torch.any(lam < 0)):
        shift = torch.clamp(lam, max=0.0)
        mu, v, used2, conv = power(v, shift, iters)
        lam, used = mu + shift, used + used2
    value = lam.cpu().numpy().astype(float) if batched else float(lam)
    converged = conv.cpu().numpy() if batched else bool(conv)
    return Eigen(value=value, vector=v, iters=used, converged=converged)


def sharpness(model, inputs, targets, *, loss: Callable | None = None, **kwargs) -> float | np.ndarray:
    r""":math:`\lambda_{\max}` of the Hessian of a model's mean loss on one batch.

    ``model`` is a torch module (then the loss is ``loss(model(inputs), targets)``) or a
    :class:`!lrnotes.nets.models.BatchedMLP` (then the loss is the sum over models of each
    model's mean loss, and the result is an array with one eigenvalue per model).
    ``loss`` defaults to cross-entropy.  Other keywords go to :func:`top_eigenvalue`.
    """
    import torch.nn.functional as F

    from lrnotes.nets.models import BatchedMLP

    loss = F.cross_entropy if loss is None else loss
    params = [p for p in model.parameters() if p.requires_grad]
    if isinstance(model, BatchedMLP):
        def loss_fn():
            return model.loss(inputs, targets, loss=loss).sum()

        return top_eigenvalue(loss_fn, params, batched=True, **kwargs).value

    def loss_fn():
        return loss(model(inputs), targets)

    return top_eigenvalue(loss_fn, params, **kwargs).value


def during(trainer, until: int, every: int, inputs, targets, *, loss: Callable | None = None,
           iters: int = 30, tol: float = 1e-3, num_threads: int | None = 1):
    r"""Train ``trainer`` up to ``until`` updates and measure sharpness every ``every`` updates.

    At the trainer's current step and then at each multiple of ``every`` up to ``until``
    (and at ``until``), every model of every schedule group gets
    :math:`\lambda_{\max}` of the Hessian of its mean ``loss`` (default cross-entropy) on
    ``(inputs, targets)``, by :func:`top_eigenvalue` with the previous eigenvector as the
    start (a warm start: a few products per measurement once the run is smooth).

    Parameters
    ----------
    trainer : lrnotes.nets.train.Trainer
    until : int >= trainer.step;  every : int >= 1
    inputs, targets : tensors on the trainer's device (e.g. the whole training set)
    iters, tol : per measurement (see :func:`top_eigenvalue`)
    num_threads : torch CPU threads while measuring (default 1, as for training)

    Returns
    -------
    steps : int array (K,);  values : array (G, M, K) — one row per schedule group (in
    ``trainer.names`` order), one column per seed.  ``trainer.result()`` has the rest.
    """
    from lrnotes.nets.train import _threads

    until = _int_at_least("until", until, trainer.step)
    every = _int_at_least("every", every, 1)
    start = trainer.step
    steps = sorted({start, until} | set(range(start - start % every + every, until, every)))
    params = {k: [p for p in trainer.models[k].parameters() if p.requires_grad] for k in trainer.names}
    vectors = {k: None for k in trainer.names}
    out = np.zeros((len(trainer.names), len(trainer.cfg.seeds), len(steps)))
    for j, t in enumerate(steps):
        if t > trainer.step:
            trainer.run(t)
        with _threads(num_threads, inputs.device):
            for g, name in enumerate(trainer.names):
                model = trainer.models[name]

                def loss_fn(model=model):
                    return model.loss(inputs, targets, loss=loss).sum()

                eig = top_eigenvalue(loss_fn, params[name], batched=True, iters=iters, tol=tol,
                                     init=vectors[name])
                vectors[name] = eig.vector
                out[g, :, j] = eig.value
    return np.array(steps), out
