r"""LR noise (timm's ``noise_range_t``): a random relative change of the rate on a range
of steps, drawn as a pure function of ``(seed, t)`` so that a resumed run sees the same
noise.

timm draws the noise of step :math:`t` from a ``torch.Generator`` seeded with
``noise_seed + t``.  :func:`noisy` does the same with ``rng="torch"`` (torch is imported
then, not before): the same draws, and timm's curve to rounding.  Its default ``rng="numpy"``
needs numpy only: it hashes ``(seed, t, j)`` with SplitMix64 into uniform draws
:math:`U_j \in [0, 1)` (53 bits) and turns them into normal draws by Box–Muller.  That
gives the same distribution, the same steps, the same clipping and the same exact
resume, but not timm's numbers: numpy cannot reproduce torch's generator.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._checks import _choice, _int_at_least, _real, _schedule_arg
from ._core import Schedule

NOISE_KINDS = ("normal", "uniform")
NOISE_RNGS = ("numpy", "torch")

_M64 = (1 << 64) - 1


def noisy(inner: Schedule, range, pct: float = 0.67, std: float = 1.0, kind: str = "normal",
          seed: int = 42, rng: str = "numpy") -> Schedule:
    r"""timm's LR noise on any schedule: on the steps :math:`a \le t < b` of ``range``,

    .. math:: \eta_t &= \text{inner}(t)\,(1 + \varepsilon_t), \\
              \varepsilon_t &= \begin{cases}
              \sigma Z, & Z \sim \mathcal N(0, 1) \quad (\texttt{"normal"}),\\
              \rho\,(2U - 1), & U \sim \mathcal U[0, 1) \quad (\texttt{"uniform"}),
              \end{cases}

    the normal draw repeated until :math:`|\sigma Z| < \rho`, and
    :math:`\eta_t = \text{inner}(t)` elsewhere, with ``pct`` :math:`\rho \in (0, 1]`
    (timm's ``noise_pct``, default 0.67) and ``std`` :math:`\sigma > 0` (``noise_std``).
    So the rate moves by less than :math:`\rho` of itself and stays positive.  ``range``
    is a pair :math:`(a, b)` with :math:`0 \le a < b`, or one number :math:`a` (noise from
    :math:`a` on), as timm's ``noise_range_t``.

    :math:`\varepsilon_t` depends on ``seed`` and :math:`\lfloor t \rfloor` only, not on
    the steps evaluated before: a run resumed at any step sees the same noise, and
    ``sched(t)`` is the same for one step or an array.  A schedule written in epochs and
    stepped with ``to_torch(..., updates_per_epoch=n)`` has one draw an epoch, as timm's
    per-epoch noise (``t_in_epochs=True``).  ``rng="torch"`` draws it as timm
    does, from a ``torch.Generator`` seeded with ``seed + t`` (``torch.randn`` /
    ``torch.rand``), which reproduces timm's curve to rounding; torch is imported for
    it.  The default ``rng="numpy"`` draws from a SplitMix64 hash of
    ``(seed, t, j)`` (numpy only): the same distribution, steps and clipping, *not*
    timm's numbers.

    timm's ``CosineLRScheduler(..., noise_range_t=(a, b), noise_pct=r, noise_std=s,
    noise_seed=n)`` is ``noisy(<its curve>, (a, b), r, s, seed=n, rng="torch")``, except
    at update 0, which timm's constructor sets without noise.  Only timm's
    ``PlateauLRScheduler`` takes ``noise_type``; the others draw ``"normal"``.

    Example:

    >>> from lrnotes import schedules as S
    >>> sched = S.noisy(S.constant(1.0), (10, 20), pct=0.1, seed=0)
    >>> lrs = sched(range(30))
    >>> bool(lrs[:10].max() == lrs[20:].min() == 1.0), bool(abs(lrs - 1).max() < 0.1)
    (True, True)
    >>> float(sched(15)) == float(lrs[15])  # resume: the same draw at step 15
    True
    """
    inner = _schedule_arg("inner", inner)
    a, b = _noise_range(range)
    rho = _real("pct", pct, low=0.0, high=1.0, low_open=True)
    sigma = _real("std", std, low=0.0, low_open=True)
    kind = _choice("kind", kind, NOISE_KINDS)
    rng = _choice("rng", rng, NOISE_RNGS)
    s = _int_at_least("seed", seed, 0)
    if s > _M64:
        raise ValueError(f"seed must be an integer in [0, 2**64 - 1], got {seed}")
    draw = _torch_noise if rng == "torch" else _numpy_noise

    def fn(t):
        out = inner(t)
        on = (t >= a) & (t < b)
        if np.any(on):
            v = out[on]
            out[on] = v + v * draw(np.floor(t[on]), s, rho, sigma, kind)
        return out

    return Schedule(
        fn,
        name="noisy",
        params={"inner": inner, "range": (a, b), "pct": rho, "std": sigma, "kind": kind, "seed": s,
                "rng": rng},
        total=inner.total,
        cycle=inner._cycle,
    )


def _noise_range(value) -> tuple[float, float]:
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _real("range", value, low=0.0), np.inf
    if isinstance(value, (list, tuple)) and len(value) == 2:
        a = _real("range[0]", value[0], low=0.0)
        b = _real("range[1]", value[1], low=0.0)
        if b <= a:
            raise ValueError(f"range must be (a, b) with 0 <= a < b, got {tuple(value)!r}")
        return a, b
    raise ValueError(f"range must be a step a >= 0 or a pair (a, b) with 0 <= a < b, got {value!r}")


# ---------------------------------------------------------------- numpy: SplitMix64 hash
def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's step and finaliser on uint64 arrays (arithmetic modulo 2**64)."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _uniform(key: np.ndarray, j: int) -> np.ndarray:
    r"""Draw :math:`U_j \in [0, 1)` of each key: the top 53 bits of a hash, times :math:`2^{-53}`."""
    h = _mix(key + _mix(np.full(key.shape, j, dtype=np.uint64)))
    return (h >> np.uint64(11)).astype(float) * 2.0**-53


def _numpy_noise(steps, seed, rho, sigma, kind):
    r""":math:`\varepsilon_t` from ``(seed, t)``: :math:`U_0` for uniform; for normal,
    Box–Muller on :math:`(U_{2j}, U_{2j+1})`, :math:`j = 0, 1, \dots` until :math:`|\sigma Z| < \rho`."""
    t = np.fmod(steps, 2.0**63).astype(np.uint64)
    key = _mix(_mix(np.full(t.shape, seed, dtype=np.uint64)) + t)
    if kind == "uniform":
        return 2.0 * (_uniform(key, 0) - 0.5) * rho
    out = np.empty(t.shape)
    todo, j = np.arange(t.size), 0
    while todo.size:
        k = key[todo]
        u1, u2 = _uniform(k, 2 * j), _uniform(k, 2 * j + 1)
        z = np.sqrt(-2.0 * np.log1p(-u1)) * np.cos(2.0 * np.pi * u2) * sigma
        ok = np.abs(z) < rho
        out[todo[ok]] = z[ok]
        todo, j = todo[~ok], j + 1
    return out


# ---------------------------------------------------------------- torch: timm's draws
def _torch_noise(steps, seed, rho, sigma, kind):
    """timm's ``Scheduler._calculate_noise``, step by step (each step has its own generator)."""
    import torch

    values = {}
    for t in np.unique(steps):
        g = torch.Generator()
        g.manual_seed(seed + int(t))
        if kind == "normal":
            while True:
                noise = torch.randn(1, generator=g).item() * sigma
                if abs(noise) < rho:
                    break
        else:
            noise = 2 * (torch.rand(1, generator=g).item() - 0.5) * rho
        values[float(t)] = noise
    return np.array([values[float(t)] for t in steps])
