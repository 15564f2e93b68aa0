"""Small notebook helpers that also work outside the book (Colab, plain Jupyter)."""

from __future__ import annotations


def glue(name: str, value, display: bool = False):
    """Record ``value`` under ``name`` for the book's ``{glue:}`` roles.

    In the book build this is ``myst_nb.glue``.  Where myst-nb is not installed (a bare
    Colab runtime), it shows ``name = value`` instead, so the notebook still runs.
    """
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - exercised only without myst-nb
        print(f"{name} = {value!r}")
        return None
    return _glue(name, value, display=display)
