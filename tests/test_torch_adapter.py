"""The traps of the torch adapter (issue 19): per-group learning rates, resets with every
torch.optim optimizer, checkpoints and constructor flags, ReduceLROnPlateau, epochs."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lrnotes.schedules as S  # noqa: E402

OPTIMIZERS = sorted((c for c in vars(torch.optim).values()
                     if inspect.isclass(c) and issubclass(c, torch.optim.Optimizer)
                     and c is not torch.optim.Optimizer), key=lambda c: c.__name__)
KWARGS = {"SGD": dict(momentum=0.9), "RMSprop": dict(momentum=0.9), "Muon": dict(momentum=0.95)}


def _two_groups(lr0=0.1, lr1=0.001):
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    return torch.optim.SGD([{"params": [a], "lr": lr0}, {"params": [b], "lr": lr1}], momentum=0.9)


def test_one_absolute_schedule_does_not_flatten_group_lrs():
    with pytest.raises(ValueError, match="relative=True"):
        S.to_torch(_two_groups(), S.cosine(10, 0.1))
    S.to_torch(_two_groups(0.1, 0.1), S.cosine(10, 0.1))   # equal rates: nothing to flatten


def test_relative_keeps_the_groups_ratio():
    opt = _two_groups()
    S.to_torch(opt, S.constant(0.5), relative=True)
    assert [g["lr"] for g in opt.param_groups] == pytest.approx([0.05, 0.0005])


def test_one_schedule_per_group():
    opt = _two_groups()
    sch = S.to_torch(opt, [S.cosine(10, 0.1), S.cosine(10, 0.001)])
    for t in range(10):
        assert [g["lr"] for g in opt.param_groups] == pytest.approx(
            [float(S.cosine(10, 0.1)(t)), float(S.cosine(10, 0.001)(t))])
        opt.step()
        sch.step()
    with pytest.raises(ValueError, match="one schedule per parameter group"):
        S.to_torch(_two_groups(), [S.cosine(10, 0.1)])


def _build(cls, params):
    if cls.__name__ == "SparseAdam":
        return None
    kw = KWARGS.get(cls.__name__, {})
    return cls(params, lr=0.01, **kw)


@pytest.mark.parametrize("cls", OPTIMIZERS, ids=lambda c: c.__name__)
def test_reset_momentum_works_with_every_optimizer(cls):
    if cls.__name__ == "SparseAdam":
        emb = torch.nn.Embedding(4, 3, sparse=True)
        opt, params = cls(emb.parameters(), lr=0.01), list(emb.parameters())
        loss = lambda: emb(torch.tensor([0, 1])).sum()  # noqa: E731
    else:
        w = torch.nn.Parameter(torch.ones(3, 3))       # a matrix: Muon takes 2-D parameters
        opt, params = _build(cls, [w]), [w]
        loss = lambda: (w ** 2).sum()  # noqa: E731
    sched = S.to_torch(opt, S.sgdr(3, peak=0.01), reset_momentum=True)

    def closure():
        opt.zero_grad()
        out = loss()
        out.backward()
        return out

    for _ in range(8):
        closure()
        opt.step(closure) if cls.__name__ == "LBFGS" else opt.step()
        sched.step()
    assert sched.momentum_resets == [3, 6]
    assert all(torch.isfinite(p).all() for p in params)


def test_flags_of_the_constructor_win_over_a_checkpoint():
    opt = _two_groups(0.1, 0.1)
    old = S.to_torch(opt, S.sgdr(3, peak=0.1))
    for _ in range(4):
        opt.step()
        old.step()
    new = S.to_torch(_two_groups(0.1, 0.1), S.sgdr(3, peak=0.1), reset_momentum=True)
    new.load_state_dict(old.state_dict())
    assert new.reset_momentum is True and new.last_epoch == 4


def test_state_dict_copies_momentum_resets():
    opt = _two_groups(0.1, 0.1)
    sch = S.to_torch(opt, S.sgdr(2, peak=0.1), reset_momentum=True)
    for _ in range(3):
        opt.step()
        sch.step()
    sd = sch.state_dict()
    sd["momentum_resets"].append(99)
    assert 99 not in sch.momentum_resets
    new = S.to_torch(_two_groups(0.1, 0.1), S.sgdr(2, peak=0.1), reset_momentum=True)
    new.load_state_dict(sd)
    sd["momentum_resets"].append(98)
    assert 98 not in new.momentum_resets


def test_reduce_lr_on_plateau_cuts_survive():
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=1.0)
    sched = S.to_torch(opt, S.cosine(100, 1.0))
    plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, factor=0.5, patience=0)
    cut_at = None
    for t in range(20):
        opt.step()
        sched.step()
        plateau.step(1.0)                      # never improves: cuts every epoch after the first
        if cut_at is None and opt.param_groups[0]["lr"] < float(S.cosine(100, 1.0)(t + 1)) - 1e-12:
            cut_at = t
    assert cut_at is not None
    lr = opt.param_groups[0]["lr"]
    opt.step()
    sched.step()
    # the next schedule step keeps the cuts: lr = factor * cosine(t), factor < 1
    factor = sched.plateau_factors[0]
    assert factor < 0.01
    assert opt.param_groups[0]["lr"] == pytest.approx(factor * float(S.cosine(100, 1.0)(21)))
    assert opt.param_groups[0]["lr"] < lr


def test_updates_per_epoch_gives_fractional_epochs_and_resumes():
    sched_e = S.sgdr(2, peak=1.0)                    # written in epochs
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=1.0, momentum=0.9)
    sch = S.to_torch(opt, sched_e, updates_per_epoch=4, reset_momentum=True)
    lrs = []
    for t in range(12):
        lrs.append(opt.param_groups[0]["lr"])
        w.grad = torch.ones(1)
        opt.step()
        sch.step()
        if t == 5:
            sd = sch.state_dict()
    assert lrs == pytest.approx([float(sched_e(t / 4)) for t in range(12)])
    assert sch.momentum_resets == [8]              # epoch 2 begins at update 8
    opt2 = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
    sch2 = S.to_torch(opt2, sched_e, updates_per_epoch=4)
    sch2.load_state_dict(sd)
    got = []
    for t in range(6, 12):
        opt2.step()
        sch2.step()
        got.append(opt2.param_groups[0]["lr"])
    assert got[:-1] == pytest.approx(lrs[7:12])
    with pytest.raises(ValueError, match="updates_per_epoch"):
        S.to_torch(opt2, sched_e, updates_per_epoch=0)
    with pytest.raises(ValueError, match="updates_per_epoch"):
        S.to_torch(torch.optim.SGD([w], lr=1.0), sched_e, updates_per_epoch=2).load_state_dict(sd)


def test_plateau_factors_resume_and_loading_is_no_cut():
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=1.0)
    sched = S.to_torch(opt, S.constant(1.0))
    opt.step()
    sched.step()
    opt.param_groups[0]["lr"] *= 0.5                 # a plateau cut
    opt.step()
    sched.step()
    assert sched.plateau_factors == [0.5]
    sd = sched.state_dict()
    opt2 = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.01)   # lower lr: not a cut
    sched2 = S.to_torch(opt2, S.constant(0.01))
    sched2.load_state_dict(sd)
    opt2.step()
    sched2.step()
    assert sched2.plateau_factors == [0.5]
    assert opt2.param_groups[0]["lr"] == pytest.approx(0.005)


@pytest.mark.parametrize("rng", S.NOISE_RNGS)
def test_lr_noise_resumes_exactly_and_per_epoch_is_one_draw_an_epoch(rng):
    """S.noisy is a function of (seed, step): a run resumed from a checkpoint gets the
    same noisy rates bit for bit.  Stepped in epochs (updates_per_epoch), each epoch has
    one draw, that of seed + epoch, as timm's per-epoch noise (step(epoch)) has."""
    sched_e = S.noisy(S.cosine(10, 1.0, 0.01), (2, 8), pct=0.3, seed=5, rng=rng)
    w = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([w], lr=1.0)
    sch = S.to_torch(opt, sched_e, updates_per_epoch=4)
    lrs = []
    for t in range(40):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
        if t == 13:
            sd = sch.state_dict()
    assert lrs == [float(sched_e(t / 4)) for t in range(40)]
    eps = np.array(lrs) / S.cosine(10, 1.0, 0.01)(np.arange(40) / 4) - 1
    assert np.all(np.abs(eps[:8]) < 1e-15) and np.all(np.abs(eps[32:]) < 1e-15)
    per_epoch = eps[8:32].reshape(6, 4)
    np.testing.assert_allclose(per_epoch, np.repeat(per_epoch[:, :1], 4, axis=1), rtol=0, atol=1e-14)
    assert np.all(np.abs(per_epoch) > 1e-9) and np.abs(per_epoch).max() < 0.3
    assert np.min(np.abs(np.diff(per_epoch[:, 0]))) > 1e-9  # a new draw each epoch
    if rng == "torch":  # timm's draw for epoch e: torch.Generator seeded with seed + e
        for e, got_e in zip(range(2, 8), per_epoch[:, 0]):
            g = torch.Generator()
            g.manual_seed(5 + e)
            while abs(noise := torch.randn(1, generator=g).item()) >= 0.3:
                pass
            assert got_e == pytest.approx(noise, abs=1e-14)
    opt2 = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    sch2 = S.to_torch(opt2, sched_e, updates_per_epoch=4)
    sch2.load_state_dict(sd)
    got = []
    for t in range(14, 39):  # update 14's rate is in the optimizer's checkpoint, not loaded here
        opt2.step()
        sch2.step()
        got.append(opt2.param_groups[0]["lr"])
    assert got == lrs[15:]
