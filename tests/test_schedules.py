"""Unit and property tests of lrnotes.schedules (closed forms, combinators, errors)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrnotes import schedules as S

T = 1000
t = np.arange(T + 1)


# ----------------------------------------------------------------- closed forms
def test_scalar_and_array_agree():
    sched = S.cosine(100, peak=0.3, floor=0.01)
    arr = sched(np.arange(101))
    assert isinstance(sched(7), float)
    assert [sched(k) for k in range(101)] == list(arr)


def test_linear_is_the_sources_alpha_form():
    """eta_k = alpha (1 - k/(T+1)) for k = 1..T, with alpha = peak (T+1)/T."""
    peak, n = 0.2, 37
    k = np.arange(1, n + 1)
    alpha = peak * (n + 1) / n
    np.testing.assert_allclose(S.linear(n, peak=peak)(k - 1), alpha * (1 - k / (n + 1)), rtol=1e-12)
    assert S.linear(n, peak=peak)(n - 1) > 0 and S.linear(n, peak=peak)(n) == 0.0


def test_inverse_sqrt_theory_form():
    k = np.arange(1, 50)
    np.testing.assert_allclose(S.inverse_sqrt(peak=2.0)(k - 1), 2.0 / np.sqrt(k), rtol=1e-12)


def test_sgdr_non_integer_multiplier_cycles():
    sched = S.sgdr(10, mult=1.5, peak=1.0)
    # cycles start at 10, 25, 47.5, 81.25: the first integer step of each cycle is a restart
    assert list(sched.restart_steps(100)) == [10, 25, 48, 82]
    assert sched(10) == 1.0 and sched(25) == 1.0
    assert sched(47) < 0.01 < sched(48)  # 47 is the end of cycle 2, 48 the start of cycle 3


def test_sgdr_peak_decay_shrinks_each_cycle():
    sched = S.sgdr(20, mult=1.0, peak=1.0, floor=0.1, peak_decay=0.5)
    starts = np.array([0, 20, 40, 60])
    np.testing.assert_allclose(sched(starts), 0.1 + 0.9 * 0.5 ** np.arange(4))


def test_wsd_phases_and_cooldowns():
    for cooldown in S.COOLDOWNS:
        sched = S.wsd(100, peak=2.0, warmup=10, decay_frac=0.3, cooldown=cooldown, floor=0.1)
        assert sched(0) == 0.0 and sched(5) == pytest.approx(1.0)  # halfway up the warmup
        assert sched(10) == 2.0 and sched(69) == 2.0 and sched(70) == 2.0
        assert sched(100) == pytest.approx(0.1) and sched(150) == pytest.approx(0.1)
        assert np.all(np.diff(sched(np.arange(70, 101))) <= 0)
    assert S.wsd(100, decay_frac=0.3, cooldown="sqrt")(85) == pytest.approx(1 - math.sqrt(0.5))
    assert S.wsd(100, decay_frac=0.3, cooldown="cosine")(85) == pytest.approx(0.5)


def test_sequence_restarts_clock_of_each_piece():
    sched = S.sequence([S.constant(1.0), S.linear(10, peak=0.5)], boundaries=[5])
    np.testing.assert_allclose(sched(np.arange(17)), [1.0] * 5 + list(0.5 * (1 - np.arange(11) / 10)) + [0.0])
    assert sched.total == 15


def test_inv_t_envelope_meets_robbins_monro():
    t0 = 10.0
    sched = S.inv_t(S.sgdr(50, peak=1.0, floor=0.1), t0=t0)
    partial = np.cumsum(sched(np.arange(2_000_000)))
    decades = np.diff(partial[[1_999, 19_999, 199_999, 1_999_999]])
    # sum eta_t grows like log t: every decade adds about the same amount, so it diverges
    assert decades.min() > 0.8 * decades.max() > 0
    # sum eta_t^2 converges: the tail beyond N is at most t0^2 / N (inner <= 1)
    tail_sq = np.sum(sched(np.arange(100_000, 2_000_000)) ** 2)
    assert tail_sq < t0**2 / 100_000
    assert np.all(sched(np.arange(1000)) >= 0.1 * t0 / (np.arange(1000) + t0))  # floor survives


def test_bare_cyclical_schedule_violates_robbins_monro():
    # without the envelope the squares do not converge: every cycle adds the same amount
    sq = S.sgdr(50, peak=1.0, floor=0.1)(np.arange(10_000)) ** 2
    per_cycle = sq.reshape(-1, 50).sum(axis=1)
    np.testing.assert_allclose(per_cycle, per_cycle[0])


def test_floor_and_warmup_compose():
    sched = S.floor(S.warmup(S.linear(100, peak=1.0), steps=10), minimum=0.05)
    assert sched(0) == 0.05 and sched(100) == 0.05
    assert sched(10) == pytest.approx(0.9)


def test_retarget_linear_is_straight_line_to_new_end():
    base = S.linear(100, peak=1.0)
    new = S.retarget(base, at=60, total=80)
    steps = np.arange(60, 81)
    np.testing.assert_allclose(new(steps), base(60) * (80 - steps) / 20, atol=1e-15)
    np.testing.assert_array_equal(new(np.arange(60)), base(np.arange(60)))


def test_retarget_moves_restarts():
    inner = S.sequence([S.sgdr(10), S.linear(40)], boundaries=[30])  # restarts at 10, 20
    assert inner.total == 70 and list(inner.restart_steps(71)) == [10, 20]
    new = S.retarget(inner, at=15, total=125)  # the rest runs at half speed
    assert list(new.restart_steps(126)) == [10, 25]
    assert new(25) == inner(20) == 1.0


def test_source_wsd_snippet_bug_is_a_jump():
    """The sources' WSD (section 6.3) uses a duration as a boundary: the LR jumps to 1.5."""
    warmup_steps, stable_steps, decay_steps, total = 1000, 17000, 2000, 20000

    def source_wsd(step):
        if step < warmup_steps:
            return step / warmup_steps
        elif step < stable_steps:
            return 1.0
        return max(0.0, (total - step) / decay_steps)

    assert source_wsd(17000) == 1.5
    ours = S.wsd(total, warmup=warmup_steps, decay_frac=decay_steps / total)
    assert ours(np.arange(total + 1)).max() == 1.0


# ----------------------------------------------------------------- errors
BAD = [
    (lambda: S.linear(0), "total"),
    (lambda: S.linear(-5), "total"),
    (lambda: S.linear(10.5), "total"),
    (lambda: S.cosine(0), "total"),
    (lambda: S.linear(10, peak=-0.1), "peak"),
    (lambda: S.cosine(10, peak=float("nan")), "peak"),
    (lambda: S.cosine(10, floor=float("inf")), "floor"),
    (lambda: S.constant(-1.0), "value"),
    (lambda: S.step_decay(0), "step_size"),
    (lambda: S.step_decay(10, gamma=0.0), "gamma"),
    (lambda: S.step_decay(10, gamma=1.5), "gamma"),
    (lambda: S.inverse_sqrt(offset=0), "offset"),
    (lambda: S.sgdr(0), "period"),
    (lambda: S.sgdr(10, mult=0.5), "mult"),
    (lambda: S.sgdr(10, peak_decay=0.0), "peak_decay"),
    (lambda: S.triangular(10, low=0.5, high=0.1), "high"),
    (lambda: S.wsd(100, warmup=100), "warmup"),
    (lambda: S.wsd(100, warmup=150), "warmup"),
    (lambda: S.wsd(100, decay_frac=0.0), "decay_frac"),
    (lambda: S.wsd(100, decay_frac=1.2), "decay_frac"),
    (lambda: S.wsd(100, warmup=50, decay_frac=0.6), "decay_frac"),
    (lambda: S.wsd(100, cooldown="exp"), "cooldown"),
    (lambda: S.warmup(S.linear(100), steps=100), "steps"),
    (lambda: S.warmup(S.linear(100), steps=0), "steps"),
    (lambda: S.warmup(S.linear(100), steps=10, start=2.0), "start"),
    (lambda: S.warmup(lambda t: t, steps=10), "inner"),
    (lambda: S.floor(S.constant(), minimum=-1), "minimum"),
    (lambda: S.inv_t(S.constant(), t0=0), "t0"),
    (lambda: S.sequence([S.constant(), S.constant()], boundaries=[]), "boundaries"),
    (lambda: S.sequence([S.constant(), S.constant(), S.constant()], boundaries=[5, 5]), "boundaries"),
    (lambda: S.retarget(S.constant(), at=5, total=10), "budget"),
    (lambda: S.retarget(S.linear(100), at=100, total=200), "at"),
    (lambda: S.retarget(S.linear(100), at=50, total=50), "total"),
    (lambda: S.linear(10)(-1), "step"),
    (lambda: S.linear(10)(np.array([0.0, np.nan])), "step"),
]


@pytest.mark.parametrize("make, word", BAD, ids=[f"{i}-{w}" for i, (_, w) in enumerate(BAD)])
def test_bad_input_raises_clear_valueerror(make, word):
    with pytest.raises(ValueError, match=word):
        make()


def test_retarget_of_unbounded_schedule_raises():
    with pytest.raises(ValueError, match="budget"):
        S.retarget(S.sgdr(10, mult=1.0), at=25, total=60)


# ----------------------------------------------------------------- properties
finite_lr = st.floats(min_value=0.0, max_value=10.0, allow_nan=False)
budget = st.integers(min_value=1, max_value=5000)


@st.composite
def any_schedule(draw):
    total = draw(budget)
    peak = draw(st.floats(min_value=1e-6, max_value=10.0))
    kind = draw(st.sampled_from(["const", "step", "isqrt", "lin", "cos", "sgdr", "tri", "wsd"]))
    if kind == "const":
        s = S.constant(peak)
    elif kind == "step":
        s = S.step_decay(draw(st.integers(1, 500)), draw(st.floats(0.01, 1.0)), peak)
    elif kind == "isqrt":
        s = S.inverse_sqrt(peak, draw(st.floats(0.1, 1000)))
    elif kind == "lin":
        s = S.linear(total, peak, draw(st.floats(0.0, 1.0)) * peak)
    elif kind == "cos":
        s = S.cosine(total, peak, draw(st.floats(0.0, 1.0)) * peak)
    elif kind == "sgdr":
        s = S.sgdr(draw(st.integers(1, 300)), draw(st.floats(1.0, 3.0)), peak, 0.0, draw(st.floats(0.1, 1.0)))
    elif kind == "tri":
        s = S.triangular(draw(st.integers(1, 300)), 0.0, peak)
    else:
        w = draw(st.integers(0, total - 1))
        frac = draw(st.floats(0.01, 1.0)) * (total - w) / total
        s = S.wsd(total, peak, w, max(frac, 1e-9), draw(st.sampled_from(S.COOLDOWNS)))
    if draw(st.booleans()) and (s.total is None or s.total > 1):
        s = S.warmup(s, draw(st.integers(1, (s.total - 1) if s.total else 100)), draw(st.floats(0, 1)))
    return s


@settings(max_examples=150, deadline=None)
@given(any_schedule(), st.integers(0, 20_000))
def test_never_negative_or_nan(sched, horizon):
    lrs = sched(np.arange(horizon + 1))
    assert np.all(np.isfinite(lrs)) and np.all(lrs >= 0), sched


@settings(max_examples=100, deadline=None)
@given(budget, st.floats(1e-6, 10.0), st.integers(1, 400), st.floats(0.0, 1.0))
def test_warmup_is_non_decreasing(total, peak, steps, start):
    sched = S.warmup(S.constant(peak), steps=steps, start=start)
    assert np.all(np.diff(sched(np.arange(steps + 1))) >= 0)
    assert sched(steps) == pytest.approx(peak)


@settings(max_examples=100, deadline=None)
@given(budget, st.floats(1e-6, 10.0))
def test_linear_decay_reaches_zero_at_end_of_budget(total, peak):
    sched = S.linear(total, peak=peak)
    assert sched(total) == 0.0
    assert sched(total - 1) > 0.0          # the last update still moves (eta_T > 0)
    assert np.all(np.diff(sched(np.arange(total + 1))) < 0)


@settings(max_examples=150, deadline=None)
@given(any_schedule(), st.data())
def test_retarget_is_continuous_at_the_switch(sched, data):
    if sched.total is None or sched.total < 2:
        sched = S.linear(data.draw(st.integers(2, 5000)), peak=1.0)
    T_old = sched.total
    at = data.draw(st.integers(0, T_old - 1))
    T_new = data.draw(st.integers(at + 1, 3 * T_old + 10))
    new = S.retarget(sched, at=at, total=T_new)
    assert new(at) == sched(at)                                  # no jump at the switch
    np.testing.assert_array_equal(new(np.arange(at)), sched(np.arange(at)))
    assert new(T_new) == pytest.approx(sched(T_old), abs=1e-12)   # ends where the old one ended
    # the step right after the switch moves no more than the old schedule could over the
    # stretched interval (its largest change over (T-at)/(T'-at) steps)
    speed = (T_old - at) / (T_new - at)
    fine = sched(at + np.linspace(0, max(speed, 1e-9), 64))
    assert abs(new(at + 1) - new(at)) <= np.ptp(fine) + 1e-12
