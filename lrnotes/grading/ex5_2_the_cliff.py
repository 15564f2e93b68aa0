r"""Exercise E5.2, The cliff: gradient clipping that works.  Clipping a gradient :math:`g`
to norm :math:`c` multiplies it by :math:`\min(1, c/\|g\|)`; when :math:`c` sits below the
norms of ordinary gradients, every step is clipped and the learning rate is silently
rescaled.  A threshold from the norms' own distribution clips only the rare outliers:
the smallest norm :math:`c` among them with at most a fraction ``frac`` of norms above it,
i.e. the :math:`k`-th smallest with :math:`k = \lceil n(1 - \text{frac})\rceil`.
"""

from __future__ import annotations

import numpy as np

from ._core import Case, CheckFailed, Checks, as_scalar, call, compare, rejects

NUMBER = "5.2"
TITLE = "The cliff: clipping that works"


# ============================================================================ references
def ref_clip_rows(g, max_norm):
    g = np.asarray(g, dtype=float)
    norms = np.linalg.norm(g, axis=-1, keepdims=True)
    return g * np.minimum(1.0, max_norm / np.where(norms > 0, norms, 1.0))


def ref_clip_threshold(norms, frac):
    """The smallest norm c with #(norms > c) <= frac * n (the maximum satisfies it always)."""
    x = np.sort(np.asarray(norms, dtype=float))
    above = x.size - np.searchsorted(x, x, side="right")
    ok = above <= frac * x.size
    return float(x[np.argmax(ok)] if ok.any() else x[-1])


def _rounding_safe(n, frac):
    """True when float rounding cannot move the answer by one norm: frac * n is either far from
    a whole number, or whole and computed exactly by every usual formula."""
    j = round(n * frac)
    if abs(n * frac - j) > 1e-6:
        return True
    return n * frac == j and n * (1 - frac) == n - j and n - n * frac == n - j


# ============================================================================ E5.2a clip
def check_clip_rows(clip_rows, seed=None):
    """Grade ``clip_rows(g, max_norm)``: every row of ``g`` (shape ``(n, d)``) scaled to norm
    at most ``max_norm`` (rows already short enough, and zero rows, unchanged);
    ``ValueError`` naming ``max_norm`` unless it is finite and > 0."""
    g = Checks("Exercise E5.2a: clip each gradient", clip_rows, seed=seed)

    def mistakes(g_, max_norm):
        g_ = np.asarray(g_, float)
        return {"clip the norm of each row, not each entry (np.clip clips entries)":
                np.clip(g_, -max_norm, max_norm),
                "rows shorter than max_norm stay as they are: scale by min(1, max_norm / norm)":
                g_ * max_norm / np.maximum(np.linalg.norm(g_, axis=-1, keepdims=True), 1e-300),
                "clip each row by its own norm, not by the norm of the whole batch":
                g_ * min(1.0, max_norm / max(np.linalg.norm(g_), 1e-300))}

    @g.check("a long row, a short row and a zero row; the shape is kept")
    def _(f):
        cases = [Case((np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]]), 1.0)),
                 Case((np.array([[30.0, 40.0, 0.0]]), 10.0))]
        compare(f, cases, ref_clip_rows, mistakes=mistakes)

    @g.check("random batches: norms are at most max_norm, directions are kept", random=True)
    def _(f, rng):
        for _ in range(4):
            grads = rng.standard_normal((int(rng.integers(1, 200)), int(rng.integers(1, 50)))) * rng.uniform(0.1, 100)
            compare(f, [Case((grads, float(rng.uniform(0.1, 20))), label="clip_rows(<random batch>, <random max_norm>)")],
                    ref_clip_rows, mistakes=mistakes)

    @g.check("the input is not modified")
    def _(f):
        x = np.array([[3.0, 4.0]])
        call(f, x, 1.0, copy_args=False)
        if not np.array_equal(x, [[3.0, 4.0]]):
            raise CheckFailed("clip_rows changed its input g", "return a new array (g * factor), do not write into g")

    @g.check("rejects a max_norm that is not finite and > 0 with ValueError naming max_norm")
    def _(f):
        x = np.ones((2, 2))
        rejects(f, [((x, 0.0), {}, ("max_norm",)), ((x, -1.0), {}, ("max_norm",)),
                    ((x, float("nan")), {}, ("max_norm",)), ((x, float("inf")), {}, ("max_norm",))])

    return g.run()


# ============================================================================ E5.2b the threshold
def check_clip_threshold(clip_threshold, seed=None):
    """Grade ``clip_threshold(norms, frac)``: the smallest of the ``norms`` such that at most
    a fraction ``frac`` of them lie strictly above it; ``ValueError`` naming ``frac`` unless
    ``0 <= frac < 1`` and naming ``norms`` if empty."""
    g = Checks("Exercise E5.2b: a threshold that clips only the outliers", clip_threshold, seed=seed)

    def judge(f, norms, frac, what):
        got = as_scalar(call(f, norms, frac), what)
        expected = ref_clip_threshold(norms, frac)
        # the probes are rounding-safe (see _rounding_safe), so the boundary is exact
        if got != expected:
            above = float(np.mean(np.asarray(norms) > got))
            hint = ""
            if not np.any(np.asarray(norms) == got):
                hint = "return one of the norms (np.quantile interpolates between them by default)"
            elif above > frac:
                hint = f"{above:.1%} of the norms lie above it, more than frac = {frac:.1%}"
            elif np.sum(np.asarray(norms) > expected) == frac * np.size(norms):
                hint = ("exactly frac of the norms may lie above the threshold ('at most', not "
                        "'strictly fewer than')")
            else:
                hint = "a smaller norm would still clip at most frac of them: take the smallest such norm"
            raise CheckFailed(f"{what} = {got:.10g}, expected {expected:.10g}", hint)

    @g.check("1..100 with frac 0.05, 0.1 and 0 (the maximum); ties")
    def _(f):
        x = np.arange(1.0, 101.0)
        judge(f, x, 0.05, "clip_threshold(1..100, 0.05)")
        judge(f, x, 0.1, "clip_threshold(1..100, 0.1)")
        judge(f, x, 0.0, "clip_threshold(1..100, 0)")
        judge(f, np.array([5.0, 1.0, 5.0, 5.0, 2.0]), 0.5, "clip_threshold([5, 1, 5, 5, 2], 0.5)")
        judge(f, np.array([3.0, 9.0, 1.0, 7.0]), 0.0, "clip_threshold([3, 9, 1, 7], 0)")
        judge(f, np.array([3.0, 9.0, 1.0, 7.0]), 0.25, "clip_threshold([3, 9, 1, 7], 0.25)")

    @g.check("random heavy-tailed gradient norms", random=True)
    def _(f, rng):
        for _ in range(5):
            norms = 10 * rng.lognormal(0, 0.3, int(rng.integers(1, 5_000)))
            norms[rng.random(norms.size) < 0.01] *= 100  # the cliff: rare huge gradients
            frac = float(rng.choice([0.0, 0.01, 0.02, 0.05, rng.uniform(0, 0.5)]))
            while not _rounding_safe(norms.size, frac):
                frac = float(rng.uniform(0, 0.5))
            judge(f, norms, frac, f"clip_threshold(<{norms.size} norms>, {frac:.4g})")

    @g.check("rejects frac outside [0, 1) and empty norms with ValueError naming the argument")
    def _(f):
        rejects(f, [((np.ones(3), 1.0), {}, ("frac",)), ((np.ones(3), -0.1), {}, ("frac",)),
                    ((np.ones(3), float("nan")), {}, ("frac",)), ((np.array([]), 0.1), {}, ("norms",))])

    return g.run()


CHECKS = (check_clip_rows, check_clip_threshold)
