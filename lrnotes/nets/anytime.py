r"""Training without knowing the budget T: a loss-triggered decay, schedule-free SGD, and
warmup–stable–decay cooldowns branched from one constant run.

- :class:`LossTrigger` is the rule proposed in the identity notes (source §8.1): with the
  "remaining potential" :math:`P_t = (\hat L_t - L^*)/(\hat L_1 - L^*)` of a smoothed loss
  :math:`\hat L`, the learning rate is :math:`\eta_t = \alpha\min(1, P_t/\epsilon)`.  It
  needs :math:`L^*`, which training does not know.  :func:`run_trigger` runs it on a toy
  landscape, many seeds at once (the rule is feedback, so it cannot be a precomputed
  array for :func:`lrnotes.sim.sgd.simulate`); on a network it is a
  ``Trainer(lr_factor=trigger.hook)``.
- :func:`schedule_free_sgd` builds the reference implementation of schedule-free SGD
  (Defazio et al. 2024, the ``schedulefree`` package) for :class:`lrnotes.nets.train.Trainer`,
  and :func:`evaluate_at_average` evaluates its models at the averaged point :math:`x_t`,
  where schedule-free SGD is meant to be evaluated.
- :func:`cooldown_branches` trains one constant-learning-rate run and, at
  :math:`(1 - f)\,T_k` for each stopping time :math:`T_k`, branches a WSD cooldown of
  :math:`f\,T_k` steps from its checkpoint (``Trainer.state_dict`` /
  ``load_state_dict(groups=...)``).

Contents
--------
LossTrigger          the notes' P_t rule for a batch of runs (EMA-smoothed loss, guessed L*)
TriggerRun           result of run_trigger
run_trigger          the rule on a toy landscape with gradient noise and a noisy observed loss
schedule_free_sgd    an optimizer factory for Trainer: schedulefree.SGDScheduleFree in train mode
evaluate_at_average  Trainer.evaluate() with every schedule-free optimizer switched to eval mode
Branches             result of cooldown_branches
cooldown_branches    a constant run and WSD cooldowns branched from it at several budgets
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lrnotes.schedules import _int_at_least, _positive_real, _real

__all__ = ["LossTrigger", "TriggerRun", "run_trigger", "schedule_free_sgd", "evaluate_at_average",
           "Branches", "cooldown_branches"]


class LossTrigger:
    r"""The rule of the identity notes, source §8.1: decay once the smoothed loss nears :math:`L^*`.

    For each run, with observed losses :math:`\ell_0, \ell_1, \dots`,

    .. math::
        \hat L_0 = \ell_0, \quad \hat L_t = \beta\hat L_{t-1} + (1-\beta)\,\ell_t, \qquad
        P_t = \frac{\hat L_t - L^*}{\hat L_0 - L^*}, \qquad
        \frac{\eta_t}{\alpha} = \min\Big(1, \max\big(0, \tfrac{P_t}{\epsilon}\big)\Big).

    (The notes write :math:`\alpha\min(1, P_t/\epsilon)`; when the guessed :math:`L^*` is
    too high, :math:`P_t < 0` and that formula would turn the step into gradient
    *ascent*, so the factor is clipped at 0: training stops instead.)

    Parameters
    ----------
    eps : float in (0, 1]      :math:`\epsilon_{\text{tol}}` (the notes suggest 0.01)
    lstar : float              the guessed minimum loss :math:`L^*`
    smooth : float in [0, 1)   :math:`\beta`; 0 uses the raw loss

    Attributes
    ----------
    factors : list of arrays — :math:`\eta_t/\alpha` at every call, in order
    """

    def __init__(self, eps: float = 0.01, lstar: float = 0.0, smooth: float = 0.9):
        self.eps = _real("eps", eps, low=0.0, high=1.0, low_open=True)
        self.lstar = _real("lstar", lstar)
        self.smooth = _real("smooth", smooth, low=0.0, high=1.0, high_open=True)
        self.ema = None
        self.start = None
        self.factors = []

    def factor(self, losses) -> np.ndarray:
        r"""Feed the current losses (any array shape, one per run); return :math:`\eta_t/\alpha`."""
        loss = np.asarray(losses, dtype=float)
        if not np.all(np.isfinite(loss)):
            raise ValueError("losses must be finite (a diverged run?)")
        if self.ema is None:
            self.ema = loss.copy()
            self.start = loss.copy()
            if np.any(self.start <= self.lstar):
                raise ValueError(f"the first loss must be above the guessed L* = {self.lstar}")
        else:
            self.ema = self.smooth * self.ema + (1.0 - self.smooth) * loss
        p = (self.ema - self.lstar) / (self.start - self.lstar)
        f = np.clip(p / self.eps, 0.0, 1.0)
        self.factors.append(f)
        return f

    def hook(self, trainer, t, x, y, losses) -> np.ndarray:
        """For ``Trainer(lr_factor=trigger.hook)``: the factor of each model from its own loss."""
        return self.factor(losses)


@dataclass
class TriggerRun:
    """Result of :func:`run_trigger` (arrays over seeds ``N`` and steps)."""

    lr: np.ndarray        #: (N, T) learning rate of update t
    gap: np.ndarray       #: (N, T + 1) f(x_t) - f_* at every iterate
    triggered: np.ndarray  #: (N,) first step with factor < 1, or -1 if never


def run_trigger(problem, alpha: float, trigger: LossTrigger, steps: int, x0, n_seeds: int,
                rng: np.random.Generator, *, sigma: float = 0.0, floor: float = 0.0,
                loss_noise: float = 0.0) -> TriggerRun:
    r"""SGD driven by a :class:`LossTrigger`, on a landscape, ``n_seeds`` runs at once.

    At each step the run observes the loss :math:`\ell_t = f(x_t) - f_* + L^*_{\text{true}}
    + \tau\xi_t` (``floor`` is the true minimum :math:`L^*_{\text{true}}` of the observed
    loss, ``loss_noise`` :math:`\tau` its minibatch noise), the trigger sets
    :math:`\eta_t = \alpha\cdot\text{factor}`, and SGD steps with the gradient plus
    :math:`\mathcal N(0, \sigma^2 I)` noise.

    Parameters
    ----------
    problem : a :mod:`lrnotes.sim.landscapes` landscape
    alpha : float > 0;  trigger : LossTrigger (fresh: it keeps state)
    steps : int >= 1;  x0 : array (dim,);  n_seeds : int >= 1;  rng : numpy Generator
    sigma, floor, loss_noise : float >= 0
    """
    alpha = _positive_real("alpha", alpha)
    steps = _int_at_least("steps", steps, 1)
    n_seeds = _int_at_least("n_seeds", n_seeds, 1)
    sigma = _real("sigma", sigma, low=0.0)
    floor = _real("floor", floor, low=0.0)
    loss_noise = _real("loss_noise", loss_noise, low=0.0)
    if not isinstance(trigger, LossTrigger) or trigger.ema is not None:
        raise ValueError("trigger must be a fresh LossTrigger (it keeps the smoothed loss)")
    x = np.broadcast_to(np.asarray(x0, dtype=float), (n_seeds, problem.dim)).copy()
    lr = np.empty((n_seeds, steps))
    gap = np.empty((n_seeds, steps + 1))
    for t in range(steps):
        gap[:, t] = problem.gap(x)
        observed = gap[:, t] + floor + loss_noise * rng.standard_normal(n_seeds)
        lr[:, t] = alpha * trigger.factor(observed)
        g = problem.grad(x) + sigma * rng.standard_normal(x.shape)
        x -= lr[:, t, None] * g
    gap[:, steps] = problem.gap(x)
    below = lr < alpha
    triggered = np.where(below.any(axis=1), np.argmax(below, axis=1), -1)
    return TriggerRun(lr=lr, gap=gap, triggered=triggered)


def schedule_free_sgd(momentum: float = 0.9, warmup_steps: int = 0):
    r"""An optimizer factory for :class:`lrnotes.nets.train.Trainer`: schedule-free SGD.

    Returns ``factory(params)`` building ``schedulefree.SGDScheduleFree(params, lr=1,
    momentum=momentum, warmup_steps=warmup_steps)`` already in train mode; the Trainer's
    (constant) schedule sets its ``lr``.  The method (Defazio et al. 2024) keeps three
    sequences: SGD steps :math:`z_{t+1} = z_t - \gamma\nabla f(y_t)` at the interpolation
    :math:`y_t = (1-\beta) z_t + \beta x_t`, and the running average
    :math:`x_{t+1} = (1 - c_{t+1})\,x_t + c_{t+1} z_{t+1}` (:math:`c_{t+1} = 1/(t+1)` with no
    warmup), which is the point to evaluate (:func:`evaluate_at_average`).
    """
    import schedulefree

    momentum = _real("momentum", momentum, low=0.0, high=1.0, low_open=True, high_open=True)
    warmup_steps = _int_at_least("warmup_steps", warmup_steps, 0)

    def sf_sgd(params):
        opt = schedulefree.SGDScheduleFree(params, lr=1.0, momentum=momentum, warmup_steps=warmup_steps)
        opt.train()
        return opt

    return sf_sgd


def evaluate_at_average(trainer) -> dict:
    """``trainer.evaluate()`` with every optimizer that has ``eval()`` (schedule-free)
    switched to evaluation mode (parameters at the average :math:`x_t`) and back after."""
    switch = [o for o in trainer.optimizers.values() if hasattr(o, "eval") and hasattr(o, "train")]
    for o in switch:
        o.eval()
    try:
        return trainer.evaluate()
    finally:
        for o in switch:
            o.train()


@dataclass
class Branches:
    """Result of :func:`cooldown_branches`: losses ``(K stops, G peaks, M seeds)``."""

    stops: list
    peaks: list
    wsd_train: np.ndarray
    wsd_test: np.ndarray
    constant_train: np.ndarray
    constant_test: np.ndarray
    steps_trained: int   #: updates computed in all (the constant run plus every cooldown)


def cooldown_branches(data, peaks: Sequence[float], stops: Sequence[int], seeds, *, frac: float = 0.2,
                      shape: str = "linear", **train_kw) -> Branches:
    r"""One constant-learning-rate run per peak, and a WSD cooldown branched from it for
    every stopping time.

    For each :math:`T_k` in ``stops`` (increasing), the constant run is checkpointed at
    :math:`t_k = T_k - \lfloor fT_k \rfloor` and a copy continues from there with
    ``S.wsd(T_k, peak, decay_steps=T_k - t_k, cooldown=shape)``, a cooldown to zero that
    ends at :math:`T_k`; the constant run goes on to the next branch point.  The constant
    run is also evaluated at every :math:`T_k` (``constant_*``).  ``train_kw`` go to
    :class:`lrnotes.nets.train.Trainer` (batch size, optimizer, ...).
    """
    from lrnotes import schedules as S
    from lrnotes.nets.train import Trainer

    peaks = [_positive_real(f"peaks[{i}]", p) for i, p in enumerate(peaks)]
    stops = [_int_at_least(f"stops[{i}]", s, 2) for i, s in enumerate(stops)]
    if not peaks or not stops or any(b <= a for a, b in zip(stops, stops[1:])):
        raise ValueError("peaks must be non-empty and stops a non-empty increasing list of budgets")
    frac = _real("frac", frac, low=0.0, high=1.0, low_open=True)
    main = Trainer(data, {f"constant {p}": S.constant(p) for p in peaks}, seeds, **train_kw)
    K, G, M = len(stops), len(peaks), len(list(seeds))
    out = {k: np.zeros((K, G, M)) for k in ("wsd_train", "wsd_test", "constant_train", "constant_test")}
    done = 0
    for k, T in enumerate(stops):
        decay = max(1, int(np.floor(frac * T)))
        if T - decay < main.step:
            raise ValueError(f"stops too close: the cooldown of T={T} would start at {T - decay}, "
                             f"before the previous stop {main.step}")
        main.run(T - decay)
        branch = Trainer(data, {f"wsd {p}": S.wsd(T, p, decay_steps=decay, cooldown=shape) for p in peaks},
                         seeds, **train_kw)
        branch.load_state_dict(main.state_dict(), groups=list(range(G)))
        ev = branch.run(T)
        out["wsd_train"][k] = ev.train_loss[:, :, -1]
        out["wsd_test"][k] = ev.test_loss[:, :, -1]
        done += decay
        res = main.run(T)
        out["constant_train"][k] = res.train_loss[:, :, -1]
        out["constant_test"][k] = res.test_loss[:, :, -1]
    return Branches(stops=stops, peaks=peaks, steps_trained=stops[-1] + done, **out)
