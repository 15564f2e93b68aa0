r"""Exercise E3.1, The weighted identity: for weights :math:`w_1..w_T \ge 0` with
:math:`w_T > 0` and any :math:`q_1..q_T`, with :math:`W_{k:T} = \sum_{t\ge k} w_t`,

.. math::
    q_T = \frac{1}{W_{1:T}}\sum_{t=1}^T w_tq_t
        + \sum_{k=1}^{T-1}\Bigl(\frac{1}{W_{k+1:T}} - \frac{1}{W_{k:T}}\Bigr)
          \sum_{t=k}^{T} w_t\,(q_t - q_k).

The inner sum is :math:`A_k - q_kW_{k:T}` with :math:`A_k = \sum_{t\ge k} w_tq_t`, which
gives an O(T) evaluation with suffix sums.  The grader's reference is exact (Fractions)
for small T and O(T) in floats for large T.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ._core import CheckFailed, Checks, as_scalar, call, rejects, safe_str

NUMBER = "3.1"
TITLE = "The weighted identity"


# ============================================================================ references
def ref_rhs_exact(w, q):
    w, q = [Fraction(x) for x in w], [Fraction(x) for x in q]
    T = len(w)
    W = [Fraction(0)] * (T + 1)
    for k in range(T - 1, -1, -1):
        W[k] = W[k + 1] + w[k]
    total = sum((a * b for a, b in zip(w, q)), Fraction(0)) / W[0]
    for k in range(T - 1):
        total += (1 / W[k + 1] - 1 / W[k]) * sum((w[t] * (q[t] - q[k]) for t in range(k, T)), Fraction(0))
    return total


def ref_rhs_fast(w, q):
    w, q = np.asarray(w, dtype=float), np.asarray(q, dtype=float)
    W = np.cumsum(w[::-1])[::-1]
    A = np.cumsum((w * q)[::-1])[::-1]
    coef = w[:-1] / (W[:-1] * W[1:])  # 1/W_{k+1:T} - 1/W_{k:T}, without cancellation
    return float(A[0] / W[0] + np.sum(coef * (A[:-1] - q[:-1] * W[:-1])))


BAD = [
    (([1.0, 2.0, 0.0], [1.0, 2.0, 3.0]), {}, ("w",)),
    (([1.0, -1.0, 1.0], [1.0, 2.0, 3.0]), {}, ("w",)),
    (([1.0, 2.0], [1.0, 2.0, 3.0]), {}, ("w", "q")),
    (([], []), {}, ("w", "q")),
]


def _random_case(rng, T, exact):
    if exact:
        w = [Fraction(int(rng.integers(0, 10)), int(rng.integers(1, 7))) for _ in range(T - 1)]
        w.append(Fraction(int(rng.integers(1, 10)), int(rng.integers(1, 7))))
        q = [Fraction(int(rng.integers(-50, 50)), int(rng.integers(1, 9))) for _ in range(T)]
        return w, q
    w = rng.exponential(1.0, T) * (rng.random(T) > 0.2)
    w[-1] = rng.uniform(0.1, 1.0)
    return w, rng.standard_normal(T) * 10 ** rng.uniform(-2, 2)


def _judge_float(f, w, q, what):
    got = as_scalar(call(f, w, q), what)
    expected = ref_rhs_fast(w, q)
    scale = 1.0 + float(np.max(np.abs(q)))
    if abs(got - expected) > 1e-9 * scale * max(1.0, np.sqrt(len(q)) / 30):
        hint = ""
        if abs(got - float(np.dot(w, q) / np.sum(w))) < 1e-9 * scale:
            hint = "that is only the weighted average: add the correction terms"
        elif abs(got - float(q[-1])) < 1e-12 * scale and abs(expected - float(q[-1])) > 1e-12 * scale:
            hint = "compute the right-hand side; do not return q_T itself"
        raise CheckFailed(f"{what} = {got:.12g}, expected {expected:.12g}", hint)
    if abs(got - float(q[-1])) > 1e-8 * scale * max(1.0, np.sqrt(len(q)) / 30):
        raise CheckFailed(f"{what} = {got:.12g} is far from q_T = {float(q[-1]):.12g}")


# ============================================================================ E3.1a the identity
def check_identity_rhs(identity_rhs, seed=None):
    """Grade ``identity_rhs(w, q)``: the identity's right-hand side, in plain Python
    arithmetic so that Fractions in give an exact Fraction out; ``ValueError`` naming ``w``
    unless the weights are >= 0 with a positive last one (and ``q`` as long as ``w``)."""
    g = Checks("Exercise E3.1a: the right-hand side of the identity", identity_rhs, seed=seed)

    def exact(f, w, q, what):
        value = call(f, w, q)
        if not isinstance(value, Fraction):
            raise CheckFailed(f"{what} returned {type(value).__name__} {safe_str(value, 60)}, not a Fraction",
                              "use plain Python arithmetic (+, -, *, /, sum) on the entries, so that Fractions "
                              "stay Fractions: no np.asarray, no float()")
        expected = ref_rhs_exact(w, q)
        if value != expected:
            raise CheckFailed(f"{what} = {value}, expected exactly {expected} (= q_T)")

    @g.check("exact: T = 1, 2, 3 with Fractions; the result is q_T exactly")
    def _(f):
        exact(f, [Fraction(1)], [Fraction(7, 3)], "identity_rhs([1], [7/3])")
        exact(f, [Fraction(1), Fraction(2)], [Fraction(5), Fraction(-1)], "identity_rhs([1, 2], [5, -1])")
        exact(f, [Fraction(1, 2), Fraction(0), Fraction(3)], [Fraction(1), Fraction(4), Fraction(2)],
              "identity_rhs([1/2, 0, 3], [1, 4, 2]): a zero weight in the middle")

    @g.check("exact, random rational weights (zeros included) and values, T up to 12", random=True)
    def _(f, rng):
        for _ in range(4):
            T = int(rng.integers(2, 13))
            w, q = _random_case(rng, T, exact=True)
            exact(f, w, q, f"identity_rhs(<{T} random Fractions>)")

    @g.check("floats: random weights and values, T up to 300", random=True)
    def _(f, rng):
        for _ in range(4):
            T = int(rng.integers(2, 300))
            w, q = _random_case(rng, T, exact=False)
            _judge_float(f, list(w), list(q), f"identity_rhs(<{T} random floats>)")

    @g.check("rejects with ValueError: a zero or negative last weight, a negative weight, lengths that differ")
    def _(f):
        rejects(f, BAD)

    return g.run()


# ============================================================================ E3.1b in O(T)
def check_identity_rhs_fast(identity_rhs_fast, seed=None):
    """Grade ``identity_rhs_fast(w, q)``: the same right-hand side for NumPy arrays, in O(T)
    (suffix sums), fast enough for T = 10**6."""
    g = Checks("Exercise E3.1b: the identity in O(T)", identity_rhs_fast, seed=seed)

    @g.check("random weights and values, T up to 300", random=True)
    def _(f, rng):
        for _ in range(4):
            T = int(rng.integers(1, 300))
            w, q = _random_case(rng, T, exact=False)
            _judge_float(f, w, q, f"identity_rhs_fast(<{T} random weights>)")

    @g.check("T = 10**6 in well under the time limit (an O(T^2) double loop cannot)", random=True)
    def _(f, rng):
        w, q = _random_case(rng, 5, exact=False)
        _judge_float(f, w, q, "identity_rhs_fast(<5 random weights>)")
        w, q = _random_case(rng, 1_000_000, exact=False)
        _judge_float(f, w, q, "identity_rhs_fast(<10**6 random weights>)")

    @g.check("rejects with ValueError: a zero last weight, a negative weight, lengths that differ")
    def _(f):
        rejects(f, [((np.array(a), np.array(b)), {}, names) for (a, b), _, names in BAD[:3]])

    return g.run()


CHECKS = (check_identity_rhs, check_identity_rhs_fast)
