r"""A schedule from a configuration: a name and keyword arguments, as
``timm.scheduler.create_scheduler`` and HF's ``get_scheduler`` build one.

``from_config("cosine", total=1000, peak=3e-4, warmup=50)`` is
``cosine(total=1000, peak=3e-4, warmup=50)``: :math:`\eta_t` is the named schedule's
formula.  ``from_config({"name": "sgdr", "period": 10})`` takes one mapping (a parsed
YAML or JSON file).  ``noise={...}`` adds timm's LR noise (:func:`noisy`'s keyword
arguments), as ``create_scheduler`` takes ``noise_range_t``, ``noise_pct``, ``noise_std``
and ``noise_seed``.  An unknown name, or a keyword the schedule does not take, is a
``ValueError`` that lists what is allowed.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from ._core import Schedule
from .closed import constant, cosine, inverse_sqrt, linear, polynomial, step_decay, wsd
from .cycles import sgdr, triangular
from .noise import noisy

#: The schedules a configuration can name.
SCHEDULES = {f.__name__: f for f in (constant, step_decay, inverse_sqrt, linear, polynomial, cosine, wsd,
                                     sgdr, triangular)}


def from_config(name, **kwargs) -> Schedule:
    r"""The schedule called ``name`` with ``kwargs``: :math:`\eta_t` as that schedule gives it.

    ``name`` is a key of ``lrnotes.schedules.SCHEDULES`` (constant, step_decay,
    inverse_sqrt, linear, polynomial, cosine, wsd, sgdr, triangular).

    ``name`` may also be a mapping holding ``"name"`` and the keyword arguments.  The
    keyword ``noise``, a mapping of :func:`noisy`'s arguments (``range``, ``pct``, ``std``,
    ``kind``, ``seed``, ``rng``), wraps the schedule in :func:`noisy`.

    Example:

    >>> from lrnotes import schedules as S
    >>> S.from_config("linear", total=10, peak=1.0)(5)
    0.5
    >>> S.from_config({"name": "sgdr", "period": 10}).restart_steps(35)
    array([10, 20, 30])
    >>> jittered = S.from_config("constant", value=1.0, noise={"range": (5, 10), "pct": 0.1})
    >>> bool(jittered(4) == 1.0 and abs(jittered(7) - 1.0) < 0.1)
    True
    """
    if isinstance(name, Mapping):
        if kwargs:
            raise ValueError("give a mapping or keyword arguments, not both")
        kwargs = dict(name)
        if "name" not in kwargs:
            raise ValueError(f"the mapping must hold 'name', one of {sorted(SCHEDULES)}; got keys {sorted(kwargs)}")
        name = kwargs.pop("name")
    if name not in SCHEDULES:
        raise ValueError(f"name must be one of {sorted(SCHEDULES)}, got {name!r}")
    fn = SCHEDULES[name]
    noise = kwargs.pop("noise", None)
    allowed = list(inspect.signature(fn).parameters)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise ValueError(f"{name} takes the keyword arguments {allowed + ['noise']}; unknown: {unknown}")
    sched = fn(**kwargs)
    if noise is None:
        return sched
    noise_args = [p for p in inspect.signature(noisy).parameters if p != "inner"]
    if not isinstance(noise, Mapping) or "range" not in noise or set(noise) - set(noise_args):
        raise ValueError(f"noise must be a mapping with 'range' and any of {noise_args[1:]} "
                         f"(the arguments of S.noisy), got {noise!r}")
    return noisy(sched, **noise)
