r"""Exercise E1.4, The critical learning rate of gradient descent on a quadratic
:math:`f(x) = \tfrac12 x^\top H x`: :math:`2/L` from the Hessian, the threshold measured on
a grid of learning rates, and the real criterion for a *schedule*:

.. math:: \langle x_T, u_i\rangle = \prod_{t}(1 - \eta_t\lambda_i)\,\langle x_0, u_i\rangle,
          \qquad \text{growth}_i = \sum_t \log|1 - \eta_t\lambda_i| .
"""

from __future__ import annotations

import numpy as np

from ._core import Case, CheckFailed, Checks, as_array, as_scalar, assert_close, call, compare, diagnose, \
    expect_value_error, rejects

NUMBER = "1.4"
TITLE = "The critical learning rate"


# ============================================================================ references
def random_spd(rng: np.random.Generator, d: int, cond: float, top: float = 1.0) -> np.ndarray:
    """A symmetric positive definite matrix with largest eigenvalue ``top`` and condition
    number ``cond`` (eigenvalues log-spaced), in a random orthonormal basis."""
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = top * np.logspace(-np.log10(cond), 0, d) if d > 1 else np.array([top])
    h = (q * eig) @ q.T
    return (h + h.T) / 2


def ref_critical_lr(H):
    return 2.0 / np.linalg.eigvalsh(np.asarray(H, dtype=float))[-1]


def ref_final_norms(H, etas, x0, n_steps):
    H, etas, x = np.asarray(H, float), np.asarray(etas, float), np.asarray(x0, float)
    X = np.broadcast_to(x, (etas.size, x.size)).copy()
    for _ in range(n_steps):
        X -= etas[:, None] * (X @ H)  # H is symmetric
    return np.linalg.norm(X, axis=1)


def ref_threshold(H, etas, x0, n_steps):
    norms = ref_final_norms(H, etas, x0, n_steps)
    above = np.flatnonzero(norms > np.linalg.norm(x0))
    return float(etas[above[0]]) if above.size else np.inf


def ref_log_growth(lrs, eigenvalues):
    lrs, lam = np.asarray(lrs, dtype=float), np.asarray(eigenvalues, dtype=float)
    with np.errstate(divide="ignore"):
        return np.sum(np.log(np.abs(1.0 - lrs[None, :] * lam[:, None])), axis=1)


# ============================================================================ E1.4b 2/L
def _lr_mistakes(H):
    H = np.asarray(H, dtype=float)
    eig = np.linalg.eigvalsh(H)
    return {
        "you used the diagonal of H; it holds the eigenvalues only when H is diagonal": 2.0 / np.max(np.diag(H)),
        "you used the smallest eigenvalue; divergence is set by the largest (steepest) one": 2.0 / eig[0],
        "the threshold is 2/L, not 1/L": 1.0 / eig[-1],
        "the Frobenius norm only bounds L from above; compute the eigenvalues": 2.0 / np.linalg.norm(H),
        "you returned L itself; the learning rate is 2/L": eig[-1],
    }


CRITICAL_CASES = [
    Case((np.array([[4.0]]),), label="critical_lr([[4]])"),
    Case((np.diag([1.0, 10.0, 3.0]),), label="critical_lr(diag(1, 10, 3))"),
    Case((np.array([[3.0, 1.0], [1.0, 3.0]]),), label="critical_lr([[3, 1], [1, 3]])"),
    Case(([[2.0, 1.0], [1.0, 2.0]],), label="critical_lr(<nested list [[2, 1], [1, 2]]>)"),
]
CRITICAL_BAD = [
    ((np.ones((2, 3)),), {}, ("H",)),
    ((np.ones(3),), {}, ("H",)),
    ((np.array([[1.0, 2.0], [0.0, 1.0]]),), {}, ("H",)),
    ((np.diag([1.0, -1.0]),), {}, ("H",)),
    ((np.array([[1.0, 1.0], [1.0, 1.0]]),), {}, ("H",)),  # singular: eigenvalues 0 and 2
    ((np.zeros((3, 3)),), {}, ("H",)),
    ((np.array([[1.0, np.nan], [np.nan, 1.0]]),), {}, ("H",)),
    ((np.array([[np.inf, 0.0], [0.0, 1.0]]),), {}, ("H",)),
]


def check_critical_lr(critical_lr, seed=None):
    """Grade ``critical_lr(H)``: ``2 / L`` with ``L`` the largest eigenvalue of the symmetric
    positive definite matrix ``H``; ``ValueError`` naming ``H`` for anything else."""
    g = Checks("Exercise E1.4b: the critical learning rate 2/L", critical_lr, seed=seed)
    hint = "np.linalg.eigvalsh returns the eigenvalues of a symmetric matrix in ascending order"

    @g.check("1x1, diagonal, rotated, and a plain nested list")
    def _(f):
        compare(f, CRITICAL_CASES, ref_critical_lr, scalar=True, mistakes=_lr_mistakes, rtol=1e-8, hint=hint)

    @g.check("random SPD matrices, d = 2..40, condition numbers up to 1e8", random=True)
    def _(f, rng):
        for d, cond in [(2, 10.0 ** rng.uniform(0, 3)), (5, 10.0 ** rng.uniform(0, 3)), (13, 1e4), (40, 1e8)]:
            H = random_spd(rng, d, cond, top=10.0 ** rng.uniform(-2, 3))
            compare(f, [Case((H,), label=f"critical_lr(<random SPD {d}x{d}, cond {cond:.1e}>)")], ref_critical_lr,
                    scalar=True, mistakes=_lr_mistakes, rtol=1e-6, hint=hint)

    @g.check("H is not modified")
    def _(f):
        H = np.array([[3.0, 1.0], [1.0, 2.0]])
        call(f, H, copy_args=False)
        if not np.array_equal(H, [[3.0, 1.0], [1.0, 2.0]]):
            raise CheckFailed("critical_lr changed its input H", "work on a copy, or don't write into H")

    @g.check("rejects with ValueError naming H: not square, not symmetric, not positive definite "
             "(singular included), not finite",
             hint="np.ndim / H.shape for squareness, np.allclose(H, H.T) for symmetry, the smallest "
                  "eigenvalue > 1e-12 * the largest for positive definiteness (rounding leaves a "
                  "zero eigenvalue at about +-1e-16, so eig_min > 0 alone is not enough)")
    def _(f):
        rejects(f, CRITICAL_BAD)

    @g.check("rejects random singular (rank-deficient) matrices: smallest eigenvalue at most "
             "1e-12 times the largest, as the task says", random=True,
             hint="rounding leaves the zero eigenvalue at about +-1e-16: raise when the smallest "
                  "eigenvalue is at most 1e-12 times the largest")
    def _(f, rng):
        for d in (3, 8):
            A = rng.standard_normal((d, d - 1))
            expect_value_error(f, A @ A.T, names=("H",))

    return g.run()


# ============================================================================ E1.4c final norms
def check_final_norms(final_norms, seed=None):
    r"""Grade ``final_norms(H, etas, x0, n_steps)``: for each learning rate in ``etas``,
    :math:`\|x_n\|` after ``n_steps`` of gradient descent from ``x0``, shape ``(len(etas),)``."""
    g = Checks("Exercise E1.4c: gradient descent on a grid of learning rates", final_norms, seed=seed)

    def mistakes(H, etas, x0, n):
        right = ref_final_norms(H, etas, x0, n)
        return {"you returned the squared norm; return np.linalg.norm(x)": right**2,
                "you ran one step too few": ref_final_norms(H, etas, x0, max(n - 1, 0)),
                "you ran one step too many": ref_final_norms(H, etas, x0, n + 1)}

    hint = "the update is x <- x - eta * (H @ x), once per step, for each eta separately"

    @g.check("one dimension, H = [[2]]: |1 - 2 eta|^n; and n_steps = 0 returns |x0|")
    def _(f):
        cases = [Case((np.array([[2.0]]), np.array([0.1, 0.5, 0.9, 1.2]), np.array([1.0]), 3)),
                 Case((np.eye(3), np.array([0.1, 1.0, 5.0]), np.array([3.0, 0.0, 4.0]), 0)),
                 Case((np.diag([1.0, 3.0]), np.array([0.5]), np.array([1.0, 1.0]), 10),
                      label="final_norms(diag(1, 3), [0.5], x0, 10): one eta gives shape (1,)")]
        compare(f, cases, ref_final_norms, mistakes=mistakes, at=("eta", 1), hint=hint)

    @g.check("random SPD matrices and 50 learning rates on both sides of 2/L", random=True)
    def _(f, rng):
        for d, cond in [(2, 3.0), (8, 1e2), (25, 1e5)]:
            H = random_spd(rng, d, cond, top=10.0 ** rng.uniform(-1, 2))
            etas = np.linspace(0.05, 1.4, 50) * ref_critical_lr(H)
            case = Case((H, etas, rng.standard_normal(d), 60), label=f"final_norms(<{d}x{d}>, <50 etas>, x0, 60)")
            compare(f, [case], ref_final_norms, mistakes=mistakes, at=("eta", 1), rtol=1e-7, hint=hint)

    return g.run()


# ============================================================================ E1.4d the threshold
def check_empirical_threshold(empirical_threshold, seed=None):
    """Grade ``empirical_threshold(H, etas, x0, n_steps)``: the smallest ``eta`` of the
    ascending grid ``etas`` for which ``|x_n| > |x0|`` after ``n_steps`` (``np.inf`` if
    none), which should sit just above ``2/L``."""
    g = Checks("Exercise E1.4d: the divergence threshold, measured", empirical_threshold, seed=seed)

    def compare_threshold(f, H, etas, x0, n, what):
        got = as_scalar(call(f, H, etas, x0, n), what, allow_inf=True)
        expected = ref_threshold(H, etas, x0, n)
        if got == -np.inf:
            raise CheckFailed(f"{what} = -inf, which is not a learning rate",
                              "return the first eta of the grid whose run diverged, or +inf (np.inf) if none did")
        if np.isinf(expected) or np.isinf(got):
            if got != expected:
                raise CheckFailed(f"{what} = {got:.6g}, expected {expected:.6g}",
                                  "return np.inf exactly when no learning rate of the grid diverges")
            return
        if not np.any(np.isclose(got, etas, rtol=1e-12, atol=0)):
            raise CheckFailed(f"{what} = {got:.6g} is not one of the grid's learning rates",
                              "return the first eta of the grid whose run diverged")
        if got != expected:
            hint = "compare |x_n| with |x0| (not with 0, and not |x_n| > some big number)"
            if got < expected:
                hint = "this eta did not diverge: |x_n| must end above |x0|"
            raise CheckFailed(f"{what} = {got:.6g}, expected {expected:.6g}", hint)

    @g.check("H = diag(1, 4): the threshold is just above 2/L = 0.5")
    def _(f):
        compare_threshold(f, np.diag([1.0, 4.0]), np.round(np.linspace(0.1, 1.0, 91), 12), np.array([1.0, 1.0]),
                          200, "empirical_threshold(diag(1, 4), 0.10..1.00, [1, 1], 200)")

    @g.check("a grid entirely below 2/L returns inf; a grid entirely above returns its first eta")
    def _(f):
        H, x0 = np.diag([0.5, 2.0]), np.array([1.0, -1.0])
        compare_threshold(f, H, np.linspace(0.1, 0.9, 9), x0, 100, "empirical_threshold(diag(0.5, 2), 0.1..0.9, x0, 100)")
        compare_threshold(f, H, np.linspace(1.2, 2.0, 5), x0, 100, "empirical_threshold(diag(0.5, 2), 1.2..2.0, x0, 100)")

    @g.check("random SPD matrices, from well- to ill-conditioned (cond up to 1e6)", random=True)
    def _(f, rng):
        for d, cond in [(3, 1.0), (10, 1e2), (30, 1e4), (30, 1e6)]:
            H = random_spd(rng, d, cond, top=10.0 ** rng.uniform(-1, 2))
            etas = np.linspace(0.5, 1.5, 201) * ref_critical_lr(H)
            compare_threshold(f, H, etas, rng.standard_normal(d), 300,
                              f"empirical_threshold(<{d}x{d}, cond {cond:.0e}>, <201 etas around 2/L>, x0, 300)")

    return g.run()


# ============================================================================ E1.4e schedules
def check_log_growth(log_growth, seed=None):
    r"""Grade ``log_growth(lrs, eigenvalues)``: for each eigenvalue :math:`\lambda`,
    :math:`\sum_t \log|1 - \eta_t\lambda|` (``-inf`` where a factor is exactly 0), shape
    ``(len(eigenvalues),)``."""
    g = Checks("Exercise E1.4e: does a schedule diverge?", log_growth, seed=seed)

    def mistakes(lrs, lam):
        lrs, lam = np.asarray(lrs, float), np.asarray(lam, float)
        return {"a step above 2/lambda alone does not decide it: add log|1 - eta_t lambda| over all steps":
                np.where(np.any(lrs[None, :] * lam[:, None] > 2, axis=1), np.inf, 0.0),
                "take the absolute value before the log: a factor 1 - eta lambda < -1 still grows":
                np.sum(np.log(np.maximum(1.0 - lrs[None, :] * lam[:, None], 1e-300)), axis=1)}

    @g.check("constant learning rates: T log|1 - eta lambda|; the cycle 2.5/L, 1.5/L shrinks by 0.75 per pair")
    def _(f):
        cases = [Case((np.full(10, 0.1), np.array([1.0, 5.0, 25.0])), label="log_growth(<0.1 x 10>, [1, 5, 25])"),
                 Case((np.tile([2.5, 1.5], 8), np.array([1.0])), label="log_growth(<2.5, 1.5 x 8>, [1])"),
                 Case((np.array([0.5, 1.0, 0.25]), np.array([2.0, 1.0, 4.0])),
                      label="log_growth([0.5, 1, 0.25], [2, 1, 4]): exact zeros give -inf")]
        for case in cases:
            lrs, lam = case.args
            expected = ref_log_growth(lrs, lam)
            got = as_array(call(f, lrs, lam), expected.shape, case.label, finite=False)
            if np.isnan(got).any():
                raise CheckFailed(f"{case.label} returned NaN", "log(0) is -inf; NaN comes from 0 * inf or inf - inf")
            assert_close(got, expected, case.label, hint=diagnose(got, mistakes(lrs, lam)))

    @g.check("random schedules (warmup, cyclical, decaying) over random spectra", random=True)
    def _(f, rng):
        for _ in range(5):
            T = int(rng.integers(5, 400))
            L = float(10 ** rng.uniform(-1, 2))
            peak = float(rng.uniform(0.5, 2.6)) / L
            kind = int(rng.integers(0, 3))
            t = np.arange(T)
            lrs = [peak * np.minimum(1, (t + 1) / (T / 4)), peak * (1 + (t % 2)) / 2, peak * (1 - t / T)][kind]
            lam = np.sort(rng.uniform(0, L, 7))
            expected = ref_log_growth(lrs, lam)
            what = f"log_growth(<random schedule of {T} steps>, <7 eigenvalues>)"
            got = as_array(call(f, lrs, lam), expected.shape, what, finite=False)
            assert_close(got, expected, what, rtol=1e-8, atol=1e-9, hint=diagnose(got, mistakes(lrs, lam)))

    return g.run()


CHECKS = (check_critical_lr, check_final_norms, check_empirical_threshold, check_log_growth)
