r"""Vectorised SGD on toy convex problems, many seeds (and many schedules) at once.

A problem knows its value gap :math:`f(x) - f_*`, a stochastic subgradient oracle, its
minimiser and a bound :math:`G^2 \ge \mathbb{E}\|g\|^2` that holds *exactly*, so the
measured :math:`\mathbb{E}[f(x_T) - f_*]` can be held against
:func:`lrnotes.theory.last_iterate_bound`.

Array layout: iterates have shape ``(n_schedules, n_seeds, dim)``; one Python loop runs
over steps, everything else is NumPy.

Indexing follows the theory: ``lrs[..., k-1]`` is :math:`\eta_k`, the update
:math:`x_{k+1} = x_k - \eta_k g_k`; with ``n`` learning rates the run visits
:math:`x_1, \dots, x_{n+1}`.

Contents
--------
NoisyL1        f(x) = sum_i E|x_i - xi_i|, xi_i in {-1, 0, +1}: a non-smooth median problem
SGDResult      per-step mean and standard error of the gap, final gaps per seed
run_sgd        the vectorised loop
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["NoisyL1", "SGDResult", "run_sgd"]


@dataclass(frozen=True)
class NoisyL1:
    r"""A non-smooth stochastic convex problem with known :math:`f_*`, :math:`x_*` and :math:`G`.

    .. math::
        f(x) = \sum_{i=1}^{d} \mathbb{E}\,|x_i - \xi_i|, \qquad
        \xi_i \in \{-1, 0, +1\},\ \Pr[\xi_i = 0] = p,\ \Pr[\xi_i = \pm 1] = \tfrac{1-p}{2},

    i.i.d. over coordinates.  The minimiser is the median :math:`x_* = 0` (unique for
    :math:`p > 0`) with :math:`f_* = d(1-p)`, and the gap is

    .. math:: f(x) - f_* = \sum_i p\,|x_i| + (1-p)\,\max(|x_i| - 1, 0),

    a kink at the optimum (slope :math:`p`) — no smoothness to help SGD.  The oracle
    :math:`g_i = \operatorname{sign}(x_i - \xi_i)` (with :math:`\operatorname{sign}(0)=0`)
    is an unbiased subgradient with :math:`\|g\|^2 \le d`, so :math:`G = \sqrt d` exactly.

    Parameters
    ----------
    dim : int >= 1
    p_zero : float in (0, 1]
        Probability of :math:`\xi_i = 0`: the signal strength; small means noisy.
    """

    dim: int = 4
    p_zero: float = 0.2

    def __post_init__(self):
        if isinstance(self.dim, bool) or not isinstance(self.dim, numbers.Integral) or self.dim < 1:
            raise ValueError(f"dim must be an integer >= 1, got {self.dim!r}")
        p = self.p_zero
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not (0 < p <= 1):
            raise ValueError(f"p_zero must be a real number in (0, 1], got {p!r}")

    @property
    def G(self) -> float:
        r""":math:`G = \sqrt{d}`, with :math:`\|g\|^2 \le G^2` almost surely."""
        return float(np.sqrt(self.dim))

    @property
    def x_star(self) -> np.ndarray:
        """The unique minimiser, the origin."""
        return np.zeros(self.dim)

    @property
    def f_star(self) -> float:
        r""":math:`f_* = d\,(1 - p)`."""
        return self.dim * (1.0 - self.p_zero)

    def gap(self, x) -> np.ndarray:
        r""":math:`f(x) - f_*` over the last axis of ``x``."""
        a = np.abs(np.asarray(x, dtype=float))
        p = self.p_zero
        return np.sum(p * a + (1.0 - p) * np.maximum(a - 1.0, 0.0), axis=-1)

    def subgradient(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        r"""One stochastic subgradient :math:`\operatorname{sign}(x - \xi)` per row of ``x``."""
        u = rng.random(x.shape)
        p = self.p_zero
        # xi = 0 if u < p; +1 if p <= u < p + (1-p)/2; -1 otherwise.
        xi = (u >= p).astype(x.dtype) - 2.0 * (u >= p + 0.5 * (1.0 - p))
        return np.sign(x - xi)


@dataclass
class SGDResult:
    r"""Gaps :math:`f(x_t) - f_*` of a vectorised SGD run.

    ``steps`` lists the recorded iterates (1-based ``t``; always includes ``1`` and the
    last, ``n + 1``); ``mean[..., j]`` and ``sem[..., j]`` are the mean over seeds and
    its standard error at :math:`x_{\text{steps}[j]}`; ``final`` holds the per-seed gaps
    at the last iterate, shape ``(..., n_seeds)``.  Leading axes follow the batch of
    schedules (none for a single schedule).
    """

    steps: np.ndarray
    mean: np.ndarray
    sem: np.ndarray
    final: np.ndarray
    n_seeds: int

    def at(self, t: int):
        """(mean, sem) of the gap at iterate ``x_t`` (1-based; ``t`` must be recorded)."""
        hit = np.flatnonzero(self.steps == t) if isinstance(t, numbers.Integral) else []
        if isinstance(t, bool) or len(hit) != 1:
            raise ValueError(f"t must be one of the recorded iterates {self.steps[[0, -1]]} "
                             f"(see .steps), got {t!r}")
        return self.mean[..., hit[0]], self.sem[..., hit[0]]


def run_sgd(problem: NoisyL1, lrs, x1, n_seeds: int, rng: np.random.Generator,
            record_every: int = 1) -> SGDResult:
    r"""Run :math:`x_{k+1} = x_k - \eta_k g_k` for many seeds (and schedules) at once.

    Parameters
    ----------
    problem : NoisyL1 (or any object with ``gap``, ``subgradient`` and ``dim``)
    lrs : array_like, shape (n,) or (n_schedules, n)
        :math:`\eta_1..\eta_n`, finite and ``>= 0``; every schedule starts from ``x1``.
    x1 : array_like, shape (dim,)
        The common starting point.
    n_seeds : int >= 2
        Independent trajectories per schedule (>= 2 for a standard error).
    rng : numpy.random.Generator
    record_every : int >= 1
        Record the gap at iterates ``t = 1, 1 + record_every, ...`` and at ``t = n + 1``.

    Returns
    -------
    SGDResult
        Gaps at the recorded iterates among :math:`x_1..x_{n+1}`.
    """
    lrs = np.asarray(lrs, dtype=float)
    if lrs.ndim not in (1, 2) or lrs.shape[-1] < 1:
        raise ValueError(f"lrs must have shape (n,) or (n_schedules, n) with n >= 1, got {lrs.shape}")
    if not np.all(np.isfinite(lrs)) or np.any(lrs < 0):
        raise ValueError("lrs must be finite and >= 0")
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, numbers.Integral) or n_seeds < 2:
        raise ValueError(f"n_seeds must be an integer >= 2, got {n_seeds!r}")
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    if (isinstance(record_every, bool) or not isinstance(record_every, numbers.Integral)
            or record_every < 1):
        raise ValueError(f"record_every must be an integer >= 1, got {record_every!r}")
    x1 = np.asarray(x1, dtype=float)
    if x1.shape != (problem.dim,) or not np.all(np.isfinite(x1)):
        raise ValueError(f"x1 must be a finite array of shape ({problem.dim},), got shape {x1.shape}")
    single = lrs.ndim == 1
    eta = lrs[None, :] if single else lrs
    n_sched, n = eta.shape
    steps = np.unique(np.append(np.arange(1, n + 2, record_every), n + 1))
    x = np.broadcast_to(x1, (n_sched, n_seeds, problem.dim)).copy()
    mean = np.empty((n_sched, steps.size))
    sem = np.empty((n_sched, steps.size))
    j = 0
    for t in range(1, n + 2):  # x holds x_t
        if j < steps.size and steps[j] == t:
            gap = problem.gap(x)
            mean[:, j] = gap.mean(axis=1)
            sem[:, j] = gap.std(axis=1, ddof=1) / np.sqrt(n_seeds)
            j += 1
        if t <= n:
            x -= eta[:, t - 1, None, None] * problem.subgradient(x, rng)
    if single:
        return SGDResult(steps=steps, mean=mean[0], sem=sem[0], final=gap[0], n_seeds=n_seeds)
    return SGDResult(steps=steps, mean=mean, sem=sem, final=gap, n_seeds=n_seeds)
