"""Tests for lrnotes.nets.scaling: batch-size x peak sweeps, and sharpness along a run."""

import numpy as np
import pytest

from lrnotes import schedules as S
from lrnotes.nets.data import digits
from lrnotes.nets.models import BatchedMLP
from lrnotes.nets.scaling import BatchSweep, batch_lr_sweep, sharpness_along
from lrnotes.sim.sharpness import sharpness
from lrnotes.nets.train import train


@pytest.fixture(scope="module")
def data():
    return digits(seed=0)


def test_sweep_shapes_steps_and_a_blow_up(data):
    n = int(data.y_train.shape[0])
    sw = batch_lr_sweep(data, [64, 256], [0.05, 0.5, 200.0], [0, 1], epochs=1, hidden=(8,))
    assert sw.final_loss.shape == (2, 3, 2) and sw.test_acc.shape == (2, 3, 2)
    assert sw.steps.tolist() == [n // 64, n // 256]
    assert np.all(sw.init_loss > 1.5)                 # ~ log 10 for an untrained net
    assert sw.unstable()[:, 2].all()                  # a peak of 200 blows up
    assert not sw.unstable()[:, :2].any()
    assert sw.best().tolist() == [0.5, 0.5]
    assert sw.largest_stable().tolist() == [0.5, 0.5]
    # the same runs as calling train directly
    res = train(data, {"x": S.cosine(n // 64, peak=0.5)}, [0, 1], n // 64, batch_size=64, hidden=(8,))
    np.testing.assert_allclose(sw.final_loss[0, 1], res.train_loss[0, :, -1], rtol=1e-6)


def _fake(final, init=1.0):
    final = np.asarray(final, dtype=float)
    nB, nP, M = final.shape
    return BatchSweep(batch_sizes=np.arange(1, nB + 1), peaks=np.arange(1.0, nP + 1), seeds=list(range(M)),
                      epochs=1, steps=np.ones(nB, dtype=int), init_loss=np.full(M, init), final_loss=final,
                      test_acc=np.zeros_like(final), seconds=0.0)


def test_best_and_largest_stable_on_crafted_numbers():
    inf = np.inf
    sw = _fake([[[0.5, 0.6], [0.2, 0.3], [0.9, 2.0], [0.1, 0.1]],    # unstable at peak 3, fine at 4
                [[0.5, 0.5], [0.4, 0.4], [0.3, inf], [inf, inf]],
                [[2.0, 0.5], [0.1, 0.1], [0.1, 0.1], [0.1, 0.1]]])   # unstable at the first peak
    assert sw.largest_stable()[:2].tolist() == [2.0, 2.0]
    assert np.isnan(sw.largest_stable()[2])
    assert sw.best()[:2].tolist() == [4.0, 2.0]
    assert sw.best_per_seed()[1].tolist() == [3.0, 2.0]
    assert sw.mean_loss()[1, 3] == inf


def test_sharpness_along_starts_at_the_initial_sharpness(data):
    at = [0, 4, 10]
    lam = sharpness_along(data, S.constant(0.1), [0, 1], at, batch_size=64, hidden=(8,), iters=30, tol=1e-3)
    assert lam.shape == (3, 2) and np.all(lam > 0)
    net = BatchedMLP([64, 8, 10], [0, 1])
    expected = sharpness(net, data.x_train, data.y_train, iters=30, tol=1e-3)
    np.testing.assert_allclose(lam[0], expected, rtol=1e-5)   # same start vector, same network
    assert not np.allclose(lam[2], lam[0], rtol=1e-3)    # training moved it


def test_bad_arguments(data):
    with pytest.raises(ValueError, match="epochs"):
        batch_lr_sweep(data, [64], [0.1], [0], epochs=0)
    with pytest.raises(ValueError, match="batch_sizes"):
        batch_lr_sweep(data, [10**6], [0.1], [0], epochs=1)
    with pytest.raises(ValueError, match="batch_sizes"):
        batch_lr_sweep(data, [], [0.1], [0], epochs=1)
    with pytest.raises(ValueError, match="peaks"):
        batch_lr_sweep(data, [64], [0.5, 0.1], [0], epochs=1)
    with pytest.raises(ValueError, match="peaks"):
        batch_lr_sweep(data, [64], [0.0], [0], epochs=1)
    with pytest.raises(ValueError, match="at"):
        sharpness_along(data, S.constant(0.1), [0], [5, 2], batch_size=64)
