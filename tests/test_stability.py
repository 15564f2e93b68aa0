"""Tests for lrnotes.sim.stability: heavy-ball rates and thresholds, scheduled GD, Robbins–Monro sums."""

import numpy as np
import pytest

from lrnotes import schedules as S
from lrnotes.sim import sgd
from lrnotes.sim import stability as ST
from lrnotes.sim.landscapes import Quadratic


def test_rate_is_the_spectral_radius_of_the_companion_matrix():
    rng = np.random.default_rng(0)
    eta, lam, beta = rng.uniform(0, 3, 500), rng.uniform(0, 3, 500), rng.uniform(0, 0.999, 500)
    A = ST.heavy_ball_matrix(eta, lam, beta)
    assert A.shape == (500, 2, 2)
    expected = np.abs(np.linalg.eigvals(A)).max(axis=-1)
    np.testing.assert_allclose(ST.heavy_ball_rate(eta, lam, beta), expected, rtol=1e-6, atol=1e-8)


def test_plain_gd_rate_and_threshold():
    eta = np.linspace(0, 1, 11)
    np.testing.assert_allclose(ST.heavy_ball_rate(eta, 4.0), np.abs(1 - 4.0 * eta))
    assert ST.heavy_ball_threshold(4.0) == 0.5
    assert ST.heavy_ball_threshold(4.0, 0.9) == pytest.approx(0.95)


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.9, 0.99])
def test_stable_exactly_below_two_one_plus_beta_over_L(beta):
    L = 2.5
    crit = ST.heavy_ball_threshold(L, beta)
    assert np.all(ST.heavy_ball_rate(crit * np.array([0.2, 0.9, 0.999]), L, beta) < 1)
    assert np.all(ST.heavy_ball_rate(crit * np.array([1.001, 1.1, 2.0]), L, beta) > 1)
    assert ST.heavy_ball_rate(crit, L, beta) == pytest.approx(1.0)


def test_rate_matches_a_simulated_heavy_ball_run():
    lam, beta, eta, n = 2.0, 0.3, 0.1, 200   # real roots 0.6 and 0.5
    res = sgd.simulate(Quadratic(lam), np.full(n, eta), [1.0], 1, np.random.default_rng(0),
                       momentum=beta, metric=lambda x: np.abs(x[..., 0]))
    rate = (res.mean[n] / res.mean[n // 2]) ** (1 / (n // 2))
    assert rate == pytest.approx(ST.heavy_ball_rate(eta, lam, beta), rel=1e-9)
    assert ST.heavy_ball_rate(eta, lam, beta) == pytest.approx(0.6)


def test_log_growth_is_the_product_that_gd_applies():
    rng = np.random.default_rng(1)
    lrs = rng.uniform(0, 1.2, (3, 50))
    lam = 2.0
    g = ST.log_growth(lrs, lam)
    np.testing.assert_allclose(np.exp(g), np.cumprod(np.abs(1 - lrs * lam), axis=-1), rtol=1e-12)
    res = sgd.simulate(Quadratic(lam), lrs, [1.0], 1, np.random.default_rng(0), trace=1)
    np.testing.assert_allclose(np.abs(res.trace[:, 1:, 0, 0]), np.exp(g), rtol=1e-9)
    assert ST.log_growth([0.5], 2.0)[0] == -np.inf    # an exact zero factor


def test_partial_sums_match_a_direct_cumsum_across_chunks():
    sched = S.sgdr(7, mult=2, peak=0.5, peak_decay=0.6)
    T = np.array([1, 3, 7, 8, 50, 99, 100])
    s1, s2 = ST.partial_sums(sched, T, chunk=6)
    eta = sched(np.arange(100))
    np.testing.assert_allclose(s1, np.cumsum(eta)[T - 1], rtol=1e-12)
    np.testing.assert_allclose(s2, np.cumsum(eta**2)[T - 1], rtol=1e-12)
    a, b = ST.partial_sums(sched, 50)
    assert a.shape == () and float(a) == pytest.approx(s1[4])


def test_partial_sums_of_one_over_t():
    sched = S.inv_t(S.constant(1.0), t0=1.0)          # 1/(t+1): harmonic numbers
    s1, s2 = ST.partial_sums(sched, [10, 1000])
    H = lambda n: np.sum(1.0 / np.arange(1, n + 1))
    assert s1[0] == pytest.approx(H(10)) and s1[1] == pytest.approx(H(1000))
    assert s2[1] == pytest.approx(np.sum(1.0 / np.arange(1, 1001) ** 2))


def test_decade_ratios_tell_converging_from_diverging():
    T = np.logspace(1, 5, 5).astype(int)
    const = ST.decade_ratios(T.astype(float))              # sum of ones
    np.testing.assert_allclose(const, 10.0)
    _, sq = ST.partial_sums(S.inv_t(S.constant(1.0), t0=1.0), T)
    assert np.all(ST.decade_ratios(sq)[1:] < 0.15)
    s1, _ = ST.partial_sums(S.inv_t(S.constant(1.0), t0=1.0), T)
    assert np.all(np.abs(ST.decade_ratios(s1)[1:] - 1) < 0.05)


def test_bad_arguments():
    with pytest.raises(ValueError, match="beta"):
        ST.heavy_ball_rate(0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="eta"):
        ST.heavy_ball_matrix(-0.1, 1.0)
    with pytest.raises(ValueError, match="L"):
        ST.heavy_ball_threshold(0.0)
    with pytest.raises(ValueError, match="beta"):
        ST.heavy_ball_threshold(1.0, -0.1)
    with pytest.raises(ValueError, match="lrs"):
        ST.log_growth([np.nan], 1.0)
    with pytest.raises(ValueError, match="sched"):
        ST.partial_sums(lambda t: t, 10)
    for bad in (0, [10, 5], [2.5], "10", []):
        with pytest.raises(ValueError, match="upto"):
            ST.partial_sums(S.constant(1.0), bad)
    with pytest.raises(ValueError, match="chunk"):
        ST.partial_sums(S.constant(1.0), 10, chunk=0)
    with pytest.raises(ValueError, match="sums"):
        ST.decade_ratios([1.0, 2.0])


def test_scan_finds_the_thresholds_and_the_rates():
    q = Quadratic([0.1, 1.0, 4.0])
    L = q.L
    ratio = np.round(np.linspace(0.8, 2.1, 261), 6)
    betas = [0.0, 0.5, 0.95]
    scan = ST.scan_constant_steps(q, ratio * 2 / L, betas, steps=400)
    assert scan.diverges.shape == scan.rate.shape == (3, 261)
    theory = np.array([ST.heavy_ball_threshold(L, b) for b in betas])
    step = (ratio[1] - ratio[0]) * 2 / L
    assert np.all(scan.threshold >= theory - 1e-12) and np.all(scan.threshold <= theory + 1.5 * step)
    rho = ST.heavy_ball_rate(scan.lrs[None, :, None], q.eigenvalues, np.array(betas)[:, None, None]).max(-1)
    ok = np.isfinite(scan.rate)
    assert ok.sum() > 300
    np.testing.assert_allclose(scan.rate[ok], rho[ok], rtol=0.01)
    none = ST.scan_constant_steps(q, [0.1, 0.2], steps=100)
    assert none.threshold.tolist() == [np.inf]
    with pytest.raises(ValueError, match="lrs"):
        ST.scan_constant_steps(q, [0.2, 0.1])
    with pytest.raises(ValueError, match="beta"):
        ST.scan_constant_steps(q, [0.1], [1.0])
    with pytest.raises(ValueError, match="steps"):
        ST.scan_constant_steps(q, [0.1], steps=4)
