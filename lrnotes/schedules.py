r"""Closed-form learning-rate schedules, combinators and the torch adapter.

A schedule is a pure function of the step: ``lr = sched(t)`` for an int, a float or a
NumPy array of steps.  It has no hidden state and no recursion, so it resumes exactly,
plots for free and feeds the theory chapters.

Step convention (stated once, used everywhere)
-----------------------------------------------
``t = 0, 1, 2, ...`` counts the updates already made: ``sched(t)`` is the learning rate
of the update that takes :math:`x_t` to :math:`x_{t+1}`.  This is the ``t`` that
``torch.optim.lr_scheduler.LambdaLR`` passes to its lambda.  A budget of ``T`` updates
uses ``t = 0, ..., T-1``; ``sched(T)`` is the value *at the end of the budget*, which is
``0`` (or the floor) for every schedule that decays to the end.

The theory chapters, like the papers and the sources, number the updates
``k = 1, ..., T``.  They are the same updates: :math:`\eta_k = \text{sched}(k-1)`, so
``sched(np.arange(T))`` is :math:`(\eta_1, \dots, \eta_T)`.

In that numbering, :func:`linear` with ``end=0`` is
:math:`\eta_k = \eta_{\max}\,(T+1-k)/T`, which is the sources'
:math:`\alpha\,(1 - k/(T+1))` with :math:`\alpha = \eta_{\max}(T+1)/T`: the same straight
line, reaching zero one step after the last update, so that :math:`\eta_T > 0`.

All schedules return *absolute* learning rates; with ``peak=1`` they are multipliers.

Example
-------
>>> import numpy as np
>>> from lrnotes import schedules as S
>>> sched = S.warmup(S.cosine(total=1000, peak=3e-4, floor=3e-5), steps=50)
>>> lrs = sched(np.arange(1000))
>>> sched = S.retarget(sched, at=600, total=800)   # continuous at step 600
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import Callable, Iterable, Sequence

import numpy as np

__all__ = [
    "Schedule",
    "constant",
    "step_decay",
    "inverse_sqrt",
    "linear",
    "cosine",
    "sgdr",
    "triangular",
    "wsd",
    "warmup",
    "floor",
    "inv_t",
    "sequence",
    "retarget",
    "ScheduleLR",
    "to_torch",
    "reset_momentum",
    "trace_torch",
]

COOLDOWNS = ("linear", "cosine", "sqrt")


# --------------------------------------------------------------------------- checks
def _int_at_least(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return int(value)


def _real(name: str, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Check a finite real in [low, high] (ends open on request); say the range if not."""
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    allowed = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number in {allowed}, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite real number in {allowed}, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be in {allowed}, got {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be in {allowed}, got {value!r}")
    return v


def _positive_real(name: str, value) -> float:
    """A finite real > 0 (shared by the theory modules)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < float(value) < math.inf):
        raise ValueError(f"{name} must be a finite real number > 0, got {value!r}")
    return float(value)


def _lr(name: str, value) -> float:
    """A learning rate: finite and >= 0."""
    return _real(name, value, low=0.0)


def _as_steps(t) -> np.ndarray:
    arr = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("step t must be finite")
    if np.any(arr < 0):
        raise ValueError(f"step t must be >= 0 (the first update is t = 0), got min {arr.min()}")
    return arr


def _schedule_arg(name: str, value) -> "Schedule":
    if not isinstance(value, Schedule):
        raise ValueError(f"{name} must be an lrnotes Schedule, got {type(value).__name__}")
    return value


# --------------------------------------------------------------------------- the type
class Schedule:
    """A closed-form learning-rate schedule.

    Call it with a step ``t`` (int, float or array, ``t >= 0``) to get the learning
    rate.  ``total`` is the budget ``T`` when the schedule has one (else ``None``).
    ``restart_steps(upto)`` lists the steps ``0 < t < upto`` at which a new cycle
    starts (warm restarts); :func:`to_torch` can reset momentum there.
    """

    def __init__(
        self,
        fn: Callable[[np.ndarray], np.ndarray],
        *,
        name: str,
        params: dict | None = None,
        total: int | None = None,
        restarts: Callable[[int], np.ndarray] | None = None,
    ):
        self._fn = fn
        self.name = name
        self.params = dict(params or {})
        self.total = total
        self._restarts = restarts

    def __call__(self, t):
        steps = _as_steps(t)
        out = np.broadcast_to(np.asarray(self._fn(steps), dtype=float), steps.shape)
        if steps.ndim == 0:
            return float(out)
        return np.array(out)

    def restart_steps(self, upto: int) -> np.ndarray:
        """Integer steps ``0 < t < upto`` at which a new cycle (warm restart) begins."""
        upto = _int_at_least("upto", upto, 0)
        if self._restarts is None:
            return np.zeros(0, dtype=int)
        r = np.unique(np.asarray(self._restarts(upto), dtype=int))
        return r[(r > 0) & (r < upto)]

    def is_restart(self, t: int) -> bool:
        """Whether step ``t`` starts a new cycle."""
        return bool(t > 0 and np.any(self.restart_steps(t + 1) == t))

    def plot(self, total: int | None = None, ax=None, **kwargs):
        """Preview this schedule (see :func:`lrnotes.plotting.plot_schedules`)."""
        from .plotting import plot_schedules

        return plot_schedules({self.name: self}, total=total, ax=ax, **kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


def _cycle_restarts(period: float, mult: float) -> Callable[[int], np.ndarray]:
    def restarts(upto: int) -> np.ndarray:
        starts, start, length = [], period, period * mult
        while start < upto:
            starts.append(math.ceil(start - 1e-9))
            start, length = start + length, length * mult
        return np.asarray(starts, dtype=int)

    return restarts


# --------------------------------------------------------------------------- schedules
def constant(value: float = 1.0) -> Schedule:
    r"""Constant: :math:`\eta_t = \eta`."""
    value = _lr("value", value)
    return Schedule(lambda t: np.full_like(t, value), name="constant", params={"value": value})


def step_decay(step_size: int, gamma: float = 0.1, peak: float = 1.0) -> Schedule:
    r"""Step decay (torch ``StepLR``): :math:`\eta_t = \eta_{\max}\,\gamma^{\lfloor t/s \rfloor}`."""
    s = _int_at_least("step_size", step_size, 1)
    gamma = _real("gamma", gamma, low=0.0, high=1.0, low_open=True)
    peak = _lr("peak", peak)
    return Schedule(
        lambda t: peak * gamma ** np.floor(t / s),
        name="step_decay",
        params={"step_size": s, "gamma": gamma, "peak": peak},
    )


def inverse_sqrt(peak: float = 1.0, offset: float = 1.0) -> Schedule:
    r"""Inverse square root: :math:`\eta_t = \eta_{\max}\sqrt{t_0/(t + t_0)}`.

    With ``offset`` :math:`t_0 = 1` this is the theory's :math:`\eta_k = \eta_{\max}/\sqrt{k}`.
    """
    peak = _lr("peak", peak)
    t0 = _real("offset", offset, low=0.0, low_open=True)
    return Schedule(
        lambda t: peak * np.sqrt(t0 / (t + t0)),
        name="inverse_sqrt",
        params={"peak": peak, "offset": t0},
    )


def linear(total: int, peak: float = 1.0, end: float = 0.0) -> Schedule:
    r"""Linear decay (torch ``PolynomialLR``, power 1):

    .. math:: \eta_t = \eta_{\max} + (\eta_{\text{end}} - \eta_{\max})\,\min(t, T)/T.

    With ``end=0``, update :math:`k = t+1` gets :math:`\eta_{\max}(T+1-k)/T`, the sources'
    :math:`\alpha(1 - k/(T+1))` with :math:`\alpha = \eta_{\max}(T+1)/T`.
    """
    T = _int_at_least("total", total, 1)
    peak, end = _lr("peak", peak), _lr("end", end)
    return Schedule(
        lambda t: peak * (1.0 - np.minimum(t, T) / T) + end * (np.minimum(t, T) / T),
        name="linear",
        params={"total": T, "peak": peak, "end": end},
        total=T,
    )


def cosine(total: int, peak: float = 1.0, floor: float = 0.0) -> Schedule:
    r"""Cosine annealing (torch ``CosineAnnealingLR`` for :math:`t \le T`):

    .. math:: \eta_t = \eta_{\min} + \tfrac12(\eta_{\max}-\eta_{\min})
              \bigl(1 + \cos(\pi \min(t, T)/T)\bigr).

    It stays at :math:`\eta_{\min}` after ``T`` (torch's recursion climbs back up instead).
    """
    T = _int_at_least("total", total, 1)
    peak, lo = _lr("peak", peak), _lr("floor", floor)
    return Schedule(
        lambda t: lo + 0.5 * (peak - lo) * (1.0 + np.cos(np.pi * np.minimum(t, T) / T)),
        name="cosine",
        params={"total": T, "peak": peak, "floor": lo},
        total=T,
    )


def _sgdr_cycle(t: np.ndarray, period: float, mult: float):
    """Cycle index n, position in the cycle and cycle length for steps t."""
    if mult == 1.0:
        n = np.floor(t / period)
        return n, t - n * period, np.full_like(t, period)

    def start(k):
        return period * (mult**k - 1.0) / (mult - 1.0)

    n = np.floor(np.log1p(t * (mult - 1.0) / period) / np.log(mult))
    n = np.where(start(n + 1) <= t, n + 1, n)  # repair float rounding at the boundaries
    n = np.where(start(n) > t, n - 1, n)
    return n, t - start(n), period * mult**n


def sgdr(
    period: float,
    mult: float = 1.0,
    peak: float = 1.0,
    floor: float = 0.0,
    peak_decay: float = 1.0,
) -> Schedule:
    r"""SGDR, cosine annealing with warm restarts (torch ``CosineAnnealingWarmRestarts``).

    Cycle :math:`i = 0, 1, \dots` lasts :math:`T_i = T_0 m^i` steps (``period`` :math:`T_0`,
    ``mult`` :math:`m \ge 1`, which may be non-integer) and starts at
    :math:`\sum_{j<i} T_j`.  Within it, at position :math:`t_{\text{cur}}`,

    .. math:: \eta_t = \eta_{\min} + \tfrac12\,d^{\,i}(\eta_{\max}-\eta_{\min})
              \bigl(1 + \cos(\pi t_{\text{cur}}/T_i)\bigr),

    where ``peak_decay`` :math:`d \in (0, 1]` shrinks each cycle's amplitude.
    """
    T0 = _real("period", period, low=0.0, low_open=True)
    m = _real("mult", mult, low=1.0)
    peak, lo = _lr("peak", peak), _lr("floor", floor)
    d = _real("peak_decay", peak_decay, low=0.0, high=1.0, low_open=True)

    def fn(t):
        n, cur, length = _sgdr_cycle(t, T0, m)
        return lo + 0.5 * (peak - lo) * d**n * (1.0 + np.cos(np.pi * cur / length))

    return Schedule(
        fn,
        name="sgdr",
        params={"period": period, "mult": m, "peak": peak, "floor": lo, "peak_decay": d},
        restarts=_cycle_restarts(T0, m),
    )


def triangular(step_size: int, low: float, high: float) -> Schedule:
    r"""Triangular cyclical LR (torch ``CyclicLR``, mode ``"triangular"``).

    Rises linearly from ``low`` to ``high`` over ``step_size`` steps, falls back over the
    next ``step_size``, and repeats:
    :math:`\eta_t = \eta_{lo} + (\eta_{hi}-\eta_{lo})\max(0, 1 - |t/s - 2c + 1|)` with
    :math:`c = \lfloor 1 + t/(2s) \rfloor`.
    """
    s = _int_at_least("step_size", step_size, 1)
    low, high = _lr("low", low), _lr("high", high)
    if high < low:
        raise ValueError(f"high must be >= low, got low={low}, high={high}")

    def fn(t):
        c = np.floor(1.0 + t / (2 * s))
        x = np.abs(t / s - 2.0 * c + 1.0)
        return low + (high - low) * np.maximum(0.0, 1.0 - x)

    return Schedule(
        fn,
        name="triangular",
        params={"step_size": s, "low": low, "high": high},
        restarts=_cycle_restarts(2 * s, 1.0),
    )


def _cooldown_shape(kind: str) -> Callable[[np.ndarray], np.ndarray]:
    shapes = {
        "linear": lambda p: 1.0 - p,
        "cosine": lambda p: 0.5 * (1.0 + np.cos(np.pi * p)),
        "sqrt": lambda p: 1.0 - np.sqrt(p),
    }
    if kind not in shapes:
        raise ValueError(f"cooldown must be one of {COOLDOWNS}, got {kind!r}")
    return shapes[kind]


def wsd(
    total: int,
    peak: float = 1.0,
    warmup: int = 0,
    decay_frac: float = 0.1,
    cooldown: str = "linear",
    floor: float = 0.0,
) -> Schedule:
    r"""Warmup–stable–decay.

    Linear warmup from 0 over ``warmup`` steps, then :math:`\eta_{\max}` until the decay
    starts at :math:`t_d = T(1-f)` (``decay_frac`` :math:`f \in (0, 1]`), then a cooldown to
    ``floor`` at :math:`t = T`, with progress :math:`p = (t - t_d)/(fT)`:

    .. math:: \eta_t = \eta_{\min} + (\eta_{\max}-\eta_{\min})\,c(p), \quad
              c(p) \in \{1-p,\ \tfrac12(1+\cos\pi p),\ 1-\sqrt{p}\}.
    """
    T = _int_at_least("total", total, 1)
    peak, lo = _lr("peak", peak), _lr("floor", floor)
    W = _int_at_least("warmup", warmup, 0)
    if W >= T:
        raise ValueError(f"warmup must be shorter than the budget: warmup={W} >= total={T}")
    f = _real("decay_frac", decay_frac, low=0.0, high=1.0, low_open=True)
    shape = _cooldown_shape(cooldown)
    t_decay = T * (1.0 - f)
    if t_decay < W:
        raise ValueError(
            f"the decay (decay_frac*total = {f * T:g} steps) must fit after the warmup "
            f"({W} steps) within total={T}: need decay_frac <= {(T - W) / T:g}"
        )

    def fn(t):
        p = np.clip((t - t_decay) / (f * T), 0.0, 1.0)
        out = lo + (peak - lo) * shape(p)
        if W > 0:
            out = out * np.minimum(t / W, 1.0)
        return out

    return Schedule(
        fn,
        name="wsd",
        params={"total": T, "peak": peak, "warmup": W, "decay_frac": f, "cooldown": cooldown, "floor": lo},
        total=T,
    )


# --------------------------------------------------------------------------- combinators
def warmup(inner: Schedule, steps: int, start: float = 0.0) -> Schedule:
    r"""Linear warmup in front of any schedule (torch ``LinearLR`` chained with it).

    .. math:: \eta_t = \text{inner}(t)\,\bigl(s + (1-s)\min(t, W)/W\bigr)

    with ``start`` factor :math:`s \in [0, 1]`.  The budget is unchanged; ``steps``
    must be shorter than it.
    """
    inner = _schedule_arg("inner", inner)
    W = _int_at_least("steps", steps, 1)
    if inner.total is not None and W >= inner.total:
        raise ValueError(f"warmup steps must be shorter than the budget: steps={W} >= total={inner.total}")
    s = _real("start", start, low=0.0, high=1.0)
    return Schedule(
        lambda t: inner(t) * (s + (1.0 - s) * np.minimum(t, W) / W),
        name="warmup",
        params={"inner": inner, "steps": W, "start": s},
        total=inner.total,
        restarts=inner._restarts,
    )


def floor(inner: Schedule, minimum: float) -> Schedule:
    r"""Never below ``minimum``: :math:`\eta_t = \max(\text{inner}(t), \eta_{\min})`."""
    inner = _schedule_arg("inner", inner)
    lo = _lr("minimum", minimum)
    return Schedule(
        lambda t: np.maximum(inner(t), lo),
        name="floor",
        params={"inner": inner, "minimum": lo},
        total=inner.total,
        restarts=inner._restarts,
    )


def inv_t(inner: Schedule, t0: float = 1.0) -> Schedule:
    r"""A :math:`1/t` envelope (Robbins–Monro): :math:`\eta_t = \text{inner}(t)\,t_0/(t + t_0)`.

    If ``inner`` is bounded and bounded away from zero, the result satisfies
    :math:`\sum_t \eta_t = \infty` and :math:`\sum_t \eta_t^2 < \infty`.
    """
    inner = _schedule_arg("inner", inner)
    t0 = _real("t0", t0, low=0.0, low_open=True)
    return Schedule(
        lambda t: inner(t) * t0 / (t + t0),
        name="inv_t",
        params={"inner": inner, "t0": t0},
        total=inner.total,
        restarts=inner._restarts,
    )


def sequence(schedules: Sequence[Schedule], boundaries: Sequence[int]) -> Schedule:
    r"""Run schedules one after another (optax ``join_schedules``, torch ``SequentialLR``).

    For :math:`b_{i-1} \le t < b_i` (with :math:`b_{-1} = 0`) the result is
    :math:`\text{schedules}[i](t - b_{i-1})`: each piece restarts its own clock.
    """
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
    offsets = [0] + bounds

    def fn(t):
        out = np.empty_like(t)
        piece = np.searchsorted(bounds, t, side="right")
        for i, s in enumerate(scheds):
            mask = piece == i
            if np.any(mask):
                out[mask] = s(t[mask] - offsets[i])
        return out

    def restarts(upto):  # each piece's own restarts, within its own stretch of steps
        ends = bounds + [upto]
        found = [s.restart_steps(max(min(end, upto) - off, 0)) + off for s, off, end in zip(scheds, offsets, ends)]
        return np.concatenate(found)

    last = scheds[-1].total
    return Schedule(
        fn,
        name="sequence",
        params={"schedules": scheds, "boundaries": bounds},
        total=None if last is None else offsets[-1] + last,
        restarts=restarts,
    )


def retarget(inner: Schedule, at: int, total: int) -> Schedule:
    r"""Change the budget from ``inner.total`` = :math:`T` to ``total`` = :math:`T'` at step ``at``.

    Before ``at`` nothing changes; after it, the rest of the schedule is stretched (or
    squeezed) in time to end at :math:`T'`:

    .. math:: \eta'_t = \text{inner}\Bigl(a + (t - a)\,\frac{T - a}{T' - a}\Bigr), \quad t \ge a.

    So :math:`\eta'_a = \eta_a` (no jump), and the schedule reaches its end value
    exactly at :math:`T'`.  For linear decay this is the straight line from
    :math:`\eta_a` to zero at :math:`T'`.
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
    speed = (T - a) / (T2 - a)

    def fn(t):
        return inner(np.where(t < a, t, a + (t - a) * speed))

    def restarts(upto):
        r = inner.restart_steps(T + 1)
        before, after = r[r < a], r[r >= a]
        moved = np.ceil(a + (after - a) / speed - 1e-9).astype(int)
        return np.concatenate([before, moved])

    return Schedule(
        fn,
        name="retarget",
        params={"inner": inner, "at": a, "total": T2},
        total=T2,
        restarts=restarts if inner._restarts is not None else None,
    )


# --------------------------------------------------------------------------- torch
def reset_momentum(optimizer) -> int:
    """Forget the optimizer's first-moment (velocity) state; return how many tensors.

    SGD's ``momentum_buffer`` is removed, so the next step restarts it from the
    fresh gradient (torch's own rule for the first step).  Adam-style ``exp_avg`` is
    zeroed (the second moment and the bias-correction step count are kept).
    """
    n = 0
    for state in optimizer.state.values():
        if state.get("momentum_buffer") is not None:
            state["momentum_buffer"] = None
            n += 1
        if "exp_avg" in state:
            state["exp_avg"].zero_()
            n += 1
    return n


class _ScheduleLRMixin:
    """A ``torch.optim.lr_scheduler.LRScheduler`` driven by an lrnotes schedule.

    Every ``scheduler.step()`` sets each parameter group's ``lr`` to ``schedule(t)``
    (or ``initial_lr * schedule(t)`` with ``relative=True``), ``t`` being the
    scheduler's ``last_epoch``.  ``state_dict``/``load_state_dict`` resume exactly,
    since the LR is a closed-form function of ``t``.  With ``reset_momentum=True``
    the optimizer's momentum is reset at every warm restart of the schedule; the
    steps where that happened are listed in ``momentum_resets``.
    """

    def __init__(self, optimizer, schedule, *, relative=False, reset_momentum=False, last_epoch=-1):
        self.schedule = _schedule_arg("schedule", schedule)
        self.relative = bool(relative)
        self.reset_momentum = bool(reset_momentum)
        self.momentum_resets = []
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        value = float(self.schedule(self.last_epoch))
        return [value * base if self.relative else value for base in self.base_lrs]

    _get_closed_form_lr = get_lr

    def step(self):
        super().step()
        if self.reset_momentum and self.schedule.is_restart(self.last_epoch):
            reset_momentum(self.optimizer)
            self.momentum_resets.append(self.last_epoch)

    def state_dict(self):
        """The scheduler's state, without the optimizer and the schedule (pure code)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "schedule")}


@functools.cache
def _schedule_lr_class():
    from torch.optim.lr_scheduler import LRScheduler  # lazy: importing torch takes seconds

    return type("ScheduleLR", (_ScheduleLRMixin, LRScheduler), {"__module__": __name__})


def __getattr__(name):  # module attribute ``ScheduleLR``, built on first use
    if name == "ScheduleLR":
        return _schedule_lr_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def to_torch(optimizer, schedule: Schedule, *, reset_momentum: bool = False, relative: bool = False):
    """Drive a ``torch.optim`` optimizer with ``schedule``: returns a ``ScheduleLR``.

    ``ScheduleLR`` is a subclass of torch's ``LRScheduler``; see its docstring.  By
    default the schedule gives absolute learning rates (the optimizer's own ``lr`` is
    ignored); ``relative=True`` multiplies each group's initial ``lr`` instead.
    """
    return _schedule_lr_class()(optimizer, schedule, relative=relative, reset_momentum=reset_momentum)


def trace_torch(make_scheduler, steps: int, lr: float = 1.0, momentum: float = 0.9) -> np.ndarray:
    """The learning rates a torch scheduler gives updates ``t = 0, ..., steps-1``.

    ``make_scheduler(optimizer)`` builds the scheduler on a one-parameter SGD
    optimizer (initial ``lr``); the optimizer and scheduler are stepped as in training.
    Used to compare our closed forms with torch's own schedulers.
    """
    import torch

    steps = _int_at_least("steps", steps, 1)
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr, momentum=momentum)
    sched = make_scheduler(opt)
    out = np.empty(steps)
    for t in range(steps):
        out[t] = opt.param_groups[0]["lr"]
        param.grad = torch.ones(1)
        opt.step()
        sched.step()
    return out
