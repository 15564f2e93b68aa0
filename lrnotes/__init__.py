"""lrnotes: the companion package of *Learning-Rate Schedules, Executable*.

The folders say which method a module serves.

Subpackages
-----------
schedules   the schedules library (numpy only): closed forms, cycles, combinators, the torch adapter
sim         toy landscapes, simulated: landscapes, sgd (many seeds at once), moments (exact, on a
            quadratic), stability, sharpness, curvature, thermostat
nets        small networks, trained: data, models, train (the batched trainer), lm, markov, games,
            federated, distributed, anytime, scaling, precision, failures
theory      exact and symbolic: identity (the weighted identity), bounds (the last-iterate bound),
            optimal (the schedule minimising it), variational (Euler–Lagrange, sympy), piecewise, refine
grading     the exercises' autograder (machinery + one module per exercise)

Modules of the book's pages
---------------------------
config      the quick/full scale switch and seeding
nb          glue, tables and progress that also work outside the book (Jupyter, Colab)
plotting    the book's house style and schedule previews
stats       confidence intervals and the best of a sweep away from its grid's edge
peers       the stored learning-rate curves of HF, timm, optax, keras and torch
errata      the notes on the sources, as data (rendered by the errata appendix)
snippets    code quoted verbatim from the sources; exercises: the student-notebook generator

The book's build tooling (Sphinx extensions, the notebook executor, the reader's-notebook
generator, CSS and JS) is not part of the package: it lives in ``_ext/`` in the book's
repository.  The old flat module names (``lrnotes.sgd``, ``lrnotes.train``, ...) still import,
with a ``DeprecationWarning``, for one release.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

from .config import SCALE_ENV, pick, scale, seed_everything

# The flat names of release 0.1, moved into the subpackages: old name -> new name.
MOVED = {
    **{f"lrnotes.{m}": f"lrnotes.sim.{m}"
       for m in ("landscapes", "sgd", "stability", "sharpness", "curvature", "thermostat")},
    **{f"lrnotes.{m}": f"lrnotes.nets.{m}"
       for m in ("data", "models", "train", "lm", "markov", "games", "federated", "distributed",
                 "anytime", "scaling", "precision", "failures")},
    **{f"lrnotes.{m}": f"lrnotes.theory.{m}" for m in ("variational", "piecewise", "refine")},
    "lrnotes.experiments": None,  # the old folder of one module; a stand-in package
    "lrnotes.experiments.quadratic": "lrnotes.sim.moments",
}


def _stand_in_attr(package):
    def __getattr__(name):
        if f"{package}.{name}" in MOVED:
            return importlib.import_module(f"{package}.{name}")
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return __getattr__


class _Moved(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """``import lrnotes.sgd`` gives ``lrnotes.sim.sgd``, with a DeprecationWarning."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        new = MOVED[module.__name__]
        if new is None:  # a folder that no longer exists: a stand-in whose modules resolve above
            module.__path__ = []
            module.__getattr__ = _stand_in_attr(module.__name__)
            return
        warnings.warn(f"{module.__name__} has moved to {new}; the old name goes in the next release",
                      DeprecationWarning, stacklevel=2)
        sys.modules[module.__name__] = importlib.import_module(new)


if not any(isinstance(f, _Moved) for f in sys.meta_path):
    sys.meta_path.append(_Moved())

__all__ = ["SCALE_ENV", "MOVED", "pick", "scale", "seed_everything"]
__version__ = "0.1.0"
