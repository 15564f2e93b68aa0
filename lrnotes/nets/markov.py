r"""A synthetic language with a known best possible loss: a random order-:math:`k` Markov chain.

A language model trained on real text cannot tell how far it is from the best possible
loss, because nobody knows the entropy of English.  On a :class:`MarkovSource` we do: the
next token depends only on the previous :math:`k`, through a fixed transition table
:math:`P(y \mid s)`, :math:`s = (x_{t-k}, \dots, x_{t-1})`, so no predictor can do better
than :math:`P` itself, and its expected loss is the *entropy rate*

.. math::
    H = -\sum_{s} \pi(s) \sum_{y} P(y \mid s) \log P(y \mid s) \quad\text{(nats/token)},

where :math:`\pi` is the stationary distribution of the chain on :math:`k`-tuples (the
state moves from :math:`s = (s_1, \dots, s_k)` to :math:`(s_2, \dots, s_k, y)`).  Every
sequence starts from :math:`\pi`, so the chain is stationary at every position, and for a
token with :math:`k` predecessors in its sequence the best possible expected
cross-entropy is exactly :math:`H`.  The excess of a model over this floor at a context
:math:`s` is :math:`\mathrm{KL}(P(\cdot\mid s)\,\|\,Q(\cdot\mid s))`, which
:meth:`MarkovSource.excess_loss` computes exactly from the model's log-probabilities (no
sampling noise from the next token).

The rows of the table are drawn once, from a seed, from a symmetric Dirichlet
distribution with concentration :math:`\alpha` (small :math:`\alpha`: peaked rows, a low
entropy rate).  :math:`\pi` is computed by power iteration on the :math:`V^k` states to
machine precision (every entry of :math:`P` is positive, so the chain is irreducible and
aperiodic and :math:`\pi` is unique).

The same source also gives a plain classification problem, for the MLPs of
:mod:`lrnotes.nets.train`: the input is the one-hot code of the :math:`k` previous tokens, the
label the next token (:meth:`MarkovSource.classification_data`).  Its best possible test
loss is again :math:`H`, and the exact excess of a model is
:math:`\sum_s \pi(s)\,\mathrm{KL}(P(\cdot\mid s)\,\|\,Q(\cdot\mid s))` over all
:math:`V^k` contexts (:meth:`MarkovSource.context_excess`).

Contents
--------
MarkovSource   the chain: table, stationary distribution, exact entropy rate,
               sampling (NumPy or torch, seeded), context indices, exact excess loss,
               a Monte Carlo estimate of the entropy rate; one-hot context features,
               a classification data set, and the exact excess of a classifier
"""

from __future__ import annotations

import math

import numpy as np

from lrnotes.schedules import _int_at_least, _real

__all__ = ["MarkovSource"]


class MarkovSource:
    r"""A random order-``order`` Markov chain over ``vocab`` tokens, stationary from the start.

    Parameters
    ----------
    vocab : int >= 2
        Number of tokens :math:`V`.
    order : int >= 1
        :math:`k`, the number of previous tokens the next one depends on (:math:`V^k \le 2^{20}`).
    concentration : float > 0
        :math:`\alpha` of the symmetric Dirichlet each row of the table is drawn from.
    seed : int >= 0
        Seeds the table (``numpy.random.default_rng(seed)``).

    Attributes
    ----------
    table : array (V**k, V)
        :math:`P(y \mid s)`; state :math:`s = (s_1..s_k)` has index
        :math:`\sum_j s_j V^{k-j}` (oldest token most significant).
    stationary : array (V**k,)
        :math:`\pi`, with :math:`\|\pi P_{\text{state}} - \pi\|_1 < 10^{-13}`.
    entropy_rate : float
        :math:`H` in nats per token (exact up to rounding).
    """

    def __init__(self, vocab: int = 16, order: int = 2, concentration: float = 0.2, seed: int = 0):
        self.vocab = _int_at_least("vocab", vocab, 2)
        self.order = _int_at_least("order", order, 1)
        if self.vocab ** self.order > 2**20:
            raise ValueError(f"vocab**order must be at most 2**20 states, got {self.vocab}**{self.order}")
        self.concentration = _real("concentration", concentration, low=0.0, low_open=True)
        self.seed = _int_at_least("seed", seed, 0)
        n_states = self.vocab ** self.order
        rng = np.random.default_rng(self.seed)
        table = rng.dirichlet(np.full(self.vocab, self.concentration), size=n_states)
        # keep every probability positive (a Dirichlet draw can underflow to 0 for tiny alpha)
        table = np.maximum(table, 1e-12)
        self.table = table / table.sum(axis=1, keepdims=True)
        self.stationary = self._stationary()
        logp = np.log(self.table)
        self.entropy_rate = float(-np.sum(self.stationary[:, None] * self.table * logp))

    # ------------------------------------------------------------------ exact quantities
    @property
    def n_states(self) -> int:
        """:math:`V^k`, the number of contexts."""
        return self.vocab ** self.order

    def step_states(self, pi: np.ndarray) -> np.ndarray:
        r"""One step of the chain on :math:`k`-tuples: :math:`\pi'(s_2..s_k, y) = \sum_{s_1} \pi(s) P(y\mid s)`."""
        V = self.vocab
        flow = pi[:, None] * self.table                     # (V^k, V): mass moving s -> (s_2.., y)
        return flow.reshape(V, -1).sum(axis=0)              # index (s_2..s_k) * V + y

    def _stationary(self, tol: float = 1e-15, max_iter: int = 100_000) -> np.ndarray:
        pi = np.full(self.n_states, 1.0 / self.n_states)
        for _ in range(max_iter):
            new = self.step_states(pi)
            new /= new.sum()
            if np.abs(new - pi).sum() < tol:
                return new
            pi = new
        raise RuntimeError("the stationary distribution did not converge; raise concentration")  # pragma: no cover

    def context_index(self, tokens) -> np.ndarray:
        r"""For ``tokens`` (..., L), the state index of the :math:`k` tokens before each
        position :math:`t \ge k`: array (..., L - k), entry ``j`` the context of token ``k + j``."""
        x = np.asarray(tokens)
        k, V = self.order, self.vocab
        if x.shape[-1] <= k:
            raise ValueError(f"tokens must have more than order={k} positions, got shape {x.shape}")
        L = x.shape[-1]
        idx = np.zeros(x.shape[:-1] + (L - k,), dtype=np.int64)
        for j in range(k):
            idx = idx * V + x[..., j:L - k + j]
        return idx

    def excess_loss(self, log_probs, tokens):
        r"""Mean :math:`\mathrm{KL}(P(\cdot\mid s_t)\,\|\,Q_t)` over positions :math:`t \ge k`.

        ``log_probs`` (..., L, V) are a model's log-probabilities :math:`\log Q_t(y)` for the
        token *at* position ``t`` given the tokens before it (torch tensor or NumPy array),
        ``tokens`` (..., L) the sequences.  Positions ``t < k`` (no full context) are ignored.
        Returns the mean over all leading axes but the first if ``log_probs`` has one more
        leading axis than ``tokens`` (one value per model), else a scalar.  Exact: it uses
        the table, not the next token, so it has no sampling noise from :math:`y`.
        """
        import torch

        lp = torch.as_tensor(log_probs)
        tok = np.asarray(tokens.cpu() if hasattr(tokens, "cpu") else tokens)
        if lp.shape[-1] != self.vocab or lp.shape[-2] != tok.shape[-1]:
            raise ValueError(f"log_probs must have shape (..., L={tok.shape[-1]}, V={self.vocab}), "
                             f"got {tuple(lp.shape)}")
        ctx = torch.as_tensor(self.context_index(tok), device=lp.device)
        p = torch.as_tensor(self.table, dtype=lp.dtype, device=lp.device)[ctx]    # (..., L-k, V)
        q = lp[..., self.order:, :]
        kl = (p * (torch.log(p) - q)).sum(-1)                                        # (M?, ..., L-k)
        extra = lp.dim() - 1 - tok.ndim
        if extra not in (0, 1):
            raise ValueError("log_probs must have the shape of tokens plus (V,), and maybe one "
                             "leading model axis")
        return kl.flatten(start_dim=extra).mean(-1)

    def context_features(self, states=None) -> np.ndarray:
        r"""One-hot codes of contexts: array (n, k * V), block ``j`` the one-hot code of
        :math:`s_{j+1}` (oldest first).  Default: all :math:`V^k` states in index order."""
        k, V = self.order, self.vocab
        states = np.arange(self.n_states) if states is None else np.asarray(states, dtype=np.int64)
        out = np.zeros((states.size, k * V))
        for j in range(k):
            out[np.arange(states.size), j * V + (states // V ** (k - 1 - j)) % V] = 1.0
        return out

    def context_excess(self, logits):
        r"""Exact expected excess loss of a classifier over the floor :math:`H`:
        :math:`\sum_s \pi(s)\,\mathrm{KL}(P(\cdot\mid s)\,\|\,Q(\cdot\mid s))`.

        ``logits`` (..., V^k, V): the classifier's logits for every context, in index order
        (for example a model applied to :meth:`context_features`); torch or NumPy.
        Returns NumPy, shape ``logits.shape[:-2]``.
        """
        import torch

        z = torch.as_tensor(logits).detach().double().cpu()
        if z.shape[-2:] != (self.n_states, self.vocab):
            raise ValueError(f"logits must have shape (..., {self.n_states}, {self.vocab}), got {tuple(z.shape)}")
        logq = torch.log_softmax(z, dim=-1).numpy()
        kl = np.sum(self.table * (np.log(self.table) - logq), axis=-1)      # (..., V^k)
        return kl @ self.stationary

    def classification_data(self, n_train: int, n_test: int, seed: int = 0, *, dtype=None, device="cpu"):
        r"""A :class:`lrnotes.nets.data.Dataset`: one-hot contexts (``k * V`` features) -> next token.

        Pairs :math:`(s, y)` are drawn independently: :math:`s \sim \pi`,
        :math:`y \sim P(\cdot\mid s)`, from ``numpy.random.default_rng(seed)``, the training
        set first.  No standardisation (``mean`` 0, ``std`` 1).  The best possible expected
        test loss is :attr:`entropy_rate`.
        """
        import torch

        from lrnotes.nets.data import Dataset

        n_train = _int_at_least("n_train", n_train, 1)
        n_test = _int_at_least("n_test", n_test, 1)
        rng = np.random.default_rng(_int_at_least("seed", seed, 0))
        n = n_train + n_test
        states = _inverse_cdf(np.cumsum(self.stationary)[None, :], rng.random(n))
        y = _inverse_cdf(np.cumsum(self.table, axis=1)[states], rng.random(n))
        x = torch.as_tensor(self.context_features(states), dtype=torch.float32 if dtype is None else dtype,
                            device=device)
        y = torch.as_tensor(y, dtype=torch.int64, device=device)
        return Dataset(x[:n_train], y[:n_train], x[n_train:], y[n_train:], np.zeros(1), np.ones(1),
                       self.vocab, f"markov(V={self.vocab}, k={self.order})")

    # ------------------------------------------------------------------ sampling
    def sample(self, n_seqs: int, length: int, rng: np.random.Generator) -> np.ndarray:
        """``n_seqs`` sequences of ``length`` tokens (int64, shape (n_seqs, length)), each
        started from the stationary distribution; NumPy, seeded by ``rng``."""
        n_seqs = _int_at_least("n_seqs", n_seqs, 1)
        length = _int_at_least("length", length, self.order)
        if not isinstance(rng, np.random.Generator):
            raise ValueError("rng must be a numpy.random.Generator (np.random.default_rng(seed))")
        k, V = self.order, self.vocab
        state = _inverse_cdf(np.cumsum(self.stationary)[None, :], rng.random(n_seqs))
        out = np.empty((n_seqs, length), dtype=np.int64)
        for j in range(k):                                   # decode the first k tokens
            out[:, j] = (state // V ** (k - 1 - j)) % V
        cum = np.cumsum(self.table, axis=1)
        u = rng.random((length - k, n_seqs))
        for t in range(k, length):
            y = _inverse_cdf(cum[state], u[t - k])
            out[:, t] = y
            state = (state % V ** (k - 1)) * V + y
        return out

    def sampler(self, device="cpu"):
        """A torch sampler: ``f(n_seqs, length, generator) -> LongTensor (n_seqs, length)``.

        Same chain as :meth:`sample`, drawn with a ``torch.Generator`` (on the CPU, then
        moved to ``device``), for training loops that keep their data in torch.
        """
        import torch

        k, V = self.order, self.vocab
        cum_pi = torch.as_tensor(np.cumsum(self.stationary))
        cum = torch.as_tensor(np.cumsum(self.table, axis=1))
        cum_pi[-1] = cum[:, -1] = 2.0   # rounding can leave the last cumulative sum below 1

        def draw(n_seqs: int, length: int, generator) -> "torch.Tensor":
            _int_at_least("n_seqs", n_seqs, 1)
            _int_at_least("length", length, k)
            u = torch.rand((length - k + 1, n_seqs), generator=generator, dtype=torch.float64)
            state = torch.searchsorted(cum_pi, u[0][:, None]).squeeze(1)
            out = torch.empty((n_seqs, length), dtype=torch.int64)
            for j in range(k):
                out[:, j] = (state // V ** (k - 1 - j)) % V
            for t in range(k, length):
                y = torch.searchsorted(cum[state], u[t - k + 1][:, None]).squeeze(1)
                out[:, t] = y
                state = (state % V ** (k - 1)) * V + y
            return out.to(device)

        return draw

    def estimate_entropy_rate(self, n_seqs: int, length: int, rng: np.random.Generator):
        r"""Monte Carlo estimate of :math:`H` from sampled sequences: the mean of
        :math:`-\log P(x_t \mid s_t)` over positions :math:`t \ge k`, and its standard error
        (sequences are independent; positions within one are not, so the error is taken
        over per-sequence means)."""
        x = self.sample(n_seqs, length, rng)
        nll = -np.log(self.table[self.context_index(x), x[:, self.order:]])
        per_seq = nll.mean(axis=1)
        sem = per_seq.std(ddof=1) / math.sqrt(n_seqs) if n_seqs > 1 else float("nan")
        return float(per_seq.mean()), float(sem)

    def __repr__(self) -> str:
        return (f"MarkovSource(vocab={self.vocab}, order={self.order}, concentration={self.concentration}, "
                f"seed={self.seed}: entropy rate {self.entropy_rate:.4f} nats/token, "
                f"log(vocab) = {math.log(self.vocab):.4f})")


def _inverse_cdf(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise inverse CDF: the first ``j`` with ``cum[i, j] > u[i]`` (``cum`` (n or 1, V))."""
    j = (cum <= u[:, None]).sum(axis=1)
    return np.minimum(j, cum.shape[1] - 1)
