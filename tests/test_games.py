"""Tests for lrnotes.nets.games: the ring of Gaussians, mode coverage, and batched GAN training."""

import numpy as np
import pytest

from lrnotes.nets import games as GM
from lrnotes import schedules as S


def test_ring_and_samples():
    m = GM.ring(4, 2.0)
    np.testing.assert_allclose(m, [[2, 0], [0, 2], [-2, 0], [0, -2]], atol=1e-15)
    x = GM.sample_ring(20_000, m, 0.05, np.random.default_rng(0))
    cov = GM.coverage(x, m, 0.05)
    assert cov.covered == 4                         # real data: every mode
    # in 2-D, P(|x| <= 3 std) = 1 - exp(-9/2) (a Rayleigh radius)
    assert cov.quality == pytest.approx(1 - np.exp(-4.5), abs=0.003)


def test_coverage_counts():
    m = GM.ring(8)
    pts = np.concatenate([np.repeat(m[:3], 100, axis=0),     # 3 modes, 100 points each
                          np.repeat(m[3:4], 10, axis=0),     # a 4th with too few
                          np.zeros((90, 2))])                 # low quality
    cov = GM.coverage(pts, m, 0.05)
    assert cov.covered == 3                     # 10 < 0.25 * 400 / 8 = 12.5
    assert cov.quality == pytest.approx(310 / 400)
    np.testing.assert_allclose(cov.histogram.sum(), 1.0)
    assert cov.histogram[-1] == pytest.approx(90 / 400)
    batch = GM.coverage(np.stack([pts, pts]), m, 0.05)    # leading axes kept
    assert batch.covered.shape == (2,) and np.all(batch.covered == 3)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., n, 2\)"):
        GM.coverage(np.zeros((5, 3)), m, 0.05)
    with pytest.raises(ValueError, match=r"share must be in"):
        GM.coverage(pts, m, 0.05, share=0.0)


def test_train_gan_shapes_and_common_random_numbers():
    sch = {"a": S.constant(3e-3), "b": S.constant(3e-3), "c": S.constant(1e-3)}
    run = GM.train_gan(sch, [0, 1], 40, eval_every=20, batch=16, hidden=8, n_eval=100)
    assert run.covered.shape == (3, 2, 2) and run.histogram.shape == (3, 2, 2, 9)
    assert run.samples.shape == (3, 2, 100, 2)
    np.testing.assert_allclose(run.lr[2], 1e-3)
    # same schedule, same seeds: the same GAN, bit for bit; another schedule differs
    assert np.array_equal(run.samples[0], run.samples[1])
    assert not np.array_equal(run.samples[0], run.samples[2])
    again = GM.train_gan({"a": S.constant(3e-3)}, [0, 1], 40, eval_every=20, batch=16,
                         hidden=8, n_eval=100)
    np.testing.assert_allclose(again.samples[0], run.samples[0], rtol=1e-5, atol=1e-6)


def test_train_gan_bad_input():
    with pytest.raises(ValueError, match=r"non-empty dict"):
        GM.train_gan({}, [0], 10)
    with pytest.raises(ValueError, match=r"must be an lrnotes Schedule"):
        GM.train_gan({"a": 0.1}, [0], 10)
    with pytest.raises(ValueError, match=r"at least one seed"):
        GM.train_gan({"a": S.constant(1e-3)}, [], 10)
