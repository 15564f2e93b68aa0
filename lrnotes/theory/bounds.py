r"""The last-iterate bound for SGD built on the weighted identity, its exact forms, the
peak that minimises it, and two closed forms that check it.

The bound (:func:`last_iterate_bound`) speaks about :math:`x_T`, the iterate reached by
the first ``T - 1`` updates; :math:`\eta_T` enters only as the weight of :math:`x_T`
in the identity, and must be positive.  With ``lrnotes.schedules``:
``lrs = sched(np.arange(T))`` is :math:`(\eta_1,\dots,\eta_T)`.

Contents
--------
bound_terms                bias and noise parts of the full / simplified bound (``G`` a
                           constant, or per-step bounds :math:`G_t` for the full form)
last_iterate_bound         their sum, for a batch of schedules, in O(T)
last_iterate_bound_exact   the bound in exact rational arithmetic, in three written forms
tune_peak                  the peak that minimises ``A/alpha + B alpha`` and the value
standard_shapes            the five peak-1 schedule shapes that Chapter 3 compares
linear_noise_sum           closed form of :math:`\sum_{k<T} \eta_k^2/\eta_{k+1:T}` for linear decay
quadratic_sgd_moments      exact mean and variance of SGD on :math:`\tfrac{\lambda}{2}\theta^2` with
                           Gaussian gradient noise (a linear recursion), and :math:`\mathbb{E}|\theta|`
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Sequence

import numpy as np

from lrnotes.schedules import _positive_real, _real  # checks shared with the schedules

from ._checks import FORMS, _form, _per_step_G, _weights
from .identity import suffix_sums

__all__ = ["FORMS", "bound_terms", "last_iterate_bound", "EXACT_FORMS", "last_iterate_bound_exact",
           "tune_peak", "standard_shapes", "linear_noise_sum", "QuadraticMoments", "quadratic_sgd_moments"]


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
        \mathbb{E}[f(x_T)-f_*] \le{}& \frac{D^2 + G^2\sum_{t=1}^T\eta_t^2}{2\,\eta_{1:T}} \\
        &+ \frac{G^2}{2}\sum_{k=1}^{T-1}\Big(\frac{1}{\eta_{k+1:T}}-\frac{1}{\eta_{k:T}}\Big)
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


# --------------------------------------------------------------------------- closed forms
def linear_noise_sum(T, alpha: float = 1.0):
    r"""Exact :math:`\sum_{k=1}^{T-1}\eta_k^2/\eta_{k+1:T}` for :math:`\eta_k=\alpha(1-k/(T+1))`.

    .. math::
        \sum_{k=1}^{T-1}\frac{\eta_k^2}{\eta_{k+1:T}}
        &= \frac{2\alpha}{T+1}\,\big(T - 1 + H_{T-1}\big) \\
        &= 2\alpha\Big(1 + \frac{H_{T-1} - 2}{T + 1}\Big), \qquad H_n = \sum_{j=1}^{n} \frac1j ,

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
    abs_mean: np.ndarray  #: the mean of :math:`|\theta_t|` (:math:`\theta_t` is Gaussian)


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
