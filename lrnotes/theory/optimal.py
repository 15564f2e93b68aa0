r"""The schedule that minimises the last-iterate bound over all positive schedules
(:func:`optimal_schedule`, L-BFGS-B on log-learning-rates with torch gradients).

Contents
--------
OptimalSchedule            the result: the tuned schedule, its bound, the optimiser's report
optimal_schedule           minimise the bound of :mod:`lrnotes.theory.bounds`
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from lrnotes.schedules import _positive_real  # checks shared with the schedules

from ._checks import _form, _per_step_G, _weights
from .bounds import tune_peak

__all__ = ["OptimalSchedule", "optimal_schedule"]


@dataclass
class OptimalSchedule:
    """Result of :func:`optimal_schedule`: the tuned schedule and its bound."""

    lrs: np.ndarray  #: eta_1..eta_T of the optimum, at its best scale
    bound: float  #: the bound at the optimum
    form: str
    n_iter: int
    converged: bool
    message: str


def _log_AB_torch(theta, D: float, G, form: str):
    import torch

    eta = torch.exp(theta)
    W = torch.flip(torch.cumsum(torch.flip(eta, [0]), 0), [0])
    if not isinstance(G, float):  # per-step G_t: weight every eta_t^2 by G_t^2 (full form)
        G2 = torch.as_tensor(G * G, dtype=eta.dtype)
        Q = torch.flip(torch.cumsum(torch.flip(eta * eta * G2, [0]), 0), [0])
        tail = torch.sum(eta[:-1] / (W[:-1] * W[1:]) * Q[:-1])
        A = D * D / (2.0 * W[0])
        return torch.log(A) + torch.log(Q[0] / (2.0 * W[0]) + 0.5 * tail)
    Q = torch.flip(torch.cumsum(torch.flip(eta * eta, [0]), 0), [0])
    if form == "full":
        tail = torch.sum(eta[:-1] / (W[:-1] * W[1:]) * Q[:-1])
    else:
        tail = torch.sum(eta[:-1] ** 2 / W[1:])
    A = D * D / (2.0 * W[0])
    B = G * G * (Q[0] / (2.0 * W[0]) + 0.5 * tail)
    return torch.log(A) + torch.log(B)


def optimal_schedule(
    T: int,
    D: float = 1.0,
    G: float = 1.0,
    form: str = "full",
    init=None,
    maxiter: int = 5000,
) -> OptimalSchedule:
    r"""Minimise the last-iterate bound over all positive schedules of length ``T``.

    The scale is optimal in closed form (:func:`~lrnotes.theory.bounds.tune_peak`), so we minimise the
    scale-free :math:`\log A(s) + \log B(s)` over shapes :math:`s = e^{\theta}`
    (a positive parametrisation) with torch autograd gradients and scipy's L-BFGS-B,
    then rescale by :math:`c^\star = \sqrt{A/B}`.

    Parameters
    ----------
    T : int >= 2
    D : float > 0
    G : float > 0, or array of shape (T,)
        Per-step bounds :math:`G_t` for an array (``form="full"``; see
        :func:`~lrnotes.theory.bounds.bound_terms`).
    form : {"full", "simplified"}
    init : array_like of shape (T,), optional
        Positive starting shape; default: linear decay :math:`(T+1-k)/T`.
    maxiter : int >= 1

    Returns
    -------
    OptimalSchedule
    """
    import torch
    from scipy.optimize import minimize

    if isinstance(T, bool) or not isinstance(T, numbers.Integral) or T < 2:
        raise ValueError(f"T must be an integer >= 2, got {T!r}")
    if isinstance(maxiter, bool) or not isinstance(maxiter, numbers.Integral) or maxiter < 1:
        raise ValueError(f"maxiter must be an integer >= 1, got {maxiter!r}")
    D = _positive_real("D", D)
    form = _form(form)
    G_steps = _per_step_G(G, T)
    if G_steps is None:
        G = _positive_real("G", G)
    elif form != "full":
        raise ValueError("per-step G needs form='full' (the simplified form assumes a constant G)")
    else:
        G = G_steps
    if init is None:
        init = (T + 1 - np.arange(1, T + 1)) / T
    init = _weights("init", init)
    if init.shape != (T,) or np.any(init <= 0):
        raise ValueError(f"init must have shape ({T},) and be > 0 everywhere")

    def fun(theta_np):
        theta = torch.tensor(theta_np, dtype=torch.float64, requires_grad=True)
        val = _log_AB_torch(theta, D, G, form)
        val.backward()
        return float(val.detach()), theta.grad.numpy().copy()

    res = minimize(fun, np.log(init), jac=True, method="L-BFGS-B",
                   options={"maxiter": maxiter, "maxfun": 2 * maxiter, "ftol": 1e-15,
                            "gtol": 1e-10})
    shape = np.exp(res.x - res.x.max())
    scale, bound = tune_peak(shape, D, G, form)
    return OptimalSchedule(lrs=scale * shape, bound=float(bound), form=form,
                           n_iter=int(res.nit), converged=bool(res.success),
                           message=str(res.message))
