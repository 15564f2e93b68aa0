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
bound_terms                bias and noise parts of the full / simplified bound (``G`` a
                           constant, or per-step bounds :math:`G_t` for the full form)
last_iterate_bound         their sum, for a batch of schedules, in O(T)
last_iterate_bound_exact   the bound in exact rational arithmetic, in three written forms
tune_peak                  the peak that minimises ``A/alpha + B alpha`` and the value
standard_shapes            the five peak-1 schedule shapes that Chapter 3 compares
optimal_schedule           minimise the bound over all positive schedules (L-BFGS-B)
linear_noise_sum           closed form of :math:`\sum_{k<T} \eta_k^2/\eta_{k+1:T}` for linear decay
quadratic_sgd_moments      exact mean and variance of SGD on :math:`\tfrac{\lambda}{2}\theta^2` with
                           Gaussian gradient noise (a linear recursion), and :math:`\mathbb{E}|\theta|`
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from lrnotes.schedules import _positive_real, _real  # checks shared with the schedules

__all__ = [
    "FORMS",
    "suffix_sums",
    "identity_rhs",
    "identity_residual",
    "identity_rhs_exact",
    "identity_sympy",
    "bound_terms",
    "last_iterate_bound",
    "EXACT_FORMS",
    "last_iterate_bound_exact",
    "tune_peak",
    "standard_shapes",
    "OptimalSchedule",
    "optimal_schedule",
    "linear_noise_sum",
    "QuadraticMoments",
    "quadratic_sgd_moments",
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


def _per_step_G(G, T: int):
    """``None`` for a scalar ``G`` (the constant bound); else the checked array of
    per-step bounds :math:`G_1..G_T`, shape ``(T,)``, finite and > 0."""
    if isinstance(G, numbers.Real) or np.ndim(G) == 0:
        return None
    try:
        arr = np.asarray(G, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("G must be a number > 0 or an array of per-step bounds > 0") from exc
    if arr.shape != (T,):
        raise ValueError(f"per-step G must have shape ({T},) like the schedule, got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise ValueError("per-step G must be finite and > 0 everywhere")
    return arr


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

    **Per-step bounds.**  If :math:`\mathbb{E}\|g_t\|^2 \le G_t^2` with a bound for each
    step, the same proof gives the full form with every :math:`\eta_t^2` weighted by
    :math:`G_t^2`:

    .. math::
        \text{noise} = \frac{\sum_t \eta_t^2 G_t^2}{2\,\eta_{1:T}} + \frac12
        \sum_{k=1}^{T-1}\Big(\frac{1}{\eta_{k+1:T}} - \frac{1}{\eta_{k:T}}\Big)
        \sum_{t=k}^{T}\eta_t^2 G_t^2 .

    Pass ``G`` as an array of shape ``(T,)`` for it (``form="full"`` only: the simplified
    form's inequality needs a constant ``G``).

    Parameters
    ----------
    lrs : array_like, shape (T,) or (batch, T)
        :math:`\eta_1..\eta_T`, ``>= 0``, with :math:`\eta_T > 0` (else ``ValueError``).
    D : float > 0
    G : float > 0, or array of shape (T,) with the per-step bounds :math:`G_t > 0`
    form : {"full", "simplified"}

    Returns
    -------
    bias, noise : float or numpy.ndarray of shape (batch,)
    """
    eta = _weights("lrs", lrs)
    D = _positive_real("D", D)
    form = _form(form)
    G_steps = _per_step_G(G, eta.shape[-1])
    if G_steps is not None:
        if form != "full":
            raise ValueError("per-step G needs form='full' (the simplified form assumes a constant G)")
        W = suffix_sums(eta)
        Q = suffix_sums(eta * eta * G_steps**2)
        bias = D * D / (2.0 * W[..., 0])
        tail = np.sum(eta[..., :-1] / (W[..., :-1] * W[..., 1:]) * Q[..., :-1], axis=-1)
        noise = Q[..., 0] / (2.0 * W[..., 0]) + 0.5 * tail
        if eta.ndim == 1:
            return float(bias), float(noise)
        return bias, noise
    G = _positive_real("G", G)
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


#: Written forms of the bound that :func:`last_iterate_bound_exact` evaluates.
EXACT_FORMS = ("full", "compact", "simplified")


def last_iterate_bound_exact(lrs: Sequence, D=1, G=1, form: str = "full") -> Fraction:
    r"""The last-iterate bound in exact rational arithmetic (``fractions.Fraction``).

    ``form="full"`` is the bound as proved (see :func:`last_iterate_bound`);
    ``form="compact"`` is the same number written after summation by parts,

    .. math::
        \frac{D^2}{2\,\eta_{1:T}} + \frac{G^2}{2}\Big(\sum_{k=1}^{T-1}
        \frac{\eta_k^2}{\eta_{k+1:T}} + \eta_T\Big),

    and ``form="simplified"`` is the corollary for non-increasing schedules,
    :math:`\frac{D^2 + G^2\sum_t \eta_t^2}{2\eta_{1:T}} + \frac{G^2}{2}\sum_{k<T}
    \eta_k^2/\eta_{k+1:T}`.  ``full`` and ``compact`` agree *exactly* for every
    schedule with :math:`\eta_T > 0`; comparing them with ``==`` checks the
    summation-by-parts identity with no round-off.  O(T) Fraction operations.

    Parameters
    ----------
    lrs : sequence of rationals (int, Fraction, or float, converted exactly), length
        T >= 1, all ``>= 0`` with ``lrs[-1] > 0``
    D, G : rational > 0
    form : {"full", "compact", "simplified"}
    """
    if form not in EXACT_FORMS:
        raise ValueError(f"form must be one of {EXACT_FORMS}, got {form!r}")
    try:
        eta = [Fraction(x) for x in lrs]
        D_, G_ = Fraction(D), Fraction(G)
    except (TypeError, ValueError) as exc:
        raise ValueError("lrs, D and G must be finite rational numbers") from exc
    if not eta:
        raise ValueError("lrs must hold at least one learning rate (T >= 1)")
    if any(e < 0 for e in eta) or eta[-1] <= 0:
        raise ValueError("lrs must be >= 0 everywhere with lrs[-1] (eta_T) > 0")
    if D_ <= 0 or G_ <= 0:
        raise ValueError(f"D and G must be > 0, got D={D!r}, G={G!r}")
    T = len(eta)
    W = [Fraction(0)] * (T + 1)  # W[k] = eta_{k+1:T} (0-based k)
    Q = [Fraction(0)] * (T + 1)  # Q[k] = sum_{t > k} eta_t^2 (0-based)
    for k in range(T - 1, -1, -1):
        W[k] = W[k + 1] + eta[k]
        Q[k] = Q[k + 1] + eta[k] * eta[k]
    D2, G2 = D_ * D_, G_ * G_
    if form == "full":
        tail = sum(((1 / W[k + 1] - 1 / W[k]) * Q[k] for k in range(T - 1)), Fraction(0))
        return (D2 + G2 * Q[0]) / (2 * W[0]) + G2 / 2 * tail
    ratios = sum((eta[k] * eta[k] / W[k + 1] for k in range(T - 1)), Fraction(0))
    if form == "compact":
        return D2 / (2 * W[0]) + G2 / 2 * (ratios + eta[-1])
    return (D2 + G2 * Q[0]) / (2 * W[0]) + G2 / 2 * ratios


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


def standard_shapes(T: int) -> dict:
    r"""Peak-1 shapes :math:`\eta_1, \dots, \eta_T` of the five schedules Chapter 3 compares.

    With ``k = np.arange(T)`` (so entry ``k`` is :math:`\eta_{k+1}`):

    - ``"constant"``: 1;
    - ``"1/sqrt(t)"``: ``S.inverse_sqrt(peak=1)``, :math:`1/\sqrt{k+1}`;
    - ``"cosine"``: ``S.cosine(T)``, :math:`\tfrac12(1 + \cos(\pi k/T))`;
    - ``"step (3 stages, x0.1)"``: ``S.step_decay(ceil(T/3), gamma=0.1)``;
    - ``"linear"``: ``S.linear(T)``, :math:`1 - k/T` (last value :math:`1/T > 0`).

    Every shape ends with :math:`\eta_T > 0`, as the bound requires.

    Parameters
    ----------
    T : int >= 1

    Returns
    -------
    dict of name -> numpy.ndarray of shape (T,)
    """
    from lrnotes import schedules as S

    T = S._int_at_least("T", T, 1)
    k = np.arange(T)
    return {
        "constant": np.ones(T),
        "1/sqrt(t)": S.inverse_sqrt(peak=1.0)(k),
        "cosine": S.cosine(T)(k),
        "step (3 stages, x0.1)": S.step_decay(int(np.ceil(T / 3)), gamma=0.1)(k),
        "linear": S.linear(T)(k),
    }


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

    The scale is optimal in closed form (:func:`tune_peak`), so we minimise the
    scale-free :math:`\log A(s) + \log B(s)` over shapes :math:`s = e^{\theta}`
    (a positive parametrisation) with torch autograd gradients and scipy's L-BFGS-B,
    then rescale by :math:`c^\star = \sqrt{A/B}`.

    Parameters
    ----------
    T : int >= 2
    D : float > 0
    G : float > 0, or array of shape (T,): per-step bounds :math:`G_t` (``form="full"``;
        see :func:`bound_terms`)
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



@dataclass
class QuadraticMoments:
    """Result of :func:`quadratic_sgd_moments` (arrays over the iterates
    :math:`\\theta_1, \\dots, \\theta_{n+1}`)."""

    mean: np.ndarray  #: E theta_t
    var: np.ndarray  #: Var theta_t
    abs_mean: np.ndarray  #: E |theta_t| (theta_t is Gaussian)


def quadratic_sgd_moments(lrs, theta1: float, sigma: float,
                          curvature: float = 1.0) -> QuadraticMoments:
    r"""Exact moments of SGD on :math:`L(\theta) = \tfrac{\lambda}{2}\theta^2` with gradient
    noise :math:`g_t = \lambda\theta_t + \xi_t`, :math:`\xi_t \sim \mathcal N(0, \sigma^2)`
    independent.

    The update :math:`\theta_{t+1} = (1 - \lambda\eta_t)\,\theta_t - \eta_t\xi_t` is linear,
    so :math:`\theta_t` is Gaussian and its moments follow exact recursions

    .. math::
        m_{t+1} = (1 - \lambda\eta_t)\,m_t, \qquad
        v_{t+1} = (1 - \lambda\eta_t)^2\,v_t + \eta_t^2\sigma^2,

    from :math:`m_1 = \theta_1`, :math:`v_1 = 0` (computed by
    :func:`lrnotes.sim.moments.recursion`, the book's one implementation of it, here in the
    sources' numbering :math:`\theta_1, \theta_2, \dots`); and with :math:`s = \sqrt v`,

    .. math::
        \mathbb{E}|\theta_t| = m\,\operatorname{erf}\!\Big(\frac{m}{s\sqrt2}\Big)
        + s\sqrt{\tfrac{2}{\pi}}\;e^{-m^2/(2s^2)} .

    Parameters
    ----------
    lrs : array_like, shape (n,)
        :math:`\eta_1, \dots, \eta_n`, the learning rates of the ``n`` updates (any real
        values; finite).
    theta1 : float
        The deterministic start :math:`\theta_1`.
    sigma : float >= 0
        Standard deviation of the gradient noise.
    curvature : float > 0
        :math:`\lambda`.

    Returns
    -------
    QuadraticMoments
        ``mean``, ``var`` and ``abs_mean``, each of shape ``(n + 1,)``; the last entry
        is :math:`\theta_{n+1}`.
    """
    from scipy.special import erf

    try:
        eta = np.asarray(lrs, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError("lrs must be a 1-D array of finite numbers") from exc
    if eta.ndim != 1 or not np.all(np.isfinite(eta)):
        raise ValueError(f"lrs must be a 1-D array of finite numbers, got shape {eta.shape}")
    theta1 = _real("theta1", theta1)
    sigma = _real("sigma", sigma, low=0.0)
    lam = _positive_real("curvature", curvature)
    # the one recursion of the book, in lrnotes.sim.moments (index j = after j updates)
    from lrnotes.sim.moments import recursion

    mean, var = recursion(eta, theta1, sigma, lam)
    s = np.sqrt(var)
    safe = np.where(s > 0, s, 1.0)
    folded = (mean * erf(mean / (safe * np.sqrt(2.0)))
              + safe * np.sqrt(2.0 / np.pi) * np.exp(-mean**2 / (2.0 * safe**2)))
    abs_mean = np.where(s > 0, folded, np.abs(mean))
    return QuadraticMoments(mean=mean, var=var, abs_mean=abs_mean)
