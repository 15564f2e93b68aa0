"""Old underscored names of :mod:`lrnotes.schedules.checks` (kept for the modules that use them)."""

from .checks import COOLDOWNS, WARMUPS  # noqa: F401
from .checks import as_steps as _as_steps  # noqa: F401
from .checks import choice as _choice  # noqa: F401
from .checks import exact as _exact  # noqa: F401
from .checks import int_at_least as _int_at_least  # noqa: F401
from .checks import lr as _lr  # noqa: F401
from .checks import positive_real as _positive_real  # noqa: F401
from .checks import real as _real  # noqa: F401
from .checks import renamed as _renamed  # noqa: F401
from .checks import schedule_arg as _schedule_arg  # noqa: F401
