"""The torch adapter: drive a ``torch.optim`` optimizer with a schedule, through
torch's own ``LRScheduler`` API (``state_dict`` resumes exactly), and reset momentum at
warm restarts.  torch is imported lazily: importing it takes seconds.
"""

from __future__ import annotations

import functools

import numpy as np

from ._checks import _int_at_least, _schedule_arg


def reset_momentum(optimizer) -> int:
    """Reset the optimizer's per-parameter state to that of a fresh start; return how
    many state entries (buffers, step counts) were dropped.

    Every parameter's entry of ``optimizer.state`` is emptied, so the next step treats
    it as a first step (torch's own rule): SGD's momentum buffer restarts from the fresh
    gradient; Adam/AdamW restart ``exp_avg``, ``exp_avg_sq`` *and* the step count, so the
    bias correction ``1 - beta**t`` starts again at ``t = 1`` and the first update after
    a reset has the size of a first update (zeroing ``exp_avg`` alone with the step count
    kept makes it ``1 - beta1`` times too small, 10x for ``beta1 = 0.9``).  Works for
    every ``torch.optim`` optimizer, whatever its state holds (``None`` buffers too).
    """
    n = 0
    for param in list(optimizer.state):
        state = optimizer.state[param]
        n += len(state)
        state.clear()
    return n


class _ScheduleLRMixin:
    """A ``torch.optim.lr_scheduler.LRScheduler`` driven by lrnotes schedules.

    Every ``scheduler.step()`` sets parameter group ``i``'s ``lr`` to ``s_i(u)``, or with
    ``relative=True`` to ``initial_lr_i * s_i(u)``, where ``s_i`` is group ``i``'s schedule
    (one schedule for all, or a list with one per group) and ``u`` the scheduler's
    ``last_epoch`` divided by ``updates_per_epoch`` (1 by default: ``u`` counts updates;
    otherwise ``u`` is the fractional epoch).  ``state_dict``/``load_state_dict`` resume
    exactly, since the LR is a closed-form function of ``u``; the flags given to the
    constructor (``relative``, ``reset_momentum``, ``updates_per_epoch``) win over a
    checkpoint's, as the schedule does.  With ``reset_momentum=True`` the optimizer's state
    is reset (:func:`reset_momentum`) at every update ``t`` where a schedule restarts
    (``is_restart``); those ``t`` are listed in ``momentum_resets``.

    A ``torch.optim.lr_scheduler.ReduceLROnPlateau`` on the same optimizer composes: its
    cuts are kept as a per-group factor (``plateau_factors``: the product of the ratios
    of a group's ``lr`` found at a step to the ``lr`` this scheduler set at the step
    before, whenever it is lower), which multiplies the schedule from then on and is part
    of ``state_dict``.  Right after ``load_state_dict`` no cut is read (the optimizer's
    ``lr`` may come from a checkpoint); the next steps read them again.
    """

    _FLAGS = ("relative", "reset_momentum", "updates_per_epoch")

    def __init__(self, optimizer, schedule, *, relative=False, reset_momentum=False,
                 updates_per_epoch=1, last_epoch=-1):
        n = len(optimizer.param_groups)
        if isinstance(schedule, (list, tuple)):
            if len(schedule) != n:
                raise ValueError(f"schedule: a list needs one schedule per parameter group ({n}), "
                                 f"got {len(schedule)}")
            self.schedules = [_schedule_arg(f"schedule[{i}]", s) for i, s in enumerate(schedule)]
        else:
            self.schedules = [_schedule_arg("schedule", schedule)] * n
        self.schedule = self.schedules[0]
        self.relative = bool(relative)
        if not self.relative and not isinstance(schedule, (list, tuple)) and n > 1:
            lrs = {float(g.get("initial_lr", g["lr"])) for g in optimizer.param_groups}
            if len(lrs) > 1:
                raise ValueError(
                    f"schedule: the optimizer's {n} parameter groups have different learning rates "
                    f"{sorted(lrs)}; one absolute schedule would run them all at the same rate. Pass "
                    "relative=True (scale each group's lr by the schedule) or a list of schedules, one "
                    "per group")
        self.reset_momentum = bool(reset_momentum)
        if isinstance(updates_per_epoch, bool) or not isinstance(updates_per_epoch, (int, float)) \
                or not np.isfinite(updates_per_epoch) or updates_per_epoch <= 0:
            raise ValueError(f"updates_per_epoch must be a positive number, got {updates_per_epoch!r}")
        self.updates_per_epoch = updates_per_epoch
        self.momentum_resets = []
        self.plateau_factors = [1.0] * n
        super().__init__(optimizer, last_epoch)

    def _u(self, t):
        return t / self.updates_per_epoch if self.updates_per_epoch != 1 else t

    def _raw_lr(self, t):
        return [float(s(self._u(t))) * (base if self.relative else 1.0)
                for s, base in zip(self.schedules, self.base_lrs)]

    def get_lr(self):
        return [f * lr for f, lr in zip(self.plateau_factors, self._raw_lr(self.last_epoch))]

    _get_closed_form_lr = get_lr

    def step(self):
        last = getattr(self, "_lr_set", None)
        if last is not None:  # a ReduceLROnPlateau (or anything) cut the lr since our last step
            for i, (g, mine) in enumerate(zip(self.optimizer.param_groups, last)):
                if mine > 0 and g["lr"] < mine * (1 - 1e-12):
                    self.plateau_factors[i] *= g["lr"] / mine
        super().step()
        self._lr_set = [g["lr"] for g in self.optimizer.param_groups]
        t = self.last_epoch
        if self.reset_momentum and t > 0 and any(
                self._restart_at(s, t) for s in self.schedules):
            reset_momentum(self.optimizer)
            self.momentum_resets.append(t)

    def _restart_at(self, s, t):
        if self.updates_per_epoch == 1:
            return s.is_restart(t)
        # a restart at (fractional) epoch r happens at the first update t with t/upe >= r
        return any(s.is_restart(u) for u in _ints_in(self._u(t - 1), self._u(t)))

    def state_dict(self):
        """The scheduler's state, without the optimizer and the schedules (pure code);
        lists are copies."""
        skip = ("optimizer", "schedule", "schedules", "_lr_set")
        return {k: (list(v) if isinstance(v, list) else v) for k, v in self.__dict__.items() if k not in skip}

    def load_state_dict(self, state_dict):
        """Resume from :meth:`state_dict`; this scheduler's schedules and constructor flags
        (``relative``, ``reset_momentum``, ``updates_per_epoch``) are kept."""
        flags = {k: getattr(self, k) for k in self._FLAGS}
        state = {k: (list(v) if isinstance(v, list) else v) for k, v in state_dict.items()}
        if self.updates_per_epoch != state.get("updates_per_epoch", 1):
            raise ValueError(f"updates_per_epoch: the checkpoint counts {state.get('updates_per_epoch', 1)} "
                             f"updates per epoch, this scheduler {self.updates_per_epoch}")
        state.pop("_lr_set", None)
        super().load_state_dict(state)
        self.__dict__.update(flags)
        self._lr_set = None   # the optimizer's lr may come from elsewhere: no cut is read before the next step
        if len(getattr(self, "plateau_factors", [])) != len(self.optimizer.param_groups):
            self.plateau_factors = [1.0] * len(self.optimizer.param_groups)


def _ints_in(a, b):
    """The integers ``k`` with ``a < k <= b`` (the epochs that start within one update)."""
    return range(int(np.floor(a)) + 1, int(np.floor(b)) + 1)


@functools.cache
def _schedule_lr_class():
    try:
        from torch.optim.lr_scheduler import LRScheduler  # lazy: importing torch takes seconds
    except ImportError as exc:
        raise ImportError("lrnotes.schedules.to_torch needs PyTorch, which lrnotes does not install: "
                          "pip install torch (or pip install 'lrnotes[notebooks]')") from exc

    return type("ScheduleLR", (_ScheduleLRMixin, LRScheduler), {"__module__": "lrnotes.schedules"})


def to_torch(optimizer, schedule, *, reset_momentum: bool = False, relative: bool = False,
             updates_per_epoch=1):
    """Drive a ``torch.optim`` optimizer with ``schedule``: returns a ``ScheduleLR``.

    ``ScheduleLR`` is a subclass of torch's ``LRScheduler``; see its docstring.  By
    default the schedule gives absolute learning rates (the optimizer's own ``lr`` is
    ignored); ``relative=True`` multiplies each group's initial ``lr`` instead.  With
    parameter groups at different learning rates, pass ``relative=True`` or a list of
    schedules, one per group (a single absolute schedule is refused: it would flatten
    them).  ``updates_per_epoch=n`` evaluates the schedule at the fractional epoch
    ``t / n`` of update ``t`` (for schedules written in epochs, stepped every update).
    Raises ``ImportError`` with an install hint if torch is missing.
    """
    return _schedule_lr_class()(optimizer, schedule, relative=relative, reset_momentum=reset_momentum,
                                updates_per_epoch=updates_per_epoch)


def trace_torch(make_scheduler, steps: int, lr: float = 1.0, momentum: float = 0.9) -> np.ndarray:
    """The learning rates a torch scheduler gives updates ``t = 0, ..., steps-1``.

    ``make_scheduler(optimizer)`` builds the scheduler on a one-parameter SGD
    optimizer (initial ``lr``); the optimizer and scheduler are stepped as in training.
    Used to compare our closed forms with torch's own schedulers.
    """
    import torch

    steps = _int_at_least("steps", steps, 1)
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=lr, momentum=momentum)
    sched = make_scheduler(opt)
    out = np.empty(steps)
    for t in range(steps):
        out[t] = opt.param_groups[0]["lr"]
        param.grad = torch.ones(1)
        opt.step()
        sched.step()
    return out
