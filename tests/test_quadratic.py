"""Tests for lrnotes.sim.moments: exact moments of SGD on a noisy quadratic."""

import numpy as np
import pytest

from lrnotes.sim import landscapes, sgd
from lrnotes.sim import moments as Q


def _schedules(T):
    k = np.arange(1, T)
    return np.stack([1 / np.sqrt(k), 0.5 * (1 + np.cos(np.pi * k / T)), 1 - k / (T + 1), 1 / k])


def test_terminal_moments_equal_the_recursion():
    lrs = _schedules(50)
    m, v = Q.terminal_moments(lrs, 5.0, 0.3, curvature=0.7)
    mm, vv = Q.moments(lrs, 5.0, 0.3, curvature=0.7)
    np.testing.assert_allclose(m, mm[:, -1], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(v, vv[:, -1], rtol=1e-12)
    assert mm.shape == (4, 50) and np.all(vv[:, 0] == 0) and np.all(mm[:, 0] == 5.0)


def test_one_over_t_averages_the_noise():
    # eta_t = 1/t: theta_T = -(xi_1 + ... + xi_{T-1}) / (T-1), variance sigma^2/(T-1), mean 0
    for T in (2, 10, 1000):
        lrs = 1.0 / np.arange(1, T)
        m, v = Q.terminal_moments(lrs, 5.0, 0.1)
        assert m == 0.0 and np.isclose(v, 0.01 / (T - 1), rtol=1e-12)
        w = Q.noise_weights(lrs)
        np.testing.assert_allclose(w, 1.0 / (T - 1) ** 2, rtol=1e-12)


def test_constant_step_reaches_the_stationary_variance():
    eta, h, sigma = 0.1, 2.0, 0.5
    m, v = Q.terminal_moments(np.full(2000, eta), 1.0, sigma, curvature=h)
    assert abs(m) < 1e-100
    assert np.isclose(v, sigma**2 * eta / (h * (2 - h * eta)), rtol=1e-12)


def test_noise_weights_handle_a_zero_factor_and_sum_to_the_variance():
    lrs = np.array([0.3, 1.0, 0.2, 0.5])          # eta = 1: everything before is forgotten
    w = Q.noise_weights(lrs)
    assert w[0] == 0.0 and w[1] > 0
    expected = [0.0, 1.0 * 0.8**2 * 0.5**2, 0.2**2 * 0.5**2, 0.5**2]
    np.testing.assert_allclose(w, expected, rtol=1e-15)
    np.testing.assert_allclose(Q.terminal_moments(lrs, 3.0, 1.0)[1], sum(expected), rtol=1e-15)


def test_monte_carlo_agrees_with_the_exact_moments():
    lrs = _schedules(40)
    m, v = Q.terminal_moments(lrs, 5.0, 0.1)
    run = sgd.simulate(landscapes.Quadratic(1.0), lrs, [5.0], 20_000, np.random.default_rng(3),
                       sigma=0.1, record_every=None)
    x = run.x[..., 0]
    assert np.all(np.abs(x.mean(1) - m) < 4 * np.sqrt(v / 20_000))
    assert np.all(np.abs(x.var(1, ddof=1) / v - 1) < 4 * np.sqrt(2 / 20_000))


@pytest.mark.parametrize("bad, match", [
    (dict(lrs=[]), "lrs must have shape"),
    (dict(lrs=[0.1, -0.1]), "finite and >= 0"),
    (dict(lrs=[0.1, np.nan]), "finite and >= 0"),
    (dict(sigma=-1.0), "sigma"),
    (dict(curvature=0.0), "curvature"),
    (dict(theta0=np.inf), "theta0"),
])
def test_bad_arguments_get_clear_errors(bad, match):
    args = dict(lrs=[0.1, 0.2], theta0=1.0, sigma=0.1, curvature=1.0) | bad
    with pytest.raises(ValueError, match=match):
        Q.terminal_moments(args["lrs"], args["theta0"], args["sigma"], args["curvature"])
    with pytest.raises(ValueError, match=match):
        Q.moments(args["lrs"], args["theta0"], args["sigma"], args["curvature"])


def test_one_recursion_three_views():
    """theory.quadratic_sgd_moments, sim.moments and the thermostat's matrix form agree."""
    from lrnotes import theory as th
    from lrnotes.sim import landscapes as L
    from lrnotes.sim import thermostat as TH

    lrs = np.array([0.3, 0.1, 0.7, 0.05, 0.2])
    mean, var = Q.moments(lrs, 2.0, 0.5, curvature=1.5)
    tm = th.quadratic_sgd_moments(lrs, 2.0, 0.5, curvature=1.5)
    np.testing.assert_array_equal(tm.mean, mean)
    np.testing.assert_array_equal(tm.var, var)
    mm = TH.quadratic_moments(L.Quadratic(np.array([[1.5]])), lrs, np.array([2.0]), sigma=0.5)
    np.testing.assert_allclose(mm.loss, 0.75 * (mean**2 + var), rtol=1e-13)
