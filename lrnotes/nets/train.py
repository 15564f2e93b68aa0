r"""Train many small networks at once: seeds x schedules, with real ``torch.optim`` optimizers.

The models of one *group* share a learning-rate schedule and are stacked in one
:class:`lrnotes.nets.models.BatchedMLP` (one model per seed), driven by one ``torch.optim``
optimizer and one ``S.to_torch(optimizer, schedule)`` scheduler.  Several schedules are
several groups, trained in the same loop: per step one forward and one backward pass for
every model, then one optimizer and scheduler step per group.

Why this is exactly independent training: the loss is
:math:`\sum_{g}\sum_{m} \bar\ell_{g,m}`, a sum of per-model mean losses, so the gradient
in model :math:`m`'s parameters is that model's own; SGD, momentum and Adam act elementwise,
so each model's update is the one it would get alone.  Gradient clipping is per model
(:math:`g_m \leftarrow g_m\min(1, c/(\|g_m\| + 10^{-6}))`, torch's ``clip_grad_norm_``
formula), since one global norm would couple the models.  :func:`train_sequential` trains
the same models one at a time with plain ``nn.Sequential`` networks; the tests check that
both give the same losses.

Seeds: model ``(group, m)`` uses ``seeds[m]`` for its initialisation and for its data
order (a shuffled pass over the training set per epoch, incomplete last batch dropped,
from its own ``torch.Generator``).  Every group sees the same initialisations and the same
batches, so schedules are compared on common random numbers.

Steps follow :mod:`lrnotes.schedules`: update ``t = 0, 1, ...`` uses ``sched(t)``;
evaluation "at step t" is after ``t`` updates.

Contents
--------
ScheduledAdam     Adam that follows a β1 changed during training, with the standard or the exact bias correction
TrainResult       per-step losses, learning rates and gradient norms; evaluations; spread over seeds
Trainer           the batched loop: run(until), checkpoint (state_dict / save / load), branch into new schedules
train             Trainer(...).run(steps) in one call
train_sequential  the same training one model at a time (the reference, and the baseline for speed)
default_device    "cuda" in full mode when available, else "cpu" (from :mod:`lrnotes.nets.engine`)

The loop, the gradient step with per-model clipping, the argument checks and the result
helpers are :mod:`lrnotes.nets.engine`'s, shared with the other trainers.
"""

from __future__ import annotations

import copy
import hashlib
import math
import os
import tempfile
import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F

from lrnotes import schedules as S
from lrnotes.nets.engine import (Groups, StepRun, check_betas, check_clip_norm, check_seeds, default_device,
                                 descend, eval_steps, loop, schedule_dict, scale_grads)
from lrnotes.nets.engine import progress as _progress  # noqa: F401  (its old name)
from lrnotes.nets.engine import schedule_dict as _schedule_dict  # noqa: F401  (its old name)
from lrnotes.nets.engine import threads as _threads
from lrnotes.nets.optim import ScheduledAdam  # noqa: F401  (its old place)
from lrnotes.nets.models import ACTIVATIONS, DATA, BatchedMLP, derive_seed, mlp, stacked_losses
from lrnotes.schedules import _int_at_least, _real

__all__ = ["OPTIMIZERS", "ScheduledAdam", "TrainResult", "Trainer", "train", "train_sequential",
           "default_device"]

OPTIMIZERS = ("sgd", "adam", "adam_exact")


# --------------------------------------------------------------------------- results
@dataclass(kw_only=True)
class TrainResult(StepRun):
    r"""What a training run recorded, as NumPy arrays.

    ``G`` schedules (groups), ``M`` seeds, ``n`` updates, ``E`` evaluations.  The helpers
    ``steps``, ``mean_std``, ``steps_to`` and ``loss_at`` come from
    :class:`lrnotes.nets.engine.StepRun`.

    Attributes
    ----------
    names : list of G str
        The schedules' names.
    seeds : list of M int
        The models' seeds.
    lr : array (G, n)
        Learning rate of update ``t``.
    loss : array (G, M, n)
        Minibatch training loss at update ``t`` (before it).
    grad_norm : array (G, M, n)
        Per-model gradient norm at update ``t``, before clipping.
    eval_steps : array (E,)
        Steps ``t`` (updates done) of the evaluations.
    train_loss, train_acc, test_loss, test_acc : array (G, M, E)
        Full-set loss and accuracy at ``eval_steps``; ``loss_at(name, t, split)`` reads a loss.
    seconds : float
        Wall time spent in the training loop(s).

    """

    train_loss: np.ndarray
    train_acc: np.ndarray
    test_loss: np.ndarray
    test_acc: np.ndarray
    seconds: float = 0.0


# --------------------------------------------------------------------------- the loop
class _Sampler:
    """Per-model shuffled passes over ``n`` examples, ``batch`` at a time, from each model's seed."""

    def __init__(self, seeds: Sequence[int], n: int, batch: int, device):
        if batch > n:
            raise ValueError(f"batch_size must be at most the training-set size {n}, got {batch}")
        self.n, self.batch, self.device = n, batch, device
        self.gens = [torch.Generator().manual_seed(derive_seed(s, DATA)) for s in seeds]
        self.perm = None
        self.pos = n  # start a fresh epoch at the first call

    def next(self):
        if self.pos + self.batch > self.n:  # drop the incomplete last batch
            self.perm = torch.stack([torch.randperm(self.n, generator=g) for g in self.gens]).to(self.device)
            self.pos = 0
        idx = self.perm[:, self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx

    def state_dict(self):
        return {"gens": [g.get_state() for g in self.gens], "perm": None if self.perm is None else self.perm.cpu(),
                "pos": self.pos}

    def load_state_dict(self, sd):
        for g, s in zip(self.gens, sd["gens"]):
            g.set_state(s)
        self.perm = None if sd["perm"] is None else sd["perm"].to(self.device)
        self.pos = sd["pos"]


class _Config:
    """The validated training configuration shared by Trainer and train_sequential."""

    def __init__(self, data, schedules, seeds, *, hidden=(64,), activation="relu", optimizer="sgd",
                 momentum=0.0, nesterov=False, betas=(0.9, 0.999), weight_decay=0.0, batch_size=64,
                 clip_norm=None, reset_momentum=False, beta1=None, dtype=None, device=None,
                 num_threads=1):
        if not all(hasattr(data, a) for a in ("x_train", "y_train", "x_test", "y_test", "n_classes")):
            raise ValueError("data must be an lrnotes.nets.data.Dataset (e.g. lrnotes.nets.data.digits())")
        self.schedules = schedule_dict(schedules)
        self.seeds = check_seeds(seeds)
        hidden = [hidden] if isinstance(hidden, int) else list(hidden)
        self.sizes = [int(data.x_train.shape[1])] + [_int_at_least(f"hidden[{i}]", h, 1)
                                                      for i, h in enumerate(hidden)] + [int(data.n_classes)]
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
        self.activation = activation
        self.batch_size = _int_at_least("batch_size", batch_size, 1)
        self.clip_norm = check_clip_norm(clip_norm)
        self.reset_momentum = bool(reset_momentum)
        self.dtype = torch.float32 if dtype is None else dtype
        self.device = torch.device(default_device() if device is None else device)
        self.num_threads = None if num_threads is None else _int_at_least("num_threads", num_threads, 1)
        momentum = _real("momentum", momentum, low=0.0, high=1.0, high_open=True)
        weight_decay = _real("weight_decay", weight_decay, low=0.0)
        if callable(optimizer):
            if momentum or nesterov or weight_decay or tuple(betas) != (0.9, 0.999):
                raise ValueError("with an optimizer factory, set momentum, nesterov, betas and "
                                 "weight_decay in the factory, not here")
            self.make_optimizer = lambda params, lr: optimizer(params)  # noqa: E731 - the schedule sets lr
            self.optimizer = getattr(optimizer, "__name__", "custom")
            self.opt_config = {"factory": self.optimizer}
        else:
            if optimizer not in OPTIMIZERS:
                raise ValueError(f"optimizer must be one of {OPTIMIZERS} or a function params -> "
                                 f"torch.optim.Optimizer, got {optimizer!r}")
            if nesterov and (optimizer != "sgd" or momentum == 0):
                raise ValueError("nesterov=True needs optimizer='sgd' and momentum > 0")
            if momentum and optimizer != "sgd":
                raise ValueError("momentum is for optimizer='sgd'; Adam's first moment uses betas[0]")
            b1, b2 = check_betas(betas)
            self.optimizer = optimizer
            self.opt_config = {"optimizer": optimizer, "momentum": momentum, "nesterov": bool(nesterov),
                               "betas": (b1, b2), "weight_decay": weight_decay}

            def make(params, lr):
                if optimizer == "sgd":
                    return torch.optim.SGD(params, lr=lr, momentum=momentum, nesterov=bool(nesterov),
                                           weight_decay=weight_decay)
                if optimizer == "adam":
                    return torch.optim.Adam(params, lr=lr, betas=(b1, b2), weight_decay=weight_decay)
                return ScheduledAdam(params, lr=lr, betas=(b1, b2), weight_decay=weight_decay,
                                     correction="exact")

            self.make_optimizer = make
        if beta1 is not None:
            if not callable(beta1):
                raise ValueError("beta1 must be None or a function of the step (e.g. a Schedule)")
            if self.optimizer not in ("adam", "adam_exact"):
                raise ValueError("beta1 (a schedule of Adam's beta1) needs optimizer 'adam' or 'adam_exact'")
        self.beta1 = beta1
        self.data = data.to(device=self.device, dtype=self.dtype)
        self.n_train = int(self.data.y_train.shape[0])

    def optimizer_for(self, params, schedule):
        opt = self.make_optimizer(params, float(schedule(0)))
        if not isinstance(opt, torch.optim.Optimizer):
            raise ValueError("the optimizer factory must return a torch.optim.Optimizer")
        return opt

    def set_beta1(self, opt, t: int):
        if self.beta1 is not None:
            b = float(self.beta1(t))
            if not 0.0 <= b < 1.0:
                raise ValueError(f"beta1({t}) must be in [0, 1), got {b}")
            for pg in opt.param_groups:
                pg["betas"] = (b, pg["betas"][1])


class Trainer:
    r"""Batched training of ``len(seeds)`` MLPs per schedule, resumable.

    Parameters
    ----------
    data : lrnotes.nets.data.Dataset
    schedules : Schedule, dict name -> Schedule, or list of Schedules
        One group of models per schedule; the schedule gives absolute learning rates.
    seeds : sequence of distinct int >= 0
        One model per seed in every group (initialisation and data order).
    hidden : int or sequence of int >= 1
        Hidden widths; the network is ``n_features -> hidden... -> n_classes``.
    activation : "relu" or "tanh"
    optimizer : "sgd", "adam", "adam_exact", or a function ``params -> torch.optim.Optimizer``
        ``"adam_exact"`` is :class:`~lrnotes.nets.optim.ScheduledAdam` with the exact correction.
    momentum, nesterov : SGD's (momentum in [0, 1))
    betas : Adam's (each in [0, 1)); weight_decay : float >= 0
    batch_size : int in [1, n_train]
    clip_norm : float > 0 or None — per-model gradient-norm clipping
    reset_momentum : bool — reset momentum at each warm restart (``S.to_torch``)
    beta1 : Schedule or function of t, optional — Adam's β1 for update ``t``
    dtype : torch dtype (default float32); device : default :func:`default_device`
    num_threads : int >= 1 or None — torch CPU threads while training (default 1: the
        fastest for these small networks, see ``lrnotes.nets.engine.threads``); ``None`` keeps torch's setting
    lr_factor : function, optional — per-model learning-rate factors computed in the loop.
        Called at every update as ``lr_factor(trainer, t, x, y, losses)`` after the
        backward pass (``x``, ``y``: the batch, ``(M, B, ...)``; ``losses``: the batch
        losses, a ``(G, M)`` NumPy array), it returns ``None`` (no change) or an array
        ``(G, M)`` of finite factors ``>= 0`` by which each model's gradient is multiplied
        (after clipping).  For SGD without momentum or weight decay that multiplies
        model ``(g, m)``'s learning rate; with momentum or Adam it scales the gradient
        only.  Feedback rules (a loss-triggered decay, a curvature-scaled step) use it.
        Batched training only (:class:`Trainer`, :func:`train`).

    Attributes
    ----------
    step : int — updates done;  models : dict name -> BatchedMLP;
    optimizers, schedulers : dicts name -> the torch objects.
    """

    def __init__(self, data, schedules, seeds, *, lr_factor=None, **kwargs):
        if lr_factor is not None and not callable(lr_factor):
            raise ValueError("lr_factor must be None or a function (trainer, t, x, y, losses) -> (G, M) factors")
        self.lr_factor = lr_factor
        self.cfg = _Config(data, schedules, seeds, **kwargs)
        cfg = self.cfg
        self.names = list(cfg.schedules)
        self.models, self.optimizers, self.schedulers = {}, {}, {}
        for name, sched in cfg.schedules.items():
            model = BatchedMLP(cfg.sizes, cfg.seeds, activation=cfg.activation, dtype=cfg.dtype,
                               device=cfg.device)
            opt = cfg.optimizer_for(model.parameters(), sched)
            self.models[name], self.optimizers[name] = model, opt
            self.schedulers[name] = S.to_torch(opt, sched, reset_momentum=cfg.reset_momentum)
        self.sampler = _Sampler(cfg.seeds, cfg.n_train, cfg.batch_size, cfg.device)
        self.step = 0
        G, M = len(self.names), len(cfg.seeds)
        self._hist = {"lr": np.zeros((G, 0)), "loss": np.zeros((G, M, 0)), "grad_norm": np.zeros((G, M, 0)),
                      "eval_steps": np.zeros(0, dtype=int)}
        for k in ("train_loss", "train_acc", "test_loss", "test_acc"):
            self._hist[k] = np.zeros((G, M, 0))
        self.seconds = 0.0

    @property
    def schedules(self) -> dict:
        return dict(self.cfg.schedules)

    # ------------------------------------------------------------------ evaluation
    @torch.no_grad()
    def evaluate(self) -> dict:
        """Full-set train and test loss and accuracy of every model now: arrays ``(G, M)``."""
        with _threads(self.cfg.num_threads, self.cfg.device):
            return self._evaluate()

    def _evaluate(self) -> dict:
        d = self.cfg.data
        out = {k: [] for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
        for name in self.names:
            model = self.models[name]
            for split, x, y in (("train", d.x_train, d.y_train), ("test", d.x_test, d.y_test)):
                logits = model(x)
                M, B = logits.shape[:2]
                ce = F.cross_entropy(logits.reshape(M * B, -1), y.repeat(M), reduction="none")
                out[f"{split}_loss"].append(ce.reshape(M, B).mean(1).double().cpu().numpy())
                out[f"{split}_acc"].append((logits.argmax(-1) == y).double().mean(1).cpu().numpy())
        return {k: np.stack(v) for k, v in out.items()}

    def _record_eval(self, t: int):
        if t in set(self._hist["eval_steps"].tolist()):
            return
        ev = self.evaluate()
        self._hist["eval_steps"] = np.append(self._hist["eval_steps"], t)
        for k, v in ev.items():
            self._hist[k] = np.concatenate([self._hist[k], v[..., None]], axis=-1)

    # ------------------------------------------------------------------ training
    def run(self, until: int, *, eval_every: int | None = None, eval_at: Sequence[int] | None = None,
            progress: bool | None = None) -> TrainResult:
        """Train from the current ``step`` up to ``until`` updates; return the whole history.

        Evaluates (full train and test sets) at multiples of ``eval_every``, at the steps in
        ``eval_at``, and always at ``until``.  ``progress`` shows a ``tqdm.auto`` bar
        (default: only when ``lrnotes.scale() == "full"``).
        """
        until = _int_at_least("until", until, self.step)
        evals = eval_steps(self.step, until, eval_every, eval_at)
        cfg, names = self.cfg, self.names
        G, M, n = len(names), len(cfg.seeds), until - self.step
        losses = torch.zeros((n, G, M), dtype=torch.float64, device=cfg.device)
        norms = torch.zeros((n, G, M), dtype=torch.float64, device=cfg.device)
        lrs = np.zeros((G, n))
        models = [self.models[k] for k in names]
        groups = Groups([self.optimizers[k] for k in names], [self.schedulers[k] for k in names])
        params = [list(m.parameters()) for m in models]
        x_all, y_all = cfg.data.x_train, cfg.data.y_train
        start = self.step

        def step(t):
            i = t - start
            idx = self.sampler.next()
            x, y = x_all[idx], y_all[idx]
            per_model = stacked_losses(models, x, y)          # (G, M)
            hook = None if self.lr_factor is None else (
                lambda norm: self._apply_lr_factor(t, x, y, per_model, params, G, M))
            norms[i] = descend(per_model.sum(), groups, t, params=params, n_models=M, clip_norm=cfg.clip_norm,
                               hook=hook, before=cfg.set_beta1, lr_out=lrs[:, i])
            losses[i] = per_model.detach()
            self.step = t + 1

        t0 = time.perf_counter()
        loop(start, until, step, evals=evals - {until}, evaluate=self._record_eval, show_progress=progress,
             num_threads=cfg.num_threads, device=cfg.device)
        self.seconds += time.perf_counter() - t0
        self.step = until
        if until in evals:
            self._record_eval(until)
        h = self._hist
        h["lr"] = np.concatenate([h["lr"], lrs], axis=-1)
        h["loss"] = np.concatenate([h["loss"], losses.permute(1, 2, 0).cpu().numpy()], axis=-1)
        h["grad_norm"] = np.concatenate([h["grad_norm"], norms.permute(1, 2, 0).cpu().numpy()], axis=-1)
        return self.result()

    def _apply_lr_factor(self, t, x, y, per_model, params, G, M):
        out = self.lr_factor(self, t, x, y, per_model.detach().cpu().numpy())
        if out is None:
            return
        f = np.asarray(out, dtype=float)
        if f.shape != (G, M) or not np.all(np.isfinite(f)) or np.any(f < 0):
            raise ValueError(f"lr_factor must return None or a ({G}, {M}) array of finite factors >= 0, "
                             f"got {np.asarray(out).shape if f.shape != (G, M) else 'a negative or non-finite value'}")
        coef = torch.as_tensor(f, dtype=params[0][0].dtype, device=params[0][0].device)
        for g, ps in enumerate(params):
            scale_grads(ps, coef[g])

    def result(self) -> TrainResult:
        """The history so far (all steps since step 0, across checkpoints)."""
        h = self._hist
        order = np.argsort(h["eval_steps"], kind="stable")
        ev = {k: h[k][..., order] for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
        return TrainResult(names=list(self.names), seeds=list(self.cfg.seeds), lr=h["lr"].copy(),
                           loss=h["loss"].copy(), grad_norm=h["grad_norm"].copy(),
                           eval_steps=h["eval_steps"][order].copy(), seconds=self.seconds, **ev)

    # ------------------------------------------------------------------ checkpoints
    def _config_key(self) -> dict:
        """What a checkpoint must share with this trainer: architecture, seeds, batch size,
        dtype, ``clip_norm``, the data (a digest of the split, standardised tensors) and the
        optimizer (its class and hyperparameters, the ``lr`` aside)."""
        c = self.cfg
        if not hasattr(self, "_data_digest"):
            h = hashlib.sha256()
            for k in ("x_train", "y_train", "x_test", "y_test"):
                h.update(np.ascontiguousarray(getattr(c.data, k).detach().cpu().numpy()).tobytes())
            self._data_digest = h.hexdigest()[:16]
        opt = self.optimizers[self.names[0]]
        hyper = {k: (list(v) if isinstance(v, tuple) else v) for k, v in sorted(opt.defaults.items())
                 if k not in ("lr", "initial_lr") and (v is None or isinstance(v, (bool, int, float, str, tuple)))}
        return {"sizes": list(c.sizes), "seeds": list(c.seeds), "activation": c.activation,
                "batch_size": c.batch_size, "dtype": str(c.dtype), "clip_norm": c.clip_norm,
                "data": {"n_train": c.n_train, "n_test": int(c.data.y_test.shape[0]), "digest": self._data_digest},
                "opt": {k: (list(v) if isinstance(v, tuple) else v) for k, v in c.opt_config.items()},
                "optimizer_class": f"{type(opt).__module__}.{type(opt).__qualname__}",
                "optimizer_hyper": hyper}

    def state_dict(self) -> dict:
        """A snapshot (deep copy) of everything needed to resume: models, optimizers,
        schedulers, data order, history.  Training on afterwards does not change it."""
        hist = [{k: torch.as_tensor(np.ascontiguousarray(v[g])) for k, v in self._hist.items() if k != "eval_steps"}
                for g in range(len(self.names))]
        return copy.deepcopy({
            "format": "lrnotes.nets.train.Trainer/1",
            "config": self._config_key(),
            "step": self.step,
            "seconds": self.seconds,
            "names": list(self.names),
            "groups": [{"model": self.models[k].state_dict(), "optimizer": self.optimizers[k].state_dict(),
                        "scheduler": self.schedulers[k].state_dict(), "history": hist[g]}
                       for g, k in enumerate(self.names)],
            "eval_steps": torch.as_tensor(self._hist["eval_steps"]),
            "sampler": self.sampler.state_dict(),
        })

    def load_state_dict(self, state: dict, *, groups: Sequence[int] | None = None) -> "Trainer":
        """Resume from :meth:`state_dict`, possibly with new schedules (a new budget).

        This trainer's configuration (sizes, seeds, batch size, optimizer) must match the
        checkpoint's; its schedules may differ.  Group ``i`` of this trainer continues the
        checkpoint's group ``groups[i]`` (default ``i``; e.g. ``[0, 0, 0]`` branches one
        run into three schedules).  The next update uses *this* trainer's schedule at the
        checkpoint's step, so a new schedule takes effect at once.
        """
        if not isinstance(state, dict) or state.get("format") != "lrnotes.nets.train.Trainer/1":
            raise ValueError("state must come from Trainer.state_dict() (or Trainer.save)")
        mine = self._config_key()
        if state["config"] != mine:
            theirs = state["config"]
            diff = {k: (theirs.get(k), mine.get(k)) for k in sorted(set(theirs) | set(mine))
                    if theirs.get(k) != mine.get(k)}
            raise ValueError(f"the checkpoint's configuration ({', '.join(diff)}) differs from this trainer's: "
                             + "; ".join(f"{k}: checkpoint {a!r}, trainer {b!r}" for k, (a, b) in diff.items()))
        n_ckpt = len(state["groups"])
        groups = list(range(len(self.names))) if groups is None else list(groups)
        if len(groups) != len(self.names) or not all(
                isinstance(g, int) and not isinstance(g, bool) and 0 <= g < n_ckpt for g in groups):
            raise ValueError(f"groups must list, for each of this trainer's {len(self.names)} schedules, "
                             f"a checkpoint group in [0, {n_ckpt}), got {groups}")
        for name, g in zip(self.names, groups):
            src = state["groups"][g]
            self.models[name].load_state_dict(src["model"])
            # a copy each: torch would share the state tensors between groups branched from one
            self.optimizers[name].load_state_dict(copy.deepcopy(src["optimizer"]))
            sched = self.schedulers[name]
            sched.load_state_dict(src["scheduler"])
            lrs = sched.get_lr()                       # this trainer's schedule at the resumed step
            for pg, lr in zip(self.optimizers[name].param_groups, lrs):
                pg["lr"] = lr
            sched._last_lr = list(lrs)
        self.sampler.load_state_dict(state["sampler"])
        self.step = int(state["step"])
        self.seconds = float(state["seconds"])
        self._hist = {k: np.stack([state["groups"][g]["history"][k].numpy() for g in groups])
                      for k in state["groups"][0]["history"]}
        self._hist["eval_steps"] = state["eval_steps"].numpy().astype(int)
        return self

    def save(self, path) -> None:
        """Write :meth:`state_dict` to ``path`` with ``torch.save``, atomically: to a temporary
        file in the same folder, then renamed over ``path``; a failed write leaves the
        previous checkpoint intact."""
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                torch.save(self.state_dict(), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def load(self, path, *, groups: Sequence[int] | None = None) -> "Trainer":
        """Read a checkpoint written by :meth:`save` (``weights_only``) and resume from it.
        A missing, truncated or corrupt file raises ``ValueError`` naming the file."""
        try:
            state = torch.load(path, map_location=self.cfg.device, weights_only=True)
        except FileNotFoundError:
            raise
        except Exception as exc:  # EOFError, RuntimeError (zip), pickle errors, OSError
            raise ValueError(f"checkpoint {os.fspath(path)!r} is truncated or corrupt, not a "
                             f"Trainer.save file ({type(exc).__name__}: {exc})") from exc
        return self.load_state_dict(state, groups=groups)


def train(data, schedules, seeds, steps: int, *, eval_every: int | None = None,
          eval_at: Sequence[int] | None = None, progress: bool | None = None, **kwargs) -> TrainResult:
    """Batched training in one call: ``Trainer(data, schedules, seeds, **kwargs).run(steps, ...)``."""
    return Trainer(data, schedules, seeds, **kwargs).run(steps, eval_every=eval_every, eval_at=eval_at,
                                                         progress=progress)


def train_sequential(data, schedules, seeds, steps: int, *, eval_every: int | None = None,
                     eval_at: Sequence[int] | None = None, progress: bool | None = None,
                     **kwargs) -> TrainResult:
    """The same training as :func:`train`, one ``nn.Sequential`` model after another.

    Each model is :func:`!lrnotes.nets.models.mlp` with its seed, its own optimizer and
    ``S.to_torch`` scheduler, its own data order, and ``torch.nn.utils.clip_grad_norm_``.
    Same arguments and result as :func:`train`; it exists to check the batched loop and
    to measure what batching buys.
    """
    if "lr_factor" in kwargs:
        raise ValueError("lr_factor is for batched training (Trainer, train), not train_sequential")
    cfg = _Config(data, schedules, seeds, **kwargs)
    steps = _int_at_least("steps", steps, 0)
    with _threads(cfg.num_threads, cfg.device):
        return _sequential(cfg, steps, eval_every, eval_at, progress)


def _sequential(cfg, steps, eval_every, eval_at, progress) -> TrainResult:
    evals = sorted(eval_steps(0, steps, eval_every, eval_at))
    G, M, E = len(cfg.schedules), len(cfg.seeds), len(evals)
    lr = np.zeros((G, steps))
    loss, gnorm = np.zeros((G, M, steps)), np.zeros((G, M, steps))
    ev = {k: np.zeros((G, M, E)) for k in ("train_loss", "train_acc", "test_loss", "test_acc")}
    d = cfg.data
    t0 = time.perf_counter()
    jobs = [(g, name, sched, m, seed) for g, (name, sched) in enumerate(cfg.schedules.items())
            for m, seed in enumerate(cfg.seeds)]
    for g, name, sched, m, seed in _progress(jobs, len(jobs), progress, "models"):
        net = mlp(cfg.sizes, seed, activation=cfg.activation, dtype=cfg.dtype, device=cfg.device)
        opt = cfg.optimizer_for(net.parameters(), sched)
        scheduler = S.to_torch(opt, sched, reset_momentum=cfg.reset_momentum)
        sampler = _Sampler([seed], cfg.n_train, cfg.batch_size, cfg.device)
        params = list(net.parameters())
        losses = torch.zeros(steps, dtype=torch.float64)
        norms = torch.zeros(steps, dtype=torch.float64)
        j = 0
        for t in range(steps + 1):
            if j < E and evals[j] == t:
                with torch.no_grad():
                    for split, x, y in (("train", d.x_train, d.y_train), ("test", d.x_test, d.y_test)):
                        out = net(x)
                        ev[f"{split}_loss"][g, m, j] = float(F.cross_entropy(out, y))
                        ev[f"{split}_acc"][g, m, j] = float((out.argmax(-1) == y).double().mean())
                j += 1
            if t == steps:
                break
            idx = sampler.next()[0]
            opt.zero_grad()
            batch_loss = F.cross_entropy(net(d.x_train[idx]), d.y_train[idx])
            batch_loss.backward()
            max_norm = math.inf if cfg.clip_norm is None else cfg.clip_norm
            norms[t] = torch.nn.utils.clip_grad_norm_(params, max_norm)
            cfg.set_beta1(opt, t)
            if m == 0:
                lr[g, t] = opt.param_groups[0]["lr"]
            opt.step()
            scheduler.step()
            losses[t] = batch_loss.detach()
        loss[g, m], gnorm[g, m] = losses.numpy(), norms.numpy()
    return TrainResult(names=list(cfg.schedules), seeds=list(cfg.seeds), lr=lr, loss=loss, grad_norm=gnorm,
                       eval_steps=np.array(evals, dtype=int), seconds=time.perf_counter() - t0, **ev)
