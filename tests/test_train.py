"""Tests for lrnotes.nets.models and lrnotes.nets.train: batched training equals one-by-one training."""

import numpy as np
import pytest
import torch

from lrnotes.nets import data as D
from lrnotes import schedules as S
from lrnotes.nets import train as T
from lrnotes.nets.models import BatchedMLP, derive_seed, init_params, mlp, stacked_losses


@pytest.fixture(scope="module")
def digits64():
    return D.digits(seed=0, dtype=torch.float64)


@pytest.fixture(scope="module")
def digits32():
    return D.digits(seed=0)


STEPS = 60
SCHEDS = {"cosine": S.cosine(STEPS, peak=0.2), "wsd": S.wsd(STEPS, peak=0.1, warmup=5, decay_frac=0.3)}


# --------------------------------------------------------------------------- models
def test_batched_mlp_equals_its_unstacked_models(digits64):
    model = BatchedMLP([64, 16, 10], seeds=[3, 4, 5], dtype=torch.float64)
    x, y = digits64.x_train[:50], digits64.y_train[:50]
    out = model(x)
    assert out.shape == (3, 50, 10)
    for m, seed in enumerate([3, 4, 5]):
        net = model.unstack(m)
        torch.testing.assert_close(out[m], net(x), rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(mlp([64, 16, 10], seed, dtype=torch.float64)(x), net(x))
        torch.testing.assert_close(model.loss(x, y)[m], torch.nn.functional.cross_entropy(net(x), y))
    per_model_x = x.expand(3, 50, 64)
    torch.testing.assert_close(model(per_model_x), out)
    # nn.Linear's init distribution, from the seed only, the same in float32 and float64
    (w, b), _ = init_params([64, 16, 10], seed=3, dtype=torch.float64)
    assert w.shape == (64, 16) and w.abs().max() <= 1 / 8 and b.abs().max() <= 1 / 8
    assert w.std().item() == pytest.approx(1 / 8 / np.sqrt(3), rel=0.1)
    w32 = init_params([64, 16, 10], seed=3)[0][0]
    torch.testing.assert_close(w32, w.float())
    assert derive_seed(3, 0) != derive_seed(3, 1) != derive_seed(4, 1)


def test_model_arguments():
    with pytest.raises(ValueError, match=r"sizes must list at least the input and output widths"):
        BatchedMLP([64], seeds=[0])
    with pytest.raises(ValueError, match=r"sizes\[1\] must be an integer >= 1"):
        BatchedMLP([64, 0, 10], seeds=[0])
    with pytest.raises(ValueError, match=r"seeds must hold at least one seed"):
        BatchedMLP([64, 10], seeds=[])
    with pytest.raises(ValueError, match=r"seeds\[1\] must be an integer >= 0"):
        BatchedMLP([64, 10], seeds=[0, -1])
    with pytest.raises(ValueError, match=r"activation must be one of"):
        mlp([64, 10], 0, activation="gelu")
    model = BatchedMLP([4, 3], seeds=[0, 1])
    with pytest.raises(ValueError, match=r"x must have shape \(B, 4\) or \(2, B, 4\)"):
        model(torch.zeros(3, 5))
    with pytest.raises(ValueError, match=r"m must be in \[0, 2\)"):
        model.unstack(2)
    with pytest.raises(ValueError, match=r"models must share sizes"):
        stacked_losses([model, BatchedMLP([4, 2], seeds=[0, 1])], torch.zeros(5, 4), torch.zeros(5, dtype=torch.long))


def test_stacked_losses_equal_separate_losses(digits64):
    models = [BatchedMLP([64, 8, 10], seeds=[0, 1], dtype=torch.float64) for _ in range(3)]
    with torch.no_grad():
        for g, m in enumerate(models):
            for p in m.parameters():
                p.mul_(1 + 0.1 * g)                     # make the three stacks different
    idx = torch.stack([torch.arange(32), torch.arange(32, 64)])
    x, y = digits64.x_train[idx], digits64.y_train[idx]
    got = stacked_losses(models, x, y)
    want = torch.stack([m.loss(x, y) for m in models])
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    got.sum().backward()
    g1 = [p.grad.clone() for p in models[1].parameters()]
    for m in models:
        m.zero_grad()
    models[1].loss(x, y).sum().backward()
    for a, p in zip(g1, models[1].parameters()):
        torch.testing.assert_close(a, p.grad, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- batched == sequential
@pytest.mark.parametrize("kw", [
    dict(optimizer="sgd", momentum=0.9, clip_norm=1.0),
    dict(optimizer="sgd", momentum=0.8, nesterov=True, weight_decay=1e-3),
    dict(optimizer="adam", betas=(0.9, 0.99), beta1=S.linear(STEPS, peak=0.95, end=0.5)),
    dict(optimizer="adam_exact", beta1=S.linear(STEPS, peak=0.95, end=0.5), clip_norm=0.5),
])
def test_batched_training_equals_sequential_training(digits64, kw):
    scheds = SCHEDS if kw["optimizer"] == "sgd" else {k: S.cosine(STEPS, peak=0.01) for k in ("a", "b")}
    a = T.train(digits64, scheds, [0, 1, 2], STEPS, eval_every=20, hidden=(16,), batch_size=32,
                dtype=torch.float64, **kw)
    b = T.train_sequential(digits64, scheds, [0, 1, 2], STEPS, eval_every=20, hidden=(16,), batch_size=32,
                           dtype=torch.float64, **kw)
    assert a.loss.shape == (2, 3, STEPS) and a.test_acc.shape == (2, 3, 4)
    np.testing.assert_array_equal(a.eval_steps, [0, 20, 40, 60])
    np.testing.assert_array_equal(a.eval_steps, b.eval_steps)
    np.testing.assert_allclose(a.lr, b.lr, rtol=1e-15)
    for f in ("loss", "grad_norm", "train_loss", "test_loss", "train_acc", "test_acc"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-9, atol=1e-12, err_msg=f)
    assert a.loss[..., -5:].mean() < 0.6 * a.loss[..., :5].mean()     # it learned
    if kw.get("clip_norm"):
        assert np.mean(a.grad_norm > kw["clip_norm"]) > 0.2           # clipping was active


def test_batched_float32_close_to_sequential(digits32):
    kw = dict(hidden=(64,), batch_size=64, optimizer="sgd", momentum=0.9)
    a = T.train(digits32, SCHEDS, [0, 1], STEPS, **kw)
    b = T.train_sequential(digits32, SCHEDS, [0, 1], STEPS, **kw)
    np.testing.assert_allclose(a.loss, b.loss, rtol=1e-5, atol=1e-6)


def test_models_are_independent(digits64):
    """Model (g, m) depends on its seed only, not on which other seeds share the stack."""
    a = T.train(digits64, SCHEDS, [0, 1, 2], 30, hidden=(8,), batch_size=16, dtype=torch.float64,
                momentum=0.9, clip_norm=0.3)
    b = T.train(digits64, SCHEDS, [7, 1], 30, hidden=(8,), batch_size=16, dtype=torch.float64,
                momentum=0.9, clip_norm=0.3)
    np.testing.assert_allclose(a.loss[:, 1], b.loss[:, 1], rtol=1e-12)
    assert not np.allclose(a.loss[:, 0], b.loss[:, 0])
    # every group sees the same batches: at step 0 (same init) the losses agree across schedules
    np.testing.assert_allclose(a.loss[0, :, 0], a.loss[1, :, 0])


def test_lr_follows_the_schedule_and_momentum_reset(digits64):
    sched = S.sgdr(10, peak=0.1, end=0.001)
    kw = dict(hidden=(8,), momentum=0.9, dtype=torch.float64)
    tr = T.Trainer(digits64, {"sgdr": sched}, [0], reset_momentum=True, **kw)
    res = tr.run(35)
    np.testing.assert_allclose(res.lr[0], sched(np.arange(35)), rtol=1e-15)
    assert tr.schedulers["sgdr"].momentum_resets == [10, 20, 30]
    # a run resumed with resets switched on resets from then on (the flag is this trainer's)
    plain = T.Trainer(digits64, {"sgdr": sched}, [0], **kw)
    plain.run(15)
    resumed = T.Trainer(digits64, {"sgdr": sched}, [0], reset_momentum=True, **kw).load_state_dict(plain.state_dict())
    resumed.run(35)
    assert resumed.schedulers["sgdr"].momentum_resets == [20, 30]


# --------------------------------------------------------------------------- checkpoints
def test_checkpoint_resume_is_exact(digits64, tmp_path):
    kw = dict(hidden=(8,), batch_size=100, momentum=0.9, dtype=torch.float64)   # 13 batches / epoch
    full = T.Trainer(digits64, SCHEDS, [0, 1], **kw).run(STEPS, eval_every=15)
    first = T.Trainer(digits64, SCHEDS, [0, 1], **kw)
    first.run(25, eval_every=15)
    first.save(tmp_path / "ckpt.pt")
    second = T.Trainer(digits64, SCHEDS, [0, 1], **kw).load(tmp_path / "ckpt.pt")
    assert second.step == 25
    res = second.run(STEPS, eval_every=15)
    for f in ("lr", "loss", "grad_norm"):
        np.testing.assert_array_equal(getattr(res, f), getattr(full, f), err_msg=f)
    np.testing.assert_array_equal(res.eval_steps, [0, 15, 25, 30, 45, 60])   # + the stop at 25
    keep = np.isin(res.eval_steps, full.eval_steps)
    np.testing.assert_array_equal(res.test_loss[..., keep], full.test_loss)
    np.testing.assert_array_equal(res.train_acc[..., keep], full.train_acc)


def test_resume_with_a_new_budget_switches_the_schedule_at_once(digits64):
    old = S.cosine(100, peak=0.1)
    tr = T.Trainer(digits64, {"cos": old}, [0, 1], hidden=(8,), momentum=0.9, dtype=torch.float64)
    tr.run(40)
    state = tr.state_dict()
    restart = S.sequence([old, S.linear(30, peak=0.1)], boundaries=[40])     # decay afresh from the peak
    policies = {"keep": old, "restart": restart, "retarget": S.retarget(old, at=40, total=70)}
    branch = T.Trainer(digits64, policies, [0, 1], hidden=(8,), momentum=0.9, dtype=torch.float64)
    branch.load_state_dict(state, groups=[0, 0, 0])
    res = branch.run(70)
    for g, sched in enumerate(policies.values()):
        np.testing.assert_allclose(res.lr[g, :40], old(np.arange(40)))       # the shared history
        assert res.lr[g, 40] == pytest.approx(sched(40))                      # the new schedule at once
    assert res.lr[1, 40] / res.lr[0, 39] > 1.4                                # the naive restart jumps
    assert res.lr[2, 40] == pytest.approx(old(40))                            # retarget does not
    np.testing.assert_array_equal(res.loss[0, :, :40], res.loss[2, :, :40])
    # branches are independent copies: the same schedule twice gives the same run as the
    # original trainer going on (no optimizer state shared between them or with it)
    twins = T.Trainer(digits64, {"a": old, "b": old}, [0, 1], hidden=(8,), momentum=0.9, dtype=torch.float64)
    twins.load_state_dict(state, groups=[0, 0])
    got = twins.run(70)
    want = tr.run(70)
    np.testing.assert_array_equal(got.loss[0], want.loss[0])
    np.testing.assert_array_equal(got.loss[1], want.loss[0])
    with pytest.raises(ValueError, match=r"groups must list"):
        branch.load_state_dict(state, groups=[0, 1, 0])
    other = T.Trainer(digits64, {"cos": old}, [0, 1], hidden=(16,), dtype=torch.float64)
    with pytest.raises(ValueError, match=r"configuration .* differs"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match=r"state must come from Trainer.state_dict"):
        other.load_state_dict({"step": 3})


# --------------------------------------------------------------------------- Adam with scheduled beta1
def test_scheduled_adam_standard_is_torch_adam():
    gen = torch.Generator().manual_seed(0)
    A = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    p1 = torch.nn.Parameter(torch.randn(6, generator=gen, dtype=torch.float64))
    p2 = torch.nn.Parameter(p1.detach().clone())
    o1 = torch.optim.Adam([p1], lr=0.05, betas=(0.9, 0.99), weight_decay=0.01)
    o2 = T.ScheduledAdam([p2], lr=0.05, betas=(0.9, 0.99), weight_decay=0.01, correction="standard")
    for t in range(50):
        for o in (o1, o2):
            o.param_groups[0]["betas"] = (0.95 - 0.008 * t, 0.99)
        for p, o in ((p1, o1), (p2, o2)):
            o.zero_grad()
            (A @ p).pow(2).sum().backward()
            o.step()
    torch.testing.assert_close(p1, p2, rtol=1e-13, atol=1e-13)


def test_scheduled_adam_exact_averages_a_constant_gradient():
    g = torch.tensor([3.0, -0.25], dtype=torch.float64)
    p = torch.nn.Parameter(torch.zeros(2, dtype=torch.float64))
    opt = T.ScheduledAdam([p], lr=0.01, betas=(0.99, 0.999), correction="exact")
    prev = p.detach().clone()
    for t in range(40):
        opt.param_groups[0]["betas"] = (0.99 if t < 15 else 0.3, 0.999)
        if t == 25:
            S.reset_momentum(opt)
        p.grad = g.clone()
        opt.step()
        step = p.detach() - prev
        prev = p.detach().clone()
        torch.testing.assert_close(step, -0.01 * g / (g.abs() + 1e-8), rtol=1e-12, atol=0)


# --------------------------------------------------------------------------- results and errors
def test_result_helpers():
    loss = np.array([[[5.0, 4.0, 3.0, 2.0, 1.0], [5.0, 5.0, 5.0, 5.0, 5.0]]])
    res = T.TrainResult(names=["a"], seeds=[0, 1], lr=np.ones((1, 5)), loss=loss, grad_norm=loss,
                        eval_steps=np.array([5]), train_loss=np.zeros((1, 2, 1)), train_acc=np.zeros((1, 2, 1)),
                        test_loss=np.zeros((1, 2, 1)), test_acc=np.array([[[0.5], [0.7]]]))
    assert res.steps == 5
    np.testing.assert_array_equal(res.steps_to(3.0, window=2), [[3, -1]])   # mean(3, 2) <= 3 at t = 3
    np.testing.assert_array_equal(res.steps_to(3.0, window=1), [[2, -1]])
    mean, std = res.mean_std("test_acc")
    np.testing.assert_allclose(mean, [[0.6]])
    np.testing.assert_allclose(std, [[np.std([0.5, 0.7], ddof=1)]])
    with pytest.raises(ValueError, match=r"name must be a \(schedules, seeds, \.\.\.\) field"):
        res.mean_std("lr")


def test_progress_bar_only_on_request(monkeypatch):
    assert T._progress(range(3), 3, False, "x") == range(3)
    monkeypatch.setenv("LRNOTES_SCALE", "quick")
    assert T._progress(range(3), 3, None, "x") == range(3)
    monkeypatch.setenv("LRNOTES_SCALE", "full")
    bar = T._progress(range(3), 3, None, "x")
    assert list(bar) == [0, 1, 2] and type(bar).__module__.startswith("tqdm")
    assert T.default_device() == ("cuda" if torch.cuda.is_available() else "cpu")
    monkeypatch.setenv("LRNOTES_SCALE", "quick")
    assert T.default_device() == "cpu"


def test_bad_arguments(digits64):
    s = S.constant(0.1)
    cases = [
        (dict(optimizer="lbfgs"), r"optimizer must be one of"),
        (dict(nesterov=True), r"nesterov=True needs optimizer='sgd' and momentum > 0"),
        (dict(optimizer="adam", momentum=0.9), r"momentum is for optimizer='sgd'"),
        (dict(momentum=1.0), r"momentum must be in \[0.0, 1.0\)"),
        (dict(batch_size=5000), r"batch_size must be at most the training-set size 1347"),
        (dict(batch_size=0), r"batch_size must be an integer >= 1"),
        (dict(hidden=(0,)), r"hidden\[0\] must be an integer >= 1"),
        (dict(activation="sigmoid"), r"activation must be one of \('relu', 'tanh'\)"),
        (dict(clip_norm=-1.0), r"clip_norm must be in \(0.0, inf\)"),
        (dict(beta1=S.constant(0.9)), r"beta1 .* needs optimizer 'adam'"),
        (dict(optimizer=lambda ps: torch.optim.SGD(ps, lr=0.1), momentum=0.9), r"with an optimizer factory"),
    ]
    for kw, msg in cases:
        with pytest.raises(ValueError, match=msg):
            T.Trainer(digits64, s, [0], **kw)
    with pytest.raises(ValueError, match=r"seeds must be a non-empty list of distinct integers"):
        T.Trainer(digits64, s, [1, 1])
    with pytest.raises(ValueError, match=r"schedules\['a'\] must be an lrnotes Schedule"):
        T.Trainer(digits64, {"a": 0.1}, [0])
    with pytest.raises(ValueError, match=r"data must be an lrnotes.nets.data.Dataset"):
        T.Trainer(None, s, [0])
    tr = T.Trainer(digits64, s, [0], optimizer=lambda ps: torch.optim.SGD(ps, lr=0.0, momentum=0.5))
    tr.run(3)
    assert tr.optimizers["constant"].param_groups[0]["lr"] == 0.1
    with pytest.raises(ValueError, match=r"until must be an integer >= 3"):
        tr.run(2)
    with pytest.raises(ValueError, match=r"beta1\(0\) must be in \[0, 1\)"):
        T.Trainer(digits64, s, [0], optimizer="adam", beta1=S.constant(1.5)).run(1)
