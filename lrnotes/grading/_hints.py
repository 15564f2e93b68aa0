"""Hints that name a mistake only when the answer matches it.

:func:`lrnotes.grading._core.diagnose` returns the first candidate mistake whose values
an answer matches; on a probe where two mistakes give the same values, that names one of
them arbitrarily.  :func:`name_mistakes` names every one that matches.
"""

from __future__ import annotations

import numpy as np


def matches(got, values, rtol: float = 1e-9, atol: float = 1e-12) -> bool:
    """``got`` equals the candidate ``values`` (same shape, finite, to round-off)."""
    try:
        got, values = np.asarray(got, dtype=float), np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        return False
    return (values.shape == got.shape and bool(np.all(np.isfinite(values)))
            and bool(np.allclose(got, values, rtol=rtol, atol=atol)))


def name_mistakes(got, candidates: dict, default: str = "", **tol) -> str:
    """The hints of all ``{hint: values}`` candidates that ``got`` matches: one hint
    alone, several joined ("this matches more than one mistake: ... ; or ..."), or
    ``default`` when none matches."""
    hits = [hint for hint, values in candidates.items() if values is not None and matches(got, values, **tol)]
    if not hits:
        return default
    if len(hits) == 1:
        return hits[0]
    return "on this probe your answer matches more than one mistake: " + "; or ".join(hits)
