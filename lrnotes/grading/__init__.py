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

# Every exercise's module and its check_* functions, by name (tests/test_grading.py checks
# that these are exactly each module's CHECKS).
from . import ex1_1_build_a_schedule as ex1_1
from .ex1_1_build_a_schedule import (
    check_linear_decay,
    check_wsd,
    check_largest_jump,
    check_fixed_wsd_schedule,
)
from . import ex1_2_cosine_and_restarts as ex1_2
from .ex1_2_cosine_and_restarts import check_cosine, check_sgdr, check_restart_steps
from . import ex1_3_double_well as ex1_3
from .ex1_3_double_well import check_critical_points, check_barrier_heights, check_two_well_limit
from . import ex1_4_critical_learning_rate as ex1_4
from .ex1_4_critical_learning_rate import (
    check_critical_lr,
    check_final_norms,
    check_empirical_threshold,
    check_log_growth,
)
from . import ex1_5_momentum_threshold as ex1_5
from .ex1_5_momentum_threshold import (
    check_heavy_ball_critical_lr,
    check_spectral_radius,
    check_heavy_ball_norms,
)
from . import ex1_6_batch_size_noise as ex1_6
from .ex1_6_batch_size_noise import (
    check_stationary_variance,
    check_equal_noise_lr,
    check_simulated_variance,
)
from . import ex1_7_adam_scheduled_beta1 as ex1_7
from .ex1_7_adam_scheduled_beta1 import (
    check_first_moment,
    check_bias_correction,
    check_corrected_moment,
)
from . import ex2_1_euler_lagrange as ex2_1
from .ex2_1_euler_lagrange import check_euler_lagrange, check_power_exponent, check_optimal_eta
from . import ex2_2_best_power as ex2_2
from .ex2_2_best_power import check_remaining_budget, check_functional_J, check_best_scale
from . import ex3_1_weighted_identity as ex3_1
from .ex3_1_weighted_identity import check_identity_terms, check_identity_terms_fast
from . import ex3_2_last_iterate_bound as ex3_2
from .ex3_2_last_iterate_bound import check_last_iterate_bound, check_tuned_bound
from . import ex4_1_noisy_quadratic as ex4_1
from .ex4_1_noisy_quadratic import check_exact_moments, check_simulate, check_mean_ci
from . import ex4_2_retarget_mid_run as ex4_2
from .ex4_2_retarget_mid_run import check_retarget, check_resumed_lrs
from . import ex5_1_low_precision as ex5_1
from .ex5_1_low_precision import (
    check_format_limits,
    check_first_zero_step,
    check_stalled_step,
    check_master_weight_run,
)
from . import ex5_2_the_cliff as ex5_2
from .ex5_2_the_cliff import check_clip_rows, check_clip_threshold
from . import ex6_1_piecewise_linear as ex6_1
from .ex6_1_piecewise_linear import check_piecewise_linear, check_best_three_piece
from . import ex6_2_curvature_aware as ex6_2
from .ex6_2_curvature_aware import check_power_iteration, check_curvature_aware_gd

for _module in (ex1_1, ex1_2, ex1_3, ex1_4, ex1_5, ex1_6, ex1_7, ex2_1, ex2_2, ex3_1, ex3_2, ex4_1, ex4_2, ex5_1, ex5_2, ex6_1, ex6_2):
    EXERCISES[_module.NUMBER] = _module
__all__ += ['check_linear_decay', 'check_wsd', 'check_largest_jump', 'check_fixed_wsd_schedule', 'check_cosine', 'check_sgdr', 'check_restart_steps', 'check_critical_points', 'check_barrier_heights', 'check_two_well_limit', 'check_critical_lr', 'check_final_norms', 'check_empirical_threshold', 'check_log_growth', 'check_heavy_ball_critical_lr', 'check_spectral_radius', 'check_heavy_ball_norms', 'check_stationary_variance', 'check_equal_noise_lr', 'check_simulated_variance', 'check_first_moment', 'check_bias_correction', 'check_corrected_moment', 'check_euler_lagrange', 'check_power_exponent', 'check_optimal_eta', 'check_remaining_budget', 'check_functional_J', 'check_best_scale', 'check_identity_terms', 'check_identity_terms_fast', 'check_last_iterate_bound', 'check_tuned_bound', 'check_exact_moments', 'check_simulate', 'check_mean_ci', 'check_retarget', 'check_resumed_lrs', 'check_format_limits', 'check_first_zero_step', 'check_stalled_step', 'check_master_weight_run', 'check_clip_rows', 'check_clip_threshold', 'check_piecewise_linear', 'check_best_three_piece', 'check_power_iteration', 'check_curvature_aware_gd']

snapshot()  # the grader's reference maths uses the modules as they are now, before any student code
