r"""Closed-form schedules with no cycles: constant, step decay, inverse square root,
linear, polynomial, cosine and warmup–stable–decay.

Every schedule with a ``warmup=`` keyword runs that warmup *before* it, the HF/optax
way (see :func:`~lrnotes.schedules.combinators.warmup_then`): ``cosine(T, p, warmup=W)``
is HF's ``get_cosine_schedule_with_warmup(opt, W, T)`` with base LR ``p``, the cosine
spanning the ``T - W`` steps after the warmup.  ``warmup_start`` is the factor of the
peak at which the ramp starts, and ``warmup_shape`` its shape (``"linear"``,
``"cosine"``, ``"sqrt"``).
"""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np

from ._checks import COOLDOWNS, WARMUPS, _choice, _exact, _int_at_least, _lr, _real, _renamed
from ._core import Schedule, _cool, _ipow, _warm
from .combinators import _with_warmup


def constant(value: float = 1.0, *, warmup: int = 0, warmup_start: float = 0.0,
             warmup_shape: str = "linear") -> Schedule:
    r"""Constant: :math:`\eta_t = \eta` (after an optional warmup: HF
    ``get_constant_schedule_with_warmup``).

    Example:

    >>> from lrnotes import schedules as S
    >>> S.constant(0.1, warmup=10)([0, 5, 10, 50])
    array([0.  , 0.05, 0.1 , 0.1 ])
    """
    value = _lr("value", value)

    def build(_):
        return Schedule(lambda t: np.full_like(t, value), name="constant", params={"value": value})

    return _with_warmup(build, None, warmup, warmup_start, warmup_shape)


def step_decay(step_size: int, gamma: float = 0.1, peak: float = 1.0) -> Schedule:
    r"""Step decay (torch ``StepLR``): :math:`\eta_t = \eta_{\max}\,\gamma^{\lfloor t/s \rfloor}`.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.step_decay(30, gamma=0.5, peak=0.2)([0, 29, 30, 60])
    array([0.2 , 0.2 , 0.1 , 0.05])
    """
    s = _int_at_least("step_size", step_size, 1)
    gamma = _real("gamma", gamma, low=0.0, high=1.0, low_open=True)
    peak = _lr("peak", peak)
    return Schedule(
        lambda t: peak * _ipow(gamma, np.floor(t / s)),
        name="step_decay",
        params={"step_size": s, "gamma": gamma, "peak": peak},
    )


def inverse_sqrt(peak: float = 1.0, offset: float = 1.0, *, warmup: int = 0, warmup_start: float = 0.0,
                 warmup_shape: str = "linear") -> Schedule:
    r"""Inverse square root: :math:`\eta_t = \eta_{\max}\sqrt{t_0/(t + t_0)}`.

    With ``offset`` :math:`t_0 = 1` this is the theory's :math:`\eta_k = \eta_{\max}/\sqrt{k}`.
    With ``warmup=W`` it starts after the warmup: HF's
    ``get_inverse_sqrt_schedule(opt, W, timescale)`` is ``inverse_sqrt(p, offset=timescale,
    warmup=W)`` (HF's default timescale is ``W``, or 10,000 without warmup), and timm's
    ``rsqrt`` stable phase is ``inverse_sqrt(p, offset=stable_timescale)``.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.inverse_sqrt(1.0, offset=4)([0, 12])
    array([1. , 0.5])
    """
    peak = _lr("peak", peak)
    t0 = _real("offset", offset, low=0.0, low_open=True)

    def build(_):
        return Schedule(lambda t: peak * np.sqrt(t0 / (t + t0)), name="inverse_sqrt",
                        params={"peak": peak, "offset": t0})

    return _with_warmup(build, None, warmup, warmup_start, warmup_shape)


def linear(total: int, peak: float = 1.0, end: float = 0.0, *, warmup: int = 0, warmup_start: float = 0.0,
           warmup_shape: str = "linear") -> Schedule:
    r"""Linear decay (torch ``PolynomialLR``, power 1):

    .. math:: \eta_t = \eta_{\max} + (\eta_{\text{end}} - \eta_{\max})\,\min(t, T)/T.

    With ``end=0``, update :math:`k = t+1` gets :math:`\eta_{\max}(T+1-k)/T`, the sources'
    :math:`\alpha(1 - k/(T+1))` with :math:`\alpha = \eta_{\max}(T+1)/T`.  With
    ``warmup=W`` the line spans the ``T - W`` steps after the warmup: HF's
    ``get_linear_schedule_with_warmup(opt, W, T)``.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.linear(100, peak=1.0, end=0.1)([0, 50, 100, 200])
    array([1.  , 0.55, 0.1 , 0.1 ])
    """
    T = _int_at_least("total", total, 1)
    peak, end = _lr("peak", peak), _lr("end", end)

    def build(n):
        return Schedule(
            lambda t: peak * (1.0 - np.minimum(t, n) / n) + end * (np.minimum(t, n) / n),
            name="linear", params={"total": n, "peak": peak, "end": end}, total=n,
        )

    return _with_warmup(build, T, warmup, warmup_start, warmup_shape)


def polynomial(total: int, peak: float = 1.0, end: float = 0.0, power: float = 1.0, *, k_decay: float = 1.0,
               warmup: int = 0, warmup_start: float = 0.0, warmup_shape: str = "linear") -> Schedule:
    r"""Polynomial decay of any power (torch ``PolynomialLR``, optax ``polynomial_schedule``):

    .. math:: \eta_t = \eta_{\text{end}} + (\eta_{\max} - \eta_{\text{end}})
              \bigl(1 - (\min(t, T)/T)^{k}\bigr)^{\kappa}, \qquad \kappa > 0,\ k > 0.

    ``power`` :math:`\kappa = 1` is :func:`linear`; :math:`\kappa = 2` decays fast and
    lands softly.  With ``warmup=W`` it spans the ``T - W`` steps after the warmup: HF's
    ``get_polynomial_decay_schedule_with_warmup(opt, W, T, lr_end, power)``.

    ``k_decay`` :math:`k` (default 1, the plain polynomial) is timm's k-decay (Zhang and
    Li, arXiv:2004.05909): timm's ``PolyLRScheduler(opt, T, power, lr_min,
    warmup_t=W, warmup_prefix=True, k_decay=k)`` computes
    :math:`1 - t^k/T^k`; we compute :math:`1 - (t/T)^k`, the same to rounding, without
    overflow for a large :math:`k`.  With :math:`k > 1` the rate stays high for longer.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.polynomial(100, peak=1.0, power=2)([0, 50, 100])
    array([1.  , 0.25, 0.  ])
    >>> S.polynomial(100, peak=1.0, power=1, k_decay=2)([0, 50, 100])
    array([1.  , 0.75, 0.  ])
    """
    T = _int_at_least("total", total, 1)
    peak, end = _lr("peak", peak), _lr("end", end)
    k = _real("power", power, low=0.0, low_open=True)
    kd = _real("k_decay", k_decay, low=0.0, low_open=True)
    whole = float(k).is_integer() and k <= 64

    def build(n):
        def fn(t):
            rest = 1.0 - _progress(np.minimum(t, n) / n, kd)
            if whole:  # exact repeated products: the same bits on every path
                f = np.ones_like(rest)
                for _ in range(int(k)):
                    f = f * rest
            else:
                f = np.power(rest, k)
            return (peak - end) * f + end

        return Schedule(fn, name="polynomial", params={"total": n, "peak": peak, "end": end, "power": k}
                        | ({} if kd == 1.0 else {"k_decay": kd}), total=n)

    return _with_warmup(build, T, warmup, warmup_start, warmup_shape)


@_renamed(floor="end")
def cosine(total: int, peak: float = 1.0, end: float = 0.0, *, k_decay: float = 1.0, warmup: int = 0,
           warmup_start: float = 0.0, warmup_shape: str = "linear") -> Schedule:
    r"""Cosine annealing (torch ``CosineAnnealingLR`` for :math:`t \le T`):

    .. math:: \eta_t = \eta_{\min} + \tfrac12(\eta_{\max}-\eta_{\min})
              \bigl(1 + \cos(\pi \min(t, T)/T)\bigr).

    It stays at :math:`\eta_{\min}` after ``T`` (torch's recursion and HF's lambda climb
    back up instead).  With ``warmup=W`` the cosine spans the ``T - W`` steps after the
    warmup: HF's ``get_cosine_schedule_with_warmup(opt, W, T)`` and optax's
    ``warmup_cosine_decay_schedule(s*p, p, W, T, end)``.  keras's ``CosineDecay`` counts
    its ``decay_steps`` *after* the warmup: ``cosine(W + D, p, warmup=W)``.

    ``k_decay`` :math:`k > 0` (default 1, the plain cosine) is timm's k-decay (Zhang and
    Li, arXiv:2004.05909), the phase raised to the power :math:`k`:

    .. math:: \eta_t = \eta_{\min} + \tfrac12(\eta_{\max}-\eta_{\min})
              \bigl(1 + \cos(\pi (\min(t, T)/T)^{k})\bigr).

    timm's ``CosineLRScheduler(opt, T, lr_min, warmup_t=W, warmup_prefix=True,
    k_decay=k)`` is ``cosine(W + T, p, lr_min, k_decay=k, warmup=W,
    warmup_start=warmup_lr_init/p)``; timm computes :math:`t^k/T^k`, we compute
    :math:`(t/T)^k`, the same to rounding, without overflow for a large :math:`k`
    (with cycles see :func:`~lrnotes.schedules.sgdr`).  :math:`k > 1` keeps the rate
    high for longer and drops it later and faster.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.cosine(100, peak=1.0, end=0.1)([0, 50, 100])
    array([1.  , 0.55, 0.1 ])
    >>> S.cosine(100, peak=1.0, k_decay=2)([0, 50, 100]).round(4)
    array([1.    , 0.8536, 0.    ])
    """
    T = _int_at_least("total", total, 1)
    peak, lo = _lr("peak", peak), _lr("end", end)
    k = _real("k_decay", k_decay, low=0.0, low_open=True)

    def build(n):
        return Schedule(
            lambda t: lo + 0.5 * (peak - lo) * (1.0 + np.cos(np.pi * _progress(np.minimum(t, n) / n, k))),
            name="cosine", params={"total": n, "peak": peak, "end": lo} | ({} if k == 1.0 else {"k_decay": k}),
            total=n,
        )

    return _with_warmup(build, T, warmup, warmup_start, warmup_shape)


def _progress(p: np.ndarray, k: float) -> np.ndarray:
    r"""k-decay's progress :math:`p^k` (``p`` itself for :math:`k = 1`, bit for bit)."""
    return p if k == 1.0 else np.power(np.maximum(p, 0.0), k)


def _decay_length(f, T: int) -> Fraction:
    r"""The decay length :math:`D = fT` in steps, exactly.

    A :class:`fractions.Fraction` ``f`` is taken as it is.  A float's exact binary value
    times :math:`T` is snapped to the nearest integer when within :math:`10^{-9}` (relative)
    of it (``0.07 * 100`` is 7 steps, ``7e-7 * 10**7`` is 7), else to the decimal as
    typed times :math:`T` (``1e-7 * 10**6`` is 1/10), else to ``f`` read as the nearest
    fraction with denominator at most :math:`10^6` times :math:`T` (``36/37``), whichever
    is that close first, else kept as it is.  A decay that rounds to 0 steps is refused.
    """
    if isinstance(f, numbers.Rational):
        D = Fraction(int(f.numerator), int(f.denominator)) * T
    else:
        binary = Fraction(float(f)) * T
        near, tol = round(binary), Fraction(1, 10**9) * max(1, binary)
        typed = Fraction(repr(float(f))) * T  # the decimal as typed: 1e-07 is 1/10**7
        simple = Fraction(float(f)).limit_denominator(10**6) * T
        D = next((x for x in (Fraction(near), typed, simple) if abs(binary - x) <= tol), binary)
    if D <= 0:
        raise ValueError(f"decay_frac * total must be more than 0 steps, got decay_frac={f!r}, total={T}")
    return D


@_renamed(floor="end")
def wsd(
    total: int,
    peak: float = 1.0,
    warmup: int = 0,
    decay_frac: float | None = None,
    cooldown: str = "linear",
    end: float = 0.0,
    *,
    decay_steps: int | None = None,
    warmup_start: float = 0.0,
    warmup_shape: str = "linear",
) -> Schedule:
    r"""Warmup–stable–decay.

    A warmup over ``warmup`` :math:`W` steps (from ``warmup_start`` times the peak, of
    ``warmup_shape`` :math:`w`), then :math:`\eta_{\max}` until the decay starts at
    :math:`t_d = T - D`, then a cooldown to ``end`` at :math:`t = T`, with progress
    :math:`p = (t - t_d)/D`:

    .. math:: \eta_t = \eta_{\min} + (\eta_{\max}-\eta_{\min})\,c(p), \quad
              c(p) \in \{1-p,\ \tfrac12(1+\cos\pi p),\ 1-\sqrt{p}\}.

    The decay lasts ``decay_steps`` :math:`D` whole steps (HF ``get_wsd_schedule``'s
    ``num_decay_steps``), or :math:`D = fT` for ``decay_frac`` :math:`f \in (0, 1]`
    (default 0.1).  :math:`fT` is computed exactly, ``f`` read as the nearest fraction
    with denominator at most :math:`10^6` (``0.07`` is 7/100, ``36/37`` is 36/37), so when
    it is a whole number the decay starts exactly on that step (``T * (1 - f)`` in
    floating point can land just below it); when it is not, :math:`t_d` is fractional,
    as in the book's exercise.  HF's ``get_wsd_schedule(opt, W, D, T, warmup_type=w,
    decay_type=c, min_lr_ratio=r)`` is ``wsd(T, p, W, decay_steps=D, cooldown=c,
    end=r*p, warmup_start=r, warmup_shape=w)`` (HF's ``"1-sqrt"`` is ``"sqrt"``).

    Example:

    >>> from lrnotes import schedules as S
    >>> sched = S.wsd(100, peak=1.0, warmup=10, decay_frac=0.2)
    >>> sched([0, 5, 10, 80, 90, 100])
    array([0. , 0.5, 1. , 1. , 0.5, 0. ])
    """
    T = _int_at_least("total", total, 1)
    peak, lo = _lr("peak", peak), _lr("end", end)
    W = _int_at_least("warmup", warmup, 0)
    if W >= T:
        raise ValueError(f"warmup must be shorter than the budget: warmup={W} >= total={T}")
    cooldown = _choice("cooldown", cooldown, COOLDOWNS)
    warmup_shape = _choice("warmup_shape", warmup_shape, WARMUPS)
    s = _real("warmup_start", warmup_start, low=0.0, high=1.0)
    if decay_steps is not None:
        if decay_frac is not None:
            raise ValueError("give decay_frac or decay_steps, not both")
        D = _int_at_least("decay_steps", decay_steps, 1)
        if D > T:
            raise ValueError(f"decay_steps must be in [1, total={T}], got {D}")
        name, D = "decay_steps", _exact(D)
    else:
        f = 0.1 if decay_frac is None else decay_frac
        _real("decay_frac", f, low=0.0, high=1.0, low_open=True)
        name, D = "decay_frac", _decay_length(f, T)
    if T - D < W:
        raise ValueError(
            f"the decay ({name}: {float(D):g} steps) must fit after the warmup "
            f"({W} steps) within total={T}: need {name} <= {(T - W) / (T if name == 'decay_frac' else 1):g}"
        )
    t_decay, length = float(T - D), float(D)

    def fn(t):
        out = lo + (peak - lo) * _cool(cooldown, np.clip((t - t_decay) / length, 0.0, 1.0))
        out[t >= T] = lo  # the end value exactly, also for a fractional decay start
        if W > 0:
            up = t < W
            out[up] = peak * (s + (1.0 - s) * _warm(warmup_shape, t[up] / W))
        return out

    return Schedule(
        fn,
        name="wsd",
        params={"total": T, "peak": peak, "warmup": W, "decay_steps": int(D) if D.denominator == 1 else float(D), "cooldown": cooldown, "end": lo,
                "warmup_start": s, "warmup_shape": warmup_shape},
        total=T,
    )
