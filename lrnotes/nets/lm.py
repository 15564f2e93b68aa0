r"""Train many small causal transformers at once on a source with a known best loss.

The language-model twin of :mod:`lrnotes.nets.train`: one :class:`lrnotes.nets.models.BatchedTransformer`
stack (one model per seed) per learning-rate schedule, each driven by a real
``torch.optim`` optimizer (AdamW by default) and ``S.to_torch(optimizer, schedule)``; per
step one forward and one backward pass for every model of every schedule
(:func:`lrnotes.nets.models.stacked_lm_losses`), then one optimizer and scheduler step per
schedule.  Gradient clipping is per model, as in :mod:`lrnotes.nets.train`.

Data come from a :class:`lrnotes.nets.markov.MarkovSource`, fresh at every step (no epochs:
the regime of LLM pre-training).  Model ``m`` of every schedule sees the batches drawn
from ``seeds[m]``'s own generator, so schedules are compared on common random numbers.
The loss of a batch is the mean cross-entropy over the tokens that have a full context
(positions :math:`t \ge k`), whose best possible expected value is the source's entropy
rate :math:`H`.  Evaluation measures the *excess loss* over that floor exactly:
:math:`\mathrm{KL}(P\,\|\,Q_{\text{model}})` averaged over the contexts of a fixed
evaluation set (:meth:`lrnotes.nets.markov.MarkovSource.excess_loss`).

Steps follow :mod:`lrnotes.schedules`: update ``t = 0, 1, ...`` uses ``sched(t)``;
evaluation "at step t" is after ``t`` updates.

Contents
--------
LMResult   per-step losses, learning rates and gradient norms; exact excess losses at evaluations
train_lm   the batched loop
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from lrnotes import schedules as S
from lrnotes.nets.models import DATA, BatchedTransformer, derive_seed, stacked_lm_losses
from lrnotes.schedules import _int_at_least, _real

__all__ = ["LMResult", "train_lm"]


@dataclass
class LMResult:
    r"""What :func:`train_lm` recorded, as NumPy arrays (``G`` schedules, ``M`` seeds,
    ``n`` updates, ``E`` evaluations).

    Attributes
    ----------
    names : list of G str;  seeds : list of M int
    lr : (G, n)              learning rate of update ``t``
    loss : (G, M, n)         minibatch loss at update ``t`` (before it), nats per token
    grad_norm : (G, M, n)    per-model gradient norm at update ``t``, before clipping
    eval_steps : (E,)
    excess : (G, M, E)       exact mean KL to the source on the evaluation set (nats/token)
    eval_loss : (G, M, E)    cross-entropy on the evaluation set
    entropy_rate : float     the floor :math:`H`
    floor_eval : float       mean of :math:`-\log P` on the evaluation set's tokens
    seconds : float          wall time of the training loop
    n_params : int           parameters per model
    """

    names: list
    seeds: list
    lr: np.ndarray
    loss: np.ndarray
    grad_norm: np.ndarray
    eval_steps: np.ndarray
    excess: np.ndarray
    eval_loss: np.ndarray
    entropy_rate: float
    floor_eval: float
    seconds: float
    n_params: int

    def mean_std(self, name: str):
        """Mean and standard deviation over seeds (``ddof=1``) of a ``(G, M, ...)`` field."""
        a = getattr(self, name, None)
        if not isinstance(a, np.ndarray) or a.ndim < 2 or a.shape[1] != len(self.seeds):
            raise ValueError(f"name must be a (schedules, seeds, ...) field such as 'loss' or "
                             f"'excess', got {name!r}")
        return a.mean(axis=1), (a.std(axis=1, ddof=1) if a.shape[1] > 1 else np.zeros_like(a[:, 0]))


def train_lm(source, schedules, seeds: Sequence[int], steps: int, *, seq_len: int = 32, batch_size: int = 32,
             d_model: int = 32, n_heads: int = 2, n_layers: int = 2, d_ff: int | None = None,
             betas=(0.9, 0.95), weight_decay: float = 0.0, clip_norm: float | None = 1.0,
             eval_every: int | None = None, eval_seqs: int = 256, eval_seed: int = 10**6,
             dtype=None, device=None, num_threads: int | None = 1, progress: bool | None = None) -> LMResult:
    r"""Train ``len(seeds)`` transformers per schedule with AdamW, batched; return an :class:`LMResult`.

    Parameters
    ----------
    source : lrnotes.nets.markov.MarkovSource
    schedules : dict name -> Schedule (absolute learning rates), or one Schedule
    seeds : sequence of distinct int >= 0 — initialisation and data stream of model ``m``
    steps : int >= 1
    seq_len : int > source.order — tokens per sequence (the model sees ``seq_len - 1``)
    batch_size : int >= 1 — sequences per model per step
    d_model, n_heads, n_layers, d_ff : the architecture (:class:`BatchedTransformer`)
    betas, weight_decay : ``torch.optim.AdamW``'s
    clip_norm : float > 0 or None — per-model gradient-norm clipping
    eval_every : int >= 1 or None — evaluate at multiples of it (always at 0 and ``steps``)
    eval_seqs : int >= 1 — sequences in the fixed evaluation set (drawn from ``eval_seed``)
    dtype : default float32;  device : default :func:`lrnotes.nets.train.default_device`
    num_threads : torch CPU threads while training (1: fastest for tiny models), None: as is
    progress : show a ``tqdm.auto`` bar (default: in full mode only)
    """
    from lrnotes.nets.train import _progress, _schedule_dict, _threads, default_device

    scheds = _schedule_dict(schedules)
    seeds = [_int_at_least(f"seeds[{i}]", s, 0) for i, s in enumerate(seeds)]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty list of distinct integers >= 0, got {seeds}")
    steps = _int_at_least("steps", steps, 1)
    k = source.order
    seq_len = _int_at_least("seq_len", seq_len, k + 1)
    batch_size = _int_at_least("batch_size", batch_size, 1)
    b1 = _real("betas[0]", betas[0], low=0.0, high=1.0, high_open=True)
    b2 = _real("betas[1]", betas[1], low=0.0, high=1.0, high_open=True)
    weight_decay = _real("weight_decay", weight_decay, low=0.0)
    clip_norm = None if clip_norm is None else _real("clip_norm", clip_norm, low=0.0, low_open=True)
    every = None if eval_every is None else _int_at_least("eval_every", eval_every, 1)
    eval_seqs = _int_at_least("eval_seqs", eval_seqs, 1)
    device = torch.device(default_device() if device is None else device)
    dtype = torch.float32 if dtype is None else dtype
    evals = sorted({0, steps} | (set(range(0, steps + 1, every)) if every else set()))

    names = list(scheds)
    G, M = len(names), len(seeds)
    arch = dict(d_model=d_model, n_heads=n_heads, n_layers=n_layers, d_ff=d_ff, dtype=dtype, device=device)
    models = [BatchedTransformer(source.vocab, seq_len - 1, seeds, **arch) for _ in names]
    opts = [torch.optim.AdamW(m.parameters(), lr=float(scheds[n](0)), betas=(b1, b2), weight_decay=weight_decay)
            for m, n in zip(models, names)]
    lr_scheds = [S.to_torch(o, scheds[n]) for o, n in zip(opts, names)]
    params = [list(m.parameters()) for m in models]
    n_params = sum(p[0].numel() for p in params[0])

    draw = source.sampler(device)
    gens = [torch.Generator().manual_seed(derive_seed(s, DATA)) for s in seeds]
    eval_tokens = draw(eval_seqs, seq_len, torch.Generator().manual_seed(_int_at_least("eval_seed", eval_seed, 0)))
    ctx = source.context_index(eval_tokens.cpu().numpy())
    floor_eval = float(-np.log(source.table[ctx, eval_tokens.cpu().numpy()[:, k:]]).mean())

    lr = np.zeros((G, steps))
    losses = torch.zeros((steps, G, M), dtype=torch.float64, device=device)
    norms = torch.zeros((steps, G, M), dtype=torch.float64, device=device)
    excess = np.zeros((G, M, len(evals)))
    eval_loss = np.zeros((G, M, len(evals)))

    def evaluate(j):
        for g, model in enumerate(models):
            lp = model.log_probs(eval_tokens)                                     # (M, B, L, V)
            excess[g, :, j] = source.excess_loss(lp, eval_tokens).double().cpu().numpy()
            tgt = eval_tokens[:, k:].expand(M, -1, -1)
            nll = -lp[:, :, k:].gather(-1, tgt[..., None]).squeeze(-1)
            eval_loss[g, :, j] = nll.double().mean((1, 2)).cpu().numpy()

    t0 = time.perf_counter()
    j = 0
    with _threads(num_threads, device):
        for t in _progress(range(steps + 1), steps + 1, progress, "training"):
            if j < len(evals) and evals[j] == t:
                evaluate(j)
                j += 1
            if t == steps:
                break
            batch = torch.stack([draw(batch_size, seq_len, gen) for gen in gens])   # (M, B, L)
            for opt in opts:
                opt.zero_grad()
            per_model = stacked_lm_losses(models, batch, start=k)                  # (G, M)
            per_model.sum().backward()
            flat = torch.cat([torch.cat([p.grad.reshape(M, -1) for p in ps], dim=1) for ps in params])
            norm = torch.linalg.vector_norm(flat, dim=1).reshape(G, M)
            if clip_norm is not None:
                coef = torch.clamp(clip_norm / (norm + 1e-6), max=1.0)
                for g, ps in enumerate(params):
                    for p in ps:
                        p.grad.mul_(coef[g].reshape((M,) + (1,) * (p.dim() - 1)))
            for g, (opt, sch) in enumerate(zip(opts, lr_scheds)):
                lr[g, t] = opt.param_groups[0]["lr"]
                opt.step()
                sch.step()
            losses[t] = per_model.detach()
            norms[t] = norm
    seconds = time.perf_counter() - t0
    return LMResult(names=names, seeds=seeds, lr=lr, loss=losses.permute(1, 2, 0).cpu().numpy(),
                    grad_norm=norms.permute(1, 2, 0).cpu().numpy(), eval_steps=np.array(evals),
                    excess=excess, eval_loss=eval_loss, entropy_rate=float(source.entropy_rate),
                    floor_eval=floor_eval, seconds=seconds, n_params=int(n_params))
