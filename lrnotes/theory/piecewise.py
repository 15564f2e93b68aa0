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
(:func:`~lrnotes.theory.bounds.tune_peak`: the overall scale is optimal in closed form), from
an exhaustive grid of breaks, the heights solved for at each, then a local refinement
(scipy's Nelder–Mead), optionally with every piece at least ``min_frac * T`` steps long
and optionally non-increasing.

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

from lrnotes.schedules import _int_at_least, _real

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
    heights: np.ndarray      #: peaks alpha_i / alpha_1 (sawtooth), or 1, v_1..v_{n-1} (polyline)
    lrs: np.ndarray          #: the schedule at its best scale
    bound: float             #: its tuned bound
    linear: float            #: the tuned bound of S.linear(T)
    slopes: np.ndarray       #: the slope of each piece, per step, at the best scale


def _grid(T: int, n_breaks: int, min_frac: float, grid) -> list:
    """Candidate break tuples: every increasing tuple from ``grid`` (default: the tenths
    of the run, and 0.1 to 10 steps before its end, fractions of the last step included)
    whose pieces are all at least ``min_frac * T`` long."""
    import itertools

    if grid is None:
        ends = np.array([0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0])
        grid = np.concatenate([T * np.arange(1, 10) / 10, T - ends])
    g = np.unique(np.asarray(grid, dtype=float))
    g = g[(g > 0) & (g < T)]
    out = []
    for c in itertools.combinations(g.tolist(), n_breaks):
        lengths = np.diff(np.concatenate([[0.0], c, [float(T)]]))
        if np.all(lengths >= min_frac * T - 1e-12):
            out.append(np.array(c))
    return out


def fit(T: int, kind: str = "polyline", pieces: int = 3, *, breaks=None, min_frac: float = 0.0,
        monotone: bool = False, D: float = 1.0, G: float = 1.0, starts: int = 3, seed: int = 0,
        maxiter: int = 3000, grid=None) -> PieceFit:
    r"""Breakpoints and heights of an ``n``-piece schedule that minimise the tuned bound.

    Minimises :math:`\text{bound}^\star = 2\sqrt{AB}` (:func:`~lrnotes.theory.bounds.tune_peak`).
    A *global* search: for every tuple of breaks from a grid (``_grid``; default the
    tenths of the run and the last ten steps, fractional positions included,
    since the optimum of the bound moves mostly the last step), the heights are optimised
    by Nelder–Mead from the linear-decay heights; then the ``starts`` best tuples are
    refined by Nelder–Mead over breaks and heights together.  (A Nelder–Mead search from
    random starts alone stops at local optima far from the best.)  With ``breaks`` given,
    only the heights are optimised, from the linear-decay start and ``starts`` random
    ones.  With ``monotone=True`` the schedule is restricted to be non-increasing
    (heights :math:`1 \ge v_1 \ge \dots`; sawtooth :math:`1 \ge \alpha_2 \ge \dots`).
    The sawtooth's bound jumps when a breakpoint crosses a step, so for it fixed
    ``breaks`` are the reliable use.

    Parameters
    ----------
    T : int >= 2
    kind : "polyline" or "sawtooth"
    pieces : int in [1, 4] when the breaks are searched (the grid is exhaustive)
    breaks : sequence of ``pieces - 1`` steps in (0, T), increasing; optional
    min_frac : float in [0, 1/pieces): every piece at least ``min_frac * T`` steps
    monotone : bool
    D, G : float > 0
    starts : int >= 1;  seed : int >= 0;  maxiter : int >= 1
    grid : optional sequence of candidate break positions (steps in (0, T))
    """
    from scipy.optimize import minimize

    from lrnotes import schedules as S
    from lrnotes import theory as th

    T = _int_at_least("T", T, 2)
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    n = _int_at_least("pieces", pieces, 1)
    min_frac = _real("min_frac", min_frac, low=0.0, high=1.0 / n, high_open=True)
    starts = _int_at_least("starts", starts, 1)
    seed = _int_at_least("seed", seed, 0)
    maxiter = _int_at_least("maxiter", maxiter, 1)
    fixed = None
    if breaks is not None:
        fixed = _breaks(T, breaks)[1:-1]
        if fixed.size != n - 1:
            raise ValueError(f"breaks must hold pieces - 1 = {n - 1} steps, got {fixed.size}")
    elif n > 4:
        raise ValueError(f"pieces must be <= 4 when the breaks are searched, got {n}")

    def heights_of(z):  # sawtooth: alpha_2..alpha_n / alpha_1; polyline: v_1..v_{n-1}
        if monotone:
            return np.exp(np.cumsum(-np.logaddexp(0.0, -z)))  # products of sigmoids
        return np.exp(z)

    def z_of(h):  # inverse of heights_of, for starts
        h = np.maximum(np.asarray(h, dtype=float), 1e-12)
        if monotone:
            h = np.minimum(np.minimum.accumulate(np.minimum(h, 1 - 1e-9)), 1.0)
            r = h / np.concatenate([[1.0], h[:-1]])
            r = np.clip(r, 1e-12, 1 - 1e-9)
            return np.log(r) - np.log1p(-r)
        return np.log(h)

    def shape(cuts, z):
        h = heights_of(z)
        if kind == "sawtooth":
            return sawtooth(T, cuts, np.concatenate([[1.0], h]))
        return polyline(T, cuts, h)

    def score(cuts, z):
        if np.any(np.abs(z) > 50):
            return np.inf
        try:
            lrs = shape(cuts, z)
        except ValueError:  # breaks out of order, or a piece shrank to nothing
            return np.inf
        if lrs[-1] <= 0 or not np.all(np.isfinite(lrs)):
            return np.inf
        return float(th.tune_peak(lrs, D, G)[1])

    def lin_start(cuts):  # the heights of linear decay at these breaks
        edges = np.concatenate([[0.0], cuts, [float(T)]])
        h = 1.0 - (edges[:-1] if kind == "sawtooth" else edges)[1:n] / T
        return z_of(h)

    opts = {"maxiter": maxiter, "xatol": 1e-10, "fatol": 1e-15, "adaptive": True}

    def solve_heights(cuts, z0s, o=opts, passes=2):
        best = None
        for z0 in z0s:
            if z0.size == 0:
                return z0, score(cuts, z0)
            r = type("R", (), {"x": z0})
            for _ in range(passes):
                r = minimize(lambda z: score(cuts, z), r.x, method="Nelder-Mead", options=o)
            if best is None or r.fun < best[1]:
                best = (r.x, r.fun)
        return best

    if fixed is not None:
        rng = np.random.default_rng(seed)
        z0s = [lin_start(fixed)] + [rng.normal(0.0, 1.0, n - 1) for _ in range(starts)]
        cuts, (z, _) = fixed, solve_heights(fixed, z0s)
    else:
        coarse = {"maxiter": 400, "xatol": 1e-5, "fatol": 1e-12, "adaptive": True}
        cands = [(c, *solve_heights(c, [lin_start(c)], coarse, 1))
                 for c in _grid(T, n - 1, min_frac, grid)]
        if not cands:
            raise ValueError(f"no break tuple on the grid keeps every piece >= min_frac * T")
        cands.sort(key=lambda c: c[2])
        best = cands[0]
        nb = n - 1

        def joint(p):
            cuts = p[:nb]
            if np.any(np.diff(np.concatenate([[0.0], cuts, [float(T)]])) < min_frac * T):
                return np.inf
            return score(cuts, p[nb:])

        for c, z0, _ in cands[:starts]:
            p = np.concatenate([c, z0])
            for _ in range(2):  # restart the simplex where it stopped: NM stalls on ridges
                p = minimize(joint, p, method="Nelder-Mead", options=opts).x
            if joint(p) < best[2]:
                best = (p[:nb], p[nb:], joint(p))
        cuts, z = best[0], best[1]
    lrs_shape = shape(cuts, z)
    heights = np.concatenate([[1.0], heights_of(z)])
    scale, bound = th.tune_peak(lrs_shape, D, G)
    lrs = scale * lrs_shape
    edges = np.concatenate([[0.0], cuts, [float(T)]])
    if kind == "sawtooth":
        slopes = -scale * heights / np.diff(edges)
    else:
        knots = scale * np.concatenate([heights, [0.0]])
        slopes = np.diff(knots) / np.diff(edges)
    linear = float(th.tune_peak(S.linear(T)(np.arange(T)), D, G)[1])
    return PieceFit(kind=kind, breaks=np.asarray(cuts, dtype=float), heights=heights, lrs=lrs,
                    bound=float(bound), linear=linear, slopes=slopes)
