"""Theory, exact or symbolic: the weighted identity (:mod:`.identity`), the last-iterate bound built on it (:mod:`.bounds`), the schedule that minimises that bound (:mod:`.optimal`), the continuum view (:mod:`.variational`), piecewise-linear schedules (:mod:`.piecewise`) and refinement from a logged run (:mod:`.refine`).

``from lrnotes import theory as th`` gives the names of :mod:`.identity`, :mod:`.bounds`
and :mod:`.optimal` (``th.identity_rhs``, ``th.last_iterate_bound``,
``th.optimal_schedule``, ...); the other modules are imported by name.
"""

from . import bounds, identity, optimal
from .bounds import *  # noqa: F401,F403
from .identity import *  # noqa: F401,F403
from .optimal import *  # noqa: F401,F403

__all__ = identity.__all__ + bounds.__all__ + optimal.__all__
