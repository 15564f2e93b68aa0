r"""Exercise E3.2, The last-iterate bound of SGD for a schedule :math:`\eta_1..\eta_T`
(:math:`\eta_T > 0`), with :math:`\eta_{k:T} = \sum_{t\ge k}\eta_t`:

.. math::
    \mathbb{E}[f(x_T) - f_*] \le
    \underbrace{\frac{D^2}{2\eta_{1:T}}}_{A/c\ \text{(bias)}} +
    \underbrace{\frac{G^2\sum_t\eta_t^2}{2\eta_{1:T}}
    + \frac{G^2}{2}\sum_{k=1}^{T-1}\Bigl(\frac{1}{\eta_{k+1:T}} - \frac{1}{\eta_{k:T}}\Bigr)
      \sum_{t=k}^{T}\eta_t^2}_{Bc\ \text{(noise)}} .

For a schedule :math:`c\,s_t` the bound is :math:`A/c + Bc`, smallest at
:math:`c^\star = \sqrt{A/B}` with value :math:`2\sqrt{AB}`.  (The grader's reference is
its own O(T) code; the tests hold it against :func:`lrnotes.theory.last_iterate_bound`.)
"""

from __future__ import annotations

import numpy as np

from ._core import Case, CheckFailed, Checks, as_pair, as_scalar, assert_close, call, compare, diagnose, \
    rejects

NUMBER = "3.2"
TITLE = "The last-iterate bound"


# ============================================================================ references
def ref_terms(lrs, D=1.0, G=1.0):
    eta = np.asarray(lrs, dtype=float)
    W = np.flip(np.cumsum(np.flip(eta, -1), -1), -1)
    Q = np.flip(np.cumsum(np.flip(eta * eta, -1), -1), -1)
    bias = D * D / (2.0 * W[..., 0])
    tail = np.sum(eta[..., :-1] / (W[..., :-1] * W[..., 1:]) * Q[..., :-1], axis=-1)
    noise = G * G * (Q[..., 0] / (2.0 * W[..., 0]) + 0.5 * tail)
    return bias, noise


def ref_bound(lrs, D=1.0, G=1.0):
    bias, noise = ref_terms(lrs, D, G)
    return bias + noise


def ref_tuned(shape, D=1.0, G=1.0):
    A, B = ref_terms(shape, D, G)
    return np.sqrt(A / B), 2.0 * np.sqrt(A * B)


def shapes(T):
    k = np.arange(1, T + 1)
    return {"constant": np.ones(T), "1/sqrt(k)": 1 / np.sqrt(k), "linear": 1 - k / (T + 1),
            "cosine": 0.5 * (1 + np.cos(np.pi * (k - 1) / T)) + 1e-3}


BAD = [((np.array([1.0, 0.5, 0.0]),), {}, ("lrs",)), ((np.array([1.0, -0.5, 1.0]),), {}, ("lrs",)),
       ((np.array([1.0, np.nan, 1.0]),), {}, ("lrs",)), ((np.array([1.0, 1.0]),), {"D": 0.0}, ("D",)),
       ((np.array([1.0, 1.0]),), {"G": -1.0}, ("G",)), ((np.ones((2, 2, 2)),), {}, ("lrs",))]


def _mistakes(lrs, D=1.0, G=1.0):
    eta = np.asarray(lrs, float)
    bias, noise = ref_terms(eta, D, G)
    W = np.flip(np.cumsum(np.flip(eta, -1), -1), -1)
    simplified = G * G * 0.5 * np.sum(eta[..., :-1] ** 2 / W[..., 1:], axis=-1)
    return {"the inner sum runs over t = k..T of eta_t^2; you used eta_k^2 / eta_{k+1:T}, the simplified "
            "form (an upper bound for non-increasing schedules only)":
            bias + G * G * np.sum(eta**2, -1) / (2 * W[..., 0]) + simplified,
            "you left out the tail sum over k": bias + G * G * np.sum(eta**2, -1) / (2 * W[..., 0]),
            "D^2 and G^2: square them": ref_bound(eta, np.sqrt(D), np.sqrt(G))}


# ============================================================================ E3.2a the bound
def check_last_iterate_bound(last_iterate_bound, seed=None):
    r"""Grade ``last_iterate_bound(lrs, D=1.0, G=1.0)``: the bound for ``lrs`` of shape
    ``(T,)`` (a float) or ``(n, T)`` (one bound per row), in O(T); ``ValueError`` naming
    the argument for a bad schedule (negative, NaN, :math:`\eta_T \le 0`) or bad D, G."""
    g = Checks("Exercise E3.2a: the last-iterate bound", last_iterate_bound, seed=seed)

    @g.check("T = 1 (D^2/(2 eta) + G^2 eta/2), T = 2 by hand, and constant / linear at T = 100")
    def _(f):
        cases = [Case((np.array([0.5]),)), Case((np.array([1.0, 2.0]), 3.0, 0.5)),
                 Case((np.full(100, 0.1), 1.0, 1.0), label="last_iterate_bound(<constant 0.1 x 100>)"),
                 Case((1 - np.arange(1, 101) / 101, 2.0, 3.0), label="last_iterate_bound(<linear, T=100>, 2, 3)")]
        compare(f, cases, ref_bound, scalar=True, mistakes=_mistakes)

    @g.check("a batch of schedules, shape (n, T), gives n bounds", random=True)
    def _(f, rng):
        T = int(rng.integers(2, 500))
        lrs = np.stack(list(shapes(T).values())) * rng.uniform(0.01, 1)
        compare(f, [Case((lrs, 2.0, 0.5), label=f"last_iterate_bound(<4 schedules, T={T}>, 2, 0.5)")],
                ref_bound, mistakes=_mistakes)

    @g.check("random increasing, decreasing and rough schedules", random=True)
    def _(f, rng):
        for _ in range(4):
            T = int(rng.integers(2, 2_000))
            lrs = rng.uniform(0, 1, T) ** float(rng.uniform(0.2, 3))
            lrs[-1] = rng.uniform(0.01, 1)
            D, G = float(rng.uniform(0.1, 10)), float(rng.uniform(0.1, 10))
            compare(f, [Case((lrs, D, G), label=f"last_iterate_bound(<random, T={T}>, {D:.3g}, {G:.3g})")],
                    ref_bound, scalar=True, mistakes=_mistakes, rtol=1e-8)

    @g.check("T = 10**6 in well under the time limit (O(T) with suffix sums)")
    def _(f):
        lrs = 1 - np.arange(1, 1_000_001) / 1_000_001
        compare(f, [Case((lrs,), label="last_iterate_bound(<linear, T=10**6>)")], ref_bound, scalar=True,
                rtol=1e-7)

    @g.check("rejects bad input with ValueError naming the argument",
             hint="lrs: 1-D or 2-D, finite, >= 0, last entry > 0 (the bound divides by eta_{T:T} = eta_T); D, G > 0")
    def _(f):
        rejects(f, BAD)

    return g.run()


# ============================================================================ E3.2b the tuned bound
def check_tuned_bound(tuned_bound, seed=None):
    r"""Grade ``tuned_bound(shape, D=1.0, G=1.0) -> (c_star, bound)``: the best multiplier
    :math:`c^\star = \sqrt{A/B}` of a schedule shape and the bound :math:`2\sqrt{AB}` there."""
    g = Checks("Exercise E3.2b: tune the peak in closed form", tuned_bound, seed=seed)

    def judge(f, shape, D, G, what):
        c, b = as_pair(call(f, shape, D, G), what)
        c, b = as_scalar(c, f"{what}[0]"), as_scalar(b, f"{what}[1]")
        c_ref, b_ref = ref_tuned(shape, D, G)
        A, B = ref_terms(shape, D, G)
        # rtol 1e-6: A and B found from two evaluations of the bound (the stub's way) lose
        # digits to cancellation when A/B is far from 1 (down to ~1e-7 over these probes)
        assert_close(c, c_ref, f"{what}[0] (c*)", rtol=1e-6,
                     hint=diagnose(c, {"c* = sqrt(A/B), not sqrt(B/A)": np.sqrt(B / A), "c* = sqrt(A/B), not A/B": A / B}))
        assert_close(b, b_ref, f"{what}[1] (the bound)", rtol=1e-6,
                     hint=diagnose(b, {"at c* the two terms are equal: A/c* + B c* = 2 sqrt(AB)": np.sqrt(A * B)}))
        if abs(ref_bound(c * np.asarray(shape), D, G) - b) > 1e-6 * b:
            raise CheckFailed(f"{what}: the bound of c* x shape is {ref_bound(c * np.asarray(shape), D, G):.10g}, "
                              f"not the {b:.10g} you returned")

    @g.check("four shapes at T = 200 (constant, 1/sqrt(k), linear, cosine)")
    def _(f):
        for name, shape in shapes(200).items():
            judge(f, shape, 1.0, 1.0, f"tuned_bound(<{name}, T=200>)")

    @g.check("random shapes, D and G; scaling the shape does not change the tuned bound", random=True)
    def _(f, rng):
        for _ in range(3):
            T = int(rng.integers(2, 1_000))
            shape = rng.uniform(0.1, 1, T)
            D, G = float(rng.uniform(0.1, 5)), float(rng.uniform(0.1, 5))
            judge(f, shape, D, G, f"tuned_bound(<random, T={T}>, {D:.3g}, {G:.3g})")
            judge(f, 7.5 * shape, D, G, f"tuned_bound(<7.5 x the same shape>, {D:.3g}, {G:.3g})")

    return g.run()


CHECKS = (check_last_iterate_bound, check_tuned_bound)
