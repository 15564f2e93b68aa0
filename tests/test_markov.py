"""Tests for lrnotes.nets.markov: a Markov source with an exactly known entropy rate."""

import numpy as np
import pytest
import torch

from lrnotes.nets.markov import MarkovSource


@pytest.fixture(scope="module", params=[(8, 2, 0.2), (32, 1, 0.3), (4, 3, 0.5)])
def src(request):
    V, k, a = request.param
    return MarkovSource(vocab=V, order=k, concentration=a, seed=1)


def test_table_and_stationary_distribution(src):
    assert src.table.shape == (src.vocab ** src.order, src.vocab)
    np.testing.assert_allclose(src.table.sum(1), 1.0, rtol=1e-14)
    assert np.all(src.table > 0)
    pi = src.stationary
    assert np.isclose(pi.sum(), 1.0) and np.all(pi > 0)
    np.testing.assert_allclose(src.step_states(pi), pi, atol=1e-13)
    assert 0 < src.entropy_rate < np.log(src.vocab)


def test_entropy_rate_is_the_long_sample_average(src):
    est, sem = src.estimate_entropy_rate(1000, 300, np.random.default_rng(7))
    assert abs(est - src.entropy_rate) < 4 * sem and sem < 0.01


def test_samples_are_stationary_and_follow_the_table(src):
    x = src.sample(4000, src.order + 8, np.random.default_rng(2))
    assert x.dtype == np.int64 and x.min() >= 0 and x.max() < src.vocab
    for start in (0, 6):                             # the first k tokens, and the last k
        ctx = src.context_index(x[:, start:start + src.order + 1])[:, 0]
        freq = np.bincount(ctx, minlength=src.n_states) / len(ctx)
        se = np.sqrt(src.stationary * (1 - src.stationary) / len(ctx))
        assert np.all(np.abs(freq - src.stationary) < 5 * se + 1e-12)


def test_torch_sampler_draws_the_same_chain(src):
    draw = src.sampler()
    a = draw(3000, src.order + 4, torch.Generator().manual_seed(0))
    b = draw(3000, src.order + 4, torch.Generator().manual_seed(0))
    assert torch.equal(a, b) and a.dtype == torch.int64       # seeded
    x = a.numpy()
    nll = -np.log(src.table[src.context_index(x), x[:, src.order:]])
    assert abs(nll.mean() - src.entropy_rate) < 5 * nll.std() / np.sqrt(nll.size / 2)


def test_excess_loss_is_zero_for_the_truth_and_positive_otherwise(src):
    x = src.sample(50, src.order + 5, np.random.default_rng(0))
    L = x.shape[1]
    truth = np.zeros((50, L, src.vocab))
    truth[:, src.order:] = np.log(src.table[src.context_index(x)])
    assert abs(float(src.excess_loss(torch.as_tensor(truth), x))) < 1e-12
    uniform = torch.full((3, 50, L, src.vocab), -np.log(src.vocab), dtype=torch.float64)
    ex = src.excess_loss(uniform, x)
    assert ex.shape == (3,) and torch.all(ex > 0)


def test_context_excess_and_classification_data(src):
    assert src.context_excess(np.log(src.table)) == pytest.approx(0.0, abs=1e-12)
    uniform = src.context_excess(np.zeros((2, src.n_states, src.vocab)))
    np.testing.assert_allclose(uniform, np.log(src.vocab) - src.entropy_rate, rtol=1e-12)
    feats = src.context_features()
    assert feats.shape == (src.n_states, src.order * src.vocab)
    np.testing.assert_array_equal(feats.sum(1), src.order)
    d = src.classification_data(500, 200, seed=3)
    assert d.x_train.shape == (500, src.order * src.vocab) and d.y_test.shape == (200,)
    assert d.n_classes == src.vocab
    # the best possible test loss is the entropy rate: the true table scores about H on it
    states = (d.x_test.numpy().reshape(200, src.order, src.vocab).argmax(-1)
              * src.vocab ** np.arange(src.order - 1, -1, -1)).sum(1)
    nll = -np.log(src.table[states, d.y_test.numpy()])
    assert abs(nll.mean() - src.entropy_rate) < 5 * nll.std() / np.sqrt(200)


@pytest.mark.parametrize("kw, match", [
    (dict(vocab=1), "vocab"), (dict(order=0), "order"), (dict(concentration=0.0), "concentration"),
    (dict(seed=-1), "seed"), (dict(vocab=2**11, order=2), "2\\*\\*20"),
])
def test_bad_arguments_get_clear_errors(kw, match):
    with pytest.raises(ValueError, match=match):
        MarkovSource(**kw)


def test_bad_calls_get_clear_errors():
    s = MarkovSource(4, 2, seed=0)
    with pytest.raises(ValueError, match="length"):
        s.sample(3, 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="rng"):
        s.sample(3, 5, 0)
    with pytest.raises(ValueError, match="more than order"):
        s.context_index(np.zeros((2, 2), dtype=int))
    with pytest.raises(ValueError, match="log_probs"):
        s.excess_loss(torch.zeros(2, 5, 3), np.zeros((2, 5), dtype=int))
    with pytest.raises(ValueError, match="logits"):
        s.context_excess(np.zeros((3, 4)))
