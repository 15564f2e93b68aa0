r"""Curvature-aware learning rates: :math:`\eta_t = \alpha(t)/\lambda_{\max}(H_t)`.

The identity notes (source §8.3) propose dividing a global schedule :math:`\alpha(t)` by the top
Hessian eigenvalue.  :class:`CurvatureScale` does it for networks trained with
:class:`lrnotes.nets.train.Trainer`: passed as ``lr_factor``, it re-estimates
:math:`\lambda_{\max}` of every model every ``every`` updates by power iteration on
Hessian-vector products (:func:`lrnotes.sim.sharpness.top_eigenvalue`, warm-started from the
previous eigenvector) on a fixed probe batch, and multiplies each model's gradient by
:math:`1/\lambda_{\max}`; the Trainer's schedule is :math:`\alpha(t)`.  For plain SGD that
is exactly :math:`\eta_t = \alpha(t)/\lambda_{\max}`.  It counts the Hessian-vector
products it spends, the price of the idea.

Contents
--------
CurvatureScale   the Trainer hook: per-model 1/lambda_max, with its HVP count and history
"""

from __future__ import annotations

import numpy as np

from lrnotes.schedules import _int_at_least, _positive_real

__all__ = ["CurvatureScale"]


class CurvatureScale:
    r"""``Trainer(lr_factor=CurvatureScale(...))``: per-model factors :math:`1/\lambda_{\max}`.

    Parameters
    ----------
    probe : int >= 1
        The first ``probe`` training examples form the fixed batch on which
        :math:`\lambda_{\max}` is estimated (the same batch for every model).
    every : int >= 1
        Re-estimate every ``every`` updates (the factor is held in between).
    iters : int >= 1;  tol : float > 0
        Power-iteration budget and relative tolerance per estimate.
    floor : float > 0
        Lower limit on :math:`\lambda_{\max}` (a flat start must not give an infinite step).
        A model whose estimate is not finite (it has diverged) gets the factor 0.

    Attributes
    ----------
    hvps : int — Hessian-vector products spent so far, summed over groups (each product
        covers all the models of a group at once: one double-backward pass)
    steps : list of int — the updates at which :math:`\lambda_{\max}` was estimated
    history : list of arrays ``(G, M)`` — the estimates
    """

    def __init__(self, probe: int = 256, every: int = 10, iters: int = 20, tol: float = 1e-3,
                 floor: float = 1e-3):
        self.probe = _int_at_least("probe", probe, 1)
        self.every = _int_at_least("every", every, 1)
        self.iters = _int_at_least("iters", iters, 1)
        self.tol = _positive_real("tol", tol)
        self.floor = _positive_real("floor", floor)
        self.hvps = 0
        self.steps = []
        self.history = []
        self._vectors = {}
        self._factor = None

    def estimate(self, trainer) -> np.ndarray:
        r""":math:`\lambda_{\max}` of every model of ``trainer`` now, shape ``(G, M)``."""
        from lrnotes.sim.sharpness import top_eigenvalue

        d = trainer.cfg.data
        x, y = d.x_train[: self.probe], d.y_train[: self.probe]
        out = []
        for name in trainer.names:
            model = trainer.models[name]
            params = list(model.parameters())
            eig = top_eigenvalue(lambda: model.loss(x, y).sum(), params, batched=True, iters=self.iters,
                                 tol=self.tol, init=self._vectors.get(name))
            self._vectors[name] = eig.vector
            self.hvps += eig.iters
            out.append(np.asarray(eig.value, dtype=float))
        return np.stack(out)

    def __call__(self, trainer, t, x, y, losses) -> np.ndarray:
        if self._factor is None or t % self.every == 0:
            lam = self.estimate(trainer)
            self.steps.append(int(t))
            self.history.append(lam)
            ok = np.isfinite(lam)
            self._factor = np.where(ok, 1.0 / np.maximum(np.where(ok, lam, 1.0), self.floor), 0.0)
        return self._factor
