r"""Exercise E1.6, Batch size and the noise floor: SGD on :math:`f(\theta) = \lambda\theta^2/2`
with gradient noise of variance :math:`\sigma^2/B` (a mini-batch of :math:`B` samples).

With :math:`a = 1 - \eta\lambda`, the variance obeys :math:`V_{t+1} = a^2V_t + \eta^2\sigma^2/B`,
so from :math:`\theta_0 = 0`

.. math:: V_n = \frac{\eta^2\sigma^2}{B}\,\frac{1 - a^{2n}}{1 - a^2}, \qquad
          V_\infty = \frac{\eta\sigma^2}{B\lambda(2 - \eta\lambda)}, \quad 0 < \eta\lambda < 2 .
"""

from __future__ import annotations

import numpy as np

from ._core import Case, CheckFailed, Checks, as_scalar, assert_close, call, compare, diagnose, rejects, \
    reproducible

NUMBER = "1.6"
TITLE = "Batch size and the noise floor"


# ============================================================================ references
def ref_stationary_variance(eta, lam, sigma2, B):
    eta = np.asarray(eta, dtype=float)
    return eta * sigma2 / (B * lam * (2.0 - eta * lam))


def ref_equal_noise_lr(eta, B, B_new, lam):
    c = eta / (B * (2.0 - eta * lam))
    return 2.0 * c * B_new / (1.0 + c * B_new * lam)


def ref_finite_variance(eta, lam, sigma2, B, n_steps):
    a2 = (1.0 - eta * lam) ** 2
    return eta**2 * sigma2 / B * (1.0 - a2**n_steps) / (1.0 - a2)


# ============================================================================ E1.6a the floor
def check_stationary_variance(stationary_variance, seed=None):
    r"""Grade ``stationary_variance(eta, lam, sigma2, B)``:
    :math:`\eta\sigma^2/(B\lambda(2-\eta\lambda))` (``eta`` a number or an array);
    ``ValueError`` naming the argument when no stationary variance exists or an input is bad."""
    g = Checks("Exercise E1.6a: the stationary variance", stationary_variance, seed=seed)

    def mistakes(eta, lam, sigma2, B):
        eta = np.asarray(eta, float)
        return {"the small-eta approximation eta sigma^2 / (2 B lambda) drops the factor 2 - eta lambda: "
                "keep it": eta * sigma2 / (2 * B * lam),
                "the noise of a batch of B samples has variance sigma^2 / B": eta * sigma2 / (lam * (2 - eta * lam)),
                "you returned the expected loss lambda V / 2, not the variance V":
                lam * ref_stationary_variance(eta, lam, sigma2, B) / 2}

    @g.check("a number and an array of learning rates, up to just below 2/lambda")
    def _(f):
        cases = [Case((0.1, 1.0, 1.0, 1)), Case((0.3, 2.0, 1.5, 4)),
                 Case((np.linspace(0.01, 0.99, 50), 2.0, 0.5, 32), label="stationary_variance(<50 etas>, 2, 0.5, 32)")]
        compare(f, cases[:2], ref_stationary_variance, scalar=True, mistakes=mistakes)
        compare(f, cases[2:], ref_stationary_variance, at="eta", mistakes=mistakes)

    @g.check("random settings", random=True)
    def _(f, rng):
        for _ in range(6):
            lam, B = float(10 ** rng.uniform(-2, 2)), int(rng.integers(1, 4096))
            eta, s2 = float(rng.uniform(0.001, 1.999) / lam), float(10 ** rng.uniform(-3, 2))
            compare(f, [Case((eta, lam, s2, B))], ref_stationary_variance, scalar=True, mistakes=mistakes)

    @g.check("rejects with ValueError naming the argument: eta outside (0, 2/lam), lam <= 0, sigma2 < 0, "
             "B not an integer >= 1",
             hint="at eta >= 2/lam the iteration diverges: there is no stationary variance")
    def _(f):
        rejects(f, [((1.0, 2.0, 1.0, 1), {}, ("eta",)), ((1.5, 2.0, 1.0, 1), {}, ("eta",)),
                    ((0.0, 2.0, 1.0, 1), {}, ("eta",)), ((float("nan"), 2.0, 1.0, 1), {}, ("eta",)),
                    ((0.1, 0.0, 1.0, 1), {}, ("lam",)), ((0.1, 1.0, -1.0, 1), {}, ("sigma2",)),
                    ((0.1, 1.0, 1.0, 0), {}, ("B",)), ((0.1, 1.0, 1.0, 2.5), {}, ("B",))])

    return g.run()


# ============================================================================ E1.6b equal noise
def check_equal_noise_lr(equal_noise_lr, seed=None):
    r"""Grade ``equal_noise_lr(eta, B, B_new, lam)``: the learning rate at batch size
    ``B_new`` with the same stationary variance as ``eta`` at batch size ``B``."""
    g = Checks("Exercise E1.6b: the learning rate for a new batch size", equal_noise_lr, seed=seed)

    def mistakes(eta, B, B_new, lam):
        return {"the linear scaling rule eta B_new / B is only the small-eta limit: solve the exact equation":
                eta * B_new / B,
                "the square-root rule is for Adam-like noise models; here solve V(eta', B_new) = V(eta, B)":
                eta * np.sqrt(B_new / B)}

    @g.check("B -> B (unchanged), B -> 2B and B -> B/4 at lambda = 1")
    def _(f):
        cases = [Case((0.5, 64, 64, 1.0)), Case((0.5, 64, 128, 1.0)), Case((0.2, 256, 64, 1.0))]
        compare(f, cases, ref_equal_noise_lr, scalar=True, mistakes=mistakes)

    @g.check("random settings: the new learning rate gives the same stationary variance, below 2/lambda",
             random=True)
    def _(f, rng):
        for _ in range(6):
            lam = float(10 ** rng.uniform(-1, 1))
            eta, B = float(rng.uniform(0.01, 1.9) / lam), int(rng.integers(1, 512))
            B_new = int(rng.integers(1, 8192))
            what = f"equal_noise_lr({eta:.5g}, {B}, {B_new}, {lam:.5g})"
            got = as_scalar(call(f, eta, B, B_new, lam), what)
            assert_close(got, ref_equal_noise_lr(eta, B, B_new, lam), what,
                         hint=diagnose(got, mistakes(eta, B, B_new, lam)))
            if not 0 < got * lam < 2:
                raise CheckFailed(f"{what} = {got:.6g} is not below 2/lambda = {2 / lam:.6g}")

    return g.run()


# ============================================================================ E1.6c simulate
def check_simulated_variance(simulated_variance, seed=None):
    r"""Grade ``simulated_variance(eta, lam, sigma2, B, n_steps, n_seeds, rng)``: the variance
    over ``n_seeds`` runs (vectorised) of :math:`\theta_n` after ``n_steps`` of SGD from
    :math:`\theta_0 = 0`, noise drawn from ``rng``.  Judged statistically against
    :math:`V_n`: within 6 standard errors, :math:`\sqrt{2/(n-1)}\,V_n`."""
    g = Checks("Exercise E1.6c: the variance, simulated", simulated_variance, seed=seed)

    def judge(f, eta, lam, s2, B, n_steps, n_seeds, rng_seed):
        what = f"simulated_variance({eta:.4g}, {lam:.4g}, {s2:.4g}, {B}, {n_steps}, {n_seeds}, rng)"
        got = as_scalar(call(f, eta, lam, s2, B, n_steps, n_seeds, np.random.default_rng(rng_seed)), what)
        exact = ref_finite_variance(eta, lam, s2, B, n_steps)
        se = exact * np.sqrt(2.0 / (n_seeds - 1))
        z = (got - exact) / se
        if abs(z) > 6:
            hint = ""
            if np.isclose(got, exact * B, rtol=0.1):
                hint = "a batch of B samples averages B noises: the variance of the mean is sigma^2 / B"
            elif np.isclose(got, ref_stationary_variance(eta, lam, s2, B), rtol=1e-9):
                hint = "simulate the runs: this is the closed form of the stationary variance"
            elif abs(got - ref_finite_variance(eta, lam, s2, B, n_steps - 1)) < 4 * se:
                hint = f"this is the variance after {n_steps - 1} steps: take exactly n_steps = {n_steps} steps"
            elif abs(got - ref_finite_variance(eta, lam, s2, B, n_steps + 1)) < 4 * se:
                hint = f"this is the variance after {n_steps + 1} steps: take exactly n_steps = {n_steps} steps"
            raise CheckFailed(f"{what} = {got:.6g}, but the exact variance is {exact:.6g} "
                              f"({z:+.1f} standard errors away)", hint)
        return got

    @g.check("close to the exact variance (one long run to stationarity; short runs, where one step "
             "more or less changes the variance by 20% or more)")
    def _(f):
        judge(f, 0.1, 1.0, 1.0, 1, 300, 20_000, 1)
        # a = 1 - eta lam = 0.9: V_2, V_3, V_4 differ by over 20%, V_1 and V_2 by 81% (6 s.e. = 6%)
        judge(f, 0.1, 1.0, 2.0, 16, 3, 20_000, 2)
        judge(f, 0.3, 1 / 3, 1.0, 4, 1, 20_000, 3)

    @g.check("reproducible: the same rng seed gives the same number, another seed another number")
    def _(f):
        reproducible(lambda seed: judge(f, 0.2, 1.0, 1.0, 4, 50, 5_000, seed))

    @g.check("random settings", random=True)
    def _(f, rng):
        for _ in range(3):
            lam = float(10 ** rng.uniform(-1, 1))
            # at most 10_000 runs x 200 steps x 8 draws: a literal simulation drawing B samples a step fits
            eta, B = float(rng.uniform(0.05, 1.5) / lam), int(rng.integers(1, 9))
            judge(f, eta, lam, float(rng.uniform(0.1, 3)), B, int(rng.integers(1, 200)), 10_000,
                  int(rng.integers(0, 2**31)))

    return g.run()


CHECKS = (check_stationary_variance, check_equal_noise_lr, check_simulated_variance)
