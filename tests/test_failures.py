"""Tests for lrnotes.nets.failures: the gradient log, the clip factor, sweeps and changed fractions."""

import numpy as np
import pytest
import torch

from lrnotes.sim import landscapes, sgd
from lrnotes.nets.failures import GradientLog, changed_fraction, clip_scale, first_failure


def test_gradient_log_records_norms_before_clipping_and_matches_simulate():
    cliff = landscapes.Cliff()
    x0 = np.linspace(5.5, 9.5, 50)[:, None]
    lrs = np.full((2, 20), 0.05)
    log = GradientLog(cliff, sigma=0.0)
    res = sgd.simulate(log, lrs, x0, 50, np.random.default_rng(0), clip_norm=3.0, trace=50)
    assert log.norms.shape == (20, 2, 50)
    # without noise the recorded norm is exactly |grad f| at the recorded iterate
    x = res.trace[0, :-1, :, 0]                         # (steps, seeds), config 0
    assert np.allclose(log.norms[:, 0], np.abs(cliff.grad(x[..., None])[..., 0]))
    assert log.norms.max() > 3.0                        # recorded before the clip
    steps = np.abs(np.diff(res.trace[0, :, :, 0], axis=0))
    assert steps.max() <= 0.05 * 3.0 + 1e-9              # the clip bounded every step
    # the same run through simulate's own oracle gives the same trajectories
    plain = sgd.simulate(cliff, lrs, x0, 50, np.random.default_rng(0), clip_norm=3.0, trace=50)
    assert np.array_equal(plain.trace, res.trace)
    log.reset()
    assert log.norms.size == 0


def test_gradient_log_noise_has_the_requested_size():
    bowl = landscapes.Quadratic(1.0)
    log = GradientLog(bowl, sigma=2.0)
    sgd.simulate(log, np.zeros(1), np.zeros(1), 20_000, np.random.default_rng(1))
    norms = log.norms[0, 0]                              # |0 + 2 xi|
    assert abs(np.mean(norms**2) - 4.0) < 0.1


def test_clip_scale_is_torchs_factor():
    p = torch.nn.Parameter(torch.zeros(4))
    p.grad = torch.tensor([3.0, 4.0, 0.0, 0.0])           # norm 5
    torch.nn.utils.clip_grad_norm_([p], 2.0)
    assert torch.allclose(p.grad, torch.tensor([3.0, 4.0, 0.0, 0.0]) * float(clip_scale(5.0, 2.0)))
    assert np.array_equal(clip_scale([0.5, 1.0], 2.0), [1.0, 1.0])


def test_first_failure_per_seed():
    lrs = np.array([0.4, 0.1, 0.2, 0.3])                 # any order
    failed = np.array([[True, True, False],
                       [False, False, False],
                       [False, True, False],
                       [True, True, False]])
    assert np.array_equal(first_failure(lrs, failed), [0.3, 0.2, np.inf])


def test_changed_fraction_overall_and_per_model():
    a = [torch.zeros(2, 3), torch.zeros(2, 1)]
    b = [torch.tensor([[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]), torch.tensor([[0.0], [1.0]])]
    assert changed_fraction(a, b) == pytest.approx(5 / 8)
    assert np.allclose(changed_fraction(a, b, per_model=True), [1 / 4, 1.0])
    assert changed_fraction(a, a) == 0.0
    bf = [t.to(torch.bfloat16) for t in b]
    assert changed_fraction(a, bf) == pytest.approx(5 / 8)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="landscape"):
        GradientLog(object())
    with pytest.raises(ValueError, match="sigma"):
        GradientLog(landscapes.Quadratic(1.0), sigma=-1)
    with pytest.raises(ValueError, match="threshold"):
        clip_scale(1.0, 0.0)
    with pytest.raises(ValueError, match="shape"):
        first_failure([0.1, 0.2], np.zeros((3, 2), bool))
    with pytest.raises(ValueError, match="same length"):
        changed_fraction([torch.zeros(2)], [])
    with pytest.raises(ValueError, match="shapes differ"):
        changed_fraction([torch.zeros(2)], [torch.zeros(3)])
    with pytest.raises(ValueError, match="models"):
        changed_fraction([torch.zeros(2, 2), torch.zeros(3)], [torch.zeros(2, 2), torch.zeros(3)],
                         per_model=True)
