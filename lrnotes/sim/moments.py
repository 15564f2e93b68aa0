r"""SGD on a noisy quadratic, exactly: the mean and variance of every iterate.

On :math:`L(\theta) = \tfrac h2 \theta^2` with the stochastic gradient
:math:`g_t = h\theta_t + \xi_t`, :math:`\xi_t` independent with mean 0 and variance
:math:`\sigma^2`, SGD is a *linear* recursion,

.. math:: \theta_{t+1} = (1 - h\eta_t)\,\theta_t - \eta_t \xi_t ,

so the first two moments follow exact recursions of their own (no simulation needed):

.. math::
    m_{t+1} = (1 - h\eta_t)\, m_t, \qquad
    v_{t+1} = (1 - h\eta_t)^2\, v_t + \eta_t^2 \sigma^2 ,

and, from a deterministic start :math:`\theta_0` (:math:`v_0 = 0`), after :math:`n` updates

.. math::
    m_n = \theta_0 \prod_{t<n} (1 - h\eta_t), \qquad
    v_n = \sigma^2 \sum_{t<n} \eta_t^2 \prod_{t<s<n} (1 - h\eta_s)^2 .

The first is the *contraction* of the start, the second the *noise sum*: the noise of
update :math:`t` survives to the end with weight :math:`\eta_t^2\prod_{s>t}(1-h\eta_s)^2`
(:func:`noise_weights`).  With Gaussian :math:`\xi_t` the iterate is Gaussian,
:math:`\mathcal N(m_n, v_n)`, and :math:`\mathbb E|\theta_n| = \sqrt{2v_n/\pi}` when
:math:`m_n = 0`.

Steps follow :mod:`lrnotes.schedules` and :mod:`lrnotes.sim.sgd`: ``lrs[..., t]`` is the
learning rate of update ``t`` (from :math:`\theta_t` to :math:`\theta_{t+1}`), and index
``j`` of a trajectory is the iterate after ``j`` updates.  In the sources' numbering
(:math:`\theta_1` the start) that iterate is :math:`\theta_{j+1}`.

Contents
--------
noise_weights     the weight of each update's noise in the final variance
terminal_moments  mean and variance of the last iterate (closed form, vectorised)
moments           mean and variance of every iterate (the recursion)
recursion         the same recursion, unchecked, for callers that have checked their inputs

This is the one implementation of these moments in the package:
:func:`lrnotes.theory.quadratic_sgd_moments` (the sources' numbering, with
:math:`\mathbb E|\theta_t|`) calls :func:`recursion`, and
:func:`lrnotes.sim.thermostat.quadratic_moments` is its matrix form (a covariance
:math:`M_{t+1} = A_t M_t A_t^\top + \eta_t^2\sigma^2 I` on a d-dimensional quadratic), which
for :math:`d = 1` gives the same numbers (``tests/test_quadratic.py``).
"""

from __future__ import annotations

import numpy as np

from lrnotes.schedules import _real

__all__ = ["noise_weights", "terminal_moments", "moments", "recursion"]


def _lrs(lrs) -> np.ndarray:
    a = np.asarray(lrs, dtype=float)
    if a.ndim < 1 or a.shape[-1] < 1:
        raise ValueError(f"lrs must have shape (..., n) with n >= 1 updates, got {a.shape}")
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise ValueError("lrs must be finite and >= 0")
    return a


def noise_weights(lrs, curvature: float = 1.0) -> np.ndarray:
    r""":math:`w_t = \eta_t^2 \prod_{t<s<n}(1 - h\eta_s)^2`, shape ``lrs.shape``.

    The final variance is :math:`\sigma^2 \sum_t w_t` (plus the start's variance times
    :math:`\prod_t (1-h\eta_t)^2`).  Computed with a reversed cumulative product, so a
    factor :math:`1 - h\eta_s = 0` is handled exactly.
    """
    eta = _lrs(lrs)
    h = _real("curvature", curvature, low=0.0, low_open=True)
    f2 = (1.0 - h * eta) ** 2
    after = np.ones_like(eta)                                   # prod over s > t
    after[..., :-1] = np.cumprod(f2[..., :0:-1], axis=-1)[..., ::-1]
    return eta**2 * after


def terminal_moments(lrs, theta0: float, sigma: float, curvature: float = 1.0):
    r"""Mean :math:`m_n` and variance :math:`v_n` of the iterate after all ``n`` updates.

    Parameters
    ----------
    lrs : array (..., n) — :math:`\eta_0..\eta_{n-1}`, finite and >= 0 (leading axes: a batch)
    theta0 : float — the (deterministic) start
    sigma : float >= 0 — standard deviation of the gradient noise
    curvature : float > 0 — :math:`h`

    Returns
    -------
    mean, var : float or arrays of the batch shape
    """
    eta = _lrs(lrs)
    theta0 = _real("theta0", theta0)
    sigma = _real("sigma", sigma, low=0.0)
    h = _real("curvature", curvature, low=0.0, low_open=True)
    mean = theta0 * np.prod(1.0 - h * eta, axis=-1)
    var = sigma**2 * noise_weights(eta, h).sum(axis=-1)
    return mean, var


def moments(lrs, theta0: float, sigma: float, curvature: float = 1.0):
    r"""Mean and variance of every iterate, by the exact recursions: arrays ``(..., n + 1)``,
    index ``j`` = after ``j`` updates (``j = 0``: the start, variance 0)."""
    eta = _lrs(lrs)
    theta0 = _real("theta0", theta0)
    sigma = _real("sigma", sigma, low=0.0)
    h = _real("curvature", curvature, low=0.0, low_open=True)
    return recursion(eta, theta0, sigma, h)


def recursion(eta: np.ndarray, theta0: float, sigma: float, h: float):
    r""":math:`m_{t+1} = (1-h\eta_t)m_t`, :math:`v_{t+1} = (1-h\eta_t)^2 v_t + \eta_t^2\sigma^2`
    from :math:`m_0 = \theta_0`, :math:`v_0 = 0`: arrays ``(..., n + 1)``.  No input checks
    (:func:`moments` checks them); ``eta`` may hold any finite values."""
    eta = np.asarray(eta, dtype=float)
    n = eta.shape[-1]
    mean = np.empty(eta.shape[:-1] + (n + 1,))
    var = np.empty_like(mean)
    mean[..., 0], var[..., 0] = theta0, 0.0
    for t in range(n):
        f = 1.0 - h * eta[..., t]
        mean[..., t + 1] = f * mean[..., t]
        var[..., t + 1] = f * f * var[..., t] + (eta[..., t] * sigma) ** 2
    return mean, var
