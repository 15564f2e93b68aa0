r"""The weighted identity: for weights :math:`w_1..w_T \ge 0` with :math:`w_T > 0`, any
:math:`q_1..q_T` satisfy :math:`q_T = \frac{1}{W_{1:T}}\sum_t w_tq_t + \sum_{k<T}
\bigl(\frac{1}{W_{k+1:T}} - \frac{1}{W_{k:T}}\bigr)\sum_{t\ge k} w_t(q_t - q_k)`.

Indexing follows the theory (and the papers): weights and learning rates are
:math:`w_1, \dots, w_T` / :math:`\eta_1, \dots, \eta_T`, stored in arrays whose *last*
axis has length ``T``; suffix sums are

.. math:: W_{k:T} = \sum_{t=k}^{T} w_t, \qquad \eta_{k:T} = \sum_{t=k}^{T} \eta_t .

Contents
--------
suffix_sums                :math:`W_{k:T}` for ``k = 1..T`` (vectorised)
identity_rhs               right-hand side of the weighted identity (float)
identity_residual          :math:`q_T - \text{rhs}` (should be round-off)
identity_rhs_exact         the same in exact rational arithmetic (``fractions.Fraction``)
identity_sympy             both sides as sympy expressions for symbolic ``T``-term checks

The bound built on it is in :mod:`lrnotes.theory.bounds`, the schedule that minimises
that bound in :mod:`lrnotes.theory.optimal`.
"""

from __future__ import annotations

import numbers
from fractions import Fraction
from typing import Sequence

import numpy as np

from ._checks import _check_q, _weights

__all__ = ["suffix_sums", "identity_rhs", "identity_residual", "identity_rhs_exact", "identity_sympy"]


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
