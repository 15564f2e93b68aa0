r"""Exercise E3.1, The weighted identity: for weights :math:`w_1..w_T \ge 0` with
:math:`w_T > 0` and any :math:`q_1..q_T`, with :math:`W_{k:T} = \sum_{t\ge k} w_t`,

.. math::
    q_T = \underbrace{\frac{1}{W_{1:T}}\sum_{t=1}^T w_tq_t}_{c_0}
        + \sum_{k=1}^{T-1}\underbrace{\Bigl(\frac{1}{W_{k+1:T}} - \frac{1}{W_{k:T}}\Bigr)
          \sum_{t=k}^{T} w_t\,(q_t - q_k)}_{c_k}.

The task asks for the *terms* :math:`(c_0, c_1, \dots, c_{T-1})`, not their sum: the sum
is :math:`q_T`, which could be copied; the terms cannot.  The inner sum is
:math:`A_k - q_kW_{k:T}` with :math:`A_k = \sum_{t\ge k} w_tq_t`, and
:math:`1/W_{k+1:T} - 1/W_{k:T} = w_k/(W_{k:T}W_{k+1:T})`, which gives all terms in O(T).
The grader's reference is exact (Fractions) for small T and O(T) in floats for large T.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from ._core import CheckFailed, Checks, as_array, call, rejects, safe_str

NUMBER = "3.1"
TITLE = "The weighted identity"


# ============================================================================ references
def ref_terms_exact(w, q):
    """``[c_0, c_1, ..., c_{T-1}]`` in Fractions."""
    w, q = [Fraction(x) for x in w], [Fraction(x) for x in q]
    T = len(w)
    W = [Fraction(0)] * (T + 1)
    for k in range(T - 1, -1, -1):
        W[k] = W[k + 1] + w[k]
    terms = [sum((a * b for a, b in zip(w, q)), Fraction(0)) / W[0]]
    for k in range(T - 1):
        terms.append((1 / W[k + 1] - 1 / W[k]) * sum((w[t] * (q[t] - q[k]) for t in range(k, T)), Fraction(0)))
    return terms


def _suffix(w, q):
    w, q = np.asarray(w, dtype=float), np.asarray(q, dtype=float)
    W = np.cumsum(w[::-1])[::-1]
    A = np.cumsum((w * q)[::-1])[::-1]
    S = np.cumsum((w * np.abs(q))[::-1])[::-1]
    return w, q, W, A, S


def ref_terms_fast(w, q):
    """The terms in O(T), floats."""
    w, q, W, A, _ = _suffix(w, q)
    coef = w[:-1] / (W[:-1] * W[1:])  # 1/W_{k+1:T} - 1/W_{k:T}, without cancellation
    return np.concatenate([[A[0] / W[0]], coef * (A[:-1] - q[:-1] * W[:-1])])


def ref_rhs_fast(w, q):
    """The right-hand side (the terms' sum), which equals q_T."""
    return float(np.sum(ref_terms_fast(w, q)))


def term_scales(w, q):
    """The size of what each term is computed from: S_0/W_0 and
    w_k/(W_k W_{k+1}) (S_k + |q_k| W_k), S_k the suffix sums of w|q|; round-off in any
    O(T) or O(T^2) evaluation is a small multiple of eps times this (times T at most)."""
    w, q, W, _, S = _suffix(w, q)
    coef = w[:-1] / (W[:-1] * W[1:])
    return np.concatenate([[S[0] / W[0]], coef * (S[:-1] + np.abs(q[:-1]) * W[:-1])])


def mistakes(w, q):
    """Plausible wrong answers: ``{hint: terms}``."""
    w, q = np.asarray(w, dtype=float), np.asarray(q, dtype=float)
    terms = ref_terms_fast(w, q)
    out = {"you returned q_T as the first term and zeros after it: each term must be computed "
           "from its formula (their sum is q_T, but that is what the check is for)":
           np.concatenate([[q[-1]], np.zeros(q.size - 1)])}
    if q.size > 1:
        out["the corrections have the wrong sign: 1/W_{k+1:T} - 1/W_{k:T} is positive"] = \
            np.concatenate([terms[:1], -terms[1:]])
        out["the corrections are missing: after the weighted average comes one correction term for "
            "each k = 1..T-1"] = np.concatenate([terms[:1], np.zeros(q.size - 1)])
    return out


def _shape_hint(got, w, q):
    """What a scalar (or wrongly sized) answer is, when it is one of the copyable values."""
    w, q = np.asarray(w, dtype=float), np.asarray(q, dtype=float)
    base = (f"return all T = {q.size} terms as a list [c_0, c_1, ..., c_{{T-1}}]: the weighted "
            "average first, then one correction for each k = 1..T-1")
    if got.size == 1:
        x, scale = float(got.reshape(())), 1.0 + float(np.max(np.abs(q)))
        if abs(x - float(q[-1])) <= 1e-9 * scale:
            return "that is q_T itself (the terms' sum), copied or summed: " + base
        if abs(x - float(np.dot(w, q) / np.sum(w))) <= 1e-9 * scale:
            return "that is only the weighted average, the first term: " + base
    return base


def _judge(f, w, q, what, *, exact):
    value = call(f, w, q)
    T = len(w)
    if exact:
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, Fraction) for v in value):
            if isinstance(value, Fraction):
                raise CheckFailed(f"{what} returned one Fraction, {safe_str(value, 60)}; expected a list of "
                                  f"{T} terms", _shape_hint(np.array([float(value)]), w, q))
            raise CheckFailed(f"{what} returned {type(value).__name__} {safe_str(value, 80)}, not a list of "
                              "Fractions", "use plain Python arithmetic (+, -, *, /, sum) on the entries, so that "
                              "Fractions stay Fractions: no np.asarray, no float(); return a list")
        expected = ref_terms_exact(w, q)
        if len(value) != T:
            raise CheckFailed(f"{what} returned {len(value)} terms, expected T = {T}",
                              _shape_hint(np.array([float(v) for v in value]), w, q))
        wrong = [k for k in range(T) if value[k] != expected[k]]
        if wrong:
            k = wrong[0]
            got = np.array([float(v) for v in value])
            hint = _diagnose(got, w, q)
            raise CheckFailed(f"{what}: term {k} is {value[k]}, expected exactly {expected[k]} "
                              f"({len(wrong)} of {T} terms wrong)", hint)
        if sum(value, Fraction(0)) != Fraction(q[-1]):  # cannot happen when the terms are right
            raise CheckFailed(f"{what}: the terms do not add up to q_T")
        return
    raw = value
    got = as_array(value, None, what)
    if got.shape != (T,):
        raise CheckFailed(f"{what} returned shape {got.shape}, expected ({T},)", _shape_hint(got, w, q))
    expected = ref_terms_fast(w, q)
    tol = 1e-9 * term_scales(w, q) * max(1.0, np.sqrt(T) / 30) + 1e-300
    bad = np.abs(got - expected) > tol
    if bad.any():
        k = int(np.argmax(bad))
        hint = _diagnose(got, w, q)
        if not hint and getattr(np.asarray(raw), "dtype", None) == np.float32:
            hint = ("your terms are float32 (about 7 digits; its suffix sums over many terms lose more): "
                    "the task asks for float64, NumPy's default: np.asarray(x, dtype=float)")
        raise CheckFailed(f"{what}: term {k} is {got[k]:.12g}, expected {expected[k]:.12g} "
                          f"({int(bad.sum())} of {T} terms wrong)", hint)


def _diagnose(got, w, q):
    for hint, values in mistakes(w, q).items():
        if np.allclose(got, values, rtol=1e-9, atol=1e-12 * (1 + float(np.max(np.abs(np.asarray(q, float)))))):
            return hint
    return ""


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


# ============================================================================ E3.1a the terms, exactly
def _random_judges(f, rng, low: int, high: int, label: str, *, exact: bool, as_list: bool = False) -> None:
    """Four random cases, T in [low, high); ``label`` is formatted with T; floats are passed
    as lists when ``as_list`` (the exact task takes lists)."""
    for _ in range(4):
        T = int(rng.integers(low, high))
        w, q = _random_case(rng, T, exact=exact)
        if as_list:
            w, q = list(w), list(q)
        _judge(f, w, q, label.format(T=T), exact=exact)


def check_identity_terms(identity_terms, seed=None):
    r"""Grade ``identity_terms(w, q)``: the list ``[c_0, c_1, ..., c_{T-1}]`` of the
    identity's terms (the weighted average, then the correction for each
    :math:`k = 1..T-1`), in plain Python arithmetic so that Fractions in give Fractions
    out; ``ValueError`` naming ``w`` unless the weights are >= 0 with a positive last one
    (and ``q`` as long as ``w``)."""
    g = Checks("Exercise E3.1a: the terms of the identity, exactly", identity_terms, seed=seed)

    @g.check("exact: T = 1, 2, 3 with Fractions (a zero weight in the middle included)")
    def _(f):
        _judge(f, [Fraction(1)], [Fraction(7, 3)], "identity_terms([1], [7/3])", exact=True)
        _judge(f, [Fraction(1), Fraction(2)], [Fraction(5), Fraction(-1)], "identity_terms([1, 2], [5, -1])",
               exact=True)
        _judge(f, [Fraction(1, 2), Fraction(0), Fraction(3)], [Fraction(1), Fraction(4), Fraction(2)],
               "identity_terms([1/2, 0, 3], [1, 4, 2])", exact=True)

    @g.check("exact, random rational weights (zeros included) and values, T up to 12", random=True)
    def _(f, rng):
        _random_judges(f, rng, 2, 13, "identity_terms(<{T} random Fractions>)", exact=True)

    @g.check("floats: random weights and values, T up to 300 (each term to round-off)", random=True)
    def _(f, rng):
        _random_judges(f, rng, 2, 300, "identity_terms(<{T} random floats>)", exact=False, as_list=True)

    @g.check("rejects with ValueError: a zero or negative last weight, a negative weight, lengths that differ")
    def _(f):
        rejects(f, BAD)

    return g.run()


# ============================================================================ E3.1b in O(T)
def check_identity_terms_fast(identity_terms_fast, seed=None):
    """Grade ``identity_terms_fast(w, q)``: the same T terms as a float64 NumPy array of
    shape ``(T,)``, in O(T) (suffix sums), fast enough for T = 10**6."""
    g = Checks("Exercise E3.1b: the terms in O(T)", identity_terms_fast, seed=seed)

    @g.check("random weights and values, T up to 300", random=True)
    def _(f, rng):
        _random_judges(f, rng, 1, 300, "identity_terms_fast(<{T} random weights>)", exact=False)

    @g.check("T = 10**6 in well under the time limit (an O(T^2) double loop cannot)", random=True)
    def _(f, rng):
        w, q = _random_case(rng, 5, exact=False)
        _judge(f, w, q, "identity_terms_fast(<5 random weights>)", exact=False)
        w, q = _random_case(rng, 1_000_000, exact=False)
        _judge(f, w, q, "identity_terms_fast(<10**6 random weights>)", exact=False)

    @g.check("rejects with ValueError: a zero last weight, a negative weight, lengths that differ")
    def _(f):
        rejects(f, [((np.array(a), np.array(b)), {}, names) for (a, b), _, names in BAD[:3]])

    return g.run()


CHECKS = (check_identity_terms, check_identity_terms_fast)
