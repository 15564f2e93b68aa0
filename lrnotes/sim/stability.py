r"""How large a step may be, and how fast steps must shrink: quadratics and Robbins–Monro.

Along an eigen-direction of curvature :math:`\lambda` of a quadratic, gradient descent
multiplies the error by :math:`1 - \eta\lambda` per step, so a constant step is stable
iff :math:`0 < \eta\lambda < 2`; under a schedule the error after :math:`t` steps is
:math:`\prod_{s<t}(1-\eta_s\lambda)` times the start.  Heavy-ball momentum
:math:`x_{t+1} = x_t - \eta\nabla f(x_t) + \beta(x_t - x_{t-1})` (torch's ``SGD`` with
``momentum=β``, ``dampening=0``: the same iterates) is a linear recurrence of order two,

.. math::
    \begin{pmatrix} x_{t+1} \\ x_t \end{pmatrix}
    = \underbrace{\begin{pmatrix} 1+\beta-\eta\lambda & -\beta \\ 1 & 0 \end{pmatrix}}_{A}
      \begin{pmatrix} x_t \\ x_{t-1} \end{pmatrix},

stable iff the spectral radius :math:`\rho(A) < 1`, that is (for :math:`0 \le \beta < 1`)
iff :math:`0 < \eta\lambda < 2(1+\beta)`.

The Robbins–Monro conditions on a schedule are :math:`\sum_t \eta_t = \infty` and
:math:`\sum_t \eta_t^2 < \infty`; :func:`partial_sums` computes both partial sums up to
large :math:`t` in chunks (little memory, any closed-form schedule), and
:func:`decade_ratios` how much each sum grew over the last decade of :math:`t` compared
with the decade before (about 1 or more: it keeps growing; well below 1: it levels off).

Contents
--------
heavy_ball_matrix     the companion matrix A above (vectorised over η, λ, β)
heavy_ball_rate       its spectral radius ρ(A): the asymptotic factor per step (β = 0: |1 − ηλ|)
heavy_ball_threshold  the largest stable constant step, 2 (1 + β) / L
log_growth            log ∏_s |1 − η_s λ|: the log of the factor scheduled GD applies along λ
Scan                  result of scan_constant_steps: which runs diverge, their rate per step, the thresholds
scan_constant_steps   run noiseless GD / heavy ball for a grid of constant steps (and momenta) at once
partial_sums          Σ_{t<T} η_t and Σ_{t<T} η_t² at chosen T, computed in chunks
decade_ratios         growth of a partial sum over its last decade relative to the decade before
"""

from __future__ import annotations

import numpy as np

from dataclasses import dataclass

from lrnotes.schedules import Schedule, _int_at_least, _real

__all__ = ["heavy_ball_matrix", "heavy_ball_rate", "heavy_ball_threshold", "log_growth",
           "Scan", "scan_constant_steps", "partial_sums", "decade_ratios"]


def _beta(beta):
    b = np.asarray(beta, dtype=float)
    if not np.all(np.isfinite(b)) or np.any((b < 0) | (b >= 1)):
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    return b


def _nonneg(name, value):
    a = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    return a


def heavy_ball_matrix(eta, lam, beta=0.0) -> np.ndarray:
    r"""The companion matrix :math:`A = \begin{pmatrix} 1+\beta-\eta\lambda & -\beta \\ 1 & 0\end{pmatrix}`.

    ``eta``, ``lam`` (>= 0) and ``beta`` (in [0, 1)) broadcast; the result has their
    broadcast shape followed by ``(2, 2)``.
    """
    eta, lam, beta = np.broadcast_arrays(_nonneg("eta", eta), _nonneg("lam", lam), _beta(beta))
    A = np.zeros(eta.shape + (2, 2))
    A[..., 0, 0] = 1.0 + beta - eta * lam
    A[..., 0, 1] = -beta
    A[..., 1, 0] = 1.0
    return A


def heavy_ball_rate(eta, lam, beta=0.0) -> np.ndarray:
    r"""Spectral radius :math:`\rho(A)` of :func:`heavy_ball_matrix`: the error shrinks
    (``< 1``) or grows (``> 1``) by about this factor per step, asymptotically.

    The roots of :math:`z^2 - (1+\beta-\eta\lambda)z + \beta`, in closed form; for
    :math:`\beta = 0` this is :math:`|1 - \eta\lambda|`.
    """
    eta, lam, beta = np.broadcast_arrays(_nonneg("eta", eta), _nonneg("lam", lam), _beta(beta))
    tr = 1.0 + beta - eta * lam
    disc = tr * tr - 4.0 * beta
    root = np.sqrt(np.abs(disc))
    real = np.maximum(np.abs(tr + root), np.abs(tr - root)) / 2.0
    return np.where(disc >= 0, real, np.sqrt(beta))   # complex pair: |z|^2 = det = beta


def heavy_ball_threshold(L: float, beta: float = 0.0) -> float:
    r"""The largest stable constant step of heavy ball on a quadratic: :math:`2(1+\beta)/L`.

    ``L`` > 0 is the largest curvature; ``beta = 0`` gives gradient descent's :math:`2/L`.
    """
    L = _real("L", L, low=0.0, low_open=True)
    beta = _real("beta", beta, low=0.0, high=1.0, high_open=True)
    return 2.0 * (1.0 + beta) / L


def log_growth(lrs, lam) -> np.ndarray:
    r"""Cumulative :math:`\log\prod_{s<t}|1 - \eta_s\lambda|`, for ``t = 1..n``.

    Gradient descent on a quadratic with the schedule ``lrs`` (shape ``(..., n)``) scales
    the error along an eigen-direction of curvature ``lam`` by exactly this factor: it
    diverges along that direction iff the sum grows without bound.  Returns shape
    ``(..., n)`` (``-inf`` once a factor is exactly zero).
    """
    lrs = _nonneg("lrs", lrs)
    lam = _real("lam", lam, low=0.0)
    with np.errstate(divide="ignore"):
        return np.cumsum(np.log(np.abs(1.0 - lrs * lam)), axis=-1)


@dataclass
class Scan:
    r"""Result of :func:`scan_constant_steps` (``nB`` momenta, ``nE`` learning rates).

    Attributes
    ----------
    lrs : (nE,) ascending;  momenta : (nB,)
    diverges : (nB, nE) bool — escaped, or still growing: the largest norm over the last
        quarter of the run exceeds the largest over the quarter before
    rate : (nB, nE) — measured growth factor per step, from those two maxima
        (``nan`` where the run escaped)
    threshold : (nB,) — the smallest learning rate of the grid that diverges (``inf``: none)
    """

    lrs: np.ndarray
    momenta: np.ndarray
    diverges: np.ndarray
    rate: np.ndarray
    threshold: np.ndarray


def scan_constant_steps(problem, lrs, momenta=(0.0,), *, steps: int = 600, x0=None) -> Scan:
    r"""Noiseless gradient descent (heavy ball for momentum > 0) on ``problem`` for every
    constant learning rate in ``lrs`` and every momentum in ``momenta``, all in one call
    of :func:`lrnotes.sim.sgd.simulate`; measure which runs diverge and how fast they grow.

    The growth factor per step is :math:`(\max_{Q_4}\|x_t\| / \max_{Q_3}\|x_t\|)^{4/n}`
    over the last two quarters :math:`Q_3, Q_4` of the ``n = steps`` steps; taking maxima
    over windows makes it robust to the oscillation of complex eigenvalues (a window must
    be longer than their period).  ``x0`` defaults to all ones.
    """
    from lrnotes.sim.sgd import simulate

    lrs = np.asarray(lrs, dtype=float)
    if lrs.ndim != 1 or lrs.size == 0 or not np.all(np.isfinite(lrs)) or np.any(lrs < 0) \
            or np.any(np.diff(lrs) <= 0):
        raise ValueError("lrs must be a non-empty ascending 1-D array of learning rates >= 0")
    momenta = _beta(np.atleast_1d(np.asarray(momenta, dtype=float)))
    if momenta.ndim != 1:
        raise ValueError("momenta must be a number or a 1-D array of momenta in [0, 1)")
    n = _int_at_least("steps", steps, 8)
    dim = problem.dim
    x0 = np.ones(dim) if x0 is None else np.asarray(x0, dtype=float)
    grid = np.broadcast_to(lrs[None, :, None], (momenta.size, lrs.size, n))
    res = simulate(problem, grid, x0, 1, np.random.default_rng(0), momentum=momenta[:, None, None],
                   metric=lambda x: np.linalg.norm(x, axis=-1), escape=1e150)
    w = n // 4
    late = res.mean[..., n - w + 1:].max(axis=-1)
    mid = res.mean[..., n - 2 * w + 1:n - w + 1].max(axis=-1)
    escaped = res.diverged[..., 0]
    diverges = (late > mid) | escaped
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(escaped, np.nan, (late / mid) ** (1.0 / w))
    first = np.argmax(diverges, axis=1)
    threshold = np.where(diverges.any(axis=1), lrs[first], np.inf)
    return Scan(lrs=lrs, momenta=momenta, diverges=diverges, rate=rate, threshold=threshold)


def partial_sums(sched: Schedule, upto, *, chunk: int = 1 << 20):
    r"""The partial sums :math:`S_1(T) = \sum_{t<T}\eta_t` and :math:`S_2(T) = \sum_{t<T}\eta_t^2`.

    Parameters
    ----------
    sched : Schedule
        Evaluated at ``t = 0, 1, ...`` (the first update is ``t = 0``).
    upto : int >= 1 or sorted array of such ints
        The budgets ``T`` at which to report the sums (e.g. ``np.logspace(1, 7, 7)``).
    chunk : int >= 1
        Steps evaluated at once; memory is ``O(chunk)`` whatever ``max(upto)``.

    Returns
    -------
    (S1, S2) : two float arrays shaped like ``upto``.
    """
    if not isinstance(sched, Schedule):
        raise ValueError(f"sched must be an lrnotes Schedule, got {type(sched).__name__}")
    T = np.asarray(upto)
    flat = T.reshape(-1)
    if flat.size == 0 or not np.issubdtype(flat.dtype, np.number) or not np.all(np.isfinite(flat)) \
            or np.any(flat < 1) or np.any(flat != np.round(flat)) or np.any(np.diff(flat) < 0):
        raise ValueError(f"upto must be an integer >= 1 or a sorted array of them, got {upto!r}")
    flat = flat.astype(np.int64)
    chunk = _int_at_least("chunk", chunk, 1)
    s1, s2 = np.zeros(flat.size), np.zeros(flat.size)
    acc1 = acc2 = 0.0
    start, j = 0, 0
    end = int(flat[-1])
    while start < end and j < flat.size:
        stop = min(start + chunk, end)
        eta = sched(np.arange(start, stop))
        c1, c2 = np.cumsum(eta), np.cumsum(eta * eta)
        while j < flat.size and flat[j] <= stop:
            k = int(flat[j]) - start - 1
            s1[j], s2[j] = acc1 + c1[k], acc2 + c2[k]
            j += 1
        acc1, acc2 = acc1 + c1[-1], acc2 + c2[-1]
        start = stop
    return s1.reshape(T.shape), s2.reshape(T.shape)


def decade_ratios(sums, base: float = 10.0) -> np.ndarray:
    r"""Growth over each decade relative to the decade before.

    ``sums`` are partial sums at ``T = T_0, base·T_0, base²·T_0, ...`` (last axis);
    returns :math:`\frac{S(b^{k+1}T_0) - S(b^k T_0)}{S(b^k T_0) - S(b^{k-1}T_0)}` for
    ``k = 1, ...`` (last axis one shorter by two).  A sum that converges has increments
    shrinking (ratios well below 1, e.g. ``1/base`` for terms like :math:`1/t^2`); one that
    diverges like :math:`\log t` has ratios near 1, like :math:`t` near ``base``.
    """
    s = np.asarray(sums, dtype=float)
    _real("base", base, low=1.0, low_open=True)
    if s.ndim < 1 or s.shape[-1] < 3:
        raise ValueError(f"sums must have at least 3 entries on its last axis, got shape {s.shape}")
    inc = np.diff(s, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return inc[..., 1:] / inc[..., :-1]
