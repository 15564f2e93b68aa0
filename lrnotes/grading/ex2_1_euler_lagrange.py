r"""Exercise E2.1, Euler–Lagrange with sympy: the equation of a Lagrangian
:math:`L(S, S')`, the power solutions of :math:`L_p = S^pS'^2`, and the optimal schedule.

References (the grader's own, with sympy):

.. math::
    E[L] = \frac{\partial L}{\partial S} - \frac{d}{dt}\frac{\partial L}{\partial S'}, \qquad
    S = (T-t)^k \text{ solves } E[L_p] = 0 \iff k \in \{0,\ 2/(p+2)\}, \qquad
    \eta^\star(t) = \frac{D\,(T-t)}{G\,T^{3/2}} .
"""

from __future__ import annotations

import functools
from fractions import Fraction

from ._core import CheckFailed, Checks, call, expect_value_error, safe_str, short

NUMBER = "2.1"
TITLE = "Euler-Lagrange with sympy"


def _sp():
    import sympy

    return sympy


# ============================================================================ references
@functools.lru_cache(maxsize=512)  # the session's replay asks again for what the worker computed
def ref_euler_lagrange(L, S, t):
    sp = _sp()
    St = S(t)
    dS = St.diff(t)
    a, b = sp.Dummy("a"), sp.Dummy("b")
    Lab = L.subs(dS, b).subs(St, a)
    dL_dS = sp.diff(Lab, a).subs({a: St, b: dS})
    dL_ddS = sp.diff(Lab, b).subs({a: St, b: dS})
    return dL_dS - sp.diff(dL_ddS, t)


def ref_power_exponent(p):
    sp = _sp()
    return sp.Rational(2) / (sp.Rational(p) + 2)


def ref_optimal_eta(t, T, D, G):
    return D * (T - t) / (G * T ** _sp().Rational(3, 2))


# ============================================================================ reading sympy results
def _as_expr(value, what: str):
    sp = _sp()
    if value is None:
        raise CheckFailed(f"{what} returned None", "did you forget the `return` statement?")
    if isinstance(value, sp.Equality):
        return value.lhs - value.rhs
    if isinstance(value, (list, tuple)) and len(value) == 1:
        return _as_expr(value[0], what)
    if not isinstance(value, sp.Expr):
        raise CheckFailed(f"{what} returned {type(value).__name__} {short(value)}, not a sympy expression",
                          "build the result with sympy operations (sp.diff, ...) on the arguments you are given")
    return value


def _is_zero(expr) -> bool:
    sp = _sp()
    for step in (lambda e: sp.expand(sp.together(e)), sp.simplify):
        try:
            if step(expr) == 0:
                return True
        except Exception:  # noqa: BLE001 - sympy may give up on a strange expression
            continue
    return False


@functools.lru_cache(maxsize=2048)
def _same_cached(got, expected) -> bool:
    return _is_zero(got - expected)


def _same(got, expected) -> bool:
    """``got - expected`` is 0 (cached: the session's replay of a check asks again)."""
    try:
        return _same_cached(got, expected)
    except TypeError:  # an unhashable value
        return _is_zero(got - expected)


def _expect_same(got, expected, what: str, hints, note: str = "") -> None:
    """Fail unless ``got`` equals ``expected`` as an expression; the hint is the text of
    the first ``(test, text)`` in ``hints`` whose ``test(got)`` holds."""
    if not _same(got, expected):
        hint = next((text for test, text in hints if test(got)), "")
        raise CheckFailed(f"{what} = {safe_str(got, 200)}, expected {safe_str(expected, 200)}{note}", hint)


# ============================================================================ E2.1a EL
def check_euler_lagrange(euler_lagrange, seed=None):
    r"""Grade ``euler_lagrange(L, S, t)``: for a sympy Lagrangian ``L`` in ``S(t)`` and
    ``S(t).diff(t)``, return :math:`\partial L/\partial S - \frac{d}{dt}\partial L/\partial S'`."""
    g = Checks("Exercise E2.1a: the Euler-Lagrange expression", euler_lagrange, seed=seed, preload=("sympy",))

    def cases():
        sp = _sp()
        t = sp.Symbol("t", positive=True)
        S = sp.Function("S")
        St, dS = S(t), S(t).diff(t)
        return t, S, [("S'^2/S (this chapter's integrand)", dS**2 / St), ("S S'^2", St * dS**2),
                      ("S'^2 + S^2", dS**2 + St**2), ("S^(3/2) S'^2", St ** sp.Rational(3, 2) * dS**2),
                      ("t S'^2 (depends on t explicitly)", t * dS**2)]

    def compare(f, L, S, t, name):
        what = f"euler_lagrange({name}, S, t)"
        got = _as_expr(call(f, L, S, t), what)
        expected = ref_euler_lagrange(L, S, t)
        _expect_same(got, expected, what, [
            (lambda g: _same(g, -expected), "the sign: the convention here is dL/dS - d/dt (dL/dS')"),
            (lambda g: _same(g, expected + _sp().diff(L.diff(S(t).diff(t)), t)),
             "you dropped the d/dt (dL/dS') term"),
        ], note=" (or an equal expression)")

    @g.check("five Lagrangians, from this chapter's S'^2/S to one that depends on t")
    def _(f):
        t, S, ls = cases()
        for name, L in ls:
            compare(f, L, S, t, name)

    @g.check("random powers: L = S^p S'^2 + c S^q", random=True)
    def _(f, rng):
        sp = _sp()
        t, S, _ = cases()
        for _ in range(3):
            p, q = (sp.Rational(int(rng.integers(-6, 7)), int(rng.integers(1, 4))) for _ in range(2))
            c = sp.Rational(int(rng.integers(1, 9)), int(rng.integers(1, 5)))
            compare(f, S(t) ** p * S(t).diff(t) ** 2 + c * S(t) ** q, S, t, f"S^({p}) S'^2 + {c} S^({q})")

    return g.run()


# ============================================================================ E2.1b the power solution
def check_power_exponent(power_exponent, seed=None):
    r"""Grade ``power_exponent(p)``: the non-zero :math:`k` for which :math:`S = (T-t)^k`
    solves the Euler–Lagrange equation of :math:`S^pS'^2`, exact (a sympy Rational);
    ``ValueError`` naming ``p`` for :math:`p = -2`."""
    g = Checks("Exercise E2.1b: the power solutions", power_exponent, seed=seed, preload=("sympy",))

    def compare(f, p):
        sp = _sp()
        what = f"power_exponent({p})"
        value = call(f, p)
        if isinstance(value, (list, tuple, set)):
            raise CheckFailed(f"{what} returned {short(value)}; return the non-zero exponent only",
                              "k = 0 (a constant S) always solves the equation but cannot reach S(T) = 0")
        expected = ref_power_exponent(p)
        if isinstance(value, float):
            raise CheckFailed(f"{what} returned the float {value!r}; return the exact number",
                              "work with sympy numbers: sp.Rational(p), then sp.solve(...)")
        if isinstance(value, str):  # sympify would evaluate the text in the session
            raise CheckFailed(f"{what} returned the string {short(value)}; return a sympy number",
                              "work with sympy numbers: sp.Rational(p), then sp.solve(...)")
        try:
            got = sp.nsimplify(value) if isinstance(value, (int, Fraction)) else sp.sympify(value, strict=True)
        except Exception:  # noqa: BLE001 - sympify of a strange object
            got = None
        if not isinstance(got, sp.Expr) or not got.is_number:
            raise CheckFailed(f"{what} returned {short(value)}, not a number")
        if not _same(got, expected):
            hint = "k = 0 solves it too, but the task asks for the other root" if got == 0 else ""
            if _same(got, 2 / (sp.Rational(p) - 2)):
                hint = "check the sign in the Euler-Lagrange equation"
            raise CheckFailed(f"{what} = {safe_str(got, 100)}, expected {expected}", hint)

    @g.check("p = -1 (this chapter: k = 2, so eta = -S' is linear), p = +1 (the source's slip), p = 0")
    def _(f):
        for p in (-1, 1, 0):
            compare(f, p)

    @g.check("random rational p", random=True)
    def _(f, rng):
        sp = _sp()
        for _ in range(3):
            p = sp.Rational(int(rng.integers(-9, 10)), int(rng.integers(1, 5)))
            if p != -2:
                compare(f, p)

    @g.check("p = -2 has no power solution: ValueError naming p")
    def _(f):
        expect_value_error(f, -2, names=("p",))

    return g.run()


# ============================================================================ E2.1c the optimum
def check_optimal_eta(optimal_eta, seed=None):
    r"""Grade ``optimal_eta(t, T, D, G)``: the schedule :math:`\eta^\star(t)` that minimises
    :math:`J = D^2/(2S(0)) + (G^2/2)\int_0^T \eta^2/S\,dt`, as a sympy expression in the
    (positive) symbols it is given."""
    g = Checks("Exercise E2.1c: the optimal schedule", optimal_eta, seed=seed, preload=("sympy",))

    @g.check("equals D (T - t) / (G T^(3/2)) (any equivalent form)")
    def _(f):
        sp = _sp()
        t, T, D, G = sp.symbols("t T D G", positive=True)
        got = _as_expr(call(f, t, T, D, G), "optimal_eta(t, T, D, G)")
        expected = ref_optimal_eta(t, T, D, G)
        if not _same(got, expected):
            hint = ""
            if _same(got, expected * G * T ** sp.Rational(3, 2) / D):
                hint = "the shape T - t is right; now choose its scale c by minimising J(c)"
            elif _same(got / expected, sp.Integer(2)) or _same(got / expected, sp.Rational(1, 2)):
                hint = "eta = -S' and S = c (T - t)^2 give eta = 2 c (T - t): check the factor 2"
            raise CheckFailed(f"optimal_eta(t, T, D, G) = {safe_str(got, 200)}, expected {expected}", hint)

    return g.run()


CHECKS = (check_euler_lagrange, check_power_exponent, check_optimal_eta)
