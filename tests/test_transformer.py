"""Tests for lrnotes.nets.models.BatchedTransformer and lrnotes.nets.lm.train_lm."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lrnotes import schedules as S
from lrnotes.nets.lm import train_lm
from lrnotes.nets.markov import MarkovSource
from lrnotes.nets.models import BatchedTransformer, stacked_lm_losses

ARCH = dict(d_model=16, n_heads=2, n_layers=2, dtype=torch.float64)


def _tokens(B=4, L=9, V=7, seed=0):
    return torch.randint(0, V, (B, L), generator=torch.Generator().manual_seed(seed))


def test_a_stack_equals_its_models_alone():
    x = _tokens()
    stack = BatchedTransformer(7, 8, [3, 4, 5], **ARCH)
    out = stack(x[:, :-1])
    assert out.shape == (3, 4, 8, 7)
    for m, seed in enumerate([3, 4, 5]):
        alone = BatchedTransformer(7, 8, [seed], **ARCH)
        torch.testing.assert_close(out[m], alone(x[:, :-1])[0], rtol=1e-12, atol=1e-12)
    per_model = x[:, :-1].expand(3, -1, -1)
    torch.testing.assert_close(stack(per_model), out)
    # float32 and float64 start from the same weights
    f32 = BatchedTransformer(7, 8, [3], d_model=16, n_heads=2, n_layers=2)
    torch.testing.assert_close(f32.params["tok"].double(), stack.params["tok"][:1], rtol=1e-6, atol=1e-7)


def test_attention_is_causal():
    model = BatchedTransformer(7, 8, [0, 1], **ARCH)
    x = _tokens(L=8)
    y = x.clone()
    y[:, 5] = (y[:, 5] + 1) % 7                      # change position 5 only
    a, b = model(x), model(y)
    torch.testing.assert_close(a[:, :, :5], b[:, :, :5], rtol=0, atol=0)
    assert not torch.allclose(a[:, :, 5:], b[:, :, 5:])


def test_loss_and_log_probs():
    model = BatchedTransformer(7, 8, [0, 1], **ARCH)
    x = _tokens(L=9)
    logits = model(x[:, :-1])
    for start in (0, 1, 3):
        first = max(start - 1, 0)
        want = torch.stack([F.cross_entropy(logits[m, :, first:].reshape(-1, 7),
                                            x[:, 1:][:, first:].reshape(-1)) for m in range(2)])
        torch.testing.assert_close(model.loss(x, start=start), want)
    lp = model.log_probs(x)
    assert lp.shape == (2, 4, 9, 7)
    torch.testing.assert_close(lp[:, :, 1:], F.log_softmax(logits, -1).float().to(lp.dtype))
    torch.testing.assert_close(lp.exp().sum(-1), torch.ones(2, 4, 9, dtype=lp.dtype))


def test_stacked_losses_train_each_model_as_alone():
    x = _tokens(L=9).expand(2, -1, -1)
    a, b = (BatchedTransformer(7, 8, [0, 1], **ARCH) for _ in range(2))
    with torch.no_grad():
        for p in b.params.values():
            p.mul_(1.1)
    losses = stacked_lm_losses([a, b], x, start=2)
    torch.testing.assert_close(losses, torch.stack([a.loss(x, start=2), b.loss(x, start=2)]))
    losses.sum().backward()
    alone = BatchedTransformer(7, 8, [1], **ARCH)
    alone.loss(x[:1], start=2).sum().backward()
    for k in ("qkv_w", "head", "tok"):
        torch.testing.assert_close(a.params[k].grad[1:], alone.params[k].grad, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kw, match", [
    (dict(d_model=10, n_heads=3), "multiple of n_heads"), (dict(vocab=1), "vocab"),
    (dict(seeds=[]), "seeds"), (dict(n_layers=0), "n_layers"),
])
def test_bad_arguments_get_clear_errors(kw, match):
    args = dict(vocab=7, seq_len=8, seeds=[0], d_model=16, n_heads=2) | kw
    with pytest.raises(ValueError, match=match):
        BatchedTransformer(args.pop("vocab"), args.pop("seq_len"), args.pop("seeds"), **args)


def test_bad_inputs_get_clear_errors():
    model = BatchedTransformer(7, 8, [0, 1], **ARCH)
    with pytest.raises(ValueError, match="tokens must have shape"):
        model(_tokens(L=10))                        # longer than seq_len
    with pytest.raises(ValueError, match="tokens must have shape"):
        model(_tokens(L=5).expand(3, -1, -1))         # 3 models' inputs for a stack of 2
    with pytest.raises(ValueError, match="start"):
        model.loss(_tokens(L=5), start=5)
    with pytest.raises(ValueError, match="architecture"):
        stacked_lm_losses([model, BatchedTransformer(7, 8, [0, 1], d_model=8, n_heads=2)], _tokens())


# --------------------------------------------------------------------------- train_lm
SRC = MarkovSource(vocab=5, order=2, concentration=0.3, seed=0)
KW = dict(seq_len=9, batch_size=8, d_model=16, n_heads=2, n_layers=1, eval_every=20, eval_seqs=32,
          dtype=torch.float64, device="cpu")


def test_train_lm_batched_equals_one_schedule_at_a_time():
    scheds = {"cos": S.cosine(40, 0.01, warmup=4), "wsd": S.wsd(40, 0.02, warmup=4, decay_frac=0.2)}
    both = train_lm(SRC, scheds, [0, 1], 40, **KW)
    for g, (name, s) in enumerate(scheds.items()):
        one = train_lm(SRC, {name: s}, [0, 1], 40, **KW)
        np.testing.assert_allclose(both.loss[g], one.loss[0], rtol=1e-9)
        np.testing.assert_allclose(both.excess[g], one.excess[0], rtol=1e-9)
    np.testing.assert_allclose(both.lr[1], scheds["wsd"](np.arange(40)), rtol=1e-15)
    # common random numbers: same initial models and batches in every group
    np.testing.assert_allclose(both.loss[0, :, 0], both.loss[1, :, 0], rtol=1e-12)
    assert both.loss.shape == (2, 2, 40) and both.excess.shape == (2, 2, 3)
    np.testing.assert_array_equal(both.eval_steps, [0, 20, 40])


def test_train_lm_learns_and_its_excess_is_exact():
    res = train_lm(SRC, {"c": S.cosine(150, 0.02, warmup=10)}, [0, 1], 150,
                   **(KW | dict(eval_every=150, eval_seqs=256)))
    ex = res.excess[0]
    assert np.all(ex[:, -1] < 0.75 * ex[:, 0])             # it learned
    assert np.all(ex >= 0)
    # eval cross-entropy = floor on the same tokens + mean KL, up to the token noise
    gap = res.eval_loss[0] - res.floor_eval
    np.testing.assert_allclose(gap, ex, atol=0.05)
    assert abs(res.floor_eval - SRC.entropy_rate) < 0.1
    m, s = res.mean_std("excess")
    assert m.shape == (1, 2) and np.all(s >= 0)
    with pytest.raises(ValueError, match="name must be"):
        res.mean_std("names")


def test_train_lm_clips_per_model():
    res = train_lm(SRC, {"c": S.constant(0.01)}, [0, 1], 5, **(KW | dict(clip_norm=1e-3)))
    assert np.all(res.grad_norm > 1e-3)                     # clipping was active on every step


@pytest.mark.parametrize("kw, match", [
    (dict(seq_len=2), "seq_len"), (dict(batch_size=0), "batch_size"), (dict(clip_norm=0.0), "clip_norm"),
    (dict(betas=(1.0, 0.9)), "betas"), (dict(eval_every=0), "eval_every"),
])
def test_train_lm_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        train_lm(SRC, {"c": S.constant(0.01)}, [0], 3, **(KW | kw))
    with pytest.raises(ValueError, match="seeds"):
        train_lm(SRC, {"c": S.constant(0.01)}, [0, 0], 3, **KW)
