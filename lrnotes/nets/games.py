r"""A small GAN on a ring of Gaussians, many seeds at once, and how many modes it covers.

The data are a mixture of ``n_modes`` Gaussians with standard deviation ``std`` whose
centres sit on a circle (:func:`ring`).  The generator maps 2-D Gaussian noise to the
plane and the discriminator the plane to a logit, both small ReLU MLPs stacked over seeds
(:class:`lrnotes.nets.models.BatchedMLP`).  :func:`train_gan` trains every (schedule, seed)
pair at once with Adam (:math:`\beta_1 = 0.5`, the usual choice for GANs), the same
schedule driving both players through ``S.to_torch``, with the non-saturating losses

.. math::
    \ell_D = \operatorname{softplus}(-D(x)) + \operatorname{softplus}(D(G(z))), \qquad
    \ell_G = \operatorname{softplus}(-D(G(z))).

:func:`coverage` measures the result.  A generated point is of *high quality* if it lies
within ``k`` standard deviations of the nearest centre; a mode is *covered* if at least
``share`` times its fair share :math:`n/K` of the high-quality points fall on it.  The
per-mode histogram (plus one bin for the points of low quality) also measures whether
training has *settled*: the total-variation distance between the histograms at two
evaluations.

Contents
--------
ring          the centres of the mixture
sample_ring   draw from the mixture
Coverage      result of coverage
coverage      modes covered, high-quality fraction, per-mode histogram
GANRun        result of train_gan
train_gan     train GANs for several schedules x seeds at once, with evaluations
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrnotes.nets.engine import Groups, Run, check_seeds, descend, loop, schedule_dict
from lrnotes.schedules import _int_at_least, _positive_real, _real

__all__ = ["ring", "sample_ring", "Coverage", "coverage", "GANRun", "train_gan"]


def ring(n_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    r"""Centres :math:`r(\cos 2\pi k/K, \sin 2\pi k/K)`, :math:`k = 0..K-1`, shape ``(K, 2)``."""
    K = _int_at_least("n_modes", n_modes, 1)
    r = _positive_real("radius", radius)
    a = 2 * np.pi * np.arange(K) / K
    return r * np.stack([np.cos(a), np.sin(a)], axis=1)


def sample_ring(n: int, modes: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` points of the mixture: a uniform centre plus ``N(0, std^2 I)``, shape ``(n, 2)``."""
    n = _int_at_least("n", n, 1)
    std = _positive_real("std", std)
    k = rng.integers(0, len(modes), size=n)
    return modes[k] + std * rng.standard_normal((n, 2))


@dataclass
class Coverage:
    """Result of :func:`coverage` (leading axes are those of the samples)."""

    covered: np.ndarray       #: number of modes covered
    quality: np.ndarray       #: fraction of points within k std of a centre
    histogram: np.ndarray     #: (..., K + 1) fractions per mode, last bin: low quality


def coverage(samples, modes: np.ndarray, std: float, *, k: float = 3.0, share: float = 0.25) -> Coverage:
    r"""Mode coverage of generated points ``samples`` of shape ``(..., n, 2)``.

    Parameters
    ----------
    samples : array (..., n, 2)
    modes : array (K, 2);  std : float > 0, the mixture's standard deviation
    k : float > 0       a point within ``k * std`` of its nearest centre is of high quality
    share : float in (0, 1]   a mode is covered if it gets ``share * n / K`` points or more
    """
    x = np.asarray(samples, dtype=float)
    if x.ndim < 2 or x.shape[-1] != 2 or x.shape[-2] < 1:
        raise ValueError(f"samples must have shape (..., n, 2), got {x.shape}")
    std = _positive_real("std", std)
    k = _positive_real("k", k)
    share = _real("share", share, low=0.0, high=1.0, low_open=True)
    K, n = len(modes), x.shape[-2]
    d = np.linalg.norm(x[..., None, :] - modes, axis=-1)           # (..., n, K)
    near = d.argmin(axis=-1)
    good = d.min(axis=-1) <= k * std
    counts = np.stack([np.sum(good & (near == j), axis=-1) for j in range(K)], axis=-1)
    hist = np.concatenate([counts, np.sum(~good, axis=-1)[..., None]], axis=-1) / n
    covered = np.sum(counts >= share * n / K, axis=-1)
    return Coverage(covered=covered, quality=good.mean(axis=-1), histogram=hist)


@dataclass(kw_only=True)
class GANRun(Run):
    """Result of :func:`train_gan`: ``S`` schedules, ``M`` seeds, ``E`` evaluations
    (``names``, ``seeds``, ``lr`` of shape ``(S, steps)`` and ``eval_steps`` as in
    :class:`lrnotes.nets.engine.Run`)."""

    covered: np.ndarray       #: (S, M, E)
    quality: np.ndarray       #: (S, M, E)
    histogram: np.ndarray     #: (S, M, E, K + 1)
    samples: np.ndarray       #: (S, M, n_eval, 2) generated points at the last evaluation

    _example = "'covered' or 'quality'"


def _stacked(models, x):
    """The forward pass of several BatchedMLPs at once (parameters concatenated along the
    model axis, as :func:`lrnotes.nets.models.stacked_losses` does): ``x`` is ``(S*M, B, in)``."""
    import torch

    from lrnotes.nets.models import _affine

    h = x
    last = len(models[0].weights) - 1
    for l in range(last + 1):
        h = _affine(torch.cat([m.biases[l] for m in models]), h, torch.cat([m.weights[l] for m in models]))
        if l < last:
            h = models[0]._act(h)
    return h


def train_gan(schedules: dict, seeds, steps: int, *, modes=None, std: float = 0.05, hidden: int = 64,
              batch: int = 128, eval_every: int = 100, n_eval: int = 1_000, betas=(0.5, 0.999),
              data_seed: int = 0) -> GANRun:
    r"""Train a GAN for every (schedule, seed) pair at once; evaluate mode coverage.

    Model ``(s, m)`` has generator and discriminator initialised from ``seeds[m]`` (the same
    for every schedule), sees the same real batches and the same noise (common random
    numbers), and is trained with Adam whose learning rate follows ``schedules[s]`` for
    both players (one ``torch.optim.Adam`` and one ``S.to_torch`` scheduler per player
    and schedule; the forward and backward passes of all schedules are batched).  Each
    update takes one discriminator step, then one generator step on the same noise (both
    through :func:`lrnotes.nets.engine.descend`).  Evaluations (every ``eval_every`` updates
    and at the end) generate
    ``n_eval`` points from fixed noise and call :func:`coverage` (``k = 3``,
    ``share = 0.25``).

    Parameters
    ----------
    schedules : dict name -> Schedule (or one Schedule, or a list: :func:`lrnotes.nets.engine.schedule_dict`)
    seeds : sequence of int >= 0
    steps : int >= 1
    modes : array (K, 2), default ``ring(8, 2.0)``;  std : float > 0
    hidden, batch, eval_every, n_eval : int >= 1
    betas : Adam's (beta1, beta2);  data_seed : int >= 0
    """
    import torch
    import torch.nn.functional as F

    from lrnotes import schedules as S
    from lrnotes.nets.models import BatchedMLP

    schedules = schedule_dict(schedules)
    seeds = check_seeds(seeds, distinct=False)
    steps = _int_at_least("steps", steps, 1)
    hidden = _int_at_least("hidden", hidden, 1)
    batch = _int_at_least("batch", batch, 1)
    eval_every = _int_at_least("eval_every", eval_every, 1)
    n_eval = _int_at_least("n_eval", n_eval, 1)
    modes = ring() if modes is None else np.asarray(modes, dtype=float)
    std = _positive_real("std", std)
    names = list(schedules)
    Sn, M = len(names), len(seeds)
    rng = np.random.default_rng(_int_at_least("data_seed", data_seed, 0))
    gen = torch.Generator().manual_seed(int(data_seed))
    Gs = [BatchedMLP([2, hidden, hidden, 2], [s * 2 for s in seeds]) for _ in names]
    Ds = [BatchedMLP([2, hidden, hidden, 1], [s * 2 + 1 for s in seeds]) for _ in names]
    g_opts, d_opts, g_scheds, d_scheds = [], [], [], []
    for name, G, D in zip(names, Gs, Ds):
        for net, opts, scheds in ((G, g_opts, g_scheds), (D, d_opts, d_scheds)):
            opt = torch.optim.Adam(net.parameters(), lr=float(schedules[name](0)), betas=tuple(betas))
            opts.append(opt)
            scheds.append(S.to_torch(opt, schedules[name]))
    players = Groups(g_opts, g_scheds), Groups(d_opts, d_scheds)
    z_eval = torch.randn(M, n_eval, 2, generator=gen)
    evals = sorted(set(range(eval_every, steps + 1, eval_every)) | {steps})
    E = len(evals)
    out = {"covered": np.zeros((Sn, M, E)), "quality": np.zeros((Sn, M, E)),
           "histogram": np.zeros((Sn, M, E, len(modes) + 1))}
    lr = np.zeros((Sn, steps))
    samples = np.zeros((Sn, M, n_eval, 2))

    def step(t):
        real = torch.as_tensor(sample_ring(M * batch, modes, std, rng).reshape(M, batch, 2),
                               dtype=torch.float32).repeat(Sn, 1, 1)
        z = torch.randn(M, batch, 2, generator=gen).repeat(Sn, 1, 1)
        fake = _stacked(Gs, z)                       # one pass for every schedule and seed
        loss_d = (F.softplus(-_stacked(Ds, real)) + F.softplus(_stacked(Ds, fake.detach()))).mean(dim=(1, 2)).sum()
        descend(loss_d, players[1])
        descend(F.softplus(-_stacked(Ds, fake)).mean(dim=(1, 2)).sum(), players[0], lr_out=lr[:, t])

    def evaluate(t):
        nonlocal samples
        j = evals.index(t)
        with torch.no_grad():
            pts = _stacked(Gs, z_eval.repeat(Sn, 1, 1)).numpy().astype(float).reshape(Sn, M, n_eval, 2)
        cov = coverage(pts, modes, std)
        out["covered"][:, :, j] = cov.covered
        out["quality"][:, :, j] = cov.quality
        out["histogram"][:, :, j] = cov.histogram
        if t == steps:
            samples = pts

    loop(0, steps, step, evals=set(evals), evaluate=evaluate)
    return GANRun(names=names, seeds=seeds, eval_steps=np.array(evals), samples=samples, lr=lr, **out)
