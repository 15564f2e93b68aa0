r"""Exercise E4.2, Re-target a schedule mid-run: the budget changes from :math:`T` to
:math:`T'` at step :math:`a`; the rest of the schedule is stretched (or squeezed) in time,

.. math:: \eta'_t = \eta_t \ (t < a), \qquad
          \eta'_t = \eta\Bigl(a + (t-a)\,\frac{T-a}{T'-a}\Bigr) \ (t \ge a),

so there is no jump at :math:`a` and the schedule ends where it should, at :math:`T'`.
Then a real ``torch.optim`` run is stopped at :math:`a` and resumed, from its state dicts,
with the new budget.
"""

from __future__ import annotations

import numpy as np

from ._core import FLOAT32_HINT, CheckFailed, Checks, as_array, call, rejects, short

NUMBER = "4.2"
TITLE = "Re-target a schedule mid-run"


# ============================================================================ references
def ref_retargeted(sched, total, at, new_total, t):
    t = np.asarray(t, dtype=float)
    return sched(np.where(t < at, t, at + (t - at) * (total - at) / (new_total - at)))


def _cosine(total, peak=1.0):
    return lambda t: peak * 0.5 * (1 + np.cos(np.pi * np.minimum(np.asarray(t, float), total) / total))


def _linear(total, peak=1.0):
    return lambda t: peak * (1 - np.minimum(np.asarray(t, float), total) / total)


def _wsd(total, peak=1.0, frac=0.2):
    def f(t):
        t = np.asarray(t, float)
        return peak * np.clip((total - t) / (frac * total), 0.0, 1.0)
    return f


def _source_remedy(alpha, t_start, T_actual):
    return lambda t: alpha * (1 - (np.asarray(t, float) - t_start) / (T_actual - t_start))


# ============================================================================ E4.2a retarget
def check_retarget(retarget, seed=None):
    r"""Grade ``retarget(sched, total, at, new_total)``: a new vectorised schedule, equal to
    ``sched`` before ``at`` and ``sched`` stretched from ``[at, total]`` onto
    ``[at, new_total]`` after; ``ValueError`` naming the argument unless
    ``0 <= at < total`` and ``new_total > at``."""
    g = Checks("Exercise E4.2a: re-target without a jump", retarget, seed=seed)

    def judge(f, sched, name, total, at, new_total):
        what = f"retarget(<{name}>, total={total}, at={at}, new_total={new_total})"
        new = call(f, sched, total, at, new_total)
        if not callable(new):
            raise CheckFailed(f"{what} returned {short(new)}, not a function of t",
                              "return a function: def new(t): ...; return new")
        t = np.arange(0, new_total + 6)
        got = as_array(call(new, t), t.shape, f"{what}(0..{new_total + 5})")
        expected = ref_retargeted(sched, total, at, new_total, t)
        bad = ~np.isclose(got, expected, rtol=1e-9, atol=1e-12)
        if bad.any():
            i = int(np.argmax(bad))
            after = t >= at
            hint = ""
            if np.allclose(got, expected, rtol=3e-6, atol=1e-30):
                hint = FLOAT32_HINT
            elif i < at:
                hint = "before the switch nothing changes: return sched(t) for t < at"
            elif np.allclose(got[after], _source_remedy(sched(0), at, new_total)(t[after])):
                hint = "that restarts the decay from the peak (the source's remedy): stretch the rest instead"
            elif not np.isclose(got[at], sched(at)):
                hint = f"a jump at the switch: the new schedule must start from sched(at) = {sched(at):.6g}"
            raise CheckFailed(f"{what}: wrong at t={int(t[i])}: expected {expected[i]:.10g}, got {got[i]:.10g}",
                              hint)

    @g.check("cosine, linear and WSD, cut short and extended")
    def _(f):
        judge(f, _cosine(100), "cosine over 100 steps", 100, 40, 70)
        judge(f, _cosine(100), "cosine over 100 steps", 100, 40, 160)
        judge(f, _linear(1_000), "linear over 1000 steps", 1_000, 600, 900)
        judge(f, _wsd(500), "WSD over 500 steps, 20 % cooldown", 500, 450, 480)
        judge(f, _linear(50), "linear over 50 steps", 50, 0, 80)

    @g.check("random budgets and switch points", random=True)
    def _(f, rng):
        for _ in range(4):
            total = int(rng.integers(2, 3_000))
            at = int(rng.integers(0, total))
            new_total = int(rng.integers(at + 1, 2 * total + 2))
            judge(f, _cosine(total, float(rng.uniform(0.1, 1))), f"cosine over {total} steps", total, at, new_total)

    @g.check("rejects with ValueError naming the argument: at outside [0, total), new_total <= at",
             hint="validate when retarget is called, not when the new schedule is evaluated")
    def _(f):
        s = _linear(100)
        rejects(f, [((s, 100, 100, 150), {}, ("at",)), ((s, 100, -1, 150), {}, ("at",)),
                    ((s, 100, 50, 50), {}, ("new_total",)), ((s, 100, 50, 20), {}, ("new_total",))])

    return g.run()


# ============================================================================ E4.2b a real resume
def check_resumed_lrs(resumed_lrs, seed=None):
    """Grade ``resumed_lrs(sched, at, new_total)``: stop a torch SGD run driven by
    ``lrnotes.schedules.to_torch(optimizer, sched)`` after ``at`` steps, save the optimizer's
    and the scheduler's state dicts, resume in a fresh optimizer with the re-targeted
    schedule, and return the learning rates the optimizer used for steps
    ``at, ..., new_total - 1``."""
    g = Checks("Exercise E4.2b: stop, save, resume with a new budget", resumed_lrs, seed=seed, preload=("torch", "torch.optim.lr_scheduler"))

    def judge(f, sched, at, new_total, what):
        from .. import schedules as S

        got = as_array(call(f, sched, at, new_total), (new_total - at,), what)
        expected = S.retarget(sched, at, new_total)(np.arange(at, new_total))
        bad = ~np.isclose(got, expected, rtol=1e-7, atol=1e-12)
        if bad.any():
            i = int(np.argmax(bad))
            hint = ""
            if i == 0 and np.isclose(got[0], sched(0)):
                hint = ("the first resumed step used the schedule's first value: load the optimizer's state_dict "
                        "too (its param_groups hold the current lr), and the scheduler's")
            elif np.allclose(got, sched(np.arange(at, new_total))):
                hint = "these are the old schedule's values: build the new scheduler from the re-targeted schedule"
            raise CheckFailed(f"{what}: wrong at step {at + i}: expected {expected[i]:.10g}, got {got[i]:.10g}", hint)

    @g.check("a cosine run of 100 steps stopped at step 40 and resumed for a budget of 70, then of 130")
    def _(f):
        from .. import schedules as S

        judge(f, S.cosine(100, peak=0.1), 40, 70, "resumed_lrs(S.cosine(100, peak=0.1), at=40, new_total=70)")
        judge(f, S.cosine(100, peak=0.1), 40, 130, "resumed_lrs(S.cosine(100, peak=0.1), at=40, new_total=130)")

    @g.check("random WSD and linear runs", random=True)
    def _(f, rng):
        from .. import schedules as S

        total = int(rng.integers(20, 200))
        at = int(rng.integers(1, total))
        sched = S.wsd(total, peak=float(rng.uniform(0.01, 1)), warmup=0, decay_frac=0.3)
        new_total = int(rng.integers(at + 1, 2 * total))
        judge(f, sched, at, new_total, f"resumed_lrs(<WSD over {total} steps>, at={at}, new_total={new_total})")

    return g.run()


CHECKS = (check_retarget, check_resumed_lrs)
