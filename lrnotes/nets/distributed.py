r"""Schedules under ``torch.distributed``: the budget follows the world size, and a run
that resumes on another world size is re-targeted, not rebuilt.

One schedule on every rank, with nothing sent
----------------------------------------------
A schedule of :mod:`lrnotes.schedules` is a closed-form function of the step ``t``.  Under
DDP every rank makes the same optimizer steps in lockstep (each ``backward`` all-reduces
the gradients), so every rank's ``S.to_torch`` scheduler has the same ``last_epoch`` and
computes the same learning rate from the same arguments, bit for bit.  No broadcast.

The budget follows the world size
---------------------------------
With ``W`` ranks, a per-rank batch ``b`` (global batch :math:`B = Wb`) and torch's
``DistributedSampler`` and ``DataLoader`` (``drop_last`` the same in both), one epoch of
``n`` examples is

.. math:: \Bigl\lfloor \frac{\lfloor n/W \rfloor}{b} \Bigr\rfloor \text{ steps}
          \quad(\texttt{drop\_last=True}), \qquad
          \Bigl\lceil \frac{\lceil n/W \rceil}{b} \Bigr\rceil \text{ steps}
          \quad(\texttt{drop\_last=False}),

(:func:`steps_per_epoch`, torch's own count) and a budget of ``E`` epochs is ``E`` times
that (:func:`step_budget`).  Halve the world size at a fixed per-rank batch and the budget
in steps doubles.

A resume on another world size
------------------------------
A job planned for :math:`T` steps at global batch :math:`B` resumes at step :math:`a` with
global batch :math:`B'`; the data left take :math:`T' - a` steps.  :func:`resume_schedule`
re-targets the plan to :math:`T'` (``S.retarget``: no jump, the end value at :math:`T'`)
and multiplies what follows :math:`a` by the factor :math:`s` of a batch-size rule
(:func:`lr_scale`; linear: :math:`s = B'/B`, so the learning rate *per example*,
:math:`\eta/B`, has no jump), capped at ``max_lr``:

.. math:: \eta'_t = \begin{cases} \eta_t & t < a,\\
          s\,\eta\bigl(a + (t-a)\tfrac{T-a}{T'-a}\bigr) & t \ge a. \end{cases}

When :math:`T' - a = (T - a)B/B'` (the samples left, counted at the new batch), the
re-targeted schedule is the plan read on a clock of *samples*: a warmup or a decay that is
still to come keeps its length in examples.

The demonstration run
---------------------
:func:`launch` starts ``world_size`` processes on this machine (``torch.multiprocessing``
spawn, gloo or NCCL, the loopback address and a free port, a timeout on the join) and
runs an importable function in each; :func:`first_run` and :func:`resume_run` are the
book's workers: small MLPs on the digits trained with ``DistributedDataParallel``, a
checkpoint saved by rank 0 and loaded on every rank.  ``python -m lrnotes.nets.distributed``
(or ``torchrun ... -m lrnotes.nets.distributed``) runs the same workers from the command line.

Contents
--------
steps_per_epoch   optimizer steps in one epoch, as DistributedSampler + DataLoader count them
step_budget       (epochs, dataset size, global batch, world size) -> steps
lr_scale          the factor of a batch-size rule: linear, sqrt, or none
resume_schedule   re-target at the resume step to the new total, scaled by the rule, capped
load_scheduler    an ``S.to_torch`` scheduler with a saved state and a new schedule
free_port         a free TCP port on 127.0.0.1
launch            run ``fn(rank, world_size, *args)`` in ``world_size`` processes, bounded in time
Job, plan_schedule, resume_policies, first_run, resume_run, main   the book's DDP workers
"""

from __future__ import annotations

import copy
import datetime
import functools
import math
import os
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from lrnotes import schedules as S
from lrnotes.schedules import _int_at_least, _lr, _real, _schedule_arg

__all__ = ["RULES", "POLICIES", "steps_per_epoch", "step_budget", "lr_scale", "resume_schedule",
           "load_scheduler", "free_port", "launch", "Job", "plan_schedule", "resume_policies",
           "first_run", "resume_run", "main"]

LOOPBACK = "127.0.0.1"
RULES = ("linear", "sqrt", "none")
POLICIES = ("keep", "rebuild", "retarget", "retarget, scaled", "retarget, capped")


# --------------------------------------------------------------------------- budget
def steps_per_epoch(dataset_size: int, batch_per_rank: int, world_size: int = 1, *,
                    drop_last: bool = True) -> int:
    r"""Optimizer steps in one epoch of ``DistributedSampler`` + ``DataLoader``.

    ``drop_last=True`` (in both): each rank gets :math:`\lfloor n/W\rfloor` examples
    (the sampler drops the tail) and makes :math:`\lfloor \lfloor n/W\rfloor / b\rfloor`
    steps; ``False``: :math:`\lceil n/W\rceil` (the sampler pads by repeating examples)
    and :math:`\lceil \lceil n/W\rceil / b\rceil` steps, the last one short.
    """
    n = _int_at_least("dataset_size", dataset_size, 1)
    b = _int_at_least("batch_per_rank", batch_per_rank, 1)
    W = _int_at_least("world_size", world_size, 1)
    if drop_last:
        steps = (n // W) // b
    else:
        steps = -(-(-(-n // W)) // b)
    if steps < 1:
        raise ValueError(f"dataset_size must give each of the {W} ranks at least one batch of "
                         f"{b}: dataset_size >= {W * b}, got {n}")
    return steps


def step_budget(epochs: int, dataset_size: int, global_batch: int, world_size: int = 1, *,
                drop_last: bool = True) -> int:
    """The budget in optimizer steps of ``epochs`` passes over ``dataset_size`` examples at
    a ``global_batch`` split over ``world_size`` ranks: ``epochs * steps_per_epoch(...)``.

    ``global_batch`` must be a multiple of ``world_size`` (each rank takes
    ``global_batch // world_size``).  ``epochs`` may be 0 (nothing left to do).
    """
    E = _int_at_least("epochs", epochs, 0)
    B = _int_at_least("global_batch", global_batch, 1)
    W = _int_at_least("world_size", world_size, 1)
    if B % W:
        raise ValueError(f"global_batch must be a multiple of world_size={W}, got {B}")
    return E * steps_per_epoch(dataset_size, B // W, W, drop_last=drop_last)


# --------------------------------------------------------------------------- the resume
def lr_scale(old_batch: int, new_batch: int, rule: str = "linear") -> float:
    r"""The factor by which a batch-size rule multiplies the learning rate when the global
    batch goes from ``old_batch`` :math:`B` to ``new_batch`` :math:`B'`.

    ``"linear"``: :math:`B'/B` (Goyal et al.; the book's batch-size page measures where
    it holds, and where it stops at the stability limit); ``"sqrt"``: :math:`\sqrt{B'/B}`
    (a rule of thumb for Adam, not measured in the book); ``"none"``: 1.
    """
    B = _int_at_least("old_batch", old_batch, 1)
    B2 = _int_at_least("new_batch", new_batch, 1)
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    return {"linear": B2 / B, "sqrt": math.sqrt(B2 / B), "none": 1.0}[rule]


def resume_schedule(sched: S.Schedule, at: int, total: int, *, old_batch: int = 1, new_batch: int = 1,
                    rule: str = "linear", max_lr: float | None = None) -> S.Schedule:
    r"""The schedule for a run that resumes at step ``at`` with a new global batch and a new
    budget ``total``: ``S.retarget(sched, at, total)``, multiplied from ``at`` on by
    :math:`s` = ``lr_scale(old_batch, new_batch, rule)``.

    With ``max_lr`` the factor is lowered, if need be, so that no learning rate from
    ``at`` to ``total`` exceeds it (the linear rule scaled *up* can ask for more than
    the stability limit :math:`2/\lambda_{\max}`).  The factor used is
    ``params["scale"]``.  With equal batches (the defaults) it is ``S.retarget`` exactly.
    """
    sched = _schedule_arg("sched", sched)
    re = S.retarget(sched, at=at, total=total)
    a, T2 = re.params["at"], re.total
    s = lr_scale(old_batch, new_batch, rule)
    if max_lr is not None:
        cap = _real("max_lr", max_lr, low=0.0, low_open=True)
        top = float(np.max(re(np.arange(a, T2 + 1))))
        if s * top > cap:
            s = cap / top

    def fn(t):
        return np.where(t < a, 1.0, s) * re(t)

    return S.Schedule(fn, name="resume",
                      params={"inner": sched, "at": a, "total": T2, "scale": s, "rule": rule},
                      total=T2, restarts=re._restarts)


def load_scheduler(optimizer, schedule: S.Schedule, state: dict):
    """``S.to_torch(optimizer, schedule)`` resumed from a saved scheduler ``state``.

    The step count comes from ``state``; the learning rate from ``schedule`` at that step,
    written into the optimizer's groups at once.  (``load_state_dict`` alone would leave
    the optimizer at the *saved* learning rate for the first update after the resume.)
    Load the optimizer's own state before calling this.
    """
    sched = S.to_torch(optimizer, schedule)
    sched.load_state_dict(state)
    lrs = sched.get_lr()
    for group, lr in zip(optimizer.param_groups, lrs):
        group["lr"] = lr
    sched._last_lr = list(lrs)
    return sched


# --------------------------------------------------------------------------- processes
def free_port() -> int:
    """A TCP port that is free on the loopback address now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _importable(fn) -> bool:
    mod, qual = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    return callable(fn) and mod not in (None, "__main__", "__mp_main__") and "<" not in qual


def _entry(rank, world_size, port, backend, fn, args, out_dir, timeout):
    """One spawned process: join the group on the loopback address, run ``fn``, always
    leave the group, write the result for the parent."""
    import torch
    import torch.distributed as dist

    if sys.platform.startswith("linux"):
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")   # gloo: the loopback interface only
    torch.set_num_threads(1)
    dist.init_process_group(backend, init_method=f"tcp://{LOOPBACK}:{port}", rank=rank,
                            world_size=world_size, timeout=datetime.timedelta(seconds=timeout))
    try:
        out = fn(rank, world_size, *args)
    finally:
        dist.destroy_process_group()
    torch.save(out, Path(out_dir) / f"rank{rank}.pt")


def launch(fn: Callable, world_size: int, *args, backend: str = "gloo", timeout: float = 120.0) -> list:
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` new processes on this machine,
    each a rank of one process group; return the ``world_size`` results, by rank.

    Processes are started with ``torch.multiprocessing`` spawn, so ``fn`` must be
    importable from a module (not defined in a notebook), and ``args`` and the results
    picklable.  The group meets at ``127.0.0.1`` on a free port (gloo uses the loopback
    interface), and is destroyed in every process, whatever ``fn`` does.  ``timeout``
    seconds bound the whole run: past it the processes are killed and ``TimeoutError``
    raised.  An exception in a rank is raised here (torch's ``ProcessRaisedException``).
    In a script, call it under ``if __name__ == "__main__":`` (spawn imports the script
    again in each process).  For a multi-GPU job use ``torchrun`` instead (see :func:`main`).
    """
    import torch.multiprocessing as mp

    W = _int_at_least("world_size", world_size, 1)
    limit = _real("timeout", timeout, low=0.0, low_open=True)
    if not _importable(fn):
        raise ValueError(f"fn must be a function importable from a module (spawn imports it "
                         f"in each process), got {fn!r}")
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', got {backend!r}")
    with tempfile.TemporaryDirectory(prefix="lrnotes-ddp-") as tmp:
        ctx = mp.start_processes(_entry, args=(W, free_port(), backend, fn, args, tmp, limit),
                                 nprocs=W, join=False, start_method="spawn")
        deadline = time.monotonic() + limit
        try:
            while not ctx.join(timeout=max(min(deadline - time.monotonic(), 1.0), 0.01)):
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"the {W} processes did not finish within timeout={limit:g} s")
        finally:
            for p in ctx.processes:
                if p.is_alive():
                    p.terminate()
            for p in ctx.processes:
                p.join(5)
                if p.is_alive():
                    p.kill()
                    p.join(5)
        import torch

        return [torch.load(Path(tmp) / f"rank{r}.pt", weights_only=False) for r in range(W)]


# --------------------------------------------------------------------------- the book's workers
@dataclass(frozen=True)
class Job:
    """What the book's DDP workers train (picklable: it crosses to the spawned processes).

    seeds : one model per seed, trained one after another (initialisation and data order)
    epochs : the budget, in passes over the training set; save_epoch : where rank 0 saves
    batch_per_rank : each rank's batch (the global batch is ``world_size`` times it)
    peak, warmup : the plan, ``S.cosine(T, peak, warmup=round(warmup * T))``, ``T`` the
        budget at the world size of the first run (``warmup`` a fraction of it)
    hidden : the MLP's hidden widths; n_train : use the first ``n_train`` training
        examples of the digits (``None``: all 1,347)
    eval_every : full-training-set loss every so many steps (and at every epoch's end)
    checkpoint : the file rank 0 writes (first run) and every rank reads (resume)
    max_lr : the cap of the policy "retarget, capped" (see :func:`resume_policies`)
    policies : what :func:`resume_run` runs, names of :data:`POLICIES`
    """

    checkpoint: str
    seeds: tuple = (0,)
    epochs: int = 4
    save_epoch: int = 2
    batch_per_rank: int = 8
    peak: float = 0.5
    warmup: float = 0.05
    hidden: tuple = (64,)
    n_train: int | None = None
    eval_every: int = 12
    max_lr: float | None = None
    policies: tuple = POLICIES[:4]

    def __post_init__(self):
        if not self.seeds:
            raise ValueError("seeds must hold at least one seed")
        for i, s in enumerate(self.seeds):
            _int_at_least(f"seeds[{i}]", s, 0)
        E = _int_at_least("epochs", self.epochs, 1)
        k = _int_at_least("save_epoch", self.save_epoch, 1)
        if k >= E:
            raise ValueError(f"save_epoch must be before the last epoch: save_epoch < epochs={E}, got {k}")
        _int_at_least("batch_per_rank", self.batch_per_rank, 1)
        _lr("peak", self.peak)
        _real("warmup", self.warmup, low=0.0, high=1.0, high_open=True)
        _int_at_least("eval_every", self.eval_every, 1)
        if self.n_train is not None:
            _int_at_least("n_train", self.n_train, 1)
        if self.max_lr is not None:
            _real("max_lr", self.max_lr, low=0.0, low_open=True)
        bad = [p for p in self.policies if p not in POLICIES]
        if bad or not self.policies:
            raise ValueError(f"policies must be a non-empty tuple of {POLICIES}, got {self.policies!r}")

    def data(self, d=None):
        """The training data: ``d`` (the digits, passed on by the parent process to save
        each rank the import of scikit-learn) or a fresh ``lrnotes.nets.data.digits()``, cut
        to ``n_train`` examples."""
        from lrnotes.nets.data import digits

        d = digits() if d is None else d
        if self.n_train is not None:
            if self.n_train > d.x_train.shape[0]:
                raise ValueError(f"n_train must be at most {d.x_train.shape[0]}, got {self.n_train}")
            d = replace(d, x_train=d.x_train[:self.n_train], y_train=d.y_train[:self.n_train])
        return d

    @property
    def n_examples(self) -> int:
        """The size of the training set the job uses."""
        return self.n_train or _digits_train_size()

    def budget(self, world_size: int, epochs: int | None = None, batch_per_rank: int | None = None) -> int:
        """Steps of ``epochs`` epochs (default: all) at ``world_size`` ranks of
        ``batch_per_rank`` (default: the job's), by :func:`step_budget`."""
        b = self.batch_per_rank if batch_per_rank is None else batch_per_rank
        return step_budget(self.epochs if epochs is None else epochs, self.n_examples, b * world_size,
                           world_size)


@functools.cache
def _digits_train_size() -> int:
    from lrnotes.nets.data import digits

    return int(digits().y_train.shape[0])


def plan_schedule(job: Job, world_size: int, batch_per_rank: int | None = None) -> S.Schedule:
    """The plan a job builds at start-up on ``world_size`` ranks (of ``batch_per_rank``,
    default the job's): ``S.cosine(T, peak, warmup=round(warmup * T))``, ``T`` the budget."""
    T = job.budget(world_size, batch_per_rank=batch_per_rank)
    return S.cosine(T, job.peak, warmup=int(round(job.warmup * T)))


def resume_policies(job: Job, old_world_size: int, new_world_size: int, *,
                    old_batch_per_rank: int | None = None) -> dict:
    """The ways to go on at ``new_world_size`` (ranks of ``job.batch_per_rank``) from the
    checkpoint after ``job.save_epoch`` epochs at ``old_world_size`` (ranks of
    ``old_batch_per_rank``, default the same): name -> Schedule, for ``job.policies``.

    keep: the old plan.  rebuild: the plan built afresh at the new world size (what a
    script that computes its budget at start-up does), read at the restored step.
    retarget: ``S.retarget`` of the old plan to the new total.  retarget, scaled: the
    same times the linear rule's :math:`B'/B` (:func:`resume_schedule`).  retarget,
    capped: the same, capped at ``job.max_lr``.
    """
    b_old = job.batch_per_rank if old_batch_per_rank is None else old_batch_per_rank
    plan = plan_schedule(job, old_world_size, b_old)
    at = job.budget(old_world_size, job.save_epoch, b_old)
    total = at + job.budget(new_world_size, job.epochs - job.save_epoch)
    B, B2 = b_old * old_world_size, job.batch_per_rank * new_world_size
    out = {}
    for name in job.policies:
        if name == "keep":
            out[name] = plan
        elif name == "rebuild":
            out[name] = plan_schedule(job, new_world_size)
        elif name == "retarget":
            out[name] = S.retarget(plan, at=at, total=total)
        else:
            if name == "retarget, capped" and job.max_lr is None:
                raise ValueError("the policy 'retarget, capped' needs job.max_lr")
            out[name] = resume_schedule(plan, at, total, old_batch=B, new_batch=B2, rule="linear",
                                        max_lr=job.max_lr if name == "retarget, capped" else None)
    return out


def _device():
    import torch
    import torch.distributed as dist

    if dist.is_initialized() and dist.get_backend() == "nccl":
        local = int(os.environ.get("LOCAL_RANK", dist.get_rank() % max(torch.cuda.device_count(), 1)))
        torch.cuda.set_device(local)
        return torch.device("cuda", local)
    return torch.device("cpu")


class _Stack:
    """Every seed of one schedule on this rank, trained together.

    A :class:`lrnotes.nets.models.BatchedMLP` (model ``m`` is ``mlp(sizes, seeds[m])``) inside
    ``DistributedDataParallel``; the loss is the sum of the models' mean losses, so each
    model gets its own gradient (as in :mod:`lrnotes.nets.train`) and DDP averages it over the
    ranks.  One SGD optimizer and one ``S.to_torch`` scheduler; one ``DistributedSampler``
    per seed (``seed=seeds[m]``), read ``batch_per_rank`` at a time with the incomplete
    last batch dropped, as a ``DataLoader(..., drop_last=True)`` would.
    """

    def __init__(self, job: Job, data, schedule, rank: int, world_size: int, device):
        import torch
        from torch.nn.parallel import DistributedDataParallel as DDP
        from torch.utils.data import DistributedSampler, TensorDataset

        from lrnotes.nets.models import BatchedMLP

        sizes = [int(data.x_train.shape[1]), *job.hidden, int(data.n_classes)]
        self.net = BatchedMLP(sizes, list(job.seeds), device=device)
        self.ddp = DDP(self.net, device_ids=[device.index] if device.type == "cuda" else None)
        self.opt = torch.optim.SGD(self.net.parameters(), lr=float(schedule(0)))
        self.sched = S.to_torch(self.opt, schedule)
        ds = TensorDataset(data.x_train, data.y_train)
        self.samplers = [DistributedSampler(ds, num_replicas=world_size, rank=rank, shuffle=True,
                                            seed=s, drop_last=True) for s in job.seeds]
        self.x, self.y, self.b = data.x_train, data.y_train, job.batch_per_rank
        self.steps_per_epoch = len(self.samplers[0]) // self.b
        self.step, self.lr = 0, []

    def state(self) -> dict:
        return copy.deepcopy({"model": self.net.state_dict(), "optimizer": self.opt.state_dict(),
                              "scheduler": self.sched.state_dict()})

    def load(self, state: dict, schedule) -> None:
        self.net.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.sched = load_scheduler(self.opt, schedule, state["scheduler"])
        self.step = int(self.sched.last_epoch)

    def epoch(self, e: int, evaluate, every: int, log: dict) -> None:
        import torch

        for s in self.samplers:
            s.set_epoch(e)
        order = torch.tensor([list(s) for s in self.samplers], device=self.x.device)  # (M, n/W)
        for j in range(self.steps_per_epoch):
            idx = order[:, j * self.b:(j + 1) * self.b]                    # (M, b)
            self.lr.append(self.opt.param_groups[0]["lr"])
            self.opt.zero_grad()
            logits = self.ddp(self.x[idx])                                  # (M, b, classes)
            M = logits.shape[0]
            ce = torch.nn.functional.cross_entropy(logits.reshape(M * self.b, -1), self.y[idx].reshape(-1),
                                                   reduction="none")
            ce.reshape(M, self.b).mean(1).sum().backward()   # DDP: gradients averaged over ranks
            self.opt.step()
            self.sched.step()
            self.step += 1
            if self.step % every == 0:
                log[self.step] = evaluate(self.net)
        log[self.step] = evaluate(self.net)

    def params(self) -> np.ndarray:
        """``(M, P)``: each model's parameters in ``mlp``'s order (weight ``(out, in)``, bias)."""
        import torch

        with torch.no_grad():
            return torch.stack([torch.cat([t for w, b in zip(self.net.weights, self.net.biases)
                                           for t in (w[m].T.reshape(-1), b[m])])
                                for m in range(self.net.n_models)]).double().cpu().numpy()


def _evaluator(data):
    import torch

    @torch.no_grad()
    def evaluate(net):
        return net.loss(data.x_train, data.y_train).double().cpu().numpy()
    return evaluate


def _history(log: dict) -> tuple:
    steps = np.array(sorted(log), dtype=int)
    return steps, np.stack([log[s] for s in steps], axis=-1)      # (E,), (M, E)


def first_run(rank: int, world_size: int, job: Job, data=None) -> dict:
    """The first run, on every rank of an initialised group: all seeds train the plan
    (:func:`plan_schedule`) for ``job.epochs`` epochs, and rank 0 saves the checkpoint
    after ``job.save_epoch`` epochs, with a barrier after it.  Then every rank loads that
    file into fresh objects and trains on to the end once more: the resumed copy.

    ``data``: the digits from the parent (default: each rank reads them itself).

    Returns (per rank): ``lr`` (T,) the learning rates used, ``lr_end`` the one after the
    last step, ``lr_resumed`` (T - a,) those of the resumed copy, ``params`` and
    ``params_resumed`` (seeds, P) the final weights, ``eval_steps`` and ``train_loss``
    (seeds, evaluations), ``steps_per_epoch``, ``at`` (the checkpoint's step),
    ``global_batch``, ``world_size``, ``rank``.
    """
    import torch
    import torch.distributed as dist

    device = _device()
    data = job.data(data).to(device=device)
    job = replace(job, n_train=int(data.y_train.shape[0]))   # the budget without re-reading the data
    plan = plan_schedule(job, world_size)
    evaluate = _evaluator(data)
    run = _Stack(job, data, plan, rank, world_size, device)
    log = {0: evaluate(run.net)}
    for e in range(job.epochs):
        run.epoch(e, evaluate, job.eval_every, log)
        if e + 1 == job.save_epoch:
            at, saved = run.step, run.state()
    if rank == 0:
        torch.save({"format": "lrnotes.nets.distributed/1", "world_size": world_size,
                    "global_batch": job.batch_per_rank * world_size, "step": at,
                    "epoch": job.save_epoch, "seeds": list(job.seeds), "run": saved}, job.checkpoint)
    dist.barrier()                          # the file is complete before any rank reads it
    ckpt = torch.load(job.checkpoint, map_location=device, weights_only=True)
    again = _Stack(job, data, plan, rank, world_size, device)
    again.load(ckpt["run"], plan)
    for e in range(job.save_epoch, job.epochs):
        again.epoch(e, evaluate, 10**9, {})
    steps, loss = _history(log)
    return {"rank": rank, "world_size": world_size, "global_batch": job.batch_per_rank * world_size,
            "steps_per_epoch": run.steps_per_epoch, "at": int(at), "lr": np.array(run.lr),
            "lr_end": run.opt.param_groups[0]["lr"], "lr_resumed": np.array(again.lr),
            "params": run.params(), "params_resumed": again.params(),
            "eval_steps": steps, "train_loss": loss}


def resume_run(rank: int, world_size: int, job, data=None):
    """Resume ``job.checkpoint`` (saved by :func:`first_run`, at any world size) on every
    rank of this group, once per policy of :func:`resume_policies`, to the end of
    ``job.epochs`` epochs.  ``job`` may be a list of jobs (sharing the checkpoint and
    differing, say, in ``batch_per_rank`` or ``policies``): then a list of results.
    ``data`` as in :func:`first_run`.

    Returns (per rank): ``policies`` (names), ``at`` and ``total`` (the resume step and the
    step where the data run out), ``lr`` (policies, total - at) the learning rates used
    from the resume on, ``lr_end`` (policies,) the learning rate after the last step,
    ``params`` (policies, seeds, P), ``eval_steps`` (from the resume on) and
    ``train_loss`` (policies, seeds, evaluations), ``steps_per_epoch``, ``global_batch``,
    ``world_size``, ``rank``.
    """
    if isinstance(job, (list, tuple)):
        return [resume_run(rank, world_size, j, data) for j in job]
    import torch

    device = _device()
    ckpt = torch.load(job.checkpoint, map_location=device, weights_only=True)
    if ckpt.get("format") != "lrnotes.nets.distributed/1" or ckpt["seeds"] != list(job.seeds):
        raise ValueError(f"job.checkpoint must be a checkpoint of first_run with seeds {list(job.seeds)}")
    data = job.data(data).to(device=device)
    job = replace(job, n_train=int(data.y_train.shape[0]))
    old_ws, at = int(ckpt["world_size"]), int(ckpt["step"])
    old_b = int(ckpt["global_batch"]) // old_ws
    if at != job.budget(old_ws, job.save_epoch, old_b):
        raise ValueError(f"the checkpoint's step {at} is not the end of epoch {job.save_epoch} "
                         f"of this job at world size {old_ws}")
    evaluate = _evaluator(data)
    out = {"lr": [], "lr_end": [], "params": [], "train_loss": []}
    policies = resume_policies(job, old_ws, world_size, old_batch_per_rank=old_b)
    for sched in policies.values():
        run = _Stack(job, data, sched, rank, world_size, device)
        run.load(ckpt["run"], sched)
        log = {at: evaluate(run.net)}
        for e in range(job.save_epoch, job.epochs):
            run.epoch(e, evaluate, job.eval_every, log)
        steps, loss = _history(log)
        out["lr"].append(run.lr)
        out["lr_end"].append(run.opt.param_groups[0]["lr"])
        out["params"].append(run.params())
        out["train_loss"].append(loss)
    return {"rank": rank, "world_size": world_size, "global_batch": job.batch_per_rank * world_size,
            "steps_per_epoch": run.steps_per_epoch, "policies": list(policies), "at": at,
            "total": at + len(out["lr"][0]), "eval_steps": steps,
            "scale": {k: v.params.get("scale") for k, v in policies.items()},
            **{k: np.array(v) for k, v in out.items()}}


# --------------------------------------------------------------------------- command line
def main(argv: Sequence[str] | None = None) -> int:
    """``torchrun --nproc-per-node=N -m lrnotes.nets.distributed {first,resume} --checkpoint F``.

    Reads ``RANK``, ``WORLD_SIZE`` and the rendezvous from the environment (torchrun sets
    them); NCCL when CUDA is available, else gloo.  ``--out`` (rank 0) saves the result.
    """
    import argparse

    import torch
    import torch.distributed as dist

    from lrnotes import config

    p = argparse.ArgumentParser(prog="python -m lrnotes.nets.distributed", description=main.__doc__)
    p.add_argument("phase", choices=("first", "resume"))
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--out", default=None, help="rank 0 writes the result here (torch.save)")
    p.add_argument("--seeds", type=int, default=config.pick(quick=4, full=16))
    p.add_argument("--epochs", type=int, default=config.pick(quick=4, full=8))
    p.add_argument("--save-epoch", type=int, default=None, help="default: half the epochs")
    p.add_argument("--batch-per-rank", type=int, default=8)
    p.add_argument("--peak", type=float, default=0.5)
    p.add_argument("--max-lr", type=float, default=None)
    a = p.parse_args(argv)
    job = Job(checkpoint=a.checkpoint, seeds=tuple(range(a.seeds)), epochs=a.epochs,
              save_epoch=a.save_epoch or max(a.epochs // 2, 1), batch_per_rank=a.batch_per_rank,
              peak=a.peak, max_lr=a.max_lr)
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    dist.init_process_group(backend)
    try:
        out = (first_run if a.phase == "first" else resume_run)(dist.get_rank(), dist.get_world_size(), job)
    finally:
        dist.destroy_process_group()
    if a.out and out["rank"] == 0:
        torch.save(out, a.out)
    return 0


if __name__ == "__main__":  # pragma: no cover - run by torchrun
    raise SystemExit(main())
