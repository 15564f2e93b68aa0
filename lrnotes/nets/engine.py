r"""The one training engine of :mod:`lrnotes.nets`: the loop, the gradient step, per-model clipping, results.

Every trainer here stacks its models along a leading *model axis* (seeds, or seeds x
clients) and drives them with real ``torch.optim`` optimizers: :mod:`lrnotes.nets.train`
(MLPs), :mod:`lrnotes.nets.lm` (transformers), :mod:`lrnotes.nets.games` (a GAN) and
:mod:`lrnotes.nets.federated` (FedAvg).  Each supplies its models, its data and its loss;
this module supplies the rest:

* :func:`loop` — update ``t = start .. until - 1``, evaluating first whenever ``t`` is an
  evaluation step ("evaluation at step ``t``" is after ``t`` updates, as in
  :mod:`lrnotes.schedules`), and once more at ``until`` if it is one;
* :func:`descend` — one gradient step: zero the gradients, ``loss.backward()``, the per-model gradient norms
  :math:`\|g_m\|`, optional clipping
  :math:`g_m \leftarrow g_m \min\!\big(1, c / (\|g_m\| + 10^{-6})\big)` (torch's
  ``clip_grad_norm_`` formula, per model, so that the models stay independent), a hook,
  then every optimizer's step and its scheduler's step (:class:`Groups`);
* :class:`Groups` — optimizers, each with the ``torch`` scheduler that sets its learning
  rate for the step (``S.to_torch``), or none when the caller sets it;
* the results :class:`Run` and :class:`StepRun`, and the shared argument checks
  (``ValueError`` naming the argument and its range).

Contents
--------
default_device   "cuda" in full mode when available, else "cpu"
threads          run with n torch CPU threads (default 1: fastest for tiny models)
progress         an optional tqdm bar
check_seeds      non-empty list of ints >= 0, distinct by default
schedule_dict    Schedule, dict or list -> dict name -> Schedule
check_betas      Adam's (beta1, beta2), each in [0, 1)
check_clip_norm  None or a float > 0
eval_steps       the evaluation steps in [start, until]
Groups           optimizers and their schedulers: zero_grad, step
grad_norms       per-model gradient norms, (len(params), n_models)
scale_grads      multiply model m's gradient by coef[m]
clip             per-model clipping
descend          backward, norms, clipping, hook, optimizer and scheduler steps
loop             the per-step loop with evaluations
Run              names, seeds, lr, eval_steps; mean_std, loss_at (a loss at an evaluation)
StepRun          Run plus per-step loss and gradient norm; steps_to
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
import torch

from lrnotes import config
from lrnotes import schedules as S
from lrnotes.schedules import _int_at_least, _real

__all__ = ["default_device", "threads", "progress", "check_seeds", "schedule_dict", "check_betas",
           "check_clip_norm", "eval_steps", "Groups", "grad_norms", "scale_grads", "clip", "descend", "loop",
           "Run", "StepRun"]


# --------------------------------------------------------------------------- environment
def default_device() -> str:
    """``"cuda"`` when ``lrnotes.scale() == "full"`` and a GPU is present, else ``"cpu"``."""
    return "cuda" if config.scale() == "full" and torch.cuda.is_available() else "cpu"


@contextlib.contextmanager
def threads(n: int | None, device):
    """Run with ``n`` torch CPU threads (restored after); no-op for ``None`` or a GPU.

    The book's networks are tiny: their matrix products gain nothing from intra-op
    threads, and on a shared two-core machine the threads' spin-waiting makes them 10-30x
    slower.  So training uses one thread by default.
    """
    if n is None or torch.device(device).type != "cpu":
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def progress(iterable, total, show, desc):
    """``iterable`` itself, or a ``tqdm.auto`` bar when ``show`` (default ``None``: in full mode only)."""
    if show is None:
        show = config.scale() == "full"
    if not show:
        return iterable
    from tqdm.auto import tqdm

    return tqdm(iterable, total=total, desc=desc, leave=False)


# --------------------------------------------------------------------------- argument checks
def check_seeds(seeds, *, distinct: bool = True) -> list:
    """``seeds`` as a list of ``int >= 0``, at least one, and no two equal when ``distinct``."""
    out = [_int_at_least(f"seeds[{i}]", s, 0) for i, s in enumerate(seeds)]
    if not out:
        raise ValueError("seeds must hold at least one seed (a non-empty list of integers >= 0)")
    if distinct and len(set(out)) != len(out):
        raise ValueError(f"seeds must be a non-empty list of distinct integers >= 0, got {list(seeds)}")
    return out


def schedule_dict(schedules) -> dict:
    """A Schedule, a dict name -> Schedule, or a list of Schedules, as a non-empty dict name -> Schedule
    (a list's names are ``"i:name"``; one Schedule's, its ``name``)."""
    if isinstance(schedules, S.Schedule):
        return {schedules.name: schedules}
    if isinstance(schedules, Mapping):
        out = {str(k): v for k, v in schedules.items()}
    else:
        items = list(schedules) if isinstance(schedules, (list, tuple)) else None
        if items is None:
            raise ValueError("schedules must be a Schedule, a dict name -> Schedule, or a list of Schedules")
        out = {f"{i}:{s.name}" if isinstance(s, S.Schedule) else str(i): s for i, s in enumerate(items)}
    if not out:
        raise ValueError("schedules must hold at least one schedule (a non-empty dict name -> Schedule)")
    for k, v in out.items():
        S._schedule_arg(f"schedules[{k!r}]", v)
    return out


def check_betas(betas) -> tuple:
    """Adam's ``(beta1, beta2)``, each in ``[0, 1)``."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), each in [0, 1), got {betas!r}")
    return (_real("betas[0]", betas[0], low=0.0, high=1.0, high_open=True),
            _real("betas[1]", betas[1], low=0.0, high=1.0, high_open=True))


def check_clip_norm(clip_norm):
    """``None`` (no clipping) or a float in ``(0, inf)``."""
    return None if clip_norm is None else _real("clip_norm", clip_norm, low=0.0, low_open=True)


def eval_steps(start: int, until: int, eval_every=None, eval_at=None, *, first: bool = False) -> set:
    """The evaluation steps: ``until``, the multiples of ``eval_every`` and the steps of
    ``eval_at`` in ``[start, until]``, and ``start`` itself when ``first``."""
    steps = {until} | ({start} if first else set())
    if eval_every is not None:
        k = _int_at_least("eval_every", eval_every, 1)
        steps |= {t for t in range(start, until + 1) if t % k == 0}
    if eval_at is not None:
        for i, t in enumerate(eval_at):
            t = _int_at_least(f"eval_at[{i}]", t, 0)
            if start <= t <= until:
                steps.add(t)
    return steps


# --------------------------------------------------------------------------- the gradient step
class Groups:
    """Optimizers, each with the ``torch`` scheduler (``S.to_torch``) that sets its learning
    rate per step, or ``None`` where the caller sets the rate itself."""

    def __init__(self, optimizers: Sequence, schedulers: Sequence | None = None):
        self.optimizers = list(optimizers)
        self.schedulers = [None] * len(self.optimizers) if schedulers is None else list(schedulers)
        if len(self.schedulers) != len(self.optimizers):
            raise ValueError(f"schedulers must be one per optimizer ({len(self.optimizers)}), "
                             f"got {len(self.schedulers)}")

    def zero_grad(self) -> None:
        for o in self.optimizers:
            o.zero_grad()

    def step(self, t: int | None = None, *, before: Callable | None = None, lr_out=None) -> None:
        """Per optimizer ``g``: ``before(opt, t)`` (e.g. set Adam's β1), ``lr_out[g] = `` its
        learning rate, ``opt.step()``, then its scheduler's ``step()``."""
        for g, (opt, sched) in enumerate(zip(self.optimizers, self.schedulers)):
            if before is not None:
                before(opt, t)
            if lr_out is not None:
                lr_out[g] = opt.param_groups[0]["lr"]
            opt.step()
            if sched is not None:
                sched.step()


def grad_norms(params: Sequence[Sequence[torch.Tensor]], n_models: int) -> torch.Tensor:
    r"""Per-model gradient norms :math:`\|g_{g,m}\|_2` of every group ``g`` at once.

    ``params[g]`` are group ``g``'s parameters, each with a leading axis of ``n_models``
    models; the result has shape ``(len(params), n_models)``.
    """
    flat = torch.cat([torch.cat([p.grad.reshape(n_models, -1) for p in ps], dim=1) for ps in params])
    return torch.linalg.vector_norm(flat, dim=1).reshape(len(params), n_models)


def scale_grads(params: Iterable[torch.Tensor], coef: torch.Tensor) -> None:
    """Multiply model ``m``'s gradient by ``coef[m]`` in place (``params`` share the model axis)."""
    with torch.no_grad():
        for p in params:
            p.grad.mul_(coef.reshape((-1,) + (1,) * (p.dim() - 1)))


def clip(params: Sequence[Sequence[torch.Tensor]], norm: torch.Tensor, clip_norm: float) -> None:
    r"""Per-model clipping, :math:`g_m \leftarrow g_m \min(1, c / (\|g_m\| + 10^{-6}))`, given the norms."""
    coef = torch.clamp(clip_norm / (norm + 1e-6), max=1.0)
    for g, ps in enumerate(params):
        scale_grads(ps, coef[g])


def descend(loss: torch.Tensor, groups: Groups, t: int | None = None, *, params=None, n_models: int | None = None,
            clip_norm: float | None = None, hook: Callable | None = None, before: Callable | None = None,
            lr_out=None):
    """One gradient step of every optimizer in ``groups`` on the scalar ``loss``.

    Zero the gradients, ``loss.backward()``; with ``params`` (one list per optimizer, model
    axis ``n_models``) measure the per-model gradient norms and clip them to ``clip_norm``;
    call ``hook(norms)`` (it may rescale the gradients); then :meth:`Groups.step`.
    Returns the norms before clipping, ``(len(params), n_models)``, or ``None``.
    """
    groups.zero_grad()
    loss.backward()
    norm = None
    if params is not None:
        norm = grad_norms(params, n_models)
        if clip_norm is not None:
            clip(params, norm, clip_norm)
    if hook is not None:
        hook(norm)
    groups.step(t, before=before, lr_out=lr_out)
    return norm


def loop(start: int, until: int, step: Callable[[int], None], *, evals=(), evaluate: Callable | None = None,
         show_progress: bool | None = None, desc: str = "training", num_threads: int | None = None,
         device="cpu") -> None:
    """For ``t = start .. until``: ``evaluate(t)`` if ``t`` is in ``evals``, then, below
    ``until``, ``step(t)`` (update ``t``), with ``num_threads`` torch threads."""
    with threads(num_threads, device):
        for t in progress(range(start, until + 1), until + 1 - start, show_progress, desc):
            if evaluate is not None and t in evals:
                evaluate(t)
            if t == until:
                break
            step(t)


# --------------------------------------------------------------------------- results
@dataclass(kw_only=True)
class Run:
    r"""What a run of ``G`` schedules (or configurations) x ``M`` seeds recorded, as NumPy arrays.

    Fields ``(G, M, ...)`` hold one value per schedule and seed; a field ``<split>_loss`` of
    shape ``(G, M, E)`` is a loss at the evaluations, read with :meth:`loss_at`.

    Attributes
    ----------
    names : list of G str
        The schedules' (or configurations') names.
    seeds : list of M int
        The models' seeds.
    lr : array (G, n)
        Learning rate of update (or round) ``t``.
    eval_steps : array (E,)
        Steps ``t`` (updates or rounds done) of the evaluations.
    """

    names: list
    seeds: list
    lr: np.ndarray
    eval_steps: np.ndarray

    _example = "'loss' or 'test_acc'"   # fields named in mean_std's error

    @property
    def steps(self) -> int:
        """Number of updates recorded."""
        return int(self.lr.shape[-1])

    def mean_std(self, name: str):
        """Mean and standard deviation over seeds (``ddof=1``; zeros for one seed) of a ``(G, M, ...)`` field."""
        a = getattr(self, name, None) if isinstance(name, str) else None
        if not isinstance(a, np.ndarray) or a.ndim < 2 or a.shape[:2] != (len(self.names), len(self.seeds)):
            raise ValueError(f"name must be a (schedules, seeds, ...) field such as {self._example}, "
                             f"got {name!r}")
        return a.mean(axis=1), (a.std(axis=1, ddof=1) if a.shape[1] > 1 else np.zeros_like(a[:, 0]))

    def splits(self) -> list:
        """The ``split`` values :meth:`loss_at` takes: ``s`` for each ``(G, M, E)`` field ``s_loss``."""
        shape = (len(self.names), len(self.seeds), len(self.eval_steps))
        return [k[:-5] for k, v in vars(self).items()
                if k.endswith("_loss") and isinstance(v, np.ndarray) and v.shape == shape]

    def loss_at(self, name=None, t: int = -1, split: str = "train") -> np.ndarray:
        r"""The per-seed ``split`` loss after ``t`` updates: ``<split>_loss[g, :, j]`` with
        ``names[g] == name`` and ``eval_steps[j] == t``.  ``res.loss_at(name)`` is
        ``res.train_loss[res.names.index(name), :, -1]``.

        Parameters
        ----------
        name : str or None
            One of ``names``, or None for every schedule.
        t : int
            An evaluation step (one of ``eval_steps``), or -1 for the last evaluation.
        split : str
            One of :meth:`splits`, e.g. ``"train"`` or ``"test"``.

        Returns
        -------
        array
            A copy, of shape ``(M,)`` for one name and ``(G, M)`` for None.
        """
        splits = self.splits()
        if split not in splits:
            raise ValueError(f"split must be one of {splits}, got {split!r}")
        steps = [int(s) for s in self.eval_steps]
        if isinstance(t, (bool, np.bool_)) or not isinstance(t, (int, np.integer)) or \
                (t != -1 and t not in steps) or not steps:
            raise ValueError(f"t must be -1 (the last evaluation) or an evaluation step, one of {steps}, "
                             f"got {t!r}")
        j = -1 if t == -1 else steps.index(int(t))
        a = getattr(self, f"{split}_loss")[:, :, j]
        if name is None:
            return a.copy()
        if name not in self.names:
            raise ValueError(f"name must be None or one of {self.names}, got {name!r}")
        return a[self.names.index(name)].copy()


@dataclass(kw_only=True)
class StepRun(Run):
    r"""A :class:`Run` that records every update's minibatch loss and gradient norm.

    Attributes
    ----------
    loss : array (G, M, n)
        Minibatch training loss at update ``t`` (before it).
    grad_norm : array (G, M, n)
        Per-model gradient norm at update ``t``, before clipping.
    """

    loss: np.ndarray
    grad_norm: np.ndarray

    def steps_to(self, target: float, *, window: int = 20) -> np.ndarray:
        r"""Per model, the first update ``t`` at which the mean minibatch loss over updates
        ``t - window + 1 .. t`` is :math:`\le` ``target``; ``-1`` if never.  Shape ``(G, M)``."""
        target = _real("target", target)
        window = _int_at_least("window", window, 1)
        n = self.loss.shape[-1]
        if n < window:
            return np.full(self.loss.shape[:2], -1)
        c = np.cumsum(np.concatenate([np.zeros(self.loss.shape[:2] + (1,)), self.loss], axis=-1), axis=-1)
        avg = (c[..., window:] - c[..., :-window]) / window   # avg[..., j] covers updates j .. j+window-1
        hit = avg <= target
        first = np.argmax(hit, axis=-1) + window - 1
        return np.where(hit.any(axis=-1), first, -1)
