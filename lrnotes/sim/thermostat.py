r"""The "thermostat": inject noise so that the mean squared step stays at a target.

SGD with gradient noise and injected noise,

.. math:: \Delta\theta_t = \theta_{t+1} - \theta_t = -\eta_t\bigl(\nabla f(\theta_t) + \sigma\xi_t\bigr) + s_t\zeta_t,
          \qquad \xi_t, \zeta_t \sim \mathcal N(0, I_d) \text{ independent},

has :math:`\mathbb E\|\Delta\theta_t\|^2 = \eta_t^2\bigl(\mathbb E\|\nabla f(\theta_t)\|^2 + d\sigma^2\bigr) + d s_t^2`.
Holding it at :math:`K` takes :math:`s_t^2 = \bigl(K - \eta_t^2(\mathbb E\|\nabla f\|^2 + d\sigma^2)\bigr)/d`,
possible only while that is :math:`\ge 0`; :func:`thermostat` uses
:math:`s_t^2 = \max(0, \cdot)` and reports where the gradient step alone already exceeds
:math:`K`.

On a quadratic :math:`f(\theta) = \frac12 (\theta - c)^\top H (\theta - c)` everything is
linear and Gaussian, so the first two moments of :math:`y_t = \theta_t - c` follow exactly:

.. math:: m_{t+1} = A_t m_t, \qquad M_{t+1} = A_t M_t A_t^\top + (\eta_t^2\sigma^2 + s_t^2) I,
          \qquad A_t = I - \eta_t H,

with :math:`M_t = \mathbb E[y_t y_t^\top]`, :math:`\mathbb E f(\theta_t) = \tfrac12\operatorname{tr}(H M_t)`
and :math:`\mathbb E\|\nabla f(\theta_t)\|^2 = \operatorname{tr}(H^2 M_t)`.  That is what
:func:`quadratic_moments` computes, and what makes the thermostat plannable in advance
(the simulator :func:`lrnotes.sim.sgd.simulate` takes the injected standard deviation as a
per-step array ``inject``).

The Langevin reading :math:`\Delta\theta = -\eta\nabla f + \sqrt{2\eta T}\,\zeta` gives
the effective temperature :math:`T_t = (\eta_t^2\sigma^2 + s_t^2)/(2\eta_t)`
(:func:`effective_temperature`); at a constant step the stationary loss of a quadratic is
:func:`stationary_loss`.

Contents
--------
Moments                exact moments of SGD on a quadratic, per step
quadratic_moments      those moments for a schedule, gradient noise and injected noise
thermostat             the injection plan that holds E‖Δθ‖² at K where it can, and its moments
effective_temperature  T_t = (η_t² σ² + s_t²) / (2 η_t)
stationary_loss        E f at stationarity for a constant step and per-step noise variance q
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrnotes.sim.landscapes import Quadratic
from lrnotes.schedules import _int_at_least, _real

__all__ = ["Moments", "quadratic_moments", "thermostat", "effective_temperature", "stationary_loss"]


@dataclass
class Moments:
    r"""Exact moments of SGD on a quadratic (``n`` updates, iterates ``t = 0..n``).

    Attributes
    ----------
    loss : (n + 1,)      :math:`\mathbb E f(\theta_t) - f_*`
    grad_sq : (n + 1,)   :math:`\mathbb E\|\nabla f(\theta_t)\|^2`
    step_sq : (n,)       :math:`\mathbb E\|\theta_{t+1} - \theta_t\|^2`
    floor : (n,)         :math:`\eta_t^2(\mathbb E\|\nabla f(\theta_t)\|^2 + d\sigma^2)`: the
                         part of ``step_sq`` due to the gradient step
    inject : (n,)        the injected standard deviation :math:`s_t`
    active : (n,) bool   steps where :math:`s_t > 0`
    """

    loss: np.ndarray
    grad_sq: np.ndarray
    step_sq: np.ndarray
    floor: np.ndarray
    inject: np.ndarray
    active: np.ndarray


def _setup(problem, lrs, x0, sigma):
    if not isinstance(problem, Quadratic):
        raise ValueError(f"problem must be an lrnotes.sim.landscapes.Quadratic, got {type(problem).__name__}")
    lrs = np.asarray(lrs, dtype=float)
    if lrs.ndim != 1 or lrs.size < 1 or not np.all(np.isfinite(lrs)) or np.any(lrs < 0):
        raise ValueError("lrs must be a 1-D array of n >= 1 finite learning rates >= 0")
    x0 = np.asarray(x0, dtype=float).reshape(-1)
    if x0.shape != (problem.dim,) or not np.all(np.isfinite(x0)):
        raise ValueError(f"x0 must be a finite array of shape ({problem.dim},), got shape {x0.shape}")
    sig = np.broadcast_to(np.asarray(sigma, dtype=float), lrs.shape) if np.ndim(sigma) else \
        np.full(lrs.shape, _real("sigma", sigma, low=0.0))
    if not np.all(np.isfinite(sig)) or np.any(sig < 0):
        raise ValueError("sigma must be finite and >= 0 (a number or one value per step)")
    y0 = x0 - problem.center
    return problem.H, lrs, np.outer(y0, y0), sig


def _run(problem, lrs, x0, sigma, plan):
    """Step the moment recursion; ``plan(t, eta, grad_sq)`` returns the injected variance."""
    H, lrs, M, sig = _setup(problem, lrs, x0, sigma)
    d, n = problem.dim, lrs.size
    H2 = H @ H
    I = np.eye(d)
    loss, grad_sq = np.empty(n + 1), np.empty(n + 1)
    step_sq, floor, s2 = np.empty(n), np.empty(n), np.empty(n)
    for t in range(n + 1):
        loss[t] = 0.5 * np.trace(H @ M)
        grad_sq[t] = np.trace(H2 @ M)
        if t == n:
            break
        eta = lrs[t]
        floor[t] = eta * eta * (grad_sq[t] + d * sig[t] ** 2)
        s2[t] = plan(t, eta, floor[t])
        step_sq[t] = floor[t] + d * s2[t]
        A = I - eta * H
        M = A @ M @ A.T + (eta * eta * sig[t] ** 2 + s2[t]) * I
    s = np.sqrt(s2)
    return Moments(loss=loss, grad_sq=grad_sq, step_sq=step_sq, floor=floor, inject=s, active=s > 0)


def quadratic_moments(problem: Quadratic, lrs, x0, *, sigma=0.0, inject=0.0) -> Moments:
    r"""Exact :math:`\mathbb E f`, :math:`\mathbb E\|\nabla f\|^2` and :math:`\mathbb E\|\Delta\theta\|^2`
    of SGD on a quadratic from ``x0``, with gradient noise ``sigma`` and injected noise
    ``inject`` (standard deviations per coordinate: numbers or one value per step).

    The same process as ``lrnotes.sim.sgd.simulate(problem, lrs, x0, ..., sigma=sigma,
    inject=inject)`` (plain SGD), whose Monte Carlo averages converge to these values.
    """
    n = np.asarray(lrs).size
    s = np.broadcast_to(np.asarray(inject, dtype=float), (n,))
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        raise ValueError("inject must be finite and >= 0 (a number or one value per step)")
    return _run(problem, lrs, x0, sigma, lambda t, eta, floor: s[t] ** 2)


def thermostat(problem: Quadratic, lrs, x0, K: float, *, sigma=0.0, until: int | None = None) -> Moments:
    r"""The injection plan that keeps :math:`\mathbb E\|\Delta\theta_t\|^2 = K` wherever it can.

    At each step, :math:`s_t^2 = \max\bigl(0,\ K - \eta_t^2(\mathbb E\|\nabla f(\theta_t)\|^2 + d\sigma^2)\bigr)/d`,
    with the expectation from the exact moments of the plan so far; ``until`` switches
    the injection off from that step on (``None``: never).  Then
    :math:`\mathbb E\|\Delta\theta_t\|^2 = \max(K, \text{floor}_t)`: no injection can
    bring it *below* what the gradient step contributes.

    Returns the plan's :class:`Moments` (``inject`` is the per-step standard deviation to
    pass to :func:`lrnotes.sim.sgd.simulate`).
    """
    K = _real("K", K, low=0.0)
    n = np.asarray(lrs).size
    stop = n if until is None else _int_at_least("until", until, 0)
    d = problem.dim if isinstance(problem, Quadratic) else 1

    def plan(t, eta, floor):
        return max(0.0, K - floor) / d if t < stop else 0.0

    return _run(problem, lrs, x0, sigma, plan)


def effective_temperature(lrs, sigma=0.0, inject=0.0) -> np.ndarray:
    r""":math:`T_t = (\eta_t^2\sigma_t^2 + s_t^2)/(2\eta_t)`: the temperature of the Langevin
    step :math:`-\eta\nabla f + \sqrt{2\eta T}\zeta` with the same noise per step.

    Arguments broadcast; ``lrs`` must be > 0.
    """
    lrs, sigma, inject = (np.asarray(a, dtype=float) for a in (lrs, sigma, inject))
    if not np.all(np.isfinite(lrs)) or np.any(lrs <= 0):
        raise ValueError("lrs must be finite and > 0")
    for name, a in (("sigma", sigma), ("inject", inject)):
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ValueError(f"{name} must be finite and >= 0")
    return (lrs**2 * sigma**2 + inject**2) / (2.0 * lrs)


def stationary_loss(problem: Quadratic, lr: float, q: float) -> float:
    r"""Stationary :math:`\mathbb E f - f_*` of :math:`y' = (I - \eta H)y + \sqrt q\,\zeta`.

    Along an eigenvalue :math:`\lambda` the stationary variance is
    :math:`q / (\eta\lambda(2 - \eta\lambda))`, so

    .. math:: \mathbb E f = \frac{q}{2\eta}\sum_i \frac{1}{2 - \eta\lambda_i}
              \approx \frac{d\,q}{4\eta} = \frac{d\,T}{2} \quad (\eta\lambda_i \ll 1,\ T = q/2\eta).

    Needs :math:`0 < \eta < 2/L`.
    """
    if not isinstance(problem, Quadratic):
        raise ValueError(f"problem must be an lrnotes.sim.landscapes.Quadratic, got {type(problem).__name__}")
    lr = _real("lr", lr, low=0.0, high=2.0 / problem.L, low_open=True, high_open=True)
    q = _real("q", q, low=0.0)
    return float(q / (2.0 * lr) * np.sum(1.0 / (2.0 - lr * problem.eigenvalues)))
