r"""The weighted identity, the last-iterate bound for SGD, and schedule optimisation.

One idea per function, one formula per docstring.  Indexing follows the theory (and the
papers): weights and learning rates are :math:`w_1, \dots, w_T` / :math:`\eta_1, \dots,
\eta_T`, stored in arrays whose *last* axis has length ``T``; suffix sums are

.. math:: W_{k:T} = \sum_{t=k}^{T} w_t, \qquad \eta_{k:T} = \sum_{t=k}^{T} \eta_t .

With ``lrnotes.schedules``: ``lrs = sched(np.arange(T))`` is :math:`(\eta_1,\dots,\eta_T)`.

The bound (:func:`last_iterate_bound`) speaks about :math:`x_T`, the iterate reached by
the first ``T - 1`` updates; :math:`\eta_T` enters only as the weight of :math:`x_T`
in the identity, and must be positive.

Contents
--------
suffix_sums                :math:`W_{k:T}` for ``k = 1..T`` (vectorised)
identity_rhs               right-hand side of the weighted identity (float)
identity_residual          :math:`q_T - \text{rhs}` (should be round-off)
identity_rhs_exact         the same in exact rational arithmetic (``fractions.Fraction``)
identity_sympy             both sides as sympy expressions for symbolic ``T``-term checks
bound_terms                bias and noise parts of the full / simplified bound
last_iterate_bound         their sum, for a batch of schedules, in O(T)
tune_peak                  the peak that minimises ``A/alpha + B alpha`` and the value
optimal_schedule           minimise the bound over all positive schedules (L-BFGS-B)
linear_noise_sum           closed form of :math:`\sum_{k<T} \eta_k^2/\eta_{k+1:T}` for linear decay
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from .schedules import _positive_real  # one check, shared with the schedules

__all__ = [
    "FORMS",
    "suffix_sums",
    "identity_rhs",
    "identity_residual",
    "identity_rhs_exact",
    "identity_sympy",
    "bound_terms",
    "last_iterate_bound",
    "tune_peak",
    "OptimalSchedule",
    "optimal_schedule",
    "linear_noise_sum",
]

#: The two forms of the bound: ``"full"`` (any positive schedule) and ``"simplified"``
#: (an upper bound on ``"full"`` for non-increasing schedules).
FORMS = ("full", "simplified")


# --------------------------------------------------------------------------- checks


def _weights(name: str, w, *, last_positive: bool = True) -> np.ndarray:
    """Check an array of weights / LRs: float, 1-D or 2-D, finite, >= 0, last entry > 0."""
    try:
        arr = np.asarray(w, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be an array of finite non-negative numbers") from exc
    if arr.ndim not in (1, 2) or arr.shape[-1] < 1:
        raise ValueError(
            f"{name} must have shape (T,) or (batch, T) with T >= 1, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no nan or inf)")
    if np.any(arr < 0):
        raise ValueError(f"{name} must be >= 0 everywhere, got min {arr.min()!r}")
    if last_positive and np.any(arr[..., -1] <= 0):
        raise ValueError(
            f"{name}[..., -1] (the last weight, eta_T) must be > 0: the identity divides by "
            f"the suffix sum W_{{T:T}} = w_T; got {arr[..., -1]!r}"
        )
    return arr


def _form(form: str) -> str:
    if form not in FORMS:
        raise ValueError(f"form must be one of {FORMS}, got {form!r}")
    return form


# --------------------------------------------------------------------------- identity
def suffix_sums(w) -> np.ndarray:
    r"""Suffix sums along the last axis.

    .. math:: W_{k:T} = \sum_{t=k}^{T} w_t, \qquad k = 1, \dots, T .

    Parameters
    ----------
    w : array_like, shape (T,) or (batch, T)

    Returns
    -------
    numpy.ndarray
        Same shape as ``w``; entry ``k - 1`` holds :math:`W_{k:T}`.
    """
    w = np.asarray(w, dtype=float)
    return np.flip(np.cumsum(np.flip(w, axis=-1), axis=-1), axis=-1)


def _check_q(q, T: int) -> np.ndarray:
    try:
        q = np.asarray(q, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("q must be an array of finite numbers") from exc
    if q.shape != (T,):
        raise ValueError(f"q must have shape ({T},) like w, got {q.shape}")
    if not np.all(np.isfinite(q)):
        raise ValueError("q must be finite (no nan or inf)")
    return q


def identity_rhs(w, q) -> float:
    r"""Right-hand side of the weighted identity (O(T^2), float).

    .. math::
        \frac{1}{W_{1:T}} \sum_{t=1}^{T} w_t q_t
        + \sum_{k=1}^{T-1} \Big(\frac{1}{W_{k+1:T}} - \frac{1}{W_{k:T}}\Big)
          \sum_{t=k}^{T} w_t (q_t - q_k)

    which equals :math:`q_T` for positive weights.

    Parameters
    ----------
    w : array_like, shape (T,)
        Weights, ``>= 0`` with ``w[-1] > 0`` (then every suffix sum is positive).
    q : array_like, shape (T,)
        Any finite sequence.
    """
    w = _weights("w", w)
    if w.ndim != 1:
        raise ValueError(f"w must be 1-D here, got shape {w.shape}")
    q = _check_q(q, w.size)
    W = suffix_sums(w)
    total = float(np.dot(w, q) / W[0])
    for k in range(w.size - 1):  # k is 0-based: theory's k + 1
        coef = w[k] / (W[k] * W[k + 1])  # = 1/W_{k+1:T} - 1/W_{k:T}, without cancellation
        total += coef * float(np.dot(w[k:], q[k:] - q[k]))
    return total


def identity_residual(w, q) -> float:
    r"""Residual :math:`q_T - \text{rhs}` of the weighted identity (round-off only).

    See :func:`identity_rhs` for the right-hand side.
    """
    w = _weights("w", w)
    if w.ndim != 1:
        raise ValueError(f"w must be 1-D here, got shape {w.shape}")
    q = _check_q(q, w.size)
    return float(q[-1]) - identity_rhs(w, q)


def identity_rhs_exact(w: Sequence, q: Sequence) -> Fraction:
    r"""Right-hand side of the weighted identity in exact rational arithmetic.

    Same formula as :func:`identity_rhs`; every entry is converted with
    ``fractions.Fraction`` (ints, Fractions, floats — a float is converted exactly), so
    ``identity_rhs_exact(w, q) == Fraction(q[-1])`` holds *exactly* when the identity does.

    Parameters
    ----------
    w : sequence of numbers, length T, all ``>= 0`` with ``w[-1] > 0``
    q : sequence of numbers, length T
    """
    try:
        wf = [Fraction(x) for x in w]
        qf = [Fraction(x) for x in q]
    except (TypeError, ValueError) as exc:
        raise ValueError("w and q must be sequences of finite rational numbers") from exc
    T = len(wf)
    if T < 1 or len(qf) != T:
        raise ValueError(f"w and q must have the same length T >= 1, got {len(wf)} and {len(qf)}")
    if any(x < 0 for x in wf) or wf[-1] <= 0:
        raise ValueError("w must be >= 0 everywhere with w[-1] (the last weight) > 0")
    W = [Fraction(0)] * (T + 1)
    for k in range(T - 1, -1, -1):
        W[k] = W[k + 1] + wf[k]
    total = sum((wt * qt for wt, qt in zip(wf, qf)), Fraction(0)) / W[0]
    for k in range(T - 1):
        inner = sum((wf[t] * (qf[t] - qf[k]) for t in range(k, T)), Fraction(0))
        total += (1 / W[k + 1] - 1 / W[k]) * inner
    return total


def identity_sympy(T: int):
    r"""The two sides of the weighted identity for a fixed ``T``, as sympy expressions.

    Uses symbols :math:`w_1..w_T` (positive) and :math:`q_1..q_T`.

    Returns
    -------
    lhs, rhs, w, q
        ``lhs`` is ``q_T``; ``rhs`` the right-hand side of :func:`identity_rhs`; ``w`` and
        ``q`` the tuples of symbols.  ``sympy.cancel(lhs - rhs) == 0`` proves the case ``T``.
    """
    import sympy as sp

    if isinstance(T, bool) or not isinstance(T, numbers.Integral) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    w = sp.symbols(f"w1:{T + 1}", positive=True)
    q = sp.symbols(f"q1:{T + 1}")
    W = [sum(w[k:]) for k in range(T)] + [sp.Integer(0)]
    rhs = sum(w[t] * q[t] for t in range(T)) / W[0]
    for k in range(T - 1):
        rhs += (1 / W[k + 1] - 1 / W[k]) * sum(w[t] * (q[t] - q[k]) for t in range(k, T))
    return q[T - 1], rhs, w, q


# --------------------------------------------------------------------------- bound
def bound_terms(lrs, D: float = 1.0, G: float = 1.0, form: str = "full"):
    r"""The two parts of the last-iterate bound: ``bias`` (∝ 1/scale) and ``noise`` (∝ scale).

    For convex :math:`f` with :math:`\mathbb{E}\|g_t\|^2 \le G^2` and
    :math:`D = \|x_1 - x_*\|`, SGD :math:`x_{t+1} = x_t - \eta_t g_t` satisfies
    :math:`\mathbb{E}[f(x_T) - f_*] \le \text{bias} + \text{noise}` with

    .. math::
        \text{bias} = \frac{D^2}{2\,\eta_{1:T}}, \qquad
        \text{noise} = \frac{G^2 \sum_{t=1}^T \eta_t^2}{2\,\eta_{1:T}} + \frac{G^2}{2}\,R,

    where the tail :math:`R` is, for ``form="full"``,

    .. math::
        R = \sum_{k=1}^{T-1}\Big(\frac{1}{\eta_{k+1:T}} - \frac{1}{\eta_{k:T}}\Big)
            \sum_{t=k}^{T}\eta_t^2,

    and for ``form="simplified"`` (an upper bound on the full tail when the schedule is
    non-increasing, since then :math:`\sum_{t\ge k}\eta_t^2 \le \eta_k\,\eta_{k:T}`)

    .. math:: R = \sum_{k=1}^{T-1} \frac{\eta_k^2}{\eta_{k+1:T}} .

    Scaling the schedule by :math:`c` divides ``bias`` by :math:`c` and multiplies ``noise``
    by :math:`c`.  Cost O(T) per schedule (suffix sums).

    Parameters
    ----------
    lrs : array_like, shape (T,) or (batch, T)
        :math:`\eta_1..\eta_T`, ``>= 0``, with :math:`\eta_T > 0` (else ``ValueError``).
    D, G : float > 0
    form : {"full", "simplified"}

    Returns
    -------
    bias, noise : float or numpy.ndarray of shape (batch,)
    """
    eta = _weights("lrs", lrs)
    D = _positive_real("D", D)
    G = _positive_real("G", G)
    form = _form(form)
    W = suffix_sums(eta)  # W[..., k] = eta_{k+1:T} in 1-based terms
    Q = suffix_sums(eta * eta)
    bias = D * D / (2.0 * W[..., 0])
    if form == "full":
        # 1/W_{k+1} - 1/W_k = eta_k / (W_k W_{k+1}): no cancellation.
        tail = np.sum(eta[..., :-1] / (W[..., :-1] * W[..., 1:]) * Q[..., :-1], axis=-1)
    else:
        tail = np.sum(eta[..., :-1] ** 2 / W[..., 1:], axis=-1)
    noise = G * G * (Q[..., 0] / (2.0 * W[..., 0]) + 0.5 * tail)
    if eta.ndim == 1:
        return float(bias), float(noise)
    return bias, noise


def last_iterate_bound(lrs, D: float = 1.0, G: float = 1.0, form: str = "full"):
    r"""Upper bound on :math:`\mathbb{E}[f(x_T) - f_*]` for SGD with LRs :math:`\eta_1..\eta_T`.

    .. math::
        \mathbb{E}[f(x_T)-f_*] \le
        \frac{D^2 + G^2\sum_{t=1}^T\eta_t^2}{2\,\eta_{1:T}}
        + \frac{G^2}{2}\sum_{k=1}^{T-1}\Big(\frac{1}{\eta_{k+1:T}}-\frac{1}{\eta_{k:T}}\Big)
          \sum_{t=k}^{T}\eta_t^2 \quad (\text{form}=\text{"full"});

    ``form="simplified"`` replaces the last sum by :math:`\sum_{k<T}\eta_k^2/\eta_{k+1:T}`
    (valid for non-increasing schedules).  See :func:`bound_terms`.

    Returns
    -------
    float, or numpy.ndarray of shape (batch,) for a batch of schedules.
    """
    bias, noise = bound_terms(lrs, D, G, form)
    return bias + noise


def tune_peak(shape, D: float = 1.0, G: float = 1.0, form: str = "full"):
    r"""Best multiplier of a schedule shape, in closed form.

    The bound of ``c * shape`` is :math:`A/c + B c` with :math:`A` = bias and :math:`B` =
    noise of ``shape`` (:func:`bound_terms`), so

    .. math:: c^\star = \sqrt{A/B}, \qquad \text{bound}^\star = 2\sqrt{AB}.

    If ``shape`` has peak 1, :math:`c^\star` is the tuned peak learning rate.

    Returns
    -------
    scale, bound : float or numpy.ndarray of shape (batch,)
    """
    A, B = bound_terms(shape, D, G, form)
    return np.sqrt(A / B), 2.0 * np.sqrt(A * B)


# --------------------------------------------------------------------------- optimiser
@dataclass
class OptimalSchedule:
    """Result of :func:`optimal_schedule`: the tuned schedule and its bound."""

    lrs: np.ndarray  #: eta_1..eta_T of the optimum, at its best scale
    bound: float  #: the bound at the optimum
    form: str
    n_iter: int
    converged: bool
    message: str


def _log_AB_torch(theta, D: float, G: float, form: str):
    import torch

    eta = torch.exp(theta)
    W = torch.flip(torch.cumsum(torch.flip(eta, [0]), 0), [0])
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

    The scale is optimal in closed form (:func:`tune_peak`), so we minimise the
    scale-free :math:`\log A(s) + \log B(s)` over shapes :math:`s = e^{\theta}`
    (a positive parametrisation) with torch autograd gradients and scipy's L-BFGS-B,
    then rescale by :math:`c^\star = \sqrt{A/B}`.

    Parameters
    ----------
    T : int >= 2
    D, G : float > 0
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
    G = _positive_real("G", G)
    form = _form(form)
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


# --------------------------------------------------------------------------- closed forms
def linear_noise_sum(T, alpha: float = 1.0):
    r"""Exact :math:`\sum_{k=1}^{T-1}\eta_k^2/\eta_{k+1:T}` for :math:`\eta_k=\alpha(1-k/(T+1))`.

    .. math::
        \sum_{k=1}^{T-1}\frac{\eta_k^2}{\eta_{k+1:T}}
        = \frac{2\alpha}{T+1}\,\big(T - 1 + H_{T-1}\big)
        = 2\alpha\Big(1 + \frac{H_{T-1} - 2}{T + 1}\Big),
        \qquad H_n = \sum_{j=1}^{n} \frac1j ,

    bounded (it tends to :math:`2\alpha`, from above once :math:`T \ge 5`) but not
    constant in ``T`` (derived with sympy in the book).

    Parameters
    ----------
    T : int or array of ints, >= 1
    alpha : float > 0
    """
    alpha = _positive_real("alpha", alpha)
    T_arr = np.asarray(T)
    if T_arr.dtype.kind not in "iu" or np.any(T_arr < 1):
        raise ValueError(f"T must be integer(s) >= 1, got {T!r}")
    n_max = int(T_arr.max())
    H = np.concatenate([[0.0], np.cumsum(1.0 / np.arange(1, n_max + 1))])  # H[n] = H_n
    out = 2.0 * alpha / (T_arr + 1) * (T_arr - 1 + H[T_arr - 1])
    return float(out) if np.ndim(T) == 0 else out
