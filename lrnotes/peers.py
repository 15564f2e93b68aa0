"""The peers' learning-rate curves, stored with the package.

``lrnotes/_data/peer_curves.json`` holds the learning rates that the schedulers of HF
transformers, timm, optax, keras and torch give at updates ``t = 0, ..., steps-1``, each
with the exact call that made it, its dtype and the library versions.  The file is
written by ``tests/peers/generate.py`` (which needs those libraries; the tests and the
book do not) and read here.

Contents: :func:`names`, :func:`curve`, :func:`info`, :func:`versions`, :func:`discrepancy`.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

PATH = Path(__file__).with_name("_data") / "peer_curves.json"


@functools.cache
def _data() -> dict:
    return json.loads(PATH.read_text())


def names(library: str | None = None) -> list[str]:
    """The stored curves (of one ``library`` if given: transformers, timm, optax, keras, torch)."""
    curves = _data()["curves"]
    return [n for n, c in curves.items() if library is None or c["library"] == library]


def info(name: str) -> dict:
    """Library, call, dtype and number of steps of a stored curve."""
    curves = _data()["curves"]
    if name not in curves:
        raise ValueError(f"name must be one of the stored curves {sorted(curves)}, got {name!r}")
    return {k: v for k, v in curves[name].items() if k != "values"}


def curve(name: str) -> np.ndarray:
    """The stored learning rates, in the dtype the library computed them in."""
    meta = info(name)
    return np.array(_data()["curves"][name]["values"], dtype=meta["dtype"])


def versions() -> dict:
    """Versions of the libraries that made the curves, and the keras backend."""
    d = _data()
    return dict(d["versions"], python=d["python"], keras_backend=d["keras_backend"])


def discrepancy(name: str, schedule, upto: int | None = None) -> float:
    """Largest ``|lrnotes - peer|`` over the stored steps (the first ``upto`` of them), in
    epsilons of the peer's dtype times the curve's peak.

    ``schedule`` is evaluated in float64 and rounded to the peer's dtype first, so a
    float32 peer is compared at float32 precision: 1 means one float32 epsilon
    (:math:`2^{-23}`) of the peak for optax and keras, one float64 epsilon
    (:math:`2^{-52}`) for HF, timm and torch.
    """
    theirs = curve(name)
    if upto is not None:
        theirs = theirs[:upto]
    ours = np.asarray(schedule(np.arange(len(theirs))), dtype=theirs.dtype)
    unit = float(np.finfo(theirs.dtype).eps) * float(theirs.max())
    return float(np.max(np.abs(ours.astype(float) - theirs.astype(float))) / unit)
