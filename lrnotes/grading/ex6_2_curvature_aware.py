r"""Exercise E6.2, A curvature-aware learning rate :math:`\eta_t = \alpha/\hat\lambda_t`, with
:math:`\hat\lambda_t` the top Hessian eigenvalue estimated by power iteration on
Hessian-vector products:

.. math:: v \leftarrow Hv/\|Hv\| \ (\text{n times}), \qquad \hat\lambda = v^\top Hv .

In the gradient-descent loop the power iteration is warm-started from the previous
step's vector, so a few products per step suffice.  The grader hands out ``hvp``
functions that count their calls, and judges the answers by accuracy and by that count.
"""

from __future__ import annotations

import numpy as np

from ._core import FLOAT32_HINT, CheckFailed, Checks, as_array, as_pair, as_scalar, assert_close, call
from ._hints import matches
from .ex1_4_critical_learning_rate import random_spd

NUMBER = "6.2"
TITLE = "A curvature-aware learning rate"


class CountingHVP:
    """``hvp(v) = H v`` for a hidden matrix, counting its calls."""

    def __init__(self, H):
        self._H = np.asarray(H, dtype=float)
        self.calls = 0

    def __call__(self, v):
        self.calls += 1
        return self._H @ np.asarray(v, dtype=float)


class Quartic:
    r""":math:`f(x) = \tfrac12 x^\top Ax + \tfrac{c}{4}\sum_i x_i^4`: its gradient, and an ``hvp(x, v)``
    that counts its calls."""

    def __init__(self, A, c):
        self.A, self.c, self.calls = np.asarray(A, float), float(c), 0

    def grad(self, x):
        x = np.asarray(x, float)
        return self.A @ x + self.c * x**3

    def hvp(self, x, v):
        self.calls += 1
        x, v = np.asarray(x, float), np.asarray(v, float)
        return self.A @ v + 3 * self.c * x**2 * v


# ============================================================================ references
def ref_power_iteration(hvp, v0, n_iter):
    v = np.asarray(v0, float) / np.linalg.norm(v0)
    for _ in range(n_iter):
        w = hvp(v)
        v = w / np.linalg.norm(w)
    return float(v @ hvp(v)), v


def ref_curvature_aware_gd(grad, hvp, x0, v0, alpha, n_steps, n_power):
    x, v = np.asarray(x0, float).copy(), np.asarray(v0, float) / np.linalg.norm(v0)
    lams = np.empty(n_steps)
    for t in range(n_steps):
        lam, v = ref_power_iteration(lambda u: hvp(x, u), v, n_power)
        lams[t] = lam
        x = x - alpha / lam * grad(x)
    return x, lams


def _cold_restart_gd(grad, hvp, x0, v0, alpha, n_steps, n_power):
    """The mistake: every step's power iteration starts again from v0."""
    x, lams = np.asarray(x0, float).copy(), np.empty(n_steps)
    for t in range(n_steps):
        lams[t], _ = ref_power_iteration(lambda u: hvp(x, u), v0, n_power)
        x = x - alpha / lams[t] * grad(x)
    return x, lams


# ============================================================================ E6.2a power iteration
def check_power_iteration(power_iteration, seed=None):
    r"""Grade ``power_iteration(hvp, v0, n_iter) -> (lam, v)``: ``n_iter`` normalised
    products from ``v0``, then the Rayleigh quotient :math:`\hat\lambda = v^\top Hv` with the
    unit vector ``v``; at most ``n_iter + 1`` calls of ``hvp``."""
    g = Checks("Exercise E6.2a: power iteration", power_iteration, seed=seed)

    def judge(f, H, v0, n_iter, what, converged):
        hvp = CountingHVP(H)
        lam, v = as_pair(call(f, hvp, v0, n_iter, copy_args=False), what)
        lam = as_scalar(lam, f"{what}[0] (lam)")
        v = as_array(v, (len(v0),), f"{what}[1] (v)")
        if hvp.calls > n_iter + 1:
            raise CheckFailed(f"{what} called hvp {hvp.calls} times; the budget is n_iter + 1 = {n_iter + 1}",
                              "one product per iteration, plus one for the Rayleigh quotient")
        lam_ref, v_ref = ref_power_iteration(CountingHVP(H), v0, n_iter)
        if converged:
            top = np.linalg.eigvalsh(H)[-1]
            assert_close(lam, top, f"{what}[0] (lam)", rtol=1e-8)
        else:
            assert_close(lam, lam_ref, f"{what}[0] (lam)", rtol=1e-8, hint="lam = v @ hvp(v) with the unit vector v")
        if abs(np.linalg.norm(v) - 1) > 1e-8:
            norm = np.linalg.norm(v)
            raise CheckFailed(f"{what}[1] has norm {norm:.10g}; return a unit vector",
                              FLOAT32_HINT if abs(norm - 1) < 3e-6 else "")
        if abs(v @ v_ref) < 1 - 1e-6:
            raise CheckFailed(f"{what}[1] is not the power iteration's vector (|cos| = {abs(v @ v_ref):.6f})")

    @g.check("a diagonal matrix: 100 iterations find its top eigenvalue; 1 and 3 iterations match by hand")
    def _(f):
        H = np.diag([1.0, 2.0, 5.0])
        judge(f, H, np.ones(3), 100, "power_iteration(<diag(1, 2, 5)>, ones, 100)", converged=True)
        judge(f, H, np.ones(3), 1, "power_iteration(<diag(1, 2, 5)>, ones, 1)", converged=False)
        judge(f, H, np.array([1.0, -1.0, 0.5]), 3, "power_iteration(<diag(1, 2, 5)>, v0, 3)", converged=False)

    @g.check("random SPD matrices with a spectral gap", random=True)
    def _(f, rng):
        for d in (5, 30):
            H = random_spd(rng, d, 10.0, top=float(10 ** rng.uniform(-1, 2)))
            judge(f, H, rng.standard_normal(d), 300, f"power_iteration(<random SPD {d}x{d}>, v0, 300)", converged=True)

    return g.run()


# ============================================================================ E6.2b the schedule
def check_curvature_aware_gd(curvature_aware_gd, seed=None):
    r"""Grade ``curvature_aware_gd(grad, hvp, x0, v0, alpha, n_steps, n_power) -> (x, lams)``:
    gradient descent :math:`x \leftarrow x - (\alpha/\hat\lambda_t)\nabla f(x)`, with
    :math:`\hat\lambda_t` from ``n_power`` power iterations at :math:`x_t` warm-started from
    the previous vector (``v0`` first); ``lams`` holds the estimates, shape ``(n_steps,)``."""
    g = Checks("Exercise E6.2b: gradient descent with a curvature-aware learning rate", curvature_aware_gd, seed=seed)

    def judge(f, A, c, x0, v0, alpha, n_steps, n_power, what):
        problem = Quartic(A, c)
        x, lams = as_pair(call(f, problem.grad, problem.hvp, x0, v0, alpha, n_steps, n_power, copy_args=False), what)
        single = any(getattr(np.asarray(v), "dtype", None) == np.float32 for v in (x, lams))
        x = as_array(x, (len(x0),), f"{what}[0] (x)")
        lams = as_array(lams, (n_steps,), f"{what}[1] (lams)")
        budget = n_steps * (n_power + 1)
        if problem.calls > budget:
            raise CheckFailed(f"{what} used {problem.calls} Hessian-vector products; the budget is "
                              f"n_steps * (n_power + 1) = {budget}",
                              "warm-start each power iteration from the previous step's vector")
        ref = Quartic(A, c)
        x_ref, lams_ref = ref_curvature_aware_gd(ref.grad, ref.hvp, x0, v0, alpha, n_steps, n_power)
        x_cold, lams_cold = _cold_restart_gd(ref.grad, ref.hvp, x0, v0, alpha, n_steps, n_power)
        if matches(lams, lams_cold, rtol=1e-7) and matches(x, x_cold, rtol=1e-7):
            hint = ("you restarted every power iteration from v0: warm-start it from the previous "
                    "step's vector (v of step t - 1)")
        elif single:
            hint = ("your result is float32 (about 7 digits): compute in float64, NumPy's default")
        else:
            hint = "at step t, run n_power power iterations with hvp(x_t, .) from the previous step's vector"
        assert_close(lams, lams_ref, f"{what}[1] (lams)", at=("step", np.arange(n_steps)), rtol=1e-7, hint=hint)
        assert_close(x, x_ref, f"{what}[0] (x)", rtol=1e-7, atol=1e-12, hint=hint if hint.startswith(
            ("you restarted", "your result")) else "x_{t+1} = x_t - (alpha / lam_t) grad(x_t), with lam_t of step t")

    @g.check("a quadratic (c = 0): the estimate locks onto L and the run is gradient descent at alpha/L")
    def _(f):
        A = np.diag([0.5, 2.0, 10.0])
        judge(f, A, 0.0, np.array([1.0, 1.0, 1.0]), np.ones(3), 1.0, 30, 5,
              "curvature_aware_gd(<diag(0.5, 2, 10), c=0>, alpha=1, 30 steps, 5 power steps)")

    @g.check("a quartic: the curvature changes along the way", random=True)
    def _(f, rng):
        A = random_spd(rng, 6, 20.0, top=5.0)
        judge(f, A, 1.0, rng.uniform(-2, 2, 6), rng.standard_normal(6), 0.9, 40, 3,
              "curvature_aware_gd(<random quartic>, alpha=0.9, 40 steps, 3 power steps)")

    return g.run()


CHECKS = (check_power_iteration, check_curvature_aware_gd)
