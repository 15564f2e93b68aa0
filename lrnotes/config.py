"""The scale switch and seeding shared by every notebook.

Every notebook runs in *quick* mode by default (CI, Colab, a laptop: <= 60 s on two
CPU cores).  Setting the environment variable ``LRNOTES_SCALE=full`` runs the bigger
version of each experiment, meant for a GPU.
"""

from __future__ import annotations

import os
import random

import numpy as np

SCALE_ENV = "LRNOTES_SCALE"
_SCALES = ("quick", "full")


def scale() -> str:
    """Return ``"quick"`` (the default) or ``"full"`` from ``$LRNOTES_SCALE``."""
    value = os.environ.get(SCALE_ENV, "quick").strip().lower() or "quick"
    if value not in _SCALES:
        raise ValueError(f"{SCALE_ENV} must be one of {_SCALES}, got {value!r}")
    return value


def pick(quick, full):
    """Return ``quick`` or ``full`` according to :func:`scale`."""
    return full if scale() == "full" else quick


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and (if installed) torch; return a NumPy ``Generator``."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
    except ImportError:  # pragma: no cover - torch is a dependency, but be kind
        pass
    return np.random.default_rng(seed)
