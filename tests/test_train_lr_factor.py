"""Tests for Trainer(lr_factor=...): per-model learning-rate factors from inside the loop."""

import numpy as np
import pytest
import torch

from lrnotes.nets import data as D
from lrnotes import schedules as S
from lrnotes.nets import train as T


@pytest.fixture(scope="module")
def digits64():
    return D.digits(seed=0, dtype=torch.float64)


def test_factor_one_changes_nothing_and_half_is_half_the_lr(digits64):
    seeds = [0, 1]
    plain = T.train(digits64, {"a": S.constant(0.1)}, seeds, 25)
    ones = T.train(digits64, {"a": S.constant(0.1)}, seeds, 25,
                   lr_factor=lambda tr, t, x, y, losses: np.ones((1, 2)))
    assert np.array_equal(plain.loss, ones.loss)
    half = T.train(digits64, {"a": S.constant(0.1)}, seeds, 25,
                   lr_factor=lambda tr, t, x, y, losses: np.full((1, 2), 0.5))
    slow = T.train(digits64, {"a": S.constant(0.05)}, seeds, 25)
    assert np.array_equal(half.loss, slow.loss)   # exact: 0.1 * (g / 2) == 0.05 * g


def test_factor_is_per_model_and_sees_the_losses(digits64):
    seen = []

    def freeze_second(trainer, t, x, y, losses):
        seen.append(losses.copy())
        assert x.shape[0] == 2 and y.shape[0] == 2
        return np.array([[1.0, 0.0], [1.0, 1.0]])

    tr = T.Trainer(digits64, {"a": S.constant(0.1), "b": S.constant(0.1)}, [0, 1],
                   lr_factor=freeze_second)
    before = [p.detach().clone() for p in tr.models["a"].parameters()]
    res = tr.run(10)
    after = list(tr.models["a"].parameters())
    assert all(torch.equal(b[1], a[1]) for b, a in zip(before, after))       # frozen
    assert not all(torch.equal(b[0], a[0]) for b, a in zip(before, after))   # trained
    assert len(seen) == 10 and seen[0].shape == (2, 2)
    np.testing.assert_allclose(np.stack(seen), res.loss.transpose(2, 0, 1))
    # group "b" ignored the hook's zeros for "a": it trained like group "a"'s first model
    assert np.array_equal(res.loss[1, 0], res.loss[0, 0])


@pytest.mark.parametrize("out, pattern", [
    (np.ones((2, 2)), r"\(1, 2\) array"),
    (np.array([[1.0, -1.0]]), r"negative or non-finite"),
    (np.array([[1.0, np.nan]]), r"negative or non-finite"),
])
def test_bad_factors(digits64, out, pattern):
    with pytest.raises(ValueError, match=pattern):
        T.train(digits64, {"a": S.constant(0.1)}, [0, 1], 3,
                lr_factor=lambda tr, t, x, y, losses: out)


def test_bad_hook_arguments(digits64):
    with pytest.raises(ValueError, match=r"lr_factor must be None or a function"):
        T.Trainer(digits64, {"a": S.constant(0.1)}, [0], lr_factor=3)
    with pytest.raises(ValueError, match=r"batched training"):
        T.train_sequential(digits64, {"a": S.constant(0.1)}, [0], 3, lr_factor=lambda *a: None)
