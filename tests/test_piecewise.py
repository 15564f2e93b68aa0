"""Tests for lrnotes.theory.piecewise: the notes' sawtooth, continuous polylines, and the fit."""

import numpy as np
import pytest

from lrnotes.theory import piecewise as P
from lrnotes import schedules as S
from lrnotes import theory as th


def test_one_piece_is_linear_decay():
    T = 50
    lin = S.linear(T)(np.arange(T))
    np.testing.assert_allclose(P.sawtooth(T, [], [1.0]), lin, rtol=0, atol=1e-15)
    np.testing.assert_allclose(P.polyline(T, [], []), lin, rtol=0, atol=1e-15)


def test_sawtooth_by_hand():
    lrs = P.sawtooth(10, [4], [2.0, 1.0])
    np.testing.assert_allclose(lrs[:4], 2.0 * (1 - np.arange(4) / 4))
    np.testing.assert_allclose(lrs[4:], 1.0 * (1 - np.arange(6) / 6))
    assert lrs[4] == 1.0 and lrs[-1] > 0       # restarts; eta_T > 0


def test_polyline_is_continuous_through_knots():
    lrs = P.polyline(10, [4], [0.5])
    np.testing.assert_allclose(lrs, np.interp(np.arange(10), [0, 4, 10], [1.0, 0.5, 0.0]))


def test_fit_polyline_between_optimum_and_linear():
    T = 60
    f = P.fit(T, "polyline", starts=2, maxiter=800)
    opt = th.optimal_schedule(T, 1.0, 1.0).bound
    assert opt * (1 - 1e-9) <= f.bound <= f.linear * (1 + 1e-9)
    assert th.tune_peak(f.lrs, 1.0, 1.0)[1] == pytest.approx(f.bound, rel=1e-12)
    assert f.breaks.shape == (2,) and f.slopes.shape == (3,)


def test_fit_sawtooth_fixed_breaks_pays_for_restarts():
    T = 100
    f = P.fit(T, "sawtooth", breaks=[30, 70], starts=2, maxiter=800)
    np.testing.assert_allclose(f.breaks, [30, 70])
    assert f.bound > 1.03 * f.linear                # a restart to zero costs
    assert np.all(np.diff(f.heights) < 0)           # later pieces start lower
    # slopes are -scale * alpha_i / length_i
    np.testing.assert_allclose(f.slopes, -f.lrs[[0, 30, 70]] / np.array([30, 40, 30]))


def test_min_frac_keeps_pieces_long():
    f = P.fit(80, "polyline", min_frac=0.2, starts=1, maxiter=400)
    lengths = np.diff(np.concatenate([[0], f.breaks, [80]]))
    assert np.all(lengths >= 0.2 * 80 - 1e-9)


@pytest.mark.parametrize("call, pattern", [
    (lambda: P.sawtooth(1, [], [1.0]), r"T must be an integer >= 2"),
    (lambda: P.sawtooth(10, [5, 3], [1, 1, 1]), r"strictly increasing"),
    (lambda: P.sawtooth(10, [5], [1.0]), r"peaks must be 2 finite numbers"),
    (lambda: P.polyline(10, [12], [0.5]), r"strictly increasing inside \(0, T=10\)"),
    (lambda: P.polyline(10, [5], [-0.5]), r"values must be 1 finite numbers >= 0"),
    (lambda: P.fit(10, "spline"), r"kind must be one of"),
    (lambda: P.fit(10, pieces=3, min_frac=0.4), r"min_frac must be in"),
    (lambda: P.fit(10, pieces=3, breaks=[5]), r"breaks must hold pieces - 1 = 2"),
])
def test_bad_input(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()


def test_fit_is_global_and_beats_simple_candidates():
    T = 100
    f = P.fit(T, "polyline")
    m = P.fit(T, "polyline", monotone=True)
    opt = th.optimal_schedule(T, 1.0, 1.0).bound
    ceiling = 1 - opt / f.linear
    assert 1 - f.bound / f.linear >= 0.95 * ceiling      # nearly all of the ceiling
    lifted = th.tune_peak(P.polyline(T, [T - 2, T - 1], [2 / T, 8 / T]))[1]
    assert f.bound <= min(lifted, m.bound, f.linear)
    assert np.all(np.diff(m.lrs) <= 1e-15) and m.bound < f.linear
    with pytest.raises(ValueError, match="pieces must be <= 4"):
        P.fit(T, pieces=5)
