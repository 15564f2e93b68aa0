r"""Exercise E2.2, The best power of decay: for :math:`\eta(t) = c\,(1 - t/T)^m`, :math:`m > 0`,

.. math::
    S(t) = \frac{cT}{m+1}\Bigl(1-\frac tT\Bigr)^{m+1}, \qquad
    J(c) = \frac{D^2(m+1)}{2cT} + \frac{G^2c\,(m+1)}{2m}, \qquad
    c^\star = \frac{D}{G}\sqrt{\frac mT}, \qquad J^\star = \frac{DG\,(m+1)}{\sqrt{mT}},

smallest at :math:`m = 1` (linear decay), :math:`J^\star = 2DG/\sqrt T`.  (The grader's own
references integrate with sympy; the closed forms above are the check of the check.)
"""

from __future__ import annotations

import functools

from ._core import CheckFailed, Checks, as_pair, call, safe_str
from .ex2_1_euler_lagrange import _as_expr, _expect_same, _same, _sp

NUMBER = "2.2"
TITLE = "The best power of decay"


# ============================================================================ references
def symbols():
    sp = _sp()
    return sp.symbols("t T D G c", positive=True)


@functools.lru_cache(maxsize=512)  # the session's replay asks again for what the worker computed
def ref_remaining_budget(eta, t, T):
    sp = _sp()
    tau = sp.Dummy("tau", positive=True)
    return sp.integrate(eta.subs(t, tau), (tau, t, T))


@functools.lru_cache(maxsize=512)
def ref_J(eta, t, T, D, G):
    sp = _sp()
    S = sp.powsimp(ref_remaining_budget(eta, t, T), force=True)
    integrand = sp.powsimp(sp.simplify(eta**2 / S), force=True)
    return D**2 / (2 * S.subs(t, 0)) + G**2 / 2 * sp.integrate(integrand, (t, 0, T))


def ref_best(m, D, G, T):
    sp = _sp()
    m = sp.Rational(m)
    return D / G * sp.sqrt(m / T), D * G * (m + 1) / sp.sqrt(m * T)


def _etas(t, T, c):
    sp = _sp()
    return [("c (T - t)", c * (T - t)), ("c (1 - t/T)^2", c * (1 - t / T) ** 2),
            ("c (1 - t/T)^(1/2)", c * sp.sqrt(1 - t / T)), ("c (1 - t/T)^(3/2)", c * (1 - t / T) ** sp.Rational(3, 2))]


# ============================================================================ E2.2a S(t)
def check_remaining_budget(remaining_budget, seed=None):
    r"""Grade ``remaining_budget(eta, t, T)``: :math:`S(t) = \int_t^T \eta(\tau)\,d\tau` for a
    sympy expression ``eta`` in ``t``."""
    g = Checks("Exercise E2.2a: the remaining budget S(t)", remaining_budget, seed=seed, preload=("sympy",))

    @g.check("linear, quadratic, square-root and 3/2-power decay")
    def _(f):
        t, T, _, _, c = symbols()
        for name, eta in _etas(t, T, c):
            what = f"remaining_budget({name}, t, T)"
            got = _as_expr(call(f, eta, t, T), what)
            expected = ref_remaining_budget(eta, t, T)
            _expect_same(got, expected, what, [
                (lambda g: _same(g, -expected),
                 "S(t) integrates from t to T: the budget that is left, positive before T"),
                (lambda g: not _same(g.subs(t, T), 0), "S(T) must be 0: integrate from t to T (not from 0 to t)"),
            ])

    @g.check("random powers m = k/n", random=True)
    def _(f, rng):
        sp = _sp()
        t, T, _, _, c = symbols()
        for _ in range(2):
            m = sp.Rational(int(rng.integers(1, 9)), int(rng.integers(1, 4)))
            eta = c * (1 - t / T) ** m
            got = _as_expr(call(f, eta, t, T), f"remaining_budget(c (1 - t/T)^({m}), t, T)")
            if not _same(got, ref_remaining_budget(eta, t, T)):
                raise CheckFailed(f"remaining_budget(c (1 - t/T)^({m}), t, T) = {safe_str(got, 200)} is wrong")

    return g.run()


# ============================================================================ E2.2b J
def check_functional_J(functional_J, seed=None):
    r"""Grade ``functional_J(eta, t, T, D, G)``:
    :math:`J = D^2/(2S(0)) + (G^2/2)\int_0^T \eta^2/S\,dt` (``sympy.oo`` when it diverges)."""
    g = Checks("Exercise E2.2b: the functional J", functional_J, seed=seed, preload=("sympy",))

    @g.check("linear and power decays; a constant learning rate gives J = oo")
    def _(f):
        sp = _sp()
        t, T, D, G, c = symbols()
        for name, eta in _etas(t, T, c)[:3] + [("c (constant)", c + 0 * t)]:
            what = f"functional_J({name}, t, T, D, G)"
            got = _as_expr(call(f, eta, t, T, D, G), what)
            expected = sp.oo if name.endswith("(constant)") else ref_J(eta, t, T, D, G)
            if expected == sp.oo:  # sympy may write it as oo + (finite terms)
                if not (got.has(sp.oo) or got.has(sp.zoo)):
                    raise CheckFailed(f"{what} = {safe_str(got, 200)}, expected oo: eta^2/S = c/(T - t) is not "
                                      "integrable up to T", "let sympy do the integral; it returns oo")
                continue
            if not _same(got, expected):
                hint = ""
                if _same(got, expected - D**2 / (2 * ref_remaining_budget(eta, t, T).subs(t, 0))):
                    hint = "J has two terms: add D^2 / (2 S(0))"
                raise CheckFailed(f"{what} = {safe_str(got, 200)}, expected {safe_str(expected, 200)}", hint)

    return g.run()


# ============================================================================ E2.2c the best scale
def check_best_scale(best_scale, seed=None):
    r"""Grade ``best_scale(m, D, G, T) -> (c_star, J_star)`` for :math:`\eta = c(1-t/T)^m`:
    the scale that minimises :math:`J` and the minimum, as sympy expressions."""
    g = Checks("Exercise E2.2c: the best scale for each power", best_scale, seed=seed, preload=("sympy",))

    def compare(f, m):
        sp = _sp()
        _, T, D, G, _ = symbols()
        what = f"best_scale({m}, D, G, T)"
        c_star, J_star = as_pair(call(f, sp.Rational(m), D, G, T), what)
        c_star, J_star = _as_expr(c_star, f"{what}[0]"), _as_expr(J_star, f"{what}[1]")
        c_ref, J_ref = ref_best(m, D, G, T)
        if not _same(c_star, c_ref):
            raise CheckFailed(f"{what}[0] = {safe_str(c_star, 200)}, expected c* = {c_ref}",
                              "set dJ/dc = 0 and solve for c (sp.solve, c positive)")
        if not _same(J_star, J_ref):
            raise CheckFailed(f"{what}[1] = {safe_str(J_star, 200)}, expected J* = {J_ref}",
                              "substitute c* back into J")

    @g.check("m = 1 (linear decay: J* = 2DG/sqrt(T)), m = 2 and m = 1/2")
    def _(f):
        for m in ("1", "2", "1/2"):
            compare(f, m)

    @g.check("random rational m", random=True)
    def _(f, rng):
        compare(f, f"{int(rng.integers(1, 12))}/{int(rng.integers(1, 5))}")

    return g.run()


CHECKS = (check_remaining_budget, check_functional_J, check_best_scale)
