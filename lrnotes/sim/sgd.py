r"""Vectorised SGD, heavy-ball / Nesterov momentum and Adam over many seeds at once.

One engine, :func:`simulate`, runs ``n_seeds`` independent trajectories for each of a
batch of configurations (learning-rate schedules, noise levels, ...) on a toy problem: a
:mod:`lrnotes.sim.landscapes` landscape (exact gradient; the engine adds Gaussian noise) or a
problem with its own stochastic oracle, such as :class:`NoisyL1` (chapter 3).  One Python
loop runs over the steps; everything else is NumPy on arrays of shape
``(n_configs, n_seeds, dim)``.  :func:`simulate_loop` is the same algorithm written as a
plain per-seed Python loop: the reference the engine is tested against, and the baseline
for measuring the speed-up of vectorising.

Step convention (the one of :mod:`lrnotes.schedules`): ``x_0`` is the start and
``lrs[..., t]`` :math:`= \eta_t` is the learning rate of update ``t``, which takes
:math:`x_t` to :math:`x_{t+1}`; so ``lrs = sched(np.arange(n))`` and the run visits
:math:`x_0, \dots, x_n`.  :func:`run_sgd` keeps chapter 3's 1-based numbering
(:math:`x_1, \dots, x_{n+1}`, ``lrs[k-1]`` :math:`= \eta_k`).

A problem for the engine is any object with ``dim``, ``gap(x)`` (what is recorded by
default) and ``sample_grad(x, rng)`` (a gradient or stochastic subgradient for each row
of ``x``).

Contents
--------
NoisyL1        f(x) = sum_i E|x_i - xi_i|, xi_i in {-1, 0, +1}: a non-smooth median problem
SimResult      recorded mean and standard error of a metric, final iterates, traces, divergences
simulate       the vectorised engine: SGD (momentum, Nesterov) or Adam, noise, clipping, resets
simulate_loop  the same, one seed after another in plain Python (reference and speed baseline)
SGDResult      chapter 3's result: per-step mean and standard error of the gap, final gaps
run_sgd        chapter 3's plain SGD on NoisyL1 (a thin wrapper over simulate)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Callable

import numpy as np

from lrnotes.schedules import _int_at_least, _real

__all__ = ["NoisyL1", "SimResult", "simulate", "simulate_loop", "SGDResult", "run_sgd"]

METHODS = ("sgd", "adam")
CORRECTIONS = ("standard", "exact")
MAX_TRACE_BYTES = 2**30  # traces larger than this are refused: record less often, or fewer seeds


@dataclass(frozen=True)
class NoisyL1:
    r"""A non-smooth stochastic convex problem with known :math:`f_*`, :math:`x_*` and :math:`G`.

    .. math::
        f(x) &= \sum_{i=1}^{d} \mathbb{E}\,|x_i - \xi_i|, \\
        \xi_i &\in \{-1, 0, +1\},\ \Pr[\xi_i = 0] = p,\ \Pr[\xi_i = \pm 1] = \tfrac{1-p}{2},

    i.i.d. over coordinates.  The minimiser is the median :math:`x_* = 0` (unique for
    :math:`p > 0`) with :math:`f_* = d(1-p)`, and the gap is

    .. math:: f(x) - f_* = \sum_i p\,|x_i| + (1-p)\,\max(|x_i| - 1, 0),

    a kink at the optimum (slope :math:`p`) — no smoothness to help SGD.  The oracle
    :math:`g_i = \operatorname{sign}(x_i - \xi_i)` (with :math:`\operatorname{sign}(0)=0`)
    is an unbiased subgradient with :math:`\|g\|^2 \le d`, so :math:`G = \sqrt d` exactly.

    Parameters
    ----------
    dim : int >= 1
    p_zero : float in (0, 1]
        Probability of :math:`\xi_i = 0`: the signal strength; small means noisy.
    """

    dim: int = 4
    p_zero: float = 0.2

    def __post_init__(self):
        if isinstance(self.dim, bool) or not isinstance(self.dim, numbers.Integral) or self.dim < 1:
            raise ValueError(f"dim must be an integer >= 1, got {self.dim!r}")
        p = self.p_zero
        if isinstance(p, bool) or not isinstance(p, numbers.Real) or not (0 < p <= 1):
            raise ValueError(f"p_zero must be a real number in (0, 1], got {p!r}")

    @property
    def G(self) -> float:
        r""":math:`G = \sqrt{d}`, with :math:`\|g\|^2 \le G^2` almost surely."""
        return float(np.sqrt(self.dim))

    @property
    def x_star(self) -> np.ndarray:
        """The unique minimiser, the origin."""
        return np.zeros(self.dim)

    @property
    def f_star(self) -> float:
        r""":math:`f_* = d\,(1 - p)`."""
        return self.dim * (1.0 - self.p_zero)

    def gap(self, x) -> np.ndarray:
        r""":math:`f(x) - f_*` over the last axis of ``x``."""
        a = np.abs(np.asarray(x, dtype=float))
        p = self.p_zero
        return np.sum(p * a + (1.0 - p) * np.maximum(a - 1.0, 0.0), axis=-1)

    def subgradient(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        r"""One stochastic subgradient :math:`\operatorname{sign}(x - \xi)` per row of ``x``."""
        u = rng.random(x.shape)
        p = self.p_zero
        # xi = 0 if u < p; +1 if p <= u < p + (1-p)/2; -1 otherwise.
        xi = (u >= p).astype(x.dtype) - 2.0 * (u >= p + 0.5 * (1.0 - p))
        return np.sign(x - xi)

    def sample_grad(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The oracle :func:`simulate` calls: :meth:`subgradient`."""
        return self.subgradient(x, rng)


# --------------------------------------------------------------------------- the engine
class _Recorded:
    """``at(t)``: the recorded (mean, sem) at one of ``steps``."""

    def at(self, t: int):
        """(mean, sem) at the recorded iterate ``t`` (one of ``.steps``)."""
        hit = np.flatnonzero(self.steps == t) if isinstance(t, numbers.Integral) else []
        if isinstance(t, bool) or len(hit) != 1:
            raise ValueError(f"t must be one of the recorded iterates {self.steps[[0, -1]]} "
                             f"(see .steps), got {t!r}")
        return self.mean[..., hit[0]], self.sem[..., hit[0]]


@dataclass
class SimResult(_Recorded):
    r"""What :func:`simulate` recorded.

    ``B`` below is the batch shape of the configurations (``lrs.shape[:-1]``; empty for a
    single schedule), ``N`` the number of seeds and ``d`` the dimension.

    Attributes
    ----------
    steps : int array (n_rec,)
        Recorded iterates ``t`` (updates made; always ``0`` and ``n``).
    mean, sem : arrays B + (n_rec,)
        Mean over seeds of the metric at :math:`x_t` and its standard error
        (``nan`` when ``N = 1``).
    final : array B + (N,)
        The metric of every seed at the last iterate :math:`x_n`.
    x : array B + (N, d)
        The last iterates.
    trace : array B + (n_rec, trace, d) or None
        The iterates of the first ``trace`` seeds at the recorded steps.
    diverged_at : int array B + (N,)
        The first ``t`` with :math:`\|x_t\|_\infty >` ``escape`` (or not finite), where
        the trajectory was stopped; ``-1`` for trajectories that never left.
    n_seeds : int
    """

    steps: np.ndarray
    mean: np.ndarray
    sem: np.ndarray
    final: np.ndarray
    x: np.ndarray
    trace: np.ndarray | None
    diverged_at: np.ndarray
    n_seeds: int

    @property
    def diverged(self) -> np.ndarray:
        """The trajectories stopped for leaving the ``escape`` box (a boolean mask, shape B + (N,))."""
        return self.diverged_at >= 0

    # at(t): (mean, sem) of the metric at iterate x_t, t one of .steps (from _Recorded)



def _per_step(name: str, value, shape: tuple, *, low=0.0, high=None, high_open=False):
    """A scalar (returned as float) or an array broadcast to ``shape = B + (n,)``.

    Arrays come back as ``(n, C, 1, 1)`` (C = prod(B)), so that ``arr[t]`` multiplies the
    ``(C, N, d)`` state directly.
    """
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _real(name, value, low=low, high=high, high_open=high_open)
    arr = np.asarray(value, dtype=float)
    try:
        arr = np.broadcast_to(arr, shape)
    except ValueError:
        raise ValueError(f"{name} must be a number or an array broadcastable to {shape} "
                         f"(batch shape + (n steps,)), got shape {arr.shape}") from None
    bad = ~np.isfinite(arr) | (arr < low)
    if high is not None:
        bad |= (arr >= high) if high_open else (arr > high)
    if np.any(bad):
        hi = "inf)" if high is None else f"{high!r}{')' if high_open else ']'}"
        raise ValueError(f"every {name} must be a finite real in [{low!r}, {hi}, "
                         f"got {arr[bad].ravel()[0]!r}")
    n = shape[-1]
    return np.ascontiguousarray(arr.reshape(-1, n).T)[:, :, None, None]


def _prepare(problem, lrs, x0, n_seeds, rng, *, method="sgd", momentum=0.0, nesterov=False,
             betas=(0.9, 0.999), eps=1e-8, bias_correction="standard", sigma=0.0, inject=0.0,
             reset_at=(), clip_value=None, clip_norm=None, record_every=1, trace=0, metric=None,
             escape=1e10) -> SimpleNamespace:
    """Check every argument of :func:`simulate` (same defaults); return them ready to run."""
    for attr in ("dim", "gap", "sample_grad"):
        if not hasattr(problem, attr):
            raise ValueError(f"problem must have dim, gap(x) and sample_grad(x, rng) "
                             f"(a lrnotes.sim.landscapes landscape or NoisyL1); it has no {attr!r}")
    dim = _int_at_least("problem.dim", problem.dim, 1)
    lrs = np.asarray(lrs, dtype=float)
    if lrs.ndim < 1 or lrs.shape[-1] < 1:
        raise ValueError(f"lrs must have shape (..., n) with n >= 1 steps, got {lrs.shape}")
    if not np.all(np.isfinite(lrs)) or np.any(lrs < 0):
        raise ValueError("lrs must be finite and >= 0")
    n_seeds = _int_at_least("n_seeds", n_seeds, 1)
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    batch, n = lrs.shape[:-1], lrs.shape[-1]
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim == 0 and dim == 1:
        x0 = x0[None]
    try:
        x0 = np.broadcast_to(x0, batch + (n_seeds, dim))
    except ValueError:
        raise ValueError(f"x0 must be broadcastable to {batch + (n_seeds, dim)} "
                         f"(batch + (n_seeds, dim)), e.g. shape ({dim},); got shape {x0.shape}") from None
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 must be finite")
    if record_every is None:
        steps = np.array([0, n])
    else:
        k = _int_at_least("record_every", record_every, 1)
        steps = np.unique(np.append(np.arange(0, n + 1, k), n))
    trace = _int_at_least("trace", trace, 0)
    if trace > n_seeds:
        raise ValueError(f"trace must be in [0, n_seeds={n_seeds}], got {trace}")
    C = int(np.prod(batch, dtype=int))
    if C * steps.size * trace * dim * 8 > MAX_TRACE_BYTES:
        raise ValueError(f"trace={trace} seeds x {steps.size} recorded steps x {C} configs would "
                         f"take more than {MAX_TRACE_BYTES >> 20} MiB: lower trace or raise record_every")
    escape = _real("escape", escape, low=0.0, low_open=True)
    x = x0.reshape(C, n_seeds, dim).copy()
    shape = batch + (n,)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    if bias_correction not in CORRECTIONS:
        raise ValueError(f"bias_correction must be one of {CORRECTIONS}, got {bias_correction!r}")
    mom = _per_step("momentum", momentum, shape, high=1.0, high_open=True)
    if nesterov and (method != "sgd" or (np.isscalar(mom) and mom == 0.0)):
        raise ValueError("nesterov=True needs method='sgd' and momentum > 0")
    if method == "adam" and not (np.isscalar(mom) and mom == 0.0):
        raise ValueError("momentum is for method='sgd'; Adam's first moment uses betas[0]")
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}") from None
    beta1 = _per_step("betas[0]", beta1, shape, high=1.0, high_open=True)
    beta2 = _real("betas[1]", beta2, low=0.0, high=1.0, high_open=True)
    eps = _real("eps", eps, low=0.0)
    sigma = _per_step("sigma", sigma, shape)
    inject = _per_step("inject", inject, shape)
    reset = np.zeros(n, dtype=bool)
    for i, r in enumerate(np.asarray(() if reset_at is None else reset_at).ravel().tolist()):
        r = _int_at_least(f"reset_at[{i}]", r, 0)
        if r >= n:
            raise ValueError(f"reset_at[{i}] must be a step in [0, {n}), got {r}")
        reset[r] = True
    clip_value = None if clip_value is None else _real("clip_value", clip_value, low=0.0, low_open=True)
    clip_norm = None if clip_norm is None else _real("clip_norm", clip_norm, low=0.0, low_open=True)
    if metric is None:
        metric = problem.gap
    elif not callable(metric):
        raise ValueError("metric must be None (the problem's gap) or a function of x (..., dim)")
    return SimpleNamespace(problem=problem, dim=dim, eta=lrs.reshape(C, n), x=x, N=n_seeds, C=C,
                           batch=batch, n=n, steps=steps, trace=trace, escape=escape, method=method,
                           mom=mom, nesterov=bool(nesterov), beta1=beta1, beta2=beta2, eps=eps,
                           bias_correction=bias_correction, sigma=sigma, inject=inject, reset=reset,
                           clip_value=clip_value, clip_norm=clip_norm, metric=metric)


def _result(p, mean, sem, final, x, trace, diverged_at) -> SimResult:
    """Reshape ``(C, ...)`` arrays to ``batch + (...)`` and wrap them."""
    def shaped(a):
        return a.reshape(p.batch + a.shape[1:])

    return SimResult(steps=p.steps, mean=shaped(mean), sem=shaped(sem), final=shaped(final), x=shaped(x),
                     trace=None if trace is None else shaped(trace), diverged_at=shaped(diverged_at),
                     n_seeds=p.N)


def simulate(problem, lrs, x0, n_seeds: int, rng: np.random.Generator, *, method: str = "sgd",
             momentum=0.0, nesterov: bool = False, betas=(0.9, 0.999), eps: float = 1e-8,
             bias_correction: str = "standard", sigma=0.0, inject=0.0, reset_at=(),
             clip_value: float | None = None, clip_norm: float | None = None,
             record_every: int | None = 1, trace: int = 0,
             metric: Callable | None = None, escape: float = 1e10) -> SimResult:
    r"""Run ``n_seeds`` trajectories of SGD / momentum / Adam for every configuration at once.

    At each step :math:`t = 0, \dots, n-1`, for every trajectory:

    1. if ``t`` is in ``reset_at``: the optimizer starts afresh, as
       :func:`lrnotes.schedules.reset_momentum` does: the momentum buffer is zeroed (Adam:
       both moments, and its step count :math:`k` starts again at 1, so the bias correction
       holds from the reset on);
    2. gradient :math:`g_t = \texttt{problem.sample\_grad}(x_t) + \sigma_t \xi_t`,
       :math:`\xi_t \sim \mathcal N(0, I_d)`;
    3. clipping: ``clip_value`` :math:`c` clamps each coordinate to :math:`[-c, c]`;
       ``clip_norm`` :math:`c` scales :math:`g_t` by :math:`\min(1, c/(\|g_t\| + 10^{-6}))`
       (torch's ``clip_grad_norm_``, per trajectory);
    4. the update, with torch's conventions (``torch.optim.SGD`` with ``dampening=0``,
       ``torch.optim.Adam``):

       - SGD, momentum :math:`\beta_t` (0: plain SGD):
         :math:`b_{t+1} = \beta_t b_t + g_t`, :math:`x_{t+1} = x_t - \eta_t d_t` with
         :math:`d_t = b_{t+1}` (heavy ball) or :math:`g_t + \beta_t b_{t+1}` (Nesterov);
       - Adam, :math:`k = t + 1 - r`, :math:`r` the last reset (or 0):
         :math:`m_k = \beta_{1,t} m_{k-1} + (1-\beta_{1,t}) g_t`,
         :math:`v_k = \beta_2 v_{k-1} + (1-\beta_2) g_t^2`,

         .. math:: x_{t+1} = x_t - \frac{\eta_t}{c_k}\,
                   \frac{m_k}{\sqrt{v_k}/\sqrt{1-\beta_2^k} + \epsilon},

         with ``bias_correction="standard"`` :math:`c_k = 1 - \beta_{1,t}^{\,k}` (torch's, also
         when :math:`\beta_1` is changed during training) or ``"exact"``
         :math:`c_k = 1 - \prod_{s=r}^{t} \beta_{1,s}`, :math:`r` the last reset (or 0).  The
         exact one is the sum of the weights of :math:`m_k` on the gradients,
         :math:`\sum_{s=r}^{t}(1-\beta_{1,s})\prod_{q=s+1}^{t}\beta_{1,q}`, which telescopes;
         the standard one equals it only for a constant :math:`\beta_1` and no reset.
    5. injected noise: :math:`x_{t+1} \mathrel{+}= \tau_t \zeta_t`, :math:`\zeta_t \sim \mathcal N(0, I_d)`
       (``inject``: the "thermostat" term, added to the parameters, not the gradient);
    6. a trajectory with :math:`\|x_{t+1}\|_\infty >` ``escape`` (or a non-finite one) is
       stopped where it is and reported in ``diverged_at``.

    Parameters
    ----------
    problem : a landscape, NoisyL1, or any object with ``dim``, ``gap``, ``sample_grad``
    lrs : array (..., n)
        Learning rates :math:`\eta_0..\eta_{n-1}`, finite and >= 0.  Leading axes are a batch
        of configurations ``B`` (e.g. schedules x peaks); results keep that shape.
    x0 : array broadcastable to B + (n_seeds, dim)
        Start, e.g. shape ``(dim,)`` for one common start.
    n_seeds : int >= 1
    rng : numpy.random.Generator
        The only source of randomness.  Per step it draws, in this order: the problem's
        own oracle noise, the gradient noise (unless ``sigma`` is the number 0), the
        injected noise (unless ``inject`` is the number 0).
    method : "sgd" or "adam"
    momentum : float or array in [0, 1), broadcastable to B + (n,)   (SGD only)
    nesterov : bool   (SGD with momentum > 0)
    betas : (beta1, beta2)
        Adam's; ``beta1`` may be an array (a scheduled :math:`\beta_{1,t}`), each in [0, 1).
    eps : float >= 0   (Adam)
    bias_correction : "standard" or "exact"   (Adam's first moment, see above)
    sigma, inject : float or array >= 0, broadcastable to B + (n,)
        Per-step standard deviations of the gradient noise and the injected noise.
    reset_at : iterable of steps in [0, n)
        Momentum resets (before the update of that step), e.g. ``sched.restart_steps(n)``.
    clip_value, clip_norm : float > 0 or None
    record_every : int >= 1 or None
        Record the metric at ``t = 0, k, 2k, ...`` and ``n``; ``None``: only ``0`` and ``n``.
    trace : int in [0, n_seeds]
        Keep the iterates of the first ``trace`` seeds at the recorded steps (at most
        ``MAX_TRACE_BYTES``).
    metric : function of x (..., dim) -> (...), optional
        What ``mean``/``sem``/``final`` summarise; default ``problem.gap`` (:math:`f - f_*`).
    escape : float > 0

    Returns
    -------
    SimResult
    """
    p = _prepare(problem, lrs, x0, n_seeds, rng, method=method, momentum=momentum, nesterov=nesterov,
                 betas=betas, eps=eps, bias_correction=bias_correction, sigma=sigma, inject=inject,
                 reset_at=reset_at, clip_value=clip_value, clip_norm=clip_norm,
                 record_every=record_every, trace=trace, metric=metric, escape=escape)
    eta, x, N, C, n, steps, dim = p.eta, p.x, p.N, p.C, p.n, p.steps, p.dim
    trace, escape, metric, reset = p.trace, p.escape, p.metric, p.reset
    mom, beta1, beta2, eps, sigma, inject = p.mom, p.beta1, p.beta2, p.eps, p.sigma, p.inject
    clip_value, clip_norm = p.clip_value, p.clip_norm
    lr_steps = np.ascontiguousarray(eta.T)[:, :, None, None]   # (n, C, 1, 1)
    noisy, injected = not (np.isscalar(sigma) and sigma == 0), not (np.isscalar(inject) and inject == 0)
    use_buf = method == "sgd" and not (np.isscalar(mom) and mom == 0)
    buf = np.zeros_like(x) if use_buf else None
    if method == "adam":
        m, v = np.zeros_like(x), np.zeros_like(x)
        prod = np.ones((C, 1, 1))
    mean = np.empty((C, steps.size))
    sem = np.full((C, steps.size), np.nan)
    tr = np.empty((C, steps.size, trace, dim)) if trace else None
    diverged_at = np.full((C, N), -1)
    frozen = None  # (mask (C, N), values) of stopped trajectories

    def record(j):
        val = metric(x)
        mean[:, j] = val.mean(axis=1)
        if N > 1:
            sem[:, j] = val.std(axis=1, ddof=1) / np.sqrt(N)
        if trace:
            tr[:, j] = x[:, :trace]
        return val

    j, start = 0, 0
    with np.errstate(over="ignore", invalid="ignore"):
        if steps[0] == 0:
            val = record(0)
            j = 1
        for t in range(n):
            lr = lr_steps[t]
            if reset[t]:
                if buf is not None:
                    buf[...] = 0.0
                if method == "adam":
                    m[...] = 0.0
                    v[...] = 0.0
                    prod = np.ones((C, 1, 1))
                    start = t
            g = problem.sample_grad(x, rng)
            if noisy:
                s = sigma if np.isscalar(sigma) else sigma[t]
                g = g + s * rng.standard_normal(x.shape)
            if clip_value is not None:
                g = np.clip(g, -clip_value, clip_value)
            if clip_norm is not None:
                norm = np.sqrt(np.sum(g * g, axis=-1, keepdims=True))
                g = g * np.minimum(1.0, clip_norm / (norm + 1e-6))
            if method == "sgd":
                if buf is None:
                    x -= lr * g
                else:
                    b = mom if np.isscalar(mom) else mom[t]
                    buf *= b
                    buf += g
                    x -= lr * (g + b * buf if nesterov else buf)
            else:
                b1 = beta1 if np.isscalar(beta1) else beta1[t]
                k = t + 1 - start
                m += (1.0 - b1) * (g - m)
                v *= beta2
                v += (1.0 - beta2) * g * g
                if bias_correction == "exact":
                    prod = prod * b1
                    c1 = 1.0 - prod
                else:
                    c1 = 1.0 - np.power(b1, k)
                denom = np.sqrt(v) / math.sqrt(1.0 - beta2**k) + eps
                x -= (lr / c1) * (m / denom)
            if injected:
                s = inject if np.isscalar(inject) else inject[t]
                x += s * rng.standard_normal(x.shape)
            if frozen is not None:
                x[frozen[0]] = frozen[1]
            if not (x.max() <= escape and x.min() >= -escape):  # also catches nan
                out = ~np.all(np.abs(x) <= escape, axis=-1) & (diverged_at < 0)
                if np.any(out):
                    diverged_at[out] = t + 1
                    mask = diverged_at >= 0
                    frozen = (mask, x[mask].copy())
            if j < steps.size and steps[j] == t + 1:
                val = record(j)
                j += 1
    return _result(p, mean, sem, val, x, tr, diverged_at)


def simulate_loop(problem, lrs, x0, n_seeds: int, rng: np.random.Generator, **options) -> SimResult:
    """:func:`simulate`, written as a plain loop: one configuration and one seed at a time.

    The same algorithm and arguments, and the same result, but each trajectory draws its
    own noise in turn (seed 0's whole run, then seed 1's, ...), so with noise the two
    functions give different samples of the same distribution; without noise
    (``sigma = inject = 0`` and a deterministic ``sample_grad``) they agree to rounding.
    Orders of magnitude slower: it is the reference for tests and the baseline for
    measuring what vectorising buys.  ``options`` are :func:`simulate`'s keyword arguments.
    """
    p = _prepare(problem, lrs, x0, n_seeds, rng, **options)
    eta, x_all, N, C, n, steps, dim = p.eta, p.x, p.N, p.C, p.n, p.steps, p.dim
    trace, escape, metric, reset = p.trace, p.escape, p.metric, p.reset
    mom, beta1, beta2, eps, sigma, inject = p.mom, p.beta1, p.beta2, p.eps, p.sigma, p.inject
    clip_value, clip_norm, method, nesterov = p.clip_value, p.clip_norm, p.method, p.nesterov

    def per(value, t, c):  # a per-step parameter's value for config c at step t
        return value if np.isscalar(value) else float(value[t, c, 0, 0])

    vals = np.empty((C, N, steps.size))
    tr = np.empty((C, steps.size, trace, dim)) if trace else None
    final_x = np.empty((C, N, dim))
    diverged_at = np.full((C, N), -1)
    recorded = set(steps.tolist())
    with np.errstate(over="ignore", invalid="ignore"):
        for c in range(C):
            for s in range(N):
                x = x_all[c, s].copy()
                buf, m, v, prod, start = np.zeros(dim), np.zeros(dim), np.zeros(dim), 1.0, 0
                j = 0
                for t in range(n + 1):
                    if t in recorded:
                        vals[c, s, j] = metric(x)
                        if s < trace:
                            tr[c, j, s] = x
                        j += 1
                    if t == n or diverged_at[c, s] >= 0:
                        continue
                    if reset[t]:
                        buf, m, v, prod, start = np.zeros(dim), np.zeros(dim), np.zeros(dim), 1.0, t
                    g = problem.sample_grad(x, rng)
                    if not (np.isscalar(sigma) and sigma == 0):
                        g = g + per(sigma, t, c) * rng.standard_normal(dim)
                    if clip_value is not None:
                        g = np.clip(g, -clip_value, clip_value)
                    if clip_norm is not None:
                        g = g * min(1.0, clip_norm / (math.sqrt(float(np.sum(g * g))) + 1e-6))
                    lr = float(eta[c, t])
                    if method == "sgd":
                        b = per(mom, t, c)
                        buf = b * buf + g
                        x = x - lr * (g + b * buf if nesterov else buf)
                    else:
                        b1, k = per(beta1, t, c), t + 1 - start
                        m = m + (1.0 - b1) * (g - m)
                        v = v * beta2 + (1.0 - beta2) * g * g
                        prod *= b1
                        c1 = 1.0 - prod if p.bias_correction == "exact" else 1.0 - b1**k
                        x = x - (lr / c1) * (m / (np.sqrt(v) / math.sqrt(1.0 - beta2**k) + eps))
                    if not (np.isscalar(inject) and inject == 0):
                        x = x + per(inject, t, c) * rng.standard_normal(dim)
                    if not (x.max() <= escape and x.min() >= -escape):  # also catches nan
                        diverged_at[c, s] = t + 1
                final_x[c, s] = x
    mean = vals.mean(axis=1)
    sem = vals.std(axis=1, ddof=1) / np.sqrt(N) if N > 1 else np.full_like(mean, np.nan)
    return _result(p, mean, sem, vals[:, :, -1], final_x, tr, diverged_at)


# --------------------------------------------------------------------------- chapter 3
@dataclass
class SGDResult(_Recorded):
    r"""Gaps :math:`f(x_t) - f_*` of a vectorised SGD run.

    ``steps`` lists the recorded iterates (1-based ``t``; always includes ``1`` and the
    last, ``n + 1``); ``mean[..., j]`` and ``sem[..., j]`` are the mean over seeds and
    its standard error at :math:`x_{\text{steps}[j]}`; ``final`` holds the per-seed gaps
    at the last iterate, shape ``(..., n_seeds)``.  Leading axes follow the batch of
    schedules (none for a single schedule).
    """

    steps: np.ndarray
    mean: np.ndarray
    sem: np.ndarray
    final: np.ndarray
    n_seeds: int



def run_sgd(problem: NoisyL1, lrs, x1, n_seeds: int, rng: np.random.Generator,
            record_every: int = 1) -> SGDResult:
    r"""Run :math:`x_{k+1} = x_k - \eta_k g_k` for many seeds (and schedules) at once.

    Chapter 3's interface to :func:`simulate` (plain SGD, the problem's own oracle, no
    extra noise), numbered from 1 as in the theory.

    Parameters
    ----------
    problem : NoisyL1 (or any object with ``dim``, ``gap`` and ``sample_grad``)
    lrs : array_like, shape (n,) or (n_schedules, n)
        :math:`\eta_1..\eta_n`, finite and ``>= 0``; every schedule starts from ``x1``.
    x1 : array_like, shape (dim,)
        The common starting point.
    n_seeds : int >= 2
        Independent trajectories per schedule (>= 2 for a standard error).
    rng : numpy.random.Generator
    record_every : int >= 1
        Record the gap at iterates ``t = 1, 1 + record_every, ...`` and at ``t = n + 1``.

    Returns
    -------
    SGDResult
        Gaps at the recorded iterates among :math:`x_1..x_{n+1}`.
    """
    lrs = np.asarray(lrs, dtype=float)
    if lrs.ndim not in (1, 2) or lrs.shape[-1] < 1:
        raise ValueError(f"lrs must have shape (n,) or (n_schedules, n) with n >= 1, got {lrs.shape}")
    if not np.all(np.isfinite(lrs)) or np.any(lrs < 0):
        raise ValueError("lrs must be finite and >= 0")
    _int_at_least("n_seeds", n_seeds, 2)
    if not isinstance(rng, np.random.Generator):
        raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
    _int_at_least("record_every", record_every, 1)
    x1 = np.asarray(x1, dtype=float)
    if x1.shape != (problem.dim,) or not np.all(np.isfinite(x1)):
        raise ValueError(f"x1 must be a finite array of shape ({problem.dim},), got shape {x1.shape}")
    res = simulate(problem, lrs, x1, n_seeds, rng, record_every=record_every)
    return SGDResult(steps=res.steps + 1, mean=res.mean, sem=res.sem, final=res.final, n_seeds=n_seeds)
