"""Unit and property tests of lrnotes.schedules (closed forms, combinators, errors)."""

import math
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrnotes import schedules as S
from lrnotes.schedules import NOISE_KINDS

T = 1000
t = np.arange(T + 1)


# ----------------------------------------------------------------- closed forms
def test_scalar_and_array_agree():
    sched = S.cosine(100, peak=0.3, end=0.01)
    arr = sched(np.arange(101))
    assert isinstance(sched(7), float)
    assert [sched(k) for k in range(101)] == list(arr)


def test_numpy_scalar_power_is_not_array_power_here_but_ours_agree():
    """Why the schedules avoid NumPy scalars and array powers (see lrnotes/schedules/_core.py).

    On a machine whose NumPy uses SIMD loops for ``power`` (AVX-512 here) a NumPy scalar
    power and an array power can differ by an ulp; elsewhere they agree.  Our step decay
    and SGDR peak decay agree bit for bit either way."""
    scalar, array = np.float64(0.8) ** np.float64(2.0), (np.array([0.8]) ** np.array([2.0]))[0]
    assert abs(scalar - array) <= np.spacing(array)  # at most one ulp apart, on any machine
    for sched in (S.step_decay(3, gamma=0.8), S.sgdr(7, mult=1.5, peak_decay=0.8),
                  S.warmup(S.sgdr(30, mult=1.5, peak=0.05, end=1e-4, peak_decay=0.8), steps=10)):
        steps = np.arange(300)
        assert [sched(int(k)) for k in steps] == list(sched(steps)), sched


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
    sched = S.sgdr(20, mult=1.0, peak=1.0, end=0.1, peak_decay=0.5)
    starts = np.array([0, 20, 40, 60])
    np.testing.assert_allclose(sched(starts), 0.1 + 0.9 * 0.5 ** np.arange(4))


def test_wsd_phases_and_cooldowns():
    for cooldown in S.COOLDOWNS:
        sched = S.wsd(100, peak=2.0, warmup=10, decay_frac=0.3, cooldown=cooldown, end=0.1)
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
    sched = S.inv_t(S.sgdr(50, peak=1.0, end=0.1), t0=t0)
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
    sq = S.sgdr(50, peak=1.0, end=0.1)(np.arange(10_000)) ** 2
    per_cycle = sq.reshape(-1, 50).sum(axis=1)
    np.testing.assert_allclose(per_cycle, per_cycle[0])


def test_floor_and_warmup_compose():
    sched = S.floor(S.warmup(S.linear(100, peak=1.0), steps=10), end=0.05)
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
    (lambda: S.cosine(10, end=float("inf")), "end"),
    (lambda: S.constant(-1.0), "value"),
    (lambda: S.step_decay(0), "step_size"),
    (lambda: S.step_decay(10, gamma=0.0), "gamma"),
    (lambda: S.step_decay(10, gamma=1.5), "gamma"),
    (lambda: S.inverse_sqrt(offset=0), "offset"),
    (lambda: S.sgdr(0), "period"),
    (lambda: S.sgdr(10, mult=0.5), "mult"),
    (lambda: S.sgdr(10, peak_decay=0.0), "peak_decay"),
    (lambda: S.triangular(10, end=0.5, high=0.1), "high"),
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
    (lambda: S.floor(S.constant(), end=-1), "end"),
    (lambda: S.inv_t(S.constant(), t0=0), "t0"),
    (lambda: S.sequence([S.constant(), S.constant()], boundaries=[]), "boundaries"),
    (lambda: S.sequence([S.constant(), S.constant(), S.constant()], boundaries=[5, 5]), "boundaries"),
    (lambda: S.retarget(S.constant(), at=5, total=10), "budget"),
    (lambda: S.retarget(S.linear(100), at=100, total=200), "at"),
    (lambda: S.retarget(S.linear(100), at=50, total=50), "total"),
    (lambda: S.linear(10)(-1), "step"),
    (lambda: S.polynomial(10, power=0), "power"),
    (lambda: S.polynomial(10, power=-1.0), "power"),
    (lambda: S.cosine(100, warmup=100), "warmup"),
    (lambda: S.cosine(100, warmup=-1), "warmup"),
    (lambda: S.linear(100, warmup=10, warmup_start=1.5), "start"),
    (lambda: S.cosine(100, warmup=10, warmup_shape="exp"), "shape"),
    (lambda: S.warmup(S.linear(100), steps=10, shape="exp"), "shape"),
    (lambda: S.warmup_then(S.linear(100), steps=0), "steps"),
    (lambda: S.warmup_then(S.linear(100), steps=5, start=-0.1), "start"),
    (lambda: S.sgdr(0.5), "period"),
    (lambda: S.sgdr(10, cycles=0), "cycles"),
    (lambda: S.sgdr(10, decay_mode="both"), "decay_mode"),
    (lambda: S.wsd(100, decay_steps=0), "decay_steps"),
    (lambda: S.wsd(100, decay_steps=101), "decay_steps"),
    (lambda: S.wsd(100, decay_frac=0.1, decay_steps=10), "decay_steps"),
    (lambda: S.wsd(100, warmup=50, decay_steps=60), "decay_steps"),
    (lambda: S.wsd(100, warmup=10, warmup_shape="exp"), "warmup_shape"),
    (lambda: S.cooldown(S.inverse_sqrt(), steps=10), "total"),
    (lambda: S.cooldown(S.linear(100), steps=101), "steps"),
    (lambda: S.cooldown(S.linear(100), steps=0), "steps"),
    (lambda: S.cooldown(S.linear(100), steps=10, shape="exp"), "shape"),
    (lambda: S.cooldown(S.linear(100), steps=10, end=-1), "end"),
    (lambda: S.shift(S.linear(100), steps=100), "steps"),
    (lambda: S.shift(S.linear(100), steps=-1), "steps"),
    (lambda: S.sequence([S.constant(), S.constant()], [5], clock="wall"), "clock"),
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
#: multipliers whose cycle starts land on integer steps (the bug's home), and arbitrary floats
MULTS = [1.0, 1.1, 1.2, 1.25, 1.3, 1.4, 1.5, 1.6, 1.75, 2.0, 2.5, 3.0]
budget = st.integers(min_value=1, max_value=5000)


@st.composite
def any_schedule(draw):
    total = draw(budget)
    peak = draw(st.floats(min_value=1e-6, max_value=10.0))
    kind = draw(st.sampled_from(["const", "step", "isqrt", "lin", "cos", "sgdr", "tri", "wsd", "poly",
                                 "sgdr2", "cool"]))
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
    elif kind == "wsd":
        w = draw(st.integers(0, total - 1))
        frac = draw(st.floats(0.01, 1.0)) * (total - w) / total
        s = S.wsd(total, peak, w, max(frac, 1e-9), draw(st.sampled_from(S.COOLDOWNS)),
                  warmup_shape=draw(st.sampled_from(S.WARMUPS)), warmup_start=draw(st.floats(0, 1)))
    elif kind == "poly":
        s = S.polynomial(total, peak, draw(st.floats(0.0, 1.0)) * peak, draw(st.floats(0.1, 5.0)),
                         warmup=draw(st.integers(0, total - 1)), warmup_shape=draw(st.sampled_from(S.WARMUPS)))
    elif kind == "sgdr2":
        s = S.sgdr(draw(st.sampled_from([1, 7, Fraction(1000, 3), 2.5, 43])), draw(st.sampled_from(MULTS)),
                   peak, draw(st.floats(0.0, 1.0)) * peak, draw(st.floats(0.1, 1.0)),
                   decay_mode=draw(st.sampled_from(S.DECAY_MODES)),
                   cycles=draw(st.one_of(st.none(), st.integers(1, 8))), warmup=draw(st.integers(0, 50)))
    else:
        d = draw(st.integers(1, total))
        s = S.cooldown(S.inverse_sqrt(peak, draw(st.floats(0.1, 1000))), steps=d, total=total,
                       shape=draw(st.sampled_from(S.COOLDOWNS)), end=draw(st.floats(0.0, 1.0)) * peak)
    wrap = draw(st.sampled_from(["none", "warmup", "then", "shift", "abs"]))
    if wrap == "warmup" and (s.total is None or s.total > 1):
        s = S.warmup(s, draw(st.integers(1, (s.total - 1) if s.total else 100)), draw(st.floats(0, 1)),
                     draw(st.sampled_from(S.WARMUPS)))
    elif wrap == "then":
        s = S.warmup_then(s, draw(st.integers(1, 100)), draw(st.floats(0, 1)), draw(st.sampled_from(S.WARMUPS)))
    elif wrap == "shift" and (s.total is None or s.total > 1):
        s = S.shift(s, draw(st.integers(0, (s.total - 1) if s.total else 100)))
    elif wrap == "abs":
        s = S.sequence([S.constant(peak), s], [draw(st.integers(1, 100))], clock="absolute")
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


@settings(max_examples=150, deadline=None)
@given(any_schedule(), st.integers(1, 3000), st.data())
def test_one_step_equals_the_same_step_in_any_array(sched, horizon, data):
    """Bit for bit: a step evaluated alone (as the torch scheduler does), inside a whole
    array, or inside a shuffled slice of it gives the same float (see _core.py for why)."""
    steps = np.arange(horizon)
    whole = sched(steps)
    picks = data.draw(st.lists(st.integers(0, horizon - 1), min_size=1, max_size=20))
    assert [sched(int(k)) for k in picks] == list(whole[picks]), sched
    perm = np.random.default_rng(horizon).permutation(horizon)[: min(horizon, 37)]
    np.testing.assert_array_equal(sched(steps[perm]), whole[perm])


# ----------------------------------------------------------------- SGDR restarts, exactly
def _exact_cycles(period, mult, upto):
    """Cycle starts S_i (exact rationals, the decimals as typed) and lengths, up to upto."""
    T0 = Fraction(period) if isinstance(period, (int, Fraction)) else Fraction(repr(period))
    m = Fraction(float(mult)).limit_denominator(10**6)  # as lrnotes reads a float
    starts, lengths, S_i, L_i = [Fraction(0)], [T0], Fraction(0), T0
    while starts[-1] < upto:
        S_i, L_i = S_i + L_i, L_i * m
        starts.append(S_i)
        lengths.append(L_i)
    return starts, lengths


def test_issue_examples_restart_at_the_peak():
    assert S.sgdr(43, mult=1.1)(43) == 1.0
    assert S.sgdr(10, mult=1.3)(23) == 1.0
    assert 23 in S.sgdr(10, mult=1.3).restart_steps(30)
    assert S.sgdr(3, mult=4 / 3)(7) == 1.0  # a ratio computed in floating point: 3 + 4
    assert S.wsd(37, warmup=1, decay_frac=36 / 37)(1) == 1.0


def test_scan_of_integer_restarts_all_have_the_peak():
    """The issue's scan: periods 1-60 x 12 multipliers; every cycle start that lands exactly
    on an integer step (by exact rationals) is listed and has the peak; the step before,
    the end of the previous cycle, has not."""
    checked = 0
    for period in range(1, 61):
        for mult in MULTS:
            sched = S.sgdr(period, mult=mult, peak=1.0, end=0.0)
            upto = 3000
            restarts = set(sched.restart_steps(upto))
            starts, lengths = _exact_cycles(period, mult, upto)
            for s_i, before in zip(starts[1:], lengths):
                if s_i.denominator == 1 and s_i < upto:
                    r = int(s_i)
                    assert r in restarts and sched(r) == 1.0, (period, mult, r)
                    # r - 1 ends the cycle before (when that cycle has two steps or more)
                    assert before < 2 or sched(r - 1) < 1.0, (period, mult, r)
                    checked += 1
    assert checked > 1500


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(st.integers(1, 60), st.sampled_from([Fraction(1000, 3), Fraction(7, 2), 2.5, 12.5])),
    st.one_of(st.sampled_from(MULTS), st.floats(1.0, 3.0)),
    st.sampled_from([1.0, 1.0, 0.9, 0.5, 0.1]),
    st.sampled_from(S.DECAY_MODES),
    st.one_of(st.none(), st.integers(1, 12)),
)
def test_every_listed_restart_has_its_cycles_peak(period, mult, decay, mode, cycles):
    """For each step r that restart_steps lists, r is the first integer step of cycle i
    (exact rationals) and sched(r) is that cycle's value at its start position r - S_i < 1:
    exactly the cycle's peak when the cycle starts on r.  The step r - 1 belongs to cycle
    i - 1, at most one step before its end; with no peak decay it is strictly lower."""
    peak, lo, upto = 1.0, 0.05, 2500
    sched = S.sgdr(period, mult, peak, lo, decay, decay_mode=mode, cycles=cycles)
    starts, lengths = _exact_cycles(period, mult, upto)
    expected = [math.ceil(s) for s in starts[1:] if math.ceil(s) < upto]
    if cycles is not None:
        expected = expected[: cycles - 1]
    listed = [int(x) for x in sched.restart_steps(upto)]
    assert listed == expected

    def top(i):  # the cycle's peak
        return lo + (peak - lo) * decay**i if mode == "amplitude" else lo + (peak * decay**i - lo)

    def value(i, t):  # reference value of step t in cycle i
        x = float((t - starts[i]) / lengths[i])
        return lo + (top(i) - lo) * 0.5 * (1 + math.cos(math.pi * x))

    for i, r in enumerate(listed, start=1):
        assert 0 <= r - starts[i] < 1 and starts[i - 1] <= r - 1 < starts[i]
        # the cycle position comes from a float geometric sum: round-off of order 1e-13
        # (in units of the peak) after many cycles, e.g. period 1 and mult 1.004
        assert sched(r) == pytest.approx(value(i, r), rel=1e-12, abs=1e-12)
        if starts[i] == r:
            assert sched(r) == pytest.approx(top(i), rel=1e-15)
        assert sched(r - 1) == pytest.approx(value(i - 1, r - 1), rel=1e-12, abs=1e-12)
        assert r - 1 - starts[i - 1] >= lengths[i - 1] - 1
        if decay == 1.0 and starts[1] >= 2:
            assert sched(r - 1) < sched(r)
    if cycles is not None and sched.total is not None:
        assert sched(sched.total) == lo and sched(sched.total + 50) == lo


def test_sgdr_cycle_limit_and_peak_decay_mode():
    sched = S.sgdr(100, mult=2, peak=1.0, end=0.1, peak_decay=0.5, decay_mode="peak", cycles=3)
    assert sched.total == 700 and list(sched.restart_steps(2000)) == [100, 300]
    assert [sched(t) for t in (0, 100, 300)] == [1.0, 0.5, 0.25]   # the peak itself halves
    amp = S.sgdr(100, mult=2, peak=1.0, end=0.1, peak_decay=0.5, cycles=3)
    assert [amp(t) for t in (0, 100, 300)] == pytest.approx([1.0, 0.55, 0.325])  # the swing halves
    assert sched(699) == pytest.approx(0.1, abs=1e-4) and sched(700) == 0.1 == sched(5000)


def test_retarget_keeps_restarts_at_the_peak():
    inner = S.sequence([S.sgdr(10, mult=1.3), S.linear(70)], boundaries=[35])  # restarts 10, 23
    new = S.retarget(inner, at=12, total=(inner.total - 12) * 3 + 12)        # the rest 3x slower
    assert list(new.restart_steps(new.total)) == [10, 45]
    assert new(45) == inner(23) == 1.0


# ----------------------------------------------------------------- new pieces
def test_polynomial_matches_its_formula_and_linear():
    t = np.arange(0, 130)
    np.testing.assert_allclose(S.polynomial(100, 2.0, 0.1, 2.0)(t),
                               0.1 + 1.9 * (1 - np.minimum(t, 100) / 100) ** 2, rtol=1e-14)
    np.testing.assert_allclose(S.polynomial(100, 2.0, 0.0, 1.0)(t), S.linear(100, 2.0)(t), rtol=1e-14)
    np.testing.assert_allclose(S.polynomial(100, 1.0, 0.0, 0.5)(t), np.sqrt(1 - np.minimum(t, 100) / 100))


@pytest.mark.parametrize("shape", S.WARMUPS)
def test_warmup_shapes_run_from_start_to_target(shape):
    W = 40
    for sched in (S.warmup(S.constant(2.0), W, start=0.25, shape=shape),
                  S.warmup_then(S.constant(2.0), W, start=0.25, shape=shape)):
        lrs = sched(np.arange(W + 5))
        assert lrs[0] == 0.5 and lrs[W] == 2.0 and np.all(np.diff(lrs) >= 0)
    mid = S.warmup(S.constant(1.0), 100, shape=shape)(50)
    assert mid == pytest.approx(0.5 if shape != "sqrt" else 1 - math.sqrt(0.5))


def test_warmup_then_starts_the_decay_after_the_warmup():
    hf = S.cosine(1000, 1.0, warmup=100)
    assert hf.total == 1000 and hf(100) == 1.0 and hf(1000) == 0.0
    assert hf(550) == pytest.approx(0.5)  # half-way through the T - W decay steps
    chained = S.warmup(S.cosine(1000, 1.0), 100)  # torch ChainedScheduler: decay began at 0
    assert chained(100) == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.1)))
    keras = S.warmup_then(S.cosine(1000, 1.0), 100)  # keras: decay_steps after the warmup
    assert keras.total == 1100 and keras(1100) == 0.0
    assert list(S.warmup_then(S.sgdr(10), 5).restart_steps(40)) == [15, 25, 35]


def test_cooldown_on_inverse_sqrt():
    inner = S.inverse_sqrt(1.0, offset=100)
    sched = S.cooldown(inner, steps=200, total=1000, shape="linear", end=0.01)
    t = np.arange(1100)
    np.testing.assert_array_equal(sched(t[:800]), inner(t[:800]))
    np.testing.assert_allclose(sched(t[800:1000]), 0.01 + (inner(t[800:1000]) - 0.01) * (1000 - t[800:1000]) / 200)
    assert sched(1000) == 0.01 == sched(1099) and sched.total == 1000
    assert np.all(np.diff(sched(t)) <= 0)


def test_shift_and_absolute_clock():
    base = S.cosine(100, warmup=10)
    np.testing.assert_array_equal(S.shift(base, 3)(np.arange(50)), base(np.arange(3, 53)))
    seq = S.sequence([S.constant(0.5), S.cosine(100)], [20], clock="absolute")
    assert seq(19) == 0.5 and seq(20) == S.cosine(100)(20) and seq.total == 100
    rel = S.sequence([S.constant(0.5), S.cosine(100)], [20])
    assert rel(20) == 1.0 and rel.total == 120
    cyc = S.sequence([S.constant(0.5), S.sgdr(10)], [25], clock="absolute")
    assert list(cyc.restart_steps(50)) == [30, 40]


def test_wsd_decay_starts_on_the_whole_step():
    """T * (1 - f) in floating point can land just below t_d = T - fT (e.g. T=100, f=0.07:
    93.00000000000001 or 92.99999999999999); computed exactly, the decay starts on the step."""
    bad_float = 0
    for T in range(10, 400):
        for pct in range(1, 100):
            f = pct / 100
            if (pct * T) % 100:
                continue
            td = T - pct * T // 100
            bad_float += T * (1 - f) != td
            sched = S.wsd(T, peak=1.0, decay_frac=f, cooldown="sqrt")
            assert sched(td) == 1.0 and sched(td + 1) == 1 - math.sqrt(1 / (T - td))
    assert bad_float > 0  # the floating-point decay start would have been off somewhere
    a = S.wsd(1000, 0.5, 100, decay_steps=300, cooldown="cosine")
    b = S.wsd(1000, 0.5, 100, 0.3, "cosine")
    np.testing.assert_array_equal(a(np.arange(1100)), b(np.arange(1100)))


@pytest.mark.parametrize("period, mult, decay, mode", [(1, 1.00390625, 1.0, "amplitude"),
                                                       (1, 1.0078125, 0.9, "peak")])
def test_restart_values_after_many_short_cycles(period, mult, decay, mode):
    """Hypothesis found these: hundreds of cycles of growing length.  Each listed restart
    still has its cycle's value to within 1e-12 of the peak (float round-off only)."""
    test_every_listed_restart_has_its_cycles_peak.hypothesis.inner_test(period, mult, decay, mode, None)


# ------------------------------------------- restarts derived from the curve's clock
def _jumps(sched, upto):
    """Steps 0 < t < upto where the curve jumps up (within a cycle these curves never rise)."""
    lr = sched(np.arange(upto))
    return [int(x) for x in np.flatnonzero(lr[1:] > lr[:-1] + 1e-9) + 1]


def test_cooldown_keeps_restarts_the_curve_makes():
    sched = S.cooldown(S.sgdr(20), 40, 100)  # cooldown from 60: the restart at 80 stays
    assert list(sched.restart_steps(101)) == [20, 40, 60, 80] == _jumps(sched, 101)
    assert sched.is_restart(80) and not sched.is_restart(100)


def test_retarget_of_non_integer_cycle_starts_lists_the_jump():
    inner = S.sgdr(Fraction(33, 2), cycles=4)  # starts 16.5, 33, 49.5: restarts 17, 33, 50
    new = S.retarget(inner, at=5, total=97)
    assert list(new.restart_steps(98)) == _jumps(new, 98)
    assert all(new.is_restart(r) for r in new.restart_steps(98))


@st.composite
def _sgdr_compositions(draw):
    period = draw(st.one_of(st.integers(16, 40), st.fractions(16, 40, max_denominator=7),
                            st.floats(16, 40).map(lambda x: round(x, 2))))
    mult = draw(st.sampled_from([1, 1.1, 1.5, 2, Fraction(4, 3)]))
    sched = S.sgdr(period, mult, cycles=draw(st.integers(2, 5)))
    for _ in range(draw(st.integers(1, 3))):
        T = sched.total
        kind = draw(st.sampled_from(["retarget", "cooldown", "shift"]))
        if kind == "retarget":
            a = draw(st.integers(0, T - 1))
            sched = S.retarget(sched, a, draw(st.integers(a + max(1, -(-(T - a) // 2)), a + 2 * (T - a))))
        elif kind == "cooldown":
            sched = S.cooldown(sched, draw(st.integers(1, T)), shape=draw(st.sampled_from(S.COOLDOWNS)))
        else:
            sched = S.shift(sched, draw(st.integers(0, min(T - 1, 15))))
    return sched


@settings(max_examples=150, deadline=None)
@given(_sgdr_compositions())
def test_restart_list_matches_the_curve(sched):
    upto = sched.total + 5
    listed = [int(x) for x in sched.restart_steps(upto)]
    assert listed == _jumps(sched, upto), sched
    assert [t for t in range(upto) if sched.is_restart(t)] == listed


def test_sequence_absolute_clock_restarts_where_the_piece_does():
    seq = S.sequence([S.constant(0.5), S.sgdr(10)], [20], clock="absolute")
    assert list(seq.restart_steps(45)) == [20, 30, 40]
    seq = S.sequence([S.constant(0.5), S.sgdr(10)], [25], clock="absolute")
    assert list(seq.restart_steps(45)) == [30, 40]
    seq = S.sequence([S.sgdr(10), S.sgdr(10)], [25])  # relative: its clock starts at 0
    assert list(seq.restart_steps(50)) == [10, 20, 35, 45]


def test_plain_restart_callable_still_accepted():
    s = S.Schedule(lambda t: np.ones_like(t), name="x", restarts=lambda upto: np.arange(7, upto, 7))
    assert list(s.restart_steps(30)) == [7, 14, 21, 28] and s.is_restart(14) and not s.is_restart(15)
    assert list(S.shift(s, 3).restart_steps(30)) == [4, 11, 18, 25]


def test_is_restart_cost_does_not_grow_with_the_step():
    import time

    scheds = [S.sgdr(10), S.sgdr(10, 2), S.cooldown(S.sgdr(10, 1.5), 10**6, 10**8),
              S.retarget(S.sgdr(7, cycles=10**6), 5, 10**7)]
    for sched in scheds:
        sched.is_restart(10**6)  # builds any cycle table once
    start = time.perf_counter()
    for sched in scheds:
        for t in range(10**7 - 50, 10**7):
            sched.is_restart(t)
    per_call = (time.perf_counter() - start) / 200
    assert per_call < 0.005  # before: 3 s a call for sgdr(10) at t = 10**7
    assert S.sgdr(10).is_restart(10**7) and not S.sgdr(10).is_restart(10**7 + 1)
    assert S.sgdr(10, 2).is_restart(10 * (2**20 - 1))


# ----------------------------------------------------------------- edge cases (issue 19)
@pytest.mark.parametrize("frac, total, steps", [(7e-7, 10**7, 7), (0.07, 100, 7), (1e-7, 10**6, 0.1),
                                                (36 / 37, 37, 36), (Fraction(3, 7), 70, 30)])
def test_wsd_decay_frac_is_the_steps_asked_for(frac, total, steps):
    sched = S.wsd(total, decay_frac=frac)
    assert sched.params["decay_steps"] == steps
    assert sched(total) == 0.0 and np.all(np.isfinite(sched(np.arange(total + 1))))


def test_wsd_zero_step_decay_refused():
    with pytest.raises(ValueError, match="decay_frac"):
        S.wsd(100, decay_frac=1e-12)


def test_sgdr_huge_cycle_limit_refused_quickly():
    with pytest.raises(ValueError, match="cycles"):
        S.sgdr(10, 2, cycles=10**30)
    with pytest.raises(ValueError, match="cycles"):
        S.sgdr(10, cycles=10**30)


def test_sgdr_mult_close_to_one_far_out_is_cheap():
    import lrnotes.schedules.cycles as C

    sched = S.sgdr(1, 1.000001)
    value = sched(1e9)  # 6.9 million cycles: closed form past the table
    assert 0.0 <= value <= 1.0
    assert len(sched._cycle.__self__.S) <= C._Cycles.TABLE_MAX
    steps = np.arange(90_000, 140_000, 0.5)  # the closed form agrees with a full table
    far = S.sgdr(1, 1.00001)
    got, restarts = far(steps), far.restart_steps(140_000)
    old = C._Cycles.TABLE_MAX
    try:
        C._Cycles.TABLE_MAX = 10**9
        full = S.sgdr(1, 1.00001)
        np.testing.assert_allclose(got, full(steps), atol=1e-8)
        np.testing.assert_array_equal(restarts, full.restart_steps(140_000))
    finally:
        C._Cycles.TABLE_MAX = old


@pytest.mark.parametrize("make", [S.cosine, S.linear, S.polynomial, S.wsd, lambda T, **k: S.sgdr(10, **k),
                                  lambda T, **k: S.constant(**k), lambda T, **k: S.inverse_sqrt(**k)])
@pytest.mark.parametrize("bad, name", [({"warmup_start": 1.5}, "warmup_start"),
                                       ({"warmup_shape": "cubic"}, "warmup_shape")])
def test_warmup_arguments_checked_without_warmup(make, bad, name):
    with pytest.raises(ValueError, match=name):
        make(100, warmup=0, **bad)


def test_sequence_non_list_arguments_named():
    with pytest.raises(ValueError, match="boundaries"):
        S.sequence([S.constant(), S.constant()], 5)
    with pytest.raises(ValueError, match="schedules"):
        S.sequence(S.constant(), [5])


# ------------------------------------------------ one name for the end value: end
@pytest.mark.parametrize("old, new", [
    (lambda: S.cosine(100, 1.0, floor=0.1), lambda: S.cosine(100, 1.0, end=0.1)),
    (lambda: S.sgdr(10, floor=0.1), lambda: S.sgdr(10, end=0.1)),
    (lambda: S.wsd(100, floor=0.1), lambda: S.wsd(100, end=0.1)),
    (lambda: S.triangular(5, low=0.1, high=1.0), lambda: S.triangular(5, end=0.1, high=1.0)),
    (lambda: S.cooldown(S.constant(), 10, 50, floor=0.1), lambda: S.cooldown(S.constant(), 10, 50, end=0.1)),
    (lambda: S.floor(S.linear(50), minimum=0.1), lambda: S.floor(S.linear(50), end=0.1)),
])
def test_old_end_names_are_deprecated_aliases(old, new):
    with pytest.warns(DeprecationWarning, match="end="):
        a = old()
    b = new()
    steps = np.arange(60)
    np.testing.assert_array_equal(a(steps), b(steps))
    assert repr(a) == repr(b) and "end=0.1" in repr(b)


def test_old_and_new_end_name_together_refused():
    with pytest.raises(ValueError, match="end"):
        S.cosine(100, floor=0.1, end=0.2)


def test_checks_are_public_and_the_old_names_the_same():
    from lrnotes.schedules import _checks, checks

    assert _checks._real is checks.real and _checks._int_at_least is checks.int_at_least
    assert checks.real("x", 0.5, low=0.0, high=1.0) == 0.5
    with pytest.raises(ValueError, match=r"x must be in \[0.0, 1.0\]"):
        checks.real("x", 2, low=0.0, high=1.0)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        checks.int_at_least("n", 0, 1)


# ------------------------------------------------------ docstring examples are run
import doctest
import importlib
import inspect


@pytest.mark.parametrize("module", ["closed", "combinators", "cycles", "config", "noise", "checks", "_core",
                                    "__init__"])
def test_docstring_examples_run(module):
    mod = importlib.import_module("lrnotes.schedules" + ("" if module == "__init__" else "." + module))
    result = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{result.failed} failed docstring example(s) in {mod.__name__}"
    for name in S.__all__:  # every schedule and combinator defined here has an example
        obj = getattr(S, name, None)
        if inspect.isfunction(obj) and obj.__module__ == mod.__name__:
            assert ">>>" in (obj.__doc__ or ""), f"{name} has no docstring example"



API_MODULES = ["lrnotes.schedules", "lrnotes.schedules.checks", "lrnotes.theory.identity", "lrnotes.theory.bounds",
               "lrnotes.theory.optimal", "lrnotes.theory.variational", "lrnotes.theory.piecewise",
               "lrnotes.theory.refine", "lrnotes.sim.landscapes", "lrnotes.sim.sgd", "lrnotes.sim.moments",
               "lrnotes.sim.stability", "lrnotes.sim.thermostat", "lrnotes.sim.sharpness", "lrnotes.sim.curvature",
               "lrnotes.nets.train", "lrnotes.nets.optim", "lrnotes.stats", "lrnotes.plotting"]


def test_api_page_documents_every_public_function_and_class():
    """chapters/appendix/api.md has an autodoc entry for each public function and class
    of the listed modules (those of ``__all__``, else those defined there)."""
    for extra in ("torch", "sympy", "scipy", "matplotlib"):  # the book's install: lrnotes[notebooks]
        pytest.importorskip(extra)
    import re
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "chapters" / "appendix" / "api.md").read_text()
    found = {}  # module -> names with an entry under its currentmodule / automodule
    module = None
    for line in page.splitlines():
        m = re.match(r"\.\. (currentmodule|automodule):: (\S+)", line)
        if m:
            module = m.group(2)
            found.setdefault(module, set())
        m = re.match(r"\.\. auto(?:function|class|data):: (\S+)", line)
        if m:
            found[module].add(m.group(1))
        m = re.match(r"\s+:members: (.+)", line)
        if m and module:
            found[module] |= {n.strip() for n in m.group(1).split(",")}
    missing = []
    skip = {"lrnotes.schedules.ScheduleLR"}  # what to_torch returns, built on first use; to_torch documents it
    for name in API_MODULES:
        mod = importlib.import_module(name)
        public = getattr(mod, "__all__", None) or [n for n in vars(mod) if not n.startswith("_")]
        for n in public:
            obj = getattr(mod, n)
            own = getattr(obj, "__module__", None) in (name, *(f"{name}.{k}" for k in
                                                                 ("closed", "combinators", "cycles", "config",
                                                                  "noise", "adapter", "_core")))
            if f"{name}.{n}" in skip:
                continue
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and own and n not in found.get(name, ()):
                missing.append(f"{name}.{n}")
    assert not missing, f"not on the API page: {missing}"


# ------------------------------------------------------------ a schedule from a config
def test_from_config_adds_lr_noise_as_timm_create_scheduler_does():
    steps = np.arange(300)
    cfg = {"name": "cosine", "total": 300, "peak": 0.1, "noise": {"range": (50, 250), "pct": 0.2, "seed": 3}}
    noisy = S.from_config(cfg)
    np.testing.assert_array_equal(noisy(steps), S.noisy(S.cosine(300, 0.1), (50, 250), pct=0.2, seed=3)(steps))
    assert np.array_equal(noisy(steps[:50]), S.cosine(300, 0.1)(steps[:50]))
    assert not np.array_equal(noisy(steps[50:250]), S.cosine(300, 0.1)(steps[50:250]))
    for bad in ({"pct": 0.2}, {"range": (1, 2), "noise_pct": 0.2}, (1, 2)):
        with pytest.raises(ValueError, match="noise must be a mapping"):
            S.from_config("cosine", total=10, noise=bad)


def test_from_config_builds_the_named_schedule():
    steps = np.arange(200)
    np.testing.assert_array_equal(S.from_config("cosine", total=150, peak=0.3, warmup=10)(steps),
                                  S.cosine(total=150, peak=0.3, warmup=10)(steps))
    cfg = {"name": "sgdr", "period": 10, "mult": 2, "end": 0.01}
    np.testing.assert_array_equal(S.from_config(cfg)(steps), S.sgdr(10, 2, end=0.01)(steps))


@pytest.mark.parametrize("call, match", [
    (lambda: S.from_config("cosin", total=10), "name must be one of"),
    (lambda: S.from_config("cosine", total=10, lr_min=0.1), r"unknown: \['lr_min'\]"),
    (lambda: S.from_config({"period": 10}), "must hold 'name'"),
    (lambda: S.from_config({"name": "sgdr"}, period=3), "not both"),
])
def test_from_config_errors_name_what_is_allowed(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --------------------------------------------------------------- timm's k-decay
@pytest.mark.parametrize("make", [
    lambda **k: S.cosine(100, 0.3, 0.01, warmup=10, **k),
    lambda **k: S.polynomial(100, 0.3, 0.01, power=2, warmup=10, **k),
    lambda **k: S.sgdr(7.5, 1.5, 0.3, 0.01, 0.8, decay_mode="peak", cycles=4, **k),
])
def test_k_decay_one_is_the_plain_schedule_bit_for_bit(make):
    steps = np.arange(0, 150, 0.5)
    plain = make()
    np.testing.assert_array_equal(make(k_decay=1)(steps), plain(steps))
    assert ", k_decay=" not in repr(make(k_decay=1.0)) and ", k_decay=2.0" in repr(make(k_decay=2))
    bent = make(k_decay=2.0)
    assert np.all(bent(steps) >= plain(steps) - 1e-15)  # k > 1 stays high for longer
    assert np.any(bent(steps) > plain(steps) + 1e-3)


def test_k_decay_is_the_phase_to_the_power_k():
    T, p, lo, k = 200, 0.5, 0.02, 3.0
    t = np.arange(T + 20)
    x = np.minimum(t, T) / T
    np.testing.assert_allclose(S.cosine(T, p, lo, k_decay=k)(t),
                               lo + 0.5 * (p - lo) * (1 + np.cos(np.pi * x**k)), rtol=1e-13)
    np.testing.assert_allclose(S.polynomial(T, p, lo, power=0.5, k_decay=k)(t),
                               lo + (p - lo) * (1 - x**k) ** 0.5, rtol=1e-13)
    sched = S.sgdr(40, 2, p, lo, k_decay=k)  # cycles of 40, 80: the phase restarts with each
    second = S.sgdr(80, 1, p, lo, k_decay=k)
    np.testing.assert_allclose(sched([60, 100]), second([20, 60]), rtol=1e-13)
    assert sched.restart_steps(200).tolist() == S.sgdr(40, 2).restart_steps(200).tolist()


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), float("inf"), "2", True])
@pytest.mark.parametrize("make", [S.cosine, S.polynomial, lambda n, k_decay: S.sgdr(n, k_decay=k_decay)])
def test_k_decay_must_be_positive(make, bad):
    with pytest.raises(ValueError, match=r"k_decay must be .*\(0.0, inf\)"):
        make(100, k_decay=bad)


# ------------------------------------------------------------------ timm's LR noise
def _noise_of(sched, clean, steps):
    return sched(steps) / clean(steps) - 1.0


def test_noise_only_on_its_steps_and_clipped():
    clean = S.cosine(3000, 0.1, 1e-3)
    t = np.arange(3000)
    for kind in NOISE_KINDS:
        eps = _noise_of(S.noisy(clean, (500, 2500), pct=0.3, std=0.5, kind=kind, seed=3), clean, t)
        assert np.all(eps[:500] == 0) and np.all(eps[2500:] == 0)
        assert np.all(eps[500:2500] != 0)
        assert np.abs(eps).max() < 0.3 + 1e-12 and np.abs(eps).max() > 0.29
    eps = _noise_of(S.noisy(clean, 1000, seed=3), clean, t)  # one number: from there on
    assert np.all(eps[:1000] == 0) and np.all(eps[1000:] != 0)


def test_noise_is_a_function_of_seed_and_step_so_resume_is_exact():
    sched = S.noisy(S.sgdr(50, 2, 0.1), (0, 10**7), pct=0.5, seed=11)
    t = np.arange(2000)
    whole = sched(t)
    assert [sched(int(s)) for s in (0, 17, 1999)] == [whole[0], whole[17], whole[1999]]
    np.testing.assert_array_equal(sched(t[1234:]), whole[1234:])  # a run resumed at 1234
    np.testing.assert_array_equal(sched(t[::-1])[::-1], whole)  # the order of evaluation is irrelevant
    np.testing.assert_array_equal(S.noisy(S.sgdr(50, 2, 0.1), (0, 10**7), pct=0.5, seed=11)(t), whole)
    other = S.noisy(S.sgdr(50, 2, 0.1), (0, 10**7), pct=0.5, seed=12)(t)
    assert np.mean(other != whole) > 0.99
    assert sched.restart_steps(2000).tolist() == S.sgdr(50, 2).restart_steps(2000).tolist()
    half = _noise_of(sched, S.sgdr(50, 2, 0.1), [10**6, 10**6 + 0.5])  # a fractional step: the draw of its floor
    assert half[0] != 0 and half[1] == pytest.approx(half[0], rel=1e-9)


def _truncated_normal_std(a):
    """Standard deviation of N(0, 1) conditioned on |Z| < a."""
    phi = math.exp(-a * a / 2) / math.sqrt(2 * math.pi)
    return math.sqrt(1 - 2 * a * phi / math.erf(a / math.sqrt(2)))


@pytest.mark.parametrize("kind, pct, std", [("normal", 0.67, 1.0), ("normal", 0.2, 0.1), ("uniform", 0.4, 1.0)])
def test_noise_has_timms_distribution(kind, pct, std):
    n = 40_000
    clean = S.constant(1.0)
    eps = _noise_of(S.noisy(clean, (0, n), pct=pct, std=std, kind=kind, seed=5), clean, np.arange(n))
    want = pct / math.sqrt(3) if kind == "uniform" else std * _truncated_normal_std(pct / std)
    se = want / math.sqrt(n)
    assert abs(eps.mean()) < 4 * se
    assert abs(eps.std() - want) < 6 * want / math.sqrt(2 * n)
    assert np.abs(eps).max() < pct
    if kind == "uniform":
        assert abs(np.mean(eps < 0) - 0.5) < 0.01 and eps.min() >= -pct


def test_noise_of_torch_rng_is_timms_draw():
    torch = pytest.importorskip("torch")
    sched = S.noisy(S.constant(1.0), (0, 50), pct=0.3, std=0.4, seed=9, rng="torch")
    for t in (1, 7, 42):
        g = torch.Generator()
        g.manual_seed(9 + t)
        while True:
            noise = torch.randn(1, generator=g).item() * 0.4
            if abs(noise) < 0.3:
                break
        assert sched(t) == 1.0 + noise
    numpy_draws = S.noisy(S.constant(1.0), (0, 50), pct=0.3, std=0.4, seed=9)(np.arange(50))
    assert np.all(numpy_draws[1:] != sched(np.arange(50))[1:])  # the same law, not timm's numbers


def test_noise_imports_no_torch_by_default():
    code = ("import sys; from lrnotes import schedules as S; "
            "S.noisy(S.cosine(10), (0, 10), seed=1)(range(10)); print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("kwargs, match", [
    (dict(range=(5, 5)), r"range must be \(a, b\) with 0 <= a < b"),
    (dict(range=-1), r"range must be in \[0.0, inf\)"),
    (dict(range=(0, 1, 2)), "range must be a step a >= 0 or a pair"),
    (dict(range="0:9"), "range must be a step a >= 0 or a pair"),
    (dict(range=(1, 9), pct=0), r"pct must be in \(0.0, 1.0\]"),
    (dict(range=(1, 9), pct=1.5), r"pct must be in \(0.0, 1.0\]"),
    (dict(range=(1, 9), std=0), r"std must be in \(0.0, inf\)"),
    (dict(range=(1, 9), kind="gauss"), "kind must be one of"),
    (dict(range=(1, 9), seed=-1), "seed must be an integer >= 0"),
    (dict(range=(1, 9), seed=2**64), r"seed must be an integer in \[0, 2\*\*64 - 1\]"),
    (dict(range=(1, 9), seed=1.5), "seed must be an integer"),
    (dict(range=(1, 9), rng="jax"), "rng must be one of"),
])
def test_noise_bad_input_names_the_argument(kwargs, match):
    with pytest.raises(ValueError, match=match):
        S.noisy(S.constant(1.0), **kwargs)
    with pytest.raises(ValueError, match="inner must be an lrnotes Schedule"):
        S.noisy(lambda t: 1.0, (0, 1))
