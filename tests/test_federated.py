"""Tests for lrnotes.nets.federated: client splits and FedAvg with drift."""

import numpy as np
import pytest
import torch

from lrnotes.nets import data as D
from lrnotes.nets import federated as FD
from lrnotes import schedules as S


@pytest.fixture(scope="module")
def digits():
    return D.digits(seed=0)


def test_splits_partition_the_data(digits):
    y = digits.y_train.numpy()
    for L in (2, None):
        parts = FD.split_by_label(y, 10, L, seed=1)
        allidx = np.concatenate(parts)
        assert np.array_equal(np.sort(allidx), np.arange(y.size))   # each example once
    non = FD.split_by_label(y, 10, 2, seed=1)
    assert max(len(np.unique(y[p])) for p in non) <= 4          # a shard may straddle a label
    assert np.mean([len(np.unique(y[p])) for p in non]) < 3.5
    iid = FD.split_by_label(y, 10, None, seed=1)
    assert min(len(np.unique(y[p])) for p in iid) == 10
    with pytest.raises(ValueError, match=r"at most the number of examples"):
        FD.split_by_label(y[:5], 3, 2)


def test_one_client_has_no_drift_and_identical_clients_agree(digits):
    n = digits.y_train.shape[0]
    everything = np.arange(n)
    cfg = {"one": ([everything], S.constant(0.1)),
           "two": ([everything, everything], S.constant(0.1))}
    with pytest.raises(ValueError, match=r"same number"):
        FD.fedavg(digits, cfg, [0], 2, 3)
    r = FD.fedavg(digits, {"one": ([everything], S.constant(0.1))}, [0, 1], 3, 4)
    assert np.all(r.drift == 0) and r.train_loss.shape == (1, 2, 4)
    assert np.all(np.diff(r.train_loss[0], axis=1) < 0)          # it trains


def test_decaying_lr_shrinks_absolute_drift(digits):
    parts = FD.split_by_label(digits.y_train.numpy(), 4, 2, seed=0)
    R = 6
    r = FD.fedavg(digits, {"c": (parts, S.constant(0.2)), "l": (parts, S.linear(R, 0.2))},
                  [0], R, 5)
    np.testing.assert_allclose(r.lr[1], S.linear(R, 0.2)(np.arange(R)))
    assert r.drift[0, 0, 0] == pytest.approx(r.drift[1, 0, 0], rel=1e-5)  # same first round
    assert r.drift[1, 0, -1] < 0.5 * r.drift[0, 0, -1]
    assert np.all(r.relative_drift > 0)


def test_bad_input(digits):
    with pytest.raises(ValueError, match=r"non-empty dict"):
        FD.fedavg(digits, {}, [0], 1, 1)
    with pytest.raises(ValueError, match=r"must be an lrnotes Schedule"):
        FD.fedavg(digits, {"a": ([np.arange(5)], 0.1)}, [0], 1, 1)
    with pytest.raises(ValueError, match=r"rounds must be"):
        FD.fedavg(digits, {"a": ([np.arange(5)], S.constant(0.1))}, [0], 0, 1)
