r"""Piecewise-linear schedules, and their best breakpoints under the last-iterate bound.

Two families of ``n`` pieces over a budget of ``T`` updates (steps ``t = 0..T-1``), with
breakpoints :math:`0 = T_0 < T_1 < \dots < T_n = T`:

- :func:`sawtooth`, the form written in the identity notes (source §8.2): piece :math:`i` falls
  linearly from its own height :math:`\alpha_i` to zero,

  .. math:: \eta_t = \alpha_i\Big(1 - \frac{t - T_{i-1}}{T_i - T_{i-1}}\Big),
            \qquad T_{i-1} \le t < T_i ,

  so the schedule jumps back up at every breakpoint;
- :func:`polyline`, a *continuous* schedule through the knots :math:`(T_i, v_i)` with
  :math:`v_0 = 1` and :math:`v_n = 0` (the last update gets
  :math:`v_{n-1}/(T - T_{n-1}) > 0`).

:func:`fit` chooses the breakpoints and the heights that minimise the last-iterate bound
(:func:`lrnotes.theory.tune_peak`: the overall scale is optimal in closed form), from
several random starts (scipy's Nelder–Mead), optionally with every piece at least
``min_frac * T`` steps long.

Contents
--------
sawtooth    the notes' form: every piece decays to zero
polyline    a continuous piecewise-linear schedule through knots
PieceFit    the result of fit
fit         optimise breakpoints and heights under the bound
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .schedules import _int_at_least, _real

__all__ = ["sawtooth", "polyline", "PieceFit", "fit", "KINDS"]

#: The two families :func:`fit` knows.
KINDS = ("sawtooth", "polyline")


def _breaks(T: int, breaks) -> np.ndarray:
    b = np.asarray(breaks, dtype=float)
    if b.ndim != 1 or not np.all(np.isfinite(b)):
        raise ValueError("breaks must be a 1-D sequence of finite numbers")
    edges = np.concatenate([[0.0], b, [float(T)]])
    if np.any(np.diff(edges) <= 0):
        raise ValueError(f"breaks must be strictly increasing inside (0, T={T}), got {b.tolist()}")
    return edges


def _heights(name: str, values, n: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.shape != (n,) or not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError(f"{name} must be {n} finite numbers >= 0, got {np.asarray(values).tolist()}")
    return v


def sawtooth(T: int, breaks, peaks) -> np.ndarray:
    r"""The source's §8.2 schedule :math:`\eta_0..\eta_{T-1}`: piece :math:`i` falls from
    ``peaks[i]`` to zero over :math:`[T_{i-1}, T_i)` (see the module docstring).

    Parameters
    ----------
    T : int >= 2
    breaks : sequence of ``n - 1`` reals, strictly increasing in (0, T) (may be fractional)
    peaks : sequence of ``n`` reals >= 0
    """
    T = _int_at_least("T", T, 2)
    edges = _breaks(T, breaks)
    a = _heights("peaks", peaks, edges.size - 1)
    t = np.arange(T, dtype=float)
    i = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, a.size - 1)
    return a[i] * (1.0 - (t - edges[i]) / (edges[i + 1] - edges[i]))


def polyline(T: int, breaks, values) -> np.ndarray:
    r"""A continuous piecewise-linear :math:`\eta_0..\eta_{T-1}` through the knots
    :math:`(0, 1), (T_1, v_1), \dots, (T_{n-1}, v_{n-1}), (T, 0)`.

    Parameters
    ----------
    T : int >= 2
    breaks : sequence of ``n - 1`` reals, strictly increasing in (0, T)
    values : sequence of ``n - 1`` reals >= 0, the heights at the breaks
    """
    T = _int_at_least("T", T, 2)
    edges = _breaks(T, breaks)
    v = _heights("values", values, edges.size - 2)
    return np.interp(np.arange(T, dtype=float), edges, np.concatenate([[1.0], v, [0.0]]))


@dataclass
class PieceFit:
    """Result of :func:`fit`: the best schedule found, its bound, and the references."""

    kind: str
    breaks: np.ndarray       #: T_1..T_{n-1}, in steps
    heights: np.ndarray      #: sawtooth: peaks alpha_i / alpha_1; polyline: 1, v_1..v_{n-1}
    lrs: np.ndarray          #: the schedule at its best scale
    bound: float             #: its tuned bound
    linear: float            #: the tuned bound of S.linear(T)
    slopes: np.ndarray       #: the slope of each piece, per step, at the best scale


def _fractions(z: np.ndarray, min_frac: float) -> np.ndarray:
    e = np.exp(z - z.max())
    return min_frac + (1.0 - min_frac * e.size) * e / e.sum()


def fit(T: int, kind: str = "polyline", pieces: int = 3, *, breaks=None, min_frac: float = 0.0,
        D: float = 1.0, G: float = 1.0, starts: int = 8, seed: int = 0, maxiter: int = 3000) -> PieceFit:
    r"""Breakpoints and heights of an ``n``-piece schedule that minimise the tuned bound.

    Minimises :math:`\text{bound}^\star = 2\sqrt{AB}` (:func:`lrnotes.theory.tune_peak`)
    over the piece lengths (each :math:`\ge` ``min_frac * T``; a softmax parametrisation)
    and the log-heights, by Nelder–Mead from ``starts`` random starts (each restarted
    twice where it stopped); returns the best.  With ``breaks`` given, only the heights
    are optimised.  The sawtooth's bound jumps when a breakpoint crosses a step, so for it
    fixed ``breaks`` are the reliable use.

    Parameters
    ----------
    T : int >= 2
    kind : "polyline" or "sawtooth"
    pieces : int >= 1
    breaks : sequence of ``pieces - 1`` steps in (0, T), increasing; optional
    min_frac : float in [0, 1/pieces)
    D, G : float > 0
    starts : int >= 1;  seed : int >= 0;  maxiter : int >= 1
    """
    from scipy.optimize import minimize

    from . import schedules as S
    from . import theory as th

    T = _int_at_least("T", T, 2)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    n = _int_at_least("pieces", pieces, 1)
    min_frac = _real("min_frac", min_frac, low=0.0, high=1.0 / n, high_open=True)
    starts = _int_at_least("starts", starts, 1)
    seed = _int_at_least("seed", seed, 0)
    maxiter = _int_at_least("maxiter", maxiter, 1)
    n_heights = n - 1  # sawtooth: alpha_2..alpha_n relative to alpha_1; polyline: v_1..v_{n-1}
    fixed = None
    if breaks is not None:
        fixed = _breaks(T, breaks)[1:-1]
        if fixed.size != n - 1:
            raise ValueError(f"breaks must hold pieces - 1 = {n - 1} steps, got {fixed.size}")
    n_free = 0 if fixed is not None else n - 1

    def build(p):
        if fixed is None:
            frac = _fractions(np.concatenate([p[:n_free], [0.0]]), min_frac)
            cuts = T * np.cumsum(frac)[:-1]
        else:
            cuts = fixed
        h = np.exp(p[n_free:])
        if kind == "sawtooth":
            return cuts, np.concatenate([[1.0], h]), sawtooth(T, cuts, np.concatenate([[1.0], h]))
        return cuts, np.concatenate([[1.0], h]), polyline(T, cuts, h)

    def objective(p):
        if np.any(np.abs(p) > 50):
            return np.inf
        try:
            lrs = build(p)[2]
        except ValueError:  # a piece shrank to nothing
            return np.inf
        if lrs[-1] <= 0 or not np.all(np.isfinite(lrs)):
            return np.inf
        return float(th.tune_peak(lrs, D, G)[1])

    rng = np.random.default_rng(seed)
    best = None
    for _ in range(starts):
        x0 = rng.normal(0.0, 1.0, n_free + n_heights)
        if x0.size == 0:
            best = type("R", (), {"x": x0, "fun": objective(x0)})()
            break
        for _ in range(3):  # restart the simplex where it stopped: NM stalls on ridges
            r = minimize(objective, x0, method="Nelder-Mead",
                         options={"maxiter": maxiter, "xatol": 1e-10, "fatol": 1e-15,
                                  "adaptive": True})
            x0 = r.x
        if best is None or r.fun < best.fun:
            best = r
    cuts, heights, shape = build(best.x)
    scale, bound = th.tune_peak(shape, D, G)
    lrs = scale * shape
    edges = np.concatenate([[0.0], cuts, [float(T)]])
    if kind == "sawtooth":
        slopes = -scale * heights / np.diff(edges)
    else:
        knots = scale * np.concatenate([heights, [0.0]])
        slopes = np.diff(knots) / np.diff(edges)
    linear = float(th.tune_peak(S.linear(T)(np.arange(T)), D, G)[1])
    return PieceFit(kind=kind, breaks=cuts, heights=heights, lrs=lrs, bound=float(bound),
                    linear=linear, slopes=slopes)
