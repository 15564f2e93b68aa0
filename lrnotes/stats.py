r"""Confidence intervals for the book's Monte Carlo comparisons.

Every comparison in the book reports its spread.  A *fraction* of trajectories (those
that end in the deeper well, those that reach the global basin) gets a Wilson score
interval; a *difference* of two fractions from independent samples gets a normal
interval; a *mean* over seeds gets a normal (large samples) or Student-t interval.

Contents
--------
wilson      Wilson score interval for a binomial proportion k/n (vectorised)
diff_ci     the difference of two independent proportions, with a normal interval
mean_ci     mean over an axis and the half-width of its confidence interval
best_inside the index of the best value of a tuning sweep, refusing a best on the grid's edge
se          the standard error of a mean over seeds, :math:`s/\sqrt{n}`
mostly      a paired difference that is positive in most seeds (median > 0, share >= 3/4)
"""

from __future__ import annotations

import math

import numpy as np

from .schedules import _real

__all__ = ["wilson", "diff_ci", "mean_ci", "best_inside", "EdgeError", "se", "mostly"]


def _z(confidence: float) -> float:
    """The two-sided normal quantile :math:`z_{1-\\alpha/2}` for ``confidence`` = 1 − α."""
    from statistics import NormalDist

    c = _real("confidence", confidence, low=0.0, high=1.0, low_open=True, high_open=True)
    return NormalDist().inv_cdf(0.5 + c / 2.0)


def _counts(k, n):
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    if np.any(~np.isfinite(n)) or np.any(n < 1) or np.any(n != np.floor(n)):
        raise ValueError("n must be whole numbers >= 1 (the number of trials)")
    if np.any(~np.isfinite(k)) or np.any(k < 0) or np.any(k > n) or np.any(k != np.floor(k)):
        raise ValueError("k must be whole numbers in [0, n] (the number of successes)")
    return k, n


def _out(a):
    """A float for a 0-d result, else the array."""
    a = np.asarray(a, dtype=float)
    return float(a) if a.ndim == 0 else a


def wilson(k, n, confidence: float = 0.95):
    r"""Wilson score interval for a proportion: ``(p_hat, lo, hi)``, each shaped like ``k``.

    With :math:`\hat p = k/n` and :math:`z = z_{1-\alpha/2}`,

    .. math::
        \frac{\hat p + \frac{z^2}{2n} \pm z\sqrt{\frac{\hat p(1-\hat p)}{n} + \frac{z^2}{4n^2}}}
             {1 + z^2/n}.

    Unlike the plain normal interval it stays inside :math:`[0, 1]` and is not empty
    when :math:`k = 0` or :math:`k = n`.

    Parameters
    ----------
    k : int or array of ints in [0, n]      successes
    n : int >= 1 or array                   trials
    confidence : float in (0, 1)
    """
    k, n = _counts(k, n)
    z = _z(confidence)
    p = k / n
    denom = 1.0 + z * z / n
    centre = (p + z * z / (2.0 * n)) / denom
    half = z * np.sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / denom
    lo = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))  # exact ends, no rounding
    hi = np.where(k == n, 1.0, np.clip(centre + half, 0.0, 1.0))
    return _out(p), _out(lo), _out(hi)


def diff_ci(k1, n1, k2, n2, confidence: float = 0.95):
    r"""Difference :math:`\hat p_1 - \hat p_2` of two *independent* proportions and its
    normal half-width: ``(d, half)``.

    .. math:: \hat p_1 - \hat p_2 \pm z \sqrt{\frac{\hat p_1(1-\hat p_1)}{n_1}
              + \frac{\hat p_2(1-\hat p_2)}{n_2}}.

    Good for the large samples of the book (thousands of trajectories per arm).
    """
    k1, n1 = _counts(k1, n1)
    k2, n2 = _counts(k2, n2)
    p1, p2 = k1 / n1, k2 / n2
    half = _z(confidence) * np.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    return _out(p1 - p2), _out(half)


def mean_ci(a, axis: int = -1, confidence: float = 0.95, *, student: bool = True):
    r"""Mean of ``a`` along ``axis`` and the half-width of its confidence interval.

    .. math:: \bar a \pm q \, \frac{s}{\sqrt m}, \qquad s^2 = \frac{1}{m-1}\sum (a_i - \bar a)^2,

    with :math:`m` the number of values along ``axis`` and :math:`q` the Student-t
    quantile with :math:`m - 1` degrees of freedom (``student=True``, for a few seeds)
    or the normal one.  Needs :math:`m \ge 2`.
    """
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        raise ValueError("a must have at least one axis (the samples)")
    m = a.shape[axis]
    if m < 2:
        raise ValueError(f"a needs at least 2 values along axis {axis} for a spread, got {m}")
    q = _z(confidence)
    if student:
        from scipy.stats import t as student_t

        c = _real("confidence", confidence, low=0.0, high=1.0, low_open=True, high_open=True)
        q = float(student_t.ppf(0.5 + c / 2.0, m - 1))
    return a.mean(axis=axis), q * a.std(axis=axis, ddof=1) / math.sqrt(m)


class EdgeError(ValueError):
    """The best value of a tuning sweep sits on the edge of its grid."""


def best_inside(grid, values, what: str = "the tuned value", *, mode: str = "min") -> int:
    r"""Index of the best of ``values`` over a 1-D ``grid``; raise if it is on an edge.

    A tuned best on the first or last point of its grid is not a tuned best: the optimum
    may lie beyond it.  Non-finite values (a diverged run) count as the worst.  Ties go to
    the first best.

    Parameters
    ----------
    grid : 1-D sequence of the candidates, in order (at least 3)
    values : 1-D sequence of the same length: the score of each candidate
    what : str, the name of the tuned quantity, for the error message
    mode : "min" (smaller is better) or "max"

    Returns
    -------
    int, with ``0 < index < len(grid) - 1``

    Raises
    ------
    EdgeError (a ``ValueError``) when the best is the first or the last grid point, or
    when no value is finite; ``ValueError`` on bad input.
    """
    g = np.asarray(grid)
    v = np.asarray(values, dtype=float)
    if mode not in ("min", "max"):
        raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
    if g.ndim != 1 or v.shape != g.shape or g.size < 3:
        raise ValueError(f"grid and values must be 1-D of the same length >= 3, "
                         f"got shapes {g.shape} and {v.shape}")
    if not np.any(np.isfinite(v)):
        raise EdgeError(f"{what}: no finite value on the grid {g.tolist()}")
    score = np.where(np.isfinite(v), v if mode == "min" else -v, np.inf)
    i = int(np.argmin(score))
    if i == 0 or i == g.size - 1:
        side = "lower" if i == 0 else "upper"
        raise EdgeError(f"{what}: the best value ({v[i]:.6g}) is at the {side} edge of its "
                        f"grid, {g[i]!r}; extend the grid beyond {g[i]!r}")
    return i


def se(a, axis: int = -1):
    r"""Standard error of the mean over ``axis``: :math:`s/\sqrt{n}`, with the sample
    standard deviation :math:`s` (``ddof=1``).  A float for 1-D input.

    >>> se([1.0, 2.0, 3.0])
    0.5773502691896258
    """
    arr = np.asarray(a, dtype=float)
    n = arr.shape[axis] if arr.ndim else 0
    if n < 2:
        raise ValueError(f"a must hold at least 2 values along axis {axis}, got {n}")
    out = arr.std(axis=axis, ddof=1) / math.sqrt(n)
    return float(out) if np.ndim(out) == 0 else out


def mostly(diff, share: float = 0.75) -> bool:
    """Is a paired difference (one value per seed) positive *in most seeds*: its median
    above 0 and at least ``share`` of the seeds above 0?  A sign test's reading of "X
    beats Y", robust to one wild seed (a mean can be carried by it).

    >>> mostly([0.2, 0.1, 0.3, -0.05])
    True
    >>> mostly([0.2, -0.1, 0.3, -0.05])
    False
    """
    share = _real("share", share, low=0.0, high=1.0)
    arr = np.asarray(diff, dtype=float).ravel()
    if arr.size == 0 or not np.all(np.isfinite(arr)):
        raise ValueError(f"diff must be a non-empty array of finite numbers, got {arr.size} values")
    return bool(np.median(arr) > 0 and np.mean(arr > 0) >= share)
