"""Tests for lrnotes.sim.sharpness: power iteration on Hessian-vector products."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrnotes.sim import sharpness as sh
from lrnotes.nets.models import BatchedMLP, mlp


def _quadratic(eigs, seed=0):
    """A loss 0.5 x^T Q diag(eigs) Q^T x in float64 with a random rotation Q."""
    gen = torch.Generator().manual_seed(seed)
    d = len(eigs)
    Q, _ = torch.linalg.qr(torch.randn(d, d, generator=gen, dtype=torch.float64))
    H = Q @ torch.diag(torch.tensor(eigs, dtype=torch.float64)) @ Q.T
    x = torch.randn(d, generator=gen, dtype=torch.float64, requires_grad=True)
    return (lambda: 0.5 * x @ H @ x), x, H


def test_quadratic_with_known_spectrum():
    loss_fn, x, H = _quadratic([5.0, 3.0, 1.0, 0.5, -0.2])
    eig = sh.top_eigenvalue(loss_fn, [x], tol=1e-12, iters=500)
    assert eig.value == pytest.approx(5.0, rel=1e-9)
    assert eig.converged
    v = eig.vector[0]
    assert torch.allclose(H @ v, 5.0 * v, atol=1e-5)
    assert torch.linalg.norm(v).item() == pytest.approx(1.0)


def test_negative_dominant_eigenvalue_gives_the_top_one():
    """Power iteration alone would return -10; the shifted pass finds lambda_max = 2."""
    loss_fn, x, _ = _quadratic([2.0, 1.0, -10.0])
    eig = sh.top_eigenvalue(loss_fn, [x], tol=1e-12, iters=1000)
    assert eig.value == pytest.approx(2.0, rel=1e-8)


def test_hvp_equals_dense_hessian_times_vector():
    loss_fn, x, H = _quadratic([4.0, 2.0, 1.0])
    v = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    (hv,) = sh.hvp(loss_fn(), [x], [v])
    assert torch.allclose(hv, H @ v, atol=1e-12)


def _flat_hessian_top(net, x, y):
    params = list(net.parameters())
    shapes = [p.shape for p in params]
    flat0 = torch.cat([p.detach().reshape(-1) for p in params])

    def f(flat):
        out, i = x, 0
        ws = []
        for s in shapes:
            n = int(np.prod(s))
            ws.append(flat[i:i + n].reshape(s))
            i += n
        for k in range(0, len(ws), 2):
            out = out @ ws[k].T + ws[k + 1]
            if k + 2 < len(ws):
                out = torch.tanh(out)
        return F.cross_entropy(out, y)

    Hd = torch.autograd.functional.hessian(f, flat0)
    return float(torch.linalg.eigvalsh(Hd)[-1])


def _data(n=30, d=5, c=3, seed=0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=gen, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=gen)
    return x, y


def test_small_mlp_against_the_dense_hessian():
    x, y = _data()
    net = mlp([5, 4, 3], seed=1, activation="tanh", dtype=torch.float64)
    want = _flat_hessian_top(net, x, y)
    got = sh.sharpness(net, x, y, tol=1e-12, iters=2000)
    assert got == pytest.approx(want, rel=1e-6)


def test_batched_models_one_eigenvalue_each():
    x, y = _data()
    model = BatchedMLP([5, 4, 3], seeds=[0, 1, 2], activation="tanh", dtype=torch.float64)
    got = sh.sharpness(model, x, y, tol=1e-12, iters=2000)
    want = [_flat_hessian_top(model.unstack(m), x, y) for m in range(3)]
    assert got.shape == (3,)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    assert np.ptp(want) > 1e-3                           # the three models really differ


def test_deterministic_and_warm_start():
    loss_fn, x, _ = _quadratic([3.0, 2.9, 1.0])          # a small gap: slow convergence
    a = sh.top_eigenvalue(loss_fn, [x], seed=7, tol=1e-10, iters=3000)
    b = sh.top_eigenvalue(loss_fn, [x], seed=7, tol=1e-10, iters=3000)
    assert a.value == b.value and a.iters == b.iters
    warm = sh.top_eigenvalue(loss_fn, [x], init=a.vector, tol=1e-10, iters=3000)
    assert warm.iters < a.iters / 5
    assert warm.value == pytest.approx(3.0, rel=1e-6)
    short = sh.top_eigenvalue(loss_fn, [x], seed=7, tol=1e-14, iters=3)
    assert not short.converged and short.iters == 3


def test_bad_arguments():
    loss_fn, x, _ = _quadratic([1.0, 2.0])
    with pytest.raises(ValueError, match=r"params must be a non-empty sequence of tensors with requires_grad"):
        sh.top_eigenvalue(loss_fn, [x.detach()])
    with pytest.raises(ValueError, match=r"iters must be an integer >= 1"):
        sh.top_eigenvalue(loss_fn, [x], iters=0)
    with pytest.raises(ValueError, match=r"tol must be a finite real number > 0"):
        sh.top_eigenvalue(loss_fn, [x], tol=0.0)
    with pytest.raises(ValueError, match=r"init must be tensors of the same shapes"):
        sh.top_eigenvalue(loss_fn, [x], init=[torch.ones(3)])
    with pytest.raises(ValueError, match=r"loss_fn\(\) must return a scalar tensor"):
        sh.top_eigenvalue(lambda: x * 2, [x])
    with pytest.raises(ValueError, match=r"batched=True needs every parameter"):
        sh.top_eigenvalue(loss_fn, [x, torch.ones(3, requires_grad=True)], batched=True)


def test_during_training_matches_direct_measurements():
    from lrnotes.nets import data
    from lrnotes import schedules as S
    from lrnotes.nets.train import Trainer

    d = data.digits()
    tr = Trainer(d, {"a": S.constant(0.1), "b": S.constant(0.02)}, [0, 1], hidden=(8,),
                 batch_size=64, dtype=torch.float64)
    x, y = tr.cfg.data.x_train[:256], tr.cfg.data.y_train[:256]
    steps, vals = sh.during(tr, 25, 10, x, y, iters=300, tol=1e-10)
    assert steps.tolist() == [0, 10, 20, 25] and vals.shape == (2, 2, 4)
    assert tr.step == 25
    # the first column is the (shared) initialisation: same for both schedules
    assert np.allclose(vals[0, :, 0], vals[1, :, 0])
    # the last column agrees with a cold-start measurement of the trained models
    for g, name in enumerate(tr.names):
        direct = sh.sharpness(tr.models[name], x, y, iters=300, tol=1e-10)
        assert np.allclose(vals[g, :, -1], direct, rtol=1e-6)
    with pytest.raises(ValueError, match="until"):
        sh.during(tr, 10, 5, x, y)
    with pytest.raises(ValueError, match="every"):
        sh.during(tr, 30, 0, x, y)
