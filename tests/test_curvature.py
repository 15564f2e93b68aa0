"""Tests for lrnotes.sim.curvature: the curvature-scaled learning rate as a Trainer hook."""

import numpy as np
import pytest
import torch

from lrnotes.sim import curvature as C
from lrnotes.nets import data as D
from lrnotes import schedules as S
from lrnotes.sim import sharpness as SH
from lrnotes.nets import train as T


@pytest.fixture(scope="module")
def digits64():
    return D.digits(seed=0, dtype=torch.float64)


def test_factor_is_one_over_lambda_max_of_each_model(digits64):
    scale = C.CurvatureScale(probe=64, every=5, iters=200, tol=1e-10)
    tr = T.Trainer(digits64, {"a": S.constant(0.5)}, [0, 1], lr_factor=scale,
                   dtype=torch.float64)
    x, y = digits64.x_train[:64], digits64.y_train[:64]
    expected = SH.sharpness(tr.models["a"], x, y, iters=500, tol=1e-12)   # at t = 0
    tr.run(12)
    assert scale.steps == [0, 5, 10]
    np.testing.assert_allclose(scale.history[0][0], expected, rtol=1e-6)
    assert scale.hvps > 3
    # the hook scaled the gradient: the first update equals SGD at 0.5 / lambda_max
    ref = T.train(digits64, {"a": S.constant(0.5 / expected[0])}, [0], 3,
                  dtype=torch.float64)
    got = tr.result().loss[0, 0, :3]       # losses before updates 0, 1, 2
    np.testing.assert_allclose(got, ref.loss[0, 0], rtol=1e-6)
    assert got[1] != T.train(digits64, {"a": S.constant(0.5)}, [0], 2,
                             dtype=torch.float64).loss[0, 0, 1]


def test_factor_held_between_estimates_and_zero_when_diverged():
    scale = C.CurvatureScale(every=3)
    scale._factor = np.array([[0.5]])
    assert scale(None, 4, None, None, None) is scale._factor      # t % every != 0: held
    scale.estimate = lambda trainer: np.array([[np.nan, 2.0, 1e-9]])
    f = scale(None, 6, None, None, None)
    np.testing.assert_allclose(f, [[0.0, 0.5, 1.0 / scale.floor]])


@pytest.mark.parametrize("kw, pattern", [
    ({"probe": 0}, r"probe must be an integer >= 1"),
    ({"every": 0}, r"every must be"),
    ({"tol": 0.0}, r"tol must be"),
    ({"floor": -1.0}, r"floor must be"),
])
def test_bad_arguments(kw, pattern):
    with pytest.raises(ValueError, match=pattern):
        C.CurvatureScale(**kw)
