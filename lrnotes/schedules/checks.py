r"""Argument checks shared by every schedule (and by the theory modules), public.

Each check returns the checked value, and raises ``ValueError`` naming the argument and
its allowed range otherwise: ``real("x", v, low=a, high=b)`` accepts a finite
:math:`v \in [a, b]` (ends open on request), ``int_at_least("n", v, k)`` an integer
:math:`v \ge k`, ``lr`` a learning rate :math:`\eta \ge 0`, ``positive_real`` a
finite :math:`v > 0`, ``choice`` one of the allowed names, ``exact`` the rational
a real stands for, ``as_steps`` steps :math:`t \ge 0`, ``schedule_arg`` a
:class:`~lrnotes.schedules.Schedule`; ``renamed`` keeps old keyword names as
deprecated aliases.  (``lrnotes.schedules._checks`` re-exports them under their old
underscored names.)
"""

from __future__ import annotations

import functools
import math
import numbers
import warnings
from fractions import Fraction

import numpy as np

#: Shapes of a cooldown c(p), p in [0, 1], from 1 down to 0; a warmup runs one backwards.
COOLDOWNS = ("linear", "cosine", "sqrt")
#: Shapes of a warmup w(p) = c(1 - p), from 0 up to 1 (HF's ``warmup_type``; "sqrt" is its "1-sqrt").
WARMUPS = COOLDOWNS


def int_at_least(name: str, value, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value}")
    return int(value)


def real(name: str, value, *, low=None, high=None, low_open=False, high_open=False) -> float:
    """Check a finite real in [low, high] (ends open on request); say the range if not."""
    lo = "-inf" if low is None else repr(low)
    hi = "inf" if high is None else repr(high)
    allowed = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a finite real number in {allowed}, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be a finite real number in {allowed}, got {value!r}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name} must be in {allowed}, got {value!r}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name} must be in {allowed}, got {value!r}")
    return v


def positive_real(name: str, value) -> float:
    """A finite real > 0 (shared by the theory modules)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not (0 < float(value) < math.inf):
        raise ValueError(f"{name} must be a finite real number > 0, got {value!r}")
    return float(value)


def lr(name: str, value) -> float:
    """A learning rate: finite and >= 0."""
    return real(name, value, low=0.0)


def exact(value) -> Fraction:
    """The exact rational a checked real stands for.

    Ints and Fractions are taken as they are; a float as the nearest fraction with a
    denominator of at most 10**6 (``Fraction(x).limit_denominator(10**6)``, within about
    1e-12 of it): so a typed decimal is exact (``1.1`` is 11/10, not the binary
    1.1000000000000000888) and so is a ratio computed in floating point (``4/3``,
    ``36/37``).  A cycle boundary or a decay start that those numbers put on an integer
    step is then exactly on it.
    """
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    return Fraction(float(value)).limit_denominator(10**6)


def choice(name: str, value, allowed) -> str:
    if value not in allowed:
        raise ValueError(f"{name} must be one of {tuple(allowed)}, got {value!r}")
    return value


def as_steps(t) -> np.ndarray:
    arr = np.asarray(t, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError("step t must be finite")
    if np.any(arr < 0):
        raise ValueError(f"step t must be >= 0 (the first update is t = 0), got min {arr.min()}")
    return arr


def schedule_arg(name: str, value):
    from ._core import Schedule

    if not isinstance(value, Schedule):
        raise ValueError(f"{name} must be an lrnotes Schedule, got {type(value).__name__}")
    return value


def renamed(**old_to_new):
    """Accept the old keyword names (``floor=``, ``low=``, ``minimum=``) for one release.

    Each old name is passed on as its new one with a ``DeprecationWarning``; giving both
    is a ``ValueError`` naming them.
    """
    def wrap(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise ValueError(f"give {new} (the new name) or {old} (deprecated), not both")
                    warnings.warn(f"{fn.__name__}: the keyword {old}= is deprecated, use {new}=",
                                  DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)
        return inner
    return wrap
