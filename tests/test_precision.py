"""Tests for lrnotes.nets.precision: format limits, rounding, stored schedules, sums, master weights."""

import math

import numpy as np
import pytest
import torch

from lrnotes.nets import precision as P
from lrnotes import schedules as S

# IEEE / OCP values, written out independently of torch.finfo
KNOWN = {  # name: (exponent bits, significant bits, smallest subnormal, smallest normal, max)
    "float32": (8, 24, 2.0**-149, 2.0**-126, (2 - 2.0**-23) * 2.0**127),
    "bfloat16": (8, 8, 2.0**-133, 2.0**-126, (2 - 2.0**-7) * 2.0**127),
    "float16": (5, 11, 2.0**-24, 2.0**-14, 65504.0),
    "float8_e5m2": (5, 3, 2.0**-16, 2.0**-14, 57344.0),
    "float8_e4m3fn": (4, 4, 2.0**-9, 2.0**-6, 448.0),
}


@pytest.mark.parametrize("name", list(KNOWN))
def test_limits_match_the_formats(name):
    L = P.limits(name)
    e, p, sub, normal, mx = KNOWN[name]
    assert (L.exponent_bits, L.significant_bits) == (e, p)
    assert (L.smallest_subnormal, L.smallest_normal, L.max) == (sub, normal, mx)
    assert L.eps == 2.0 ** (1 - p) and L.underflow == sub / 2
    assert P.limits(P.FORMATS[name]) == L  # a dtype or its name


@pytest.mark.parametrize("name", [n for n in KNOWN if n != "float32"])
def test_round_to_zero_below_half_the_smallest_subnormal(name):
    L = P.limits(name)
    s = L.smallest_subnormal
    got = P.round_to([s, 0.51 * s, 0.5 * s, 0.49 * s, -0.49 * s], name)
    assert got[0] == s and got[1] == s
    assert got[2] == 0.0 and got[3] == 0.0 and got[4] == 0.0  # the tie goes to even (0)
    # the sources' floor of 1e-6 vanishes exactly in the two FP8 formats
    assert (P.round_to(1e-6, name) == 0.0) == name.startswith("float8")


def test_round_to_keeps_shape_and_handles_overflow():
    x = np.array([[1.0, 3.0], [1e6, -1e6]])
    out = P.round_to(x, "float8_e4m3fn")
    assert out.shape == (2, 2) and out[0, 0] == 1.0 and out[0, 1] == 3.0
    assert np.array_equal(out[1], [448.0, -448.0])  # e4m3fn has no infinity: torch saturates
    assert np.isinf(P.round_to(1e6, "float16"))


def test_quantized_schedule_is_the_rounded_schedule():
    base = S.linear(1000, peak=1e-3)
    t = np.arange(1000)
    q = P.quantized(base, "float8_e4m3fn")
    assert np.array_equal(q(t), P.round_to(base(t), "float8_e4m3fn"))
    assert q(0) == 2.0**-9 and q(999) == 0.0  # 1e-3 rounds up to the subnormal 2^-9
    assert q.total == base.total
    # a power-of-two scale moves the schedule into the format's range: never zero
    scaled = P.quantized(base, "float8_e4m3fn", scale=2.0**-18)
    vals = scaled(t)
    assert vals.min() > 0 and np.max(np.abs(vals / base(t) - 1)) <= 2.0**-4
    # a restart schedule keeps its restarts
    assert list(P.quantized(S.sgdr(100), "bfloat16").restart_steps(300)) == [100, 200]


def test_accumulate_plain_kahan_and_the_float32_fast_path():
    d = np.full((1000, 2), 1e-3)
    plain = P.accumulate([1.0, 1.0], d, "bfloat16")
    assert plain.shape == (1001, 2) and np.all(plain == 1.0)  # every addition absorbed
    kahan = P.accumulate([1.0, 1.0], d, "bfloat16", compensated=True)
    assert np.allclose(kahan[-1], 2.0, atol=1e-2)
    # the float32 fast path is the step-by-step recursion, bit for bit
    inc = np.random.default_rng(0).normal(size=(300, 3)) * 1e-3
    fast = P.accumulate(np.ones(3), inc, "float32")
    x = np.ones(3, dtype=np.float32)
    slow = [x.copy()]
    for row in inc.astype(np.float32):
        x = (x + row).astype(np.float32)
        slow.append(x.copy())
    assert np.array_equal(fast, np.array(slow, dtype=np.float64))


def test_accumulate_a_recursion_that_stops_changing():
    # the sources' linear decay computed step by step: frozen in 16 bits
    alpha, T = 1e-3, 100_000
    out = P.accumulate(alpha, np.full(50, -alpha / (T + 1)), "float16")
    assert np.all(out == out[0])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="dtype"):
        P.limits("float7")
    with pytest.raises(ValueError, match="dtype"):
        P.limits(torch.int32)
    with pytest.raises(ValueError, match="scale"):
        P.quantized(S.constant(1.0), "float16", scale=0)
    with pytest.raises(ValueError, match="inner"):
        P.quantized(lambda t: t, "float16")
    with pytest.raises(ValueError, match="increments"):
        P.accumulate([1.0, 2.0], np.zeros((5, 3)), "float16")
    with pytest.raises(ValueError, match="momentum"):
        P.MasterWeightSGD([torch.nn.Parameter(torch.zeros(2))], momentum=1.0)


def _train(make_opt, dtype, steps=30, lr=0.05):
    torch.manual_seed(0)
    X, y = torch.randn(64, 5, dtype=torch.float64), torch.randn(64, 1, dtype=torch.float64)
    model = torch.nn.Linear(5, 1).to(dtype)
    opt = make_opt(model.parameters(), lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X.to(dtype)), y.to(dtype))
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return model, opt, losses


@pytest.mark.parametrize("momentum,wd", [(0.0, 0.0), (0.9, 0.0), (0.9, 1e-2)])
def test_master_weight_sgd_is_torch_sgd_in_float32(momentum, wd):
    def ours(ps, lr):
        return P.MasterWeightSGD(ps, lr=lr, momentum=momentum, weight_decay=wd)

    def theirs(ps, lr):
        return torch.optim.SGD(ps, lr=lr, momentum=momentum, weight_decay=wd)

    m1, _, l1 = _train(ours, torch.float32)
    m2, _, l2 = _train(theirs, torch.float32)
    assert l1 == l2
    for a, b in zip(m1.parameters(), m2.parameters()):
        assert torch.equal(a, b)


def test_master_weights_keep_updates_that_bfloat16_would_lose():
    w = torch.nn.Parameter(torch.full((100,), 1.5, dtype=torch.bfloat16))
    opt = P.MasterWeightSGD([w], lr=1e-4)
    plain_w = torch.nn.Parameter(torch.full((100,), 1.5, dtype=torch.bfloat16))
    plain = torch.optim.SGD([plain_w], lr=1e-4)
    for _ in range(200):  # 200 updates of 1e-4: each far below half a bfloat16 spacing (2^-8)
        w.grad = torch.ones_like(w)
        plain_w.grad = torch.ones_like(plain_w)
        opt.step()
        plain.step()
    assert torch.all(plain_w == 1.5)                       # absorbed every time
    master = opt.state[w]["master"]
    assert master.dtype == torch.float32
    assert abs(float(master[0]) - (1.5 - 0.02)) < 1e-5      # the master kept them
    assert torch.equal(w, master.to(torch.bfloat16))        # the weight is the rounded master
    assert float(w.detach()[0]) < 1.5


def test_master_weight_sgd_follows_a_schedule_and_a_momentum_reset():
    w = torch.nn.Parameter(torch.zeros(3))
    opt = P.MasterWeightSGD([w], lr=1.0, momentum=0.9)
    sched = S.to_torch(opt, S.sgdr(5, peak=0.1), reset_momentum=True)
    for t in range(6):
        assert math.isclose(opt.param_groups[0]["lr"], S.sgdr(5, peak=0.1)(t))
        w.grad = torch.ones(3)
        opt.step()
        sched.step()
    assert sched.momentum_resets == [5]
    # reset before update 5, which started a fresh buffer from its gradient alone
    assert torch.equal(opt.state[w]["momentum_buffer"], torch.ones(3))
