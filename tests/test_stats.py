"""Tests for lrnotes.stats: Wilson intervals, differences of proportions, means."""

import numpy as np
import pytest
from scipy import stats as sps

from lrnotes import stats


def test_wilson_known_values():
    # textbook values (e.g. statsmodels' proportion_confint(..., method="wilson"))
    p, lo, hi = stats.wilson(5, 10)
    assert p == 0.5 and lo == pytest.approx(0.236593, abs=1e-6) and hi == pytest.approx(0.763407, abs=1e-6)
    p, lo, hi = stats.wilson(0, 10)
    assert p == 0.0 and lo == 0.0 and hi == pytest.approx(0.277533, abs=1e-6)
    p, lo, hi = stats.wilson(10, 10)
    assert lo == pytest.approx(1 - 0.277533, abs=1e-6) and hi == 1.0


def test_wilson_vectorised_and_narrower_with_more_trials():
    p, lo, hi = stats.wilson(np.array([10, 100, 1000]), np.array([20, 200, 2000]))
    assert p.shape == (3,) and np.all(p == 0.5)
    width = hi - lo
    assert np.all(np.diff(width) < 0)
    # for large n it approaches the normal interval 1.96 sqrt(p(1-p)/n)
    assert width[-1] / 2 == pytest.approx(1.959964 * np.sqrt(0.25 / 2000), rel=1e-3)


def test_wilson_covers_at_about_the_nominal_rate():
    rng = np.random.default_rng(0)
    n, p_true = 200, 0.13
    k = rng.binomial(n, p_true, size=20_000)
    _, lo, hi = stats.wilson(k, n)
    cover = np.mean((lo <= p_true) & (p_true <= hi))
    assert 0.93 < cover < 0.97


def test_diff_ci():
    d, half = stats.diff_ci(600, 1000, 500, 1000)
    assert d == pytest.approx(0.1)
    assert half == pytest.approx(1.959964 * np.sqrt(0.24 / 1000 + 0.25 / 1000), rel=1e-6)
    d, half = stats.diff_ci(np.array([1, 2]), 10, 1, 10)
    assert d.shape == half.shape == (2,)


def test_mean_ci_student_and_normal():
    a = np.array([[1.0, 2.0, 3.0, 4.0], [2.0, 2.0, 2.0, 2.0]])
    m, h = stats.mean_ci(a, axis=1)
    assert np.allclose(m, [2.5, 2.0])
    q = sps.t.ppf(0.975, 3)
    assert h[0] == pytest.approx(q * np.std(a[0], ddof=1) / 2) and h[1] == 0.0
    m, h = stats.mean_ci(a, axis=1, student=False)
    assert h[0] == pytest.approx(1.959964 * np.std(a[0], ddof=1) / 2, rel=1e-6)


@pytest.mark.parametrize("call, match", [
    (lambda: stats.wilson(11, 10), "k must"),
    (lambda: stats.wilson(-1, 10), "k must"),
    (lambda: stats.wilson(1.5, 10), "k must"),
    (lambda: stats.wilson(1, 0), "n must"),
    (lambda: stats.wilson(1, 10, confidence=1.0), "confidence"),
    (lambda: stats.diff_ci(1, 10, 11, 10), "k must"),
    (lambda: stats.mean_ci(np.ones(1)), "at least 2"),
    (lambda: stats.mean_ci(3.0), "at least one axis"),
])
def test_bad_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_best_inside_returns_interior_best():
    grid = [0.1, 0.2, 0.4, 0.8]
    assert stats.best_inside(grid, [3.0, 1.0, 2.0, 4.0]) == 1
    assert stats.best_inside(grid, [1.0, 3.0, 2.0, 0.0], mode="max") == 1
    assert stats.best_inside(grid, [np.nan, 2.0, 1.0, np.inf]) == 2   # diverged = worst


@pytest.mark.parametrize("values, mode, side", [
    ([1.0, 2.0, 3.0, 4.0], "min", "lower"),
    ([4.0, 3.0, 2.0, 1.0], "min", "upper"),
    ([4.0, 3.0, 2.0, 1.0], "max", "lower"),
])
def test_best_inside_refuses_an_edge(values, mode, side):
    with pytest.raises(stats.EdgeError, match=f"peak: the best value .* {side} edge"):
        stats.best_inside([0.1, 0.2, 0.4, 0.8], values, what="peak", mode=mode)


def test_best_inside_bad_input():
    with pytest.raises(stats.EdgeError, match="no finite value"):
        stats.best_inside([1, 2, 3], [np.nan] * 3)
    with pytest.raises(ValueError, match="same length >= 3"):
        stats.best_inside([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="mode must be"):
        stats.best_inside([1, 2, 3], [2.0, 1.0, 2.0], mode="best")
    assert issubclass(stats.EdgeError, ValueError)


# ------------------------------------------------------------ se and mostly (were copied in notebooks)
def test_se_is_sd_over_root_n_and_refuses_one_value():
    a = np.array([[1.0, 2.0, 4.0], [0.0, 0.0, 3.0]])
    np.testing.assert_allclose(stats.se(a), a.std(axis=-1, ddof=1) / np.sqrt(3))
    assert isinstance(stats.se([1.0, 3.0]), float)
    with pytest.raises(ValueError, match="at least 2"):
        stats.se([1.0])


def test_mostly_needs_both_the_median_and_the_share():
    assert stats.mostly([1, 1, 1, -1])            # 3 of 4 > 0, median > 0
    assert not stats.mostly([1, 1, -1, -1])       # half
    assert not stats.mostly([5, 0.1, 0.1, -1, -1, -1, -1, -1])  # a big mean, a negative median
    assert stats.mostly([1, 1, -1, -1], share=0.5) is False  # median 0 is not > 0
    with pytest.raises(ValueError, match="share"):
        stats.mostly([1.0], share=1.5)
    with pytest.raises(ValueError, match="diff"):
        stats.mostly([np.nan, 1.0])


def test_doctests_of_stats_run():
    import doctest

    assert doctest.testmod(stats, verbose=False).failed == 0
