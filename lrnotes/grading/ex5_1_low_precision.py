r"""Exercise E5.1, A decaying learning rate in low precision (torch's bfloat16, float16 and
float8 types): the formats' limits from ``torch.finfo``, the step where a stored learning
rate becomes exactly 0, the step where a low-precision weight stops moving, and the fix
(a float32 master copy of the weight).

For a format with ``finfo`` values ``tiny`` (smallest normal) and ``eps``, the smallest
subnormal is ``tiny * eps``; a float8 tensor has no arithmetic in torch, so updates are
computed in float32 and rounded back: ``w = (w.float() - lr * g).to(dtype)``.
"""

from __future__ import annotations

import numpy as np

from ._core import CheckFailed, Checks, as_int, as_scalar, assert_close, call, diagnose

NUMBER = "5.1"
TITLE = "A decaying learning rate in low precision"
DTYPES = ("bfloat16", "float16", "float32", "float8_e4m3fn", "float8_e5m2")


def _torch():
    import torch

    return torch


# ============================================================================ references
def ref_format_limits(dtype):
    fi = _torch().finfo(dtype)
    return float(fi.tiny * fi.eps), float(fi.tiny), float(fi.max), float(fi.eps)


def stored(values, dtype) -> np.ndarray:
    torch = _torch()
    return torch.tensor(np.asarray(values, dtype=float), dtype=torch.float64).to(dtype).to(torch.float64).numpy()


def ref_first_zero_step(lrs, dtype):
    zero = np.flatnonzero(stored(lrs, dtype) == 0)
    return int(zero[0]) if zero.size else -1


def ref_stalled_step(w0, lrs, grad, dtype):
    torch = _torch()
    w = torch.tensor(float(w0), dtype=torch.float64).to(dtype)
    for t, lr in enumerate(np.asarray(lrs, dtype=float)):
        new = (w.to(torch.float32) - float(lr) * float(grad)).to(dtype)
        if bool(new == w):
            return t
        w = new
    return -1


def ref_master_weight_run(w0, lrs, grad, dtype):
    torch = _torch()
    master = torch.tensor(float(w0), dtype=torch.float32)
    for lr in np.asarray(lrs, dtype=float):
        master = master - float(lr) * float(grad)
    return float(master.to(dtype).to(torch.float64))


def _dtype(name):
    return getattr(_torch(), name)


# ============================================================================ E5.1a the limits
def check_format_limits(format_limits, seed=None):
    """Grade ``format_limits(dtype) -> (smallest_subnormal, smallest_normal, largest, eps)``
    for a torch floating-point dtype, as Python floats."""
    g = Checks("Exercise E5.1a: what each format can hold", format_limits, seed=seed, preload=("torch",))

    @g.check("bfloat16, float16, float32, float8_e4m3fn, float8_e5m2; each value really is representable")
    def _(f):
        torch = _torch()
        for name in DTYPES:
            dtype = _dtype(name)
            what = f"format_limits(torch.{name})"
            value = call(f, dtype)
            if not isinstance(value, (tuple, list)) or len(value) != 4:
                raise CheckFailed(f"{what} returned {type(value).__name__}; expected a tuple of 4 numbers",
                                  "return (smallest_subnormal, smallest_normal, largest, eps)")
            got = np.array([as_scalar(v, f"{what}[{i}]") for i, v in enumerate(value)])
            expected = np.array(ref_format_limits(dtype))
            fi = torch.finfo(dtype)
            hint = diagnose(got, {
                "the smallest subnormal is tiny * eps, below the smallest normal (finfo.tiny)":
                    np.array([fi.tiny, fi.tiny, fi.max, fi.eps]),
                "finfo.resolution is a decimal rounding of the precision; use finfo.eps":
                    np.array([fi.tiny * fi.eps, fi.tiny, fi.max, fi.resolution]),
            })
            assert_close(got, expected, what, rtol=0, atol=0, hint=hint)
            back = stored(got[:3], dtype)
            if not np.array_equal(back, got[:3]) or stored([got[0] / 2], dtype)[0] != 0:
                raise CheckFailed(f"{what}: the values do not round-trip through {name} as they should")

    return g.run()


# ============================================================================ E5.1b the LR hits 0
def check_first_zero_step(first_zero_step, seed=None):
    """Grade ``first_zero_step(lrs, dtype)``: the first step ``t`` at which ``lrs[t]``,
    stored in ``dtype``, is exactly 0, or -1 if none is."""
    g = Checks("Exercise E5.1b: when the stored learning rate becomes 0", first_zero_step, seed=seed,
               preload=("torch",))

    def judge(f, lrs, name, what):
        got = as_int(call(f, lrs, _dtype(name)), what)
        expected = ref_first_zero_step(lrs, _dtype(name))
        if got != expected:
            hint = ""
            fi = _torch().finfo(_dtype(name))
            small = np.flatnonzero(np.asarray(lrs) < fi.tiny)
            if small.size and got == int(small[0]):
                hint = "below the smallest normal a number becomes subnormal, not yet 0"
            raise CheckFailed(f"{what} = {got}, expected {expected}", hint)

    @g.check("a floor of 1e-6 in float8 (0 from the start), exponential decay in every format")
    def _(f):
        for name in ("float8_e4m3fn", "float8_e5m2"):
            judge(f, np.full(10, 1e-6), name, f"first_zero_step(<constant 1e-6>, torch.{name})")
        decay = 1e-2 * 0.9 ** np.arange(1_500)
        for name in DTYPES:
            judge(f, decay, name, f"first_zero_step(<1e-2 * 0.9^t, t < 1500>, torch.{name})")

    @g.check("random decays (exponential and polynomial) in random formats", random=True)
    def _(f, rng):
        for _ in range(5):
            name = str(rng.choice(DTYPES))
            T = int(rng.integers(10, 3_000))
            t = np.arange(T)
            lrs = [float(rng.uniform(1e-4, 1)) * float(rng.uniform(0.8, 0.999)) ** t,
                   float(rng.uniform(1e-6, 1e-2)) * (1 - t / T) ** float(rng.uniform(1, 8))][int(rng.integers(0, 2))]
            judge(f, lrs, name, f"first_zero_step(<random decay, T={T}>, torch.{name})")

    return g.run()


# ============================================================================ E5.1c the weight stalls
def _cosine_runs(judge, f, names, fname: str) -> None:
    """``judge`` the runs from w = 1 with grad 1 under 200 cosine steps from 1e-3, per format."""
    lrs = 1e-3 * 0.5 * (1 + np.cos(np.pi * np.arange(200) / 200))
    for name in names:
        judge(f, 1.0, lrs, 1.0, name, f"{fname}(1.0, <cosine from 1e-3>, 1.0, torch.{name})")


def _random_runs(judge, f, rng, n: int, names, max_steps: int, top: float, fname: str) -> None:
    """``judge`` ``n`` random runs: a format of ``names``, T in [10, max_steps), a linear
    decay from 10**U(-4, top), w0 in [0.5, 8), grad in [0.1, 2)."""
    for _ in range(n):
        name = str(rng.choice(names))
        T = int(rng.integers(10, max_steps))
        lrs = float(10 ** rng.uniform(-4, top)) * (1 - np.arange(T) / T)
        judge(f, float(rng.uniform(0.5, 8)), lrs, float(rng.uniform(0.1, 2)), name,
              f"{fname}(<random, T={T}>, torch.{name})")


def check_stalled_step(stalled_step, seed=None):
    """Grade ``stalled_step(w0, lrs, grad, dtype)``: run ``w = (w.float() - lrs[t] * grad).to(dtype)``
    from ``w0`` stored in ``dtype``; return the first ``t`` at which ``w`` does not change,
    or -1."""
    g = Checks("Exercise E5.1c: when the weight stops moving", stalled_step, seed=seed, preload=("torch",))

    def judge(f, w0, lrs, grad, name, what):
        got = as_int(call(f, w0, lrs, grad, _dtype(name)), what)
        expected = ref_stalled_step(w0, lrs, grad, _dtype(name))
        if got != expected:
            hint = ""
            if got != -1 and got == ref_first_zero_step(np.asarray(lrs) * grad, _dtype(name)):
                hint = ("that is where the update itself becomes 0; the weight stops moving much earlier, "
                        "when the update is below half the spacing of the format at w")
            elif got == -1:
                hint = ("-1 says the weight never stops moving, but it does: round each new weight to dtype "
                        "and compare it with the old stored weight (==)")
            raise CheckFailed(f"{what} = {got}, expected {expected}", hint)

    @g.check("w = 1 in bfloat16 stalls at once with lr = 1e-3; float16 and float32 later")
    def _(f):
        _cosine_runs(judge, f, ("bfloat16", "float16", "float32"), "stalled_step")

    @g.check("random weights, decays and formats", random=True)
    def _(f, rng):
        _random_runs(judge, f, rng, 4, ("bfloat16", "float16", "float8_e4m3fn", "float8_e5m2"), 400, -1,
                     "stalled_step")

    return g.run()


# ============================================================================ E5.1d the fix
def check_master_weight_run(master_weight_run, seed=None):
    """Grade ``master_weight_run(w0, lrs, grad, dtype)``: keep a float32 master copy,
    ``master = master - lrs[t] * grad`` at each step, and return the final weight stored in
    ``dtype`` (as a float)."""
    g = Checks("Exercise E5.1d: a float32 master copy", master_weight_run, seed=seed, preload=("torch",))

    def judge(f, w0, lrs, grad, name, what):
        got = as_scalar(call(f, w0, lrs, grad, _dtype(name)), what)
        expected = ref_master_weight_run(w0, lrs, grad, _dtype(name))
        stalled = _stalled_value(w0, lrs, grad, _dtype(name))
        hint = "this is the stalled run: update the float32 master, and round only its copy" if got == stalled else ""
        assert_close(got, expected, what, rtol=0, atol=0, hint=hint)

    @g.check("w = 1, 200 cosine steps from 1e-3: the weight now moves in every format")
    def _(f):
        _cosine_runs(judge, f, ("bfloat16", "float16", "float8_e4m3fn"), "master_weight_run")

    @g.check("random runs", random=True)
    def _(f, rng):
        _random_runs(judge, f, rng, 3, ("bfloat16", "float16", "float8_e5m2"), 500, -2, "master_weight_run")

    return g.run()


def _stalled_value(w0, lrs, grad, dtype):
    torch = _torch()
    w = torch.tensor(float(w0), dtype=torch.float64).to(dtype)
    for lr in np.asarray(lrs, dtype=float):
        w = (w.to(torch.float32) - float(lr) * float(grad)).to(dtype)
    return float(w.to(torch.float64))


CHECKS = (check_format_limits, check_first_zero_step, check_stalled_step, check_master_weight_run)
