r"""Batch size and peak learning rate: sweeps at a fixed epoch budget, and sharpness along a run.

The linear scaling rule compares runs that see the same number of examples: a batch
``k`` times larger takes ``k`` times fewer steps.  :func:`batch_lr_sweep` trains, for each
batch size :math:`B`, one group of networks per peak learning rate (all seeds batched,
:func:`lrnotes.nets.train.train`) for ``epochs`` passes over the training set, i.e.
:math:`T_B = \text{epochs}\cdot\lfloor n/B\rfloor` steps (the trainer drops the
incomplete last batch), and records the final full-training-set loss.
:func:`sharpness_along` retrains one configuration and measures :math:`\lambda_{\max}`
of the full-batch loss Hessian at chosen steps, to compare with the stability limit
:math:`2/\eta_t`.

Contents
--------
BatchSweep        final losses (batch sizes x peaks x seeds), the best peak per batch size, the largest stable one
batch_lr_sweep    run the sweep
sharpness_along   λ_max of the training loss at chosen steps of one run (one value per seed)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from lrnotes import schedules as S
from lrnotes.schedules import _int_at_least

__all__ = ["BatchSweep", "batch_lr_sweep", "sharpness_along"]


@dataclass
class BatchSweep:
    r"""Result of :func:`batch_lr_sweep`.

    Attributes
    ----------
    batch_sizes : (nB,) int;  peaks : (nP,) float (ascending);  seeds : list of M ints
    epochs : int;  steps : (nB,) int — updates per run, :math:`\text{epochs}\cdot\lfloor n/B\rfloor`
    init_loss : (M,) — full-training-set loss at initialisation (the same for every B)
    final_loss : (nB, nP, M) — full-training-set loss after the run; ``inf`` if not finite
    test_acc : (nB, nP, M) — test accuracy after the run
    seconds : float — wall time of the training
    """

    batch_sizes: np.ndarray
    peaks: np.ndarray
    seeds: list
    epochs: int
    steps: np.ndarray
    init_loss: np.ndarray
    final_loss: np.ndarray
    test_acc: np.ndarray
    seconds: float

    def mean_loss(self) -> np.ndarray:
        """Mean final loss over seeds, ``(nB, nP)`` (``inf`` if any seed blew up)."""
        return self.final_loss.mean(axis=-1)

    def unstable(self) -> np.ndarray:
        """``(nB, nP, M)``: runs that ended not finite or above their initial loss."""
        return ~(self.final_loss < self.init_loss)

    def best(self) -> np.ndarray:
        """The peak with the lowest mean final loss, per batch size: ``(nB,)``."""
        return self.peaks[np.argmin(self.mean_loss(), axis=1)]

    def best_per_seed(self) -> np.ndarray:
        """The peak with the lowest final loss for each seed: ``(nB, M)``."""
        return self.peaks[np.argmin(self.final_loss, axis=1)]

    def largest_stable(self) -> np.ndarray:
        """Per batch size, the largest peak such that no run at it *or below* is unstable
        (``nan`` if even the smallest peak is): ``(nB,)``."""
        ok = ~self.unstable().any(axis=-1)                 # (nB, nP)
        upto = np.cumprod(ok, axis=1).astype(bool)          # stable at every peak so far
        count = upto.sum(axis=1)
        return np.where(count > 0, self.peaks[np.maximum(count - 1, 0)], np.nan)


def _cosine(total: int, peak: float):
    return S.cosine(total, peak=peak)


def batch_lr_sweep(data, batch_sizes: Sequence[int], peaks: Sequence[float], seeds: Sequence[int], *,
                   epochs: int, schedule: Callable = _cosine, **train_kwargs) -> BatchSweep:
    r"""Train every (batch size, peak) pair for ``epochs`` epochs; all peaks and seeds of one
    batch size in one batched run.

    Parameters
    ----------
    data : lrnotes.nets.data.Dataset
    batch_sizes : ints in [1, n_train]
    peaks : ascending positive floats — the peak learning rates
    seeds : distinct ints >= 0 (the same initialisations and data orders for every run)
    epochs : int >= 1
    schedule : function ``(total_steps, peak) -> Schedule`` (default: cosine to zero)
    train_kwargs : passed to :func:`lrnotes.nets.train.train` (``hidden``, ``optimizer``, ...)
    """
    from lrnotes.nets.train import train

    epochs = _int_at_least("epochs", epochs, 1)
    n = int(data.y_train.shape[0])
    bs = np.array([_int_at_least(f"batch_sizes[{i}]", b, 1) for i, b in enumerate(batch_sizes)])
    if bs.size == 0 or bs.max() > n:
        raise ValueError(f"batch_sizes must be a non-empty list of ints in [1, {n}], got {list(batch_sizes)}")
    peaks = np.asarray(peaks, dtype=float)
    if peaks.ndim != 1 or peaks.size == 0 or not np.all(np.isfinite(peaks)) or np.any(peaks <= 0) \
            or np.any(np.diff(peaks) <= 0):
        raise ValueError("peaks must be a non-empty ascending array of positive learning rates")
    final, acc, steps, init = [], [], [], None
    t0 = time.perf_counter()
    for B in bs:
        T = epochs * (n // int(B))
        scheds = {f"{p!r}": schedule(T, float(p)) for p in peaks}
        res = train(data, scheds, list(seeds), T, batch_size=int(B), eval_at=[0], **train_kwargs)
        loss = res.train_loss[..., -1]
        final.append(np.where(np.isfinite(loss), loss, np.inf))
        acc.append(res.test_acc[..., -1])
        init = res.train_loss[0, :, 0]
        steps.append(T)
    return BatchSweep(batch_sizes=bs, peaks=peaks, seeds=list(seeds), epochs=epochs, steps=np.array(steps),
                      init_loss=init, final_loss=np.stack(final), test_acc=np.stack(acc),
                      seconds=time.perf_counter() - t0)


def sharpness_along(data, schedule, seeds: Sequence[int], at: Sequence[int], *, batch_size: int,
                    iters: int = 50, tol: float = 1e-3, **train_kwargs) -> np.ndarray:
    r""":math:`\lambda_{\max}` of the full-training-set loss Hessian after ``at[j]`` updates of
    one batched run (``schedule``, ``seeds``, ``batch_size``): shape ``(len(at), M)``.

    ``at`` must be ascending steps >= 0; the power iteration
    (:func:`lrnotes.sim.sharpness.sharpness`) uses ``iters`` and ``tol``.
    """
    from lrnotes.sim.sharpness import sharpness
    from lrnotes.nets.train import Trainer, _threads

    at = [_int_at_least(f"at[{i}]", t, 0) for i, t in enumerate(at)]
    if not at or any(b < a for a, b in zip(at, at[1:])):
        raise ValueError(f"at must be a non-empty ascending list of steps >= 0, got {at}")
    tr = Trainer(data, {"run": schedule}, list(seeds), batch_size=batch_size, **train_kwargs)
    d = tr.cfg.data
    out = []
    for t in at:
        if t > tr.step:
            tr.run(t)
        with _threads(tr.cfg.num_threads, tr.cfg.device):
            lam = sharpness(tr.models["run"], d.x_train, d.y_train, iters=iters, tol=tol)
        out.append(np.atleast_1d(lam))
    return np.stack(out)
