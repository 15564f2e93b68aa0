r"""Exercise E6.1, Piecewise-linear schedules under the last-iterate bound: a schedule through
knots :math:`0 = u_0 < \dots < u_m = 1` with values :math:`v_i \ge 0`,
:math:`\eta_k = \text{interp}\bigl((k-1)/T\bigr)` for :math:`k = 1..T`, and the best
three-piece one under chapter 3's bound (tuned in scale).

The grader judges a proposed three-piece schedule by recomputing its tuned bound
(:mod:`.ex3_2_last_iterate_bound`'s reference) and holding it against linear decay and
against the best schedule of all (:func:`lrnotes.theory.optimal_schedule`): it must close
at least half of linear decay's gap to that optimum.
"""

from __future__ import annotations

import numpy as np

from ._core import Case, CheckFailed, Checks, as_array, as_pair, call, compare, rejects
from .ex3_2_last_iterate_bound import ref_tuned

NUMBER = "6.1"
TITLE = "Piecewise-linear schedules under the bound"


# ============================================================================ references
def ref_piecewise_linear(T, knots, values):
    return np.interp((np.arange(1, T + 1) - 1) / T, np.asarray(knots, float), np.asarray(values, float))


def optimum(T):
    from lrnotes import theory

    return theory.optimal_schedule(T).bound


BAD = [((10, [0.0, 1.0], [1.0, -0.1]), {}, ("values",)), ((10, [0.0, 1.0], [1.0, float("nan")]), {}, ("values",)),
       ((10, [0.0, 0.5], [1.0, 0.0]), {}, ("knots",)), ((10, [0.1, 1.0], [1.0, 0.0]), {}, ("knots",)),
       ((10, [0.0, 0.6, 0.4, 1.0], [1.0, 0.5, 0.4, 0.0]), {}, ("knots",)),
       ((10, [0.0, 1.0], [1.0, 0.5, 0.0]), {}, ("knots", "values")), ((0, [0.0, 1.0], [1.0, 0.0]), {}, ("T",)),
       # repeated knots: "increase strictly" (a check with >= 0 instead of > 0 lets these through)
       ((10, [0.0, 0.5, 0.5, 1.0], [1.0, 0.8, 0.2, 0.0]), {}, ("knots",)),
       ((10, [0.0, 0.0, 1.0], [1.0, 1.0, 0.0]), {}, ("knots",)),
       ((10, [0.0, 1.0, 1.0], [1.0, 0.0, 0.0]), {}, ("knots",))]


# ============================================================================ E6.1a the schedule
def check_piecewise_linear(piecewise_linear, seed=None):
    r"""Grade ``piecewise_linear(T, knots, values)``: :math:`\eta_1..\eta_T` by linear
    interpolation at :math:`u = (k-1)/T`; ``ValueError`` naming the argument unless ``T``
    is an int >= 1, the knots increase strictly from 0 to 1, and the values (one per knot)
    are finite and >= 0."""
    g = Checks("Exercise E6.1a: a piecewise-linear schedule", piecewise_linear, seed=seed)

    def mistakes(T, knots, values):
        k = np.arange(1, T + 1)
        return {"sample at u = (k - 1)/T for k = 1..T (the first update is at u = 0)":
                np.interp(k / T, knots, values),
                "sample at u = (k - 1)/T, not (k - 1)/(T - 1)": np.interp((k - 1) / max(T - 1, 1), knots, values)}

    @g.check("two knots give linear decay (T+1-k)/T; three pieces; a flat piece")
    def _(f):
        cases = [Case((10, [0.0, 1.0], [1.0, 0.0])), Case((100, [0.0, 0.5, 0.9, 1.0], [1.0, 0.8, 0.1, 0.0])),
                 Case((50, [0.0, 0.8, 1.0], [2.0, 2.0, 0.0]), label="piecewise_linear(50, WSD-like knots)")]
        compare(f, cases, ref_piecewise_linear, mistakes=mistakes)

    @g.check("random knots and values", random=True)
    def _(f, rng):
        for _ in range(4):
            m = int(rng.integers(2, 7))
            knots = np.concatenate([[0.0], np.sort(rng.uniform(0.01, 0.99, m - 2)), [1.0]])
            compare(f, [Case((int(rng.integers(1, 2_000)), knots, rng.uniform(0, 2, m)))], ref_piecewise_linear,
                    mistakes=mistakes)

    @g.check("rejects bad input with ValueError naming the argument")
    def _(f):
        rejects(f, BAD)

    return g.run()


# ============================================================================ E6.1b the best three pieces
def check_best_three_piece(best_three_piece, seed=None):
    r"""Grade ``best_three_piece(T) -> (knots, values)``: four knots from 0 to 1 and four
    values whose piecewise-linear schedule has a tuned bound at least halfway from linear
    decay's down to the best schedule of all."""
    g = Checks("Exercise E6.1b: the best three pieces", best_three_piece, seed=seed, preload=("torch", "scipy.optimize"))

    def judge(f, T):
        what = f"best_three_piece({T})"
        knots, values = as_pair(call(f, T), what)
        knots, values = as_array(knots, (4,), f"{what}[0] (the knots)"), as_array(values, (4,), f"{what}[1] (the values)")
        if knots[0] != 0 or knots[-1] != 1 or np.any(np.diff(knots) <= 0):
            raise CheckFailed(f"{what}: the knots {np.round(knots, 4).tolist()} must increase strictly from 0 to 1")
        if np.any(values < 0):
            raise CheckFailed(f"{what}: the values {np.round(values, 4).tolist()} must be >= 0")
        lrs = ref_piecewise_linear(T, knots, values)
        if lrs[-1] <= 0:
            raise CheckFailed(f"{what}: the last learning rate eta_T is 0; the bound needs eta_T > 0")
        mine = float(ref_tuned(lrs)[1])
        linear = float(ref_tuned(ref_piecewise_linear(T, [0.0, 1.0], [1.0, 0.0]))[1])
        best = optimum(T)
        goal = best + 0.5 * (linear - best)
        if mine > goal:
            hint = ("optimise all six numbers (two interior knots, and the values up to scale) with "
                    "scipy.optimize.minimize, from several starts; keep the knots ordered and the values "
                    "positive by a change of variables")
            raise CheckFailed(f"{what}: tuned bound {mine:.8g}; linear decay has {linear:.8g} and the best schedule "
                              f"{best:.8g}: aim for at most {goal:.8g}", hint)
        return f"tuned bound {mine / best:.5f} x the optimum (linear decay: {linear / best:.5f} x)"

    @g.check("T = 200")
    def _(f):
        return judge(f, 200)

    @g.check("a random budget", random=True)
    def _(f, rng):
        return judge(f, int(rng.integers(100, 300)))

    return g.run()


CHECKS = (check_piecewise_linear, check_best_three_piece)
