"""Argument checks shared by the theory modules (errors name the argument and its range)."""

from __future__ import annotations

import numbers

import numpy as np

#: The two forms of the bound: ``"full"`` (any positive schedule) and ``"simplified"``
#: (an upper bound on ``"full"`` for non-increasing schedules).
FORMS = ("full", "simplified")


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


def _finite_array(name: str, x, shape: tuple, what: str, like: str, *, positive: bool = False) -> np.ndarray:
    """``x`` as a float array of exactly ``shape``, finite (and > 0 if ``positive``)."""
    try:
        arr = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be {what}") from exc
    if arr.shape != shape:
        raise ValueError(f"{name} must have shape {shape} like {like}, got {arr.shape}")
    if not np.all(np.isfinite(arr)) or (positive and np.any(arr <= 0)):
        raise ValueError(f"{name} must be finite{' and > 0' if positive else ''} everywhere (no nan or inf)")
    return arr


def _per_step_G(G, T: int):
    """``None`` for a scalar ``G`` (the constant bound); else the checked array of
    per-step bounds :math:`G_1..G_T`, shape ``(T,)``, finite and > 0."""
    if isinstance(G, numbers.Real) or np.ndim(G) == 0:
        return None
    return _finite_array("per-step G", G, (T,), "a number > 0 or an array of per-step bounds > 0",
                         "the schedule", positive=True)


def _check_q(q, T: int) -> np.ndarray:
    return _finite_array("q", q, (T,), "an array of finite numbers", "w")
