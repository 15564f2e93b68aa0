"""Tests for lrnotes.theory.variational (Chapter 2): symbolic derivation and numerical optimum."""

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from lrnotes.theory import variational as V

t, T, D, G, S = V.t, V.T, V.D, V.G, V.S


# --------------------------------------------------------------------------- symbolic
def test_euler_lagrange_of_eta2_over_S():
    E = V.euler_lagrange(V.lagrangian(-1))
    expected = S(t).diff(t) ** 2 - 2 * S(t) * S(t).diff(t, 2)
    assert sp.simplify(E - expected) == 0


def test_euler_lagrange_matches_raw_sympy_output():
    # E must be the raw EL expression times S^2 (up to the normalisation), not something else
    from sympy.calculus.euler import euler_equations

    (eq,) = euler_equations(V.lagrangian(-1), S(t), t)
    E = V.euler_lagrange(V.lagrangian(-1))
    assert sp.simplify(eq.lhs * S(t) ** 2 - E) == 0


def test_source_equation_is_el_of_S_eta2():
    E = V.euler_lagrange(V.lagrangian(1))
    assert sp.simplify(E - (S(t).diff(t) ** 2 + 2 * S(t) * S(t).diff(t, 2))) == 0


def test_power_ansatz_roots():
    _, right = V.power_ansatz(V.euler_lagrange(V.lagrangian(-1)))
    _, wrong = V.power_ansatz(V.euler_lagrange(V.lagrangian(1)))
    assert right == [0, 2]
    assert wrong == [0, sp.Rational(2, 3)]


@pytest.mark.parametrize("p", [-1, 1, sp.Rational(1, 2), sp.Rational(-1, 2), 3])
def test_general_solution_solves_el(p):
    E = V.euler_lagrange(V.lagrangian(p))
    sol, _ = V.general_solution(p)
    assert sp.simplify(E.subs(S(t), sol).doit()) == 0
    # and the linearising exponent really removes u from the Lagrangian
    q = V.linearising_exponent(p)
    u = sp.Function("u", positive=True)
    L = V.lagrangian(p).subs(S(t), u(t) ** q).doit()
    assert sp.simplify(L - q**2 * u(t).diff(t) ** 2) == 0


def test_reduce_by_power_gives_u_second_derivative():
    out, u = V.reduce_by_power(V.euler_lagrange(V.lagrangian(-1)), 2)
    assert sp.simplify(out + 4 * u(t) ** 3 * u(t).diff(t, 2)) == 0


def test_optimal_solution_closed_forms():
    sol = V.optimal_solution()
    assert sp.simplify(sol.c_star - D / (2 * G * T ** sp.Rational(3, 2))) == 0
    assert sp.simplify(sol.J_star - 2 * D * G / sp.sqrt(T)) == 0
    assert sp.simplify(sol.eta0_star - D / (G * sp.sqrt(T))) == 0
    assert sp.simplify(sol.J_c - (D**2 / (2 * sol.c * T**2) + 2 * G**2 * sol.c * T)) == 0
    # eta* solves the EL equation and S*(T) = 0
    E = V.euler_lagrange(V.lagrangian(-1))
    assert sp.simplify(E.subs(S(t), sol.S_star).doit()) == 0
    assert sol.S_star.subs(t, T) == 0


def test_functional_power_law_and_divergences():
    a = sp.Symbol("a", positive=True)
    _, integrand, J = V.functional(a * (T - t))
    assert sp.simplify(integrand - 2 * a) == 0  # constant integrand for linear decay
    assert sp.simplify(J - (D**2 / (a * T**2) + G**2 * a * T)) == 0
    assert V.functional(a + 0 * t)[2] == sp.oo  # constant LR: log divergence
    assert V.functional(a * (T - t) ** sp.Rational(-1, 3))[2] == sp.oo  # source's k = 2/3


def test_functional_rejects_non_sympy():
    with pytest.raises(ValueError, match="eta"):
        V.functional(lambda x: x)


@pytest.mark.parametrize("n", [2, 3, 6])
def test_summation_by_parts(n):
    assert V.summation_by_parts_gap(n) == 0


def test_integration_by_parts():
    assert V.integration_by_parts_gap() == 0


def test_bad_symbolic_input():
    with pytest.raises(ValueError, match="p"):
        V.lagrangian(-2)
    with pytest.raises(ValueError, match="p"):
        V.lagrangian("x")
    with pytest.raises(ValueError, match="n"):
        V.summation_by_parts_gap(1)
    with pytest.raises(ValueError, match="L"):
        V.euler_lagrange(t**2)


# --------------------------------------------------------------------------- numeric
def test_eta_star_and_J_star():
    assert V.J_star(3.0, 2.0, 100.0) == pytest.approx(1.2)
    assert V.eta_star(0.0, D=3.0, G=2.0, T=100.0) == pytest.approx(0.15)
    assert V.eta_star(100.0, D=3.0, G=2.0, T=100.0) == 0.0
    assert V.eta_star(np.array([0.0, 50.0]), T=100.0).shape == (2,)


@pytest.mark.parametrize(
    "kwargs", [dict(T=0.0), dict(T=-1.0), dict(D=0.0), dict(G=float("nan")), dict(D=True)]
)
def test_bad_constants(kwargs):
    with pytest.raises(ValueError):
        V.J_star(**{**dict(D=1.0, G=1.0, T=1.0), **kwargs})
    with pytest.raises(ValueError):
        V.discrete_objective(np.ones(4), **{**dict(D=1.0, G=1.0, T=1.0), **kwargs})


def test_bad_shapes_and_values():
    with pytest.raises(ValueError, match="shape"):
        V.discrete_objective(np.float64(1.0))
    with pytest.raises(ValueError, match="shape"):
        V.pl_objective(np.ones((3, 1)))
    with pytest.raises(ValueError, match=">= 0"):
        V.discrete_objective(np.array([1.0, -0.1]))
    with pytest.raises(ValueError, match="budget"):
        V.discrete_objective(np.zeros(3))
    with pytest.raises(ValueError, match="rule"):
        V.discrete_objective(np.ones(3), rule="left")
    with pytest.raises(ValueError, match="t must lie"):
        V.eta_star(2.0, T=1.0)
    with pytest.raises(ValueError, match="n_cells"):
        V.minimise_discrete(1)
    with pytest.raises(ValueError, match="init"):
        V.minimise_discrete(4, init=np.ones(3))


def test_right_rule_is_the_discrete_bound():
    rng = np.random.default_rng(1)
    eta = rng.uniform(0.1, 1.0, size=(5, 9))
    W = np.cumsum(eta[:, ::-1], axis=1)[:, ::-1]
    bound = 1.0 / (2 * W[:, 0]) + 0.5 * ((eta[:, :-1] ** 2 / W[:, 1:]).sum(1) + eta[:, -1])
    got = V.discrete_objective(eta, T=9.0, rule="right")
    np.testing.assert_allclose(got, bound, rtol=1e-13)


def test_discrete_objective_parts_and_zero_tails():
    eta = np.array([[1.0, 0.5, 0.25], [2.0, 1.0, 0.5]])
    bias, noise = V.discrete_objective(eta, T=3.0, D=2.0, G=0.5, parts=True)
    np.testing.assert_allclose(bias + noise, V.discrete_objective(eta, T=3.0, D=2.0, G=0.5))
    np.testing.assert_allclose(bias, 4.0 / (2.0 * eta.sum(1)))
    np.testing.assert_allclose(bias[1] * 2, bias[0])  # doubling eta halves the bias ...
    np.testing.assert_allclose(noise[1], 2 * noise[0])  # ... and doubles the noise
    # a zero tail is free under both rules; a step followed only by zeros is not, under "right"
    assert np.isfinite(V.discrete_objective([1.0, 1.0, 0.0, 0.0]))
    assert V.discrete_objective([1.0, 1.0, 0.0, 0.0], rule="right") == np.inf
    assert V.discrete_objective([1.0, 1.0, 0.0], rule="right") == np.inf
    assert np.isfinite(V.discrete_objective([1.0, 1.0, 1e-9], rule="right"))


def test_discrete_objective_constant_grows_like_log():
    # midpoint rule: a constant schedule costs sum 1/(m + 1/2) ~ log N
    J = [V.discrete_objective(np.ones(n)) for n in (100, 1000)]
    assert J[1] - J[0] == pytest.approx(0.5 * np.log(10), rel=1e-3)
    # linear decay converges instead
    Jl = [V.discrete_objective(V.eta_star((np.arange(n) + 0.5) / n)) for n in (100, 1000)]
    assert abs(Jl[1] - Jl[0]) < 1e-2 and Jl[1] == pytest.approx(2.0, abs=2e-3)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 30), st.floats(0.1, 10.0), st.floats(0.1, 10.0), st.floats(0.5, 50.0))
def test_discrete_objective_scaling(n, D_, G_, T_):
    """J[(D/(G sqrt T)) eta~(t/T)] = (D G/sqrt T) J~[eta~] for both rules."""
    shape = np.linspace(1.0, 0.1, n)
    unit = D_ / (G_ * np.sqrt(T_))
    for rule in V.RULES:
        lhs = V.discrete_objective(unit * shape, T=T_, D=D_, G=G_, rule=rule)
        rhs = D_ * G_ / np.sqrt(T_) * V.discrete_objective(shape, rule=rule)
        assert lhs == pytest.approx(rhs, rel=1e-10)


def test_minimise_discrete_recovers_linear_decay():
    D_, G_, T_ = 3.0, 2.0, 100.0
    r = V.minimise_discrete(200, T=T_, D=D_, G=G_)
    es = V.eta_star(r.t, D=D_, G=G_, T=T_)
    err = np.linalg.norm(r.eta - es) / np.linalg.norm(es)
    assert r.converged
    assert err < 0.01
    assert r.J / V.J_star(D_, G_, T_) == pytest.approx(1.0, abs=0.005)
    # it beats (or ties) the linear schedule sampled on the same grid, as a minimiser must
    assert r.J <= V.discrete_objective(es, T=T_, D=D_, G=G_) + 1e-12


def test_pl_objective_exact_cases():
    K = 16
    knots = V.eta_star(np.linspace(0, 4.0, K + 1), D=2.0, G=0.5, T=4.0)
    assert V.pl_objective(knots, D=2.0, G=0.5, T=4.0) == pytest.approx(V.J_star(2.0, 0.5, 4.0),
                                                                      rel=1e-12)
    assert V.pl_objective(np.ones(5)) == np.inf
    # power law (1 - t)^2 sampled finely: scale-optimised J / J* = (p+1)/(2 sqrt p)
    s = np.linspace(0, 1, 4001)
    S0, I = V.pl_objective((1 - s) ** 2, parts=True)
    assert 0.5 * np.sqrt(I / S0) == pytest.approx(3 / (2 * np.sqrt(2)), rel=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_random_schedules_never_beat_J_star(seed):
    rng = np.random.default_rng(seed)
    K = int(rng.integers(1, 40))
    knots = rng.uniform(0.0, 2.0, size=(8, K + 1)) + 1e-3
    knots[:, -1] = 0.0
    D_, G_, T_ = rng.uniform(0.2, 5.0, size=3)
    J = V.pl_objective(knots, D=D_, G=G_, T=T_)
    assert np.all(J >= V.J_star(D_, G_, T_) * (1 - 1e-12))


def test_show_typesets_aligned_rows():
    m = V.show((r"J^\star", V.optimal_solution().J_star), ("k", "2"))
    assert m.data.startswith(r"\begin{aligned}") and m.data.endswith(r"\end{aligned}")
    assert r"J^\star &= " in m.data and r"k &= 2" in m.data
    assert r"\frac{2 D G}{\sqrt{T}}" in m.data
    assert r"\frac{t}{3}" in V.show(("x", V.t / 3)).data
    assert "t / 3" in V.show(("x", V.t / 3), fold=True).data  # folded
    with pytest.raises(ValueError, match="at least one"):
        V.show()
    with pytest.raises(ValueError, match="each row must be a pair"):
        V.show(("x",))
