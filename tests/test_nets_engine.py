"""Tests for lrnotes.nets.engine: the result classes' accessors and the shared argument checks."""

import numpy as np
import pytest

from lrnotes.nets import engine as E
from lrnotes.nets.federated import FedRun
from lrnotes.nets.train import TrainResult


def _result():
    train = np.arange(2 * 3 * 4, dtype=float).reshape(2, 3, 4)          # (G, M, E)
    return TrainResult(names=["a", "b"], seeds=[0, 1, 2], lr=np.ones((2, 6)), loss=np.zeros((2, 3, 6)),
                       grad_norm=np.zeros((2, 3, 6)), eval_steps=np.array([0, 2, 4, 6]), train_loss=train,
                       train_acc=-train, test_loss=100 + train, test_acc=-train)


def test_loss_at_reads_the_evaluations_by_name_and_step():
    res = _result()
    np.testing.assert_array_equal(res.loss_at("b"), res.train_loss[1, :, -1])
    np.testing.assert_array_equal(res.loss_at("b"), [15.0, 19.0, 23.0])
    np.testing.assert_array_equal(res.loss_at("a", 2), [1.0, 5.0, 9.0])       # eval_steps[1] == 2
    np.testing.assert_array_equal(res.loss_at(t=0), [[0.0, 4.0, 8.0], [12.0, 16.0, 20.0]])
    np.testing.assert_array_equal(res.loss_at("a", 6, "test"), [103.0, 107.0, 111.0])
    np.testing.assert_array_equal(res.loss_at("a", np.int64(4)), res.loss_at("a", 4))
    assert res.splits() == ["train", "test"]
    out = res.loss_at("a")
    out[:] = -1                                                           # a copy
    assert res.train_loss[0, 0, -1] == 3.0


@pytest.mark.parametrize("kw, match", [
    (dict(name="c"), r"name must be None or one of \['a', 'b'\], got 'c'"),
    (dict(name=0), r"name must be None or one of"),
    (dict(t=3), r"t must be -1 \(the last evaluation\) or an evaluation step, one of \[0, 2, 4, 6\], got 3"),
    (dict(t=-2), r"t must be -1"),
    (dict(t=2.0), r"t must be -1"),
    (dict(t=True), r"t must be -1"),
    (dict(split="val"), r"split must be one of \['train', 'test'\], got 'val'"),
    (dict(split="train_acc"), r"split must be one of"),
])
def test_loss_at_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        _result().loss_at(**kw)


def test_loss_at_of_a_federated_run_counts_rounds():
    tl = np.arange(1 * 2 * 4, dtype=float).reshape(1, 2, 4)
    run = FedRun(names=["x"], seeds=[0, 1], lr=np.ones((1, 3)), eval_steps=np.arange(4),
                 drift=np.zeros((1, 2, 3)), relative_drift=np.zeros((1, 2, 3)), train_loss=tl, test_acc=tl)
    np.testing.assert_array_equal(run.loss_at("x", 1), [1.0, 5.0])
    assert run.splits() == ["train"]
    with pytest.raises(ValueError, match=r"split must be one of \['train'\]"):
        run.loss_at(split="test")
    with pytest.raises(ValueError, match=r"name must be a \(schedules, seeds, \.\.\.\) field such as 'drift'"):
        run.mean_std("names")


def test_check_seeds():
    assert E.check_seeds((3, np.int64(1))) == [3, 1]
    assert E.check_seeds([2, 2], distinct=False) == [2, 2]
    with pytest.raises(ValueError, match=r"seeds must hold at least one seed"):
        E.check_seeds([])
    with pytest.raises(ValueError, match=r"distinct"):
        E.check_seeds([2, 2])
    with pytest.raises(ValueError, match=r"seeds\[1\] must be an integer >= 0"):
        E.check_seeds([0, -1])


def _two_models(seed=0):
    import torch
    g = torch.Generator().manual_seed(seed)
    w = torch.randn(3, 4, generator=g, dtype=torch.float64).requires_grad_()   # 3 models, 4 weights
    x = torch.randn(3, 4, generator=g, dtype=torch.float64)
    return w, x


def test_descend_clips_each_model_like_clip_grad_norm():
    import torch
    from lrnotes import schedules as S
    w, x = _two_models()
    ref = [w[m].detach().clone().requires_grad_() for m in range(3)]
    scale = torch.tensor([1.0, 10.0, 100.0], dtype=torch.float64)
    opt = torch.optim.SGD([w], lr=0.1)
    groups = E.Groups([opt], [S.to_torch(opt, S.linear(4, 0.1))])
    lr = np.zeros(1)
    norm = E.descend(((w * x).sum(1) * scale).sum(), groups, params=[[w]], n_models=3, clip_norm=2.0, lr_out=lr)
    for m in range(3):
        r = ref[m]
        ((r * x[m]).sum() * scale[m]).backward()
        before = torch.nn.utils.clip_grad_norm_([r], 2.0)
        with torch.no_grad():
            r -= 0.1 * r.grad
        assert float(norm[0, m]) == float(before)                 # the norm before clipping
        torch.testing.assert_close(w[m].detach(), r.detach(), rtol=0, atol=1e-15)
    assert lr[0] == 0.1 and opt.param_groups[0]["lr"] == pytest.approx(0.075)  # the scheduler stepped


def test_loop_evaluates_before_each_listed_update_and_at_the_end():
    calls = []
    E.loop(2, 5, lambda t: calls.append(("step", t)), evals={2, 4, 5, 9},
           evaluate=lambda t: calls.append(("eval", t)))
    assert calls == [("eval", 2), ("step", 2), ("step", 3), ("eval", 4), ("step", 4), ("eval", 5)]
    assert sorted(E.eval_steps(3, 10, eval_every=4, eval_at=[0, 5])) == [4, 5, 8, 10]
    assert sorted(E.eval_steps(0, 6, eval_every=3, first=True)) == [0, 3, 6]
    with pytest.raises(ValueError, match=r"eval_every must be an integer >= 1"):
        E.eval_steps(0, 6, eval_every=0)
    with pytest.raises(ValueError, match=r"schedulers must be one per optimizer \(1\)"):
        E.Groups([object()], [])


def test_argument_checks_name_the_argument():
    with pytest.raises(ValueError, match=r"betas must be a pair"):
        E.check_betas(0.9)
    with pytest.raises(ValueError, match=r"betas\[1\] must be in \[0.0, 1.0\)"):
        E.check_betas((0.9, 1.0))
    assert E.check_clip_norm(None) is None and E.check_clip_norm(1) == 1.0
    with pytest.raises(ValueError, match=r"clip_norm must be in \(0.0, inf\)"):
        E.check_clip_norm(0.0)
    with pytest.raises(ValueError, match=r"non-empty dict"):
        E.schedule_dict({})
