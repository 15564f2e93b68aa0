"""The Schedule type, and the two numerical rules that make ``sched(t)`` bit-identical
whether ``t`` is one step or an element of an array of steps.

1. Every schedule function sees a contiguous 1-d float64 array, never a NumPy scalar.
   A scalar step is evaluated as an array of one element.  (NumPy scalars have their
   own arithmetic: ``np.float64(0.8) ** 2.0`` calls the C library's ``pow`` and gives
   0.6400000000000001, while the same power in an array goes through NumPy's SIMD loop
   and gives 0.64 on an AVX-512 machine.)
2. Integer powers (a decay per cycle, per step-decay interval) are taken by Python's
   scalar ``pow`` once for each distinct exponent (:func:`_ipow`), not by an array
   ``np.power``, so their bits depend neither on the machine's SIMD nor on where a step
   sits in the array.

Everything else is IEEE arithmetic (+, -, *, /, sqrt: exactly rounded, so the same on
every path) or an elementwise NumPy ufunc (``cos``) applied to a contiguous array, one
kernel for every element.  ``tests/test_schedules.py`` checks the result bit for bit.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from ._checks import _as_steps, _int_at_least


class Schedule:
    r"""A closed-form learning-rate schedule.

    Call it with a step ``t`` (int, float or array, ``t >= 0``) to get the learning
    rate.  ``total`` is the budget ``T`` when the schedule has one (else ``None``).
    ``restart_steps(upto)`` lists the steps ``0 < t < upto`` at which a new cycle
    starts (warm restarts); :func:`to_torch` can reset momentum there.

    Restarts are derived from the curve's own clock: ``cycle`` maps steps (a float
    array, as the curve sees them) to a cycle key :math:`c(t)`, computed by the same
    expressions as the curve, and step :math:`t \ge 1` is a restart exactly when
    :math:`c(t) \ne c(t-1)`.  So :meth:`is_restart` costs two evaluations of the clock
    (O(1), or O(log t) for a cycle table), and a combinator that changes the clock
    (stretch, shift, cooldown) changes the restarts with it.  ``restarts`` (a callable
    ``upto -> steps``) is accepted for schedules built elsewhere: another schedule's
    ``_restarts`` carries its ``cycle``.
    """

    def __init__(
        self,
        fn: Callable[[np.ndarray], np.ndarray],
        *,
        name: str,
        params: dict | None = None,
        total: int | None = None,
        restarts: Callable[[int], np.ndarray] | None = None,
        cycle: Callable[[np.ndarray], np.ndarray] | None = None,
    ):
        self._fn = fn
        self.name = name
        self.params = dict(params or {})
        self.total = total
        if cycle is None and restarts is not None:
            cycle = getattr(restarts, "cycle", None)
            if cycle is None:  # a plain list of restarts: count them
                cycle = _counting_cycle(restarts)
        self._cycle = cycle
        self._restarts = None if cycle is None else _Restarts(self, cycle)

    def __call__(self, t):
        steps = _as_steps(t)
        flat = np.ascontiguousarray(steps.reshape(-1))  # rule 1: arrays only, even for one step
        out = np.asarray(self._fn(flat), dtype=float)
        out = np.broadcast_to(out, flat.shape).reshape(steps.shape)
        if steps.ndim == 0:
            return float(out)
        return np.array(out)

    def restart_steps(self, upto: int) -> np.ndarray:
        """Integer steps ``0 < t < upto`` at which a new cycle (warm restart) begins."""
        upto = _int_at_least("upto", upto, 0)
        if self._cycle is None or upto <= 1:
            return np.zeros(0, dtype=int)
        found = []
        for start in range(1, upto, _CHUNK):  # steps start-1 .. stop-1, in bounded memory
            stop = min(start + _CHUNK, upto)
            c = cycle_key(self._cycle, np.arange(start - 1, stop, dtype=float))
            found.append(np.flatnonzero(c[1:] != c[:-1]) + start)
        return np.concatenate(found).astype(int)

    def is_restart(self, t: int) -> bool:
        """Whether step ``t`` starts a new cycle: :math:`c(t) \\ne c(t-1)`, two clock readings."""
        t = _int_at_least("t", t, 0)
        if self._cycle is None or t == 0:
            return False
        c = cycle_key(self._cycle, np.array([t - 1, t], dtype=float))
        return bool(c[0] != c[1])

    def plot(self, total: int | None = None, ax=None, **kwargs):
        """Preview this schedule (with ``lrnotes.plotting.plot_schedules``)."""
        from ..plotting import plot_schedules

        return plot_schedules({self.name: self}, total=total, ax=ax, **kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.name}({args})"


_CHUNK = 1 << 20


def cycle_key(cycle, t) -> np.ndarray:
    """The cycle key of steps ``t`` (any array), read by ``cycle`` on a contiguous float array."""
    flat = np.ascontiguousarray(np.asarray(t, dtype=float).reshape(-1))
    return np.asarray(cycle(flat), dtype=float).reshape(flat.shape)


class _Restarts:
    """``upto -> restart_steps(upto)`` of a schedule, carrying its ``cycle`` for reuse."""

    def __init__(self, sched, cycle):
        self._sched, self.cycle = sched, cycle

    def __call__(self, upto):
        return self._sched.restart_steps(upto)


def _counting_cycle(restarts):
    """A cycle key from a plain restart list: how many restarts are at or before the step."""
    def cycle(t):
        top = int(np.floor(t.max(initial=0.0))) + 2
        r = np.unique(np.asarray(restarts(top), dtype=int))
        r = r[r > 0]
        return np.searchsorted(r, np.floor(t), side="right").astype(float)
    return cycle


def _ipow(base: float, n: np.ndarray) -> np.ndarray:
    """``base ** n`` for integer-valued ``n`` (rule 2): Python's scalar pow, once per distinct n."""
    n = np.asarray(n)
    if n.size == 0:
        return np.zeros(n.shape)
    values, inverse = np.unique(n, return_inverse=True)
    return np.array([base ** float(k) for k in values])[inverse].reshape(n.shape)


# cooldown shapes c(p): 1 at p = 0, 0 at p = 1; a warmup of the same name is w(p) = c(1 - p)
def _cool(kind: str, p: np.ndarray) -> np.ndarray:
    if kind == "linear":
        return 1.0 - p
    if kind == "cosine":
        return 0.5 * (1.0 + np.cos(np.pi * p))
    return 1.0 - np.sqrt(p)  # "sqrt"


def _warm(kind: str, p: np.ndarray) -> np.ndarray:
    if kind == "linear":
        return p
    if kind == "cosine":
        return 0.5 * (1.0 - np.cos(np.pi * p))
    return 1.0 - np.sqrt(1.0 - p)  # "sqrt"
