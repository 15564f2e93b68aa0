"""Tests for lrnotes.nets.anytime: the loss trigger, schedule-free SGD, branched cooldowns."""

import numpy as np
import pytest
import torch

from lrnotes.nets import anytime as A
from lrnotes.nets import data as D
from lrnotes.sim import landscapes as LS
from lrnotes import schedules as S
from lrnotes.nets import train as T


@pytest.fixture(scope="module")
def digits64():
    return D.digits(seed=0, dtype=torch.float64)


# --------------------------------------------------------------------------- the trigger
def test_trigger_formula_by_hand():
    trig = A.LossTrigger(eps=0.1, lstar=1.0, smooth=0.5)
    assert np.allclose(trig.factor([3.0, 5.0]), [1.0, 1.0])        # P = 1
    f = trig.factor([1.1, 1.0])                                     # EMA 2.05, 3.0
    p = (np.array([2.05, 3.0]) - 1.0) / (np.array([3.0, 5.0]) - 1.0)
    assert np.allclose(f, np.clip(p / 0.1, 0, 1))
    f = trig.factor([0.0, 1.0])                                     # EMA 1.025, 2.0
    assert np.allclose(f, [(0.025 / 2) / 0.1, 1.0])
    f = trig.factor([0.0, 1.0])                                     # EMA 0.5125 < L*
    assert f[0] == 0.0                                              # clipped: no ascent
    assert len(trig.factors) == 4


def test_trigger_bad_input():
    with pytest.raises(ValueError, match=r"eps must be in"):
        A.LossTrigger(eps=0.0)
    with pytest.raises(ValueError, match=r"smooth must be in"):
        A.LossTrigger(smooth=1.0)
    with pytest.raises(ValueError, match=r"above the guessed L\*"):
        A.LossTrigger(lstar=2.0).factor([1.0])
    with pytest.raises(ValueError, match=r"finite"):
        A.LossTrigger().factor([np.nan])


def test_run_trigger_matches_a_plain_loop():
    q = LS.Quadratic([0.5, 1.0])
    x0 = np.array([2.0, -1.0])
    r = A.run_trigger(q, 0.3, A.LossTrigger(eps=1.0, lstar=0.0, smooth=0.0), 30, x0, 3,
                      np.random.default_rng(0))
    x, f0 = x0.copy(), q.gap(x0)
    for t in range(30):
        lr = 0.3 * min(1.0, q.gap(x) / f0)
        assert r.lr[0, t] == pytest.approx(lr, rel=1e-12)
        x = x - lr * q.grad(x)
    assert r.gap[0, -1] == pytest.approx(q.gap(x), rel=1e-12)
    assert np.all(r.triggered == 1)            # the factor drops below 1 at step 1
    with pytest.raises(ValueError, match=r"fresh LossTrigger"):
        trig = A.LossTrigger()
        trig.factor([1.0])
        A.run_trigger(q, 0.3, trig, 5, x0, 1, np.random.default_rng(0))


def test_trigger_as_a_trainer_hook(digits64):
    trig = A.LossTrigger(eps=0.5, lstar=0.0, smooth=0.0)
    res = T.train(digits64, {"c": S.constant(0.1)}, [0, 1], 20, lr_factor=trig.hook)
    f = np.array(trig.factors)                            # (20, 1, 2)
    np.testing.assert_allclose(f[:, 0], np.clip(res.loss[0].T / res.loss[0, :, :1].T / 0.5, 0, 1))


# --------------------------------------------------------------------------- schedule-free SGD
def sf_reference(grad, z0, lr, beta, steps):
    """The paper's three sequences: y = (1-b) z + b x; z -= lr g(y); x = (1-c) x + c z."""
    x = z = np.array(z0, dtype=float)
    for t in range(steps):
        y = (1 - beta) * z + beta * x
        z = z - lr * grad(y)
        c = 1.0 / (t + 1)           # uniform average of z_1..z_{t+1} (x_1 = z_1)
        x = (1 - c) * x + c * z
    return x, (1 - beta) * z + beta * x


def test_schedule_free_package_follows_the_paper():
    H = torch.tensor([3.0, 0.5], dtype=torch.float64)
    p = torch.nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = A.schedule_free_sgd(momentum=0.8)([p])
    for _ in range(25):
        opt.zero_grad()
        (0.5 * (H * p * p).sum()).backward()
        opt.param_groups[0]["lr"] = 0.1
        opt.step()
    y_pkg = p.detach().numpy().copy()
    opt.eval()
    x_pkg = p.detach().numpy().copy()
    x_ref, y_ref = sf_reference(lambda v: H.numpy() * v, [1.0, -2.0], 0.1, 0.8, 25)
    np.testing.assert_allclose(x_pkg, x_ref, rtol=1e-10)
    np.testing.assert_allclose(y_pkg, y_ref, rtol=1e-10)


def test_evaluate_at_average(digits64):
    tr = T.Trainer(digits64, {"sf": S.constant(0.5)}, [0, 1], optimizer=A.schedule_free_sgd())
    tr.run(30)
    at_y = tr.evaluate()["train_loss"]
    at_x = A.evaluate_at_average(tr)["train_loss"]
    assert not np.allclose(at_y, at_x)
    assert tr.optimizers["sf"].param_groups[0]["train_mode"]          # back in train mode
    np.testing.assert_allclose(tr.evaluate()["train_loss"], at_y, rtol=1e-12)


# --------------------------------------------------------------------------- branches
def test_branched_cooldown_equals_wsd_from_scratch(digits64):
    stops, peaks, seeds = [20, 40], [0.05, 0.1], [0, 1]
    br = A.cooldown_branches(digits64, peaks, stops, seeds, frac=0.25, batch_size=32)
    assert br.steps_trained == 40 + 5 + 10
    for k, Tk in enumerate(stops):
        ref = T.train(digits64, {p: S.wsd(Tk, p, decay_steps=Tk // 4) for p in peaks}, seeds, Tk,
                      batch_size=32)
        np.testing.assert_allclose(br.wsd_train[k], ref.train_loss[:, :, -1], rtol=1e-12)
        const = T.train(digits64, {p: S.constant(p) for p in peaks}, seeds, Tk, batch_size=32)
        np.testing.assert_allclose(br.constant_train[k], const.train_loss[:, :, -1], rtol=1e-12)


def test_branches_bad_input(digits64):
    with pytest.raises(ValueError, match=r"increasing"):
        A.cooldown_branches(digits64, [0.1], [40, 20], [0])
    with pytest.raises(ValueError, match=r"stops too close"):
        A.cooldown_branches(digits64, [0.1], [20, 22], [0], frac=0.5)
    with pytest.raises(ValueError, match=r"peaks\[0\] must be"):
        A.cooldown_branches(digits64, [0.0], [20], [0])
