r"""Exercise E1.7, Adam with a scheduled :math:`\beta_1`: the first moment
:math:`m_t = \beta_{1,t}m_{t-1} + (1-\beta_{1,t})g_t` (:math:`m_0 = 0`) weighs the gradients by
:math:`w_s = (1-\beta_{1,s})\prod_{r=s+1}^{t}\beta_{1,r}`, which add up to

.. math:: \sum_{s=1}^{t} w_s = 1 - \prod_{s=1}^{t}\beta_{1,s}

(the sum telescopes).  Dividing by it makes :math:`\hat m_t` exact for a constant gradient;
the usual :math:`1 - \beta_1^t` is that product only when :math:`\beta_1` is constant.
"""

from __future__ import annotations

import numpy as np

from ._core import Case, Checks, as_array, assert_close, compare, rejects
from ._hints import name_mistakes

NUMBER = "1.7"
TITLE = "Adam with a scheduled beta1"


# ============================================================================ references
def ref_first_moment(grads, beta1s):
    grads, beta1s = np.asarray(grads, dtype=float), np.asarray(beta1s, dtype=float)
    m, out = np.zeros(grads.shape[1:]), np.empty_like(grads)
    for t in range(grads.shape[0]):
        m = beta1s[t] * m + (1.0 - beta1s[t]) * grads[t]
        out[t] = m
    return out


def ref_bias_correction(beta1s):
    return 1.0 - np.cumprod(np.asarray(beta1s, dtype=float))


def ref_corrected_moment(grads, beta1s):
    m = ref_first_moment(grads, beta1s)
    c = ref_bias_correction(beta1s)
    return m / c.reshape((-1,) + (1,) * (m.ndim - 1))


def _naive(beta1s):
    b = np.asarray(beta1s, dtype=float)
    return 1.0 - b ** np.arange(1, b.size + 1)


def _schedules(rng, T):
    t = np.arange(T)
    return {
        "warmup 0.5 -> 0.9": 0.5 + 0.4 * np.minimum(1, t / (T / 3)),
        "decay 0.95 -> 0.5": 0.95 - 0.45 * t / max(T - 1, 1),
        "random in [0, 0.99)": rng.uniform(0, 0.99, T),
    }


BAD = [
    ((np.ones(3), np.array([0.9, 1.0, 0.9])), {}, ("beta1s",)),
    ((np.ones(3), np.array([0.9, -0.1, 0.9])), {}, ("beta1s",)),
    ((np.ones(3), np.array([0.9, np.nan, 0.9])), {}, ("beta1s",)),
    ((np.ones(3), np.array([0.9, 0.9])), {}, ("beta1s", "grads")),
]


# ============================================================================ E1.7a the moment
def _compare(f, cases, mistakes):
    """compare(), but a probe on which two mistakes coincide (a constant beta1: beta at the
    wrong step and m_0 = g_1 give the same m) names both."""
    for case in cases:
        what = case.describe(f)
        expected = ref_first_moment(*case.args)
        got = as_array(case.call(f), expected.shape, what)
        assert_close(got, expected, what, hint=name_mistakes(got, mistakes(*case.args)))


def check_first_moment(first_moment, seed=None):
    r"""Grade ``first_moment(grads, beta1s)``: :math:`m_1..m_T` for gradients of shape
    ``(T,)`` or ``(T, d)`` and :math:`\beta_{1,1..T}`; ``ValueError`` naming ``beta1s``
    unless every :math:`\beta_{1,t} \in [0, 1)` and there is one per step."""
    g = Checks("Exercise E1.7a: the first moment with a scheduled beta1", first_moment, seed=seed)

    def mistakes(grads, beta1s):
        grads = np.asarray(grads, float)
        return {"the weight of the new gradient is 1 - beta_t, taken at the same step t":
                ref_first_moment(grads, np.concatenate([[0.0], np.asarray(beta1s)[:-1]])),
                "m starts at 0 (m_0 = 0), not at the first gradient":
                ref_first_moment(np.concatenate([grads[:1] / np.maximum(1 - beta1s[0], 1e-300), grads[1:]]), beta1s)}

    @g.check("constant beta1 = 0.9 on a constant gradient: m_t = 1 - 0.9^t; a 2-D gradient history")
    def _(f):
        cases = [Case((np.ones(10), np.full(10, 0.9)), label="first_moment(ones(10), 0.9 x 10)"),
                 Case((np.arange(12.0).reshape(4, 3), np.array([0.0, 0.5, 0.9, 0.99])),
                      label="first_moment(<4x3 gradients>, [0, 0.5, 0.9, 0.99])")]
        _compare(f, cases, mistakes)

    @g.check("random gradients under warmup, decaying and random beta1 schedules", random=True)
    def _(f, rng):
        T = int(rng.integers(5, 300))
        for name, betas in _schedules(rng, T).items():
            grads = rng.standard_normal((T, 3))
            _compare(f, [Case((grads, betas), label=f"first_moment(<{T}x3 gradients>, <{name}>)")], mistakes)

    @g.check("rejects beta1 outside [0, 1), NaN, or a length that does not match with ValueError")
    def _(f):
        rejects(f, BAD)

    return g.run()


# ============================================================================ E1.7b the correction
def check_bias_correction(bias_correction, seed=None):
    r"""Grade ``bias_correction(beta1s)``: :math:`1 - \prod_{s\le t}\beta_{1,s}` for
    :math:`t = 1..T`."""
    g = Checks("Exercise E1.7b: the exact bias correction", bias_correction, seed=seed)

    def mistakes(beta1s):
        return {"1 - beta1_t^t is the correction for a constant beta1 only: multiply the betas of all "
                "steps so far": _naive(beta1s),
                "the product runs over s = 1..t, including the current step": 1.0 - np.concatenate(
                    [[1.0], np.cumprod(np.asarray(beta1s, float))[:-1]])}

    @g.check("a constant beta1 gives 1 - beta1^t; beta1 = 0 at the first step gives 1")
    def _(f):
        compare(f, [Case((np.full(20, 0.9),)), Case((np.array([0.0, 0.9, 0.9]),))], ref_bias_correction,
                at="beta1s", mistakes=mistakes)

    @g.check("warmup, decaying and random schedules", random=True)
    def _(f, rng):
        T = int(rng.integers(5, 500))
        for name, betas in _schedules(rng, T).items():
            compare(f, [Case((betas,), label=f"bias_correction(<{name}, T={T}>)")], ref_bias_correction,
                    at="beta1s", mistakes=mistakes)

    return g.run()


# ============================================================================ E1.7c corrected moment
def check_corrected_moment(corrected_moment, seed=None):
    r"""Grade ``corrected_moment(grads, beta1s)``: :math:`\hat m_t = m_t / (1 - \prod_{s\le t}
    \beta_{1,s})`, equal to the gradient at every step when the gradient is constant."""
    g = Checks("Exercise E1.7c: the bias-corrected moment", corrected_moment, seed=seed)

    def mistakes(grads, beta1s):
        m = ref_first_moment(grads, beta1s)
        c = _naive(beta1s)
        return {"the usual correction 1 - beta1_t^t is wrong when beta1 changes: use the product":
                m / c.reshape((-1,) + (1,) * (m.ndim - 1)),
                "you returned m_t without the correction": m}

    @g.check("a constant gradient is recovered exactly at every step, whatever the beta1 schedule",
             random=True)
    def _(f, rng):
        T = int(rng.integers(5, 200))
        for name, betas in _schedules(rng, T).items():
            grads = np.tile(rng.standard_normal(4), (T, 1))
            compare(f, [Case((grads, betas), label=f"corrected_moment(<constant gradient>, <{name}>)")],
                    ref_corrected_moment, mistakes=mistakes, rtol=1e-10)

    @g.check("random gradients under random schedules", random=True)
    def _(f, rng):
        T = int(rng.integers(5, 300))
        grads, betas = rng.standard_normal(T), rng.uniform(0, 0.99, T)
        compare(f, [Case((grads, betas), label=f"corrected_moment(<{T} gradients>, <random betas>)")],
                ref_corrected_moment, mistakes=mistakes)

    return g.run()


CHECKS = (check_first_moment, check_bias_correction, check_corrected_moment)
