"""pytest plugin: each notebook's run time under nbval, with the book's speed budget.

Load it with ``-p tests.nbtiming`` next to ``--nbval-lax``.  It prints one line per
notebook (kernel start-up included) and fails the session if a notebook takes more
than ``LRNOTES_NB_LIMIT`` seconds (60) or all of them more than ``LRNOTES_BOOK_LIMIT``
seconds (480): the book's budget in quick mode on two CPU cores.
"""

from __future__ import annotations

import os
from collections import defaultdict

_durations: dict[str, float] = defaultdict(float)
_over: list[str] = []


def _limits():
    return float(os.environ.get("LRNOTES_NB_LIMIT", 60)), float(os.environ.get("LRNOTES_BOOK_LIMIT", 480))


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _durations[path] += report.duration


def pytest_sessionfinish(session, exitstatus):
    per_nb, total_limit = _limits()
    _over[:] = [nb for nb, sec in _durations.items() if sec > per_nb]
    if _durations and sum(_durations.values()) > total_limit:
        _over.append(f"all notebooks together ({sum(_durations.values()):.0f} s > {total_limit:.0f} s)")
    if _over and session.exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    per_nb, _ = _limits()
    tr = terminalreporter
    tr.section("notebook run times (quick mode)")
    for nb, sec in sorted(_durations.items(), key=lambda kv: -kv[1]):
        flag = "  <-- over the limit" if sec > per_nb else ""
        tr.write_line(f"{sec:7.1f} s  {nb}{flag}")
    tr.write_line(f"{sum(_durations.values()):7.1f} s  total, {len(_durations)} notebooks")
    for what in _over:
        tr.write_line(f"SPEED BUDGET EXCEEDED: {what}", red=True)
