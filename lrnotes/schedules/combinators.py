r"""Combinators: build a schedule from others (warmups, cooldown, floor, envelope,
sequence, re-target).  Each returns a new closed-form :class:`Schedule`.

Two warmups, because the libraries disagree (see the book's page "one name, many curves"):

- :func:`warmup` *multiplies* a ramp into the schedule (torch ``LinearLR`` chained with
  it, Big Vision): the decay's clock starts at step 0 and the budget is unchanged.
- :func:`warmup_then` *runs the ramp first* and starts the schedule's clock when it ends
  (HF transformers, optax, keras, timm's ``warmup_prefix``).  The ``warmup=`` keyword of
  :func:`cosine`, :func:`linear`, :func:`polynomial`, :func:`inverse_sqrt`, :func:`sgdr`
  and :func:`wsd` does this, with the budget counting the warmup (HF's
  ``num_training_steps``, optax's ``decay_steps``).
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ._checks import COOLDOWNS, WARMUPS, _choice, _int_at_least, _lr, _real, _renamed, _schedule_arg
from ._core import Schedule, _cool, _warm, cycle_key


def warmup(inner: Schedule, steps: int, start: float = 0.0, shape: str = "linear") -> Schedule:
    r"""A warmup *multiplied into* any schedule (torch ``LinearLR`` chained with it).

    .. math:: \eta_t = \text{inner}(t)\,\bigl(s + (1-s)\,w(\min(t, W)/W)\bigr)

    with ``start`` factor :math:`s \in [0, 1]` and ``shape`` :math:`w` one of
    ``"linear"`` :math:`w(p) = p`, ``"cosine"`` :math:`\tfrac12(1 - \cos\pi p)`,
    ``"sqrt"`` :math:`1 - \sqrt{1-p}`.  The inner schedule keeps its own clock, so its
    decay has already begun when the warmup ends: ``warmup(cosine(T), W)`` is *not*
    HF's ``get_cosine_schedule_with_warmup`` (that is ``cosine(T, warmup=W)``, see
    :func:`warmup_then`).  The budget is unchanged; ``steps`` must be shorter than it.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.warmup(S.cosine(100), 10)([0, 5, 10])
    array([0.        , 0.49692209, 0.97552826])
    """
    inner = _schedule_arg("inner", inner)
    W = _int_at_least("steps", steps, 1)
    if inner.total is not None and W >= inner.total:
        raise ValueError(f"warmup steps must be shorter than the budget: steps={W} >= total={inner.total}")
    s = _real("start", start, low=0.0, high=1.0)
    shape = _choice("shape", shape, WARMUPS)
    if shape == "linear":  # the historical expression, kept bit for bit
        def ramp(t):
            return s + (1.0 - s) * np.minimum(t, W) / W
    else:
        def ramp(t):
            return s + (1.0 - s) * _warm(shape, np.minimum(t, W) / W)

    return Schedule(
        lambda t: inner(t) * ramp(t),
        name="warmup",
        params={"inner": inner, "steps": W, "start": s, "shape": shape},
        total=inner.total,
        cycle=inner._cycle,
    )


def warmup_then(inner: Schedule, steps: int, start: float = 0.0, shape: str = "linear") -> Schedule:
    r"""A warmup *run before* any schedule (HF, optax, keras): ramp up, then start ``inner``.

    .. math:: \eta_t = \begin{cases}
              \text{inner}(0)\,\bigl(s + (1-s)\,w(t/W)\bigr) & t < W,\\
              \text{inner}(t - W) & t \ge W,
              \end{cases}

    with ``start`` factor :math:`s \in [0, 1]` (HF: 0; optax ``init_value/peak_value``;
    keras ``initial_learning_rate/warmup_target``; HF's WSD ``min_lr_ratio``) and the
    warmup ``shape`` :math:`w` of :func:`warmup`.  The budget grows by ``steps``:
    keras's ``CosineDecay(p, D, warmup_target=p, warmup_steps=W)`` (from 0) is
    ``warmup_then(cosine(D, p), W)``.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.warmup_then(S.cosine(100), 10)([0, 5, 10, 110])
    array([0. , 0.5, 1. , 0. ])
    """
    inner = _schedule_arg("inner", inner)
    W = _int_at_least("steps", steps, 1)
    s = _real("start", start, low=0.0, high=1.0)
    shape = _choice("shape", shape, WARMUPS)
    top = inner(0)

    def fn(t):
        out = np.empty_like(t)
        up = t < W
        out[up] = top * (s + (1.0 - s) * _warm(shape, t[up] / W))
        out[~up] = inner(t[~up] - W)
        return out

    def cycle(t):  # the warmup reads inner(0)
        return cycle_key(inner._cycle, np.maximum(t - W, 0.0))

    return Schedule(
        fn,
        name="warmup_then",
        params={"inner": inner, "steps": W, "start": s, "shape": shape},
        total=None if inner.total is None else W + inner.total,
        cycle=cycle if inner._cycle is not None else None,
    )


def _with_warmup(build, total, steps, start, shape) -> Schedule:
    """``build(T - W)`` after a warmup of ``W`` steps, the budget ``T`` counting the warmup."""
    W = _int_at_least("warmup", steps, 0)
    _real("warmup_start", start, low=0.0, high=1.0)  # checked even when there is no warmup
    _choice("warmup_shape", shape, WARMUPS)
    if W == 0:
        return build(total)
    if total is not None and W >= total:
        raise ValueError(f"warmup must be shorter than the budget: warmup={W} >= total={total}")
    return warmup_then(build(None if total is None else total - W), W, start=start, shape=shape)


@_renamed(floor="end")
def cooldown(inner: Schedule, steps: int, total: int | None = None, shape: str = "linear",
             end: float = 0.0) -> Schedule:
    r"""A cooldown over the last ``steps`` of the budget, put onto any schedule.

    With :math:`t_c = T - D` (``total`` :math:`T`, default ``inner.total``; ``steps`` :math:`D`)
    and the cooldown ``shape`` :math:`c` (``"linear"`` :math:`1-p`, ``"cosine"``
    :math:`\tfrac12(1+\cos\pi p)`, ``"sqrt"`` :math:`1-\sqrt p`),

    .. math:: \eta_t = \begin{cases}
              \text{inner}(t) & t < t_c,\\
              \eta_{\min} + (\text{inner}(t) - \eta_{\min})\,c\bigl(\min(1, (t-t_c)/D)\bigr)
              & t \ge t_c.
              \end{cases}

    The factor multiplies what is left of ``inner`` above the end value
    ``end`` :math:`\eta_{\min}`, so a decaying schedule keeps decaying under it: this is
    timm's ``WSDLRScheduler`` (stable phase ``rsqrt`` = :func:`inverse_sqrt`) and Big
    Vision's rsqrt schedule with a linear cooldown.  From :math:`t = T` on it is the floor.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.cooldown(S.constant(1.0), 20, total=100)([0, 80, 90, 100])
    array([1. , 1. , 0.5, 0. ])
    """
    inner = _schedule_arg("inner", inner)
    if total is None:
        if inner.total is None:
            raise ValueError(f"cooldown needs total (the end of the cooldown) for {inner!r}, which has no budget")
        total = inner.total
    T = _int_at_least("total", total, 1)
    D = _int_at_least("steps", steps, 1)
    if D > T:
        raise ValueError(f"the cooldown must fit in the budget: steps={D} > total={T}")
    shape = _choice("shape", shape, COOLDOWNS)
    lo = _lr("end", end)
    tc = T - D

    def fn(t):
        out = inner(t)
        late = t >= tc
        p = np.minimum((t[late] - tc) / D, 1.0)
        out[late] = lo + (out[late] - lo) * _cool(shape, p)
        return out

    def cycle(t):  # the factor c(p) > 0 until T keeps inner's jumps; from T on the floor
        return cycle_key(inner._cycle, np.where(t >= T, float(T - 1), t))

    return Schedule(
        fn,
        name="cooldown",
        params={"inner": inner, "steps": D, "total": T, "shape": shape, "end": lo},
        total=T,
        cycle=cycle if inner._cycle is not None else None,
    )


def shift(inner: Schedule, steps: int) -> Schedule:
    r"""Start ``steps`` :math:`s` steps into a schedule: :math:`\eta_t = \text{inner}(t + s)`.

    HF's ``get_cosine_with_min_lr_schedule_with_warmup_lr_rate`` is HF's cosine with
    warmup one step early (its warmup starts at :math:`\eta_{\max}/W`):
    ``shift(cosine(T, p, r*p, warmup=W), 1)``.  The budget shrinks by :math:`s`.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.shift(S.linear(100), 50)([0, 50])
    array([0.5, 0. ])
    """
    inner = _schedule_arg("inner", inner)
    k = _int_at_least("steps", steps, 0)
    if inner.total is not None and k >= inner.total:
        raise ValueError(f"steps must be shorter than the budget: steps={k} >= total={inner.total}")

    return Schedule(
        lambda t: inner(t + k),
        name="shift",
        params={"inner": inner, "steps": k},
        total=None if inner.total is None else inner.total - k,
        cycle=None if inner._cycle is None else (lambda t: cycle_key(inner._cycle, t + k)),
    )


@_renamed(minimum="end")
def floor(inner: Schedule, end: float) -> Schedule:
    r"""Never below ``end``: :math:`\eta_t = \max(\text{inner}(t), \eta_{\min})`.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.floor(S.linear(100), end=0.2)([0, 50, 90])
    array([1. , 0.5, 0.2])
    """
    inner = _schedule_arg("inner", inner)
    lo = _lr("end", end)
    return Schedule(
        lambda t: np.maximum(inner(t), lo),
        name="floor",
        params={"inner": inner, "end": lo},
        total=inner.total,
        cycle=inner._cycle,
    )


def inv_t(inner: Schedule, t0: float = 1.0) -> Schedule:
    r"""A :math:`1/t` envelope (Robbins–Monro): :math:`\eta_t = \text{inner}(t)\,t_0/(t + t_0)`.

    If ``inner`` is bounded and bounded away from zero, the result satisfies
    :math:`\sum_t \eta_t = \infty` and :math:`\sum_t \eta_t^2 < \infty`.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.inv_t(S.constant(1.0), t0=10)([0, 10, 90])
    array([1. , 0.5, 0.1])
    """
    inner = _schedule_arg("inner", inner)
    t0 = _real("t0", t0, low=0.0, low_open=True)
    return Schedule(
        lambda t: inner(t) * t0 / (t + t0),
        name="inv_t",
        params={"inner": inner, "t0": t0},
        total=inner.total,
        cycle=inner._cycle,
    )


CLOCKS = ("relative", "absolute")


def sequence(schedules: Sequence[Schedule], boundaries: Sequence[int], clock: str = "relative") -> Schedule:
    r"""Run schedules one after another (optax ``join_schedules``, torch ``SequentialLR``).

    For :math:`b_{i-1} \le t < b_i` (with :math:`b_{-1} = 0`) the result is
    :math:`\text{schedules}[i](t - b_{i-1})` with ``clock="relative"`` (each piece
    restarts its own clock, as optax and torch do), or :math:`\text{schedules}[i](t)`
    with ``clock="absolute"`` (each piece reads the global step: timm's warmup, which
    replaces the first steps of its cosine instead of delaying it).  Piece :math:`i`
    takes over *at* step :math:`b_{i-1}`; keras's ``PiecewiseConstantDecay`` switches
    one step later (use :math:`b + 1`).

    Example:

    >>> from lrnotes import schedules as S
    >>> sched = S.sequence([S.constant(0.5), S.cosine(100)], [10])
    >>> sched([0, 9, 10, 60])
    array([0.5, 0.5, 1. , 0.5])
    """
    for name, value in (("schedules", schedules), ("boundaries", boundaries)):
        if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
            raise ValueError(f"{name} must be a list, got {type(value).__name__} {value!r}")
    scheds = [_schedule_arg(f"schedules[{i}]", s) for i, s in enumerate(schedules)]
    if not scheds:
        raise ValueError("schedules must hold at least one schedule")
    bounds = [_int_at_least(f"boundaries[{i}]", b, 1) for i, b in enumerate(boundaries)]
    if len(bounds) != len(scheds) - 1:
        raise ValueError(
            f"boundaries must have len(schedules) - 1 = {len(scheds) - 1} entries, got {len(bounds)}"
        )
    if any(b1 <= b0 for b0, b1 in zip(bounds, bounds[1:])):
        raise ValueError(f"boundaries must be strictly increasing, got {bounds}")
    clock = _choice("clock", clock, CLOCKS)
    starts = [0] + bounds
    offsets = starts if clock == "relative" else [0] * len(starts)

    def fn(t):
        out = np.empty_like(t)
        piece = np.searchsorted(bounds, t, side="right")
        for i, s in enumerate(scheds):
            mask = piece == i
            if np.any(mask):
                out[mask] = s(t[mask] - offsets[i])
        return out

    # cycle key: piece i's own key, shifted to continue the previous piece's last key, so
    # that a boundary is a restart only where the piece itself restarts there (relative
    # clock: never, its clock starts at 0; absolute clock: where it restarts at b)
    keyed = [sc._cycle for sc in scheds]
    refs = [0.0] + [float(b - 1) if clock == "absolute" else 0.0 for b in bounds]

    def own(i, t):
        if keyed[i] is None:
            return np.zeros(np.shape(t))
        return cycle_key(keyed[i], np.asarray(t, dtype=float) - offsets[i])

    bases = [0.0]
    for i, b in enumerate(bounds):  # the key at step b - 1, the last step of piece i
        bases.append(bases[-1] + float(own(i, [b - 1])[0] - own(i, [refs[i] + offsets[i]])[0]))

    def cycle(t):
        out = np.empty_like(t)
        piece = np.searchsorted(bounds, t, side="right")
        for i in range(len(scheds)):
            mask = piece == i
            if np.any(mask):
                out[mask] = bases[i] + own(i, t[mask]) - own(i, [refs[i] + offsets[i]])[0]
        return out

    last = scheds[-1].total
    return Schedule(
        fn,
        name="sequence",
        params={"schedules": scheds, "boundaries": bounds, "clock": clock},
        total=None if last is None else offsets[-1] + last,
        cycle=cycle if any(c is not None for c in keyed) else None,
    )


def retarget(inner: Schedule, at: int, total: int) -> Schedule:
    r"""Change the budget from ``inner.total`` = :math:`T` to ``total`` = :math:`T'` at step ``at``.

    Before ``at`` nothing changes; after it, the rest of the schedule is stretched (or
    squeezed) in time to end at :math:`T'`:

    .. math:: \eta'_t = \text{inner}\Bigl(a + \frac{(t - a)(T - a)}{T' - a}\Bigr), \quad t \ge a.

    So :math:`\eta'_a = \eta_a` (no jump), and the schedule reaches its end value
    exactly at :math:`T'`.  For linear decay this is the straight line from
    :math:`\eta_a` to zero at :math:`T'`.  The restarts are read off the same stretched
    clock as the curve: step :math:`t` is a restart when ``inner``'s cycle at the
    stretched time of :math:`t` differs from that of :math:`t - 1`, so a cycle start
    :math:`S_i` that is not an integer moves to the first step whose stretched time
    reaches :math:`S_i`, the step at which the curve jumps.

    Example:

    >>> from lrnotes import schedules as S
    >>> sched = S.retarget(S.linear(100), at=50, total=150)
    >>> sched([0, 50, 100, 150])
    array([1.  , 0.5 , 0.25, 0.  ])
    """
    inner = _schedule_arg("inner", inner)
    if inner.total is None:
        raise ValueError(f"retarget needs a schedule with a budget (total), got {inner!r}")
    T = inner.total
    a = _int_at_least("at", at, 0)
    if a >= T:
        raise ValueError(f"at must be before the old budget ends: at={a} >= total={T}")
    T2 = _int_at_least("total", total, 1)
    if T2 <= a:
        raise ValueError(f"the new total must be after the switch: total={T2} <= at={a}")

    def clock(t):
        return np.where(t < a, t, a + (t - a) * (T - a) / (T2 - a))

    def fn(t):
        return inner(clock(t))

    return Schedule(
        fn,
        name="retarget",
        params={"inner": inner, "at": a, "total": T2},
        total=T2,
        cycle=None if inner._cycle is None else (lambda t: cycle_key(inner._cycle, clock(t))),
    )


def envelope(inner: Schedule, gamma: float, end: float = 0.0) -> Schedule:
    r"""An exponential envelope on what ``inner`` has above ``end``:
    :math:`\eta_t = \eta_{\text{end}} + (\text{inner}(t) - \eta_{\text{end}})\,\gamma^{t}`.

    ``gamma`` :math:`\gamma \in (0, 1]`.  torch's ``CyclicLR(opt, base_lr=b, max_lr=h,
    step_size_up=s, mode="exp_range", gamma=g)`` is
    ``envelope(triangular(s, end=b, high=h), g, end=b)``.  :math:`\gamma^t` is Python's
    scalar power for a whole step (as torch computes it), NumPy's otherwise.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.envelope(S.triangular(5, end=0.1, high=1.0), 0.5, end=0.1)([0, 5, 10, 15])
    array([0.1       , 0.128125  , 0.1       , 0.10002747])
    """
    inner = _schedule_arg("inner", inner)
    g = _real("gamma", gamma, low=0.0, high=1.0, low_open=True)
    lo = _lr("end", end)

    def fn(t):
        whole = t == np.floor(t)
        power = np.power(g, t)
        power[whole] = [g ** int(x) for x in t[whole]]
        return lo + (inner(t) - lo) * power

    return Schedule(fn, name="envelope", params={"inner": inner, "gamma": g, "end": lo},
                    total=inner.total, cycle=inner._cycle)
