r"""Exercise E1.1, Build a schedule: linear decay in the papers' convention, WSD with a
cooldown shape, and a bug hunt in a source's WSD snippet (:mod:`lrnotes.snippets`).

References (the grader's own formulas, independent of the student's session):

.. math::
    \eta_k = \alpha\Bigl(1 - \frac{k}{T+1}\Bigr), \qquad
    \text{wsd}(t) = \eta_{\max}\min\bigl(1, t/W\bigr)\,c(p), \quad
    p = \operatorname{clip}\Bigl(\frac{t - T(1-f)}{fT}, 0, 1\Bigr),

with :math:`c(p) = 1 - p`, :math:`\tfrac12(1 + \cos\pi p)` or :math:`1 - \sqrt p`.
"""

from __future__ import annotations

import numpy as np

from .. import snippets
from ._core import FLOAT32_HINT, Case, CheckFailed, Checks, as_array, as_int, as_pair, as_scalar, \
    assert_close, call, call_each, compare, diagnose, rejects, scalar_close

NUMBER = "1.1"
TITLE = "Build a schedule"
COOLDOWNS = ("linear", "cosine", "sqrt")


# ============================================================================ references
def ref_linear_decay(k, T, alpha=1.0):
    return alpha * (1.0 - np.asarray(k, dtype=float) / (T + 1))


def _cooldown(p, shape):
    return {"linear": 1.0 - p, "cosine": 0.5 * (1.0 + np.cos(np.pi * p)), "sqrt": 1.0 - np.sqrt(p)}[shape]


def ref_wsd(t, total, peak=1.0, warmup=0, decay_frac=0.1, cooldown="linear"):
    t = np.asarray(t, dtype=float)
    p = np.clip((t - total * (1.0 - decay_frac)) / (decay_frac * total), 0.0, 1.0)
    rise = np.minimum(t / warmup, 1.0) if warmup else 1.0
    return peak * rise * _cooldown(p, cooldown)


def ref_largest_jump(values):
    d = np.diff(np.asarray(values, dtype=float))
    i = int(np.argmax(np.abs(d)))
    return i + 1, float(d[i])


# ============================================================================ E1.1a linear decay
LINEAR_CASES = [
    Case((np.arange(1, 11), 10, 0.5), label="linear_decay(1..10, T=10, alpha=0.5)"),
    Case((np.array([1, 1]), 1, 1.0), label="linear_decay([1, 1], T=1, alpha=1)"),
    Case((np.array([1, 2]), 2, 3.0), label="linear_decay([1, 2], T=2, alpha=3)"),
    Case((np.array([1, 10_000]), 10_000, 2.0), label="linear_decay([1, 10000], T=10000, alpha=2)"),
    Case((np.array([[1, 2, 3], [4, 5, 6]]), 6, 1.0), label="linear_decay(<2x3 array>, T=6, alpha=1)"),
]
LINEAR_BAD = [  # (args, kwargs, names the message must contain)
    ((np.arange(1, 4), 0, 1.0), {}, ("T",)),
    ((np.arange(1, 4), 2.5, 1.0), {}, ("T",)),
    ((np.arange(1, 4), 5.0, 1.0), {}, ("T",)),
    ((np.arange(1, 4), True, 1.0), {}, ("T",)),
    ((1, True, 1.0), {}, ("T",)),  # k = 1 is valid for T = 1: only the bool itself is wrong
    ((np.arange(1, 4), 5, -1.0), {}, ("alpha",)),
    ((np.arange(1, 4), 5, float("nan")), {}, ("alpha",)),
    ((np.arange(1, 4), 5, float("inf")), {}, ("alpha",)),
    ((np.arange(0, 4), 5, 1.0), {}, ("k",)),
    ((np.arange(1, 8), 5, 1.0), {}, ("k",)),
]


def _linear_mistakes(k, T, alpha=1.0):
    k = np.asarray(k, dtype=float)
    return {
        "you divided by T; the sources divide by T+1, so the last update (k=T) still has a "
        "positive learning rate": alpha * (1 - k / T),
        "off by one: you used k-1 where the formula has k": alpha * (1 - (k - 1) / (T + 1)),
        "you dropped alpha: multiply by it": 1 - k / (T + 1),
        "off by one: the formula is 1 - k/(T+1), not 1 - (k+1)/(T+1)": alpha * (1 - (k + 1) / (T + 1)),
    }


def check_linear_decay(linear_decay, seed=None):
    r"""Grade ``linear_decay(k, T, alpha=1.0)``: :math:`\alpha(1 - k/(T+1))` for
    ``k = 1..T`` (int or array); ``ValueError`` for a bad ``T``, ``alpha`` or ``k``."""
    g = Checks("Exercise E1.1a: linear decay in the papers' convention", linear_decay, seed=seed)

    g.values("values for T=10, alpha=0.5 and the first and last updates of several budgets", LINEAR_CASES,
             ref_linear_decay, at="k", mistakes=_linear_mistakes)

    @g.check("a plain int k gives a single number")
    def _(f):
        scalar_close(f, (3, 5, 1.0), 0.5, "linear_decay(3, 5, 1.0)")

    @g.check("random budgets and peaks; the learning rates add up to alpha*T/2", random=True)
    def _(f, rng):
        for _ in range(4):
            T, alpha = int(rng.integers(2, 5_000)), float(rng.uniform(0.01, 5))
            k = rng.permutation(np.arange(1, T + 1))
            compare(f, [Case((k, T, alpha))], ref_linear_decay, at="k", mistakes=_linear_mistakes)
            got = as_array(call(f, np.arange(1, T + 1), T, alpha), (T,), "linear_decay(1..T)")
            if not np.isclose(got.sum(), alpha * T / 2, rtol=1e-9):
                raise CheckFailed(f"the learning rates for T={T} add up to {got.sum():.6g}, "
                                  f"expected alpha*T/2 = {alpha * T / 2:.6g}")

    @g.check("rejects bad input with ValueError naming the argument (T not an int >= 1, "
             "alpha negative or not finite, k outside 1..T)",
             hint="e.g. `if T < 1: raise ValueError(f'T must be an integer >= 1, got {T!r}')`; "
                  "a float such as 5.0 is not an integer budget")
    def _(f):
        rejects(f, LINEAR_BAD)

    return g.run()


# ============================================================================ E1.1b WSD
WSD_CASES = [
    Case((np.arange(0, 111), 100, 2.0, 10, 0.2), label="wsd(0..110, total=100, peak=2, warmup=10, decay_frac=0.2)"),
    Case((np.array([0, 49, 50, 51, 749, 750, 751, 999, 1000, 1001]), 1000, 0.5, 50, 0.25),
         label="wsd(<phase boundaries>, total=1000, peak=0.5, warmup=50, decay_frac=0.25)"),
    Case((np.linspace(0, 31, 125), 30, 1.0, 3, 0.25), label="wsd(<fractional t>, total=30, warmup=3, decay_frac=0.25)"),
    Case((np.arange(0, 21), 20, 1.5, 0, 0.5), label="wsd(0..20, total=20, peak=1.5, warmup=0, decay_frac=0.5)"),
    Case((np.arange(0, 51), 50, 1.5, 0, 1.0), label="wsd(0..50, total=50, decay_frac=1): linear decay"),
    Case((np.arange(12).reshape(3, 4), 10, 1.0, 2, 0.5), label="wsd(<3x4 array>, total=10, warmup=2, decay_frac=0.5)"),
]
WSD_BAD = [
    ((np.arange(5), 0, 1.0, 0, 0.1), {}, ("total",)),
    ((np.arange(5), 10.5, 1.0, 0, 0.1), {}, ("total",)),
    ((np.arange(5), 100, -1.0, 0, 0.1), {}, ("peak",)),
    ((np.arange(5), 100, float("nan"), 0, 0.1), {}, ("peak",)),
    ((np.arange(5), 100, float("inf"), 0, 0.1), {}, ("peak",)),
    ((np.arange(5), 100, 1.0, -1, 0.1), {}, ("warmup",)),
    ((np.arange(5), 100, 1.0, 100, 0.1), {}, ("warmup",)),
    ((np.arange(5), 100, 1.0, 0, 0.0), {}, ("decay_frac",)),
    ((np.arange(5), 100, 1.0, 0, 1.5), {}, ("decay_frac",)),
    ((np.arange(5), 100, 1.0, 0, float("nan")), {}, ("decay_frac",)),
    ((np.arange(5), 100, 1.0, 50, 0.6), {}, ("decay_frac", "warmup")),
    ((np.array([-1, 0, 1]), 100, 1.0, 0, 0.1), {}, ("t",)),
    ((np.arange(5), 100, 1.0, 0, 0.1), {"cooldown": "cubic"}, ("cooldown",)),
]


def _wsd_mistakes(t, total, peak=1.0, warmup=0, decay_frac=0.1, cooldown="linear"):
    t = np.asarray(t, dtype=float)
    right = ref_wsd(t, total, peak, warmup, decay_frac, cooldown)
    td = total * (1 - decay_frac)
    return {
        "the warmup starts from 0 at t=0 and reaches the peak at t=warmup: peak*t/warmup":
            np.where(t < warmup, peak * (t + 1) / max(warmup, 1), right),
        "the cooldown must reach 0 at t=total (not at total-1)":
            np.where(t >= td, peak * np.clip((total - 1 - t) / max(total - 1 - td, 1e-300), 0, 1), right),
        "after t=total the schedule stays at 0: clip the progress p to [0, 1]":
            np.where(t > total, peak * (total - t) / (decay_frac * total), right),
        "the cooldown shape was not applied: c(p) depends on `cooldown`":
            ref_wsd(t, total, peak, warmup, decay_frac, "linear"),
    }


def check_wsd(wsd, seed=None):
    r"""Grade ``wsd(t, total, peak=1.0, warmup=0, decay_frac=0.1, cooldown="linear")``:
    warmup from 0 over ``warmup`` steps, stable at ``peak``, then a cooldown of shape
    ``cooldown`` to 0 at ``t = total`` starting at ``t_d = total*(1 - decay_frac)``."""
    g = Checks("Exercise E1.1b: warmup-stable-decay with a cooldown shape", wsd, seed=seed)

    @g.check("linear cooldown: every phase, its boundaries, fractional t, no warmup, decay_frac=1, 2-D t")
    def _(f):
        compare(f, WSD_CASES, ref_wsd, at="t", mistakes=_wsd_mistakes)
        got = as_array(call(f, np.array([0, 5]), 100, 1.0, 10, 0.1), (2,), "wsd([0, 5], 100, 1, 10, 0.1)")
        if got[0] != 0.0:
            raise CheckFailed(f"wsd(0) = {got[0]:.6g}, expected 0: the warmup starts from zero")

    @g.check("cosine and sqrt cooldowns, checked at every step")
    def _(f):
        t = np.arange(0, 205)
        cases = [Case((t, 200, 1.0, 20, 0.3), {"cooldown": c}, f"wsd(0..204, 200, 1, 20, 0.3, cooldown={c!r})")
                 for c in COOLDOWNS]
        compare(f, cases, ref_wsd, at="t", mistakes=_wsd_mistakes)

    @g.check("a plain number t gives a single number")
    def _(f):
        scalar_close(f, (95, 100, 1.0, 10, 0.1), 0.5, "wsd(95, 100, 1.0, 10, 0.1)")

    @g.check("random budgets, peaks, warmups, decay fractions and shapes; continuous, in [0, peak]", random=True)
    def _(f, rng):
        for _ in range(6):
            total = int(rng.integers(10, 3_000))
            frac = float(rng.uniform(0.05, 1.0))
            warmup = int(rng.integers(0, int(total * (1 - frac)) + 1))  # the decay fits after it
            peak, shape = float(rng.uniform(0.1, 3)), str(rng.choice(COOLDOWNS))
            t = np.arange(0, total + 3)
            case = Case((t, total, peak, warmup, frac), {"cooldown": shape})
            compare(f, [case], ref_wsd, at="t", mistakes=_wsd_mistakes)

    @g.check("rejects bad input with ValueError naming the argument",
             hint="check total (int >= 1), peak (finite, >= 0), warmup (int, 0 <= warmup < total), "
                  "decay_frac (in (0, 1]), that the decay fits after the warmup, cooldown (one of "
                  "'linear', 'cosine', 'sqrt') and t >= 0")
    def _(f):
        rejects(f, WSD_BAD)

    return g.run()


# ============================================================================ E1.1c find the jump
def _staircase(t):
    return float(t // 5)


def _up_at_37(t):
    return 0.0 if t < 37 else 2.0


def _down_at_12(t):
    return 1.0 - 0.01 * t - (0.5 if t >= 12 else 0.0)


def _drop_at_start(t):  # the largest jump is between t = 0 and t = 1
    return 5.0 if t == 0 else 1.0 - 0.001 * t


def _tabulated(values):
    """A schedule of one int step given by its table of values at t = 0..T."""
    def schedule(t):
        if not 0 <= t < len(values):
            raise ValueError(f"this schedule is defined for t = 0..{len(values) - 1}, got t={t!r}")
        return values[int(t)]
    return schedule


JUMP_CASES = [  # (schedule, T, label)
    (_up_at_37, 50, "largest_jump(<up by 2 at t=37>, 50)"),
    (_down_at_12, 20, "largest_jump(<down by 0.51 at t=12>, 20)"),
    (lambda t: 1.0 if t < 9 else 3.0, 9, "largest_jump(<up at the last step t=T=9>, 9)"),
    (_staircase, 23, "largest_jump(<staircase: ties>, 23)"),
    (_drop_at_start, 30, "largest_jump(<drop from 5 at t=1: schedule(0) counts>, 30)"),
    (snippets.wsd_6_3.wsd_schedule, snippets.wsd_6_3.T, "largest_jump(wsd_schedule, 20000): the source's snippet"),
]


def _compare_jump(f, schedule, T, what, values=None):
    values = [schedule(t) for t in range(T + 1)] if values is None else values
    t, delta = as_pair(call(f, schedule, T), what)
    t = as_int(t, f"{what}[0] (the step)")
    delta = as_scalar(delta, f"{what}[1] (the jump)")
    t_ref, d_ref = ref_largest_jump(values)
    if t != t_ref:
        hint = ""
        if t == t_ref - 1:
            hint = "report the step where the new value starts: t with schedule(t) - schedule(t-1)"
        elif t_ref == 1:
            hint = "start at t = 0: the jump from schedule(0) to schedule(1) counts too"
        raise CheckFailed(f"{what}: step {t}, expected {t_ref}", hint)
    if not np.isclose(delta, d_ref, rtol=1e-9, atol=1e-12):
        hint = "keep the sign: delta = schedule(t) - schedule(t-1)" if np.isclose(delta, -d_ref) else ""
        if np.isclose(delta, d_ref, rtol=3e-6, atol=1e-30):
            hint = FLOAT32_HINT
        raise CheckFailed(f"{what}: jump {delta:.10g}, expected {d_ref:.10g}", hint)


def check_largest_jump(largest_jump, seed=None):
    """Grade ``largest_jump(schedule, T) -> (t, delta)``: the step ``t`` in ``1..T`` where
    ``delta = schedule(t) - schedule(t - 1)`` is largest in absolute value (the first such
    step on ties), ``schedule`` being a function of one int step."""
    g = Checks("Exercise E1.1c: find the jump", largest_jump, seed=seed)

    @g.check("jumps up, down, at the first and the last step, ties, and the source's snippet")
    def _(f):
        for schedule, T, what in JUMP_CASES:
            _compare_jump(f, schedule, T, what)

    @g.check("random step functions (one jump of random size, sign and place)", random=True)
    def _(f, rng):
        for _ in range(5):
            T = int(rng.integers(2, 400))
            at, size = int(rng.integers(1, T + 1)), float(rng.choice([-1, 1]) * rng.uniform(0.5, 3))
            slope = float(rng.uniform(-1, 1)) / T  # small drift, never the largest change
            values = [slope * t + (size if t >= at else 0.0) for t in range(T + 1)]
            _compare_jump(f, _tabulated(values), T, f"largest_jump(<jump of {size:.3g} at t={at}>, {T})", values)

    return g.run()


# ============================================================================ E1.1d the repair
def check_fixed_wsd_schedule(fixed_wsd_schedule, seed=None):
    """Grade the repaired snippet: the phases the source meant (1000 warmup steps, 17000
    stable steps, 2000 decay steps, T = 20000), peak 1, no jump, at every step 0..T."""
    src = snippets.wsd_6_3
    T = src.T
    g = Checks("Exercise E1.1d: the repaired WSD schedule", fixed_wsd_schedule, seed=seed)
    cache: list[np.ndarray] = []

    def values(f):  # the snippet's function takes one int: call it at every step, once
        if not cache:
            out = call_each(f, range(T + 1))
            cache.append(np.array([as_scalar(v, f"fixed_wsd_schedule({t})") for t, v in enumerate(out)]))
        return cache[0]

    @g.check("the largest value is 1 (the peak): not more, not less")
    def _(f):
        v = values(f)
        if abs(v.max() - 1.0) > 1e-12:
            i = int(v.argmax())
            hint = ""
            if i == src.stable_steps and v.max() > 1.0:
                hint = "stable_steps is a duration, not the step where the decay starts"
            elif v.max() < 1.0:
                hint = "the schedule never reaches its peak 1: the stable phase holds the value 1"
            raise CheckFailed(f"max is {v.max():.6g} at step {i}", hint)

    @g.check("continuous: no jump larger than one warmup step (1/1000)")
    def _(f):
        d = np.abs(np.diff(values(f)))
        if d.max() > 1 / src.warmup_steps + 1e-12:
            i = int(d.argmax())
            v = values(f)
            in_float32 = np.array_equal(v, v.astype(np.float32).astype(float))  # round-off, not a jump
            hint = FLOAT32_HINT if in_float32 and d.max() < 1 / src.warmup_steps + 1e-6 else ""
            raise CheckFailed(f"jump of {d[i]:.10g} between step {i} and step {i + 1}", hint)

    @g.check("equals the intended WSD (warmup 1000, stable to step 18000, linear decay to 0 at 20000) "
             "at every step 0..20000")
    def _(f):
        steps = np.arange(T + 1)
        expected = ref_wsd(steps, T, 1.0, src.warmup_steps, src.decay_steps / T)
        got = values(f)
        hint = diagnose(got, {"this is the source's snippet as published: find its bug first":
                              np.array([src.wsd_schedule(s) for s in steps])})
        assert_close(got, expected, "fixed_wsd_schedule", at=("step", steps), hint=hint)

    return g.run()


CHECKS = (check_linear_decay, check_wsd, check_largest_jump, check_fixed_wsd_schedule)
