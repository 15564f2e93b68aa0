"""Correct answers in many styles, written from the task texts (not from the reference
solutions): for every check a solution notebook calls, at least two answers, each
passing on several seeds.

Styles vary on purpose: explicit loops vs vectorised NumPy, ``math`` vs ``numpy``,
lists, tuples, arrays and NumPy scalars as return values, closed forms vs numerical
solves or simulations, sympy vs numbers, and different (valid) validation orders.
"""

from __future__ import annotations

import bisect
import cmath
import math
import numbers
import operator
import os
import statistics

import numpy as np
import pytest

from lrnotes import grading as G

from .test_answer_bank import STEMS, notebook_checks

# Two seeds each (one for the slow checks: sympy, torch, an optimiser) keep the file near half a
# minute on one core (the reference solutions' seed sweep is in test_answer_bank.py);
# LRNOTES_STYLE_SEEDS=n adds seeds 3, 4, ... (all answers passed seeds 0..5).
_MORE = tuple(range(3, 3 + int(os.environ.get("LRNOTES_STYLE_SEEDS", "0"))))
SEEDS = (0, 1) + _MORE
FEW_SEEDS = (0,) + _MORE

ANSWERS: dict[str, list] = {}


def answer(check: str):
    """Register a correct answer for ``G.<check>``."""
    def register(fn):
        ANSWERS.setdefault(check, []).append(fn)
        return fn
    return register


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


# ================================================================ E1.1 build a schedule
@answer("check_linear_decay")
def linear_decay_numpy(k, T, alpha=1.0):
    if not _is_int(T) or T < 1:
        raise ValueError(f"T must be an integer >= 1, got {T!r}")
    if not np.isfinite(alpha) or alpha < 0:
        raise ValueError(f"alpha must be finite and >= 0, got {alpha!r}")
    ks = np.asarray(k)
    if np.any(ks < 1) or np.any(ks > T):
        raise ValueError(f"k must lie in 1..T = {T}")
    out = alpha * (1 - ks / (T + 1))
    return float(out) if ks.ndim == 0 else out


@answer("check_linear_decay")
def linear_decay_math(k, T, alpha=1.0):
    # alpha first, then T, then k; math for a number, numpy for an array
    alpha = float(alpha)
    if math.isnan(alpha) or math.isinf(alpha) or alpha < 0:
        raise ValueError("alpha must be a finite number >= 0")
    if type(T) is bool or not isinstance(T, numbers.Integral) or T < 1:
        raise ValueError("T must be an integer >= 1")
    T = operator.index(T)
    if isinstance(k, numbers.Number):
        if not 1 <= k <= T:
            raise ValueError("k must be in 1..T")
        return alpha * (T + 1 - k) / (T + 1)
    k = np.asarray(k, dtype=float)
    if k.size and (k.min() < 1 or k.max() > T):
        raise ValueError("k must be in 1..T")
    return alpha * (T + 1 - k) / (T + 1)


def _wsd_validate(total, peak, warmup, decay_frac, cooldown):
    if not _is_int(total) or total < 1:
        raise ValueError("total must be an integer >= 1")
    if not np.isfinite(peak) or peak < 0:
        raise ValueError("peak must be finite and >= 0")
    if not _is_int(warmup) or not 0 <= warmup < total:
        raise ValueError("warmup must be an integer in [0, total)")
    if not 0 < decay_frac <= 1:
        raise ValueError("decay_frac must be in (0, 1]")
    if total * (1 - decay_frac) < warmup:
        raise ValueError("decay_frac too large: the cooldown must start after the warmup")
    if cooldown not in ("linear", "cosine", "sqrt"):
        raise ValueError("cooldown must be 'linear', 'cosine' or 'sqrt'")


@answer("check_wsd")
def wsd_numpy(t, total, peak=1.0, warmup=0, decay_frac=0.1, cooldown="linear"):
    _wsd_validate(total, peak, warmup, decay_frac, cooldown)
    ts = np.asarray(t, dtype=float)
    if np.any(ts < 0) or np.any(np.isnan(ts)):
        raise ValueError("t must be >= 0")
    td = total * (1 - decay_frac)
    p = np.clip((ts - td) / (decay_frac * total), 0.0, 1.0)
    shape = {"linear": lambda p: 1 - p, "cosine": lambda p: 0.5 * (1 + np.cos(np.pi * p)),
             "sqrt": lambda p: 1 - np.sqrt(p)}[cooldown](p)
    warm = np.minimum(1.0, ts / warmup) if warmup > 0 else 1.0
    out = peak * warm * shape
    return float(out) if ts.ndim == 0 else out


@answer("check_wsd")
def wsd_loop(t, total, peak=1.0, warmup=0, decay_frac=0.1, cooldown="linear"):
    """One step at a time with math (a loop over the elements: allowed here)."""
    # a different order: cooldown and decay first
    if cooldown not in {"linear", "cosine", "sqrt"}:
        raise ValueError(f"unknown cooldown {cooldown!r}")
    if not (decay_frac > 0 and decay_frac <= 1):
        raise ValueError("decay_frac must satisfy 0 < decay_frac <= 1")
    if isinstance(total, bool) or not isinstance(total, numbers.Integral) or total < 1:
        raise ValueError("total must be an integer >= 1")
    if not (math.isfinite(peak) and peak >= 0):
        raise ValueError("peak must be finite, >= 0")
    if isinstance(warmup, bool) or not isinstance(warmup, numbers.Integral) or warmup < 0 or warmup >= total:
        raise ValueError("warmup must be an integer, 0 <= warmup < total")
    t_d = total * (1 - decay_frac)
    if t_d < warmup:
        raise ValueError("decay_frac: the cooldown must fit after the warmup")

    def one(s):
        if not s >= 0:
            raise ValueError("t must be >= 0")
        p = min(1.0, max(0.0, (s - t_d) / (decay_frac * total)))
        if cooldown == "linear":
            c = 1 - p
        elif cooldown == "cosine":
            c = (1 + math.cos(math.pi * p)) / 2
        else:
            c = 1 - math.sqrt(p)
        w = 1.0 if warmup == 0 else min(1.0, s / warmup)
        return peak * w * c

    if np.ndim(t) == 0:
        return one(float(t))
    arr = np.asarray(t, dtype=float)
    return np.array([one(s) for s in arr.ravel()]).reshape(arr.shape)


@answer("check_largest_jump")
def largest_jump_loop(schedule, T):
    best_t, best = None, None
    prev = schedule(0)
    for t in range(1, T + 1):
        cur = schedule(t)
        d = cur - prev
        if best is None or abs(d) > abs(best):
            best_t, best = t, d
        prev = cur
    return best_t, best


@answer("check_largest_jump")
def largest_jump_numpy(schedule, T):
    values = np.array([schedule(t) for t in range(T + 1)], dtype=float)
    deltas = np.diff(values)
    i = int(np.argmax(np.abs(deltas)))  # the first on ties
    return [i + 1, deltas[i]]


@answer("check_fixed_wsd_schedule")
def fixed_wsd_branches(step):
    T, warmup, stable, decay = 20000, 1000, 17000, 2000
    if step < warmup:
        return step / warmup
    if step < warmup + stable:
        return 1.0
    return max(0.0, (T - step) / decay)


@answer("check_fixed_wsd_schedule")
def fixed_wsd_minimum(step):
    """The three phases as one expression: min(warmup ramp, 1, cooldown ramp), >= 0."""
    return max(0.0, min(step / 1000, 1.0, (20000 - step) / 2000))


# ================================================================ E1.2 cosine and restarts
@answer("check_cosine")
def cosine_numpy(t, total, peak=1.0, floor=0.0):
    if not _is_int(total) or total < 1:
        raise ValueError("total must be an integer >= 1")
    if not np.isfinite(peak) or peak < 0:
        raise ValueError("peak must be finite and >= 0")
    if not np.isfinite(floor) or not 0 <= floor <= peak:
        raise ValueError("floor must be finite with 0 <= floor <= peak")
    ts = np.asarray(t, dtype=float)
    if not np.all(ts >= 0):
        raise ValueError("t must be >= 0")
    out = floor + 0.5 * (peak - floor) * (1 + np.cos(np.pi * np.minimum(ts, total) / total))
    return out.item() if ts.ndim == 0 else out


@answer("check_cosine")
def cosine_math(t, total, peak=1.0, floor=0.0):
    for name, v in (("peak", peak), ("floor", floor)):
        if not math.isfinite(v):
            raise ValueError(f"{name} must be finite")
    if peak < 0:
        raise ValueError("peak must be >= 0")
    if floor < 0 or floor > peak:
        raise ValueError("floor must be in [0, peak]")
    if type(total) is bool or not isinstance(total, numbers.Integral) or total < 1:
        raise ValueError("total must be an integer >= 1")
    if isinstance(t, numbers.Real):
        if not t >= 0:
            raise ValueError("t must be >= 0")
        return floor + (peak - floor) * (1 + math.cos(math.pi * min(t, total) / total)) / 2
    arr = np.array(t, dtype=float)
    if (arr < 0).any() or np.isnan(arr).any():
        raise ValueError("t must be >= 0")
    return floor + (peak - floor) * (1 + np.cos(math.pi * np.minimum(arr, total) / total)) / 2


def _sgdr_validate(period, mult, peak, floor):
    if not (math.isfinite(period) and period > 0):
        raise ValueError("period must be finite and > 0")
    if not (math.isfinite(mult) and mult >= 1):
        raise ValueError("mult must be finite and >= 1")
    if not (math.isfinite(peak) and peak >= 0):
        raise ValueError("peak must be finite and >= 0")
    if not (math.isfinite(floor) and 0 <= floor <= peak):
        raise ValueError("floor must be in [0, peak]")


@answer("check_sgdr")
def sgdr_log(t, period, mult=1.0, peak=1.0, floor=0.0):
    """Cycle index by a logarithm, repaired on both sides with np.where."""
    _sgdr_validate(period, mult, peak, floor)
    ts = np.asarray(t, dtype=float)
    if not np.all(ts >= 0):
        raise ValueError("t must be >= 0")

    def start(i):
        return i * period if mult == 1 else period * (mult**i - 1) / (mult - 1)

    if mult == 1:
        i = np.floor(ts / period)
    else:
        i = np.floor(np.log1p(ts * (mult - 1) / period) / np.log(mult))
    i = np.where(start(i) > ts, i - 1, i)
    i = np.where(start(i + 1) <= ts, i + 1, i)
    s, length = start(i), period * mult**i
    out = floor + 0.5 * (peak - floor) * (1 + np.cos(np.pi * (ts - s) / length))
    return float(out) if ts.ndim == 0 else out


@answer("check_sgdr")
def sgdr_searchsorted(t, period, mult=1.0, peak=1.0, floor=0.0):
    """The cycle starts s_i as a table (a loop over the cycles, not the steps), then
    np.searchsorted for every step at once."""
    if not math.isfinite(mult) or mult < 1:
        raise ValueError("mult must be finite and >= 1")
    if not math.isfinite(period) or period <= 0:
        raise ValueError("period must be finite and > 0")
    if not math.isfinite(peak) or peak < 0:
        raise ValueError("peak must be finite and >= 0")
    if not math.isfinite(floor) or floor < 0 or floor > peak:
        raise ValueError("floor must lie in [0, peak]")
    ts = np.asarray(t, dtype=float)
    if ts.size and not ts.min() >= 0:
        raise ValueError("t must be >= 0")
    top = float(ts.max()) if ts.size else 0.0
    if mult == 1:
        n = int(top // period) + 2
        starts = period * np.arange(n, dtype=float)
    else:
        n = int(math.log1p(top * (mult - 1) / period) / math.log(mult)) + 3
        starts = period * (mult ** np.arange(n, dtype=float) - 1) / (mult - 1)
    i = np.searchsorted(starts, ts, side="right") - 1
    lengths = period * mult ** i.astype(float)
    out = floor + (peak - floor) * (1 + np.cos(np.pi * (ts - starts[i]) / lengths)) / 2
    return out[()] if ts.ndim == 0 else out


@answer("check_restart_steps")
def restart_steps_loop(period, mult, upto):
    steps, s, length = [], period, period * mult
    while s < upto:  # s_1, s_2, ...
        step = math.ceil(s)
        if step >= upto:
            break
        if step > 0 and (not steps or steps[-1] != step):
            steps.append(step)
        s, length = s + length, length * mult
    return steps


@answer("check_restart_steps")
def restart_steps_closed_form(period, mult, upto):
    if mult == 1:
        i = np.arange(1, int(upto / period) + 2)
        s = i * period
    else:
        n = int(math.log1p(upto * (mult - 1) / period) / math.log(mult)) + 2
        i = np.arange(1, n + 1)
        s = period * (mult ** i.astype(float) - 1) / (mult - 1)
    steps = np.unique(np.ceil(s).astype(np.int64))
    return steps[(steps > 0) & (steps < upto)]


# ================================================================ E1.3 double well
def _check_a(a):
    if not (math.isfinite(a) and a > 0):
        raise ValueError("a must be finite and > 0")


@answer("check_critical_points")
def critical_points_roots(a, b):
    _check_a(a)
    if not math.isfinite(b):
        raise ValueError("b must be finite")
    r = np.roots([4.0, 0.0, -4.0 * a, b])
    real = r[np.abs(r.imag) <= 1e-9 * max(1.0, np.abs(r).max())].real
    return np.sort(real)


def _cubic_trig(a, b):
    """Real roots of theta^3 - a theta + b/4 (Cardano / Viete), sorted."""
    p, q = -a, b / 4
    disc = 4 * p**3 + 27 * q**2
    if disc < 0:
        m = 2 * math.sqrt(-p / 3)
        phi = math.acos(max(-1.0, min(1.0, 3 * q / (p * m))))
        return sorted(m * math.cos(phi / 3 - 2 * math.pi * k / 3) for k in range(3))
    s = math.sqrt(disc / 108)
    return [np.cbrt(-q / 2 + s) + np.cbrt(-q / 2 - s)]


@answer("check_critical_points")
def critical_points_cardano(a, b):
    if not np.isfinite(b):  # b first, then a
        raise ValueError("b must be finite")
    if not np.isfinite(a) or a <= 0:
        raise ValueError("a must be finite and > 0")
    return np.array(_cubic_trig(a, b))


def _f(x, a, b):
    return x**4 - 2 * a * x**2 + b * x


@answer("check_barrier_heights")
def barrier_heights_roots(a, b):
    _check_a(a)
    if not math.isfinite(b):
        raise ValueError("b must be finite")
    r = np.roots([4.0, 0.0, -4.0 * a, b])
    if np.any(np.abs(r.imag) > 1e-12):
        raise ValueError("b too large: one well only, no barrier")
    lo, top, hi = np.sort(r.real)
    return _f(top, a, b) - _f(lo, a, b), _f(top, a, b) - _f(hi, a, b)


@answer("check_barrier_heights")
def barrier_heights_limit(a, b):
    """Two wells iff |b| < b_c(a) = (8a/3) sqrt(a/3); roots in closed form."""
    if not np.isfinite(a) or a <= 0:
        raise ValueError("a must be finite and > 0")
    if not np.isfinite(b) or abs(b) >= 8 * a / 3 * math.sqrt(a / 3):
        raise ValueError(f"b = {b}: a single well (|b| >= b_c), no barrier")
    lo, top, hi = _cubic_trig(a, b)
    return [float(_f(top, a, b) - _f(lo, a, b)), float(_f(top, a, b) - _f(hi, a, b))]


@answer("check_two_well_limit")
def two_well_limit_math(a):
    if not (a > 0 and math.isfinite(a)):
        raise ValueError("a must be > 0")
    return 8 * a / 3 * math.sqrt(a / 3)


@answer("check_two_well_limit")
def two_well_limit_sympy(a):
    import sympy as sp

    if not a > 0 or not np.isfinite(a):
        raise ValueError("a must be > 0")
    th, A, B = sp.symbols("theta A B", positive=True)
    fp = 4 * th**3 - 4 * A * th + B
    sol = sp.solve([fp, sp.diff(fp, th)], [th, B], dict=True)
    bc = max(s[B] for s in sol if s[B].subs(A, 1).is_positive)
    return float(bc.subs(A, sp.nsimplify(a) if isinstance(a, int) else a))


@answer("check_two_well_limit")
def two_well_limit_numpy_scalar(a):
    a = np.float64(a)
    if not np.isfinite(a) or a <= 0:
        raise ValueError("a must be > 0")
    theta = np.sqrt(a / 3)  # f'' = 0
    return 4 * a * theta - 4 * theta**3  # the b with f'(theta) = 0 there: a numpy scalar


# ================================================================ E1.4 critical learning rate
@answer("check_critical_lr")
def critical_lr_eigvalsh(H):
    H = np.array(H, dtype=float)  # a copy
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.size == 0:
        raise ValueError("H must be a square matrix")
    if not np.all(np.isfinite(H)):
        raise ValueError("H must be finite")
    if not np.allclose(H, H.T):
        raise ValueError("H must be symmetric")
    ev = np.linalg.eigvalsh(H)
    if ev[0] <= 1e-12 * ev[-1] or ev[-1] <= 0:
        raise ValueError("H must be positive definite")
    return 2 / ev[-1]


@answer("check_critical_lr")
def critical_lr_eig_math(H):
    try:
        M = np.asarray(H, dtype=float)
    except (TypeError, ValueError):
        raise ValueError("H must be a numeric matrix") from None
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError(f"H must be square, got shape {M.shape}")
    if not np.isfinite(M).all():
        raise ValueError("H must be finite")
    if np.abs(M - M.T).max() > 1e-10 * max(1.0, np.abs(M).max()):
        raise ValueError("H must be symmetric")
    w = np.linalg.eigh(M)[0]
    lo, L = float(min(w)), float(max(w))
    if not (L > 0 and lo > 1e-12 * L):
        raise ValueError("H must be positive definite (not singular)")
    return 2.0 / L


@answer("check_final_norms")
def final_norms_rows(H, etas, x0, n_steps):
    H = np.asarray(H, float)
    etas = np.asarray(etas, float)
    X = np.tile(np.asarray(x0, float), (etas.size, 1))
    for _ in range(n_steps):
        X = X - etas[:, None] * (X @ H)
    return np.linalg.norm(X, axis=1)


@answer("check_final_norms")
def final_norms_eigen(H, etas, x0, n_steps):
    """Closed form: coordinate i is multiplied by (1 - eta lambda_i)^n."""
    lam, U = np.linalg.eigh(np.asarray(H, float))
    c = U.T @ np.asarray(x0, float)
    factors = (1 - np.outer(np.asarray(etas, float), lam)) ** n_steps
    with np.errstate(over="ignore", invalid="ignore"):
        return np.sqrt(np.sum((factors * c) ** 2, axis=1))


@answer("check_empirical_threshold")
def empirical_threshold_vectorised(H, etas, x0, n_steps):
    norms = final_norms_rows(H, etas, x0, n_steps)
    above = np.flatnonzero(norms > np.linalg.norm(x0))
    return float(np.asarray(etas)[above[0]]) if above.size else np.inf


@answer("check_empirical_threshold")
def empirical_threshold_loop(H, etas, x0, n_steps):
    H, x0 = np.asarray(H, float), np.asarray(x0, float)
    start = math.sqrt(float(x0 @ x0))
    for eta in etas:  # ascending: the first one that grows
        x = x0.copy()
        for _ in range(n_steps):
            x = x - eta * (H @ x)
        if np.linalg.norm(x) > start:
            return eta
    return math.inf


@answer("check_log_growth")
def log_growth_numpy(lrs, eigenvalues):
    f = 1 - np.outer(np.asarray(lrs, float), np.asarray(eigenvalues, float))
    with np.errstate(divide="ignore"):
        return np.log(np.abs(f)).sum(axis=0)


@answer("check_log_growth")
def log_growth_loop(lrs, eigenvalues):
    out = []
    for lam in np.asarray(eigenvalues, float).ravel():
        g = 0.0
        for eta in np.asarray(lrs, float).ravel():
            factor = abs(1 - eta * lam)
            if factor == 0:
                g = -math.inf
                break
            g += math.log(factor)
        out.append(g)
    return np.array(out)


# ================================================================ E1.5 momentum threshold
def _spd_top(H):
    M = np.array(H, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.size == 0 or not np.isfinite(M).all():
        raise ValueError("H must be a finite square matrix")
    if not np.allclose(M, M.T):
        raise ValueError("H must be symmetric")
    ev = np.linalg.eigvalsh(M)
    if not ev[-1] > 0 or ev[0] <= 1e-12 * ev[-1]:
        raise ValueError("H must be positive definite")
    return ev[-1]


@answer("check_heavy_ball_critical_lr")
def heavy_ball_critical_lr_beta_first(H, beta):
    if not 0 <= beta < 1:
        raise ValueError("beta must be in [0, 1)")
    return 2 * (1 + beta) / _spd_top(H)


@answer("check_heavy_ball_critical_lr")
def heavy_ball_critical_lr_cholesky(H, beta):
    """H first (Cholesky for definiteness, then the eigenvalue test), then beta."""
    M = np.asarray(H, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.shape[0] == 0:
        raise ValueError("H must be square")
    if not np.all(np.isfinite(M)) or not np.array_equal(M, M.T) and not np.allclose(M, M.T):
        raise ValueError("H must be finite and symmetric")
    try:
        np.linalg.cholesky(M)
    except np.linalg.LinAlgError:
        raise ValueError("H must be positive definite") from None
    ev = np.linalg.eigvalsh(M)
    if ev[0] <= 1e-12 * ev[-1]:
        raise ValueError("H must be positive definite (it is singular)")
    if not (math.isfinite(beta) and 0 <= beta < 1):
        raise ValueError("beta must satisfy 0 <= beta < 1")
    return float(2 * (1 + beta) / ev[-1])


@answer("check_spectral_radius")
def spectral_radius_complex_sqrt(eta, lam, beta):
    c = 1 + beta - np.asarray(eta, float) * lam
    s = np.sqrt(c.astype(complex) ** 2 - 4 * beta)
    return np.maximum(np.abs((c + s) / 2), np.abs((c - s) / 2))


@answer("check_spectral_radius")
def spectral_radius_cases(eta, lam, beta):
    """The two cases of the task: real roots (c^2 >= 4 beta) or modulus sqrt(beta)."""
    eta = np.asarray(eta, dtype=float)
    out = np.empty(eta.shape)
    for idx, e in np.ndenumerate(eta):
        c = 1 + beta - e * lam
        d = c * c - 4 * beta
        out[idx] = (abs(c) + math.sqrt(d)) / 2 if d >= 0 else math.sqrt(beta)
    return out


@answer("check_heavy_ball_norms")
def heavy_ball_norms_rows(H, etas, beta, x0, n_steps):
    H = np.asarray(H, float)
    e = np.asarray(etas, float)[:, None]
    X = np.tile(np.asarray(x0, float), (e.shape[0], 1))
    P = X.copy()
    for _ in range(n_steps):
        X, P = X - e * (X @ H) + beta * (X - P), X
    return np.linalg.norm(X, axis=1)


@answer("check_heavy_ball_norms")
def heavy_ball_norms_per_eta(H, etas, beta, x0, n_steps):
    H = np.asarray(H, float)
    out = []
    for eta in etas:
        prev = x = np.array(x0, dtype=float)
        for _ in range(n_steps):
            x, prev = x - eta * H @ x + beta * (x - prev), x
        out.append(math.sqrt(float(np.dot(x, x))))
    return np.array(out)


# ================================================================ E1.6 batch size and noise
@answer("check_stationary_variance")
def stationary_variance_numpy(eta, lam, sigma2, B):
    if not lam > 0:
        raise ValueError("lam must be > 0")
    if not sigma2 >= 0:
        raise ValueError("sigma2 must be >= 0")
    if not _is_int(B) or B < 1:
        raise ValueError("B must be an integer >= 1")
    e = np.asarray(eta, dtype=float)
    if np.any(~((e > 0) & (e < 2 / lam))):
        raise ValueError("eta must be in (0, 2/lam)")
    out = e * sigma2 / (B * lam * (2 - e * lam))
    return float(out) if e.ndim == 0 else out


@answer("check_stationary_variance")
def stationary_variance_fixed_point(eta, lam, sigma2, B):
    """V = (eta^2 sigma2 / B) / (1 - a^2), a = 1 - eta lam."""
    if isinstance(B, bool) or not isinstance(B, numbers.Integral) or B < 1:
        raise ValueError("B must be an integer >= 1")
    if not math.isfinite(lam) or lam <= 0:
        raise ValueError("lam must be > 0")
    if not math.isfinite(sigma2) or sigma2 < 0:
        raise ValueError("sigma2 must be >= 0")
    if np.ndim(eta) == 0:
        if not 0 < eta < 2 / lam:
            raise ValueError("eta must lie in (0, 2/lam)")
        a = 1 - eta * lam
        return eta**2 * sigma2 / B / (1 - a * a)
    eta = np.asarray(eta, float)
    if not np.all((0 < eta) & (eta < 2 / lam)):
        raise ValueError("eta must lie in (0, 2/lam)")
    a = 1 - eta * lam
    return eta**2 * sigma2 / B / (1 - a**2)


@answer("check_equal_noise_lr")
def equal_noise_lr_closed_form(eta, B, B_new, lam):
    r = eta / (B * (2 - eta * lam))  # eta' / (B' (2 - eta' lam)) = r
    return 2 * B_new * r / (1 + B_new * r * lam)


@answer("check_equal_noise_lr")
def equal_noise_lr_brentq(eta, B, B_new, lam):
    from scipy.optimize import brentq

    target = eta / (B * (2 - eta * lam))
    def gap(e):
        return e / (B_new * (2 - e * lam)) - target
    hi = 2 / lam
    return brentq(gap, 0.0, hi * (1 - 1e-15), xtol=1e-15, rtol=4 * np.finfo(float).eps, maxiter=500)


@answer("check_simulated_variance")
def simulated_variance_scaled_normal(eta, lam, sigma2, B, n_steps, n_seeds, rng):
    theta = np.zeros(n_seeds)
    sd = math.sqrt(sigma2 / B)
    for _ in range(n_steps):
        theta -= eta * (lam * theta + rng.normal(0.0, sd, size=n_seeds))
    return theta.var()


@answer("check_simulated_variance")
def simulated_variance_recursion(eta, lam, sigma2, B, n_steps, n_seeds, rng):
    """theta <- a theta - eta xi, the sample variance with ddof=1, returned as a 0-d array."""
    a = 1 - eta * lam
    theta = np.zeros(n_seeds)
    for _ in range(n_steps):
        theta = a * theta - eta * np.sqrt(sigma2 / B) * rng.standard_normal(n_seeds)
    return np.asarray(np.sum((theta - theta.mean()) ** 2) / (n_seeds - 1))


# ================================================================ E1.7 Adam with a scheduled beta1
def _check_betas(grads, beta1s):
    b = np.asarray(beta1s, float)
    if b.ndim != 1 or b.shape[0] != np.shape(grads)[0]:
        raise ValueError("beta1s must have one value per step")
    if not np.all((b >= 0) & (b < 1)):
        raise ValueError("beta1s must be in [0, 1)")
    return b


@answer("check_first_moment")
def first_moment_loop(grads, beta1s):
    b = _check_betas(grads, beta1s)
    g = np.asarray(grads, float)
    m = np.zeros(g.shape[1:])
    out = np.empty_like(g)
    for t in range(g.shape[0]):
        m = b[t] * m + (1 - b[t]) * g[t]
        out[t] = m
    return out


@answer("check_first_moment")
def first_moment_weights(grads, beta1s):
    """m = W g with the unrolled weights w_ts = (1 - b_s) prod_{s < r <= t} b_r."""
    g = np.asarray(grads, dtype=float)
    b = np.asarray(beta1s, dtype=float)
    if b.shape != (len(g),):
        raise ValueError(f"beta1s must have shape ({len(g)},), one per step")
    if np.isnan(b).any() or b.min(initial=0.0) < 0 or b.max(initial=0.0) >= 1:
        raise ValueError("every beta1s[t] must lie in [0, 1)")
    T = len(b)
    W = np.zeros((T, T))
    for s in range(T):
        W[s:, s] = (1 - b[s]) * np.cumprod(np.concatenate([[1.0], b[s + 1:]]))
    return np.tensordot(W, g, axes=1)


@answer("check_bias_correction")
def bias_correction_cumprod(beta1s):
    return 1 - np.cumprod(np.asarray(beta1s, dtype=float))


@answer("check_bias_correction")
def bias_correction_list(beta1s):
    out, prod = [], 1.0
    for b in beta1s:
        prod *= b
        out.append(1 - prod)
    return out


@answer("check_corrected_moment")
def corrected_moment_divide(grads, beta1s):
    m = first_moment_loop(grads, beta1s)
    c = bias_correction_cumprod(beta1s)
    return m / c.reshape((-1,) + (1,) * (m.ndim - 1))


@answer("check_corrected_moment")
def corrected_moment_running(grads, beta1s):
    """m and c side by side: c follows the same recursion with g = 1."""
    g = np.asarray(grads, float)
    b = _check_betas(g, beta1s)
    m, c = np.zeros_like(g[0]), 0.0
    rows = []
    for t in range(len(g)):
        m = b[t] * m + (1 - b[t]) * g[t]
        c = b[t] * c + (1 - b[t])
        rows.append(m / c)
    return np.stack(rows)


# ================================================================ E2.1 Euler-Lagrange
@answer("check_euler_lagrange")
def euler_lagrange_direct(L, S, t):
    import sympy as sp

    return sp.diff(L, S(t)) - sp.diff(sp.diff(L, S(t).diff(t)), t)


@answer("check_euler_lagrange")
def euler_lagrange_sympy_builtin(L, S, t):
    from sympy.calculus.euler import euler_equations

    (eq,) = euler_equations(L, S(t), t)
    return eq.lhs - eq.rhs


@answer("check_euler_lagrange")
def euler_lagrange_symbols(L, S, t):
    """Replace S and S' by plain symbols, differentiate, put them back."""
    import sympy as sp

    s, sd = sp.symbols("s_ sd_")
    plain = L.subs(S(t).diff(t), sd).subs(S(t), s)
    back = {s: S(t), sd: S(t).diff(t)}
    dS = sp.diff(plain, s).subs(back)
    dSd = sp.diff(plain, sd).subs(back)
    return dS - sp.diff(dSd, t)


def _rational_p(p):
    import sympy as sp

    p = sp.nsimplify(p) if not isinstance(p, sp.Basic) else p
    if p == -2:
        raise ValueError("p = -2: no power (T - t)^k solves the equation")
    return p


@answer("check_power_exponent")
def power_exponent_closed_form(p):
    """p S'^2 + 2 S S'' = 0 with S = u^k gives k (p k + 2k - 2) = 0."""
    import sympy as sp

    p = _rational_p(p)
    return sp.Integer(2) / (p + 2)


@answer("check_power_exponent")
def power_exponent_ansatz(p):
    import sympy as sp

    p = _rational_p(p)
    t, T, k = sp.symbols("t T k")
    u = sp.Symbol("u", positive=True)
    S = sp.Function("S")
    expr = euler_lagrange_direct(S(t) ** p * S(t).diff(t) ** 2, S, t)
    ansatz = (T - t) ** k
    expr = expr.subs(S(t), ansatz).doit().subs(T, t + u)
    reduced = sp.simplify(sp.powsimp(sp.expand(expr / u ** (k * p + k - 2)), force=True))
    roots = [r for r in sp.solve(reduced, k) if r != 0]
    (root,) = roots
    return sp.nsimplify(root)


@answer("check_optimal_eta")
def optimal_eta_closed_form(t, T, D, G):
    """c* = D / (2 G T^(3/2)), eta* = 2 c* (T - t)."""
    import sympy as sp

    return D * (T - t) / (G * T ** sp.Rational(3, 2))


@answer("check_optimal_eta")
def optimal_eta_sympy(t, T, D, G):
    import sympy as sp

    c = sp.Symbol("c", positive=True)
    S = c * (T - t) ** 2
    eta = -sp.diff(S, t)
    J = D**2 / (2 * S.subs(t, 0)) + G**2 / 2 * sp.integrate(sp.simplify(eta**2 / S), (t, 0, T))
    (c_star,) = sp.solve(sp.diff(J, c), c)
    return sp.simplify(eta.subs(c, c_star))


# ================================================================ E2.2 the best power
@answer("check_remaining_budget")
def remaining_budget_definite(eta, t, T):
    import sympy as sp

    tau = sp.Dummy("tau", positive=True)
    return sp.integrate(eta.subs(t, tau), (tau, t, T))


@answer("check_remaining_budget")
def remaining_budget_antiderivative(eta, t, T):
    """F(T) - F(t) for an antiderivative F."""
    import sympy as sp

    x = sp.Dummy("x")
    F = sp.integrate(eta.subs(t, x), x)
    return sp.simplify(F.subs(x, T) - F.subs(x, t))


@answer("check_functional_J")
def functional_J_simplify(eta, t, T, D, G):
    import sympy as sp

    S = remaining_budget_definite(eta, t, T)
    return D**2 / (2 * S.subs(t, 0)) + G**2 / 2 * sp.integrate(sp.simplify(eta**2 / S), (t, 0, T))


@answer("check_functional_J")
def functional_J_substituted(eta, t, T, D, G):
    """The integral in the remaining time u = T - t."""
    import sympy as sp

    u = sp.Dummy("u", positive=True)
    S = remaining_budget_antiderivative(eta, t, T)
    integrand = sp.simplify((eta**2 / S).subs(t, T - u))
    return D**2 / (2 * sp.simplify(S.subs(t, 0))) + G**2 * sp.integrate(integrand, (u, 0, T)) / 2


@answer("check_best_scale")
def best_scale_closed_form(m, D, G, T):
    """J(c) = D^2 (m+1) / (2 c T) + G^2 c (m+1) / (2 m)."""
    import sympy as sp

    m = sp.nsimplify(m)
    return D / G * sp.sqrt(m / T), D * G * (m + 1) / sp.sqrt(m * T)


@answer("check_best_scale")
def best_scale_sympy(m, D, G, T):
    import sympy as sp

    t = sp.Symbol("t", positive=True)
    c = sp.Symbol("c", positive=True)
    J = functional_J_simplify(c * (1 - t / T) ** sp.nsimplify(m), t, T, D, G)
    (c_star,) = [s for s in sp.solve(sp.diff(J, c), c) if s.is_positive is not False]
    return [sp.simplify(c_star), sp.simplify(J.subs(c, c_star))]


# ================================================================ E3.1 weighted identity
def _identity_validate(w, q):
    if len(w) != len(q):
        raise ValueError("w and q must have the same length")
    if len(w) == 0:
        raise ValueError("w and q must not be empty")
    if any(x < 0 for x in w):
        raise ValueError("w: weights must be >= 0")
    if not w[-1] > 0:
        raise ValueError("w: the last weight must be > 0")


@answer("check_identity_terms")
def identity_terms_double_sum(w, q):
    """The formula as written: O(T^2)."""
    w, q = list(w), list(q)
    _identity_validate(w, q)
    T = len(w)
    terms = [sum(a * b for a, b in zip(w, q)) / sum(w)]
    for k in range(T - 1):  # k = 1..T-1 in 0-based form
        inner = sum(w[t] * (q[t] - q[k]) for t in range(k, T))
        terms.append((1 / sum(w[k + 1:]) - 1 / sum(w[k:])) * inner)
    return terms


@answer("check_identity_terms")
def identity_terms_suffix(w, q):
    """Suffix sums and w_k / (W_k W_{k+1}); validation of w before the lengths."""
    w, q = list(w), list(q)
    if any(x < 0 for x in w) or (w and not w[-1] > 0):
        raise ValueError("w must be >= 0 with a positive last weight")
    if not w or len(w) != len(q):
        raise ValueError("w and q must have the same, non-zero length")
    T = len(w)
    W, A = [0] * (T + 1), [0] * (T + 1)
    for k in range(T - 1, -1, -1):
        W[k] = W[k + 1] + w[k]
        A[k] = A[k + 1] + w[k] * q[k]
    terms = [A[0] / W[0]]
    for k in range(T - 1):
        terms.append(w[k] * (A[k] - q[k] * W[k]) / (W[k] * W[k + 1]))
    return terms


def _identity_fast_validate(w, q):
    if w.ndim != 1 or q.ndim != 1 or w.shape != q.shape:
        raise ValueError("w and q must be 1-D of the same length")
    if w.size == 0:
        raise ValueError("w must not be empty")
    if np.any(w < 0) or not w[-1] > 0:
        raise ValueError("w must be >= 0 with w[-1] > 0")


@answer("check_identity_terms_fast")
def identity_terms_fast_cumsum(w, q):
    w, q = np.asarray(w, np.float64), np.asarray(q, np.float64)
    _identity_fast_validate(w, q)
    W = np.cumsum(w[::-1])[::-1]
    A = np.cumsum((w * q)[::-1])[::-1]
    head = A[0] / W[0]
    rest = w[:-1] * (A[:-1] - q[:-1] * W[:-1]) / (W[:-1] * W[1:])
    return np.concatenate([[head], rest])


@answer("check_identity_terms_fast")
def identity_terms_fast_accumulate(w, q):
    """np.add.accumulate of the flipped arrays, a zero appended for W_{T+1:T}."""
    q = np.array(q, dtype="f8")
    w = np.array(w, dtype="f8")
    if len(w) != len(q) or len(w) == 0:
        raise ValueError("w and q must have the same non-zero length")
    if (w < 0).any() or w[-1] <= 0:
        raise ValueError("w: weights >= 0, the last one > 0")
    W = np.append(np.flip(np.add.accumulate(np.flip(w))), 0.0)
    A = np.flip(np.add.accumulate(np.flip(w * q)))
    out = np.empty(len(w))
    out[0] = A[0] / W[0]
    k = np.arange(len(w) - 1)
    out[1:] = w[k] / (W[k] * W[k + 1]) * (A[k] - q[k] * W[k])
    return out


# ================================================================ E3.2 last-iterate bound
def _bound_parts(lrs, D, G):
    """(A, B): the D^2 part and the G^2 part of the bound, along the last axis."""
    E = np.cumsum(lrs[..., ::-1], axis=-1)[..., ::-1]
    Q = np.cumsum((lrs**2)[..., ::-1], axis=-1)[..., ::-1]
    first_noise = G**2 * Q[..., 0] / (2 * E[..., 0])
    corr = lrs[..., :-1] / (E[..., :-1] * E[..., 1:]) * Q[..., :-1]
    return D**2 / (2 * E[..., 0]), first_noise + G**2 / 2 * corr.sum(axis=-1)


def _bound_validate(lrs, D, G):
    x = np.asarray(lrs, dtype=float)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError("lrs must be 1-D or 2-D")
    if not np.all(np.isfinite(x)) or np.any(x < 0) or np.any(x[..., -1] <= 0):
        raise ValueError("lrs must be finite, >= 0, with a positive last entry")
    if not D > 0:
        raise ValueError("D must be > 0")
    if not G > 0:
        raise ValueError("G must be > 0")
    return x


@answer("check_last_iterate_bound")
def last_iterate_bound_vectorised(lrs, D=1.0, G=1.0):
    x = _bound_validate(lrs, D, G)
    A, B = _bound_parts(x, D, G)
    out = A + B
    return float(out) if x.ndim == 1 else out


@answer("check_last_iterate_bound")
def last_iterate_bound_rows(lrs, D=1.0, G=1.0):
    """One schedule at a time, the correction with 1/E_{k+1} - 1/E_k; D and G first."""
    if not (math.isfinite(D) and D > 0):
        raise ValueError("D must be a positive number")
    if not (math.isfinite(G) and G > 0):
        raise ValueError("G must be a positive number")
    x = np.asarray(lrs, dtype=float)
    if x.ndim not in (1, 2) or x.shape[-1] < 1:
        raise ValueError("lrs must have shape (T,) or (n, T)")
    if not np.isfinite(x).all() or (x < 0).any() or (x[..., -1] <= 0).any():
        raise ValueError("lrs must be finite and >= 0 with lrs[..., -1] > 0")

    def one(eta):
        E = np.flip(np.cumsum(np.flip(eta)))
        Q = np.flip(np.cumsum(np.flip(eta * eta)))
        inv = 1.0 / E
        corr = np.dot(inv[1:] - inv[:-1], Q[:-1])
        return (D * D + G * G * Q[0]) / (2 * E[0]) + G * G / 2 * corr

    if x.ndim == 1:
        return one(x)
    return np.array([one(row) for row in x])


@answer("check_tuned_bound")
def tuned_bound_parts(shape, D=1.0, G=1.0):
    A, B = _bound_parts(_bound_validate(shape, D, G), D, G)
    return math.sqrt(A / B), 2 * math.sqrt(A * B)


@answer("check_tuned_bound")
def tuned_bound_two_evaluations(shape, D=1.0, G=1.0):
    """bound(s) = A + B and bound(2 s) = A/2 + 2B fix A and B."""
    s = np.asarray(shape, float)
    b1 = last_iterate_bound_vectorised(s, D, G)
    b2 = last_iterate_bound_vectorised(2 * s, D, G)
    B = (2 * b2 - b1) / 3
    A = b1 - B
    return (np.sqrt(A / B), 2 * np.sqrt(A * B))


# ================================================================ E4.1 noisy quadratic
@answer("check_exact_moments")
def exact_moments_loop(lrs, theta1, lam, sigma):
    lrs = np.asarray(lrs, float)
    mu = np.full(lrs.shape[:-1], float(theta1))
    v = np.zeros(lrs.shape[:-1])
    for t in range(lrs.shape[-1]):
        a = 1 - lrs[..., t] * lam
        mu, v = a * mu, a**2 * v + lrs[..., t] ** 2 * sigma**2
    if lrs.ndim == 1:
        return float(mu), float(v)
    return mu, v


@answer("check_exact_moments")
def exact_moments_products(lrs, theta1, lam, sigma):
    """Closed form: mu = theta1 prod a_t, v = sigma^2 sum_t eta_t^2 prod_{s > t} a_s^2."""
    e = np.asarray(lrs, float)
    a = 1 - lam * e
    mu = theta1 * np.prod(a, axis=-1)
    after = np.cumprod(np.concatenate([np.ones(e.shape[:-1] + (1,)), a[..., :0:-1] ** 2], axis=-1),
                       axis=-1)[..., ::-1]  # prod_{s > t} a_s^2
    v = sigma**2 * np.sum(e**2 * after, axis=-1)
    return (mu, v)


@answer("check_simulate")
def simulate_step_draws(lrs, theta1, lam, sigma, n_seeds, rng):
    theta = np.full(n_seeds, float(theta1))
    for eta in np.asarray(lrs, float):
        theta = theta - eta * (lam * theta + sigma * rng.standard_normal(n_seeds))
    return theta


@answer("check_simulate")
def simulate_all_draws_first(lrs, theta1, lam, sigma, n_seeds, rng):
    """All the noise drawn up front, one row per step."""
    lrs = np.asarray(lrs, float)
    xi = rng.normal(size=(lrs.size, n_seeds))
    theta = theta1 * np.ones(n_seeds)
    for t, eta in enumerate(lrs):
        theta -= eta * (lam * theta + sigma * xi[t])
    return theta


@answer("check_mean_ci")
def mean_ci_scipy(samples, level=0.95):
    from scipy.stats import norm

    x = np.asarray(samples, float).ravel()
    if x.size < 2:
        raise ValueError("samples: need at least 2")
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    return x.mean(), norm.ppf((1 + level) / 2) * x.std(ddof=1) / np.sqrt(x.size)


@answer("check_mean_ci")
def mean_ci_statistics(samples, level=0.95):
    """The standard library: statistics.stdev and NormalDist; level checked first."""
    if not (0 < level < 1):
        raise ValueError("level must satisfy 0 < level < 1")
    xs = [float(x) for x in np.asarray(samples).ravel()]
    if len(xs) < 2:
        raise ValueError("samples must hold at least 2 values")
    z = statistics.NormalDist().inv_cdf(0.5 + level / 2)
    return [statistics.fmean(xs), z * statistics.stdev(xs) / math.sqrt(len(xs))]


# ================================================================ E4.2 retarget mid-run
@answer("check_retarget")
def retarget_where(sched, total, at, new_total):
    if not 0 <= at < total:
        raise ValueError("at must satisfy 0 <= at < total")
    if not new_total > at:
        raise ValueError("new_total must be > at")
    ratio = (total - at) / (new_total - at)

    def new(t):
        t = np.asarray(t, float)
        return np.where(t < at, sched(t), sched(at + (t - at) * ratio))
    return new


@answer("check_retarget")
def retarget_masks(sched, total, at, new_total):
    """Evaluate each part only on its own steps."""
    if not (new_total > at):
        raise ValueError(f"new_total = {new_total} must exceed at = {at}")
    if not (at >= 0 and at < total):
        raise ValueError(f"at = {at} must be in [0, total)")

    def new(t):
        t = np.asarray(t, dtype=float)
        before = t < at
        mapped = np.where(before, t, at + (t - at) * (total - at) / (new_total - at))
        out = np.empty(t.shape)
        if before.any():
            out[before] = np.asarray(sched(t[before]), float)
        if (~before).any():
            out[~before] = np.asarray(sched(mapped[~before]), float)
        return out if t.ndim else float(out)
    return new


def _resume(sched, at, new_total, model_fn, momentum):
    import torch

    from lrnotes import schedules as S

    torch.manual_seed(0)
    data = torch.randn(16, 4)

    def build(schedule):
        model = model_fn()
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=momentum)
        return model, opt, S.to_torch(opt, schedule)

    def train(model, opt, scheduler, n, record=None):
        for _ in range(n):
            if record is not None:
                record.append(opt.param_groups[0]["lr"])
            opt.zero_grad()
            loss = model(data).square().sum()
            loss.backward()
            opt.step()
            scheduler.step()

    model, opt, scheduler = build(sched)
    train(model, opt, scheduler, at)
    states = {"model": model.state_dict(), "opt": opt.state_dict(), "sched": scheduler.state_dict()}
    model, opt, scheduler = build(S.retarget(sched, at, new_total))
    model.load_state_dict(states["model"])
    opt.load_state_dict(states["opt"])
    scheduler.load_state_dict(states["sched"])
    lrs: list = []
    train(model, opt, scheduler, new_total - at, lrs)
    return lrs


@answer("check_resumed_lrs")
def resumed_lrs_linear(sched, at, new_total):
    import torch

    return np.array(_resume(sched, at, new_total, lambda: torch.nn.Linear(4, 1), 0.9))


@answer("check_resumed_lrs")
def resumed_lrs_mlp(sched, at, new_total):
    import torch

    model = lambda: torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Tanh(), torch.nn.Linear(3, 1))  # noqa: E731
    return np.asarray(_resume(sched, at, new_total, model, 0.5), dtype=np.float64)


# ================================================================ E5.1 low precision
@answer("check_format_limits")
def format_limits_finfo(dtype):
    import torch

    fi = torch.finfo(dtype)
    return (float(fi.tiny * fi.eps), float(fi.tiny), float(fi.max), float(fi.eps))


@answer("check_format_limits")
def format_limits_stored(dtype):
    """Each value computed from finfo, then stored in the format and checked."""
    import torch

    fi = torch.finfo(dtype)
    values = [fi.smallest_normal * fi.eps, fi.smallest_normal, fi.max, fi.eps]
    stored = [torch.tensor(v, dtype=torch.float64).to(dtype).to(torch.float64).item() for v in values]
    assert stored == values, (stored, values)
    half = torch.tensor(values[0] / 2, dtype=torch.float64).to(dtype).to(torch.float64).item()
    assert half == 0.0
    return tuple(stored)


@answer("check_first_zero_step")
def first_zero_step_nonzero(lrs, dtype):
    import torch

    stored = torch.tensor(np.asarray(lrs, float), dtype=torch.float64).to(dtype)
    zeros = (stored.to(torch.float64) == 0).nonzero()
    return int(zeros[0, 0]) if len(zeros) else -1


@answer("check_first_zero_step")
def first_zero_step_loop(lrs, dtype):
    import torch

    for t, lr in enumerate(np.asarray(lrs, float).ravel()):
        if torch.tensor(float(lr), dtype=torch.float64).to(dtype).to(torch.float32).item() == 0.0:
            return t
    return -1


@answer("check_stalled_step")
def stalled_step_tensor(w0, lrs, grad, dtype):
    import torch

    w = torch.tensor(w0, dtype=torch.float32).to(dtype)
    for t in range(len(lrs)):
        new = (w.to(torch.float32) - lrs[t] * grad).to(dtype)
        if bool(new.to(torch.float32) == w.to(torch.float32)):
            return t
        w = new
    return -1


@answer("check_stalled_step")
def stalled_step_items(w0, lrs, grad, dtype):
    """Compare the stored values as Python floats."""
    import torch

    w = torch.tensor(float(w0), dtype=torch.float64).to(dtype)
    for t, lr in enumerate(lrs):
        before = w.to(torch.float64).item()
        w = (w.to(torch.float32) - float(lr) * grad).to(dtype)
        if w.to(torch.float64).item() == before:
            return t
    return -1


@answer("check_master_weight_run")
def master_weight_run_spec(w0, lrs, grad, dtype):
    import torch

    master = torch.tensor(w0, dtype=torch.float32)
    for lr in lrs:
        master = master - lr * grad
    return float(master.to(dtype).to(torch.float64))


@answer("check_master_weight_run")
def master_weight_run_inplace(w0, lrs, grad, dtype):
    import torch

    master = torch.tensor(w0, dtype=torch.float32)
    for t in range(len(lrs)):
        master.sub_(lrs[t] * grad)
    return master.to(dtype).item()


# ================================================================ E5.2 the cliff
@answer("check_clip_rows")
def clip_rows_vectorised(g, max_norm):
    if not (np.isfinite(max_norm) and max_norm > 0):
        raise ValueError("max_norm must be finite and > 0")
    g = np.asarray(g, float)
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    with np.errstate(divide="ignore"):
        scale = np.minimum(1.0, max_norm / norms)
    return g * scale


@answer("check_clip_rows")
def clip_rows_loop(g, max_norm):
    if not math.isfinite(max_norm) or max_norm <= 0:
        raise ValueError("max_norm must be a finite number > 0")
    out = np.array(g, dtype=float)  # a copy
    for i, row in enumerate(out):
        n = math.sqrt(sum(x * x for x in row))
        if n > max_norm:
            out[i] = row * (max_norm / n)
    return out


@answer("check_clip_threshold")
def clip_threshold_count(norms, frac):
    if not 0 <= frac < 1:
        raise ValueError("frac must be in [0, 1)")
    x = sorted(float(v) for v in np.asarray(norms).ravel())
    if not x:
        raise ValueError("norms must not be empty")
    n = len(x)
    for c in x:  # ascending: the first that qualifies is the smallest
        above = n - bisect.bisect_right(x, c)
        if above <= frac * n:
            return c
    return x[-1]


@answer("check_clip_threshold")
def clip_threshold_searchsorted(norms, frac):
    x = np.sort(np.asarray(norms, dtype=float).ravel())
    if x.size == 0:  # norms first, then frac
        raise ValueError("norms is empty")
    if not (frac >= 0 and frac < 1):
        raise ValueError("frac must satisfy 0 <= frac < 1")
    above = x.size - np.searchsorted(x, x, side="right")
    return x[np.flatnonzero(above <= frac * x.size)[0]]  # a numpy scalar


# ================================================================ E6.1 piecewise linear
def _pl_validate(T, knots, values):
    if not _is_int(T) or T < 1:
        raise ValueError("T must be an integer >= 1")
    k = np.asarray(knots, float)
    v = np.asarray(values, float)
    if k.ndim != 1 or k.size < 2 or k[0] != 0 or k[-1] != 1 or np.any(np.diff(k) <= 0):
        raise ValueError("knots must increase strictly from 0 to 1")
    if v.shape != k.shape:
        raise ValueError("knots and values must have the same length (one value per knot)")
    if not np.all(np.isfinite(v)) or np.any(v < 0):
        raise ValueError("values must be finite and >= 0")
    return k, v


@answer("check_piecewise_linear")
def piecewise_linear_interp(T, knots, values):
    k, v = _pl_validate(T, knots, values)
    return np.interp(np.arange(T) / T, k, v)


@answer("check_piecewise_linear")
def piecewise_linear_loop(T, knots, values):
    """Find each segment by bisection and interpolate by hand."""
    if isinstance(T, bool) or not isinstance(T, numbers.Integral) or T < 1:
        raise ValueError("T must be an integer >= 1")
    knots, values = [float(x) for x in knots], [float(x) for x in values]
    if len(knots) < 2 or knots[0] != 0.0 or knots[-1] != 1.0:
        raise ValueError("knots must run from exactly 0 to exactly 1")
    if any(b <= a for a, b in zip(knots, knots[1:])):
        raise ValueError("knots must increase strictly")
    if len(values) != len(knots):
        raise ValueError("knots: one value per knot")
    if any(not math.isfinite(v) or v < 0 for v in values):
        raise ValueError("values must be finite and >= 0")
    out = []
    for k in range(1, T + 1):
        u = (k - 1) / T
        j = min(bisect.bisect_right(knots, u) - 1, len(knots) - 2)
        frac = (u - knots[j]) / (knots[j + 1] - knots[j])
        out.append(values[j] + frac * (values[j + 1] - values[j]))
    return np.array(out)


def _three_piece(T, method, params_to_kv, x0s):
    from scipy.optimize import minimize

    from lrnotes import theory as Th

    def score(p):
        knots, values = params_to_kv(p)
        return Th.tune_peak(piecewise_linear_interp(T, knots, values))[1]

    best = min((minimize(score, x0, method=method) for x0 in x0s), key=lambda r: r.fun)
    knots, values = params_to_kv(best.x)
    return knots, values


@answer("check_best_three_piece")
def best_three_piece_logistic(T):
    def kv(p):
        inner = np.sort(1 / (1 + np.exp(-p[:2])))
        return np.concatenate([[0.0], inner, [1.0]]), np.concatenate([[1.0], np.exp(p[2:])])
    starts = [np.array([0.0, 2.0, np.log(0.5), np.log(0.1), np.log(0.01)]),
              np.array([1.0, 3.0, np.log(0.3), np.log(0.05), np.log(0.005)])]
    return _three_piece(T, "Nelder-Mead", kv, starts)


@answer("check_best_three_piece")
def best_three_piece_softmax(T):
    """Knots from cumulative softmax increments (ordered by construction), Powell."""
    def kv(p):
        inc = np.exp(p[:3] - p[:3].max())
        knots = np.concatenate([[0.0], np.cumsum(inc)[:2] / inc.sum(), [1.0]])
        return list(knots), [1.0] + list(np.exp(p[3:]))
    starts = [np.array([np.log(0.6), np.log(0.3), np.log(0.1), np.log(0.4), np.log(0.05), np.log(0.005)])]
    return _three_piece(T, "Powell", kv, starts)


# ================================================================ E6.2 curvature-aware
@answer("check_power_iteration")
def power_iteration_for(hvp, v0, n_iter):
    v = np.asarray(v0, float)
    v = v / np.linalg.norm(v)
    for _ in range(n_iter):
        w = hvp(v)
        v = w / np.linalg.norm(w)
    return float(v @ hvp(v)), v


@answer("check_power_iteration")
def power_iteration_while(hvp, v0, n_iter):
    v = np.array(v0, dtype=float)
    v /= math.sqrt(np.dot(v, v))
    i = 0
    while i < n_iter:
        v = np.asarray(hvp(v), float)
        v = v / math.sqrt(np.dot(v, v))
        i += 1
    return [np.dot(v, hvp(v)), v]


@answer("check_curvature_aware_gd")
def curvature_aware_gd_reuse(grad, hvp, x0, v0, alpha, n_steps, n_power):
    x, v = np.asarray(x0, float), np.asarray(v0, float)
    lams = []
    for _ in range(n_steps):
        lam, v = power_iteration_for(lambda u, x=x: hvp(x, u), v, n_power)
        lams.append(lam)
        x = x - alpha / lam * grad(x)
    return x, np.array(lams)


@answer("check_curvature_aware_gd")
def curvature_aware_gd_inline(grad, hvp, x0, v0, alpha, n_steps, n_power):
    x = np.array(x0, dtype=float)
    v = np.array(v0, dtype=float)
    lams = np.empty(n_steps)
    for t in range(n_steps):
        v = v / np.linalg.norm(v)
        for _ in range(n_power):
            hv = hvp(x, v)
            v = hv / np.linalg.norm(hv)
        lams[t] = v @ hvp(x, v)
        x = x - (alpha / lams[t]) * grad(x)
    return x, lams


# ================================================================ more styles (return types, libraries)
@answer("check_largest_jump")
def largest_jump_array_pair(schedule, T):
    """The pair as a length-2 NumPy array (t comes back as a float)."""
    values = np.fromiter((schedule(t) for t in range(T + 1)), dtype=float, count=T + 1)
    d = values[1:] - values[:-1]
    t = int(np.flatnonzero(np.abs(d) == np.abs(d).max())[0])
    return np.array([t + 1, d[t]])


@answer("check_fixed_wsd_schedule")
def fixed_wsd_interp(step):
    """Through the phase corners with np.interp: a NumPy scalar."""
    return np.interp(step, [0, 1000, 18000, 20000], [0.0, 1.0, 1.0, 0.0])


@answer("check_restart_steps")
def restart_steps_set(period, mult, upto):
    """A set of ceil(s_i), as a sorted list of NumPy ints."""
    starts, s, i = set(), 0.0, 0
    while True:
        s += period * mult**i  # s_{i+1}
        i += 1
        if s >= upto:
            break
        starts.add(np.int64(math.ceil(s)))
    return sorted(x for x in starts if 0 < x < upto)


@answer("check_critical_points")
def critical_points_sympy(a, b):
    import sympy as sp

    if not (np.isfinite(a) and a > 0):
        raise ValueError("a must be finite and > 0")
    if not np.isfinite(b):
        raise ValueError("b must be finite")
    th = sp.Symbol("theta")
    poly = sp.Poly(4 * th**3 - 4 * sp.Float(a, 30) * th + sp.Float(b, 30), th)
    roots = sorted(float(r) for r in poly.nroots(n=30) if abs(sp.im(r)) < 1e-20)
    return np.array(roots)


@answer("check_critical_lr")
def critical_lr_0d(H):
    """scipy.linalg.eigh, the result as a 0-d array."""
    from scipy import linalg

    M = np.array(H, dtype=np.float64)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or not M.size:
        raise ValueError("H must be a square matrix")
    if not np.isfinite(M).all() or not np.allclose(M, M.T, rtol=1e-12, atol=1e-12):
        raise ValueError("H must be finite and symmetric")
    ev = linalg.eigh(M, eigvals_only=True)
    if ev.max() <= 0 or ev.min() <= 1e-12 * ev.max():
        raise ValueError("H must be positive definite")
    return np.asarray(2.0 / ev.max())


@answer("check_first_zero_step")
def first_zero_step_numpy_int(lrs, dtype):
    import torch

    stored = torch.tensor(np.asarray(lrs, dtype=np.float64), dtype=torch.float64).to(dtype).double().numpy()
    hits = np.flatnonzero(stored == 0)
    return hits[0] if hits.size else np.int64(-1)


@answer("check_bias_correction")
def bias_correction_logs(beta1s):
    """Through logarithms (exp of a cumulative sum), exact 0 handled by np.log(0) = -inf."""
    b = np.asarray(beta1s, dtype=float)
    with np.errstate(divide="ignore"):
        return -np.expm1(np.cumsum(np.log(b)))


@answer("check_tuned_bound")
def tuned_bound_minimize_scalar(shape, D=1.0, G=1.0):
    """A numerical minimum over log c, polished by the closed form of its two parts."""
    from scipy.optimize import minimize_scalar

    s = np.asarray(shape, float)
    res = minimize_scalar(lambda x: last_iterate_bound_vectorised(np.exp(x) * s, D, G),
                          bracket=(-5.0, 5.0), tol=1e-12)
    c = math.exp(res.x)
    b1 = last_iterate_bound_vectorised(c * s, D, G)
    b2 = last_iterate_bound_vectorised(2 * c * s, D, G)
    Bc = (2 * b2 - b1) / 3  # B c and A / c at this c
    Ac = b1 - Bc
    return c * math.sqrt(Ac / Bc), 2 * math.sqrt(Ac * Bc)


@answer("check_two_well_limit")
def two_well_limit_exact_sympy(a):
    """An exact sympy number (8 sqrt(3) / 9 for a = 1), not a float."""
    import sympy as sp

    if not a > 0 or not math.isfinite(a):
        raise ValueError("a must be > 0")
    A = sp.nsimplify(a)
    return sp.Rational(8, 3) * A * sp.sqrt(A / 3)


@answer("check_optimal_eta")
def optimal_eta_other_form(t, T, D, G):
    """The same schedule written as a peak times linear decay, D / (G sqrt T) (1 - t/T)."""
    import sympy as sp

    return D / (G * sp.sqrt(T)) * (1 - t / T)


@answer("check_best_scale")
def best_scale_split_roots(m, D, G, T):
    import sympy as sp

    m = sp.Rational(m) if not isinstance(m, sp.Basic) else m
    return D * sp.sqrt(m) / (G * sp.sqrt(T)), D * G * (m + 1) / (sp.sqrt(m) * sp.sqrt(T))


@answer("check_remaining_budget")
def remaining_budget_expanded(eta, t, T):
    return __import__("sympy").expand(remaining_budget_definite(eta, t, T))


@answer("check_euler_lagrange")
def euler_lagrange_expanded(L, S, t):
    return __import__("sympy").expand(euler_lagrange_direct(L, S, t))


@answer("check_spectral_radius")
def spectral_radius_np_roots(eta, lam, beta):
    """Numerically, np.roots of each characteristic polynomial."""
    eta = np.asarray(eta, dtype=float)
    flat = [np.abs(np.roots([1.0, -(1 + beta - e * lam), beta])).max() for e in eta.ravel()]
    return np.reshape(flat, eta.shape)


@answer("check_heavy_ball_critical_lr")
def heavy_ball_critical_lr_exact_symmetry(H, beta):
    """The literal reading: H == H.T exactly; math for the result."""
    M = np.array(H, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1] or M.size == 0 or not np.isfinite(M).all():
        raise ValueError("H must be a finite square matrix")
    if not np.array_equal(M, M.T):
        raise ValueError("H must be symmetric")
    ev = np.linalg.eigvalsh(M)
    if ev[0] <= 1e-12 * ev[-1]:
        raise ValueError("H must be positive definite")
    if not 0 <= beta < 1:
        raise ValueError("beta must be in [0, 1)")
    return 2.0 * (1.0 + beta) / float(ev[-1])


# ================================================================ the tests
SLOW = {"check_euler_lagrange", "check_power_exponent", "check_optimal_eta", "check_remaining_budget",
        "check_functional_J", "check_best_scale", "check_resumed_lrs", "check_best_three_piece",
        "check_two_well_limit"}
CASES = [pytest.param(check, fn, seed, id=f"{fn.__name__}-{seed}")
         for check, fns in ANSWERS.items() for fn in fns
         for seed in (FEW_SEEDS if check in SLOW else SEEDS)]


@pytest.mark.parametrize("check, fn, seed", CASES)
def test_correct_answer_passes(check, fn, seed, monkeypatch):
    monkeypatch.setattr(G, "TIME_LIMIT", max(G.TIME_LIMIT, 10.0))  # a busy machine is no verdict
    report = getattr(G, check)(fn, seed=seed)
    assert report.passed, report


def test_every_notebook_check_has_two_answers():
    called = {name for stem in STEMS for name, _ in notebook_checks(stem)[1]}
    assert called, "no check found in the solution notebooks"
    short = {c: len(ANSWERS.get(c, [])) for c in called if len(ANSWERS.get(c, [])) < 2}
    assert not short, short


def test_a_0d_array_crosses_the_process_boundary_as_0d():
    """A 0-d array answer (``np.asarray(x.var())``) once came back from the child with shape
    (1,) (``np.ascontiguousarray`` is at least 1-D) and was failed as 'an array'."""
    from lrnotes.grading import _plain

    for value in (np.asarray(0.25), np.asarray(3, dtype=np.int64), np.ones((2, 0)), np.arange(6.0).reshape(2, 3).T):
        back = _plain.decode(_plain.encode(value))
        assert back.shape == value.shape and back.dtype == value.dtype and np.array_equal(back, value)


# ---------------------------------------------------------------- float32: stated, failed, and named
def _float32(fn):
    """The same answer with its floats rounded to float32 (functions it returns too)."""
    def conv(x):
        if isinstance(x, np.ndarray) and x.dtype == np.float64:
            return x.astype(np.float32)
        if isinstance(x, (float, np.floating)):
            return np.float32(x)
        if isinstance(x, (tuple, list)):
            return type(x)(conv(v) for v in x)
        return _float32(x) if callable(x) else x

    def f(*args, **kwargs):
        return conv(fn(*args, **kwargs))
    f.__name__ = fn.__name__
    return f


@pytest.mark.parametrize("check, fn", [
    ("check_critical_lr", critical_lr_eigvalsh),          # once: the eigvalsh-order hint
    ("check_final_norms", final_norms_rows),              # once: the update-rule hint
    ("check_sgdr", sgdr_log),                             # once: the cycle-length hint
    ("check_retarget", retarget_where),                   # once: "before the switch nothing changes"
    ("check_largest_jump", largest_jump_loop),            # once: "jump -0.51, expected -0.51", no hint
    ("check_fixed_wsd_schedule", fixed_wsd_branches),     # once: "jump of 0.001", no hint
    ("check_power_iteration", power_iteration_for),       # once: "has norm 1; return a unit vector"
    ("check_wsd", wsd_numpy),
], ids=lambda x: x if isinstance(x, str) else "")
def test_float32_answers_fail_with_the_float32_hint(check, fn):
    report = getattr(G, check)(_float32(fn), seed=0)
    failed = [r for r in report.results if r.status == "fail"]
    assert failed, report
    assert all("float32" in r.hint for r in failed), report


def test_every_notebook_states_float64():
    import nbformat

    from .test_grading import SOLUTIONS

    for path in sorted(SOLUTIONS.parent.glob("*.ipynb")):  # the student notebooks
        text = " ".join(c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown")
        assert "compute in float64" in " ".join(text.split()), path.name
