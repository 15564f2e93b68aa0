r"""Small instruments for the failure-mode case studies (chapter 5).

Contents
--------
GradientLog      wrap a landscape for :func:`lrnotes.sim.sgd.simulate`: Gaussian gradient noise,
                 and a record of every gradient's norm (before clipping)
clip_scale       the factor :math:`\min(1, c/(\|g\| + 10^{-6}))` that norm clipping applies
first_failure    per seed, the smallest learning rate of a sweep at which a run failed
changed_fraction the fraction of parameter entries that differ between two snapshots
"""

from __future__ import annotations

import numpy as np

from lrnotes.schedules import _real

__all__ = ["GradientLog", "clip_scale", "first_failure", "changed_fraction"]


class GradientLog:
    r"""A landscape with noisy gradients whose norms are recorded, for :func:`lrnotes.sim.sgd.simulate`.

    The oracle is :math:`g = \nabla f(x) + \sigma\xi`, :math:`\xi \sim \mathcal N(0, I_d)`,
    drawn from the simulator's ``rng`` (leave ``simulate``'s own ``sigma`` at 0).  Every call
    appends :math:`\|g\|` of each trajectory, so after a run ``norms`` has shape
    ``(n, C, N)``: steps, configurations (flattened batch), seeds.  These are the norms
    *before* clipping, which is what a training log shows and what a clipping threshold
    is compared with.
    """

    def __init__(self, landscape, sigma: float = 0.0):
        for attr in ("dim", "gap", "grad"):
            if not hasattr(landscape, attr):
                raise ValueError(f"landscape must be an lrnotes.sim.landscapes landscape; it has no {attr!r}")
        self.landscape = landscape
        self.sigma = _real("sigma", sigma, low=0.0)
        self.dim = landscape.dim
        self._norms = []

    def gap(self, x):
        return self.landscape.gap(x)

    def sample_grad(self, x, rng):
        g = self.landscape.grad(x)
        if self.sigma:
            g = g + self.sigma * rng.standard_normal(x.shape)
        self._norms.append(np.sqrt(np.sum(g * g, axis=-1)))
        return g

    @property
    def norms(self) -> np.ndarray:
        """Gradient norms recorded so far, shape ``(n, C, N)`` (empty ``(0,)`` before a run)."""
        return np.array(self._norms) if self._norms else np.zeros(0)

    def reset(self) -> None:
        """Forget the recorded norms (before reusing the wrapper for another run)."""
        self._norms = []


def clip_scale(norms, threshold: float) -> np.ndarray:
    r"""The factor norm clipping multiplies each gradient by: :math:`\min(1, c/(\|g\| + 10^{-6}))`.

    The same formula as ``torch.nn.utils.clip_grad_norm_`` and :func:`lrnotes.sim.sgd.simulate`;
    the *effective* learning rate of a clipped step is :math:`\eta_t` times this factor.
    """
    c = _real("threshold", threshold, low=0.0, low_open=True)
    return np.minimum(1.0, c / (np.asarray(norms, dtype=float) + 1e-6))


def first_failure(lrs, failed) -> np.ndarray:
    r"""Per seed, the smallest learning rate of a sweep whose run failed (``inf`` if none).

    ``lrs``: shape ``(k,)``, the sweep (any order); ``failed``: booleans ``(k, M)``, run
    ``j`` of seed ``m`` failed.  Returns shape ``(M,)``.
    """
    lrs = np.asarray(lrs, dtype=float)
    failed = np.asarray(failed, dtype=bool)
    if lrs.ndim != 1 or failed.ndim != 2 or failed.shape[0] != lrs.shape[0]:
        raise ValueError(f"lrs must have shape (k,) and failed shape (k, M); got {lrs.shape} and {failed.shape}")
    return np.where(failed, lrs[:, None], np.inf).min(axis=0)


def changed_fraction(before, after, *, per_model: bool = False):
    """Fraction of entries that differ between two snapshots (lists of tensors or arrays).

    With ``per_model=True`` every tensor's leading axis is a stack of models (as in a
    :class:`lrnotes.nets.models.BatchedMLP`) and the result is one fraction per model, shape ``(M,)``.
    """
    before, after = list(before), list(after)
    if len(before) != len(after) or not before:
        raise ValueError("before and after must be non-empty lists of the same length")
    diffs = []
    for a, b in zip(before, after):
        a, b = np.asarray(_numpy(a)), np.asarray(_numpy(b))
        if a.shape != b.shape:
            raise ValueError(f"shapes differ: {a.shape} and {b.shape}")
        diffs.append(a != b)
    if not per_model:
        return float(sum(int(np.count_nonzero(d)) for d in diffs) / sum(d.size for d in diffs))
    if any(d.ndim < 1 or d.shape[0] != diffs[0].shape[0] for d in diffs):
        raise ValueError("with per_model=True every tensor needs the same leading (models) axis")
    flat = np.concatenate([d.reshape(d.shape[0], -1) for d in diffs], axis=1)
    return flat.mean(axis=1)


def _numpy(t):
    if hasattr(t, "detach"):
        return t.detach().float().cpu().numpy()
    return t
