r"""The book's own optimizers, real ``torch.optim.Optimizer`` subclasses: Adam with a scheduled :math:`\beta_1` and SGD with float32 master weights.

Both share one ``step`` (:class:`_Optimizer`: torch's closure protocol, then one update per
parameter group), so a scheduler from :func:`lrnotes.schedules.to_torch` drives them as it
drives ``torch.optim.SGD``.  :mod:`lrnotes.nets.train` and :mod:`lrnotes.nets.precision`
re-export them under their old names.
"""

from __future__ import annotations

import math

import torch

from lrnotes.schedules import _real

__all__ = ["ScheduledAdam", "MasterWeightSGD"]


class _Optimizer(torch.optim.Optimizer):
    """``step(closure)`` as torch's optimizers do it, then ``_update(group)`` for every group."""

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._update(group)
        return loss

    def _update(self, group) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


# --------------------------------------------------------------------------- Adam with scheduled beta1
class ScheduledAdam(_Optimizer):
    r"""Adam that reads :math:`\beta_1` from its parameter group at every step.

    With :math:`k` the step count and :math:`\beta_{1,k}` the group's current value,

    .. math::
        m_k &= \beta_{1,k} m_{k-1} + (1-\beta_{1,k}) g_k, \\
        v_k &= \beta_2 v_{k-1} + (1-\beta_2) g_k^2, \\
        \theta_k &= \theta_{k-1} - \frac{\eta}{c_k}\,\frac{m_k}{\sqrt{v_k/(1-\beta_2^k)} + \epsilon}.

    ``correction="standard"`` is :math:`c_k = 1 - \beta_{1,k}^{\,k}`, what
    ``torch.optim.Adam`` computes (identical to it); ``"exact"`` is
    :math:`c_k = w_k = \beta_{1,k} w_{k-1} + (1 - \beta_{1,k})` with :math:`w_0 = 0`,
    i.e. :math:`1 - \prod_{j\le k}\beta_{1,j}`, the total weight of :math:`m_k` on the
    gradients, so :math:`m_k/c_k` is a weighted *average* of them whatever the β1
    schedule.  A first moment found zeroed (``lrnotes.schedules.reset_momentum`` at a
    restart) restarts :math:`w` at 0: the weights then sum from the reset.  ``weight_decay``
    is L2 (added to the gradient), as in ``torch.optim.Adam``.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, correction: str = "exact"):
        if correction not in ("standard", "exact"):
            raise ValueError(f"correction must be 'standard' or 'exact', got {correction!r}")
        _real("lr", lr, low=0.0)
        _real("betas[0]", betas[0], low=0.0, high=1.0, high_open=True)
        _real("betas[1]", betas[1], low=0.0, high=1.0, high_open=True)
        _real("eps", eps, low=0.0)
        _real("weight_decay", weight_decay, low=0.0)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      correction=correction))

    def _update(self, group) -> None:
        b1, b2 = group["betas"]
        lr, eps, wd, exact = group["lr"], group["eps"], group["weight_decay"], group["correction"] == "exact"
        for p in group["params"]:
            if p.grad is None:
                continue
            g = p.grad if wd == 0 else p.grad.add(p, alpha=wd)
            state = self.state[p]
            if not state:
                state["step"] = 0
                state["weight"] = 0.0
                state["exp_avg"] = torch.zeros_like(p)
                state["exp_avg_sq"] = torch.zeros_like(p)
            m, v = state["exp_avg"], state["exp_avg_sq"]
            if exact and state["weight"] != 0.0 and not bool(m.any()):
                state["weight"] = 0.0  # the first moment was reset
            state["step"] += 1
            k = state["step"]
            state["weight"] = b1 * state["weight"] + (1.0 - b1)
            m.lerp_(g, 1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            c1 = state["weight"] if exact else 1.0 - b1**k
            denom = (v.sqrt() / math.sqrt(1.0 - b2**k)).add_(eps)
            p.addcdiv_(m, denom, value=-lr / c1)


class MasterWeightSGD(_Optimizer):
    r"""SGD with momentum on float32 *master* copies of (low-precision) parameters.

    Each parameter :math:`w` (any dtype) gets a float32 copy :math:`W` and a float32
    momentum buffer :math:`b`; with the gradient :math:`g` read in float32 and torch's
    conventions (``torch.optim.SGD``, ``dampening=0``),

    .. math:: b \leftarrow \beta b + (g + \lambda W), \qquad W \leftarrow W - \eta\,b, \qquad
              w \leftarrow \operatorname{round}_{\text{dtype}(w)}(W),

    (the first step sets :math:`b = g + \lambda W`).  An update too small to change
    :math:`w` still changes :math:`W`, and accumulates there until :math:`w` moves: the
    standard mixed-precision recipe.  For float32 parameters it is ``torch.optim.SGD``.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, weight_decay: float = 0.0):
        _real("lr", lr, low=0.0)
        _real("momentum", momentum, low=0.0, high=1.0, high_open=True)
        _real("weight_decay", weight_decay, low=0.0)
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay))

    def _update(self, group) -> None:
        lr, beta, wd = group["lr"], group["momentum"], group["weight_decay"]
        for p in group["params"]:
            if p.grad is None:
                continue
            state = self.state[p]
            if "master" not in state:
                state["master"] = p.detach().float().clone()
            W = state["master"]
            g = p.grad.float()
            if wd:
                g = g.add(W, alpha=wd)
            if beta:
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = g.clone()
                else:
                    buf.mul_(beta).add_(g)
                g = buf
            W.add_(g, alpha=-lr)
            p.copy_(W)
