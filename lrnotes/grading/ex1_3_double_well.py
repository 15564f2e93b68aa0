r"""Exercise E1.3, The double well :math:`f(\theta) = \theta^4 - 2a\theta^2 + b\theta`:
critical points, barrier heights, and the range of :math:`b` with two wells.

References (the grader's own): the critical points are the real roots of
:math:`f'(\theta) = 4\theta^3 - 4a\theta + b` (polished by Newton steps); two wells exist
iff the cubic's discriminant :math:`16(64a^3 - 27b^2)` is positive, i.e.
:math:`|b| < b_c = 8a^{3/2}/(3\sqrt3)`.
"""

from __future__ import annotations

import numpy as np

from ._core import Case, CheckFailed, Checks, as_array, as_pair, as_scalar, assert_close, call, compare, \
    diagnose, rejects
from ._hints import name_mistakes

NUMBER = "1.3"
TITLE = "The double well"


# ============================================================================ references
def f(theta, a, b):
    theta = np.asarray(theta, dtype=float)
    return theta**4 - 2 * a * theta**2 + b * theta


def b_limit(a):
    return 8.0 * a**1.5 / (3.0 * np.sqrt(3.0))


def ref_critical_points(a, b):
    roots = np.roots([4.0, 0.0, -4.0 * a, b])
    scale = max(1.0, abs(a) ** 0.5)
    real = np.sort(roots[np.abs(roots.imag) < 1e-7 * scale].real)
    for _ in range(3):  # Newton polish
        real = real - (4 * real**3 - 4 * a * real + b) / np.where(12 * real**2 - 4 * a == 0, 1.0, 12 * real**2 - 4 * a)
    return np.sort(real)


def ref_barriers(a, b):
    lo, mid, hi = ref_critical_points(a, b)
    top = f(mid, a, b)
    return float(top - f(lo, a, b)), float(top - f(hi, a, b))


def _probe_b(rng, a, wells):
    bc = b_limit(a)
    if wells == 2:
        return float(rng.uniform(-0.95, 0.95) * bc)
    return float(rng.choice([-1, 1]) * rng.uniform(1.05, 3.0) * bc)


# ============================================================================ E1.3a critical points
CRIT_CASES = [
    Case((1.0, 0.0), label="critical_points(a=1, b=0): -1, 0, 1"),
    Case((1.0, 0.5), label="critical_points(a=1, b=0.5)"),
    Case((2.0, -3.0), label="critical_points(a=2, b=-3)"),
    Case((0.25, 2.0), label="critical_points(a=0.25, b=2): one well"),
    Case((1.0, -1.6), label="critical_points(a=1, b=-1.6): one well"),
]
CRIT_BAD = [((0.0, 1.0), {}, ("a",)), ((-1.0, 0.0), {}, ("a",)), ((float("nan"), 0.0), {}, ("a",)),
            ((1.0, float("inf")), {}, ("b",)), ((1.0, float("nan")), {}, ("b",))]


def _compare_points(f_, a, b, what):
    expected = ref_critical_points(a, b)
    got = as_array(call(f_, a, b), None, what)
    if got.ndim != 1:
        raise CheckFailed(f"{what} returned shape {got.shape}; expected a 1-D array")
    if got.size != expected.size:
        hint = ("with |b| < 8 a^(3/2) / (3 sqrt 3) the cubic f' has three real roots; above it, one: "
                "keep only the real ones (np.roots returns complex ones too)")
        raise CheckFailed(f"{what} returned {got.size} points, expected {expected.size}", hint)
    hint = "sort them in increasing order" if np.allclose(np.sort(got), expected, rtol=1e-9, atol=1e-12) else \
        diagnose(got, {"these are the roots of f, not of f' = 4 theta^3 - 4 a theta + b": np.zeros_like(got)})
    assert_close(got, expected, what, rtol=1e-9, atol=1e-12, hint=hint)


def check_critical_points(critical_points, seed=None):
    r"""Grade ``critical_points(a, b)``: the real roots of
    :math:`f'(\theta) = 4\theta^3 - 4a\theta + b`, sorted (three or one); ``ValueError``
    unless ``a > 0`` and both are finite."""
    g = Checks("Exercise E1.3a: the critical points", critical_points, seed=seed)

    @g.check("symmetric well, tilted wells, and one well when the tilt is too large")
    def _(f_):
        for case in CRIT_CASES:
            _compare_points(f_, *case.args, case.label)

    @g.check("random a and b, with two wells and with one", random=True)
    def _(f_, rng):
        for wells in (2, 1, 2, 1, 2, 2):
            a = float(rng.uniform(0.1, 5.0))
            b = _probe_b(rng, a, wells)
            _compare_points(f_, a, b, f"critical_points(a={a:.6g}, b={b:.6g})")

    @g.check("rejects bad input with ValueError naming the argument", hint="a must be finite and > 0; b finite")
    def _(f_):
        rejects(f_, CRIT_BAD)

    return g.run()


# ============================================================================ E1.3b barriers
def check_barrier_heights(barrier_heights, seed=None):
    r"""Grade ``barrier_heights(a, b) -> (left, right)``: the height of the local maximum of
    :math:`f` above the left and the right minimum; ``ValueError`` naming ``b`` when there
    is only one well."""
    g = Checks("Exercise E1.3b: the barrier heights", barrier_heights, seed=seed)

    def compare_pair(f_, a, b, what):
        left, right = as_pair(call(f_, a, b), what)
        got = np.array([as_scalar(left, f"{what}[0]"), as_scalar(right, f"{what}[1]")])
        expected = np.array(ref_barriers(a, b))
        lo, mid, hi = ref_critical_points(a, b)
        hint = name_mistakes(got, {
            "a height is positive: f(local max) - f(minimum), not f(minimum) - f(local max)": -expected,
            "you returned the two wells' depths f(theta_min), not the heights of the barrier above them":
                np.array([f(lo, a, b), f(hi, a, b)]),
            "left and right are swapped: the first is the barrier seen from the left (negative theta) well":
                expected[::-1] if not np.allclose(expected, expected[::-1]) else None,
        })
        assert_close(got, expected, what, rtol=1e-9, atol=1e-12, hint=hint)

    @g.check("a = 1, b = 0: both barriers are 1; a tilted well has a lower barrier on its high side")
    def _(f_):
        compare_pair(f_, 1.0, 0.0, "barrier_heights(1, 0)")
        compare_pair(f_, 1.0, 0.5, "barrier_heights(1, 0.5)")
        compare_pair(f_, 2.0, -3.0, "barrier_heights(2, -3)")

    @g.check("random wells", random=True)
    def _(f_, rng):
        for _ in range(6):
            a = float(rng.uniform(0.1, 5.0))
            compare_pair(f_, a, _probe_b(rng, a, 2), "barrier_heights(<random a, b>)")

    @g.check("one well: ValueError naming b (and a bad a: ValueError naming a)",
             hint="with |b| >= 8 a^(3/2) / (3 sqrt 3) there is no barrier")
    def _(f_):
        rejects(f_, [((0.25, 2.0), {}, ("b",)), ((1.0, -1.6), {}, ("b",)), ((0.0, 0.1), {}, ("a",))])

    return g.run()


# ============================================================================ E1.3c the two-well range
def check_two_well_limit(two_well_limit, seed=None):
    r"""Grade ``two_well_limit(a)``: :math:`b_c(a) = 8a^{3/2}/(3\sqrt3)`, the tilt above which
    one well is left; ``ValueError`` unless ``a > 0``."""
    g = Checks("Exercise E1.3c: how much tilt the second well survives", two_well_limit, seed=seed)

    def mistakes(a):
        return {"at the limit f' and f'' vanish together: 12 theta^2 = 4a, so theta = sqrt(a/3)":
                8 * a**1.5 / 3, "b_c grows like a^(3/2): check the power of a": 8 * a / (3 * np.sqrt(3))}

    @g.check("a = 1, 3 and 0.5")
    def _(f_):
        compare(f_, [Case((1.0,)), Case((3.0,)), Case((0.5,))], b_limit, scalar=True, mistakes=mistakes)

    @g.check("random a; just below the limit there are two wells, just above one", random=True)
    def _(f_, rng):
        for _ in range(5):
            a = float(rng.uniform(0.05, 10))
            bc = as_scalar(call(f_, a), f"two_well_limit({a:.6g})")
            assert_close(bc, b_limit(a), f"two_well_limit({a:.6g})", hint=diagnose(bc, mistakes(a)))
            if ref_critical_points(a, 0.999 * bc).size != 3 or ref_critical_points(a, 1.001 * bc).size != 1:
                raise CheckFailed(f"two_well_limit({a:.6g}) = {bc:.6g} does not separate two wells from one")

    @g.check("rejects a <= 0 with ValueError naming a")
    def _(f_):
        rejects(f_, [((0.0,), {}, ("a",)), ((-2.0,), {}, ("a",)), ((float("nan"),), {}, ("a",))])

    return g.run()


CHECKS = (check_critical_points, check_barrier_heights, check_two_well_limit)
