r"""Exercise E1.2, Cosine annealing and warm restarts: cosine annealing with a floor, SGDR
with a period multiplier in closed form, and the steps where its cycles restart.

References (the grader's own):

.. math::
    \text{cosine}(t) = \eta_{\min} + \tfrac12(\eta_{\max}-\eta_{\min})
        \bigl(1 + \cos(\pi\min(t, T)/T)\bigr),

and SGDR restarts cycle :math:`i` (length :math:`T_0 m^i`) at
:math:`s_i = T_0(m^i - 1)/(m - 1)` (:math:`s_i = iT_0` for :math:`m = 1`).
"""

from __future__ import annotations

import numpy as np

from ._core import Case, CheckFailed, Checks, as_array, assert_close, call, compare, diagnose, rejects, \
    scalar_close

NUMBER = "1.2"
TITLE = "Cosine annealing and warm restarts"


# ============================================================================ references
def ref_cosine(t, total, peak=1.0, floor=0.0):
    t = np.minimum(np.asarray(t, dtype=float), total)
    return floor + 0.5 * (peak - floor) * (1.0 + np.cos(np.pi * t / total))


def cycle_starts(period, mult, upto):
    """Exact cycle starts s_0 = 0 < s_1 < ... (floats) up to ``upto``, by accumulation."""
    starts, s, length = [0.0], float(period), float(period) * mult
    while s <= upto:
        starts.append(s)
        s, length = s + length, length * mult
    return np.array(starts)


def ref_sgdr(t, period, mult=1.0, peak=1.0, floor=0.0):
    t = np.asarray(t, dtype=float)
    starts = cycle_starts(period, mult, float(np.max(t, initial=0.0)) + 1.0)
    i = np.searchsorted(starts, t, side="right") - 1
    length = period * mult ** i
    return floor + 0.5 * (peak - floor) * (1.0 + np.cos(np.pi * (t - starts[i]) / length))


def ref_restart_steps(period, mult, upto):
    starts = cycle_starts(period, mult, upto)[1:]
    steps = np.unique(np.ceil(starts - 1e-9).astype(int))
    return steps[(steps > 0) & (steps < upto)]


# ============================================================================ E1.2a cosine
COSINE_CASES = [
    Case((np.arange(0, 101), 100, 1.0, 0.0), label="cosine(0..100, total=100)"),
    Case((np.arange(0, 13), 10, 3e-4, 3e-5), label="cosine(0..12, total=10, peak=3e-4, floor=3e-5): flat after T"),
    Case((np.array([0, 1]), 1, 2.0, 0.5), label="cosine([0, 1], total=1, peak=2, floor=0.5)"),
    Case((np.linspace(0, 7, 29), 7, 1.0, 0.1), label="cosine(<fractional t>, total=7, floor=0.1)"),
    Case((np.arange(6).reshape(2, 3), 4, 1.0, 0.0), label="cosine(<2x3 array>, total=4)"),
]
COSINE_BAD = [
    ((np.arange(3), 0), {}, ("total",)),
    ((np.arange(3), 10.0), {}, ("total",)),
    ((np.arange(3), 10, -1.0), {}, ("peak",)),
    ((np.arange(3), 10, float("nan")), {}, ("peak",)),
    ((np.arange(3), 10, 1.0, -0.1), {}, ("floor",)),
    ((np.arange(3), 10, 1.0, 2.0), {}, ("floor", "peak")),
    ((np.array([-1.0, 0.0]), 10), {}, ("t",)),
]


def _cosine_mistakes(t, total, peak=1.0, floor=0.0):
    t = np.asarray(t, dtype=float)
    return {
        "after t = total the schedule stays at the floor: use min(t, total)":
            floor + 0.5 * (peak - floor) * (1 + np.cos(np.pi * t / total)),
        "the floor is added once, and only the distance peak - floor is annealed":
            floor + 0.5 * peak * (1 + np.cos(np.pi * np.minimum(t, total) / total)),
        "cos takes radians: the argument is pi * t / total":
            floor + 0.5 * (peak - floor) * (1 + np.cos(np.minimum(t, total) / total)),
    }


def check_cosine(cosine, seed=None):
    r"""Grade ``cosine(t, total, peak=1.0, floor=0.0)``: cosine annealing from ``peak`` to
    ``floor`` over ``total`` steps, flat at ``floor`` after; ``ValueError`` for bad input."""
    g = Checks("Exercise E1.2a: cosine annealing", cosine, seed=seed)

    g.values("values over the budget, after it, with a floor, at fractional t and for a 2-D t", COSINE_CASES,
             ref_cosine, at="t", mistakes=_cosine_mistakes)

    @g.check("a plain number t gives a single number; the midpoint is halfway between peak and floor")
    def _(f):
        scalar_close(f, (50, 100, 1.0, 0.2), 0.6, "cosine(50, 100, 1.0, 0.2)")

    @g.check("random budgets, peaks and floors", random=True)
    def _(f, rng):
        for _ in range(5):
            total = int(rng.integers(1, 5_000))
            peak = float(rng.uniform(0.01, 3))
            floor = float(rng.uniform(0, peak))
            t = np.sort(rng.uniform(0, 1.2 * total, 50))
            compare(f, [Case((t, total, peak, floor))], ref_cosine, at="t", mistakes=_cosine_mistakes)

    @g.check("rejects bad input with ValueError naming the argument",
             hint="total: an int >= 1; peak: finite, >= 0; floor: finite, in [0, peak]; t >= 0")
    def _(f):
        rejects(f, COSINE_BAD)

    return g.run()


# ============================================================================ E1.2b SGDR
SGDR_CASES = [
    Case((np.arange(0, 31), 10, 1.0), label="sgdr(0..30, period=10, mult=1)"),
    Case((np.arange(0, 160), 10, 2.0), label="sgdr(0..159, period=10, mult=2): cycles of 10, 20, 40, 80"),
    Case((np.array([0, 9, 10, 39, 40, 129, 130, 399, 400]), 10, 3.0, 2.0, 0.5),
         label="sgdr(<each side of the restarts 10, 40, 130>, period=10, mult=3, peak=2, floor=0.5)"),
    Case((np.array([0.0, 4.0, 4.99, 5.0, 11.25, 11.26, 21.3]), 5, 1.25),
         label="sgdr(<around the restarts 5, 11.25, 19.06>, period=5, mult=1.25)"),
    Case((np.arange(12).reshape(3, 4), 4, 2.0), label="sgdr(<3x4 array>, period=4, mult=2)"),
]
SGDR_BAD = [
    ((np.arange(3), 0), {}, ("period",)),
    ((np.arange(3), -5), {}, ("period",)),
    ((np.arange(3), 10, 0.5), {}, ("mult",)),
    ((np.arange(3), 10, float("nan")), {}, ("mult",)),
    ((np.arange(3), 10, 2.0, -1.0), {}, ("peak",)),
    ((np.arange(3), 10, 2.0, 1.0, 1.5), {}, ("floor", "peak")),
    ((np.array([-1, 0]), 10), {}, ("t",)),
]


def _sgdr_mistakes(t, period, mult=1.0, peak=1.0, floor=0.0):
    t = np.asarray(t, dtype=float)
    cur = np.mod(t, period)
    return {
        "with mult > 1 each cycle is mult times longer than the one before; you kept every "
        "cycle at `period` steps": floor + 0.5 * (peak - floor) * (1 + np.cos(np.pi * cur / period)),
    }


ROUNDING_HINT = ("the step just before a restart is near the floor, the restart step itself is "
                 "at the peak: find the cycle with the closed form, then repair its rounding")
LENGTH_HINT = ("cycle i lasts period * mult**i steps and starts at s_i = period (mult^i - 1)/(mult - 1) "
               "(i * period for mult = 1): check your cycle index, its start and its length")


def _neighbour_cycle(got, t, period, mult=1.0, peak=1.0, floor=0.0):
    """Every wrong value is the schedule of the cycle before or after t's own: the cycle
    index was off by one at a restart (rounding), not the cycles' lengths."""
    starts = cycle_starts(period, mult, 3 * float(np.max(t, initial=0.0)) + period + 1)
    i = np.searchsorted(starts, t, side="right") - 1
    for j in (np.maximum(i - 1, 0), i + 1):
        value = floor + 0.5 * (peak - floor) * (1 + np.cos(np.pi * (t - starts[j]) / (period * mult ** j)))
        got = np.where(np.isclose(got, value, rtol=1e-9, atol=1e-9), np.nan, got)
    return bool(np.all(np.isnan(got)))


def _compare_sgdr(f, cases, rounding_hint=ROUNDING_HINT):
    """compare() for SGDR: the rounding hint only when every wrong value is the value of a
    neighbouring cycle (the cycle index off by one at a restart); other wrong values get
    the hint about the cycles' starts and lengths."""
    for case in cases:
        what = case.describe(f)
        t = np.asarray(case.args[0], dtype=float)
        expected = ref_sgdr(*case.args, **case.kwargs)
        got = as_array(case.call(f), expected.shape, what)
        hint = diagnose(got, _sgdr_mistakes(*case.args, **case.kwargs))
        if not hint:
            wrong = ~np.isclose(got, expected, rtol=1e-9, atol=1e-12)
            hint = rounding_hint if _neighbour_cycle(got[wrong], t[wrong], *case.args[1:], **case.kwargs) \
                else LENGTH_HINT
        assert_close(got, expected, what, at=("t", t), hint=hint)


def check_sgdr(sgdr, seed=None):
    r"""Grade ``sgdr(t, period, mult=1.0, peak=1.0, floor=0.0)``: cosine annealing restarted
    at the start of each cycle, cycle :math:`i` lasting ``period * mult**i`` steps."""
    g = Checks("Exercise E1.2b: SGDR with a period multiplier", sgdr, seed=seed)

    @g.check("equal cycles, doubling cycles, and both sides of every restart")
    def _(f):
        _compare_sgdr(f, SGDR_CASES)

    @g.check("exact at a million steps and thousands of restarts (no loop over the steps)")
    def _(f):
        t = np.arange(0, 1_000_000, 7)
        _compare_sgdr(f, [Case((t, 100, 1.0), label="sgdr(0..10**6, period=100, mult=1)")])
        starts = cycle_starts(3, 1.5, 10**6)
        t = np.concatenate([starts, starts - 1e-6, starts + 1e-6])
        t = np.sort(t[t >= 0])
        _compare_sgdr(f, [Case((t, 3, 1.5), label="sgdr(<both sides of each restart up to 10**6>, period=3, "
                                                   "mult=1.5)")],
                      rounding_hint="at a restart the cycle index from a logarithm can be off by one in floating "
                                    "point: check the cycle's start and end, and move to the neighbour cycle if needed")

    @g.check("random periods, multipliers (integer and not), peaks and floors", random=True)
    def _(f, rng):
        for _ in range(6):
            exact = bool(rng.integers(0, 2))  # integer period and mult: restarts at whole steps
            period = float(rng.integers(1, 300)) if exact else float(rng.uniform(0.5, 300))
            mult = float(rng.choice([1.0, 2.0, 3.0])) if exact else float(rng.uniform(1.0, 3.0))
            peak = float(rng.uniform(0.1, 2))
            floor = float(rng.uniform(0, peak))
            upto = period * 40 if mult == 1.0 else period * (mult**6 - 1) / (mult - 1)
            starts = cycle_starts(period, mult, upto)
            near = [starts - 1e-7 * np.maximum(starts, 1), starts + 1e-7 * np.maximum(starts, 1)]
            t = np.concatenate([rng.uniform(0, upto, 200), *near] + ([starts] if exact else []))
            t = np.sort(t[t >= 0])
            _compare_sgdr(f, [Case((t, period, mult, peak, floor))])

    @g.check("rejects bad input with ValueError naming the argument",
             hint="period: finite, > 0; mult: finite, >= 1; peak: finite, >= 0; floor in [0, peak]; t >= 0")
    def _(f):
        rejects(f, SGDR_BAD)

    return g.run()


# ============================================================================ E1.2c restart steps
def check_restart_steps(restart_steps, seed=None):
    """Grade ``restart_steps(period, mult, upto)``: the sorted integer steps ``0 < t < upto``
    at which a new SGDR cycle begins (a cycle that starts between two steps begins at the
    next whole step)."""
    g = Checks("Exercise E1.2c: the steps where SGDR restarts", restart_steps, seed=seed)

    def compare_steps(f, period, mult, upto):
        what = f"restart_steps({period:g}, {mult:g}, {upto})"
        expected = ref_restart_steps(period, mult, upto)
        got = as_array(call(f, period, mult, upto), None, what)
        if got.ndim != 1:
            raise CheckFailed(f"{what} returned shape {got.shape}; expected a 1-D list of steps")
        if got.shape != expected.shape or not np.array_equal(got, expected):
            hint = ""
            if got.size == expected.size + 1 and got.size and got[0] == 0:
                hint = "t = 0 is the start of the run, not a restart"
            elif got.size and np.any(got != np.round(got)):
                hint = "a restart happens at a whole step: round a fractional start up (np.ceil)"
            shown = ", ".join(str(int(x)) if x == int(x) else f"{x:g}" for x in got[:8])
            raise CheckFailed(f"{what}: expected {expected[:8].tolist()}{' ...' if expected.size > 8 else ''} "
                              f"({expected.size} steps), got [{shown}{', ...' if got.size > 8 else ''}] "
                              f"({got.size} steps)", hint)

    @g.check("period 10: mult 1 and mult 2; the budget itself is not included")
    def _(f):
        compare_steps(f, 10, 1.0, 50)
        compare_steps(f, 10, 2.0, 150)
        compare_steps(f, 10, 2.0, 151)

    @g.check("fractional starts round up to the next step (period 5, mult 1.25; period 2.5)")
    def _(f):
        compare_steps(f, 5, 1.25, 60)
        compare_steps(f, 2.5, 1.0, 20)

    @g.check("cycles shorter than a step: two starts within one step restart it once")
    def _(f):
        compare_steps(f, 0.25, 1.5, 40)

    @g.check("random periods, multipliers and budgets", random=True)
    def _(f, rng):
        for _ in range(6):  # dyadic periods and multipliers: every start is exact in floating point
            period = float(rng.integers(1, 200)) / float(rng.choice([1, 2, 4]))
            mult = float(rng.choice([1.0, 1.25, 1.5, 2.0, 3.0]))
            compare_steps(f, period, mult, int(rng.integers(1, 3_000)))

    return g.run()


CHECKS = (check_cosine, check_sgdr, check_restart_steps)
