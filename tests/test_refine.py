"""Tests for lrnotes.theory.refine (a schedule refined from logged gradient norms) and the
per-step form of the last-iterate bound in lrnotes.theory."""

import numpy as np
import pytest
import torch

from lrnotes.theory import refine as R
from lrnotes import schedules as S
from lrnotes import theory as th


def brute_force_per_step_bound(eta, G, D=1.0):
    """O(T^2) transcription of the full bound with E|g_t|^2 <= G_t^2."""
    eta, G = list(map(float, eta)), list(map(float, G))
    T = len(eta)
    suf = lambda k: sum(eta[k:])  # noqa: E731
    sq = lambda k: sum(e * e * g * g for e, g in zip(eta[k:], G[k:]))  # noqa: E731
    val = (D * D + sq(0)) / (2 * suf(0))
    for k in range(T - 1):
        val += 0.5 * (1 / suf(k + 1) - 1 / suf(k)) * sq(k)
    return val


# --------------------------------------------------------------------------- theory, per-step G
def test_per_step_bound_matches_brute_force_and_constant_G():
    rng = np.random.default_rng(0)
    for T in (1, 2, 7, 40):
        eta = rng.uniform(0.1, 2.0, T)
        G = rng.uniform(0.5, 3.0, T)
        assert th.last_iterate_bound(eta, 1.5, G) == pytest.approx(
            brute_force_per_step_bound(eta, G, 1.5), rel=1e-12)
        # a constant array is the scalar bound
        assert th.last_iterate_bound(eta, 1.5, np.full(T, 2.0)) == pytest.approx(
            th.last_iterate_bound(eta, 1.5, 2.0), rel=1e-12)
    batch = rng.uniform(0.1, 1.0, (3, 10))
    G = rng.uniform(0.5, 2.0, 10)
    assert np.allclose(th.last_iterate_bound(batch, 1.0, G),
                       [th.last_iterate_bound(b, 1.0, G) for b in batch], rtol=1e-13)


def test_per_step_bad_input():
    with pytest.raises(ValueError, match=r"per-step G must have shape \(3,\)"):
        th.last_iterate_bound([1.0, 1.0, 1.0], 1.0, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"per-step G must be finite and > 0"):
        th.last_iterate_bound([1.0, 1.0], 1.0, [1.0, 0.0])
    with pytest.raises(ValueError, match=r"form='full'"):
        th.last_iterate_bound([1.0, 1.0], 1.0, [1.0, 2.0], form="simplified")
    with pytest.raises(ValueError, match=r"form='full'"):
        th.optimal_schedule(4, 1.0, np.ones(4), form="simplified")
    with pytest.raises(ValueError, match=r"G must be a finite real number > 0"):
        th.last_iterate_bound([1.0, 1.0], 1.0, -1.0)  # scalars keep their message


def test_optimal_schedule_per_step_constant_equals_scalar():
    T = 30
    a = th.optimal_schedule(T, 1.0, np.full(T, 2.0))
    b = th.optimal_schedule(T, 1.0, 2.0)
    assert a.converged and b.converged
    assert a.bound == pytest.approx(b.bound, rel=1e-8)


# --------------------------------------------------------------------------- the refinement rule
@pytest.mark.parametrize("T", [1, 2, 10, 257])
def test_constant_norms_give_linear_decay(T):
    for g in (1.0, 0.37, 12.5):
        sched = R.refine(np.full(T, g), peak=0.3)
        t = np.concatenate([np.arange(T + 3), np.arange(T) + 0.25])
        np.testing.assert_allclose(sched(t), S.linear(T, peak=0.3)(t), rtol=0, atol=1e-15)
        assert sched.total == T


def test_shape_of_shrinking_norms_matches_closed_form():
    """G_k^2 = 1/k: c_k = k, sum_{p>=k} p = (T(T+1) - k(k-1))/2, eta_k ∝ k (T(T+1) - k(k-1))."""
    T = 50
    k = np.arange(1, T + 1)
    eta = R.refined_lrs(1.0 / np.sqrt(k))
    theory = k * (T * (T + 1) - k * (k - 1))
    np.testing.assert_allclose(eta, theory / theory.max(), rtol=1e-13)
    # the shape rises (a warmup) and then falls: peak at the maximiser of the cubic
    assert 0 < np.argmax(eta) < T - 1


def test_geometric_norms():
    """G_k^-2 = r^k: eta_k ∝ r^k (r^k - r^(T+1)) / (1 - r)."""
    T, r = 40, 1.05
    k = np.arange(1, T + 1)
    eta = R.refined_lrs(r ** (-k / 2.0))
    theory = r**k * (r**k - r ** (T + 1)) / (1 - r)
    np.testing.assert_allclose(eta, theory / theory.max(), rtol=1e-11)


def test_refined_rule_nearly_minimises_the_per_step_bound():
    """The closed form is the continuum minimiser; the discrete bound agrees to ~2 %,
    and it beats linear decay by far when the norms change."""
    T = 120
    k = np.arange(1, T + 1)
    for G in (1.0 / np.sqrt(k), np.linspace(1.0, 3.0, T)):
        _, b_ref = th.tune_peak(R.refined_lrs(G), 1.0, G)
        _, b_lin = th.tune_peak(S.linear(T)(np.arange(T)), 1.0, G)
        opt = th.optimal_schedule(T, 1.0, G, init=np.ones(T))
        assert opt.converged
        assert 1.0 <= b_ref / opt.bound < 1.03
        assert b_lin / opt.bound > 1.15


def test_warmup_from_large_early_norms():
    g = np.ones(100)
    g[:20] = 4.0
    eta = R.refined_lrs(g)
    assert eta[0] < 0.1 * eta.max() and np.argmax(eta) == 20


# --------------------------------------------------------------------------- smoothing and input
def test_smoothing_removes_spikes_keeps_trend():
    rng = np.random.default_rng(1)
    T = 400
    trend = np.linspace(1.0, 2.0, T)
    noisy = trend * rng.lognormal(0.0, 0.3, T)
    noisy[::37] *= 20.0                                  # spikes
    sm = R.smooth_norms(noisy)                          # default width
    assert np.max(np.abs(sm / trend - 1)) < 0.25
    assert np.max(np.abs(noisy / trend - 1)) > 5
    assert np.array_equal(R.smooth_norms(noisy, 0.0), noisy)
    assert R.SMOOTH == 0.05


def test_norm_profile_rms_and_train_result():
    a = np.array([[3.0, 0.0], [4.0, 2.0]])
    np.testing.assert_allclose(R.norm_profile(a), [np.sqrt(12.5), np.sqrt(2.0)])

    from lrnotes.nets import data, train
    d = data.digits(seed=0)
    res = train.train(d, {"c": S.constant(0.1), "l": S.linear(30, 0.1)}, [0, 1], 30)
    prof = R.norm_profile(res, group=1)
    np.testing.assert_allclose(prof, np.sqrt(np.mean(res.grad_norm[1] ** 2, axis=0)))
    sched = R.refine(res, peak=0.1, group=0)
    assert sched.total == 30 and sched(0) <= 0.1 + 1e-15 and sched(30) == 0.0
    # the refined schedule drives a real torch optimizer
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=1.0)
    sch = S.to_torch(opt, sched)
    seen = []
    for _ in range(30):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    np.testing.assert_allclose(seen, sched(np.arange(30)), rtol=1e-15)
    with pytest.raises(ValueError, match=r"group must be in \[0, 2\)"):
        R.norm_profile(res, group=2)


@pytest.mark.parametrize("log, pattern", [
    ([], r"non-empty"),
    (np.zeros((2, 0)), r"non-empty"),
    (np.ones((2, 2, 2)), r"shape \(T,\) or \(runs, T\)"),
    ([1.0, float("nan"), 1.0], r"finite.*NaN"),
    ([1.0, float("inf")], r"finite"),
    ([1.0, -0.5], r">= 0"),
    ("abc", r"array of gradient norms"),
])
def test_bad_norms(log, pattern):
    with pytest.raises(ValueError, match=pattern):
        R.refine(log)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"total must equal the number of logged steps, 5"):
        R.refine(np.ones(5), total=6)
    with pytest.raises(ValueError, match=r"total must be an integer >= 1"):
        R.refine(np.ones(5), total=0)
    with pytest.raises(ValueError, match=r"> 0 everywhere to refine"):
        R.refine([1.0, 0.0, 1.0], smooth=0.0)
    with pytest.raises(ValueError, match=r"width must be in \[0.0, 1.0\)"):
        R.refine(np.ones(5), smooth=1.0)
    with pytest.raises(ValueError, match=r"peak must be"):
        R.refine(np.ones(5), peak=-1.0)


def test_piecewise_linear():
    s = R.piecewise_linear([0, 10, 20], [1.0, 0.5, 0.0])
    assert s.total == 20
    np.testing.assert_allclose(s([0, 5, 10, 15, 20, 30]), [1.0, 0.75, 0.5, 0.25, 0.0, 0.0])
    assert R.piecewise_linear([0], [0.3])(100) == 0.3
    for steps, values, pattern in [([1, 2], [1, 1], "starting at 0"),
                                   ([0, 2, 2], [1, 1, 1], "strictly increasing"),
                                   ([0, 1.5], [1, 1], "integers"),
                                   ([0, 1], [1, -1], ">= 0"),
                                   ([0, 1], [1], "same length"),
                                   ([], [], "same length")]:
        with pytest.raises(ValueError, match=pattern):
            R.piecewise_linear(steps, values)
