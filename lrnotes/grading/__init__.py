"""The autograder behind the book's exercises.

A check cell of an exercise notebook reads::

    from lrnotes import grading as G
    report = G.check_linear_decay(linear_decay)
    report

The grader calls the student's function on fixed edge cases and on seeded random probes,
compares with its own reference implementation and returns a :class:`Report` that says
what passed, what failed, and a hint.  Nothing the student's code does can crash, hang or
flood the check cell: each task's checks run in a forked worker process with a time limit
per check (see :mod:`lrnotes.grading._isolation` for how, and for the fallback where
``os.fork`` is missing).  ``report.passed`` is ``True`` only when every check passed; the
solution notebooks ``assert`` it.  ``check_xyz(fn, seed=123)`` repeats the random probes
of a report that showed seed 123.

Contents
--------
_core, _isolation          the machinery: reports, checks, safe calls, isolation, limits
exN_M_<name>               the checks of Exercise N.M (one module each; probes as data)
EXERCISES                  ``{"1.1": module, ...}``: every exercise's module
TIME_LIMIT                 seconds per check (``$LRNOTES_GRADER_TIME_LIMIT``, default 10)
"""

from __future__ import annotations

import importlib

from ._core import (  # noqa: F401 - the public API of the machinery
    Case,
    CheckFailed,
    CheckResult,
    Checks,
    Report,
    as_array,
    as_int,
    as_pair,
    as_scalar,
    assert_close,
    call,
    call_each,
    compare,
    default_time_limit,
    diagnose,
    expect_value_error,
    rejects,
    reproducible,
    safe_str,
    short,
    snapshot,
    try_it,
)

#: Seconds one check may run before it is stopped (read when the checks run).
TIME_LIMIT = default_time_limit()

#: The exercise modules, in book order: ``NUMBER`` -> module name.
_MODULES = (
    "ex1_1_build_a_schedule",
    "ex1_2_cosine_and_restarts",
    "ex1_3_double_well",
    "ex1_4_critical_learning_rate",
    "ex1_5_momentum_threshold",
    "ex1_6_batch_size_noise",
    "ex1_7_adam_scheduled_beta1",
    "ex2_1_euler_lagrange",
    "ex2_2_best_power",
    "ex3_1_weighted_identity",
    "ex3_2_last_iterate_bound",
    "ex4_1_noisy_quadratic",
    "ex4_2_retarget_mid_run",
    "ex5_1_low_precision",
    "ex5_2_the_cliff",
    "ex6_1_piecewise_linear",
    "ex6_2_curvature_aware",
)

EXERCISES: dict = {}
__all__ = ["Case", "CheckFailed", "CheckResult", "Checks", "Report", "TIME_LIMIT", "EXERCISES",
           "try_it", "call", "call_each", "compare", "rejects", "as_array", "as_scalar", "as_int",
           "as_pair", "assert_close", "expect_value_error", "diagnose", "reproducible"]

for _name in _MODULES:
    _module = importlib.import_module(f"{__name__}.{_name}")
    EXERCISES[_module.NUMBER] = _module
    globals()[f"ex{_module.NUMBER.replace('.', '_')}"] = _module
    for _check in _module.CHECKS:
        if _check.__name__ in globals():
            raise ImportError(f"two exercises define {_check.__name__}")
        globals()[_check.__name__] = _check
        __all__.append(_check.__name__)

snapshot()  # the grader's reference maths uses the modules as they are now, before any student code
