"""Tests for lrnotes.sim.sgd.simulate: exact theory, torch's optimizers, the per-seed loop."""

import numpy as np
import pytest
import torch
from scipy.linalg import solve_discrete_lyapunov

from lrnotes.sim import landscapes as L
from lrnotes import schedules as S
from lrnotes.sim import sgd
from lrnotes.nets.train import ScheduledAdam


# --------------------------------------------------------------------------- exact theory
def test_stationary_variance_of_sgd_on_a_quadratic():
    """x' = (1 - eta lam) x - eta sigma xi: Var x_t = V (1 - (1-eta lam)^(2t)), V = eta sigma^2 / (lam (2 - eta lam))."""
    lam, eta, sigma, x0, N = 2.0, 0.25, 0.5, 3.0, 20_000
    res = sgd.simulate(L.Quadratic(lam), np.full(40, eta), [x0], N, np.random.default_rng(0),
                       sigma=sigma, record_every=None)
    V = eta * sigma**2 / (lam * (2 - eta * lam))
    r = 1 - eta * lam
    var_t, mean_t = V * (1 - r ** 80), x0 * r**40
    x = res.x[:, 0]
    assert abs(x.mean() - mean_t) < 5 * np.sqrt(var_t / N)
    assert abs(x.var(ddof=1) / var_t - 1) < 5 * np.sqrt(2 / (N - 1))
    # the gap f - f* = lam x^2 / 2 is what is recorded by default
    assert res.mean[-1] == pytest.approx(0.5 * lam * np.mean(x**2))
    assert abs(res.mean[-1] / (0.5 * lam * (var_t + mean_t**2)) - 1) < 0.05


def test_stationary_covariance_of_heavy_ball_matches_lyapunov():
    """Heavy ball on a 1-D quadratic is an AR(2); its stationary variance solves a Lyapunov equation."""
    lam, eta, beta, sigma, N = 1.0, 0.3, 0.7, 1.0, 20_000
    res = sgd.simulate(L.Quadratic(lam), np.full(300, eta), [0.0], N, np.random.default_rng(1),
                       momentum=beta, sigma=sigma, record_every=None)
    A = np.array([[1 + beta - eta * lam, -beta], [1.0, 0.0]])   # (x_{t+1}, x_t) from (x_t, x_{t-1})
    V = solve_discrete_lyapunov(A, np.diag([(eta * sigma) ** 2, 0.0]))[0, 0]
    assert abs(res.x[:, 0].var(ddof=1) / V - 1) < 5 * np.sqrt(2 / (N - 1))
    plain = sgd.simulate(L.Quadratic(lam), np.full(300, eta), [0.0], N, np.random.default_rng(1),
                         sigma=sigma, record_every=None)
    assert res.x.var() > 2 * plain.x.var()      # momentum amplifies the noise here


@pytest.mark.parametrize("beta", [0.0, 0.5, 0.9])
def test_divergence_threshold_of_gd_and_heavy_ball(beta):
    """Deterministic GD with momentum beta on lam x^2/2 is stable iff eta lam < 2 (1 + beta)."""
    lam = 4.0
    crit = 2 * (1 + beta) / lam
    lrs = np.array([0.98 * crit, 1.02 * crit])[:, None] * np.ones((2, 3000))
    res = sgd.simulate(L.Quadratic(lam), lrs, [1.0], 1, np.random.default_rng(0), momentum=beta,
                       escape=1e6)
    assert res.diverged.tolist() == [[False], [True]]
    assert np.abs(res.x[0]).max() < 1.0


def test_escape_stops_a_trajectory_at_the_first_step_out():
    lam, eta, x0 = 1.0, 2.5, 1.0        # x_t = (1 - eta lam)^t x0 = (-1.5)^t
    res = sgd.simulate(L.Quadratic(lam), np.full(200, eta), [x0], 2, np.random.default_rng(0), escape=1e3)
    t_out = int(np.ceil(np.log(1e3) / np.log(1.5)))
    assert res.diverged_at.tolist() == [t_out, t_out]
    np.testing.assert_allclose(res.x[:, 0], (-1.5) ** t_out)
    with np.errstate(all="raise"):  # no overflow anywhere, even with 10^4 steps
        sgd.simulate(L.Quadratic(lam), np.full(10_000, eta), [x0], 2, np.random.default_rng(0))


# --------------------------------------------------------------------------- torch parity
def _torch_run(H, c, x0, lrs, make_opt, *, sched=None, reset_momentum=False, clip_norm=None,
               clip_value=None, beta1=None):
    p = torch.nn.Parameter(torch.tensor(x0, dtype=torch.float64))
    Ht, ct = torch.tensor(H, dtype=torch.float64), torch.tensor(c, dtype=torch.float64)
    opt = make_opt([p])
    scheduler = S.to_torch(opt, sched, reset_momentum=reset_momentum) if sched is not None else None
    for t in range(len(lrs)):
        if scheduler is None:
            for g in opt.param_groups:
                g["lr"] = float(lrs[t])
        if beta1 is not None:
            for g in opt.param_groups:
                g["betas"] = (float(beta1[t]), g["betas"][1])
        opt.zero_grad()
        (0.5 * (p - ct) @ Ht @ (p - ct)).backward()
        if clip_norm is not None:
            torch.nn.utils.clip_grad_norm_([p], clip_norm)
        if clip_value is not None:
            torch.nn.utils.clip_grad_value_([p], clip_value)
        opt.step()
        if scheduler is not None:
            scheduler.step()
    return p.detach().numpy()


H3 = np.array([[3.0, 0.5, 0.0], [0.5, 1.0, 0.2], [0.0, 0.2, 0.1]])
C3 = np.array([0.5, -1.0, 2.0])
X0 = np.array([2.0, 1.0, -1.0])


@pytest.mark.parametrize("name,kw,make", [
    ("sgd", {}, lambda ps: torch.optim.SGD(ps, lr=0.1)),
    ("momentum", {"momentum": 0.9}, lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
    ("nesterov", {"momentum": 0.8, "nesterov": True},
     lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.8, nesterov=True)),
    ("adam", {"method": "adam", "betas": (0.8, 0.99)}, lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.8, 0.99))),
    ("clip_norm", {"momentum": 0.5, "clip_norm": 0.3}, lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.5)),
    ("clip_value", {"clip_value": 0.2}, lambda ps: torch.optim.SGD(ps, lr=0.1)),
])
def test_matches_torch_optimizers(name, kw, make):
    T = 300
    sched = S.warmup(S.cosine(T, peak=0.2, end=0.01), steps=20)
    lrs = sched(np.arange(T))
    res = sgd.simulate(L.Quadratic(H3, center=C3), lrs, X0, 1, np.random.default_rng(0), **kw)
    want = _torch_run(H3, C3, X0, lrs, make, sched=sched, clip_norm=kw.get("clip_norm"),
                      clip_value=kw.get("clip_value"))
    np.testing.assert_allclose(res.x[0], want, rtol=1e-12, atol=1e-13)
    assert np.abs(want - X0).max() > 0.1        # the run went somewhere


@pytest.mark.parametrize("method,make", [
    ("sgd", lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9)),
    ("adam", lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.9, 0.999))),
])
def test_momentum_reset_matches_to_torch(method, make):
    T = 240
    sched = S.sgdr(40, mult=2, peak=0.1, end=0.001)
    lrs = sched(np.arange(T))
    kw = {"momentum": 0.9} if method == "sgd" else {"method": "adam"}
    q = L.Quadratic(H3, center=C3)
    reset = sgd.simulate(q, lrs, X0, 1, np.random.default_rng(0), reset_at=sched.restart_steps(T), **kw)
    keep = sgd.simulate(q, lrs, X0, 1, np.random.default_rng(0), **kw)
    want = _torch_run(H3, C3, X0, lrs, make, sched=sched, reset_momentum=True)
    np.testing.assert_allclose(reset.x[0], want, rtol=1e-12, atol=1e-13)
    assert np.abs(reset.x - keep.x).max() > 1e-4


def test_scheduled_beta1_standard_is_torch_adam_and_exact_is_scheduled_adam():
    T = 200
    lrs = S.cosine(T, peak=0.05)(np.arange(T))
    b1 = S.linear(T, peak=0.95, end=0.5)(np.arange(T))          # beta1 falls from 0.95 to 0.5
    q = L.Quadratic(H3, center=C3)
    for corr, make in [("standard", lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.9, 0.99))),
                       ("exact", lambda ps: ScheduledAdam(ps, lr=0.1, betas=(0.9, 0.99), correction="exact")),
                       ("standard", lambda ps: ScheduledAdam(ps, lr=0.1, betas=(0.9, 0.99), correction="standard"))]:
        res = sgd.simulate(q, lrs, X0, 1, np.random.default_rng(0), method="adam", betas=(b1, 0.99),
                           bias_correction=corr)
        want = _torch_run(H3, C3, X0, lrs, make, beta1=b1)
        np.testing.assert_allclose(res.x[0], want, rtol=1e-12, atol=1e-13, err_msg=corr)


class ConstantGradient:
    """f(x) = g . x on R^d: a test problem with a constant gradient."""

    def __init__(self, g):
        self.g = np.asarray(g, dtype=float)
        self.dim = self.g.size

    def gap(self, x):
        return x @ self.g

    def sample_grad(self, x, rng):
        return np.broadcast_to(self.g, x.shape).copy()


def test_exact_bias_correction_is_exact_under_a_beta1_schedule():
    """With a constant gradient g, m_k / c_k must equal g; then each Adam step is -eta g/(|g| + eps)."""
    T, g = 60, np.array([2.0, -0.5])
    rng = np.random.default_rng(0)
    b1 = np.concatenate([np.full(20, 0.99), np.full(40, 0.5)])   # a drop in beta1 at step 20
    lrs = np.full(T, 0.01)
    prob = ConstantGradient(g)
    steps = lrs[:, None] * g / (np.abs(g) + 1e-8)
    exact = sgd.simulate(prob, lrs, np.zeros(2), 1, rng, method="adam", betas=(b1, 0.999),
                         bias_correction="exact", trace=1)
    dx = np.diff(exact.trace[:, 0], axis=0)
    np.testing.assert_allclose(dx, -steps, rtol=1e-12)
    # the standard correction 1 - beta1_t^t is off after the drop: it divides by 1 - 0.5^21 ~ 1
    # where the weights of m sum to 1 - 0.99^20 * 0.5 ~ 0.59, so the step shrinks to 0.59x
    std = sgd.simulate(prob, lrs, np.zeros(2), 1, rng, method="adam", betas=(b1, 0.999), trace=1)
    ratio = np.diff(std.trace[:, 0], axis=0)[:, 0] / -steps[:, 0]
    np.testing.assert_allclose(ratio[:20], 1, rtol=1e-12)
    want = (1 - 0.99**20 * 0.5) / (1 - 0.5**21)
    assert ratio[20] == pytest.approx(want, rel=1e-12) and ratio[20] < 0.6
    # after a momentum reset the exact correction restarts its sum of weights
    reset = sgd.simulate(prob, lrs, np.zeros(2), 1, rng, method="adam", betas=(b1, 0.999),
                         bias_correction="exact", reset_at=[30], trace=1)
    np.testing.assert_allclose(np.diff(reset.trace[:, 0], axis=0), -steps, rtol=1e-12)


# --------------------------------------------------------------------------- the loop reference
def _options():
    T = 50
    return [
        {},
        {"momentum": 0.9, "reset_at": [10, 30]},
        {"momentum": np.linspace(0.0, 0.95, T), "nesterov": True},
        {"method": "adam", "betas": (np.linspace(0.9, 0.5, T), 0.99), "bias_correction": "exact"},
        {"method": "adam", "clip_norm": 0.5, "reset_at": [25]},
        {"clip_value": 0.1, "momentum": 0.5},
    ]


@pytest.mark.parametrize("kw", _options())
def test_vectorised_engine_equals_the_per_seed_loop_without_noise(kw):
    T, N = 50, 7
    rng = np.random.default_rng(5)
    land = L.RiverValley(amplitude=1.0)
    x0 = rng.normal(size=(2, N, 2)) * 3                    # different starts per config and seed
    lrs = np.stack([S.cosine(T, peak=0.02)(np.arange(T)), np.full(T, 0.005)])
    a = sgd.simulate(land, lrs, x0, N, np.random.default_rng(0), record_every=7, trace=3, **kw)
    b = sgd.simulate_loop(land, lrs, x0, N, np.random.default_rng(0), record_every=7, trace=3, **kw)
    np.testing.assert_array_equal(a.steps, b.steps)
    for f in ("mean", "sem", "final", "x", "trace"):
        np.testing.assert_allclose(getattr(a, f), getattr(b, f), rtol=1e-12, atol=1e-12, err_msg=f)
    np.testing.assert_array_equal(a.diverged_at, b.diverged_at)


def test_vectorised_engine_and_loop_agree_in_distribution_with_noise():
    T, N = 30, 2000
    dw = L.DoubleWell(1.0, 0.3)
    lrs = S.cosine(T, peak=0.1)(np.arange(T))
    kw = dict(momentum=0.5, sigma=np.linspace(1.0, 0.2, T), inject=0.05, record_every=None)
    a = sgd.simulate(dw, lrs, [0.1], N, np.random.default_rng(0), **kw)
    b = sgd.simulate_loop(dw, lrs, [0.1], N, np.random.default_rng(1), **kw)
    xa, xb = a.x[:, 0], b.x[:, 0]
    se = np.sqrt(xa.var() / N + xb.var() / N)
    assert abs(xa.mean() - xb.mean()) < 5 * se
    assert abs(np.mean(dw.in_deeper_well(a.x)) - np.mean(dw.in_deeper_well(b.x))) < 5 * np.sqrt(0.5 / N)


# --------------------------------------------------------------------------- shapes, records, randomness
def test_batch_shapes_traces_and_records():
    T, N = 20, 6
    lrs = np.full((2, 3, T), 0.1)
    lrs[1] *= 0.5
    res = sgd.simulate(L.Multiscale(dim=2), lrs, [1.0, -1.0], N, np.random.default_rng(0), sigma=0.3,
                       record_every=6, trace=2)
    np.testing.assert_array_equal(res.steps, [0, 6, 12, 18, 20])
    assert res.mean.shape == res.sem.shape == (2, 3, 5)
    assert res.final.shape == (2, 3, N) and res.x.shape == (2, 3, N, 2)
    assert res.trace.shape == (2, 3, 5, 2, 2) and res.diverged_at.shape == (2, 3, N)
    np.testing.assert_allclose(res.trace[..., -1, :, :], res.x[..., :2, :])
    np.testing.assert_allclose(res.trace[..., 0, :, :], np.broadcast_to([1.0, -1.0], (2, 3, 2, 2)))
    np.testing.assert_allclose(res.at(20)[0], res.final.mean(-1))
    np.testing.assert_allclose(res.at(20)[1], res.final.std(-1, ddof=1) / np.sqrt(N))
    only = sgd.simulate(L.Multiscale(dim=2), lrs, [1.0, -1.0], N, np.random.default_rng(0), sigma=0.3,
                        record_every=None)
    np.testing.assert_array_equal(only.steps, [0, T])
    np.testing.assert_array_equal(only.x, res.x)        # recording does not touch the random stream
    one = sgd.simulate(L.Quadratic(1.0), [0.1], [1.0], 1, np.random.default_rng(0))
    assert np.isnan(one.sem).all() and one.final.shape == (1,)


def test_reproducible_and_seed_dependent():
    land, lrs = L.DoubleWell(), np.full(50, 0.05)
    a = sgd.simulate(land, lrs, [0.0], 100, np.random.default_rng(3), sigma=1.0)
    b = sgd.simulate(land, lrs, [0.0], 100, np.random.default_rng(3), sigma=1.0)
    c = sgd.simulate(land, lrs, [0.0], 100, np.random.default_rng(4), sigma=1.0)
    np.testing.assert_array_equal(a.x, b.x)
    assert not np.array_equal(a.x, c.x)


def test_inject_adds_the_variance_it_promises():
    """With zero learning rate only the injected noise moves x: Var x_n = sum tau_t^2."""
    tau = np.linspace(0.0, 0.2, 100)
    res = sgd.simulate(L.Quadratic(1.0), np.zeros(100), [0.0], 20_000, np.random.default_rng(0),
                       inject=tau, record_every=None)
    want = np.sum(tau**2)
    assert abs(res.x.var(ddof=1) / want - 1) < 5 * np.sqrt(2 / 20_000)


def test_custom_metric():
    dw = L.DoubleWell(1.0, 0.3)
    res = sgd.simulate(dw, np.full(10, 0.01), [-1.0], 50, np.random.default_rng(0),
                       metric=lambda x: dw.in_deeper_well(x).astype(float))
    np.testing.assert_allclose(res.mean, 1.0)


def test_bad_arguments():
    q, rng = L.Quadratic([1.0, 2.0]), np.random.default_rng(0)
    lrs = np.full(10, 0.1)

    def run(**kw):
        args = dict(problem=q, lrs=lrs, x0=[0.0, 0.0], n_seeds=4, rng=rng)
        args.update(kw)
        return sgd.simulate(args.pop("problem"), args.pop("lrs"), args.pop("x0"), args.pop("n_seeds"),
                            args.pop("rng"), **args)

    cases = [
        (dict(lrs=[0.1, -1.0]), r"lrs must be finite and >= 0"),
        (dict(lrs=np.zeros((2, 0))), r"lrs must have shape \(\.\.\., n\)"),
        (dict(x0=[0.0, 0.0, 0.0]), r"x0 must be broadcastable to \(4, 2\)"),
        (dict(x0=[np.nan, 0.0]), r"x0 must be finite"),
        (dict(n_seeds=0), r"n_seeds must be an integer >= 1"),
        (dict(rng=1), r"rng must be a numpy.random.Generator"),
        (dict(method="rmsprop"), r"method must be one of \('sgd', 'adam'\)"),
        (dict(momentum=1.0), r"momentum must be in \[0.0, 1.0\)"),
        (dict(momentum=np.full(9, 0.5)), r"momentum must be a number or an array broadcastable to \(10,\)"),
        (dict(momentum=np.full(10, 1.5)), r"every momentum must be a finite real in \[0.0, 1.0\)"),
        (dict(nesterov=True), r"nesterov=True needs method='sgd' and momentum > 0"),
        (dict(method="adam", momentum=0.9), r"momentum is for method='sgd'"),
        (dict(method="adam", betas=0.9), r"betas must be a pair"),
        (dict(method="adam", betas=(0.9, 1.0)), r"betas\[1\] must be in \[0.0, 1.0\)"),
        (dict(bias_correction="none"), r"bias_correction must be one of"),
        (dict(sigma=-1.0), r"sigma must be in \[0.0, inf\)"),
        (dict(inject=np.full(10, np.inf)), r"every inject must be a finite real"),
        (dict(reset_at=[10]), r"reset_at\[0\] must be a step in \[0, 10\)"),
        (dict(reset_at=[2.5]), r"reset_at\[0\] must be an integer >= 0"),
        (dict(clip_norm=0.0), r"clip_norm must be in \(0.0, inf\)"),
        (dict(clip_value=-1), r"clip_value must be in \(0.0, inf\)"),
        (dict(record_every=0), r"record_every must be an integer >= 1"),
        (dict(trace=5), r"trace must be in \[0, n_seeds=4\]"),
        (dict(escape=0.0), r"escape must be in \(0.0, inf\)"),
        (dict(metric="gap"), r"metric must be None"),
        (dict(problem=object()), r"problem must have dim, gap\(x\) and sample_grad"),
    ]
    for kw, msg in cases:
        with pytest.raises(ValueError, match=msg):
            run(**kw)
    with pytest.raises(ValueError, match=r"trace=.* would take more than"):
        sgd.simulate(q, np.zeros((100, 2000)), [0.0, 0.0], 1000, rng, trace=1000)
    res = run()
    with pytest.raises(ValueError, match=r"t must be one of the recorded iterates"):
        res.at(11)
