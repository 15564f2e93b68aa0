r"""Exercise E4.1, The noisy quadratic, exactly: SGD
:math:`\theta_{t+1} = \theta_t - \eta_t(\lambda\theta_t + \sigma\xi_t)`, :math:`\xi_t \sim N(0, 1)`,
from :math:`\theta_1`.  The mean and the variance follow linear recursions,

.. math:: \mu_{t+1} = (1-\eta_t\lambda)\,\mu_t, \qquad
          v_{t+1} = (1-\eta_t\lambda)^2\,v_t + \eta_t^2\sigma^2, \qquad v_1 = 0,

and :math:`\theta_{T+1}` is Gaussian, so a Monte Carlo estimate can be judged with exact
standard errors: :math:`\sqrt{v/n}` for the mean, :math:`v\sqrt{2/(n-1)}` for the variance.
"""

from __future__ import annotations

import numpy as np

from ._core import CheckFailed, Checks, as_array, as_pair, as_scalar, assert_close, call, diagnose, rejects, \
    reproducible

NUMBER = "4.1"
TITLE = "The noisy quadratic, exactly"


# ============================================================================ references
def ref_exact_moments(lrs, theta1, lam, sigma):
    eta = np.asarray(lrs, dtype=float)
    a = 1.0 - eta * lam
    mean = theta1 * np.prod(a, axis=-1)
    var = np.zeros(eta.shape[:-1])
    for t in range(eta.shape[-1]):
        var = a[..., t] ** 2 * var + eta[..., t] ** 2 * sigma**2
    return mean, var


def ref_mean_ci(samples, level=0.95):
    from scipy.stats import norm

    x = np.asarray(samples, dtype=float)
    return float(x.mean()), float(norm.ppf(0.5 + level / 2) * x.std(ddof=1) / np.sqrt(x.size))


def _schedules(T, peak):
    k = np.arange(1, T + 1)
    return {"constant": np.full(T, peak), "1/sqrt(k)": peak / np.sqrt(k), "linear": peak * (1 - k / (T + 1))}


# ============================================================================ E4.1a exact moments
def check_exact_moments(exact_moments, seed=None):
    r"""Grade ``exact_moments(lrs, theta1, lam, sigma) -> (mean, var)`` of
    :math:`\theta_{T+1}`: floats for ``lrs`` of shape ``(T,)``, arrays of shape ``(n,)`` for
    a batch ``(n, T)``."""
    g = Checks("Exercise E4.1a: the exact terminal mean and variance", exact_moments, seed=seed)

    def judge(f, lrs, theta1, lam, sigma, what):
        mean, var = as_pair(call(f, lrs, theta1, lam, sigma), what)
        m_ref, v_ref = ref_exact_moments(lrs, theta1, lam, sigma)
        shape = np.shape(m_ref)
        mean = as_array(mean, shape, f"{what}[0] (the mean)")
        var = as_array(var, shape, f"{what}[1] (the variance)")
        assert_close(mean, m_ref, f"{what}[0] (the mean)", rtol=1e-9, atol=1e-300)
        wrong = {"you returned the second moment E[theta^2] = mean^2 + variance": v_ref + m_ref**2,
                 "the variance is multiplied by (1 - eta lambda)^2 at each step, not (1 - eta lambda)":
                     _var_linear(lrs, lam, sigma),
                 "the noise adds eta_t^2 sigma^2 to the variance (the step is eta_t sigma xi_t)":
                     _var_linear(lrs, lam, sigma, square=True, noise_power=1)}
        assert_close(var, v_ref, f"{what}[1] (the variance)", rtol=1e-9, atol=1e-300, hint=diagnose(var, wrong))

    @g.check("one step by hand; constant, 1/sqrt(k) and linear schedules with theta1 = 5, sigma = 0.1")
    def _(f):
        judge(f, np.array([0.5]), 2.0, 1.0, 3.0, "exact_moments([0.5], theta1=2, lam=1, sigma=3)")
        for name, lrs in _schedules(100, 0.5).items():
            judge(f, lrs, 5.0, 1.0, 0.1, f"exact_moments(<{name}, T=100>, 5, 1, 0.1)")

    @g.check("a batch of schedules, shape (n, T), gives arrays of shape (n,)")
    def _(f):
        lrs = np.stack(list(_schedules(300, 0.2).values()))
        judge(f, lrs, 5.0, 2.0, 0.3, "exact_moments(<3 schedules, T=300>, 5, 2, 0.3)")

    @g.check("random schedules and settings", random=True)
    def _(f, rng):
        for _ in range(4):
            T = int(rng.integers(1, 2_000))
            lam = float(10 ** rng.uniform(-1, 1))
            lrs = rng.uniform(0, 1.9 / lam, T)
            judge(f, lrs, float(rng.normal(0, 5)), lam, float(rng.uniform(0, 2)), f"exact_moments(<random, T={T}>)")

    return g.run()


def _var_linear(lrs, lam, sigma, square=False, noise_power=2):
    """Wrong variants of the variance recursion, for hints."""
    eta = np.asarray(lrs, float)
    var = np.zeros(eta.shape[:-1])
    for t in range(eta.shape[-1]):
        a = 1 - eta[..., t] * lam
        var = (a * a if square else a) * var + eta[..., t] ** noise_power * sigma**2
    return var


# ============================================================================ E4.1b Monte Carlo
def check_simulate(simulate, seed=None):
    r"""Grade ``simulate(lrs, theta1, lam, sigma, n_seeds, rng)``: :math:`\theta_{T+1}` of
    ``n_seeds`` independent runs (vectorised over seeds), noise drawn from ``rng``, shape
    ``(n_seeds,)``; judged by its mean and variance against the exact ones (6 standard errors)."""
    g = Checks("Exercise E4.1b: Monte Carlo over many seeds at once", simulate, seed=seed)

    def judge(f, lrs, theta1, lam, sigma, n, rng_seed, what):
        x = as_array(call(f, lrs, theta1, lam, sigma, n, np.random.default_rng(rng_seed)), (n,), what)
        mu, v = ref_exact_moments(lrs, theta1, lam, sigma)
        z_mean = (x.mean() - mu) / np.sqrt(v / n)
        z_var = (x.var(ddof=1) - v) / (v * np.sqrt(2.0 / (n - 1)))
        if abs(z_mean) > 6:
            raise CheckFailed(f"{what}: the sample mean {x.mean():.6g} is {z_mean:+.1f} standard errors from the "
                              f"exact mean {mu:.6g}", "the update is theta <- theta - eta_t (lam theta + sigma xi)")
        if abs(z_var) > 6:
            hint = ""
            if x.var() < 1e-12 * max(v, 1e-300):
                hint = "every seed must get its own noise: draw rng.standard_normal(n_seeds) at each step"
            raise CheckFailed(f"{what}: the sample variance {x.var(ddof=1):.6g} is {z_var:+.1f} standard errors from "
                              f"the exact variance {v:.6g}", hint)
        return x

    @g.check("matches the exact mean and variance (10**4 seeds, linear decay and constant)")
    def _(f):
        for name, lrs in list(_schedules(100, 0.5).items())[::2]:
            judge(f, lrs, 5.0, 1.0, 0.1, 10_000, 3, f"simulate(<{name}, T=100>, 5, 1, 0.1, 10000, rng)")

    @g.check("reproducible: the same rng seed gives the same runs, another seed other runs")
    def _(f):
        lrs = np.full(20, 0.3)
        reproducible(lambda seed: judge(f, lrs, 1.0, 1.0, 1.0, 2_000, seed,
                                        f"simulate(<constant 0.3 x 20>, ..., default_rng({seed}))"))

    @g.check("random schedules and settings", random=True)
    def _(f, rng):
        for _ in range(3):
            T, lam = int(rng.integers(1, 300)), float(10 ** rng.uniform(-1, 1))
            judge(f, rng.uniform(0, 1.5 / lam, T), float(rng.normal(0, 3)), lam, float(rng.uniform(0.01, 2)),
                  5_000, int(rng.integers(0, 2**31)), f"simulate(<random, T={T}>)")

    return g.run()


# ============================================================================ E4.1c error bars
def check_mean_ci(mean_ci, seed=None):
    r"""Grade ``mean_ci(samples, level=0.95) -> (mean, half_width)``: the sample mean and
    the half-width :math:`z_{(1+\text{level})/2}\,s/\sqrt n` of its normal confidence
    interval (:math:`s` with ``ddof=1``); ``ValueError`` for fewer than 2 samples or a
    level outside (0, 1)."""
    g = Checks("Exercise E4.1c: error bars", mean_ci, seed=seed, preload=("scipy.stats",))

    def judge(f, x, level, what):
        m, h = as_pair(call(f, x, level), what)
        m, h = as_scalar(m, f"{what}[0]"), as_scalar(h, f"{what}[1]")
        m_ref, h_ref = ref_mean_ci(x, level)
        assert_close(m, m_ref, f"{what}[0] (the mean)")
        x = np.asarray(x, float)
        assert_close(h, h_ref, f"{what}[1] (the half-width)", rtol=1e-6, hint=diagnose(h, {
            "use the sample standard deviation with ddof=1": h_ref * x.std() / x.std(ddof=1),
            "the half-width is z s / sqrt(n): the standard error of the mean, not of one sample":
                h_ref * np.sqrt(x.size),
            "z depends on the level: scipy.stats.norm.ppf(0.5 + level / 2)": 1.96 * x.std(ddof=1) / np.sqrt(x.size),
        }))

    @g.check("[1, 2, 3, 4] at 95 % and 99 %")
    def _(f):
        judge(f, np.array([1.0, 2.0, 3.0, 4.0]), 0.95, "mean_ci([1, 2, 3, 4], 0.95)")
        judge(f, np.array([1.0, 2.0, 3.0, 4.0]), 0.99, "mean_ci([1, 2, 3, 4], 0.99)")

    @g.check("random samples and levels", random=True)
    def _(f, rng):
        for _ in range(4):
            judge(f, rng.normal(rng.normal(), rng.uniform(0.1, 5), int(rng.integers(2, 5_000))),
                  float(rng.uniform(0.5, 0.999)), "mean_ci(<random samples>, <random level>)")

    @g.check("rejects fewer than 2 samples (naming samples) and a level outside (0, 1) (naming level)")
    def _(f):
        rejects(f, [((np.array([1.0]), 0.95), {}, ("samples",)), ((np.ones(5), 1.0), {}, ("level",)),
                    ((np.ones(5), 0.0), {}, ("level",)), ((np.ones(5), float("nan")), {}, ("level",))])

    return g.run()


CHECKS = (check_exact_moments, check_simulate, check_mean_ci)
