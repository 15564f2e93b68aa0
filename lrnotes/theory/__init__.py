"""Theory, exact or symbolic: the weighted identity and last-iterate bound (:mod:`.identity`), the continuum view (:mod:`.variational`), piecewise-linear schedules (:mod:`.piecewise`) and refinement from a logged run (:mod:`.refine`).

``from lrnotes import theory as th`` gives the names of :mod:`lrnotes.theory.identity`
(``th.identity_rhs``, ``th.last_iterate_bound``, ...); the other modules are imported by name.
"""

from .identity import *  # noqa: F401,F403
from .identity import __all__  # noqa: F401
