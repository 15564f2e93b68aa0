r"""Federated averaging on the digits data, split across clients, with a client-LR schedule.

:func:`split_by_label` gives each client examples of only a few classes (non-IID), or a
random share (IID).  :func:`fedavg` runs FedAvg for several configurations and seeds at
once: in round :math:`r` every client starts from the global model :math:`\theta^{r}`,
takes ``local_steps`` SGD steps on its own data with the learning rate
:math:`\eta_r = \text{schedule}(r)`, and the server replaces the global model by the
average of the clients' models weighted by their data sizes :math:`n_k`,

.. math::
    \theta^{r+1} = \bar\theta^{r} = \sum_k \frac{n_k}{n}\,\theta_k^{r}.

**Client drift** is how far the clients' models have moved apart by the end of a round:

.. math::
    \text{drift}_r = \sum_k \frac{n_k}{n}\,\big\|\theta_k^{r} - \bar\theta^{r}\big\|,
    \qquad
    \text{relative drift}_r = \frac{\text{drift}_r}{\|\bar\theta^{r} - \theta^{r}\|},

the second one measured against the length of the server's step.

All models (configurations x seeds x clients) are one :class:`lrnotes.nets.models.BatchedMLP`
driven by one ``torch.optim.SGD``; a client's learning rate is applied by scaling its
gradient (exact for plain SGD).

Contents
--------
split_by_label   client index sets: non-IID (a few labels each) or IID
FedRun           result of fedavg
fedavg           FedAvg for several client-LR schedules x seeds, with drift and global losses
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from lrnotes.nets.engine import Groups, Run, check_seeds, descend, loop, scale_grads
from lrnotes.schedules import _int_at_least

__all__ = ["split_by_label", "FedRun", "fedavg"]


def split_by_label(y, n_clients: int, labels_per_client: int | None = 2, seed: int = 0) -> list:
    """Index sets of the clients' data.

    ``labels_per_client=L``: sort the examples by label, cut them into ``n_clients * L``
    equal shards and give each client ``L`` random shards (so most clients see ``L``
    classes).  ``None``: a random equal split (IID).
    """
    y = np.asarray(y)
    K = _int_at_least("n_clients", n_clients, 1)
    rng = np.random.default_rng(_int_at_least("seed", seed, 0))
    if labels_per_client is None:
        return [np.sort(p) for p in np.array_split(rng.permutation(y.size), K)]
    L = _int_at_least("labels_per_client", labels_per_client, 1)
    if K * L > y.size:
        raise ValueError(f"n_clients * labels_per_client must be at most the number of examples {y.size}")
    order = np.argsort(y, kind="stable")
    shards = np.array_split(order, K * L)
    pick = rng.permutation(K * L).reshape(K, L)
    return [np.sort(np.concatenate([shards[i] for i in row])) for row in pick]


@dataclass(kw_only=True)
class FedRun(Run):
    """Result of :func:`fedavg`: ``C`` configurations, ``M`` seeds, ``R`` rounds
    (``names``, ``seeds``, ``lr`` and ``eval_steps`` ``= 0..R`` as in
    :class:`lrnotes.nets.engine.Run`; ``loss_at(name, r)`` reads ``train_loss``)."""

    drift: np.ndarray         #: (C, M, R)
    relative_drift: np.ndarray  #: (C, M, R)
    train_loss: np.ndarray    #: (C, M, R + 1) global model on the full training set, before round r
    test_acc: np.ndarray      #: (C, M, R + 1)

    _example = "'drift' or 'train_loss'"


def fedavg(data, configs: dict, seeds: Sequence[int], rounds: int, local_steps: int, *,
           hidden=(32,), batch: int = 32) -> FedRun:
    r"""FedAvg for every configuration and seed at once.

    Parameters
    ----------
    data : lrnotes.nets.data.Dataset (e.g. ``lrnotes.nets.data.digits()``)
    configs : dict name -> (clients, schedule)
        ``clients`` a list of index arrays into the training set (:func:`split_by_label`);
        ``schedule`` an lrnotes Schedule of the round: :math:`\eta_r` = ``schedule(r)``.
        Every configuration must have the same number of clients.
    seeds : sequence of int >= 0
        Seed ``m`` initialises the global model (the same for every configuration) and the
        clients' batches.
    rounds, local_steps : int >= 1
    hidden : int or sequence of int;  batch : int >= 1
    """
    import torch

    from lrnotes import schedules as S
    from lrnotes.nets.models import BatchedMLP, derive_seed

    if not isinstance(configs, dict) or not configs:
        raise ValueError("configs must be a non-empty dict name -> (clients, schedule)")
    names = list(configs)
    K = None
    for name, (clients, sched) in configs.items():
        S._schedule_arg(f"configs[{name!r}] schedule", sched)
        if K is None:
            K = len(clients)
        if len(clients) != K or K < 1 or any(len(c) < 1 for c in clients):
            raise ValueError("every configuration needs the same number (>= 1) of non-empty clients")
    seeds = check_seeds(seeds, distinct=False)
    R = _int_at_least("rounds", rounds, 1)
    steps = _int_at_least("local_steps", local_steps, 1)
    batch = _int_at_least("batch", batch, 1)
    C, M = len(names), len(seeds)
    hidden = [hidden] if isinstance(hidden, int) else list(hidden)
    d = data
    sizes = [d.x_train.shape[1], *hidden, d.n_classes]
    dtype = d.x_train.dtype
    glob = BatchedMLP(sizes, [s for _ in names for s in seeds], dtype=dtype)          # (C*M)
    local = BatchedMLP(sizes, list(range(C * M * K)), dtype=dtype)                       # (C*M*K)
    clients = Groups([torch.optim.SGD(local.parameters(), lr=1.0)])   # the rate: scale_grads below
    pools = [np.asarray(c, dtype=np.int64) for n in names for c in configs[n][0]]    # (C*K) pools
    width = max(len(p) for p in pools)
    padded = torch.as_tensor(np.stack([np.pad(p, (0, width - len(p))) for p in pools]))
    counts = torch.tensor([len(p) for p in pools], dtype=torch.float64)
    w = torch.tensor([[len(c) for c in configs[n][0]] for n in names], dtype=dtype)     # (C, K)
    w = (w / w.sum(1, keepdim=True)).repeat_interleave(M, dim=0)                        # (C*M, K)
    gens = [torch.Generator().manual_seed(derive_seed(s, 7)) for s in seeds]
    lr = np.array([[float(configs[n][1](r)) for r in range(R)] for n in names])
    drift = np.zeros((C, M, R))
    rel = np.zeros((C, M, R))
    tl = np.zeros((C, M, R + 1))
    ta = np.zeros((C, M, R + 1))

    def evaluate(r):
        with torch.no_grad():
            tl[:, :, r] = glob.loss(d.x_train, d.y_train).reshape(C, M).double().numpy()
            ta[:, :, r] = glob.accuracy(d.x_test, d.y_test).reshape(C, M).numpy()

    def flat(model, n):
        return torch.cat([p.detach().reshape(n, -1) for p in model.parameters()], dim=1)

    scale = torch.as_tensor(np.repeat(lr, M * K, axis=0), dtype=dtype)                  # (C*M*K, R)
    def one_round(r):
        with torch.no_grad():     # broadcast: every client starts from its global model
            for pl, pg in zip(local.parameters(), glob.parameters()):
                pl.copy_(pg.repeat_interleave(K, dim=0))
        start = flat(glob, C * M)
        for _ in range(steps):
            # each seed's generator draws its clients' batches; every configuration gets
            # the same draws (common random numbers), mapped into its own clients' data
            u = torch.stack([torch.rand(K, batch, generator=g, dtype=torch.float64) for g in gens])
            pos = (u[:, None] * counts.reshape(C, K)[None, :, :, None]).long()        # (M, C, K, B)
            rows = torch.arange(C * K).reshape(1, C, K, 1)
            j = padded[rows, pos].permute(1, 0, 2, 3).reshape(C * M * K, batch)
            descend(local.loss(d.x_train[j], d.y_train[j]).sum(), clients,
                    hook=lambda _: scale_grads(local.parameters(), scale[:, r]))
        theta = flat(local, C * M * K).reshape(C * M, K, -1)
        avg = (w[:, :, None] * theta).sum(1)                                             # (C*M, P)
        dist = torch.linalg.vector_norm(theta - avg[:, None, :], dim=2)                 # (C*M, K)
        drift[:, :, r] = (w * dist).sum(1).reshape(C, M).double().numpy()
        step = torch.linalg.vector_norm(avg - start, dim=1).reshape(C, M).double().numpy()
        rel[:, :, r] = drift[:, :, r] / np.maximum(step, np.finfo(float).tiny)
        with torch.no_grad():     # the server averages
            off = 0
            for pg in glob.parameters():
                n = pg[0].numel()
                pg.copy_(avg[:, off:off + n].reshape(pg.shape))
                off += n

    loop(0, R, one_round, evals=set(range(R + 1)), evaluate=evaluate)
    return FedRun(names=names, seeds=seeds, lr=lr, eval_steps=np.arange(R + 1), drift=drift,
                  relative_drift=rel, train_loss=tl, test_acc=ta)
