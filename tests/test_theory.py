"""Tests for lrnotes.theory: the weighted identity, the last-iterate bound, the optimiser."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrnotes import schedules as S
from lrnotes import theory as th


def harmonic(n):
    return float(sum(1.0 / j for j in range(1, n + 1)))


def brute_force_bound(eta, D, G, form):
    """O(T^2) transcription of the bound, term by term, for cross-checking."""
    eta = [float(e) for e in eta]
    T = len(eta)
    suf = lambda k: sum(eta[k:])  # noqa: E731  (0-based k: eta_{k+1:T})
    sq = lambda k: sum(e * e for e in eta[k:])  # noqa: E731
    val = (D * D + G * G * sq(0)) / (2 * suf(0))
    for k in range(T - 1):
        if form == "full":
            val += G * G / 2 * (1 / suf(k + 1) - 1 / suf(k)) * sq(k)
        else:
            val += G * G / 2 * eta[k] ** 2 / suf(k + 1)
    return val


# --------------------------------------------------------------------------- identity
# Positive weights spanning many orders of magnitude (10^-8 .. 10^8), exactly representable.
wide_weight = st.builds(lambda m, e: Fraction(m, 1000) * Fraction(10) ** e,
                        st.integers(1, 1000), st.integers(-8, 8))
any_q = st.fractions(min_value=-10**6, max_value=10**6, max_denominator=10**6)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 25).flatmap(
    lambda T: st.tuples(st.lists(wide_weight, min_size=T, max_size=T),
                        st.lists(any_q, min_size=T, max_size=T))))
def test_identity_exact_rational(wq):
    w, q = wq
    assert th.identity_rhs_exact(w, q) == q[-1]


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 60).flatmap(
    lambda T: st.tuples(
        st.lists(st.floats(-6, 6), min_size=T, max_size=T),  # log10 of the weights
        st.lists(st.floats(-1e3, 1e3), min_size=T, max_size=T))))
def test_identity_float_tight(data):
    logw, q = data
    w = 10.0 ** np.array(logw)
    q = np.array(q)
    # every correction term is bounded by 2 max|q|, so round-off is O(T eps max|q|)
    tol = 1e-12 * len(q) * (1.0 + np.max(np.abs(q)))
    assert abs(th.identity_residual(w, q)) <= tol


@pytest.mark.parametrize("T", [1, 2, 3, 4])
def test_identity_sympy_cancels(T):
    import sympy as sp

    lhs, rhs, w, q = th.identity_sympy(T)
    assert sp.cancel(sp.together(lhs - rhs)) == 0
    # and a deliberately wrong right-hand side does not cancel
    assert sp.cancel(sp.together(lhs - rhs - q[0] / sum(w))) != 0


def test_suffix_sums():
    np.testing.assert_allclose(th.suffix_sums([1.0, 2.0, 3.0]), [6.0, 5.0, 3.0])
    np.testing.assert_allclose(th.suffix_sums([[1.0, 1.0], [2.0, 0.5]]), [[2.0, 1.0], [2.5, 0.5]])


# --------------------------------------------------------------------------- bound
@pytest.mark.parametrize("form", th.FORMS)
def test_bound_matches_brute_force(form):
    rng = np.random.default_rng(1)
    eta = np.sort(rng.random(30) + 0.01)[::-1]
    got = th.last_iterate_bound(eta, D=1.7, G=0.3, form=form)
    assert got == pytest.approx(brute_force_bound(eta, 1.7, 0.3, form), rel=1e-12)


def test_bound_batch_equals_single():
    rng = np.random.default_rng(2)
    M = rng.random((4, 17)) + 0.1
    batch = th.last_iterate_bound(M, 2.0, 3.0)
    assert batch.shape == (4,)
    for i in range(4):
        assert batch[i] == pytest.approx(th.last_iterate_bound(M[i], 2.0, 3.0), rel=1e-14)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(1e-4, 1e4), min_size=1, max_size=40))
def test_full_le_simplified_for_nonincreasing(vals):
    eta = np.sort(np.array(vals))[::-1]
    full = th.last_iterate_bound(eta, form="full")
    simp = th.last_iterate_bound(eta, form="simplified")
    assert full <= simp * (1 + 1e-12)


def test_simplified_is_not_an_upper_bound_for_increasing_schedules():
    eta = np.linspace(0.1, 1.0, 20)  # increasing: sum_{t>=k} eta_t^2 > eta_k eta_{k:T}
    assert th.last_iterate_bound(eta, form="simplified") < th.last_iterate_bound(eta, form="full")


def test_bound_scaling_and_tuned_peak():
    T = 200
    shape = S.cosine(T)(np.arange(T))
    A, B = th.bound_terms(shape, D=2.0, G=0.5)
    c = 3.7
    assert th.last_iterate_bound(c * shape, 2.0, 0.5) == pytest.approx(A / c + B * c, rel=1e-12)
    scale, best = th.tune_peak(shape, D=2.0, G=0.5)
    from scipy.optimize import minimize_scalar

    res = minimize_scalar(lambda lc: th.last_iterate_bound(np.exp(lc) * shape, 2.0, 0.5),
                          bounds=(-10, 10), method="bounded", options={"xatol": 1e-10})
    assert best == pytest.approx(res.fun, rel=1e-9)
    assert scale == pytest.approx(np.exp(res.x), rel=1e-4)


@pytest.mark.parametrize("T", [2, 10, 1000])
def test_closed_forms_constant_and_linear(T):
    H = harmonic(T - 1)
    _, const = th.tune_peak(np.ones(T), D=1.0, G=1.0)
    assert const == pytest.approx(np.sqrt((1 + H) / T), rel=1e-12)
    _, lin = th.tune_peak(S.linear(T)(np.arange(T)), D=1.0, G=1.0)
    assert lin == pytest.approx(2 * np.sqrt((2 * T - 1 + 2 * H) / (2 * T * (T + 1))), rel=1e-12)


@pytest.mark.parametrize("T", [1, 2, 7, 500])
def test_linear_noise_sum(T):
    alpha = 0.3
    k = np.arange(1, T + 1)
    eta = alpha * (1 - k / (T + 1))
    direct = sum(eta[i] ** 2 / eta[i + 1:].sum() for i in range(T - 1))
    assert th.linear_noise_sum(T, alpha) == pytest.approx(direct, rel=1e-12, abs=1e-15)
    # bounded (it tends to 2 alpha) but not constant: above 2 alpha once H_{T-1} > 2 (T >= 5)
    assert th.linear_noise_sum(T, alpha) < 1.08 * 2 * alpha
    assert (th.linear_noise_sum(T, alpha) > 2 * alpha) == (T >= 5)
    np.testing.assert_allclose(th.linear_noise_sum(np.array([T, T]), alpha), [direct, direct],
                               rtol=1e-12, atol=1e-15)


def test_optimal_schedule_beats_and_resembles_linear():
    T = 100
    opt = th.optimal_schedule(T)
    _, lin = th.tune_peak(S.linear(T)(np.arange(T)))
    _, cos = th.tune_peak(S.cosine(T)(np.arange(T)))
    assert opt.converged
    assert opt.bound <= lin and opt.bound <= cos
    assert lin / opt.bound < 1.05
    assert th.last_iterate_bound(opt.lrs) == pytest.approx(opt.bound, rel=1e-12)
    # a different start reaches the same value
    other = th.optimal_schedule(T, init=np.ones(T))
    assert other.bound == pytest.approx(opt.bound, rel=1e-6)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("lrs", [[1.0, 0.5, 0.0], [[1.0, 1.0], [1.0, 0.0]]])
def test_last_lr_must_be_positive(lrs):
    with pytest.raises(ValueError, match=r"lrs\[\.\.\., -1\].*eta_T.*> 0"):
        th.last_iterate_bound(lrs)


@pytest.mark.parametrize("lrs, pattern", [
    ([1.0, -0.1, 1.0], r"lrs must be >= 0"),
    ([1.0, np.nan, 1.0], r"lrs must be finite"),
    ([1.0, np.inf, 1.0], r"lrs must be finite"),
    (np.ones((2, 2, 2)), r"lrs must have shape"),
    ([], r"lrs must have shape"),
    ("abc", r"lrs must be an array"),
])
def test_bad_lrs(lrs, pattern):
    with pytest.raises(ValueError, match=pattern):
        th.last_iterate_bound(lrs)


@pytest.mark.parametrize("kw, pattern", [
    ({"D": 0.0}, r"D must be a finite real number > 0"),
    ({"G": -1.0}, r"G must be a finite real number > 0"),
    ({"D": float("inf")}, r"D must be"),
    ({"G": True}, r"G must be"),
    ({"form": "approx"}, r"form must be one of"),
])
def test_bad_bound_args(kw, pattern):
    with pytest.raises(ValueError, match=pattern):
        th.last_iterate_bound([1.0, 0.5], **kw)


def test_bad_identity_args():
    with pytest.raises(ValueError, match=r"q must have shape \(3,\)"):
        th.identity_rhs([1.0, 1.0, 1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"w\[\.\.\., -1\]"):
        th.identity_residual([1.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"w must be >= 0"):
        th.identity_rhs_exact([1, -1, 1], [0, 0, 0])
    with pytest.raises(ValueError, match=r"same length"):
        th.identity_rhs_exact([1, 1], [0])
    with pytest.raises(ValueError, match=r"T must be an integer >= 1"):
        th.identity_sympy(0)


def test_bad_optimiser_and_closed_form_args():
    with pytest.raises(ValueError, match=r"T must be an integer >= 2"):
        th.optimal_schedule(1)
    with pytest.raises(ValueError, match=r"init must have shape"):
        th.optimal_schedule(5, init=np.ones(4))
    with pytest.raises(ValueError, match=r"maxiter must be"):
        th.optimal_schedule(5, maxiter=0)
    with pytest.raises(ValueError, match=r"T must be integer"):
        th.linear_noise_sum(0)
    with pytest.raises(ValueError, match=r"T must be integer"):
        th.linear_noise_sum(2.5)
    with pytest.raises(ValueError, match=r"alpha must be"):
        th.linear_noise_sum(5, alpha=0)


# --------------------------------------------------------------------------- exact forms
any_lr = st.fractions(min_value=0, max_value=10**3, max_denominator=10**4)


@settings(max_examples=80, deadline=None)
@given(st.lists(any_lr, min_size=0, max_size=30),
       st.fractions(min_value=Fraction(1, 10**4), max_value=10**3, max_denominator=10**4))
def test_exact_full_equals_compact_for_any_schedule(head, last):
    """Summation by parts: the proved bound equals the compact form exactly (any order)."""
    eta = head + [last]  # eta_T > 0; earlier entries may be 0 and need not be monotone
    full = th.last_iterate_bound_exact(eta, D=Fraction(3, 2), G=Fraction(2, 7), form="full")
    compact = th.last_iterate_bound_exact(eta, D=Fraction(3, 2), G=Fraction(2, 7),
                                          form="compact")
    assert full == compact


def test_exact_forms_match_float_and_brute_force():
    rng = np.random.default_rng(3)
    eta = [Fraction(int(m), 1000) for m in rng.integers(1, 1000, size=25)]
    for form in th.FORMS:
        exact = th.last_iterate_bound_exact(eta, D=2, G=Fraction(1, 2), form=form)
        assert float(exact) == pytest.approx(
            brute_force_bound(eta, 2.0, 0.5, form), rel=1e-12)
        assert float(exact) == pytest.approx(
            th.last_iterate_bound(np.array(eta, dtype=float), 2.0, 0.5, form), rel=1e-12)


def test_exact_simplified_minus_full():
    """simplified - full = (G^2/2)(sum eta^2 / eta_{1:T} - eta_T): >= 0 iff that is."""
    for eta in ([5, 3, 2, 1], [1, 2, 3, 5], [2, 2, 2]):
        eta = [Fraction(e) for e in eta]
        gap = (th.last_iterate_bound_exact(eta, form="simplified")
               - th.last_iterate_bound_exact(eta, form="full"))
        assert gap == Fraction(1, 2) * (sum(e * e for e in eta) / sum(eta) - eta[-1])
    assert gap == 0  # constant schedule: the two forms coincide


def test_exact_bound_bad_input():
    with pytest.raises(ValueError, match=r"form must be one of"):
        th.last_iterate_bound_exact([1, 1], form="approx")
    with pytest.raises(ValueError, match=r"lrs\[-1\] \(eta_T\) > 0"):
        th.last_iterate_bound_exact([1, 0])
    with pytest.raises(ValueError, match=r"lrs must be >= 0"):
        th.last_iterate_bound_exact([1, -1, 1])
    with pytest.raises(ValueError, match=r"at least one"):
        th.last_iterate_bound_exact([])
    with pytest.raises(ValueError, match=r"D and G must be > 0"):
        th.last_iterate_bound_exact([1, 1], D=0)
    with pytest.raises(ValueError, match=r"finite rational"):
        th.last_iterate_bound_exact([1, float("nan")])


# --------------------------------------------------------------------------- quadratic SGD
def test_quadratic_moments_match_monte_carlo():
    rng = np.random.default_rng(4)
    lrs = 0.5 * (1 + np.cos(np.pi * np.arange(1, 30) / 30))
    m = th.quadratic_sgd_moments(lrs, theta1=2.0, sigma=0.3, curvature=1.5)
    theta = np.full(200_000, 2.0)
    for e in lrs:
        theta -= e * (1.5 * theta + 0.3 * rng.standard_normal(theta.size))
    se_mean = np.sqrt(m.var[-1] / theta.size)
    assert abs(theta.mean() - m.mean[-1]) < 5 * se_mean
    assert theta.var() == pytest.approx(m.var[-1], rel=0.02)
    assert np.abs(theta).mean() == pytest.approx(m.abs_mean[-1], rel=0.01)


def test_quadratic_moments_closed_cases():
    # constant eta on curvature 1: m_t = (1-eta)^t theta1, v_t = eta^2 s^2 (1-a^2t)/(1-a^2)
    eta, n = 0.2, 40
    m = th.quadratic_sgd_moments(np.full(n, eta), theta1=3.0, sigma=0.5)
    a = 1 - eta
    t = np.arange(n + 1)
    np.testing.assert_allclose(m.mean, 3.0 * a**t, rtol=1e-13)
    np.testing.assert_allclose(m.var, eta**2 * 0.25 * (1 - a ** (2 * t)) / (1 - a**2),
                               rtol=1e-12, atol=1e-300)
    # no noise: |theta| is deterministic; a first step of eta = 1 kills the mean
    quiet = th.quadratic_sgd_moments([0.5, 0.5], theta1=-4.0, sigma=0.0)
    np.testing.assert_allclose(quiet.abs_mean, [4.0, 2.0, 1.0])
    kill = th.quadratic_sgd_moments([1.0, 0.3], theta1=5.0, sigma=0.1)
    assert kill.mean[1] == 0.0 and kill.mean[2] == 0.0
    # zero mean: E|theta| = s sqrt(2/pi), the half-normal mean
    assert kill.abs_mean[-1] == pytest.approx(np.sqrt(kill.var[-1] * 2 / np.pi), rel=1e-14)


def test_quadratic_moments_bad_input():
    with pytest.raises(ValueError, match=r"lrs must be a 1-D array"):
        th.quadratic_sgd_moments([[0.1]], 1.0, 0.1)
    with pytest.raises(ValueError, match=r"lrs must be a 1-D array"):
        th.quadratic_sgd_moments([0.1, np.nan], 1.0, 0.1)
    with pytest.raises(ValueError, match=r"sigma must be in \[0.0, inf\)"):
        th.quadratic_sgd_moments([0.1], 1.0, -0.1)
    with pytest.raises(ValueError, match=r"theta1 must be"):
        th.quadratic_sgd_moments([0.1], float("inf"), 0.1)
    with pytest.raises(ValueError, match=r"curvature must be a finite real number > 0"):
        th.quadratic_sgd_moments([0.1], 1.0, 0.1, curvature=0)


def test_standard_shapes():
    T = 30
    shapes = th.standard_shapes(T)
    assert list(shapes) == ["constant", "1/sqrt(t)", "cosine", "step (3 stages, x0.1)",
                            "linear"]
    k = np.arange(T)
    np.testing.assert_allclose(shapes["1/sqrt(t)"], 1 / np.sqrt(k + 1))
    np.testing.assert_allclose(shapes["cosine"], 0.5 * (1 + np.cos(np.pi * k / T)))
    np.testing.assert_allclose(shapes["linear"], 1 - k / T)
    np.testing.assert_allclose(np.unique(shapes["step (3 stages, x0.1)"]), [0.01, 0.1, 1.0])
    for name, eta in shapes.items():
        assert eta.shape == (T,) and eta.max() == 1.0 and eta[-1] > 0, name
        th.last_iterate_bound(eta)  # valid input for the bound
    with pytest.raises(ValueError, match=r"T must be an integer >= 1"):
        th.standard_shapes(0)
