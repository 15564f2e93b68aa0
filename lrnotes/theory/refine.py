r"""Refine a schedule from a logged run: the gradient norms of one run shape the next one.

After Defazio, Cutkosky, Mehta and Mishchenko (2023, arXiv 2310.07831), derived here from
the last-iterate bound of :mod:`lrnotes.theory` with a bound :math:`G_t` for *each* step,
:math:`\mathbb{E}\|g_t\|^2 \le G_t^2`.  In continuous time, the bound

.. math::
    J[\eta] = \frac{D^2}{2\,W(0)} + \frac12 \int_0^T \frac{G(t)^2\,\eta(t)^2}{W(t)}\,dt,
    \qquad W(t) = \int_t^T \eta(s)\,ds,

is minimised by :math:`W \propto \phi^2` with :math:`\phi(t) = \int_t^T G(s)^{-2}\,ds`
(the book checks the Euler–Lagrange equation with sympy), that is

.. math:: \eta(t) \propto G(t)^{-2} \int_t^T G(s)^{-2}\,ds .

The discrete rule used here, for updates :math:`k = 1, \dots, T`, is

.. math:: \eta_k \propto G_k^{-2} \sum_{p=k}^{T} G_p^{-2},

scaled so that its largest value is the ``peak``.  For constant norms it is
:math:`\eta_k \propto T + 1 - k`, which is :func:`lrnotes.schedules.linear` with
``total=T`` exactly (the sum starts at :math:`p = k`, so :math:`\eta_T > 0`, as the bound
requires).  Large gradient norms early give a warmup; norms that grow late give a faster
decay at the end.

Steps follow :mod:`lrnotes.schedules`: ``norms[t]`` is :math:`\|g\|` at update ``t``
(:math:`G_{t+1}` in the theory's numbering), and the refined schedule gives update ``t``
the learning rate :math:`\eta_{t+1}`.

Contents
--------
SMOOTH             the default smoothing width (a fraction of the run)
norm_profile       per-step gradient norms from an array or a TrainResult (RMS over seeds)
smooth_norms       a running median over a window of ``width * T`` steps
refined_lrs        the closed-form rule above, as an array of length T
piecewise_linear   a closed-form Schedule through given (step, value) knots
refine             all of it: a logged run -> a Schedule for ``S.to_torch``
"""

from __future__ import annotations

import numpy as np

from lrnotes.schedules import Schedule, _int_at_least, _lr, _real

__all__ = ["SMOOTH", "norm_profile", "smooth_norms", "refined_lrs", "piecewise_linear", "refine"]

#: The default smoothing, a running median over 5 % of the run.  Wide enough to remove the
#: step-to-step noise of minibatch norms (whose relative spread is tens of per cent on
#: the book's digits runs), narrow enough to keep a trend that changes over a tenth of
#: the run.  ``smooth=0`` turns smoothing off.
SMOOTH = 0.05


def norm_profile(log, *, group: int = 0) -> np.ndarray:
    r"""Per-step gradient norms :math:`G_t` from a logged run.

    Parameters
    ----------
    log : array_like of shape (T,) or (runs, T), or a :class:`lrnotes.nets.train.TrainResult`
        Gradient norms :math:`\|g_t\|` (before clipping), one row per run (seed).  Several
        runs are combined by their root mean square,
        :math:`G_t = \sqrt{\tfrac1M\sum_m \|g_{t,m}\|^2}`, the estimate of
        :math:`\sqrt{\mathbb{E}\|g_t\|^2}` that the bound uses.  A ``TrainResult`` gives
        its ``grad_norm[group]`` (one row per seed).
    group : int >= 0
        The schedule group of a ``TrainResult``.

    Returns
    -------
    numpy.ndarray of shape (T,)

    Raises
    ------
    ValueError
        If the log is empty, not 1-D or 2-D, or holds a NaN, an infinity or a negative norm.
    """
    if hasattr(log, "grad_norm") and hasattr(log, "names"):
        group = _int_at_least("group", group, 0)
        if group >= len(log.names):
            raise ValueError(f"group must be in [0, {len(log.names)}) for this TrainResult, got {group}")
        log = log.grad_norm[group]
    try:
        arr = np.asarray(log, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("norms must be an array of gradient norms (finite, >= 0)") from exc
    if arr.ndim not in (1, 2) or arr.size == 0 or arr.shape[-1] == 0:
        raise ValueError(f"norms must be a non-empty array of shape (T,) or (runs, T), got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("norms must be finite: the log holds a NaN or an infinity (a diverged run?)")
    if np.any(arr < 0):
        raise ValueError(f"norms must be >= 0 (they are norms), got min {arr.min()!r}")
    if arr.ndim == 2:
        arr = np.sqrt(np.mean(arr * arr, axis=0))
    return arr


def smooth_norms(norms, width: float = SMOOTH) -> np.ndarray:
    r"""A running median of the norms over a window of about ``width * T`` steps.

    The window has :math:`w = 2\lfloor \text{width}\cdot T/2 \rfloor + 1` steps (odd, so
    it is centred); at the two ends the log is mirrored (``scipy.ndimage.median_filter``
    with ``mode="mirror"``: no value is repeated, so a spike at the first step stays one
    value among :math:`w`).  A median, not a mean, so that a few spikes (a bad batch) do
    not leak into their neighbours.  ``width=0``
    returns the norms unchanged.

    Parameters
    ----------
    norms : array_like of shape (T,) (see :func:`norm_profile`)
    width : float in [0, 1)
    """
    from scipy.ndimage import median_filter

    g = norm_profile(norms)
    if g.ndim != 1:  # pragma: no cover - norm_profile returns 1-D
        raise ValueError("norms must be 1-D here")
    width = _real("width", width, low=0.0, high=1.0, high_open=True)
    w = min(2 * (int(width * g.size) // 2) + 1, 2 * ((g.size - 1) // 2) + 1)
    if w <= 1:
        return g.copy()
    return median_filter(g, size=w, mode="mirror")


def refined_lrs(norms, peak: float = 1.0) -> np.ndarray:
    r"""The refined learning rates :math:`\eta_k \propto G_k^{-2}\sum_{p=k}^{T} G_p^{-2}`.

    .. math::
        c_k = \frac{\min_p G_p^2}{G_k^2}, \qquad
        \eta_k = \text{peak}\cdot\frac{c_k \sum_{p=k}^{T} c_p}{\max_j c_j \sum_{p=j}^{T} c_p}

    (dividing by :math:`\min_p G_p^2` first changes nothing but the rounding: constant norms
    give :math:`c_k = 1` exactly, and :math:`\eta_k = \text{peak}\,(T+1-k)/T`).

    Parameters
    ----------
    norms : array_like of shape (T,), every entry > 0 (smooth them first)
    peak : float >= 0

    Returns
    -------
    numpy.ndarray of shape (T,); entry ``t`` is the learning rate of update ``t``.
    """
    g = norm_profile(norms)
    if np.any(g <= 0):
        raise ValueError("norms must be > 0 everywhere to refine (a zero norm has no G^-2); "
                         f"found {int(np.sum(g <= 0))} zero(s)")
    peak = _lr("peak", peak)
    g2 = g * g
    c = g2.min() / g2
    tail = np.flip(np.cumsum(np.flip(c)))  # tail[k] = sum_{p >= k} c_p
    w = c * tail
    return peak * (w / w.max())


def piecewise_linear(steps, values, *, total: int | None = None, name: str = "piecewise_linear") -> Schedule:
    r"""A closed-form schedule through the knots :math:`(s_i, v_i)`, linear in between.

    .. math::
        \eta_t = v_i + (v_{i+1} - v_i)\,\frac{t - s_i}{s_{i+1} - s_i}
        \quad (s_i \le t \le s_{i+1}), \qquad \eta_t = v_{\text{last}}\ (t \ge s_{\text{last}}).

    Parameters
    ----------
    steps : sequence of int, strictly increasing, starting at 0
    values : sequence of float >= 0, same length (at least 1)
    total : int >= 1, optional
        The budget the schedule is meant for (``Schedule.total``); default: the last knot.
    name : str
    """
    try:
        s = np.asarray(steps, dtype=float)
        v = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("steps and values must be sequences of numbers") from exc
    if s.ndim != 1 or v.shape != s.shape or s.size < 1:
        raise ValueError(f"steps and values must be 1-D of the same length >= 1, got shapes "
                         f"{s.shape} and {v.shape}")
    if not np.all(np.isfinite(s)) or np.any(s != np.round(s)) or s[0] != 0 or np.any(np.diff(s) <= 0):
        raise ValueError("steps must be integers, strictly increasing, starting at 0")
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("values must be finite learning rates >= 0")
    total = int(s[-1]) if total is None else _int_at_least("total", total, 1)
    s, v = s.copy(), v.copy()
    return Schedule(lambda t: np.interp(t, s, v), name=name,
                    params={"knots": int(s.size), "total": total}, total=total)


def refine(log, peak: float = 1.0, *, smooth: float = SMOOTH, total: int | None = None,
           group: int = 0) -> Schedule:
    r"""A schedule refined from a logged run, ready for ``S.to_torch``.

    ``norm_profile(log)`` → ``smooth_norms(·, smooth)`` → ``refined_lrs(·, peak)`` gives
    :math:`\eta_1..\eta_T`; the schedule passes through them at steps ``0..T-1`` and
    through 0 at step ``T`` (the end of the budget, like :func:`lrnotes.schedules.linear`),
    linearly in between, and stays 0 after ``T``.  With constant norms it *is*
    ``S.linear(T, peak)``.

    Parameters
    ----------
    log : array (T,) or (runs, T) of gradient norms, or a ``TrainResult``
    peak : float >= 0
        The largest learning rate (tune it as you would tune linear decay's).
    smooth : float in [0, 1)
        Running-median width as a fraction of T (:data:`SMOOTH`, 5 %, by default).
    total : int, optional
        The budget of the run you will train; it must equal the length ``T`` of the log
        (the refinement is for the same budget; a different budget needs its own log).
    group : int
        The schedule group of a ``TrainResult``.
    """
    g = norm_profile(log, group=group)
    T = g.size
    if total is not None:
        total = _int_at_least("total", total, 1)
        if total != T:
            raise ValueError(f"total must equal the number of logged steps, {T}: the refinement "
                             f"is for the budget of the logged run, got total={total}")
    eta = refined_lrs(smooth_norms(g, smooth), peak)
    sched = piecewise_linear(np.arange(T + 1), np.append(eta, 0.0), total=T, name="refined")
    sched.params.update({"peak": float(peak), "smooth": float(smooth)})
    return sched
