r"""Cyclical schedules: SGDR (cosine with warm restarts) and triangular.

Which cycle a step belongs to is decided exactly.  Cycle :math:`i` of SGDR starts at

.. math:: S_i = \sum_{j<i} T_0 m^j = T_0\,\frac{m^i - 1}{m - 1} \quad (S_i = i\,T_0 \text{ for } m = 1),

and its first integer step :math:`R_i = \lceil S_i \rceil` is the restart.  ``period``
:math:`T_0` and ``mult`` :math:`m` are read as exact rationals (a float as the nearest
fraction with denominator at most :math:`10^6`, so ``1.1`` is 11/10 and ``4/3`` is 4/3;
a :class:`fractions.Fraction` as it is), and
:math:`R_i` is computed in integer arithmetic.  An integer step :math:`t` is in cycle
:math:`i` exactly when :math:`R_i \le t < R_{i+1}`.  (A logarithm in floating point,
as timm and keras use, puts a restart that lands exactly on a step, such as
:math:`43 \cdot 1.1^0 + 43` or :math:`10 + 13`, at the end of the previous cycle.)
While the denominators of :math:`S_i` stay below :math:`2^{1024}` (for ``mult=1.1``,
the first 300 cycles: past :math:`10^{12}` steps) this is exact; beyond that the starts
are summed in float64 (such an :math:`S_i` is far from an integer: for :math:`m = p/q`
in lowest terms, :math:`S_i` is an integer only while :math:`q^{i-1}` divides the
numerator of :math:`T_0`).  Past :math:`2^{16}` cycles (``mult`` close to 1) the table
stops growing and a step's cycle is found in closed form,
:math:`n = \lfloor \log_m(1 + t(m-1)/T_0) \rfloor` corrected by one against the float
starts, so a step far out costs O(1) time and memory.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from ._checks import _choice, _exact, _int_at_least, _lr, _real, _renamed
from ._core import Schedule, _ipow
from .combinators import _with_warmup

DECAY_MODES = ("amplitude", "peak")


class _Cycles:
    """Restart steps R_i, float starts S_i and lengths T_i of SGDR cycles, grown on demand."""

    EXACT_BITS = 1024
    TABLE_MAX = 1 << 16  # past this many cycles (mult close to 1), starts in closed form

    def __init__(self, T0: Fraction, m: Fraction, limit: int | None):
        self.T0, self.m, self.limit, self.mf = T0, m, limit, float(m)
        self._S, self._T, self._exact = Fraction(0), T0, True  # the last cycle, exactly
        self.R, self.S, self.L = [0], [0.0], [float(T0)]
        self._arrays = None

    def _grow(self):
        if self._exact:
            S, T = self._S + self._T, self._T * self.m
            if max(S.denominator, T.denominator).bit_length() <= self.EXACT_BITS:
                self._S, self._T = S, T
                self.R.append(-(-S.numerator // S.denominator))
                self.S.append(float(S))
                self.L.append(float(T))
                return
            self._exact = False
        S, T = self.S[-1] + self.L[-1], self.L[-1] * self.mf
        self.R.append(math.ceil(S))
        self.S.append(S)
        self.L.append(T)

    def table(self, t_max: float):
        """(R, S, L) as arrays, with a start beyond ``t_max`` or the cycle limit's end in them."""
        grew = False
        while (self.S[-1] <= t_max and (self.limit is None or len(self.S) <= self.limit)
               and len(self.S) < self.TABLE_MAX):
            self._grow()
            grew = True
        if grew or self._arrays is None:
            self._arrays = tuple(np.array(x, dtype=float) for x in (self.R, self.S, self.L))
        return self._arrays

    def locate(self, t: np.ndarray):
        """Cycle index n, position t - S_n and length T_n of each step."""
        if self.m == 1:  # S_i = i T0: no table needed
            a, b = self.T0.numerator, self.T0.denominator
            whole = t == np.floor(t)
            n = np.floor(t / float(self.T0))
            if np.any(whole):
                tw = t[whole]
                if tw.max() * b < 2**62:
                    n[whole] = (tw.astype(np.int64) * b) // a
                else:
                    n[whole] = [int(x) * b // a for x in tw]
            if self.limit is not None:
                n = np.minimum(n, self.limit)
            return n, t - n * a / b, np.full_like(t, float(self.T0))
        R, S, L = self.table(float(t.max(initial=0.0)))
        whole = t == np.floor(t)
        n = np.where(whole, np.searchsorted(R, t, side="right"), np.searchsorted(S, t, side="right")) - 1
        n, cur, length = n.astype(float), t - S[n], L[n]
        if len(S) >= self.TABLE_MAX:  # beyond the table: float closed form, O(1) a step
            far = t >= S[-1]
            if np.any(far):
                n[far], cur[far], length[far] = self._far(t[far], len(S) - 1)
        return n, cur, length

    def _far(self, t, first):
        r"""Cycle of steps past the table's last start: :math:`n = \lfloor\log_m(1 + t(m-1)/T_0)\rfloor`.

        For an integer step, :math:`\lceil S_n\rceil \le t \iff S_n \le t`, so one test
        against the float starts serves both; ``n`` is corrected by one either way.
        """
        T0, lm = float(self.T0), math.log(self.mf)

        def start(n):
            return T0 * np.expm1(n * lm) / (self.mf - 1.0)

        n = np.maximum(np.floor(np.log1p(t * (self.mf - 1.0) / T0) / lm), first)
        n = np.where(start(n) > t, n - 1, n)
        n = np.where(start(n + 1) <= t, n + 1, n)
        if self.limit is not None:
            n = np.minimum(n, self.limit)
        return n, t - start(n), T0 * np.exp(n * lm)

    def cycle(self, t: np.ndarray) -> np.ndarray:
        """The cycle index of each step, read as the curve reads it; stops at the last cycle."""
        n, _, _ = self.locate(t)
        return n if self.limit is None else np.minimum(n, self.limit - 1)


@_renamed(floor="end")
def sgdr(
    period: float,
    mult: float = 1.0,
    peak: float = 1.0,
    end: float = 0.0,
    peak_decay: float = 1.0,
    *,
    decay_mode: str = "amplitude",
    cycles: int | None = None,
    k_decay: float = 1.0,
    warmup: int = 0,
    warmup_start: float = 0.0,
    warmup_shape: str = "linear",
) -> Schedule:
    r"""SGDR, cosine annealing with warm restarts (torch ``CosineAnnealingWarmRestarts``).

    Cycle :math:`i = 0, 1, \dots` lasts :math:`T_i = T_0 m^i` steps (``period``
    :math:`T_0 \ge 1`, ``mult`` :math:`m \ge 1`, both may be non-integer) and starts at
    :math:`S_i = \sum_{j<i} T_j`; its first integer step :math:`\lceil S_i \rceil` is a
    restart (decided exactly, see the module docstring).  Within it, at position
    :math:`t_{\text{cur}} = t - S_i`, with ``peak_decay`` :math:`d \in (0, 1]`,

    .. math::
        \begin{aligned}
        \texttt{"amplitude"}:\quad \eta_t &= \eta_{\min} + \tfrac12\,d^{\,i}(\eta_{\max}-\eta_{\min})
            \bigl(1 + \cos(\pi t_{\text{cur}}/T_i)\bigr),\\
        \texttt{"peak"}:\quad \eta_t &= \eta_{\min} + \tfrac12\,(d^{\,i}\eta_{\max}-\eta_{\min})
            \bigl(1 + \cos(\pi t_{\text{cur}}/T_i)\bigr).
        \end{aligned}

    ``decay_mode="amplitude"`` shrinks the swing above the floor (keras
    ``CosineDecayRestarts``' ``m_mul``); ``"peak"`` shrinks the peak itself (timm
    ``CosineLRScheduler``'s ``cycle_decay``, optax ``sgdr_schedule`` with falling peaks).
    ``cycles`` :math:`k` stops after :math:`k` cycles (timm's ``cycle_limit``): from
    :math:`S_k` on the rate is the floor, and the budget is :math:`\lceil S_k \rceil`.
    ``k_decay`` :math:`\kappa > 0` (default 1) is timm's k-decay within each cycle: the
    phase :math:`t_{\text{cur}}/T_i` becomes :math:`(t_{\text{cur}}/T_i)^{\kappa}` (timm
    computes :math:`t_{\text{cur}}^{\kappa}/T_i^{\kappa}`, the same to rounding).
    ``warmup=W`` runs a warmup first (see :func:`warmup_then`): HF's
    ``get_cosine_with_hard_restarts_schedule_with_warmup(opt, W, T, k)`` is
    ``sgdr(Fraction(T - W, k), peak=p, cycles=k, warmup=W)``.  timm's warmup replaces
    the first steps instead: ``sequence([warmup(constant(p), W, s), sgdr(...)], [W],
    clock="absolute")``.

    Example:

    >>> from lrnotes import schedules as S
    >>> sched = S.sgdr(10, mult=2, peak=1.0)
    >>> sched([0, 5, 10, 30])
    array([1. , 0.5, 1. , 1. ])
    >>> sched.restart_steps(100)
    array([10, 30, 70])
    >>> S.sgdr(10, peak=1.0, k_decay=2)([0, 5, 10]).round(4)
    array([1.    , 0.8536, 1.    ])
    """
    T0 = _exact(_real("period", period, low=1.0))
    m = _exact(_real("mult", mult, low=1.0))
    peak, lo = _lr("peak", peak), _lr("end", end)
    d = _real("peak_decay", peak_decay, low=0.0, high=1.0, low_open=True)
    mode = _choice("decay_mode", decay_mode, DECAY_MODES)
    k = None if cycles is None else _int_at_least("cycles", cycles, 1)
    kd = _real("k_decay", k_decay, low=0.0, low_open=True)
    table = _Cycles(T0, m, k)

    def fn(t):
        n, cur, length = table.locate(t)
        done = n >= k if k is not None else np.zeros(t.shape, dtype=bool)
        n = np.where(done, 0.0, n)
        dn = _ipow(d, n)
        phase = cur / length if kd == 1.0 else np.power(np.maximum(cur / length, 0.0), kd)
        wave = 1.0 + np.cos(np.pi * phase)
        if mode == "amplitude":
            out = lo + 0.5 * (peak - lo) * dn * wave
        else:
            out = lo + 0.5 * (peak * dn - lo) * wave
        return np.where(done, lo, out)

    if k is not None and (k - 1) * math.log(float(m)) + math.log(float(T0)) > math.log(2.0**62):
        raise ValueError(f"cycles must keep the budget below 2**62 steps for period={period!r}, mult={mult!r}, "
                         f"got cycles={k} (leave cycles=None for no limit)")
    if k is not None and m == 1 and T0 * k > 2**62:
        raise ValueError(f"cycles must keep the budget below 2**62 steps for period={period!r}, got cycles={k}")

    def build(_):
        end = None
        if k is not None:
            S_k = T0 * k if m == 1 else T0 * (m**k - 1) / (m - 1)
            end = -(-S_k.numerator // S_k.denominator)
        return Schedule(
            fn,
            name="sgdr",
            params={"period": period, "mult": mult, "peak": peak, "end": lo, "peak_decay": d,
                    "decay_mode": mode, "cycles": k} | ({} if kd == 1.0 else {"k_decay": kd}),
            total=end,
            cycle=table.cycle,
        )

    return _with_warmup(build, None, warmup, warmup_start, warmup_shape)


@_renamed(low="end")
def triangular(step_size: int, end: float, high: float) -> Schedule:
    r"""Triangular cyclical LR (torch ``CyclicLR``, mode ``"triangular"``).

    Rises linearly from ``end`` (the low point, where each cycle ends) to ``high``
    over ``step_size`` steps, falls back over the
    next ``step_size``, and repeats:
    :math:`\eta_t = \eta_{lo} + (\eta_{hi}-\eta_{lo})\max(0, 1 - |t/s - 2c + 1|)` with
    :math:`c = \lfloor 1 + t/(2s) \rfloor`.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.triangular(5, end=0.1, high=1.0)([0, 5, 10])
    array([0.1, 1. , 0.1])
    >>> S.triangular(5, end=0.1, high=1.0).restart_steps(31)
    array([10, 20, 30])
    """
    s = _int_at_least("step_size", step_size, 1)
    low, high = _lr("end", end), _lr("high", high)
    if high < low:
        raise ValueError(f"high must be >= end, got end={low}, high={high}")

    def fn(t):
        c = np.floor(1.0 + t / (2 * s))
        x = np.abs(t / s - 2.0 * c + 1.0)
        return low + (high - low) * np.maximum(0.0, 1.0 - x)

    return Schedule(
        fn,
        name="triangular",
        params={"step_size": s, "end": low, "high": high},
        cycle=lambda t: np.floor(t / (2 * s)),
    )
