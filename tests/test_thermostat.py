"""Tests for lrnotes.sim.thermostat: exact moments of SGD on a quadratic, and the noise-injection plan."""

import numpy as np
import pytest

from lrnotes.sim import sgd
from lrnotes.sim import thermostat as TH
from lrnotes.sim.landscapes import Quadratic

H2 = np.array([[2.0, 0.5], [0.5, 1.0]])          # a full (non-diagonal) SPD matrix


def test_moments_of_a_one_dimensional_run_in_closed_form():
    lam, eta, sigma, s, x0, n = 2.0, 0.25, 0.5, 0.3, 3.0, 40
    m = TH.quadratic_moments(Quadratic(lam), np.full(n, eta), [x0], sigma=sigma, inject=s)
    r = 1 - eta * lam
    q = eta**2 * sigma**2 + s**2
    t = np.arange(n + 1)
    ex2 = x0**2 * r ** (2 * t) + q * (1 - r ** (2 * t)) / (1 - r**2)
    np.testing.assert_allclose(m.loss, 0.5 * lam * ex2, rtol=1e-12)
    np.testing.assert_allclose(m.grad_sq, lam**2 * ex2, rtol=1e-12)
    np.testing.assert_allclose(m.step_sq, eta**2 * lam**2 * ex2[:-1] + q, rtol=1e-12)
    np.testing.assert_allclose(m.floor, eta**2 * (lam**2 * ex2[:-1] + sigma**2), rtol=1e-12)


def test_moments_match_monte_carlo_with_a_full_hessian():
    problem = Quadratic(H2, center=[1.0, -1.0])
    lrs = np.linspace(0.6, 0.05, 30)
    inject = np.linspace(0.0, 0.2, 30)
    x0 = np.array([3.0, 2.0])
    m = TH.quadratic_moments(problem, lrs, x0, sigma=0.7, inject=inject)
    N = 40_000
    res = sgd.simulate(problem, lrs, x0, N, np.random.default_rng(0), sigma=0.7, inject=inject)
    z = (res.mean[1:] - m.loss[1:]) / res.sem[1:]
    assert np.max(np.abs(z)) < 5
    assert res.mean[0] == pytest.approx(m.loss[0])


def test_thermostat_holds_K_where_it_can_and_stops_on_request():
    problem = Quadratic([0.5, 2.0])
    lrs = np.linspace(0.5, 0.01, 60)
    K = 0.1
    plan = TH.thermostat(problem, lrs, [2.0, 2.0], K, sigma=1.0)
    np.testing.assert_allclose(plan.step_sq, np.maximum(K, plan.floor), rtol=1e-12)
    assert np.all(plan.inject >= 0)
    assert np.array_equal(plan.active, plan.floor < K)
    assert plan.active[-1] and not plan.active[0]
    off = TH.thermostat(problem, lrs, [2.0, 2.0], K, sigma=1.0, until=40)
    assert not off.active[40:].any() and np.array_equal(off.active[:40], plan.active[:40])
    # the plan's moments are those of the same injection fed back in
    again = TH.quadratic_moments(problem, lrs, [2.0, 2.0], sigma=1.0, inject=plan.inject)
    np.testing.assert_allclose(again.loss, plan.loss, rtol=1e-12)


def test_thermostat_by_monte_carlo():
    problem = Quadratic([1.0, 3.0])
    lrs = np.linspace(0.3, 0.02, 40)
    x0 = np.array([1.0, -1.0])
    plan = TH.thermostat(problem, lrs, x0, 0.05, sigma=0.5)
    N = 20_000
    res = sgd.simulate(problem, lrs, x0, N, np.random.default_rng(3), sigma=0.5,
                       inject=plan.inject, trace=N)
    step2 = np.sum(np.diff(res.trace, axis=0) ** 2, axis=-1)
    z = (step2.mean(1) - plan.step_sq) / (step2.std(1, ddof=1) / np.sqrt(N))
    assert np.max(np.abs(z)) < 5


def test_stationary_loss_is_the_fixed_point_of_the_moments():
    problem = Quadratic(H2)
    eta, q = 0.3, 0.02
    m = TH.quadratic_moments(problem, np.full(3000, eta), [0.0, 0.0], inject=np.sqrt(q))
    assert m.loss[-1] == pytest.approx(TH.stationary_loss(problem, eta, q), rel=1e-9)
    # small steps: d T / 2 with T = q / (2 eta)
    small = TH.stationary_loss(problem, 1e-4, q)
    assert small == pytest.approx(2 * (q / 2e-4) / 2, rel=1e-3)


def test_effective_temperature():
    T = TH.effective_temperature(np.array([0.1, 0.2]), 1.0, np.array([0.0, 0.2]))
    np.testing.assert_allclose(T, [0.01 / 0.2, (0.04 + 0.04) / 0.4])
    with pytest.raises(ValueError, match="lrs"):
        TH.effective_temperature(0.0)
    with pytest.raises(ValueError, match="inject"):
        TH.effective_temperature(0.1, 1.0, -1.0)


def test_bad_arguments():
    q = Quadratic([1.0, 2.0])
    with pytest.raises(ValueError, match="Quadratic"):
        TH.quadratic_moments(object(), [0.1], [0.0, 0.0])
    with pytest.raises(ValueError, match="lrs"):
        TH.quadratic_moments(q, [[0.1]], [0.0, 0.0])
    with pytest.raises(ValueError, match="lrs"):
        TH.quadratic_moments(q, [-0.1], [0.0, 0.0])
    with pytest.raises(ValueError, match="x0"):
        TH.quadratic_moments(q, [0.1], [0.0])
    with pytest.raises(ValueError, match="sigma"):
        TH.quadratic_moments(q, [0.1], [0.0, 0.0], sigma=-1.0)
    with pytest.raises(ValueError, match="inject"):
        TH.quadratic_moments(q, [0.1, 0.1], [0.0, 0.0], inject=[0.1, np.nan])
    with pytest.raises(ValueError, match="K"):
        TH.thermostat(q, [0.1], [0.0, 0.0], -1.0)
    with pytest.raises(ValueError, match="until"):
        TH.thermostat(q, [0.1], [0.0, 0.0], 1.0, until=-1)
    with pytest.raises(ValueError, match="lr"):
        TH.stationary_loss(q, 1.0, 0.1)          # 1.0 = 2/L: not below it
