"""lrnotes schedules against torch's built-in schedulers, and the torch adapter."""

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as L

from lrnotes import schedules as S

RTOL = 1e-9
PEAK, FLOOR = 0.1, 1e-3
N = 1200  # >= 1000 steps and >= 3 cycles of every cyclical schedule below

# name: (our schedule, torch scheduler factory, steps compared)
PARITY = {
    "CosineAnnealingLR": (
        S.cosine(N, peak=PEAK, end=FLOOR),
        lambda o: L.CosineAnnealingLR(o, T_max=N, eta_min=FLOOR),
        N + 1,  # t = 0..T; past T torch's recursion climbs back up while ours stays at the floor
    ),
    "CosineAnnealingWarmRestarts(T_0=40, T_mult=2)": (  # cycles 40, 80, 160, 320, 640: 5 cycles
        S.sgdr(40, mult=2, peak=PEAK, end=FLOOR),
        lambda o: L.CosineAnnealingWarmRestarts(o, T_0=40, T_mult=2, eta_min=FLOOR),
        N,
    ),
    "PolynomialLR(power=1)": (
        # Same curve; the sources write it alpha(1 - k/(T+1)) with k = t+1, alpha = peak (T+1)/T.
        S.linear(N, peak=PEAK),
        lambda o: L.PolynomialLR(o, total_iters=N, power=1.0),
        N,  # torch's recursion divides 0/0 at t = T; the value there (0) is tested separately
    ),
    "LinearLR warmup": (
        S.warmup(S.constant(PEAK), steps=100, start=0.01),
        lambda o: L.LinearLR(o, start_factor=0.01, end_factor=1.0, total_iters=100),
        N,
    ),
    "LinearLR warmup + cosine (ChainedScheduler)": (
        S.warmup(S.cosine(N, peak=PEAK), steps=100, start=0.1),
        lambda o: L.ChainedScheduler([L.LinearLR(o, start_factor=0.1, total_iters=100), L.CosineAnnealingLR(o, T_max=N)]),
        N,
    ),
    "StepLR": (
        S.step_decay(150, gamma=0.5, peak=PEAK),
        lambda o: L.StepLR(o, step_size=150, gamma=0.5),
        N,
    ),
    "CyclicLR triangular": (  # 2 * 100 steps a cycle: 6 cycles
        S.triangular(100, end=FLOOR, high=PEAK),
        lambda o: L.CyclicLR(o, base_lr=FLOOR, max_lr=PEAK, step_size_up=100, mode="triangular"),
        N,
    ),
}


@pytest.mark.parametrize("name", list(PARITY))
def test_parity_with_torch(name):
    ours, make, steps = PARITY[name]
    theirs = S.trace_torch(make, steps, lr=PEAK)
    np.testing.assert_allclose(ours(np.arange(steps)), theirs, rtol=RTOL, atol=1e-15)


def test_parity_catches_a_wrong_curve():
    """The parity check is sharp: a cosine with T off by one fails it."""
    theirs = S.trace_torch(lambda o: L.CosineAnnealingLR(o, T_max=N), N, lr=PEAK)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(S.cosine(N + 1, peak=PEAK)(np.arange(N)), theirs, rtol=RTOL)


def test_linear_end_of_budget_is_zero_like_torch():
    theirs = S.trace_torch(lambda o: L.PolynomialLR(o, total_iters=50, power=1.0), 60, lr=PEAK)
    assert np.all(theirs[50:] == 0.0) and S.linear(50, peak=PEAK)(np.arange(50, 60)).max() == 0.0


def _train(model, opt, scheduler, steps, seed=None, gen=None):
    """Train for ``steps`` on a seeded data stream (or continue ``gen``); return the LRs."""
    gen = torch.Generator().manual_seed(seed) if gen is None else gen
    lrs = []
    for _ in range(steps):
        x = torch.randn(16, 4, generator=gen)
        loss = (model(x) - x.sum(1, keepdim=True)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        scheduler.step()
        lrs.append(opt.param_groups[0]["lr"])
    return lrs


def _fresh(sched, reset=False):
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 1)
    opt = torch.optim.SGD(model.parameters(), lr=123.0, momentum=0.9)
    return model, opt, S.to_torch(opt, sched, reset_momentum=reset)


@pytest.mark.parametrize("reset", [False, True])
def test_resume_round_trip_is_exact(reset):
    sched = S.warmup(S.sgdr(30, mult=1.5, peak=0.05, end=1e-4, peak_decay=0.8), steps=10)
    k, n = 47, 150
    model, opt, scheduler = _fresh(sched, reset)
    straight = _train(model, opt, scheduler, n, seed=1)
    final = [p.detach().clone() for p in model.parameters()]

    model, opt, scheduler = _fresh(sched, reset)
    first = _train(model, opt, scheduler, k, seed=1)
    buf = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": scheduler.state_dict()}, buf)
    buf.seek(0)
    saved = torch.load(buf, weights_only=False)

    model2 = torch.nn.Linear(4, 1)
    opt2 = torch.optim.SGD(model2.parameters(), lr=0.5, momentum=0.9)
    scheduler2 = S.to_torch(opt2, sched, reset_momentum=reset)
    model2.load_state_dict(saved["model"])
    opt2.load_state_dict(saved["opt"])
    scheduler2.load_state_dict(saved["sched"])
    assert opt2.param_groups[0]["lr"] == opt.param_groups[0]["lr"]

    gen_state = torch.Generator().manual_seed(1)  # replay the data stream to step k
    for _ in range(k):
        torch.randn(16, 4, generator=gen_state)
    lrs = _train(model2, opt2, scheduler2, n - k, gen=gen_state)
    assert first + lrs == straight  # identical learning rates, bit for bit
    assert lrs == list(sched(np.arange(k + 1, n + 1)))
    for a, b in zip(final, model2.parameters()):
        assert torch.equal(a, b)  # and identical weights


def test_state_dict_has_no_code():
    _, opt, scheduler = _fresh(S.cosine(10))
    sd = scheduler.state_dict()
    assert "schedule" not in sd and "optimizer" not in sd
    torch.save(sd, io.BytesIO())  # picklable although the schedule holds lambdas


def test_momentum_reset_at_restarts_only():
    sched = S.sgdr(20, mult=2, peak=0.05)
    model, opt, scheduler = _fresh(sched, reset=True)
    seen_reset = []
    for step in range(1, 150):
        opt.zero_grad()
        model(torch.ones(1, 4)).sum().backward()
        opt.step()
        scheduler.step()
        buf = opt.state[model.weight].get("momentum_buffer")
        seen_reset.append(buf is None)
    assert scheduler.momentum_resets == [20, 60, 140]
    assert [i + 1 for i, r in enumerate(seen_reset) if r] == [20, 60, 140]

    _, _, plain = _fresh(sched, reset=False)
    assert plain.momentum_resets == []


def test_reset_momentum_changes_the_trajectory():
    sched = S.sgdr(10, peak=0.05)
    runs = []
    for reset in (False, True):
        model, opt, scheduler = _fresh(sched, reset)
        _train(model, opt, scheduler, 30, seed=3)
        runs.append(model.weight.detach().clone())
    assert not torch.equal(*runs)


def test_reset_momentum_adam_is_a_fresh_start():
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([p], lr=0.1)
    for _ in range(5):
        p.grad = torch.ones(3)
        opt.step()
    assert S.reset_momentum(opt) == 3          # exp_avg, exp_avg_sq, step
    assert len(opt.state[p]) == 0
    before = p.detach().clone()
    p.grad = torch.ones(3)
    opt.step()
    # a fresh Adam's first update is lr * sign(g); keeping the step count made it ~10x smaller
    assert torch.allclose(before - p.detach(), torch.full((3,), 0.1), rtol=1e-4)


def test_relative_mode_scales_each_group():
    a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b], "lr": 0.1}], lr=1.0)
    S.to_torch(opt, S.constant(0.5), relative=True)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.05]


def test_to_torch_rejects_non_schedule():
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="schedule"):
        S.to_torch(opt, lambda t: 1.0)


def test_momentum_reset_at_exact_restarts_non_integer_mult():
    """sgdr(43, mult=1.1) restarts at 43 (and sgdr(10, 1.3) at 23) with the peak: momentum is
    reset exactly there, where the learning rate jumps back up (not at the floor)."""
    for sched, steps in ((S.sgdr(43, mult=1.1, peak=0.05), 400), (S.sgdr(10, mult=1.3, peak=0.05), 200)):
        model, opt, scheduler = _fresh(sched, reset=True)
        lrs = _train(model, opt, scheduler, steps, seed=4)   # lrs[k] is the LR of update k + 1
        expected = list(sched.restart_steps(steps + 1))
        assert scheduler.momentum_resets == expected and expected[:2] in ([43, 91], [10, 23])
        for r in expected:
            assert lrs[r - 1] == sched(r) and lrs[r - 1] > lrs[r - 2]  # the LR jumped back up at r


def test_readme_example_runs_and_is_hf_cosine_with_warmup():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    ns = {}
    exec(code, ns)  # noqa: S102 - our own README
    first = ns["S"].cosine(total=10_000, peak=3e-4, end=3e-5, warmup=500)
    assert "warmup=500" in code and "S.warmup(" not in code
    # HF's cosine with warmup (base lr 3e-4, min_lr 3e-5): linear from 0 over 500 steps,
    # then the cosine over the remaining 9,500 steps
    t = np.arange(10_001)
    hf = np.where(t < 500, 3e-4 * t / 500,
                  3e-5 + (3e-4 - 3e-5) * 0.5 * (1 + np.cos(np.pi * np.clip(t - 500, 0, 9500) / 9500)))
    np.testing.assert_allclose(first(t), hf, rtol=1e-12, atol=1e-18)
    np.testing.assert_array_equal(ns["lrs"], first(np.arange(10_000)))
    assert isinstance(ns["scheduler"], torch.optim.lr_scheduler.LRScheduler)
