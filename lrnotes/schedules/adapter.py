"""The torch adapter: drive a ``torch.optim`` optimizer with a schedule, through
torch's own ``LRScheduler`` API (``state_dict`` resumes exactly), and reset momentum at
warm restarts.  torch is imported lazily: importing it takes seconds.
"""

from __future__ import annotations

import functools

import numpy as np

from ._checks import _int_at_least, _schedule_arg
from ._core import Schedule


def reset_momentum(optimizer) -> int:
    """Forget the optimizer's first-moment (velocity) state; return how many tensors.

    SGD's ``momentum_buffer`` is removed, so the next step restarts it from the
    fresh gradient (torch's own rule for the first step).  Adam-style ``exp_avg`` is
    zeroed (the second moment and the bias-correction step count are kept).
    """
    n = 0
    for state in optimizer.state.values():
        if state.get("momentum_buffer") is not None:
            state["momentum_buffer"] = None
            n += 1
        if "exp_avg" in state:
            state["exp_avg"].zero_()
            n += 1
    return n


class _ScheduleLRMixin:
    """A ``torch.optim.lr_scheduler.LRScheduler`` driven by an lrnotes schedule.

    Every ``scheduler.step()`` sets each parameter group's ``lr`` to ``schedule(t)``
    (or ``initial_lr * schedule(t)`` with ``relative=True``), ``t`` being the
    scheduler's ``last_epoch``.  ``state_dict``/``load_state_dict`` resume exactly,
    since the LR is a closed-form function of ``t``.  With ``reset_momentum=True``
    the optimizer's momentum is reset at every warm restart of the schedule; the
    steps where that happened are listed in ``momentum_resets``.
    """

    def __init__(self, optimizer, schedule, *, relative=False, reset_momentum=False, last_epoch=-1):
        self.schedule = _schedule_arg("schedule", schedule)
        self.relative = bool(relative)
        self.reset_momentum = bool(reset_momentum)
        self.momentum_resets = []
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        value = float(self.schedule(self.last_epoch))
        return [value * base if self.relative else value for base in self.base_lrs]

    _get_closed_form_lr = get_lr

    def step(self):
        super().step()
        if self.reset_momentum and self.schedule.is_restart(self.last_epoch):
            reset_momentum(self.optimizer)
            self.momentum_resets.append(self.last_epoch)

    def state_dict(self):
        """The scheduler's state, without the optimizer and the schedule (pure code)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "schedule")}


@functools.cache
def _schedule_lr_class():
    from torch.optim.lr_scheduler import LRScheduler  # lazy: importing torch takes seconds

    return type("ScheduleLR", (_ScheduleLRMixin, LRScheduler), {"__module__": "lrnotes.schedules"})


def to_torch(optimizer, schedule: Schedule, *, reset_momentum: bool = False, relative: bool = False):
    """Drive a ``torch.optim`` optimizer with ``schedule``: returns a ``ScheduleLR``.

    ``ScheduleLR`` is a subclass of torch's ``LRScheduler``; see its docstring.  By
    default the schedule gives absolute learning rates (the optimizer's own ``lr`` is
    ignored); ``relative=True`` multiplies each group's initial ``lr`` instead.
    """
    return _schedule_lr_class()(optimizer, schedule, relative=relative, reset_momentum=reset_momentum)


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
