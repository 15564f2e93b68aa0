r"""Exercise E1.5, Momentum moves the threshold: heavy ball
:math:`x_{t+1} = x_t - \eta\nabla f(x_t) + \beta(x_t - x_{t-1})` on a quadratic.

Along an eigenvector with eigenvalue :math:`\lambda` the iteration is linear with
characteristic polynomial :math:`z^2 - (1 + \beta - \eta\lambda)z + \beta`; both roots lie
inside the unit circle iff :math:`0 \le \beta < 1` and :math:`0 < \eta\lambda < 2(1+\beta)`,
so the critical learning rate is :math:`2(1+\beta)/L`.
"""

from __future__ import annotations

import numpy as np

from ._core import Case, CheckFailed, Checks, as_array, call, compare, rejects
from .ex1_4_critical_learning_rate import random_spd

NUMBER = "1.5"
TITLE = "Momentum moves the threshold"


# ============================================================================ references
def ref_heavy_ball_critical_lr(H, beta):
    return 2.0 * (1.0 + beta) / np.linalg.eigvalsh(np.asarray(H, dtype=float))[-1]


def ref_spectral_radius(eta, lam, beta):
    c = 1.0 + beta - np.asarray(eta, dtype=float) * lam
    disc = c * c - 4.0 * beta
    root = np.sqrt(np.abs(disc))
    real = np.maximum(np.abs(c + root), np.abs(c - root)) / 2.0
    return np.where(disc >= 0, real, np.sqrt(beta) * np.ones_like(c))


def ref_heavy_ball_norms(H, etas, beta, x0, n_steps, _prev_zero=False):
    H, etas = np.asarray(H, float), np.asarray(etas, float)
    X = np.broadcast_to(np.asarray(x0, float), (etas.size, len(x0))).copy()
    prev = np.zeros_like(X) if _prev_zero else X.copy()  # start at rest: x_{-1} = x_0
    for _ in range(n_steps):
        X, prev = X - etas[:, None] * (X @ H) + beta * (X - prev), X
    return np.linalg.norm(X, axis=1)


# ============================================================================ E1.5a the threshold
def check_heavy_ball_critical_lr(heavy_ball_critical_lr, seed=None):
    r"""Grade ``heavy_ball_critical_lr(H, beta)``: :math:`2(1+\beta)/L`; ``ValueError`` naming
    ``beta`` unless :math:`0 \le \beta < 1`, naming ``H`` unless ``H`` is symmetric positive
    definite."""
    g = Checks("Exercise E1.5a: the heavy-ball critical learning rate", heavy_ball_critical_lr, seed=seed)

    def mistakes(H, beta):
        L = np.linalg.eigvalsh(np.asarray(H, float))[-1]
        return {"momentum raises the threshold: it is 2(1 + beta)/L, not 2/L": 2.0 / L,
                "the threshold is 2(1 + beta)/L, not 2/((1 + beta) L)": 2.0 / ((1 + beta) * L),
                "the threshold is 2(1 + beta)/L, not 2/(1 - beta)/L": 2.0 / ((1 - beta) * L)}

    @g.check("beta = 0 is plain gradient descent (2/L); beta = 0.5 and 0.9 on small matrices")
    def _(f):
        cases = [Case((np.diag([1.0, 4.0]), 0.0)), Case((np.diag([1.0, 4.0]), 0.5)),
                 Case((np.array([[3.0, 1.0], [1.0, 3.0]]), 0.9))]
        compare(f, cases, ref_heavy_ball_critical_lr, scalar=True, mistakes=mistakes, rtol=1e-8)

    @g.check("random SPD matrices and momenta", random=True)
    def _(f, rng):
        for d in (2, 6, 20):
            H = random_spd(rng, d, 10.0 ** rng.uniform(0, 4), top=10.0 ** rng.uniform(-1, 2))
            beta = float(rng.uniform(0, 0.99))
            compare(f, [Case((H, beta), label=f"heavy_ball_critical_lr(<random SPD {d}x{d}>, {beta:.4g})")],
                    ref_heavy_ball_critical_lr, scalar=True, mistakes=mistakes, rtol=1e-6)

    @g.check("rejects bad beta and bad H with ValueError naming the argument",
             hint="beta must be a finite number in [0, 1); H symmetric positive definite")
    def _(f):
        H = np.diag([1.0, 2.0])
        rejects(f, [((H, 1.0), {}, ("beta",)), ((H, -0.1), {}, ("beta",)), ((H, float("nan")), {}, ("beta",)),
                    ((np.diag([1.0, 0.0]), 0.5), {}, ("H",)), ((np.ones((2, 3)), 0.5), {}, ("H",)),
                    ((np.array([[1.0, 2.0], [0.0, 1.0]]), 0.5), {}, ("H",))])

    return g.run()


# ============================================================================ E1.5b spectral radius
def check_spectral_radius(spectral_radius, seed=None):
    r"""Grade ``spectral_radius(eta, lam, beta)``: the largest :math:`|z|` among the roots of
    :math:`z^2 - (1+\beta-\eta\lambda)z + \beta`, element-wise over an array ``eta``."""
    g = Checks("Exercise E1.5b: the contraction factor of heavy ball", spectral_radius, seed=seed)

    def mistakes(eta, lam, beta):
        eta = np.asarray(eta, float)
        return {"with beta > 0 the factor is not |1 - eta lambda|: find the roots of the quadratic":
                np.abs(1 - eta * lam),
                "complex roots have modulus sqrt(beta), not |real part|":
                np.where((1 + beta - eta * lam) ** 2 < 4 * beta, np.abs(1 + beta - eta * lam) / 2,
                         ref_spectral_radius(eta, lam, beta))}

    @g.check("beta = 0 gives |1 - eta lambda|; real and complex roots; the threshold 2(1+beta)/lambda")
    def _(f):
        eta = np.linspace(0.0, 1.2, 61)
        cases = [Case((eta, 2.0, 0.0)), Case((eta, 2.0, 0.5)), Case((eta, 3.0, 0.9)),
                 Case((np.array([2 * 1.5 / 2.0 - 1e-9, 2 * 1.5 / 2.0 + 1e-9]), 2.0, 0.5),
                      label="spectral_radius(<each side of 2(1+beta)/lambda>, 2, 0.5)")]
        compare(f, cases, ref_spectral_radius, at="eta", mistakes=mistakes, rtol=1e-7, atol=1e-9)
        r = as_array(call(f, np.array([1.5 - 1e-6, 1.5 + 1e-6]), 2.0, 0.5), (2,), "spectral_radius(near 1.5, 2, 0.5)")
        if not (r[0] < 1 < r[1]):
            raise CheckFailed(f"spectral radius {r[0]:.8g}, {r[1]:.8g} on each side of eta = 2(1+beta)/lambda = 1.5; "
                              "expected < 1 then > 1")

    @g.check("random eigenvalues, momenta and learning-rate grids", random=True)
    def _(f, rng):
        for _ in range(5):
            lam, beta = float(10 ** rng.uniform(-1, 2)), float(rng.uniform(0, 0.99))
            eta = np.sort(rng.uniform(0, 2.5 * (1 + beta) / lam, 100))
            compare(f, [Case((eta, lam, beta), label=f"spectral_radius(<100 etas>, {lam:.4g}, {beta:.4g})")],
                    ref_spectral_radius, at="eta", mistakes=mistakes, rtol=1e-7, atol=1e-9)

    return g.run()


# ============================================================================ E1.5c the experiment
def check_heavy_ball_norms(heavy_ball_norms, seed=None):
    r"""Grade ``heavy_ball_norms(H, etas, beta, x0, n_steps)``: :math:`\|x_n\|` after
    ``n_steps`` of heavy ball from rest (:math:`x_{-1} = x_0`), one per learning rate."""
    g = Checks("Exercise E1.5c: heavy ball on a grid of learning rates", heavy_ball_norms, seed=seed)

    def mistakes(H, etas, beta, x0, n):
        return {"start at rest: the first step has no momentum (x_{-1} = x_0)":
                ref_heavy_ball_norms(H, etas, beta, x0, n, _prev_zero=True),
                "beta = 0 here would be gradient descent; you ignored beta":
                ref_heavy_ball_norms(H, etas, 0.0, x0, n)}

    @g.check("one dimension, and n_steps = 0 returns |x0|")
    def _(f):
        cases = [Case((np.array([[2.0]]), np.array([0.1, 0.5, 1.0, 1.6]), 0.5, np.array([1.0]), 5)),
                 Case((np.eye(2), np.array([0.3, 3.0]), 0.9, np.array([3.0, 4.0]), 0))]
        compare(f, cases, ref_heavy_ball_norms, at=("eta", 1), mistakes=mistakes)

    @g.check("random SPD matrices and momenta, a grid on both sides of 2(1+beta)/L", random=True)
    def _(f, rng):
        for d in (3, 12):
            H = random_spd(rng, d, 10.0 ** rng.uniform(0, 3), top=10.0 ** rng.uniform(-1, 1))
            beta = float(rng.uniform(0, 0.95))
            etas = np.linspace(0.05, 1.3, 40) * ref_heavy_ball_critical_lr(H, beta)
            compare(f, [Case((H, etas, beta, rng.standard_normal(d), 80),
                             label=f"heavy_ball_norms(<{d}x{d}>, <40 etas>, {beta:.3g}, x0, 80)")],
                    ref_heavy_ball_norms, at=("eta", 1), mistakes=mistakes, rtol=1e-7)

    return g.run()


CHECKS = (check_heavy_ball_critical_lr, check_spectral_radius, check_heavy_ball_norms)
