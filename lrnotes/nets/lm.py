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
from lrnotes.nets.engine import (Groups, StepRun, check_betas, check_clip_norm, check_seeds, default_device,
                                 descend, eval_steps, loop, schedule_dict)
from lrnotes.nets.models import DATA, BatchedTransformer, derive_seed, stacked_lm_losses
from lrnotes.schedules import _int_at_least, _real

__all__ = ["LMResult", "train_lm"]


@dataclass(kw_only=True)
class LMResult(StepRun):
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
    eval_loss : (G, M, E)    cross-entropy on the evaluation set (``loss_at(name, t, "eval")``)
    entropy_rate : float     the floor :math:`H`
    floor_eval : float       mean of :math:`-\log P` on the evaluation set's tokens
    seconds : float          wall time of the training loop
    n_params : int           parameters per model
    """

    excess: np.ndarray
    eval_loss: np.ndarray
    entropy_rate: float
    floor_eval: float
    seconds: float
    n_params: int

    _example = "'loss' or 'excess'"


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
    dtype : default float32;  device : default :func:`lrnotes.nets.engine.default_device`
    num_threads : torch CPU threads while training (1: fastest for tiny models), None: as is
    progress : show a ``tqdm.auto`` bar (default: in full mode only)
    """
    scheds = schedule_dict(schedules)
    seeds = check_seeds(seeds)
    steps = _int_at_least("steps", steps, 1)
    k = source.order
    seq_len = _int_at_least("seq_len", seq_len, k + 1)
    batch_size = _int_at_least("batch_size", batch_size, 1)
    b1, b2 = check_betas(betas)
    weight_decay = _real("weight_decay", weight_decay, low=0.0)
    clip_norm = check_clip_norm(clip_norm)
    eval_seqs = _int_at_least("eval_seqs", eval_seqs, 1)
    device = torch.device(default_device() if device is None else device)
    dtype = torch.float32 if dtype is None else dtype
    evals = sorted(eval_steps(0, steps, eval_every, first=True))

    names = list(scheds)
    G, M = len(names), len(seeds)
    arch = dict(d_model=d_model, n_heads=n_heads, n_layers=n_layers, d_ff=d_ff, dtype=dtype, device=device)
    models = [BatchedTransformer(source.vocab, seq_len - 1, seeds, **arch) for _ in names]
    opts = [torch.optim.AdamW(m.parameters(), lr=float(scheds[n](0)), betas=(b1, b2), weight_decay=weight_decay)
            for m, n in zip(models, names)]
    groups = Groups(opts, [S.to_torch(o, scheds[n]) for o, n in zip(opts, names)])
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

    def evaluate(t):
        j = evals.index(t)
        for g, model in enumerate(models):
            lp = model.log_probs(eval_tokens)                                     # (M, B, L, V)
            excess[g, :, j] = source.excess_loss(lp, eval_tokens).double().cpu().numpy()
            tgt = eval_tokens[:, k:].expand(M, -1, -1)
            nll = -lp[:, :, k:].gather(-1, tgt[..., None]).squeeze(-1)
            eval_loss[g, :, j] = nll.double().mean((1, 2)).cpu().numpy()

    def step(t):
        batch = torch.stack([draw(batch_size, seq_len, gen) for gen in gens])   # (M, B, L)
        per_model = stacked_lm_losses(models, batch, start=k)                  # (G, M)
        norms[t] = descend(per_model.sum(), groups, params=params, n_models=M, clip_norm=clip_norm,
                           lr_out=lr[:, t])
        losses[t] = per_model.detach()

    t0 = time.perf_counter()
    loop(0, steps, step, evals=set(evals), evaluate=evaluate, show_progress=progress,
         num_threads=num_threads, device=device)
    seconds = time.perf_counter() - t0
    return LMResult(names=names, seeds=seeds, lr=lr, loss=losses.permute(1, 2, 0).cpu().numpy(),
                    grad_norm=norms.permute(1, 2, 0).cpu().numpy(), eval_steps=np.array(evals),
                    excess=excess, eval_loss=eval_loss, entropy_rate=float(source.entropy_rate),
                    floor_eval=floor_eval, seconds=seconds, n_params=int(n_params))
