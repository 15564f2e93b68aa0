r"""Closed-form learning-rate schedules, combinators and the torch adapter.

A schedule is a pure function of the step: ``lr = sched(t)`` for an int, a float or a
NumPy array of steps.  It has no hidden state and no recursion, so it resumes exactly,
plots for free and feeds the theory chapters.

Step convention (stated once, used everywhere)
-----------------------------------------------
``t = 0, 1, 2, ...`` counts the updates already made: ``sched(t)`` is the learning rate
of the update that takes :math:`x_t` to :math:`x_{t+1}`.  This is the ``t`` that
``torch.optim.lr_scheduler.LambdaLR`` passes to its lambda.  A budget of ``T`` updates
uses ``t = 0, ..., T-1``; ``sched(T)`` is the value *at the end of the budget*, which is
``0`` (or the floor) for every schedule that decays to the end.

The theory chapters, like the papers and the sources, number the updates
``k = 1, ..., T``.  They are the same updates: :math:`\eta_k = \text{sched}(k-1)`, so
``sched(np.arange(T))`` is :math:`(\eta_1, \dots, \eta_T)`.

In that numbering, :func:`linear` with ``end=0`` is
:math:`\eta_k = \eta_{\max}\,(T+1-k)/T`, which is the sources'
:math:`\alpha\,(1 - k/(T+1))` with :math:`\alpha = \eta_{\max}(T+1)/T`: the same straight
line, reaching zero one step after the last update, so that :math:`\eta_T > 0`.

All schedules return *absolute* learning rates; with ``peak=1`` they are multipliers.
End values (``end``) are absolute learning rates too; keras's ``alpha``, optax's
``alpha`` and HF's ``min_lr_ratio`` are relative: multiply them by the peak.

Warmup: before, or multiplied in
--------------------------------
``cosine(T, p, warmup=W)`` (and the ``warmup=`` of ``linear``, ``polynomial``,
``inverse_sqrt``, ``sgdr``, ``wsd``, ``constant``) runs the warmup *first* and the decay
over the remaining ``T - W`` steps: HF transformers' and optax's convention.
``warmup(inner, W)`` instead *multiplies* a ramp into ``inner`` (torch's ``LinearLR``
chained with it), and ``warmup_then(inner, W)`` puts a ramp in front of any schedule.

Contents
--------
schedules    constant, step_decay, inverse_sqrt, linear, polynomial, cosine, wsd
             (module ``closed``); sgdr, triangular (module ``cycles``, exact restarts)
combinators  warmup, warmup_then, cooldown, shift, floor, inv_t, envelope, sequence,
             retarget; noisy (timm's LR noise, module ``noise``)
torch        to_torch, ScheduleLR, reset_momentum, trace_torch (module ``adapter``)
constants    COOLDOWNS, WARMUPS (shape names), DECAY_MODES, CLOCKS, NOISE_KINDS, NOISE_RNGS

Example
-------
>>> import numpy as np
>>> from lrnotes import schedules as S
>>> sched = S.cosine(total=1000, peak=3e-4, end=3e-5, warmup=50)  # HF's cosine with warmup
>>> lrs = sched(np.arange(1000))
>>> sched = S.retarget(sched, at=600, total=800)   # continuous at step 600
"""

from __future__ import annotations

from ._checks import (  # noqa: F401  (the checks are shared with the theory modules)
    COOLDOWNS,
    WARMUPS,
    _as_steps,
    _exact,
    _int_at_least,
    _lr,
    _positive_real,
    _real,
    _schedule_arg,
)
from . import checks  # noqa: F401  (public argument checks)
from ._core import Schedule, _ipow  # noqa: F401
from .adapter import _schedule_lr_class, reset_momentum, to_torch, trace_torch
from .closed import constant, cosine, inverse_sqrt, linear, polynomial, step_decay, wsd
from .combinators import CLOCKS, cooldown, envelope, floor, inv_t, retarget, sequence, shift, warmup, warmup_then
from .cycles import DECAY_MODES, sgdr, triangular
from .config import SCHEDULES, from_config
from .noise import NOISE_KINDS, NOISE_RNGS, noisy

__all__ = [
    "Schedule",
    "constant",
    "step_decay",
    "inverse_sqrt",
    "linear",
    "polynomial",
    "cosine",
    "sgdr",
    "triangular",
    "wsd",
    "warmup",
    "warmup_then",
    "cooldown",
    "floor",
    "inv_t",
    "envelope",
    "sequence",
    "shift",
    "retarget",
    "noisy",
    "from_config",
    "SCHEDULES",
    "ScheduleLR",
    "to_torch",
    "reset_momentum",
    "trace_torch",
    "COOLDOWNS",
    "WARMUPS",
    "DECAY_MODES",
    "CLOCKS",
    "NOISE_KINDS",
    "NOISE_RNGS",
]


def __getattr__(name):  # module attribute ``ScheduleLR``, built on first use (torch is slow to import)
    if name == "ScheduleLR":
        return _schedule_lr_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
