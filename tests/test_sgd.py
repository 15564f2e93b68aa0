"""Tests for lrnotes.sim.sgd: the noisy-L1 problem, the vectorised loop, bound >= measured."""

import numpy as np
import pytest

from lrnotes import schedules as S
from lrnotes.sim import sgd
from lrnotes import theory as th


def exact_gap(x, p):
    """f(x) - f_* by enumerating xi in {-1, 0, +1} (independent of NoisyL1.gap)."""
    x = np.asarray(x, dtype=float)
    f = p * np.abs(x) + (1 - p) / 2 * (np.abs(x - 1) + np.abs(x + 1))
    return np.sum(f - (1 - p), axis=-1)


def test_gap_formula_and_minimiser():
    prob = sgd.NoisyL1(dim=3, p_zero=0.3)
    rng = np.random.default_rng(0)
    x = rng.normal(scale=2.0, size=(500, 3))
    np.testing.assert_allclose(prob.gap(x), exact_gap(x, 0.3), rtol=1e-12, atol=1e-12)
    assert prob.gap(prob.x_star) == 0.0
    assert np.all(prob.gap(x) > 0)
    assert prob.f_star == pytest.approx(3 * 0.7)
    assert prob.G == pytest.approx(np.sqrt(3))


def test_subgradient_is_unbiased_and_bounded():
    prob = sgd.NoisyL1(dim=4, p_zero=0.25)
    rng = np.random.default_rng(1)
    x = np.array([0.5, -0.3, 1.7, -2.0])
    g = prob.subgradient(np.broadcast_to(x, (200_000, 4)).copy(), rng)
    assert np.all(np.sum(g * g, axis=1) <= prob.G ** 2)
    # E g = derivative of f: p sign(x) inside [-1, 1], sign(x) outside
    expected = np.where(np.abs(x) < 1, 0.25 * np.sign(x), np.sign(x))
    se = g.std(axis=0) / np.sqrt(g.shape[0])
    assert np.all(np.abs(g.mean(axis=0) - expected) < 5 * se + 1e-12)


def test_zero_learning_rate_stays_put_and_records():
    prob = sgd.NoisyL1(dim=2, p_zero=0.5)
    x1 = np.array([0.4, -0.2])
    res = sgd.run_sgd(prob, np.zeros(7), x1, 10, np.random.default_rng(0), record_every=3)
    np.testing.assert_array_equal(res.steps, [1, 4, 7, 8])
    np.testing.assert_allclose(res.mean, prob.gap(x1))
    np.testing.assert_allclose(res.sem, 0.0, atol=1e-12)
    assert res.final.shape == (10,)


def test_batch_shapes_and_reproducibility():
    prob = sgd.NoisyL1(dim=2, p_zero=0.5)
    lrs = np.stack([np.full(20, 0.1), np.linspace(0.2, 0.01, 20)])
    a = sgd.run_sgd(prob, lrs, np.ones(2), 50, np.random.default_rng(3))
    b = sgd.run_sgd(prob, lrs, np.ones(2), 50, np.random.default_rng(3))
    assert a.mean.shape == (2, 21) and a.final.shape == (2, 50)
    np.testing.assert_array_equal(a.mean, b.mean)
    c = sgd.run_sgd(prob, lrs, np.ones(2), 50, np.random.default_rng(4))
    assert not np.array_equal(a.mean, c.mean)
    m, s = a.at(21)
    np.testing.assert_allclose(m, a.final.mean(axis=1))


def test_sgd_makes_progress():
    prob = sgd.NoisyL1(dim=4, p_zero=0.2)
    res = sgd.run_sgd(prob, S.linear(300, peak=0.2)(np.arange(300)), np.ones(4), 2000,
                      np.random.default_rng(5))
    assert res.mean[-1] < 0.2 * res.mean[0]


@pytest.mark.parametrize("T", [20, 120])
def test_bound_holds_on_a_small_run(T):
    """Measured E[f(x_T) - f*] (+3 s.e.) stays under the last-iterate bound."""
    prob = sgd.NoisyL1(dim=3, p_zero=0.3)
    x1 = np.array([1.0, -0.5, 2.0])
    D = float(np.linalg.norm(x1 - prob.x_star))
    k = np.arange(T)
    shapes = np.stack([np.ones(T), S.inverse_sqrt()(k), S.linear(T)(k), S.cosine(T)(k)])
    for mult in (0.3, 1.0, 3.0):
        scale, _ = th.tune_peak(shapes, D, prob.G)
        lrs = mult * scale[:, None] * shapes
        bound = th.last_iterate_bound(lrs, D, prob.G)
        res = sgd.run_sgd(prob, lrs[:, :-1], x1, 3000, np.random.default_rng(T))
        mean, sem = res.at(T)
        assert np.all(mean + 3 * sem <= bound)


def test_bad_inputs():
    prob = sgd.NoisyL1()
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"dim must be an integer >= 1"):
        sgd.NoisyL1(dim=0)
    with pytest.raises(ValueError, match=r"p_zero must be a real number in \(0, 1\]"):
        sgd.NoisyL1(p_zero=0.0)
    with pytest.raises(ValueError, match=r"p_zero"):
        sgd.NoisyL1(p_zero=1.5)
    with pytest.raises(ValueError, match=r"lrs must be finite and >= 0"):
        sgd.run_sgd(prob, [0.1, -0.1], np.ones(4), 10, rng)
    with pytest.raises(ValueError, match=r"lrs must have shape"):
        sgd.run_sgd(prob, [], np.ones(4), 10, rng)
    with pytest.raises(ValueError, match=r"n_seeds must be an integer >= 2"):
        sgd.run_sgd(prob, [0.1], np.ones(4), 1, rng)
    with pytest.raises(ValueError, match=r"x1 must be a finite array of shape \(4,\)"):
        sgd.run_sgd(prob, [0.1], np.ones(3), 10, rng)
    with pytest.raises(ValueError, match=r"rng must be a numpy.random.Generator"):
        sgd.run_sgd(prob, [0.1], np.ones(4), 10, 0)
    with pytest.raises(ValueError, match=r"record_every must be an integer >= 1"):
        sgd.run_sgd(prob, [0.1], np.ones(4), 10, rng, record_every=0)
    res = sgd.run_sgd(prob, [0.1, 0.1], np.ones(4), 10, rng, record_every=2)
    with pytest.raises(ValueError, match=r"t must be one of the recorded iterates"):
        res.at(2)
